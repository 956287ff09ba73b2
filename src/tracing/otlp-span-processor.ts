import { TraceFlags, type Attributes, type AttributeValue, type HrTime } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { encodeSpanEnvelope, encodeSpanField, type JsonKeyValue, type JsonSpan, type UnixNanos } from '../common/otlp-protobuf';
import type { OtlpSender } from './otlp-sender';
import type { SpanBatchSettings } from './tracing-settings';

/**
 * Batches the gateway's spans for OTLP/HTTP, in place of OpenTelemetry's BatchSpanProcessor and exporters, with the
 * same OTEL_BSP_* settings and the same dropping policy (a full queue drops new spans, counted in a warning). The
 * difference is when the work happens: each span is encoded when it ends (protobuf bytes, or its JSON text), so a
 * batch waiting for its POST holds one small buffer per span instead of the span's object graph, and the POST only
 * joins them. Measured against the SDK's processor and exporters in one run by bench/tracing-cost.js (README,
 * "Dependencies chosen and why"). One resource and one scope per processor: the gateway has one tracer.
 */
export class OtlpSpanProcessor implements SpanProcessor {
  private queue: (Buffer | string)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  /** Set by the timer and by flushes: send what is queued even if it is less than a full batch. */
  private sendPartial = false;
  private readonly resourceJson: string;

  constructor(
    private readonly resource: readonly JsonKeyValue[],
    private readonly scope: { readonly name: string },
    private readonly sender: OtlpSender,
    private readonly batch: SpanBatchSettings,
    private readonly protobuf: boolean,
    /** Lines about dropped spans and failed batches (the caller throttles them). */
    private readonly warn: (message: string) => void,
  ) {
    this.resourceJson = JSON.stringify({ attributes: resource });
  }

  onStart(): void {
    // Spans are read when they end.
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queue.length >= this.batch.maxQueueSize) {
      this.warn(`a span was dropped: ${this.batch.maxQueueSize} spans were already waiting (raise OTEL_BSP_MAX_QUEUE_SIZE)`);
      return;
    }
    this.queue.push(this.protobuf ? encodeSpanField(jsonSpanOf(span, span.startTime, span.endTime)) : JSON.stringify(jsonSpanOf(span, nanosOf(span.startTime), nanosOf(span.endTime))));
    if (this.queue.length >= this.batch.maxExportBatchSize) this.kick(false);
    else this.schedule();
  }

  /** Sends everything queued now (and what arrives meanwhile) and resolves when it has been sent or given up. */
  async forceFlush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.kick(true);
    await this.sending;
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    await this.sender.close();
  }

  private schedule(): void {
    if (this.timer !== null || this.sending !== null || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick(true);
    }, this.batch.scheduledDelayMs);
    this.timer.unref();
  }

  /** One batch at a time, in the order the spans ended. */
  private kick(partial: boolean): void {
    if (partial) this.sendPartial = true;
    this.sending ??= this.drain().finally(() => {
      this.sending = null;
      this.schedule();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length >= this.batch.maxExportBatchSize || (this.sendPartial && this.queue.length > 0)) {
      const spans = this.queue.splice(0, this.batch.maxExportBatchSize);
      if (this.queue.length === 0) this.sendPartial = false;
      const outcome = await this.sender.send(this.body(spans), this.batch.exportTimeoutMs);
      if (!outcome.ok) this.warn(`${spans.length} span(s) were not exported: ${outcome.reason}`);
    }
    this.sendPartial = false;
  }

  private body(spans: (Buffer | string)[]): Buffer | string {
    if (this.protobuf) return encodeSpanEnvelope(this.resource, this.scope, spans as Buffer[]);
    return `{"resourceSpans":[{"resource":${this.resourceJson},"scopeSpans":[{"scope":${JSON.stringify(this.scope)},"spans":[${spans.join(',')}]}]}]}`;
  }
}

/** A span in OTLP/JSON's shape (what both encodings start from); the protobuf encoder takes the times as they are. */
function jsonSpanOf(span: ReadableSpan, startTimeUnixNano: UnixNanos, endTimeUnixNano: UnixNanos): JsonSpan {
  const context = span.spanContext();
  const json: JsonSpan = {
    traceId: context.traceId,
    spanId: context.spanId,
    name: span.name,
    // OTLP's SpanKind counts from UNSPECIFIED = 0; the API's from INTERNAL = 0.
    kind: span.kind + 1,
    startTimeUnixNano,
    endTimeUnixNano,
    attributes: keyValuesOf(span.attributes),
    status: span.status,
  };
  const traceState = context.traceState?.serialize();
  if (traceState) json.traceState = traceState;
  if (span.parentSpanContext !== undefined) json.parentSpanId = span.parentSpanContext.spanId;
  return json;
}

/** Exact nanoseconds as OTLP/JSON writes them: a string, since they exceed 2^53. */
function nanosOf([seconds, nanos]: HrTime): string {
  return seconds === 0 ? String(nanos) : `${seconds}${String(nanos).padStart(9, '0')}`;
}

export function keyValuesOf(attributes: Attributes): JsonKeyValue[] {
  const out: JsonKeyValue[] = [];
  for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out.push({ key, value: anyValueOf(value) });
  }
  return out;
}

function anyValueOf(value: AttributeValue | null | undefined): JsonKeyValue['value'] {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: (value as (string | number | boolean | null | undefined)[]).map(anyValueOf) } };
  return {};
}
