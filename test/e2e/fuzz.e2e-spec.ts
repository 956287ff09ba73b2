import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricValue, scrape } from '../support/delivery/delivery-support';
import { runFuzz, tableFingerprint, type FuzzSummary } from '../support/fuzz/fuzz-runner';
import type { FuzzContext, FuzzRoute } from '../support/fuzz/malformed-requests';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { modelListYaml } from '../support/logging/fixtures';
import { secret } from '../support/logging/harness';
import { rawRequest } from '../support/raw-http';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 23's proof: generated malformed requests (fast-check, fixed seed) on every route, with the master key,
 * a plain virtual key and none. In process, each refused request is checked to have changed no row of any
 * table; with the real process, that it is still running. Neither may answer 500 or above. The routes come from
 * the running app, so a route added later is fuzzed without touching this file.
 *
 * FUZZ_REQUESTS (per phase, default 1500), FUZZ_SEED (default 23) and FUZZ_REPORT (a JSON file for the counts)
 * are read from the environment; `npm run bench -- --fuzz 10000` runs this file with them.
 */
const RUNS = Number(process.env.FUZZ_REQUESTS ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 23);
const TIMEOUT_MS = Math.max(60_000, RUNS * 60);

/** Served outside Nest's router (Swagger UI and its documents), and public. */
const DOCS_ROUTES: FuzzRoute[] = [
  { method: 'get', path: '/docs' },
  { method: 'get', path: '/docs/' },
  { method: 'get', path: '/docs/swagger-ui.css' },
  { method: 'get', path: '/docs/swagger-ui-init.js' },
  { method: 'get', path: '/docs/index.html' },
  { method: 'get', path: '/openapi.json' },
  { method: 'get', path: '/openapi.yaml' },
];

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

function routerRoutes(app: TestApp['app']): FuzzRoute[] {
  const router = app.getHttpAdapter().getInstance().router as { stack: ExpressLayer[] };
  const routes: FuzzRoute[] = [];
  for (const layer of router.stack) {
    if (!layer.route) continue;
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    // Express 5's named wildcard (`*deployment`, which may span slashes) is a path parameter like `:deployment`.
    for (const path of paths) for (const method of Object.keys(layer.route.methods)) routes.push({ method, path: path.replace(/\*(\w+)/g, ':$1') });
  }
  return routes;
}

async function openApiRoutes(baseUrl: string): Promise<FuzzRoute[]> {
  const document = (await rawRequest(baseUrl, { method: 'GET', path: '/openapi.json' })).json as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({ method, path: path.replace(/\{(\w+)\}/g, ':$1') })),
  );
}

const key = (route: FuzzRoute) => `${route.method.toUpperCase()} ${route.path}`;
const summaries: Record<string, FuzzSummary> = {};

function report(phase: string, summary: FuzzSummary): void {
  summaries[phase] = summary;
  process.stderr.write(`[fuzz] ${phase}: ${summary.requests} requests in ${summary.seconds.toFixed(1)} s, by status ${JSON.stringify(summary.byStatus)}\n`);
}

afterAll(() => {
  if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, `${JSON.stringify({ seed: SEED, runsPerPhase: RUNS, phases: summaries }, null, 2)}\n`);
});

