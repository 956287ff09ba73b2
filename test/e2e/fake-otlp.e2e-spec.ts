import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FakeOtlp, otlpVendor, type FakeOtlpOptions } from '../support/fakes/fake-otlp';

const SUCCESS = 0;
const FAILED = 1;

interface ChildExport {
  results: { code?: number; error?: string; status?: number; bytes?: number }[];
  span?: { traceId: string; spanId: string; start: string; end: string };
}

/**
 * The fake OTLP receiver proven against OpenTelemetry's own OTLP/HTTP JSON exporter: what the exporter sends is
 * accepted and decoded span for span (ids, times, attributes, resource, scope, status), each vendor's
 * authentication is required as the vendor requires it, and a refused export fails in the exporter. The exporter
 * runs in a plain Node child: inside Jest's VM its dynamic `import('http')` is refused.
 */
async function exportWithSdk(url: string, headers: Record<string, string>, scenario: 'one' | 'empty' | 'protobuf' | 'protobuf-empty' | 'gzip' = 'one'): Promise<ChildExport> {
  const script = join(__dirname, '../support/otlp/export-with-sdk.js');
  const { stdout } = await promisify(execFile)(process.execPath, [script, url, JSON.stringify(headers), scenario], { timeout: 30_000 });
  return JSON.parse(stdout) as ChildExport;
}

