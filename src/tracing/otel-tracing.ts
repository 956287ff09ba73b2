import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  defaultTextMapGetter,
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type DiagLogger,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { NextFunction, Request, Response } from 'express';
import type { RequestWithId } from '../common/request-context';
import { REQUEST_TRACE, Tracing, type DeliveryBatchSpan, type RequestTrace, type RequestWithTrace, type UpstreamCallInfo, type UpstreamSpan } from './tracing';
import { OtlpSender } from './otlp-sender';
import { keyValuesOf, OtlpSpanProcessor } from './otlp-span-processor';
import { describeEndpoint, type TracingSettings } from './tracing-settings';

const SCOPE = 'gatehouse';
const CALL_ID_HEADER = 'x-litellm-call-id';
/** How long SIGTERM waits for the last spans to reach the collector. */
const SHUTDOWN_FLUSH_MS = 5_000;
/** At most one line per this period about export problems: a collector that is down would otherwise fill the log. */
const DIAG_LOG_INTERVAL_MS = 30_000;

const OPERATION_OF_ENDPOINT: Record<UpstreamCallInfo['endpoint'], string> = { chat: 'chat', completions: 'text_completion', embeddings: 'embeddings' };

/**
 * The gateway's own traces, recorded with OpenTelemetry's tracer and sampler and sent over OTLP/HTTP by our span
 * processor (otlp-span-processor.ts; all loaded only when an endpoint is set).
 * Manual instrumentation without a context manager: each request's span hangs off the request object and is the
 * explicit parent of its upstream calls' spans, so nothing is stored in async context. Per request: one server
 * span (method, route, status, request and call ids), one client span per upstream attempt (provider, model,
 * deployment, upstream status), and the upstream request carries `traceparent` (and the caller's `tracestate`)
 * naming that client span. A caller's `traceparent` is parsed by OpenTelemetry's W3C propagator: a malformed one is
 * ignored and the request starts a new trace. Spans never carry bodies, keys, headers or URL paths and queries.
 */
export class OtelTracing extends Tracing implements OnApplicationShutdown {
  private readonly logger = new Logger('Tracing');
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();
  /** Per deployment and endpoint: the client span's fixed attributes, computed once. */
  private readonly upstreamAttributes = new WeakMap<UpstreamCallInfo['deployment'], Map<string, { name: string; attributes: Attributes }>>();

