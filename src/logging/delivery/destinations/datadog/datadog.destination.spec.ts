import { client, v1, v2 } from '@datadog/datadog-api-client';
import { FakeDatadog } from '../../../../../test/support/fakes/fake-datadog';
import { failurePayload, samplePayload } from '../../../../../test/support/fakes/sample-payload';
import type { DeliveryItem } from '../../../log-destination';
import { type DatadogIdentity, DatadogDestination, type DatadogSettings, datadogIdentity, splitForIntake, toDatadogLog } from './datadog.destination';

const API_KEY = 'dd-api-key-CANARY-4f1e2d';
const identity: DatadogIdentity = datadogIdentity({ DD_ENV: 'test', DD_VERSION: '1.2.3', HOSTNAME: 'gw-1', POD_NAME: 'gw-pod' });

function item(eventId: string, overrides: Parameters<typeof samplePayload>[0] = {}): DeliveryItem {
  return { eventId, payload: samplePayload({ litellm_call_id: eventId.split(':')[0], ...overrides }) };
}

describe('the Datadog fake, driven by @datadog/datadog-api-client', () => {
  let fake: FakeDatadog;
  const configuration = (apiKey: string) =>
    client.createConfiguration({ authMethods: { apiKeyAuth: apiKey }, baseServer: new client.BaseServerConfiguration(fake.url, {}), httpConfig: { compress: false } });

  beforeAll(async () => {
    fake = await FakeDatadog.start({ apiKeys: [API_KEY] });
  });
  afterAll(() => fake.close());

  it('LogsApi.submitLog: gzip and plain bodies are accepted (202) and decoded; a wrong key is refused', async () => {
    const logs = new v2.LogsApi(configuration(API_KEY));
    const body = [{ ddsource: 'litellm', ddtags: 'env:test', hostname: 'h', message: '{"marker":"sdk-gzip"}', service: 'litellm-server', status: 'info' }];
    await logs.submitLog({ body, contentEncoding: 'gzip' });
    await logs.submitLog({ body: [{ ...body[0], message: '{"marker":"sdk-plain"}' }] });
    const [received] = fake.logsMentioning('sdk-gzip');
    expect([received.item.ddsource, received.item.service, received.message]).toEqual(['litellm', 'litellm-server', { marker: 'sdk-gzip' }]);
    expect(fake.logsMentioning('sdk-gzip')[0].request.headers['content-encoding']).toBe('gzip');
    expect(fake.logsMentioning('sdk-plain')).toHaveLength(1);
    await expect(new v2.LogsApi(configuration('wrong')).submitLog({ body })).rejects.toMatchObject({ code: 403 });
  });

  it('AuthenticationApi.validate: {valid: true} for a known key, 403 otherwise', async () => {
    await expect(new v1.AuthenticationApi(configuration(API_KEY)).validate()).resolves.toEqual(expect.objectContaining({ valid: true }));
    await expect(new v1.AuthenticationApi(configuration('wrong')).validate()).rejects.toMatchObject({ code: 403 });
  });
});

