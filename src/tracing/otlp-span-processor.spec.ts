import { createTraceState, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { FakeOtlp } from '../../test/support/fakes/fake-otlp';
import { OtlpSender } from './otlp-sender';
import { keyValuesOf, OtlpSpanProcessor } from './otlp-span-processor';
import type { OtlpProtocol, SpanBatchSettings, TracingSettings } from './tracing-settings';

const TOKEN = 'collector-token-CANARY-7d2e';
const RESOURCE = { 'service.name': 'gatehouse-test', 'deployment.environment': 'test' };
const PARENT = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true };

describe('OtlpSpanProcessor with OtlpSender, against a fake collector', () => {
  let fake: FakeOtlp;
  let warnings: string[];
  const providers: BasicTracerProvider[] = [];

  beforeEach(async () => {
    fake = await FakeOtlp.start({ requiredHeaders: { authorization: `Bearer ${TOKEN}` } });
    warnings = [];
  });

  afterEach(async () => {
    await Promise.all(providers.splice(0).map((provider) => provider.shutdown()));
    await fake.close();
  });

  function tracer(options: { protocol?: OtlpProtocol; batch?: Partial<SpanBatchSettings>; compression?: TracingSettings['compression']; headers?: Record<string, string> } = {}) {
    const settings = {
      tracesUrl: `${fake.url}/v1/traces`,
      protocol: options.protocol ?? 'http/protobuf',
      headers: options.headers ?? { authorization: `Bearer ${TOKEN}` },
      timeoutMs: 2_000,
      compression: options.compression ?? 'none',
      tls: {},
    } as const;
    const batch: SpanBatchSettings = { scheduledDelayMs: 60_000, maxQueueSize: 100, maxExportBatchSize: 3, exportTimeoutMs: 5_000, ...options.batch };
    const resource = resourceFromAttributes(RESOURCE);
    const processor = new OtlpSpanProcessor(keyValuesOf(resource.attributes), { name: 'gatehouse' }, new OtlpSender(settings, [20, 20]), batch, settings.protocol === 'http/protobuf', (message) =>
      warnings.push(message),
    );
    const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
    providers.push(provider);
    return { tracer: provider.getTracer('gatehouse'), processor };
  }

  const until = async (check: () => boolean, ms = 3_000) => {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it.each(['http/protobuf', 'http/json'] as const)('%s: a full batch goes at once, every field as recorded (ids, parent, trace state, kind, times, attributes, status, resource, scope)', async (protocol) => {
    const { tracer: t } = tracer({ protocol });
    const parent = trace.setSpanContext(ROOT_CONTEXT, { ...PARENT, traceState: createTraceState('vendor=a,other=b') });
    const server = t.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.response.status_code': 502 } }, parent);
    const client = t.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, attributes: { 'server.port': 443, 'gatehouse.stream': true, ratio: 0.5, tags: ['a', 'b'] } }, trace.setSpan(ROOT_CONTEXT, server));
    client.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream_error' });
    client.end();
    server.end();
    const root = t.startSpan('deliver langfuse', { kind: SpanKind.CLIENT, root: true }, ROOT_CONTEXT);
    root.end();

    // Three spans fill the batch: sent without waiting for the one-minute timer.
    await until(() => fake.spans().length === 3);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0].headers['content-type']).toBe(protocol === 'http/protobuf' ? 'application/x-protobuf' : 'application/json');
    const [first, second, third] = fake.spans();
    expect(first).toMatchObject({
      traceId: PARENT.traceId,
      spanId: client.spanContext().spanId,
      parentSpanId: server.spanContext().spanId,
      traceState: 'vendor=a,other=b',
      name: 'chat gpt-4o-mini',
      kind: 3,
      status: { code: 2, message: 'upstream_error' },
      attributes: { 'server.port': 443, 'gatehouse.stream': true, ratio: 0.5, tags: ['a', 'b'] },
      resource: RESOURCE,
      scope: { name: 'gatehouse' },
    });
    expect(second).toMatchObject({ traceId: PARENT.traceId, spanId: server.spanContext().spanId, parentSpanId: PARENT.spanId, kind: 2, attributes: { 'http.response.status_code': 502 } });
    expect(third.parentSpanId ?? '').toBe('');
    expect(third.traceId).not.toBe(PARENT.traceId);
    const [seconds, nanos] = (client as unknown as { startTime: [number, number] }).startTime;
    expect(String(first.startTimeUnixNano)).toBe((BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString());
    expect(BigInt(first.endTimeUnixNano) >= BigInt(first.startTimeUnixNano)).toBe(true);
  });

  it('a batch that is not full goes after OTEL_BSP_SCHEDULE_DELAY; gzip bodies when asked', async () => {
    const { tracer: t } = tracer({ batch: { scheduledDelayMs: 100 }, compression: 'gzip' });
    const started = Date.now();
    t.startSpan('one').end();
    await until(() => fake.spans().length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(fake.requests[0].headers['content-encoding']).toBe('gzip');
  });

  it('unsampled spans are not sent', async () => {
    const resource = resourceFromAttributes(RESOURCE);
    const settings = { tracesUrl: `${fake.url}/v1/traces`, protocol: 'http/protobuf', headers: {}, timeoutMs: 1_000, compression: 'none', tls: {} } as const;
    const batch = { scheduledDelayMs: 10, maxQueueSize: 10, maxExportBatchSize: 1, exportTimeoutMs: 1_000 };
    const processor = new OtlpSpanProcessor([], { name: 'gatehouse' }, new OtlpSender(settings), batch, true, (message) => warnings.push(message));
    const provider = new BasicTracerProvider({ resource, sampler: new AlwaysOffSampler(), spanProcessors: [processor] });
    providers.push(provider);
    provider.getTracer('gatehouse').startSpan('never').end();
    await processor.forceFlush();
    expect(fake.requests).toHaveLength(0);
  });

  it('retries a 503 and the batch arrives once; a 400 is not retried and is reported without the collector text', async () => {
    const { tracer: t, processor } = tracer({ batch: { maxExportBatchSize: 1 } });
    fake.setFailure({ status: 503, times: 1 });
    t.startSpan('retried').end();
    await processor.forceFlush();
    expect(fake.requests).toHaveLength(2);
    expect(fake.spans().map((span) => span.name)).toEqual(['retried']);
    expect(warnings).toEqual([]);

    fake.setFailure({ status: 400, body: { message: `bad: Bearer ${TOKEN}` }, times: 1 });
    t.startSpan('refused').end();
    await processor.forceFlush();
    expect(fake.requests).toHaveLength(3);
    expect(warnings).toEqual(['1 span(s) were not exported: the collector answered HTTP 400']);
  });

  it('a collector that never answers: the batch is given up within OTEL_BSP_EXPORT_TIMEOUT, reported', async () => {
    const { tracer: t, processor } = tracer({ batch: { maxExportBatchSize: 1, exportTimeoutMs: 300 } });
    fake.setFailure({ hang: true });
    const started = Date.now();
    t.startSpan('lost').end();
    await processor.forceFlush();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(warnings).toEqual([expect.stringMatching(/^1 span\(s\) were not exported: the collector could not be reached/)]);
  });

  it('a full queue drops new spans with a warning naming OTEL_BSP_MAX_QUEUE_SIZE; the queued ones still go', async () => {
    const { tracer: t, processor } = tracer({ batch: { maxQueueSize: 2, maxExportBatchSize: 2 } });
    fake.setFailure({ delayMs: 300, times: 1 });
    t.startSpan('a').end();
    t.startSpan('b').end(); // a full batch: its POST is now in flight for 300 ms
    t.startSpan('c').end();
    t.startSpan('d').end();
    t.startSpan('e').end(); // the queue holds c and d
    await processor.forceFlush();
    expect(fake.spans().map((span) => span.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(warnings).toEqual(['a span was dropped: 2 spans were already waiting (raise OTEL_BSP_MAX_QUEUE_SIZE)']);
  });

  it('shutdown sends what is queued', async () => {
    const { tracer: t } = tracer();
    t.startSpan('last').end();
    await providers[0].shutdown();
    providers.length = 0;
    expect(fake.spans().map((span) => span.name)).toEqual(['last']);
  });
});
