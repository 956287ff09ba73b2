import { FakeOtlp, otlpVendor } from '../../../../../test/support/fakes/fake-otlp';
import { failurePayload, samplePayload } from '../../../../../test/support/fakes/sample-payload';
import type { DeliveryItem } from '../../../log-destination';
import { ARIZE_VARS, arizeDestination } from '../arize/arize.destination';
import { ArizeDefinition } from '../arize/arize.definition';
import { arizePhoenixDestination } from '../arize-phoenix/arize-phoenix.destination';
import { langfuseOtelDestination } from '../langfuse-otel/langfuse-otel.destination';
import { LangfuseOtelDefinition } from '../langfuse-otel/langfuse-otel.definition';
import type { OtelSettings } from './otel.destination';
import type { OtlpVariantDestination } from './otlp-variant';

const API_KEY = 'ak-CANARY-arize-91c2';
const PHOENIX_KEY = 'px-CANARY-phoenix-07aa';
const LF_SECRET = 'sk-lf-CANARY-33de';

function item(eventId: string, overrides: Parameters<typeof samplePayload>[0] = {}): DeliveryItem {
  return { eventId, payload: samplePayload({ litellm_call_id: eventId.split(':')[0], ...overrides }) };
}

function settingsOf(destination: OtlpVariantDestination, vars: Record<string, string>): OtelSettings {
  const parsed = destination.parseSettings(vars);
  if (!('settings' in parsed)) throw new Error(JSON.stringify(parsed.errors));
  return parsed.settings;
}

