import { FakeOtlp } from '../../../../../test/support/fakes/fake-otlp';
import { failurePayload, samplePayload } from '../../../../../test/support/fakes/sample-payload';
import type { DeliveryItem } from '../../../log-destination';
import { OtelDestination, parseOtelHeaders, unixNanos, type OtelSettings } from './otel.destination';

const TOKEN = 'otlp-token-CANARY-5b1a';

function item(eventId: string, overrides: Parameters<typeof samplePayload>[0] = {}): DeliveryItem {
  return { eventId, payload: samplePayload({ litellm_call_id: eventId.split(':')[0], ...overrides }) };
}

describe('OtelDestination', () => {
  let fake: FakeOtlp;
  let destination: OtelDestination;
  let settings: OtelSettings;

  const parse = (vars: Record<string, string>): OtelSettings => {
    const parsed = destination.parseSettings(vars);
    if (!('settings' in parsed)) {
      throw new Error(JSON.stringify(parsed.errors));
    }
    return parsed.settings;
  };

  beforeEach(async () => {
    fake = await FakeOtlp.start({ requiredHeaders: { authorization: `Bearer ${TOKEN}` } });
    destination = new OtelDestination({ requestTimeoutMs: 2_000 });
    settings = parse({ otel_endpoint: fake.url, otel_headers: `Authorization=Bearer%20${TOKEN},x-tenant=team-a`, otel_service_name: 'gatehouse-test' });
  });

  afterEach(async () => {
    await destination.close();
    await fake.close();
  });

  describe('parseSettings', () => {
    it('appends /v1/traces, keeps an explicit signal path, defaults the service name', () => {
      expect(destination.parseSettings({ otel_endpoint: 'https://otel.example.com/' })).toEqual({
        settings: { endpoint: 'https://otel.example.com', tracesUrl: 'https://otel.example.com/v1/traces', headers: {}, serviceName: 'gatehouse' },
      });
      expect(destination.parseSettings({ otel_endpoint: 'https://otel.example.com/v1/traces' })).toMatchObject({
        settings: { tracesUrl: 'https://otel.example.com/v1/traces' },
      });
    });

    it('requires the endpoint and rejects bad headers without echoing their values', () => {
      expect(destination.parseSettings({})).toMatchObject({ errors: [{ field: 'otel_endpoint' }] });
      const bad = destination.parseSettings({ otel_endpoint: 'https://o.example.com', otel_headers: `authorization${TOKEN}` });
      expect(bad).toMatchObject({ errors: [{ field: 'otel_headers' }] });
      expect(JSON.stringify(bad)).not.toContain(TOKEN);
      expect(parseOtelHeaders('content-type=text/plain')).toEqual({ error: 'otel_headers must not set content-type' });
      expect(parseOtelHeaders('a=1, b = x%3Dy ,')).toEqual({ headers: { a: '1', b: 'x=y' } });
    });
  });

  it('exports one span per event with GenAI attributes and the configured headers', async () => {
    const result = await destination.send([item('call-1:otel-a')], settings);
    expect(result).toEqual({ ok: true });
    expect(fake.requests[0].headers['x-tenant']).toBe('team-a');
    const [span] = fake.spans();
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span).toMatchObject({
      name: 'chat gpt-4o-mini',
      kind: 3,
      startTimeUnixNano: '1767225600250000000',
      endTimeUnixNano: '1767225601000000000',
      resource: { 'service.name': 'gatehouse-test' },
      scope: { name: 'gatehouse' },
    });
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.response.id': 'chatcmpl-abc123',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 256,
      'gatehouse.team_id': 'team-a',
      'gatehouse.team_alias': 'Team A',
      'gatehouse.key_alias': 'ci-key',
      'gatehouse.key_hash': 'hash-of-key-1',
      'gatehouse.call_id': 'call-1',
      'gatehouse.cost_usd': 0.000045,
    });
    expect(JSON.parse(span.attributes['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', content: 'Hello, Claude gm!' }]);
    expect(JSON.parse(span.attributes['gen_ai.output.messages'] as string)).toEqual([{ role: 'assistant', content: 'gm!' }]);
    expect(span.status?.code).toBeUndefined();
  });

  it('marks failures with status ERROR and the error message', async () => {
    expect(await destination.send([{ eventId: 'call-f:a', payload: failurePayload({ litellm_call_id: 'call-f' }) }], settings)).toEqual({ ok: true });
    const [span] = fake.spans();
    expect(span.status).toEqual({ code: 2, message: 'RateLimitError: upstream said slow down' });
    expect(span.attributes['error.type']).toBe('RateLimitError');
    expect(span.attributes['gen_ai.output.messages']).toBeUndefined();
  });

  it('carries the router’s attempts before the answer: counts as integers, the attempts as JSON', async () => {
    const attempt = { model_group: 'gpt-4o', model_id: 'primary', model: 'gpt-4o', custom_llm_provider: 'openai', api_base: 'https://api.openai.com/v1', error_class: 'InternalServerError', error_code: '500', duration_ms: 41.2 };
    const routed = { ...samplePayload().metadata, attempted_retries: 0, attempted_fallbacks: 1, failed_attempts: [attempt] };
    await destination.send([item('call-r:a', { metadata: routed }), item('call-s:a')], settings);
    const [withAttempts, plain] = fake.spans();
    expect(withAttempts.attributes).toMatchObject({ 'gatehouse.attempted_retries': 0, 'gatehouse.attempted_fallbacks': 1, 'gatehouse.failed_attempts': JSON.stringify([attempt]) });
    expect(plain.attributes['gatehouse.failed_attempts']).toBeUndefined();
  });

  it('names spans litellm_request when there is no model and embeddings for embeddings', async () => {
    await destination.send([item('call-e:a', { call_type: 'aembedding', response: { data: [] } }), item('call-n:a', { model: '' })], settings);
    expect(fake.spans().map((s) => s.name)).toEqual(['embeddings gpt-4o-mini', 'litellm_request']);
  });

  it('is idempotent on redelivery: the same event keeps its trace and span ids', async () => {
    await destination.send([item('call-2:a')], settings);
    await destination.send([item('call-2:a')], settings);
    expect(fake.spans()).toHaveLength(2);
    expect(fake.uniqueSpans()).toHaveLength(1);
    await destination.send([item('call-2:b')], settings);
    expect(fake.uniqueSpans()).toHaveLength(2);
  });

  it('reports a wrong header as a non-retryable 401', async () => {
    const wrong = parse({ otel_endpoint: fake.url, otel_headers: 'authorization=Bearer nope' });
    expect(await destination.send([item('call-3:a')], wrong)).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/HTTP 401/) as unknown });
  });

  it.each([
    [429, '3', true],
    [502, '1', true],
    [503, '4', true],
    [504, undefined, true],
    [500, '1', false],
    [400, undefined, false],
  ])('treats HTTP %s per the OTLP retry rules', async (status, retryAfter, retryable) => {
    fake.setFailure({ status, retryAfter, times: 1 });
    const result = await destination.send([item('call-4:a')], settings);
    expect(result).toMatchObject({ ok: false, retryable });
    expect(!result.ok && result.retryAfterMs).toBe(retryable && retryAfter ? Number(retryAfter) * 1000 : undefined);
  });

  it('reports partial success as a non-retryable failure', async () => {
    fake.setPartialSuccess({ rejectedSpans: 1, errorMessage: 'span too large' });
    expect(await destination.send([item('call-5:a'), item('call-6:a')], settings)).toEqual({
      ok: false,
      retryable: false,
      error: `OTLP endpoint ${fake.url} rejected 1 of 2 spans: span too large`,
    });
  });

  it('reports connection refused and timeouts as retryable', async () => {
    const quick = new OtelDestination({ requestTimeoutMs: 300 });
    fake.setFailure({ hang: true, times: 1 });
    expect(await quick.send([item('call-7:a')], settings)).toMatchObject({ ok: false, retryable: true, error: expect.stringMatching(/ETIMEDOUT/) as unknown });
    await fake.refuseConnections();
    expect(await quick.send([item('call-7:a')], settings)).toEqual({ ok: false, retryable: true, error: `cannot reach ${fake.url}: ECONNREFUSED` });
    await quick.close();
  });

  it('refuses private endpoints at connect time when the egress guard is on', async () => {
    const guarded = new OtelDestination({ egress: { allowedHosts: [] } });
    expect(await guarded.send([item('call-8:a')], settings)).toMatchObject({ ok: false, retryable: false, error: expect.stringMatching(/^blocked: /) as unknown });
    expect(fake.requests).toHaveLength(0);
    await guarded.close();
  });

  it('sends the header secret only as that header, never in the body', async () => {
    const payload = samplePayload({ model_parameters: { temperature: 0, api_key: TOKEN, otel_headers: TOKEN } });
    await destination.send([{ eventId: 'call-9:a', payload }], settings);
    await destination.checkHealth(settings);
    for (const request of fake.requests) {
      expect(request.text).not.toContain(TOKEN);
      for (const [name, value] of Object.entries(request.headers)) {
        if (name !== 'authorization') {
          expect(String(value)).not.toContain(TOKEN);
        }
      }
    }
  });

  describe('checkHealth', () => {
    it('posts an empty export (no data) and is healthy on 2xx', async () => {
      expect(await destination.checkHealth(settings)).toEqual({ healthy: true, details: `OTLP endpoint ${fake.url} accepted an empty export` });
      expect(fake.requests[0].json).toEqual({ resourceSpans: [] });
      expect(fake.spans()).toHaveLength(0);
    });

    it('is unhealthy on a rejected header or an unreachable endpoint', async () => {
      const wrong = parse({ otel_endpoint: fake.url, otel_headers: 'authorization=Bearer nope' });
      expect(await destination.checkHealth(wrong)).toEqual({ healthy: false, details: `OTLP endpoint ${fake.url} answered HTTP 401` });
      await fake.refuseConnections();
      expect(await destination.checkHealth(settings)).toEqual({ healthy: false, details: `cannot reach ${fake.url}: ECONNREFUSED` });
    });
  });

  it('converts epoch seconds to nanoseconds without float drift', () => {
    expect(unixNanos(1_767_225_600.123456)).toBe('1767225600123456000');
    expect(unixNanos(0)).toBe('0');
  });
});
