import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { CachePlan } from '../cache/response-cache.service';
import type { Principal } from '../keys/principal';
import { CALL_RECORD, type PendingCallRecord, type RecordListener, type RequestWithCallRecord } from '../logging/request/call-record';
import type { StandardLoggingPayload } from '../logging/standard-logging-payload';
import { REQUEST_TRACE, type RequestTrace, type RequestWithTrace } from '../tracing/tracing';
import {
  buildStandardLoggingPayload,
  callFailure,
  callUsage,
  CLIENT_DISCONNECTED,
  type CallFailure,
  type CallUsage,
  type CallSnapshot,
  type CallType,
  type Outcome,
  type RecordedStream,
} from './call-payload';
import type { CompiledDeployment } from './deployment-table';
import type { RequestBody } from './request-body';
import type { RequestTimeouts } from './router/request-routing';
import type { RoutingRecord } from './router/routing-record';

/** What the tracker needs from the incoming request; express's Request satisfies it. */
export interface TrackedRequest extends RequestWithCallRecord, RequestWithTrace {
  readonly headers: IncomingHttpHeaders;
  readonly ip?: string;
  readonly socket: { readonly remoteAddress?: string };
  readonly principal?: Principal;
}

/**
 * Abort signal for the upstream request. undici accepts any EventEmitter with `aborted`/`abort`, which is
 * much cheaper to create per request than an AbortController and its EventTarget.
 */
export class UpstreamAbort extends EventEmitter {
  aborted = false;
  reason: Error | undefined;

  abort(reason: Error): void {
    if (!this.aborted) {
      this.aborted = true;
      this.reason = reason;
      this.emit('abort');
    }
  }
}

/** Thrown inside the service when the client has left: nothing is answered, the record says "disconnected". */
export const CLIENT_GONE = new Error(CLIENT_DISCONNECTED);

/**
 * The one owner of a call's record. The service tells it what it decided (body, stream, deployment, cache plan)
 * and how the call ended — answered, streamed, served from the cache, failed — and never touches the outcome
 * itself; the tracker knows when the client left. The request path only stores references here. Once the
 * response has closed the tracker, handed over as `request[CALL_RECORD]`, offers a builder of the record: it
 * only runs when the caller logs somewhere, so a key that logs nowhere pays nothing for it.
 */
export class CallTracker implements PendingCallRecord {
  readonly callId = randomUUID();
  readonly upstreamAbort = new UpstreamAbort();

  body: RequestBody | null = null;
  stream = false;
  deployment: CompiledDeployment | null = null;
  /** What the response cache decided for this call; null when caching is off for the caller. */
  cachePlan: CachePlan | null = null;
  /** The router's failed attempts, retries and fallbacks; null while the first attempt has not failed. */
  routing: RoutingRecord | null = null;
  /** The caller's own timeouts for this call (router/request-routing.ts); null: the deployment's. */
  timeouts: RequestTimeouts | null = null;

  private readonly startedAt = Date.now();
  private readonly startedPerf = performance.now();
  private overheadMs: number | null = null;
  /** performance.now() of the last upstream dispatch (the attempt that answered, when one did); 0 before any. */
  private dispatchedPerf = 0;
  private endedPerf = 0;
  /** Epoch ms of the complete answer (streams: of their first token, kept by the relay). */
  private firstTokenAt = 0;
  private cacheHit = false;
  private outcome: Outcome = { kind: 'pending' };
  private closed = false;
  private endedAt = 0;
  private disconnected = false;
  private listeners: RecordListener[] | null = null;
  private built: StandardLoggingPayload | null = null;
  private measured: CallUsage | null = null;

  constructor(
    private readonly req: TrackedRequest,
    private readonly res: ServerResponse,
    private readonly callType: CallType,
    private readonly route: string,
  ) {
    req[CALL_RECORD] = this;
    res.setHeader('x-litellm-call-id', this.callId);
    res.once('close', this.onClose);
  }

  /** The caller, as the guard identified it. */
  get principal(): Principal | undefined {
    return this.req.principal;
  }

