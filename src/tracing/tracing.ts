import type { RequestHandler } from 'express';
import type { Endpoint } from '../completions/providers/provider';

/**
 * What the rest of the gateway knows of its own tracing. Nothing here loads OpenTelemetry: with tracing off the
 * gateway gets `TracingOff`, installs no middleware, and the request path's only cost is the check of a request
 * property that is never set (`REQUEST_TRACE`). With an OTLP endpoint it gets `OtelTracing` (otel-tracing.ts,
 * loaded only then).
 */
export abstract class Tracing {
  /** Opens each request's server span; null when tracing is off (nothing to install). */
  abstract requestMiddleware(): RequestHandler | null;
  /** Spans of delivery batches the delivery thread measured (it has no exporter of its own). */
  abstract recordDeliveryBatches(batches: readonly DeliveryBatchSpan[]): void;
}

export class TracingOff extends Tracing {
  requestMiddleware(): null {
    return null;
  }
  recordDeliveryBatches(): void {
    // Off: the delivery thread records none.
  }
}

/** Where the request's trace hangs off the incoming request (set by the request middleware, only when tracing is on). */
export const REQUEST_TRACE = Symbol('gatehouse.requestTrace');

export interface RequestWithTrace {
  [REQUEST_TRACE]?: RequestTrace;
}

/** One request's trace: the parent of its upstream calls' spans. */
export interface RequestTrace {
  /** Opens the client span of one upstream attempt. */
  upstreamCall(call: UpstreamCallInfo): UpstreamSpan;
}

/** What an upstream span says about the call; never a body, key, header or URL path (a Gemini key is a query parameter). */
export interface UpstreamCallInfo {
  readonly endpoint: Endpoint;
  readonly stream: boolean;
  readonly deployment: {
    readonly modelName: string;
    readonly modelId: string;
    readonly providerLabel: string;
    readonly upstreamModel: string;
    readonly target: { readonly origin: string } | null;
  };
}

export interface UpstreamSpan {
  /** The request's headers plus `traceparent` (and `tracestate`) naming this span as the upstream's parent. */
  headers(requestHeaders: Readonly<Record<string, string>>): Record<string, string>;
  /** The upstream's HTTP status, once its answer's head arrived. */
  answered(status: number): void;
  /** The attempt failed, before or during the answer: `failure.code` is the gateway's reading (`timeout`, `upstream_error`, ...). */
  failed(failure: { readonly code: string }): void;
  /** The upstream's answer is over; later calls (and `failed` after it) do nothing. */
  end(): void;
}

/** One delivery batch, as the delivery thread measured it (epoch milliseconds); becomes a span on the main thread. */
export interface DeliveryBatchSpan {
  readonly kind: string;
  /** Whose entry: `config`, `team` or `key` (the entry's source). */
  readonly source: string;
  readonly events: number;
  readonly delivered: number;
  readonly retried: number;
  readonly deadLettered: number;
  /** `delivered`, `partial` (some events retried or dead-lettered), `failed` (none delivered). */
  readonly outcome: 'delivered' | 'partial' | 'failed';
  /** Why a batch failed, as a short code (`timeout`, `rejected`, `not_configured`, `blocked`, `error`); never the destination's text. */
  readonly errorType?: string;
  readonly startedAt: number;
  readonly endedAt: number;
}