  constructor(
    settings: TracingSettings,
    /** Tests pass an in-memory processor; otherwise spans are batched and sent to the configured collector. */
    spanProcessor?: SpanProcessor,
  ) {
    super();
    const resource = defaultResource().merge(resourceFromAttributes({ ...settings.resourceAttributes, 'service.name': settings.serviceName }));
    // The processor's warnings go through OpenTelemetry's diag logger, like the SDK's own: one throttled path.
    const processor =
      spanProcessor ?? new OtlpSpanProcessor(keyValuesOf(resource.attributes), { name: SCOPE }, new OtlpSender(settings), settings.batch, settings.protocol === 'http/protobuf', (message) => diag.warn(message));
    this.provider = new BasicTracerProvider({ resource, sampler: samplerOf(settings), spanProcessors: [processor] });
    this.tracer = this.provider.getTracer(SCOPE);
    diag.setLogger(throttled(this.logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  }

  /** For the start-up line: where spans go and how they are sampled (never the headers). */
  static describe(settings: TracingSettings): string {
    const ratio = settings.sampler.endsWith('traceidratio') ? ` ${settings.samplerRatio}` : '';
    return `tracing on: spans go to ${describeEndpoint(settings.tracesUrl)} (${settings.protocol}, service ${settings.serviceName}, sampler ${settings.sampler}${ratio})`;
  }

  requestMiddleware() {
    return (request: Request & RequestWithId & RequestWithTrace, response: Response, next: NextFunction): void => {
      const method = request.method;
      // A caller's valid traceparent makes this request's span its child; anything else starts a new trace.
      const parent = this.propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
      const span = this.tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } }, parent);
      request[REQUEST_TRACE] = new OtelRequestTrace(this, span);
      response.once('close', () => {
        // The matched route's pattern (never the raw path, which can hold ids; never the query, which can hold keys).
        const route = (request.route as { path?: unknown } | undefined)?.path;
        const status = response.statusCode;
        const attributes: Attributes = { 'http.response.status_code': status };
        if (!response.writableFinished) attributes['gatehouse.client_disconnected'] = true;
        if (typeof route === 'string') {
          attributes['http.route'] = route;
          span.updateName(`${method} ${route}`);
        }
        if (request.id !== undefined) attributes['gatehouse.request_id'] = request.id;
        const callId = response.getHeader(CALL_ID_HEADER);
        if (typeof callId === 'string') attributes['gatehouse.call_id'] = callId;
        span.setAttributes(attributes);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
      next();
    };
  }

  /** A client span for one upstream attempt, child of the request's span. */
  startUpstreamSpan(parent: Context, call: UpstreamCallInfo): Span {
    const fixed = this.fixedUpstreamAttributes(call);
    const span = this.tracer.startSpan(fixed.name, { kind: SpanKind.CLIENT, attributes: fixed.attributes }, parent);
    if (call.stream) span.setAttribute('gatehouse.stream', true);
    return span;
  }

  /**
   * `headers` plus the W3C headers that name `span` as the receiver's parent: `traceparent` (version 00) and the
   * trace's `tracestate`, as W3CTraceContextPropagator.inject writes them, without the context it would need.
   */
  propagationHeaders(span: Span, headers: Readonly<Record<string, string>>): Record<string, string> {
    const { traceId, spanId, traceFlags, traceState } = span.spanContext();
    const out: Record<string, string> = { ...headers, traceparent: `00-${traceId}-${spanId}-${traceFlags & TraceFlags.SAMPLED ? '01' : '00'}` };
    if (traceState !== undefined) out.tracestate = traceState.serialize();
    return out;
  }

  recordDeliveryBatches(batches: readonly DeliveryBatchSpan[]): void {
    for (const batch of batches) {
      const attributes: Attributes = {
        'gatehouse.destination.kind': batch.kind,
        'gatehouse.destination.source': batch.source,
        'gatehouse.delivery.events': batch.events,
        'gatehouse.delivery.delivered': batch.delivered,
        'gatehouse.delivery.retried': batch.retried,
        'gatehouse.delivery.dead_lettered': batch.deadLettered,
        'gatehouse.delivery.outcome': batch.outcome,
      };
      if (batch.errorType !== undefined) attributes['error.type'] = batch.errorType;
      // A batch serves many requests: it is a trace of its own.
      const span = this.tracer.startSpan(`deliver ${batch.kind}`, { kind: SpanKind.CLIENT, attributes, startTime: batch.startedAt, root: true }, ROOT_CONTEXT);
      if (batch.outcome !== 'delivered') span.setStatus({ code: SpanStatusCode.ERROR });
      span.end(batch.endedAt);
    }
  }

  /** After the delivery thread's last report (its hook runs before this one): the spans still queued are exported. */
  async onApplicationShutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), SHUTDOWN_FLUSH_MS)));
    const outcome = await Promise.race([this.provider.shutdown().then(() => 'flushed' as const), timeout]).catch((error: Error) => error);
    clearTimeout(timer);
    if (outcome === 'timeout') this.logger.warn(`the last spans were not exported within ${SHUTDOWN_FLUSH_MS} ms`);
    else if (outcome instanceof Error) this.logger.warn(`the last spans could not be exported: ${outcome.message}`);
    diag.disable();
  }

  private fixedUpstreamAttributes(call: UpstreamCallInfo): { name: string; attributes: Attributes } {
    let byEndpoint = this.upstreamAttributes.get(call.deployment);
    if (byEndpoint === undefined) this.upstreamAttributes.set(call.deployment, (byEndpoint = new Map<string, { name: string; attributes: Attributes }>()));
    let fixed = byEndpoint.get(call.endpoint);
    if (fixed === undefined) {
      const { deployment } = call;
      const operation = OPERATION_OF_ENDPOINT[call.endpoint];
      const attributes: Attributes = {
        'gen_ai.operation.name': operation,
        'gen_ai.provider.name': deployment.providerLabel,
        'gen_ai.request.model': deployment.upstreamModel,
        'gatehouse.model_group': deployment.modelName,
        'gatehouse.model_id': deployment.modelId,
      };
      if (deployment.target !== null) {
        // The origin only: a path or query can carry a credential (Gemini's key is a query parameter).
        const origin = new URL(deployment.target.origin);
        attributes['server.address'] = origin.hostname;
        attributes['server.port'] = Number(origin.port || (origin.protocol === 'https:' ? 443 : 80));
      }
      fixed = { name: `${operation} ${deployment.upstreamModel}`, attributes };
      byEndpoint.set(call.endpoint, fixed);
    }
    return fixed;
  }
}

/** A request's span, and the parent context its upstream spans are opened in (made when the first one is). */
class OtelRequestTrace implements RequestTrace {
  private parent: Context | null = null;

  constructor(
    private readonly tracing: OtelTracing,
    private readonly span: Span,
  ) {}

  upstreamCall(call: UpstreamCallInfo): UpstreamSpan {
    this.parent ??= trace.setSpan(ROOT_CONTEXT, this.span);
    return new OtelUpstreamSpan(this.tracing, this.tracing.startUpstreamSpan(this.parent, call));
  }
}

class OtelUpstreamSpan implements UpstreamSpan {
  private ended = false;

  constructor(
    private readonly tracing: OtelTracing,
    private readonly span: Span,
  ) {}

  headers(requestHeaders: Readonly<Record<string, string>>): Record<string, string> {
    return this.tracing.propagationHeaders(this.span, requestHeaders);
  }

  answered(status: number): void {
    this.span.setAttribute('http.response.status_code', status);
  }

  failed(failure: { readonly code: string }): void {
    if (this.ended) return;
    this.span.setAttribute('error.type', failure.code);
    this.span.setStatus({ code: SpanStatusCode.ERROR });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
}

function samplerOf(settings: TracingSettings): Sampler {
  switch (settings.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(settings.samplerRatio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.samplerRatio) });
  }
}

/** A failed export reaches the diag logger as the error serialised to JSON, stack and all: its message is enough. */
function readable(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : message;
  } catch {
    return message;
  }
}

/** OpenTelemetry's own warnings and errors (a failed export, dropped spans) as log lines, at most one per period. */
function throttled(logger: Logger): DiagLogger {
  let lastAt = 0;
  let suppressed = 0;
  const write = (level: 'warn' | 'error') => (message: string, ...args: unknown[]) => {
    const now = Date.now();
    if (now - lastAt < DIAG_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    lastAt = now;
    const more = suppressed > 0 ? ` (${suppressed} similar message(s) suppressed)` : '';
    suppressed = 0;
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : '')).filter((text) => text !== '');
    logger[level](`OpenTelemetry (the gateway's own spans): ${[readable(message), ...detail].join(' ')}${more}`);
  };
  const ignore = (): void => undefined;
  return { error: write('error'), warn: write('warn'), info: ignore, debug: ignore, verbose: ignore };
}