  /** The response, for headers set before the answer starts (rate-limit state). */
  get response(): ServerResponse {
    return this.res;
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  /** The request's trace when tracing is on (the parent of the upstream calls' spans); undefined when off. */
  get trace(): RequestTrace | undefined {
    return this.req[REQUEST_TRACE];
  }

  /** True once the client is gone before the response finished; writing further is pointless. */
  get clientGone(): boolean {
    return this.closed && !this.res.writableFinished;
  }

  /** Marks the moment the upstream request leaves, so the record can tell the gateway's own overhead. */
  dispatched(): void {
    const now = performance.now();
    this.dispatchedPerf = now;
    if (this.overheadMs === null) {
      this.overheadMs = now - this.startedPerf;
    }
  }

  /** A complete answer, kept as the bytes that went out; the record parses them after the response is sent. */
  answeredWithBytes(bytes: Buffer): void {
    this.firstTokenAt = Date.now();
    this.outcome = { kind: 'bytes', bytes };
  }

  /** A complete answer the gateway made itself (the offline provider). */
  answeredWithObject(value: unknown): void {
    this.firstTokenAt = Date.now();
    this.outcome = { kind: 'object', value };
  }

  /**
   * The stream's headers went out; from here on failures travel inside the stream. `relay` holds the events
   * as they pass; without one (the offline provider) `value` is the whole answer.
   */
  streamStarted(relay: RecordedStream | null, value: unknown = null): void {
    if (relay === null) {
      this.firstTokenAt = Date.now();
    }
    this.outcome = { kind: 'stream', relay, value, completed: false, error: null };
  }

  /** The stream ended: completely (null), with an upstream failure, or with CLIENT_GONE. */
  streamEnded(error: Error | null): void {
    if (this.outcome.kind === 'stream') {
      this.outcome.completed = error === null;
      this.outcome.error = error;
    }
  }

  /** Answered from the response cache: as a replayed stream of `events`, or as the cached JSON `bytes`. */
  answeredFromCache(answer: { readonly events: readonly string[] } | { readonly bytes: Buffer }): void {
    this.cacheHit = true;
    this.dispatched();
    if ('events' in answer) {
      this.firstTokenAt = Date.now();
      this.streamStarted({ dataEvents: answer.events, firstTokenAt: this.firstTokenAt });
      this.streamEnded(null);
    } else {
      this.answeredWithBytes(answer.bytes);
    }
  }

  /**
   * Records a failure (inside a started stream, its end). Returns the error for the caller's answer, or null
   * when there is nobody left to answer.
   */
  failed(error: unknown): Error | null {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.outcome.kind === 'stream') {
      this.streamEnded(err);
    } else {
      this.outcome = { kind: 'failure', error: err };
    }
    return err === CLIENT_GONE || this.clientGone ? null : err;
  }

  whenSettled(listener: RecordListener): void {
    if (this.closed) {
      listener(() => this.build());
    } else if (this.listeners === null) {
      this.listeners = [listener];
    } else {
      this.listeners.push(listener);
    }
  }

  /** The record once the call is over (tests and tools; the logging path uses `whenSettled`). */
  get done(): Promise<StandardLoggingPayload> {
    return new Promise((resolve) => this.whenSettled((build) => resolve(build())));
  }

  private readonly onClose = (): void => {
    this.closed = true;
    this.endedAt = Date.now();
    this.endedPerf = performance.now();
    this.disconnected = !this.res.writableFinished;
    if (this.disconnected) {
      this.upstreamAbort.abort(new Error(CLIENT_DISCONNECTED));
    }
    const listeners = this.listeners;
    if (listeners !== null) {
      this.listeners = null;
      const build = () => this.build();
      for (const listener of listeners) listener(build);
    }
  };

  /** Tokens and cost of the call, for spend and rate limits: from the record when it was built, else read alone. */
  usage(): CallUsage {
    if (this.built !== null) return this.built;
    this.measured ??= callUsage(this.snapshot());
    return this.measured;
  }

  /** Whether the call failed and how (null: answered), as its record would say; read without building the record. */
  failure(): CallFailure | null {
    return callFailure(this.outcome, this.disconnected, this.res.statusCode);
  }

  get fromCache(): boolean {
    return this.cacheHit;
  }

  /** Seconds from the request's arrival to the response's end (valid once settled). */
  get requestSeconds(): number {
    return (this.endedPerf - this.startedPerf) / 1000;
  }

  /** Seconds from the last upstream dispatch to the response's end; -1 when nothing was dispatched. */
  get upstreamSeconds(): number {
    return this.dispatchedPerf === 0 ? -1 : (this.endedPerf - this.dispatchedPerf) / 1000;
  }

  /** A stream's seconds from the last upstream dispatch to its first token; -1 for other calls or without a token. */
  get firstTokenSeconds(): number {
    const relay = this.outcome.kind === 'stream' ? this.outcome.relay : null;
    const firstTokenAt = this.firstTokenAt || (relay?.firstTokenAt ?? 0);
    if (!this.stream || this.dispatchedPerf === 0 || firstTokenAt === 0) return -1;
    // The relay stamps its first token with Date.now(): the dispatch is put on the same clock.
    const dispatchedAt = this.startedAt + (this.dispatchedPerf - this.startedPerf);
    return Math.max(0, firstTokenAt - dispatchedAt) / 1000;
  }

  /** Builds the record once (later calls return the same object). Only valid after the response closed. */
  private build(): StandardLoggingPayload {
    if (this.built !== null) {
      return this.built;
    }
    const snapshot = this.snapshot();
    try {
      this.built = buildStandardLoggingPayload(snapshot);
    } catch (error) {
      // A record must always come out, even if some odd upstream body broke the builder.
      this.built = buildStandardLoggingPayload({
        ...snapshot,
        outcome: { kind: 'failure', error: error instanceof Error ? error : new Error(String(error)) },
      });
    }
    return this.built;
  }

  private snapshot(): CallSnapshot {
    return {
      callId: this.callId,
      callType: this.callType,
      route: this.route,
      stream: this.stream,
      body: this.body,
      deployment: this.deployment,
      routing: this.routing,
      principal: this.req.principal ?? null,
      headers: this.req.headers,
      ip: this.req.ip ?? this.req.socket.remoteAddress ?? null,
      startedAt: this.startedAt,
      firstTokenAt:
        this.firstTokenAt || (this.outcome.kind === 'stream' && this.outcome.relay ? this.outcome.relay.firstTokenAt : 0),
      endedAt: this.endedAt,
      overheadMs: this.overheadMs,
      outcome: this.outcome,
      cacheHit: this.cacheHit,
      cacheKey: this.cachePlan?.key ?? null,
      clientDisconnected: this.disconnected,
      responseStatus: this.res.statusCode,
    };
  }
}
