import { errorOf } from '../support/api-responses';
import { createTestApp, type TestApp } from '../support/test-app';

interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

/** Routes that are public on purpose: the probes and the API docs. Everything else needs a key. */
const PUBLIC_ROUTES = [/^\/health\//, /^\/docs/, /^\/openapi\.(json|yaml)$/];


const ANTHROPIC_ROUTES = new Set(['/v1/messages', '/messages', '/v1/messages/count_tokens', '/messages/count_tokens']);
describe('HTTP surface: auth on every route, errors, ids, health, docs', () => {
  let gw: TestApp;

  beforeAll(async () => {
    gw = await createTestApp();
  });
  afterAll(async () => {
    await gw.close();
  });

  function registeredRoutes(): { method: string; path: string }[] {
    const router = gw.app.getHttpAdapter().getInstance().router as { stack: ExpressLayer[] };
    const routes: { method: string; path: string }[] = [];
    for (const layer of router.stack) {
      if (!layer.route) continue;
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const path of paths) {
        for (const method of Object.keys(layer.route.methods)) routes.push({ method, path });
      }
    }
    return routes;
  }

  it('refuses every non-public route without a key (401 in the OpenAI error shape; Anthropic\'s on /v1/messages)', async () => {
    const routes = registeredRoutes();
    expect(routes.length).toBeGreaterThan(10);
    const guarded = routes.filter((route) => !PUBLIC_ROUTES.some((pattern) => pattern.test(route.path)));
    expect(guarded.map((route) => route.path)).toEqual(
      expect.arrayContaining(['/key/generate', '/team/new', '/key/regenerate', '/key/:key/regenerate', '/key/block', '/team/member_add', '/user/new', '/user/info']),
    );
    for (const route of guarded) {
      const path = route.path.replace(/:(\w+)/g, 'sample-$1');
      const res = await gw.http()[route.method as 'get' | 'post' | 'delete'](path).send({});
      expect([route.method, route.path, res.status]).toEqual([route.method, route.path, 401]);
      if (ANTHROPIC_ROUTES.has(route.path)) {
        // Anthropic's clients read Anthropic's envelope on its Messages route.
        expect(res.body).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
        continue;
      }
      expect(errorOf(res)).toMatchObject({ type: 'authentication_error', code: 'missing_api_key' });
    }
  });

  it('keeps the public routes public', async () => {
    await gw.http().get('/health/liveliness').expect(200);
    await gw.http().get('/health/liveness').expect(200);
    await gw.http().get('/health/readiness').expect(200, { status: 'healthy', db: 'connected' });
    await gw.http().get('/docs/').expect(200);
  });

  it.each([
    ['Basic scheme', 'Basic dXNlcjpwYXNz'],
    ['empty bearer', 'Bearer '],
    ['bearer with spaces inside', 'Bearer sk-a sk-b'],
    ['12 KB token', `Bearer sk-${'a'.repeat(12 * 1024)}`],
    ['SQL injection', "Bearer sk-' OR '1'='1"],
    ['percent-encoded NUL', 'Bearer sk-%00'],
    ['unknown key', 'Bearer sk-unknown-but-well-formed-key-0000000000000000'],
  ])('malformed or unknown credentials (%s) → 401, never 500', async (_name, authorization) => {
    const res = await gw.http().get('/key/info').set('Authorization', authorization);
    expect(res.status).toBe(401);
    expect(errorOf(res).type).toBe('authentication_error');
    expect(JSON.stringify(res.body)).not.toContain('OR');
  });

  it('non-ASCII keys → 401', async () => {
    const res = await gw.http().get('/key/info').set('x-api-key', 'sk-caf\u00e9');
    expect(res.status).toBe(401);
  });

  it('headers beyond Node’s 16 KB limit are refused by the HTTP server itself (431, in the OpenAI error shape), not by a 500', async () => {
    const res = await gw.http().get('/key/info').set('Authorization', `Bearer sk-${'a'.repeat(20 * 1024)}`);
    expect(res.status).toBe(431);
    expect(errorOf(res)).toMatchObject({ type: 'invalid_request_error', code: 'headers_too_large' });
  });

  it('on the Messages API the same refusal comes in Anthropic’s envelope, as its clients read errors there', async () => {
    const res = await gw.http().post('/v1/messages?beta=true').set('x-api-key', `sk-${'a'.repeat(20 * 1024)}`).send({});
    expect(res.status).toBe(431);
    expect(res.body).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('larger than the server accepts') as string } });
  });

  it('unknown routes → 404 in the OpenAI error shape', async () => {
    const res = await gw.http().get('/no/such/route').expect(404);
    expect(res.body).toEqual({ error: { message: 'Not found', type: 'not_found_error', param: null, code: 'not_found' } });
  });

  it('bodies over the limit (10 MB) → 413 in the OpenAI error shape', async () => {
    const huge = JSON.stringify({ team_alias: 'x'.repeat(10 * 1024 * 1024) });
    const res = await gw.http().post('/team/new').set('Authorization', `Bearer ${gw.masterKey}`).set('Content-Type', 'application/json').send(huge);
    expect(res.status).toBe(413);
    expect(errorOf(res)).toMatchObject({ code: 'payload_too_large', type: 'invalid_request_error' });
  });

  it('returns a request id on every response, echoing a safe incoming one', async () => {
    const generated = await gw.http().get('/health/liveliness');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await gw.http().get('/health/liveliness').set('x-request-id', 'trace-123.abc');
    expect(echoed.headers['x-request-id']).toBe('trace-123.abc');
    const unsafe = await gw.http().get('/health/liveliness').set('x-request-id', 'x'.repeat(300));
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the OpenAPI document with the bearer scheme on every guarded route', async () => {
    const res = await gw.http().get('/openapi.json').expect(200);
    const doc = res.body as { paths: Record<string, Record<string, { security?: unknown[] }>>; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const path of [
      '/key/generate', '/key/update', '/key/info', '/key/list', '/key/delete', '/key/block', '/key/unblock', '/key/regenerate', '/key/{key}/regenerate',
      '/team/new', '/team/update', '/team/info', '/team/list', '/team/delete', '/team/block', '/team/unblock',
      '/team/member_add', '/team/member_update', '/team/member_delete',
      '/user/new', '/user/info', '/user/update', '/user/list', '/user/delete',
    ]) {
      const operations = Object.values(doc.paths[path] ?? {});
      expect([path, operations.length > 0]).toEqual([path, true]);
      for (const operation of operations) expect(operation.security).toEqual([{ bearer: [] }]);
    }
    const generate = doc.paths['/key/generate'].post as unknown as { requestBody: unknown };
    expect(JSON.stringify(generate.requestBody)).toContain('GenerateKeyDto');
    // Optional headers stay optional: a required one would block "Try it out" in Swagger UI.
    const requiredHeaders = Object.values(doc.paths).flatMap((operations) =>
      Object.values(operations).flatMap((operation) =>
        ((operation as { parameters?: { in: string; required?: boolean; name: string }[] }).parameters ?? []).filter((p) => p.in === 'header' && p.required),
      ),
    );
    expect(requiredHeaders).toEqual([]);
  });
});
