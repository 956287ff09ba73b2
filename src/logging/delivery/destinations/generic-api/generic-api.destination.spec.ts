import { FakeGenericApi } from '../../../../../test/support/fakes/fake-generic-api';
import { samplePayload } from '../../../../../test/support/fakes/sample-payload';
import type { DeliveryItem } from '../../../log-destination';
import { GenericApiDestination, type GenericApiSettings, parseHeaderList } from './generic-api.destination';

const TOKEN = 'Bearer sk-generic-CANARY-77ab';

function item(eventId: string, overrides: Parameters<typeof samplePayload>[0] = {}): DeliveryItem {
  return { eventId, payload: samplePayload({ litellm_call_id: eventId.split(':')[0], ...overrides }) };
}

describe('the generic API fake, driven by fetch (there is no vendor client)', () => {
  let fake: FakeGenericApi;
  beforeAll(async () => {
    fake = await FakeGenericApi.start({ requiredHeaders: { authorization: TOKEN } });
  });
  afterAll(() => fake.close());

  it('accepts a JSON array or NDJSON of payloads with the right header; refuses the rest', async () => {
    const post = (body: string, headers: Record<string, string>) => fetch(fake.endpoint, { method: 'POST', body, headers });
    expect((await post('[{"marker":"fetch-array"}]', { authorization: TOKEN, 'content-type': 'application/json' })).status).toBe(200);
    expect((await post('{"marker":"fetch-nd"}\n', { authorization: TOKEN, 'content-type': 'application/x-ndjson' })).status).toBe(200);
    expect((await post('[{"marker":"no-auth"}]', { 'content-type': 'application/json' })).status).toBe(401);
    expect((await post('{"not":"an array"}', { authorization: TOKEN, 'content-type': 'application/json' })).status).toBe(400);
    expect((await fetch(`${fake.url}/elsewhere`, { method: 'POST', body: '[]', headers: { authorization: TOKEN, 'content-type': 'application/json' } })).status).toBe(404);
    const options = await fetch(fake.endpoint, { method: 'OPTIONS', headers: { authorization: TOKEN } });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'POST, OPTIONS']);
    expect(fake.events().map((e) => e.payload)).toEqual([{ marker: 'fetch-array' }, { marker: 'fetch-nd' }]);
  });
});