describe('fake OTLP receiver, driven by @opentelemetry/exporter-trace-otlp-http', () => {
  const fakes: FakeOtlp[] = [];

  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()));
  });

  async function start(options: FakeOtlpOptions = {}): Promise<FakeOtlp> {
    const fake = await FakeOtlp.start(options);
    fakes.push(fake);
    return fake;
  }

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  it.each([
    ['plain collector', '/v1/traces', {}, {}],
    ['Arize', '/v1/traces', otlpVendor.arize('space-1', 'ak-secret'), { space_id: 'space-1', api_key: 'ak-secret' }],
    ['Langfuse', '/api/public/otel/v1/traces', otlpVendor.langfuse('pk-lf-1', 'sk-lf-1'), { authorization: basic('pk-lf-1', 'sk-lf-1') }],
  ] as const)('%s: accepts and decodes what the JSON exporter sends with the right headers', async (_name, path, options, headers) => {
    const fake = await start(options);
    const { results, span } = await exportWithSdk(`${fake.url}${path}`, headers);
    expect(results).toEqual([{ code: SUCCESS }]);
    expectDecoded(fake, span!, path);
  });

  it.each([
    ['plain collector', '/v1/traces', {}, {}],
    ['Arize', '/v1/traces', otlpVendor.arize('space-1', 'ak-secret'), { space_id: 'space-1', api_key: 'ak-secret' }],
    ['Phoenix', '/v1/traces', otlpVendor.phoenix('px-secret'), { authorization: 'Bearer px-secret' }],
    ['Langfuse', '/api/public/otel/v1/traces', otlpVendor.langfuse('pk-lf-1', 'sk-lf-1'), { authorization: basic('pk-lf-1', 'sk-lf-1') }],
  ] as const)("%s: accepts and decodes OpenTelemetry's protobuf serialisation of the same span", async (_name, path, options, headers) => {
    const fake = await start(options);
    const { results, span } = await exportWithSdk(`${fake.url}${path}`, headers, 'protobuf');
    expect(results[0].status).toBe(200);
    expectDecoded(fake, span!, path);
  });

  it("inflates a gzip body, as a collector does with the exporter's compression: gzip", async () => {
    const fake = await start();
    const { results, span } = await exportWithSdk(`${fake.url}/v1/traces`, {}, 'gzip');
    expect(results).toEqual([{ code: SUCCESS }]);
    expect(fake.requests.at(-1)?.headers['content-encoding']).toBe('gzip');
    expectDecoded(fake, span!, '/v1/traces');
  });

  it('Phoenix refuses JSON with 415, as Phoenix does (it takes protobuf only)', async () => {
    const fake = await start(otlpVendor.phoenix('px-secret'));
    const { results } = await exportWithSdk(`${fake.url}/v1/traces`, { authorization: 'Bearer px-secret' });
    expect(results).toEqual([{ code: FAILED, error: expect.any(String) as unknown }]);
    expect(fake.requests.at(-1)?.headers['content-type']).toBe('application/json');
    expect(fake.spans()).toEqual([]);
  });

  function expectDecoded(fake: FakeOtlp, span: NonNullable<ChildExport['span']>, path: string): void {

    expect(fake.spans()).toHaveLength(1);
    const [received] = fake.spans();
    expect(received.traceId).toBe(span.traceId);
    expect(received.spanId).toBe(span.spanId);
    expect(received.name).toBe('chat gpt-4');
    expect(String(received.startTimeUnixNano)).toBe(span.start);
    expect(String(received.endTimeUnixNano)).toBe(span.end);
    expect(received.attributes).toEqual({ 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4', 'llm.token_count.prompt': 12, 'tag.tags': ['a', 'b'], 'gatehouse.stream': false });
    expect(received.resource).toMatchObject({ 'service.name': 'proof', 'openinference.project.name': 'proj-x' });
    expect(received.scope).toEqual({ name: 'proof-scope', version: '1.2.3' });
    expect(received.status).toMatchObject({ code: 2, message: 'boom' });
    expect(fake.requests[0].path).toBe(path);
  }

  it.each([
    ['Arize, wrong api_key', otlpVendor.arize('space-1', 'ak-secret'), '/v1/traces', { space_id: 'space-1', api_key: 'ak-wrong' }],
    ['Arize, no space_id', otlpVendor.arize('space-1', 'ak-secret'), '/v1/traces', { api_key: 'ak-secret' }],
    ['Arize, no headers', otlpVendor.arize('space-1', 'ak-secret'), '/v1/traces', {}],
    ['Langfuse, wrong secret', otlpVendor.langfuse('pk-lf-1', 'sk-lf-1'), '/api/public/otel/v1/traces', { authorization: basic('pk-lf-1', 'nope') }],
    ['Langfuse, wrong path', otlpVendor.langfuse('pk-lf-1', 'sk-lf-1'), '/v1/traces', { authorization: basic('pk-lf-1', 'sk-lf-1') }],
  ] as const)('%s: refused, and the exporter reports the export as failed; nothing stored', async (_name, options, path, headers) => {
    const fake = await start(options);
    const { results } = await exportWithSdk(`${fake.url}${path}`, headers);
    expect(results).toEqual([{ code: FAILED, error: expect.any(String) as unknown }]);
    expect(fake.spans()).toEqual([]);
    expect(fake.requests.length).toBeGreaterThan(0);
  });

  it('a 503 is retryable for the exporter too: it retries on its own and the span arrives once', async () => {
    const fake = await start();
    fake.setFailure({ status: 503, retryAfter: '0', times: 1 });
    const { results } = await exportWithSdk(`${fake.url}/v1/traces`, {});
    expect(results).toEqual([{ code: SUCCESS }]);
    expect(fake.requests).toHaveLength(2);
    expect(fake.spans()).toHaveLength(1);
  });

  it('an empty export (the health probe) is what the exporter sends for no spans, accepted with nothing stored', async () => {
    const json = await start(otlpVendor.arize('space-1', 'ak-secret'));
    const headers = { space_id: 'space-1', api_key: 'ak-secret' };
    const { results } = await exportWithSdk(`${json.url}/v1/traces`, headers, 'empty');
    expect(results).toEqual([{ code: SUCCESS }]);
    for (const sent of json.requests) expect(sent.json).toEqual({ resourceSpans: [] });
    const probe = await fetch(`${json.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"resourceSpans":[]}' });
    expect(probe.status).toBe(200);
    expect(json.spans()).toEqual([]);

    // In protobuf, OpenTelemetry's serialisation of no spans is zero bytes: the protobuf probe's body.
    const proto = await start(otlpVendor.phoenix('px-secret'));
    const empty = await exportWithSdk(`${proto.url}/v1/traces`, { authorization: 'Bearer px-secret' }, 'protobuf-empty');
    expect(empty.results).toEqual([{ status: 200, bytes: 0 }]);
    expect(proto.spans()).toEqual([]);
  });

  it('refuses a protobuf body that does not parse with 400', async () => {
    const fake = await start();
    const res = await fetch(`${fake.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from([0x0a, 0x05, 0x01]) });
    expect(res.status).toBe(400);
  });

  it('refuses a body that is not an ExportTraceServiceRequest (bad ids) with 400, as a collector does', async () => {
    const fake = await start();
    const res = await fetch(`${fake.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz', spanId: '00', name: 'n', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] }),
    });
    expect(res.status).toBe(400);
  });
});
