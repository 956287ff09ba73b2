import { Clock } from '../../src/common/clock';
import { LoggingService } from '../../src/logging/request/logging.service';
import { HEALTH_RESULT_TTL_MS, type HealthEndpoint, type HealthReport } from '../../src/health/model-health.service';
import { errorOf, type GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { freePort } from '../support/gateway-process';
import { RecordingLogging } from '../support/recording-logging';
import { createTestApp, type TestApp } from '../support/test-app';

/** Time the test moves on, so cached health results can be made stale without waiting. */
class MovableClock extends Clock {
  offsetMs = 0;
  override now(): number {
    return Date.now() + this.offsetMs;
  }
}

const GOOD_KEY = 'sk-health-good-upstream-key-0123456789';
const ECHOED_KEY = 'sk-health-echoed-upstream-key-abcdefghij';
const HIDDEN_HEADER = 'private-header-value-42';
/** LiteLLM's allow-list, plus the group name. */
const ALLOWED_FIELDS = new Set(['model', 'model_name', 'model_id', 'custom_llm_provider', 'mode', 'api_base', 'tpm', 'rpm', 'error', 'exception_status']);

/**
 * Issue 26 item 5, LiteLLM's `GET /health`: a small real call per deployment through the provider code, healthy and
 * unhealthy lists without credentials (even when the upstream echoes its key), `?model=`, cached and shared results,
 * proxy admin only, nothing logged.
 */
describe('GET /health (model health check)', () => {
  const clock = new MovableClock();
  const recorder = new RecordingLogging();
  let good: FakeUpstream;
  let echoing: FakeUpstream;
  let broken: FakeUpstream;
  let hanging: FakeUpstream;
  let closedPort: number;
  let gw: TestApp;

  beforeAll(async () => {
    good = await FakeUpstream.start();
    // The upstream quotes the credential it got, as OpenAI's 401 does ("Incorrect API key provided: sk-...").
    echoing = await FakeUpstream.start({
      behaviour: (request) => ({
        type: 'status',
        status: 401,
        body: JSON.stringify({ error: { message: `Incorrect API key provided: ${String(request.headers.authorization)}; header ${String(request.headers['x-upstream-token'])}` } }),
      }),
    });
    broken = await FakeUpstream.start({ behaviour: { type: 'status', status: 500, body: `{"error":{"message":"boom, key was ${GOOD_KEY}"}}` } });
    hanging = await FakeUpstream.start({ behaviour: { type: 'hang' } });
    closedPort = await freePort();
    gw = await createTestApp({
      override: (builder) => builder.overrideProvider(Clock).useValue(clock).overrideProvider(LoggingService).useValue(recorder),
      configYaml: `
model_list:
  - model_name: chat-good
    litellm_params: { model: openai/good-model, api_base: "${good.url}", api_key: ${GOOD_KEY}, rpm: 600 }
    model_info: { id: chat-good-1 }
  - model_name: chat-good
    litellm_params: { model: openai/echo-model, api_base: "${echoing.url}", api_key: ${ECHOED_KEY}, extra_headers: { x-upstream-token: ${HIDDEN_HEADER} } }
    model_info: { id: chat-echo-1 }
  - model_name: embed
    litellm_params: { model: openai/embed-model, api_base: "${good.url}", api_key: ${GOOD_KEY} }
    model_info: { id: embed-1, mode: embedding }
  - model_name: broken
    litellm_params: { model: openai/broken-model, api_base: "${broken.url}", api_key: ${GOOD_KEY} }
    model_info: { id: broken-1 }
  - model_name: refused
    litellm_params: { model: openai/nothing, api_base: "http://127.0.0.1:${closedPort}/v1" }
    model_info: { id: refused-1 }
  - model_name: slow
    litellm_params: { model: openai/slow, api_base: "${hanging.url}" }
    model_info: { id: slow-1, health_check_timeout: 0.3 }
  - model_name: offline
    litellm_params: { model: mock/offline }
    model_info: { id: offline-1 }
`,
    });
  });

  afterAll(async () => {
    await gw.close();
    await Promise.all([good.close(), echoing.close(), broken.close(), hanging.close()]);
  });

  async function check(query = ''): Promise<HealthReport & { text: string }> {
    const res = await gw.http().get(`/health${query}`).set('Authorization', `Bearer ${gw.masterKey}`);
    expect([res.status, res.text.slice(0, 300)]).toEqual([200, expect.any(String)]);
    return { ...(res.body as HealthReport), text: res.text };
  }

  /** Every cached result is stale from now on. */
  function expireResults(): void {
    clock.offsetMs += HEALTH_RESULT_TTL_MS + 1;
  }

  const ids = (entries: HealthEndpoint[]): string[] => entries.map((entry) => entry.model_id).sort();
  const upstreamCalls = (): number => good.count + echoing.count + broken.count + hanging.count;

  it('lists healthy and unhealthy deployments after one small call to each, with LiteLLM’s fields and no credential', async () => {
    const report = await check();
    expect(ids(report.healthy_endpoints)).toEqual(['chat-good-1', 'embed-1', 'offline-1']);
    expect(ids(report.unhealthy_endpoints)).toEqual(['broken-1', 'chat-echo-1', 'refused-1', 'slow-1']);
    expect([report.healthy_count, report.unhealthy_count]).toEqual([3, 4]);

    expect(report.healthy_endpoints.find((entry) => entry.model_id === 'chat-good-1')).toEqual({
      model: 'openai/good-model',
      model_name: 'chat-good',
      model_id: 'chat-good-1',
      custom_llm_provider: 'openai',
      mode: 'chat',
      api_base: good.url,
      rpm: 600,
    });
    for (const entry of [...report.healthy_endpoints, ...report.unhealthy_endpoints]) {
      expect(Object.keys(entry).filter((field) => !ALLOWED_FIELDS.has(field))).toEqual([]);
    }
    const byId = new Map(report.unhealthy_endpoints.map((entry) => [entry.model_id, entry]));
    expect(byId.get('chat-echo-1')).toMatchObject({ error: expect.stringContaining('HTTP 401') as string, exception_status: 502 });
    expect(byId.get('broken-1')).toMatchObject({ error: expect.stringContaining('HTTP 500') as string, exception_status: 500 });
    expect(byId.get('refused-1')?.error).toMatch(/connect|reach|refused/i);
    expect(byId.get('slow-1')?.error).toMatch(/0\.3s/);

    // The echoed credentials (key and custom header) and the other deployments' keys never reach the answer.
    for (const secret of [GOOD_KEY, ECHOED_KEY, HIDDEN_HEADER, 'Bearer sk-']) expect(report.text).not.toContain(secret);
    expect(byId.get('chat-echo-1')?.error).toContain('[REDACTED]');

    // The probes: LiteLLM's small chat call and an embeddings call for the embedding deployment, with the real key.
    const chat = good.requests.find((request) => request.body?.model === 'good-model');
    expect(chat).toMatchObject({ path: '/v1/chat/completions', body: { max_tokens: 16, messages: [{ role: 'user', content: expect.any(String) as string }] } });
    expect(chat?.headers.authorization).toBe(`Bearer ${GOOD_KEY}`);
    expect(good.requests.find((request) => request.body?.model === 'embed-model')).toMatchObject({ path: '/v1/embeddings', body: { input: ['test from litellm'] } });
    expect(echoing.last.headers['x-upstream-token']).toBe(HIDDEN_HEADER);
    expect(upstreamCalls()).toBe(5);
  });

  it('is not a user call: nothing goes to the logging destinations', () => {
    expect(recorder.records).toEqual([]);
  });

  it('reuses a fresh result instead of calling the upstreams again', async () => {
    const before = upstreamCalls();
    const again = await check();
    expect([again.healthy_count, again.unhealthy_count]).toEqual([3, 4]);
    expect(upstreamCalls()).toBe(before);
  });

  it('lets callers arriving together share one check per deployment, once the results are stale', async () => {
    expireResults();
    const before = upstreamCalls();
    const reports = await Promise.all(Array.from({ length: 6 }, () => check()));
    for (const report of reports) expect([report.healthy_count, report.unhealthy_count]).toEqual([3, 4]);
    expect(upstreamCalls() - before).toBe(5);
  });

  it('?model= checks one model group only', async () => {
    expireResults();
    const before = { good: good.count, others: echoing.count + broken.count + hanging.count };
    const report = await check('?model=chat-good');
    expect(ids(report.healthy_endpoints)).toEqual(['chat-good-1']);
    expect(ids(report.unhealthy_endpoints)).toEqual(['chat-echo-1']);
    expect(good.count - before.good).toBe(1);
    expect(echoing.count + broken.count + hanging.count - before.others).toBe(1);

    const one = await check('?model_id=embed-1');
    expect(ids(one.healthy_endpoints)).toEqual(['embed-1']);
    expect(one.unhealthy_count).toBe(0);
  });

  it('an unknown model or id → 404, nothing called', async () => {
    const before = upstreamCalls();
    for (const query of ['?model=no-such-model', '?model_id=no-such-id']) {
      const res = await gw.http().get(`/health${query}`).set('Authorization', `Bearer ${gw.masterKey}`);
      expect(res.status).toBe(404);
      expect(errorOf(res).type).toBe('not_found_error');
    }
    expect(upstreamCalls()).toBe(before);
  });

  it('is for the proxy admin only: a plain key gets 403, no key 401; the probes stay public', async () => {
    const generated = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({}).expect(200);
    const key = (generated.body as GeneratedKeyJson).key;
    const refused = await gw.http().get('/health').set('Authorization', `Bearer ${key}`);
    expect(refused.status).toBe(403);
    expect(errorOf(refused).type).toBe('permission_error');
    expect((await gw.http().get('/health')).status).toBe(401);
    await gw.http().get('/health/liveliness').expect(200);
    await gw.http().get('/health/readiness').expect(200, { status: 'healthy', db: 'connected' });
  });

  it('is documented in the OpenAPI document with its answer schema', async () => {
    const doc = (await gw.http().get('/openapi.json').expect(200)).body as {
      paths: Record<string, { get?: { security?: unknown[]; responses: Record<string, unknown> } }>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    expect(doc.paths['/health']?.get?.security).toBeDefined();
    expect(doc.paths['/health']?.get?.responses['200']).toBeDefined();
    expect(Object.keys(doc.components.schemas.HealthReportDto.properties)).toEqual(['healthy_endpoints', 'unhealthy_endpoints', 'healthy_count', 'unhealthy_count']);
  });
});