describe('GenericApiDestination', () => {
  let fake: FakeGenericApi;
  let destination: GenericApiDestination;
  let settings: GenericApiSettings;

  const parse = (vars: Record<string, string>): GenericApiSettings => {
    const parsed = destination.parseSettings(vars);
    if (!('settings' in parsed)) throw new Error(JSON.stringify(parsed.errors));
    return parsed.settings;
  };

  beforeEach(async () => {
    fake = await FakeGenericApi.start({ requiredHeaders: { authorization: TOKEN, 'x-source': 'gw' } });
    destination = new GenericApiDestination({ requestTimeoutMs: 2_000 });
    settings = parse({ generic_logger_endpoint: fake.endpoint, generic_logger_headers: `Authorization=${TOKEN},X-Source=gw` });
  });

  afterEach(async () => {
    await destination.close();
    await fake.close();
  });

  it("parses LiteLLM's header list (Name=value,…) or a JSON object; names the field of every mistake", () => {
    expect(parseHeaderList('Authorization=Bearer a=b, X-Team = t1')).toEqual({ headers: { authorization: 'Bearer a=b', 'x-team': 't1' } });
    expect(parseHeaderList('{"Authorization":"Bearer x,y"}')).toEqual({ headers: { authorization: 'Bearer x,y' } });
    expect(parseHeaderList('')).toEqual({ headers: {} });
    expect(parseHeaderList('novalue')).toHaveProperty('error');
    expect(parseHeaderList('Host=evil')).toEqual({ error: 'generic_logger_headers: host is set by the gateway' });
    expect(parseHeaderList('{"a b":"x"}')).toHaveProperty('error');
    expect(parseHeaderList('{"x":"a\\r\\nb"}')).toHaveProperty('error');
    expect(destination.parseSettings({ generic_logger_headers: 'a=b' })).toMatchObject({ errors: [{ field: 'generic_logger_endpoint' }] });
    expect(destination.parseSettings({ generic_logger_endpoint: 'not a url' })).toMatchObject({ errors: [{ field: 'generic_logger_endpoint' }] });
    expect(destination.parseSettings({ generic_logger_endpoint: 'https://x', generic_logger_log_format: 'single' })).toMatchObject({
      errors: [{ field: 'generic_logger_log_format' }],
    });
    expect(destination.parseSettings({ generic_logger_endpoint: 'https://x', generic_logger_headers: 'oops' })).toMatchObject({
      errors: [{ field: 'generic_logger_headers', message: expect.not.stringContaining('oops') as unknown }],
    });
  });

  it("posts a batch as LiteLLM's JSON array of StandardLoggingPayload, with the configured headers", async () => {
    expect(await destination.send([item('c1:e'), item('c2:e')], settings)).toEqual({ ok: true });
    const [request] = fake.requests;
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.json).toEqual([samplePayload({ litellm_call_id: 'c1' }), samplePayload({ litellm_call_id: 'c2' })]);
  });

  it('ndjson: one payload per line', async () => {
    const nd = parse({ generic_logger_endpoint: fake.endpoint, generic_logger_headers: `{"Authorization":"${TOKEN}","x-source":"gw"}`, generic_logger_log_format: 'ndjson' });
    expect(await destination.send([item('c1:e'), item('c2:e')], nd)).toEqual({ ok: true });
    expect(fake.requests[0].headers['content-type']).toBe('application/x-ndjson');
    expect(fake.events().map((e) => e.payload.litellm_call_id)).toEqual(['c1', 'c2']);
  });

  it('classifies failures: 401 is final, 429/5xx and a refused connection are retryable; no header value in any error', async () => {
    const wrong = await destination.send([item('c:e')], parse({ generic_logger_endpoint: fake.endpoint, generic_logger_headers: 'Authorization=Bearer nope-CANARY' }));
    expect(wrong).toMatchObject({ ok: false, retryable: false });
    expect(JSON.stringify(wrong)).not.toContain('nope-CANARY');
    fake.server.setFailure({ status: 429, retryAfter: '1', times: 1 });
    expect(await destination.send([item('c:e')], settings)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 1000 });
    fake.server.setFailure({ status: 502, times: 1 });
    expect(await destination.send([item('c:e')], settings)).toMatchObject({ ok: false, retryable: true });
    await fake.server.refuseConnections();
    expect(await destination.send([item('c:e')], settings)).toMatchObject({ ok: false, retryable: true });
  });

  it('health: an OPTIONS request with the headers — healthy when answered, unhealthy on refused headers or a wrong path; nothing is posted', async () => {
    expect(await destination.checkHealth(settings)).toEqual({
      healthy: true,
      details: `${fake.endpoint} is reachable (OPTIONS answered HTTP 204; nothing was posted, so acceptance of a batch is not proven)`,
    });
    const refused = await destination.checkHealth(parse({ generic_logger_endpoint: fake.endpoint, generic_logger_headers: 'Authorization=Bearer nope-CANARY' }));
    expect(refused).toEqual({ healthy: false, details: `${fake.endpoint} refused the configured headers (OPTIONS answered HTTP 401)` });
    const missing = await destination.checkHealth(parse({ generic_logger_endpoint: `${fake.url}/nowhere`, generic_logger_headers: `Authorization=${TOKEN}` }));
    expect(missing).toEqual({ healthy: false, details: `${fake.url}/nowhere answered OPTIONS with HTTP 404` });
    expect(fake.requests.every((r) => r.method === 'OPTIONS')).toBe(true);
  });

  it('a guarded instance refuses loopback at connect time', async () => {
    const guarded = new GenericApiDestination({ egress: { allowedHosts: [] } });
    try {
      expect(await guarded.send([item('c:e')], settings)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('blocked') as unknown });
      expect(fake.requests).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });
});