describe('DatadogDestination', () => {
  let fake: FakeDatadog;
  let destination: DatadogDestination;
  let settings: DatadogSettings;

  const parse = (vars: Record<string, string>): DatadogSettings => {
    const parsed = destination.parseSettings(vars);
    if (!('settings' in parsed)) throw new Error(JSON.stringify(parsed.errors));
    return parsed.settings;
  };

  beforeEach(async () => {
    fake = await FakeDatadog.start({ apiKeys: [API_KEY] });
    destination = new DatadogDestination({ requestTimeoutMs: 2_000, identity });
    settings = parse({ dd_api_key: API_KEY, dd_base_url: fake.url });
  });

  afterEach(async () => {
    await destination.close();
    await fake.close();
  });

  it("parses LiteLLM's vars: the site names the intake and API hosts; dd_base_url overrides both", () => {
    expect(destination.parseSettings({ dd_api_key: 'k', dd_site: 'us5.datadoghq.com' })).toEqual({
      settings: { intakeUrl: 'https://http-intake.logs.us5.datadoghq.com/api/v2/logs', apiUrl: 'https://api.us5.datadoghq.com', apiKey: 'k' },
    });
    expect(destination.parseSettings({ dd_api_key: 'k' })).toMatchObject({ settings: { intakeUrl: 'https://http-intake.logs.datadoghq.com/api/v2/logs' } });
    expect(destination.parseSettings({ dd_api_key: 'k', dd_base_url: 'http://127.0.0.1:9/' })).toMatchObject({
      settings: { intakeUrl: 'http://127.0.0.1:9/api/v2/logs', apiUrl: 'http://127.0.0.1:9' },
    });
    expect(destination.parseSettings({ dd_site: 'datadoghq.eu' })).toMatchObject({ errors: [{ field: 'dd_api_key' }] });
    expect(destination.parseSettings({ dd_api_key: 'k', dd_site: 'evil.com/x?' })).toMatchObject({ errors: [{ field: 'dd_site' }] });
    expect(destination.parseSettings({ dd_api_key: 'k', dd_base_url: 'ftp://x' })).toMatchObject({ errors: [{ field: 'dd_base_url' }] });
    expect(destination.parseSettings({ dd_api_key: 'k', dd_agent_port: '1' })).toMatchObject({ errors: [{ field: 'dd_agent_port' }] });
  });

  it("maps a payload to LiteLLM's log item: the payload JSON as message, its tags, error status for a failure", () => {
    const payload = samplePayload({ request_tags: ['prod', 'chat'] });
    const log = toDatadogLog(payload, identity);
    expect(log).toEqual({
      ddsource: 'litellm',
      ddtags: 'env:test,service:litellm-server,version:1.2.3,HOSTNAME:gw-1,POD_NAME:gw-pod,request_tag:prod,request_tag:chat,team:Team A',
      hostname: 'gw-1',
      message: JSON.stringify(payload),
      service: 'litellm-server',
      status: 'info',
    });
    expect(toDatadogLog(failurePayload(), identity).status).toBe('error');
    expect(datadogIdentity({ DD_SOURCE: 'litellm_dev', DD_SERVICE: 'gw' })).toMatchObject({ source: 'litellm_dev', service: 'gw', hostname: '' });
  });

  it('sends a batch gzip-compressed with DD-API-KEY; the intake decodes every item', async () => {
    const result = await destination.send([item('c1:e'), item('c2:e', { status: 'failure' })], settings);
    expect(result).toEqual({ ok: true });
    const [request] = fake.intakeRequests();
    expect(request.headers['dd-api-key']).toBe(API_KEY);
    expect(request.headers['content-encoding']).toBe('gzip');
    const logs = fake.logs();
    expect(logs.map((l) => (l.message as { litellm_call_id: string }).litellm_call_id)).toEqual(['c1', 'c2']);
    expect(logs.map((l) => l.item.status)).toEqual(['info', 'error']);
  });

  it("splits a batch at the intake's limits (items and bytes), and only what did not land is reported failed", async () => {
    const items = Array.from({ length: 7 }, (_, i) => item(`c${i}:e`));
    const bytesOfOne = Buffer.byteLength(JSON.stringify(toDatadogLog(items[0].payload, identity)));
    const small = new DatadogDestination({ requestTimeoutMs: 2_000, identity, maxBatchItems: 3, maxBatchBytes: bytesOfOne * 2 + 50 });
    try {
      expect(await small.send(items, settings)).toEqual({ ok: true });
      expect(fake.intakeRequests().map((r) => fake.logs().filter((l) => l.request === r).length)).toEqual([2, 2, 2, 1]);
      // The second request fails: the first two events landed, the other five are reported.
      let posts = 0;
      fake.server.setFailure({ status: 503, retryAfter: '3', match: (req) => req.method === 'POST' && ++posts === 2 });
      const result = await small.send(items, settings);
      expect(result).toMatchObject({ ok: false, retryable: true, retryAfterMs: 3000, failedEventIds: ['c2:e', 'c3:e', 'c4:e', 'c5:e', 'c6:e'] });
    } finally {
      await small.close();
    }
  });

  it('an event larger than a whole request is not sent and fails without retry; the rest is delivered', async () => {
    const big = item('big:e', { messages: [{ role: 'user', content: 'x'.repeat(20_000) }] });
    const small = new DatadogDestination({ requestTimeoutMs: 2_000, identity, maxBatchBytes: 10_000 });
    try {
      const result = await small.send([item('a:e'), big], settings);
      expect(result).toMatchObject({ ok: false, retryable: false, failedEventIds: ['big:e'] });
      expect(fake.logs()).toHaveLength(1);
      expect(splitForIntake(['"a"', 'x'.repeat(100)], 50, 10)).toEqual({ chunks: [[0]], oversized: [1] });
    } finally {
      await small.close();
    }
  });

  it('classifies failures: 403 is final, 429/5xx and a refused connection are retryable', async () => {
    expect(await destination.send([item('c:e')], parse({ dd_api_key: 'wrong', dd_base_url: fake.url }))).toMatchObject({ ok: false, retryable: false });
    fake.server.setFailure({ status: 429, retryAfter: '2', times: 1 });
    expect(await destination.send([item('c:e')], settings)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 2000 });
    fake.server.setFailure({ status: 500, times: 1 });
    expect(await destination.send([item('c:e')], settings)).toMatchObject({ ok: false, retryable: true });
    await fake.server.refuseConnections();
    const refused = await destination.send([item('c:e')], settings);
    expect(refused).toMatchObject({ ok: false, retryable: true });
    expect(JSON.stringify(refused)).not.toContain(API_KEY);
  });

  it('health: GET /api/v1/validate with the key — healthy, or unhealthy naming no secret; nothing is written', async () => {
    expect(await destination.checkHealth(settings)).toEqual({ healthy: true, details: `Datadog accepted the API key at ${fake.url}` });
    const bad = await destination.checkHealth(parse({ dd_api_key: 'wrong-key-CANARY', dd_base_url: fake.url }));
    expect(bad).toEqual({ healthy: false, details: `Datadog rejected the API key (HTTP 403) at ${fake.url}` });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/validate', 'GET /api/v1/validate']);
    expect(fake.intakeRequests()).toHaveLength(0);
  });

  it('a guarded instance refuses loopback at connect time', async () => {
    const guarded = new DatadogDestination({ egress: { allowedHosts: [] }, identity });
    try {
      expect(await guarded.send([item('c:e')], settings)).toMatchObject({ ok: false, retryable: false, error: expect.stringContaining('blocked') as unknown });
      expect((await guarded.checkHealth(settings)).details).toContain('blocked');
      expect(fake.requests).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });
});
