import { FakeLangfuse } from '../../../../../test/support/fakes/fake-langfuse';
import { failurePayload, samplePayload } from '../../../../../test/support/fakes/sample-payload';
import type { DeliveryItem } from '../../../log-destination';
import { LangfuseDestination, type LangfuseSettings } from './langfuse.destination';

const PROJECT_A = { publicKey: 'pk-lf-project-a', secretKey: 'sk-lf-CANARY-a-7f3e9' };
const PROJECT_B = { publicKey: 'pk-lf-project-b', secretKey: 'sk-lf-CANARY-b-1c2d8' };

function item(eventId: string, overrides: Parameters<typeof samplePayload>[0] = {}): DeliveryItem {
  return { eventId, payload: samplePayload({ litellm_call_id: eventId.split(':')[0], ...overrides }) };
}

describe('LangfuseDestination', () => {
  let fake: FakeLangfuse;
  let destination: LangfuseDestination;
  let settingsA: LangfuseSettings;
  let settingsB: LangfuseSettings;

  const parse = (vars: Record<string, string>): LangfuseSettings => {
    const parsed = destination.parseSettings(vars);
    if (!('settings' in parsed)) {
      throw new Error(JSON.stringify(parsed.errors));
    }
    return parsed.settings;
  };

  beforeEach(async () => {
    fake = await FakeLangfuse.start({ keys: [PROJECT_A, PROJECT_B] });
    destination = new LangfuseDestination({ defaultHost: 'https://cloud.langfuse.com', requestTimeoutMs: 2_000 });
    settingsA = parse({ langfuse_public_key: PROJECT_A.publicKey, langfuse_secret_key: PROJECT_A.secretKey, langfuse_host: fake.url });
    settingsB = parse({ langfuse_public_key: PROJECT_B.publicKey, langfuse_secret: PROJECT_B.secretKey, langfuse_host: fake.url });
  });

  afterEach(async () => {
    await destination.close();
    await fake.close();
  });

  describe('parseSettings', () => {
    it('requires both keys, accepts the langfuse_secret alias and defaults the host', () => {
      expect(destination.parseSettings({ langfuse_public_key: 'pk' })).toEqual({
        errors: [{ field: 'langfuse_secret_key', message: 'langfuse_secret_key or langfuse_secret is required for langfuse' }],
      });
      expect(destination.parseSettings({ langfuse_public_key: 'pk', langfuse_secret: 'sk' })).toEqual({
        settings: { host: 'https://cloud.langfuse.com', publicKey: 'pk', secretKey: 'sk' },
      });
    });

    it('uses the host given by the caller as default, strips trailing slashes and adds https to bare hosts', () => {
      const withDefault = new LangfuseDestination({ defaultHost: 'https://langfuse.example.com/' });
      expect(withDefault.parseSettings({ langfuse_public_key: 'pk', langfuse_secret_key: 'sk' })).toMatchObject({
        settings: { host: 'https://langfuse.example.com' },
      });
      expect(destination.parseSettings({ langfuse_public_key: 'pk', langfuse_secret_key: 'sk', langfuse_host: 'eu.langfuse.example.com' })).toMatchObject({
        settings: { host: 'https://eu.langfuse.example.com' },
      });
      void withDefault.close();
    });

    it('rejects unknown vars, conflicting aliases and non-http hosts', () => {
      const result = destination.parseSettings({
        langfuse_public_key: 'pk',
        langfuse_secret_key: 'sk1',
        langfuse_secret: 'sk2',
        langfuse_host: 'ftp://x.example.com',
        gcs_bucket_name: 'b',
      });
      expect('errors' in result && result.errors.map((e) => e.field).sort()).toEqual(['gcs_bucket_name', 'langfuse_host', 'langfuse_secret']);
    });
  });

  it("hands only events that carry media to the SDK's media handling, and delivers both kinds", async () => {
    const image = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const plain = item('call-plain:entry-a');
    const withImage = item('call-image:entry-a', {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: image } }] }],
    });
    expect(await destination.send([plain, withImage], settingsA)).toEqual({ ok: true });

    const inputs = new Map(fake.traces(PROJECT_A.publicKey).map((trace) => [trace.id, JSON.stringify(trace.input)]));
    expect(inputs.get('call-plain')).toBe(JSON.stringify({ messages: plain.payload.messages }));
    // The SDK took the data URI out of the event: the bytes went to Langfuse's media store, the event names them.
    expect(inputs.get('call-image')).toContain('what is this?');
    expect(inputs.get('call-image')).not.toContain(image.slice(30));
    expect(inputs.get('call-image')).toMatch(/@@@langfuseMedia:type=image\/png\|id=[^|]+\|source=base64_data_uri@@@/);
    // Once per object whose input carries it: the trace and its generation.
    const media = fake.media(PROJECT_A.publicKey);
    expect(media.map((entry) => entry.announced.observationId === undefined ? 'trace' : 'generation').sort()).toEqual(['generation', 'trace']);
    for (const entry of media) {
      expect(entry.announced).toMatchObject({ traceId: 'call-image', field: 'input', contentType: 'image/png' });
      expect(entry.bytes).toEqual(Buffer.from(image.slice(image.indexOf(',') + 1), 'base64'));
      expect(entry.reported).toMatchObject({ uploadHttpStatus: 200 });
    }
  });

  it('sends each body serialised once, as JSON.stringify would, with the parts a call\'s bodies share written out in full', async () => {
    const conversation = Array.from({ length: 12 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i} "quoted" \u2028 é `.repeat(40) }));
    const long = item('call-long:entry-a', { messages: conversation });
    const tools = item('call-tools:entry-a', {
      messages: conversation,
      model_parameters: { temperature: 0.2, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] },
    });
    expect(await destination.send([item('call-short:entry-a'), long, tools], settingsA)).toEqual({ ok: true });

    const [request] = fake.ingestionRequests;
    // No placeholder is left, and the text is exactly the JSON of what it carries (order and escaping included).
    expect(request.text).not.toContain('gatehouse-json-');
    expect(request.text).toBe(JSON.stringify(request.json));
    const batch = (request.json as { batch: { type: string; body: Record<string, unknown> }[] }).batch;
    expect(batch.map((envelope) => envelope.type)).toEqual(['trace-create', 'generation-create', 'trace-create', 'generation-create', 'trace-create', 'generation-create']);
    expect(batch[2].body.input).toEqual({ messages: conversation });
    expect(batch[3].body.input).toEqual(conversation);
    expect(batch[4].body.input).toEqual({ messages: conversation, tools: tools.payload.model_parameters?.tools });
    expect(batch[5].body.input).toEqual(batch[4].body.input);
    expect(batch[3].body.metadata).toEqual(batch[2].body.metadata);
  });

  it('truncates an event over the SDK\'s 1 MB limit the way the SDK does, and still delivers it with the others', async () => {
    const huge = item('call-huge:entry-a', { messages: [{ role: 'user', content: 'x'.repeat(1_200_000) }] });
    expect(await destination.send([item('call-small:entry-a'), huge], settingsA)).toEqual({ ok: true });
    const inputs = new Map(fake.traces(PROJECT_A.publicKey).map((trace) => [trace.id, trace.input]));
    expect(inputs.get('call-huge')).toBe('<truncated due to size exceeding limit>');
    expect(inputs.get('call-small')).toEqual({ messages: samplePayload().messages });
  });

  it('delivers one trace and one generation per event with the LiteLLM mapping', async () => {
    const payload = samplePayload({
      litellm_call_id: 'call-1',
      metadata: { ...samplePayload().metadata, requester_metadata: { trace_id: 'trace-xyz', session_id: 'session-9' } },
    });
    const result = await destination.send([{ eventId: 'call-1:entry-a', payload }], settingsA);
    expect(result).toEqual({ ok: true });

    const traces = fake.traces(PROJECT_A.publicKey);
    expect(traces).toHaveLength(1);
    expect(traces[0]).toMatchObject({
      id: 'trace-xyz',
      name: 'litellm-acompletion',
      userId: 'end-user-7',
      sessionId: 'session-9',
      tags: ['prod'],
      input: { messages: [{ role: 'user', content: 'Hello, Claude gm!' }] },
      output: { role: 'assistant', content: 'gm!' },
      timestamp: '2026-01-01T00:00:00.250Z',
    });
    const generations = fake.generations(PROJECT_A.publicKey, 'trace-xyz');
    expect(generations).toHaveLength(1);
    expect(generations[0]).toMatchObject({
      traceId: 'trace-xyz',
      name: 'litellm:ci-key',
      model: 'gpt-4o-mini',
      modelParameters: { temperature: 0.2, max_tokens: 256, user: 'end-user-7' },
      input: [{ role: 'user', content: 'Hello, Claude gm!' }],
      output: { role: 'assistant', content: 'gm!' },
      usageDetails: { input: 10, output: 5, total: 15 },
      costDetails: { input: 0.000015, output: 0.00003, total: 0.000045 },
      startTime: '2026-01-01T00:00:00.250Z',
      completionStartTime: '2026-01-01T00:00:00.750Z',
      endTime: '2026-01-01T00:00:01.000Z',
      level: 'DEFAULT',
      metadata: {
        team_id: 'team-a',
        team_alias: 'Team A',
        user_api_key_alias: 'ci-key',
        user_api_key_hash: 'hash-of-key-1',
        litellm_call_id: 'call-1',
        model_group: 'gpt-4o-mini',
        api_base: 'https://api.openai.com/v1',
        cache_hit: false,
      },
    });
    expect(fake.traces(PROJECT_B.publicKey)).toHaveLength(0);
  });

  it('shows the router’s attempts before the answer in the metadata (classes and durations, no error text)', async () => {
    const attempt = { model_group: 'gpt-4o', model_id: 'primary', model: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1', error_class: 'InternalServerError', error_code: '500', duration_ms: 41.2 };
    const metadata = { ...samplePayload().metadata, attempted_retries: 0, attempted_fallbacks: 1, failed_attempts: [attempt] };
    expect(await destination.send([{ eventId: 'call-r:e', payload: samplePayload({ litellm_call_id: 'call-r', metadata }) }], settingsA)).toEqual({ ok: true });
    expect(fake.generations(PROJECT_A.publicKey, 'call-r')[0].metadata).toMatchObject({ attempted_retries: 0, attempted_fallbacks: 1, failed_attempts: [attempt] });
    expect(fake.trace(PROJECT_A.publicKey, 'call-r')?.metadata).toMatchObject({ failed_attempts: [attempt] });
  });

  it('falls back to the call id as trace id and litellm-<call_type> as generation name', async () => {
    const payload = samplePayload({ litellm_call_id: 'call-2', metadata: { ...samplePayload().metadata, user_api_key_alias: null } });
    expect(await destination.send([{ eventId: 'call-2:e', payload }], settingsA)).toEqual({ ok: true });
    expect(fake.trace(PROJECT_A.publicKey, 'call-2')).toBeDefined();
    expect(fake.generations(PROJECT_A.publicKey, 'call-2')[0].name).toBe('litellm-acompletion');
  });

  it('marks failures with level ERROR and the error string, without output', async () => {
    const payload = failurePayload({ litellm_call_id: 'call-f' });
    expect(await destination.send([{ eventId: 'call-f:e', payload }], settingsA)).toEqual({ ok: true });
    const generation = fake.generations(PROJECT_A.publicKey, 'call-f')[0];
    expect(generation).toMatchObject({ level: 'ERROR', statusMessage: 'RateLimitError: upstream said slow down' });
    expect(generation.output).toBeUndefined();
    const trace = fake.trace(PROJECT_A.publicKey, 'call-f');
    expect(trace?.output).toBeUndefined();
    expect(trace?.metadata).toMatchObject({ level: 'ERROR', status_message: 'RateLimitError: upstream said slow down', error_code: '429' });
  });

  it('is idempotent on redelivery: the same event id twice gives one trace and one generation', async () => {
    const event = item('call-3:entry-a');
    expect(await destination.send([event], settingsA)).toEqual({ ok: true });
    expect(await destination.send([event], settingsA)).toEqual({ ok: true });
    expect(fake.items(PROJECT_A.publicKey)).toHaveLength(4);
    expect(fake.traces(PROJECT_A.publicKey)).toHaveLength(1);
    expect(fake.generations(PROJECT_A.publicKey)).toHaveLength(1);
  });

  it('sends a batch in one request and acknowledges every item', async () => {
    const items = [item('call-10:a'), item('call-11:a'), item('call-12:a')];
    expect(await destination.send(items, settingsA)).toEqual({ ok: true });
    expect(fake.ingestionRequests).toHaveLength(1);
    expect(fake.generations(PROJECT_A.publicKey)).toHaveLength(3);
  });

  it('keeps two projects on one host apart', async () => {
    await Promise.all([
      destination.send([item('call-a1:x'), item('call-a2:x')], settingsA),
      destination.send([item('call-b1:x')], settingsB),
    ]);
    expect(fake.traces(PROJECT_A.publicKey).map((t) => t.id).sort()).toEqual(['call-a1', 'call-a2']);
    expect(fake.traces(PROJECT_B.publicKey).map((t) => t.id)).toEqual(['call-b1']);
    for (const request of fake.ingestionRequests) {
      const pk = (request.json as { metadata: { public_key: string } }).metadata.public_key;
      const expected = pk === PROJECT_A.publicKey ? PROJECT_A : PROJECT_B;
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`${expected.publicKey}:${expected.secretKey}`).toString('base64')}`);
    }
  });

  it('reports 401 as not retryable', async () => {
    const wrong = parse({ langfuse_public_key: PROJECT_A.publicKey, langfuse_secret_key: 'sk-wrong', langfuse_host: fake.url });
    const result = await destination.send([item('call-4:a')], wrong);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(!result.ok && result.error).toMatch(/HTTP 401/);
    expect(!result.ok && result.failedEventIds).toBeUndefined();
  });

  it.each([
    [503, '2', 2_000],
    [429, '7', 7_000],
  ])('reports %s as retryable and honours Retry-After', async (status, retryAfter, expectedMs) => {
    fake.setFailure({ status, retryAfter, times: 1 });
    const result = await destination.send([item('call-5:a')], settingsA);
    expect(result).toMatchObject({ ok: false, retryable: true, retryAfterMs: expectedMs });
    expect(fake.ingestionRequests).toHaveLength(1);
    // The client itself must not retry: the delivery layer owns retries.
    expect(await destination.send([item('call-5:a')], settingsA)).toEqual({ ok: true });
    expect(fake.generations(PROJECT_A.publicKey)).toHaveLength(1);
  });

  it('reports 400 as not retryable', async () => {
    fake.setFailure({ status: 400, body: { message: 'Invalid request data' }, times: 1 });
    expect(await destination.send([item('call-6:a')], settingsA)).toMatchObject({ ok: false, retryable: false });
  });

  it('reports connection refused as retryable', async () => {
    await fake.refuseConnections();
    const result = await destination.send([item('call-7:a')], settingsA);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(!result.ok && result.error).toBe(`cannot reach ${fake.url}: ECONNREFUSED`);
  });

  it('reports a hanging server as a retryable timeout', async () => {
    const quick = new LangfuseDestination({ requestTimeoutMs: 300 });
    fake.setFailure({ hang: true, times: 1 });
    const result = await quick.send([item('call-8:a')], settingsA);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(!result.ok && result.error).toMatch(/ETIMEDOUT/);
    await quick.close();
  });

  it('turns a 207 with errors into a partial failure listing the failed event ids', async () => {
    fake.setPartialFailure({ match: (envelope) => envelope.body.traceId === 'call-21' || envelope.body.id === 'call-21', status: 400 });
    const result = await destination.send([item('call-20:a'), item('call-21:a'), item('call-22:a')], settingsA);
    expect(result).toMatchObject({ ok: false, retryable: false, failedEventIds: ['call-21:a'] });
    expect(fake.traces(PROJECT_A.publicKey).map((t) => t.id).sort()).toEqual(['call-20', 'call-22']);
  });

  it('marks 207 item errors with a 5xx status as retryable', async () => {
    fake.setPartialFailure({ match: (envelope) => envelope.type === 'generation-create' && envelope.body.traceId === 'call-31', status: 503 });
    const result = await destination.send([item('call-30:a'), item('call-31:a')], settingsA);
    expect(result).toMatchObject({ ok: false, retryable: true, failedEventIds: ['call-31:a'] });
  });

  it('does not follow redirects (credentials stay with the configured host)', async () => {
    fake.setFailure({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' }, times: 1 });
    const result = await destination.send([item('call-9:a')], settingsA);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(!result.ok && result.error).toMatch(/redirect/);
  });

  it('refuses to connect to a private address when the egress guard is on, before any byte is sent', async () => {
    const guarded = new LangfuseDestination({ egress: { allowedHosts: [] } });
    const result = await guarded.send([item('call-40:a')], settingsA);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(!result.ok && result.error).toMatch(/blocked: .*loopback/);
    expect(fake.requests).toHaveLength(0);
    const health = await guarded.checkHealth(settingsA);
    expect(health.healthy).toBe(false);
    expect(fake.requests).toHaveLength(0);
    await guarded.close();

    const allowlisted = new LangfuseDestination({ egress: { allowedHosts: [`127.0.0.1:${fake.port}`] } });
    expect(await allowlisted.send([item('call-41:a')], settingsA)).toEqual({ ok: true });
    await allowlisted.close();
  });

  it('serialises concurrent sends on one client and acknowledges each correctly', async () => {
    const sends = Array.from({ length: 6 }, (_, i) => destination.send([item(`call-5${i}:a`)], settingsA));
    expect(await Promise.all(sends)).toEqual(Array.from({ length: 6 }, () => ({ ok: true })));
    expect(fake.generations(PROJECT_A.publicKey)).toHaveLength(6);
    expect(destination.openClients).toBe(1);
  });

  it('bounds the client pool and flushes evicted clients without losing events', async () => {
    const small = new LangfuseDestination({ maxClients: 1 });
    const results = await Promise.all([small.send([item('call-60:a')], settingsA), small.send([item('call-61:a')], settingsB)]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(small.openClients).toBe(1);
    expect(fake.traces(PROJECT_A.publicKey)).toHaveLength(1);
    expect(fake.traces(PROJECT_B.publicKey)).toHaveLength(1);
    await small.close();
    expect(small.openClients).toBe(0);
  });

  it('never puts the secret key in a request body or in any header but Authorization', async () => {
    const payload = samplePayload({
      litellm_call_id: 'call-canary',
      model_parameters: { temperature: 0, langfuse_secret_key: PROJECT_A.secretKey, api_key: PROJECT_A.secretKey },
    });
    await destination.send([{ eventId: 'call-canary:a', payload }], settingsA);
    await destination.checkHealth(settingsA);
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);
    for (const request of fake.requests) {
      expect(request.text).not.toContain(PROJECT_A.secretKey);
      for (const [name, value] of Object.entries(request.headers)) {
        if (name !== 'authorization') {
          expect(String(value)).not.toContain(PROJECT_A.secretKey);
        }
      }
    }
  });

  describe('checkHealth', () => {
    it('is healthy with valid keys and writes no data', async () => {
      expect(await destination.checkHealth(settingsA)).toEqual({ healthy: true, details: `Langfuse accepted the credentials at ${fake.url}` });
      expect(fake.ingestionRequests).toHaveLength(0);
      expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/api/public/projects' });
    });

    it('reports rejected credentials without echoing them', async () => {
      const wrong = parse({ langfuse_public_key: PROJECT_A.publicKey, langfuse_secret_key: 'sk-wrong-CANARY', langfuse_host: fake.url });
      const health = await destination.checkHealth(wrong);
      expect(health).toEqual({ healthy: false, details: `Langfuse rejected the credentials (HTTP 401) at ${fake.url}` });
      expect(health.details).not.toContain('CANARY');
      expect(health.details).not.toContain(PROJECT_A.publicKey);
    });

    it('reports an unreachable host', async () => {
      await fake.refuseConnections();
      expect(await destination.checkHealth(settingsA)).toEqual({ healthy: false, details: `cannot reach ${fake.url}: ECONNREFUSED` });
    });
  });
});