describe('fuzz: malformed requests on every route', () => {
  describe('in process: no 5xx, every 4xx in the OpenAI envelope and changing no row', () => {
    let gw: TestApp;
    let context: FuzzContext;

    beforeAll(async () => {
      gw = await createTestApp({ configYaml: modelListYaml() });
      const admin = [['Authorization', `Bearer ${gw.masterKey}`], ['Content-Type', 'application/json']] as [string, string][];
      expect((await rawRequest(gw.baseUrl, { method: 'POST', path: '/team/new', headers: admin, body: '{"team_id":"fuzz-team"}' })).status).toBe(200);
      const plain = await rawRequest(gw.baseUrl, { method: 'POST', path: '/key/generate', headers: admin, body: '{"key_alias":"fuzz-plain"}' });
      context = {
        routes: [...routerRoutes(gw.app), ...DOCS_ROUTES],
        masterKey: gw.masterKey,
        plainKey: (plain.json as { key: string }).key,
        knownIds: ['fuzz-team', 'no-such-team'],
      };
    });
    afterAll(async () => {
      await gw?.close();
    });

    it('every route of the router is in the OpenAPI document, so the real-process run below covers it too', async () => {
      const documented = new Set([...(await openApiRoutes(gw.baseUrl)), ...DOCS_ROUTES].map(key));
      const routes = routerRoutes(gw.app);
      expect(routes.length).toBeGreaterThan(15);
      // Swagger UI's own files are the docs, not API routes.
      const apiRoutes = routes.filter((route) => !/^\/docs(\/|$)/.test(route.path));
      expect(apiRoutes.map(key).filter((route) => !documented.has(route))).toEqual([]);
    });

    it(
      `${RUNS} generated requests`,
      async () => {
        const tables = gw.dataSource.entityMetadatas.map((meta) => meta.tableName);
        const restarts = async () => metricValue(await scrape(gw.baseUrl, gw.masterKey), 'gatehouse_log_delivery_thread_restarts_total');
        const restartsBefore = await restarts();
        const summary = await runFuzz({
          baseUrl: gw.baseUrl,
          context,
          numRuns: RUNS,
          seed: SEED,
          fingerprint: () => tableFingerprint((sql) => gw.dataSource.query(sql), tables),
        });
        report('in-process', summary);
        expect(summary.requests).toBe(RUNS);
        expect(Object.keys(summary.byRoute).length).toBeGreaterThan(15);
        expect(await restarts()).toBe(restartsBefore);
      },
      TIMEOUT_MS,
    );
  });

  describe('the real process: no 5xx, still running', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-fuzz-'));
    const masterKey = `sk-${secret('fuzz-master-key-0123456789abcdef')}`;
    let gateway: GatewayProcess;
    let context: FuzzContext;

    beforeAll(async () => {
      const config = join(workDir, 'config.yaml');
      writeFileSync(config, modelListYaml());
      gateway = await spawnGateway({ env: { DATA_DIR: join(workDir, 'data'), MASTER_KEY: masterKey, CONFIG_FILE: config, LOG_LEVEL: 'info', DATABASE_URL: undefined } });
      await gateway.waitForReady(90_000);
      const admin = [['Authorization', `Bearer ${masterKey}`], ['Content-Type', 'application/json']] as [string, string][];
      expect((await rawRequest(gateway.baseUrl, { method: 'POST', path: '/team/new', headers: admin, body: '{"team_id":"fuzz-team"}' })).status).toBe(200);
      const plain = await rawRequest(gateway.baseUrl, { method: 'POST', path: '/key/generate', headers: admin, body: '{"key_alias":"fuzz-plain"}' });
      context = {
        routes: [...(await openApiRoutes(gateway.baseUrl)), ...DOCS_ROUTES],
        masterKey,
        plainKey: (plain.json as { key: string }).key,
        knownIds: ['fuzz-team', 'no-such-team'],
      };
    }, 120_000);
    afterAll(async () => {
      if (gateway?.child.exitCode === null) {
        gateway.kill('SIGTERM');
        await gateway.waitForExit(60_000).catch(() => gateway.kill('SIGKILL'));
      }
      rmSync(workDir, { recursive: true, force: true });
    });

    it(
      `${RUNS} generated requests`,
      async () => {
        const summary = await runFuzz({ baseUrl: gateway.baseUrl, context, numRuns: RUNS, seed: SEED + 1, alive: () => gateway.child.exitCode === null });
        report('process', summary);
        expect(summary.requests).toBe(RUNS);
        expect(gateway.child.exitCode).toBeNull();
        // The process still serves and still stops cleanly.
        expect((await rawRequest(gateway.baseUrl, { method: 'GET', path: '/health/readiness' })).status).toBe(200);
        gateway.kill('SIGTERM');
        expect(await gateway.waitForExit(60_000)).toBe(0);
      },
      TIMEOUT_MS,
    );
  });
});
