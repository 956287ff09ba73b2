import { Logger } from '@nestjs/common';
import { diag, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { OtelTracing } from './otel-tracing';
import { REQUEST_TRACE, type RequestTrace, type UpstreamCallInfo } from './tracing';
import type { TracingSettings } from './tracing-settings';

const SETTINGS: TracingSettings = {
  tracesUrl: 'http://127.0.0.1:9/v1/traces',
  protocol: 'http/protobuf',
  headers: {},
  serviceName: 'gatehouse-test',
  resourceAttributes: { 'deployment.environment': 'test' },
  sampler: 'parentbased_always_on',
  samplerRatio: 1,
  timeoutMs: 10_000,
  compression: 'none',
  tls: {},
  batch: { scheduledDelayMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512, exportTimeoutMs: 30_000 },
};

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

const DEPLOYMENT: UpstreamCallInfo['deployment'] = {
  modelName: 'gpt-4o',
  modelId: 'deployment-1',
  providerLabel: 'openai',
  upstreamModel: 'gpt-4o-2024-08-06',
  target: { origin: 'https://api.openai.com' },
};

interface FakeExchange {
  request: { method: string; headers: IncomingHttpHeaders; id?: string; route?: { path: string }; [REQUEST_TRACE]?: RequestTrace };
  response: EventEmitter & { statusCode: number; writableFinished: boolean; getHeader(name: string): unknown };
}

describe('OtelTracing', () => {
  let memory: InMemorySpanExporter;
  let tracing: OtelTracing;

  function start(settings: Partial<TracingSettings> = {}): void {
    memory = new InMemorySpanExporter();
    tracing = new OtelTracing({ ...SETTINGS, ...settings }, new SimpleSpanProcessor(memory));
  }

  beforeEach(() => start());
  afterEach(() => tracing.onApplicationShutdown());

  /** One request through the middleware: `during` runs while it is open (an upstream call), then the response closes. */
  function serve(headers: IncomingHttpHeaders, during: (trace: RequestTrace) => void = () => undefined, status = 200, finished = true): FakeExchange {
    const response = Object.assign(new EventEmitter(), {
      statusCode: 0,
      writableFinished: false,
      getHeader: (name: string) => (name === 'x-litellm-call-id' ? 'call-123' : undefined),
    });
    const exchange: FakeExchange = { request: { method: 'POST', headers, id: 'req-7' }, response };
    const middleware = tracing.requestMiddleware();
    let nextCalled = false;
    middleware(exchange.request as never, response as never, () => (nextCalled = true));
    expect(nextCalled).toBe(true);
    const trace = exchange.request[REQUEST_TRACE];
    expect(trace).toBeDefined();
    during(trace!);
    exchange.request.route = { path: '/v1/chat/completions' };
    response.statusCode = status;
    response.writableFinished = finished;
    response.emit('close');
    return exchange;
  }

  function upstream(trace: RequestTrace, requestHeaders: Record<string, string> = { authorization: 'Bearer sk-upstream' }): Record<string, string> {
    const span = trace.upstreamCall({ endpoint: 'chat', stream: true, deployment: DEPLOYMENT });
    const headers = span.headers(requestHeaders);
    span.answered(200);
    span.end();
    return headers;
  }

  const spans = (): ReadableSpan[] => memory.getFinishedSpans();
  const named = (name: string): ReadableSpan => {
    const span = spans().find((s) => s.name === name);
    if (!span) throw new Error(`no span ${name} among ${spans().map((s) => s.name).join(', ')}`);
    return span;
  };

  it("makes the request span a child of the caller's span, the upstream span its child, and names that one in the upstream's traceparent", () => {
    let sent: Record<string, string> = {};
    serve({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=abc' }, (trace) => (sent = upstream(trace)));

    const server = named('POST /v1/chat/completions');
    const client = named('chat gpt-4o-2024-08-06');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(CALLER_TRACE);
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(client.kind).toBe(SpanKind.CLIENT);
    expect(client.spanContext().traceId).toBe(CALLER_TRACE);
    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(sent).toEqual({ authorization: 'Bearer sk-upstream', traceparent: `00-${CALLER_TRACE}-${client.spanContext().spanId}-01`, tracestate: 'vendor=abc' });
  });

  it('records route, method, status and ids on the request span; provider, model, deployment and status on the upstream span; nothing else', () => {
    serve({ authorization: 'Bearer sk-caller-key', 'x-api-key': 'sk-other', cookie: 'session=1' }, (trace) => upstream(trace));
    expect(named('POST /v1/chat/completions').attributes).toEqual({
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'http.response.status_code': 200,
      'gatehouse.request_id': 'req-7',
      'gatehouse.call_id': 'call-123',
    });
    expect(named('chat gpt-4o-2024-08-06').attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-2024-08-06',
      'gatehouse.model_group': 'gpt-4o',
      'gatehouse.model_id': 'deployment-1',
      'gatehouse.stream': true,
      'http.response.status_code': 200,
      'server.address': 'api.openai.com',
      'server.port': 443,
    });
    expect(JSON.stringify(spans().map((s) => s.attributes))).not.toMatch(/sk-|session|Bearer/);
  });

  it('marks a 5xx request and a failed upstream attempt as errors, with the error code', () => {
    serve(
      {},
      (trace) => {
        const span = trace.upstreamCall({ endpoint: 'embeddings', stream: false, deployment: DEPLOYMENT });
        span.answered(503);
        span.failed({ code: 'upstream_unavailable' });
        span.end();
      },
      502,
    );
    expect(named('POST /v1/chat/completions').status.code).toBe(SpanStatusCode.ERROR);
    const client = named('embeddings gpt-4o-2024-08-06');
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes).toMatchObject({ 'error.type': 'upstream_unavailable', 'http.response.status_code': 503, 'gen_ai.operation.name': 'embeddings' });
  });

  it('says so when the client left before its answer was complete', () => {
    serve({}, () => undefined, 200, false);
    expect(named('POST /v1/chat/completions').attributes['gatehouse.client_disconnected']).toBe(true);
  });

  it.each([
    ['uppercase hex', `00-${CALLER_TRACE.toUpperCase()}-${CALLER_SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`],
    ['an all-zero parent id', `00-${CALLER_TRACE}-${'0'.repeat(16)}-01`],
    ['a short trace id', `00-${CALLER_TRACE.slice(1)}-${CALLER_SPAN}-01`],
    ['version ff', `ff-${CALLER_TRACE}-${CALLER_SPAN}-01`],
    ['version 00 with a fifth field', `00-${CALLER_TRACE}-${CALLER_SPAN}-01-extra`],
    ['two traceparent headers (joined by Node)', `00-${CALLER_TRACE}-${CALLER_SPAN}-01, 00-${CALLER_TRACE}-${CALLER_SPAN}-01`],
    ['garbage', 'hello'],
  ])('ignores a malformed traceparent (%s): the request starts a new trace, and its tracestate is dropped', (_name, traceparent) => {
    let sent: Record<string, string> = {};
    serve({ traceparent, tracestate: 'vendor=abc' }, (trace) => (sent = upstream(trace, {})));
    const server = named('POST /v1/chat/completions');
    expect(server.parentSpanContext).toBeUndefined();
    expect(server.spanContext().traceId).not.toBe(CALLER_TRACE);
    expect(sent).toEqual({ traceparent: `00-${server.spanContext().traceId}-${named('chat gpt-4o-2024-08-06').spanContext().spanId}-01` });
  });

  it("follows a caller that did not sample: nothing recorded, yet the upstream still gets the caller's trace id, unsampled", () => {
    let sent: Record<string, string> = {};
    serve({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-00` }, (trace) => (sent = upstream(trace, {})));
    expect(spans()).toEqual([]);
    expect(sent.traceparent).toMatch(new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-00$`));
    expect(sent.traceparent).not.toContain(CALLER_SPAN);
  });

  it('samples by trace id ratio: 0 records nothing, a sampled caller is still followed with parentbased_traceidratio', () => {
    start({ sampler: 'traceidratio', samplerRatio: 0 });
    serve({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` }, (trace) => upstream(trace));
    expect(spans()).toEqual([]);
    start({ sampler: 'parentbased_traceidratio', samplerRatio: 0 });
    serve({}, (trace) => upstream(trace));
    expect(spans()).toEqual([]);
    serve({ traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` }, (trace) => upstream(trace));
    expect(spans().map((s) => s.spanContext().traceId)).toEqual([CALLER_TRACE, CALLER_TRACE]);
  });

  it('makes each delivery batch a root span with its kind, counts and outcome, at the times the delivery thread measured', () => {
    tracing.recordDeliveryBatches([
      { kind: 'langfuse', source: 'team', events: 3, delivered: 3, retried: 0, deadLettered: 0, outcome: 'delivered', startedAt: 1_700_000_000_000, endedAt: 1_700_000_000_250 },
      { kind: 'otel', source: 'key', events: 2, delivered: 0, retried: 2, deadLettered: 0, outcome: 'failed', errorType: 'timeout', startedAt: 1_700_000_001_000, endedAt: 1_700_000_011_000 },
    ]);
    const [ok, failed] = spans();
    expect(ok.name).toBe('deliver langfuse');
    expect(ok.parentSpanContext).toBeUndefined();
    expect(ok.startTime).toEqual([1_700_000_000, 0]);
    expect(ok.endTime).toEqual([1_700_000_000, 250_000_000]);
    expect(ok.attributes).toEqual({
      'gatehouse.destination.kind': 'langfuse',
      'gatehouse.destination.source': 'team',
      'gatehouse.delivery.events': 3,
      'gatehouse.delivery.delivered': 3,
      'gatehouse.delivery.retried': 0,
      'gatehouse.delivery.dead_lettered': 0,
      'gatehouse.delivery.outcome': 'delivered',
    });
    expect(ok.status.code).toBe(SpanStatusCode.UNSET);
    expect(failed.attributes).toMatchObject({ 'gatehouse.delivery.outcome': 'failed', 'error.type': 'timeout', 'gatehouse.delivery.retried': 2 });
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.spanContext().traceId).not.toBe(ok.spanContext().traceId);
  });

  it("logs OpenTelemetry's errors (a failed export) as one readable line, then at most one per period", () => {
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const failure = JSON.stringify({ stack: 'Error: connect ECONNREFUSED 127.0.0.1:9\n    at TCPConnectWrap.afterConnect', message: 'connect ECONNREFUSED 127.0.0.1:9' });
      diag.error(failure);
      diag.error(failure);
      diag.debug('not shown');
      expect(errors.mock.calls).toEqual([["OpenTelemetry (the gateway's own spans): connect ECONNREFUSED 127.0.0.1:9"]]);
    } finally {
      errors.mockRestore();
    }
  });

  it('names the service and keeps the operator resource attributes', () => {
    serve({});
    expect(spans()[0].resource.attributes).toMatchObject({ 'service.name': 'gatehouse-test', 'deployment.environment': 'test', 'telemetry.sdk.language': 'nodejs' });
  });
});