describe('OTLP variants of the otel destination (arize, arize_phoenix, langfuse_otel)', () => {
  let fake: FakeOtlp;
  let destination: OtlpVariantDestination;

  afterEach(async () => {
    await destination?.close();
    await fake?.close();
  });

  describe('arize', () => {
    it("reads LiteLLM's vars: space key or id, api key; Arize's collector by default; project as model_id", () => {
      destination = arizeDestination({ endpoint: 'https://otlp.arize.com/v1' });
      expect(destination.kind).toBe('arize');
      expect(destination.parseSettings({ arize_space_key: 'sp-1', arize_api_key: API_KEY })).toEqual({
        settings: {
          endpoint: 'https://otlp.arize.com/v1',
          tracesUrl: 'https://otlp.arize.com/v1/traces',
          headers: { space_id: 'sp-1', api_key: API_KEY },
          serviceName: 'gatehouse',
          resourceAttributes: { model_id: 'litellm', 'openinference.project.name': 'litellm' },
        },
      });
      expect(
        settingsOf(destination, { arize_space_id: 'sp-2', arize_api_key: API_KEY, arize_endpoint: 'https://arize.internal:4318/', arize_project_name: 'shop' }),
      ).toMatchObject({ tracesUrl: 'https://arize.internal:4318/v1/traces', headers: { space_id: 'sp-2' }, resourceAttributes: { model_id: 'shop' } });
    });

    it('names the missing or bad field, never echoing a secret', () => {
      destination = arizeDestination({ endpoint: 'https://otlp.arize.com/v1' });
      expect(destination.parseSettings({ arize_api_key: API_KEY })).toMatchObject({ errors: [{ field: 'arize_space_key', message: 'arize_space_key or arize_space_id is required for arize' }] });
      const bad = destination.parseSettings({ arize_space_key: 's', arize_api_key: `${API_KEY}\r\nx: y`, arize_endpoint: 'ftp://x' });
      expect(bad).toMatchObject({ errors: [{ field: 'arize_endpoint' }, { field: 'arize_api_key' }] });
      expect(JSON.stringify(bad)).not.toContain(API_KEY);
      expect(ARIZE_VARS.vars.arize_api_key.secret && ARIZE_VARS.vars.arize_space_key.secret && ARIZE_VARS.vars.arize_endpoint.url).toBe(true);
    });

    it('sends OpenInference spans Arize accepts (space_id + api_key, protobuf as LiteLLM sends), with the project as resource attributes', async () => {
      fake = await FakeOtlp.start(otlpVendor.arize('sp-1', API_KEY));
      destination = arizeDestination({ endpoint: fake.url });
      const settings = settingsOf(destination, { arize_space_key: 'sp-1', arize_api_key: API_KEY, arize_project_name: 'shop' });
      expect(await destination.send([item('call-1:arize-a')], settings)).toEqual({ ok: true });
      expect(fake.requests[0].headers['content-type']).toBe('application/x-protobuf');
      const [span] = fake.spans();
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.name).toBe('chat gpt-4o-mini');
      expect(BigInt(span.endTimeUnixNano)).toBeGreaterThan(BigInt(span.startTimeUnixNano));
      expect(span.scope).toEqual({ name: 'gatehouse', version: '0.1.0' });
      expect(span.attributes['tag.tags']).toEqual(['prod']);
      expect(span.attributes['gatehouse.stream']).toBe(false);
      expect(span.resource).toMatchObject({ model_id: 'shop', 'openinference.project.name': 'shop', 'service.name': 'gatehouse' });
      expect(span.attributes).toMatchObject({
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o-mini',
        'llm.token_count.prompt': 10,
        'llm.token_count.completion': 5,
        'llm.token_count.total': 15,
        'llm.input_messages.0.message.role': 'user',
        'llm.input_messages.0.message.content': 'Hello, Claude gm!',
        'llm.output_messages.0.message.role': 'assistant',
        'input.mime_type': 'application/json',
        'output.mime_type': 'text/plain',
        // The GenAI attributes of the otel destination stay.
        'gen_ai.request.model': 'gpt-4o-mini',
        'gatehouse.call_id': 'call-1',
      });
      expect(span.attributes['output.value']).toBe('gm!');
      expect(JSON.parse(span.attributes['input.value'] as string)).toEqual([{ role: 'user', content: 'Hello, Claude gm!' }]);
    });

    it('health: an empty export with the credentials (nothing written); a wrong key is unhealthy, the key unsaid', async () => {
      fake = await FakeOtlp.start(otlpVendor.arize('sp-1', API_KEY));
      destination = arizeDestination({ endpoint: fake.url });
      expect(await destination.checkHealth(settingsOf(destination, { arize_space_key: 'sp-1', arize_api_key: API_KEY }))).toMatchObject({ healthy: true });
      const wrong = await destination.checkHealth(settingsOf(destination, { arize_space_key: 'sp-1', arize_api_key: 'ak-wrong-CANARY' }));
      expect(wrong).toMatchObject({ healthy: false, details: expect.stringContaining('HTTP 401') as unknown });
      expect(JSON.stringify(wrong)).not.toContain('ak-wrong-CANARY');
      expect(fake.spans()).toEqual([]);
      // The empty ExportTraceServiceRequest in protobuf: zero bytes.
      expect(fake.requests.map((r) => [r.headers['content-type'], r.body.length])).toEqual([
        ['application/x-protobuf', 0],
        ['application/x-protobuf', 0],
      ]);
    });
  });

  describe('arize_phoenix', () => {
    it('bearer key when set, none otherwise; /v1/traces appended as LiteLLM does; project as openinference.project.name', () => {
      destination = arizePhoenixDestination({ endpoint: 'http://localhost:6006' });
      expect(destination.parseSettings({})).toEqual({
        settings: {
          endpoint: 'http://localhost:6006',
          tracesUrl: 'http://localhost:6006/v1/traces',
          headers: {},
          serviceName: 'gatehouse',
          resourceAttributes: { 'openinference.project.name': 'default' },
        },
      });
      expect(settingsOf(destination, { phoenix_api_key: PHOENIX_KEY, phoenix_collector_endpoint: 'https://phoenix.example.com/v1', phoenix_project_name: 'p1' })).toEqual({
        endpoint: 'https://phoenix.example.com/v1',
        tracesUrl: 'https://phoenix.example.com/v1/traces',
        headers: { authorization: `Bearer ${PHOENIX_KEY}` },
        serviceName: 'gatehouse',
        resourceAttributes: { 'openinference.project.name': 'p1' },
      });
    });

    it('Phoenix Cloud needs a key (as LiteLLM says)', () => {
      destination = arizePhoenixDestination({ endpoint: 'http://localhost:6006' });
      expect(destination.parseSettings({ phoenix_collector_endpoint: 'https://app.phoenix.arize.com/s/acme/v1/traces' })).toMatchObject({
        errors: [{ field: 'phoenix_api_key' }],
      });
    });

    it('a failed span reaches Phoenix with its error status; 503 is retryable', async () => {
      fake = await FakeOtlp.start(otlpVendor.phoenix(PHOENIX_KEY));
      destination = arizePhoenixDestination({ endpoint: fake.url });
      const settings = settingsOf(destination, { phoenix_api_key: PHOENIX_KEY, phoenix_project_name: 'p1' });
      expect(await destination.send([{ eventId: 'call-2:px', payload: failurePayload({ litellm_call_id: 'call-2' }) }], settings)).toEqual({ ok: true });
      const [span] = fake.spans();
      expect(span.status).toMatchObject({ code: 2 });
      expect(span.resource).toMatchObject({ 'openinference.project.name': 'p1' });
      expect(span.attributes['llm.output_messages.0.message.role']).toBeUndefined();
      fake.setFailure({ status: 503, times: 1 });
      expect(await destination.send([item('call-3:px')], settings)).toMatchObject({ ok: false, retryable: true });
    });
  });

  describe('langfuse_otel', () => {
    it("Basic auth of public:secret key to <host>/api/public/otel/v1/traces; a host without scheme gets https://", () => {
      destination = langfuseOtelDestination({ host: 'https://us.cloud.langfuse.com' });
      expect(destination.parseSettings({ langfuse_public_key: 'pk-lf-1', langfuse_secret_key: LF_SECRET })).toEqual({
        settings: {
          endpoint: 'https://us.cloud.langfuse.com/api/public/otel',
          tracesUrl: 'https://us.cloud.langfuse.com/api/public/otel/v1/traces',
          headers: { authorization: `Basic ${Buffer.from(`pk-lf-1:${LF_SECRET}`).toString('base64')}` },
          serviceName: 'gatehouse',
        },
      });
      expect(settingsOf(destination, { langfuse_public_key: 'pk', langfuse_secret: 's', langfuse_host: 'langfuse.example.com/' }).tracesUrl).toBe(
        'https://langfuse.example.com/api/public/otel/v1/traces',
      );
      expect(destination.parseSettings({ langfuse_public_key: 'pk' })).toMatchObject({ errors: [{ field: 'langfuse_secret_key' }] });
    });

    it('delivers to the fake Langfuse OTLP endpoint; a wrong secret is a non-retryable 401', async () => {
      fake = await FakeOtlp.start(otlpVendor.langfuse('pk-lf-1', LF_SECRET));
      destination = langfuseOtelDestination({ host: fake.url });
      const settings = settingsOf(destination, { langfuse_public_key: 'pk-lf-1', langfuse_secret_key: LF_SECRET });
      expect(await destination.send([item('call-4:lf')], settings)).toEqual({ ok: true });
      expect(fake.spans()[0].attributes).toMatchObject({ 'llm.model_name': 'gpt-4o-mini', 'gen_ai.usage.input_tokens': 10 });
      const wrong = settingsOf(destination, { langfuse_public_key: 'pk-lf-1', langfuse_secret_key: 'nope' });
      expect(await destination.send([item('call-5:lf')], wrong)).toMatchObject({ ok: false, retryable: false });
      expect(await destination.checkHealth(settings)).toMatchObject({ healthy: true });
    });
  });

  describe('definitions', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('read the default endpoint from LiteLLM environment variables', () => {
      process.env.ARIZE_HTTP_ENDPOINT = '';
      process.env.ARIZE_ENDPOINT = 'https://arize-grpc.example.com/v1';
      destination = new ArizeDefinition().create(undefined);
      expect(settingsOf(destination, { arize_space_key: 's', arize_api_key: 'k' }).tracesUrl).toBe('https://arize-grpc.example.com/v1/traces');
      void destination.close();
      process.env.LANGFUSE_HOST = 'https://eu.langfuse.example.com';
      destination = new LangfuseOtelDefinition().create(undefined);
      expect(settingsOf(destination, { langfuse_public_key: 'p', langfuse_secret_key: 's' }).tracesUrl).toBe('https://eu.langfuse.example.com/api/public/otel/v1/traces');
    });
  });
});
