import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { CALL_RECORD, type PendingCallRecord, type RecordListener, type RequestWithCallRecord } from '../logging/request/call-record';
import type { ErrorInformation, StandardLoggingPayload } from '../logging/standard-logging-payload';
import type { CachePlan } from '../cache/response-cache.service';
import type { CompiledDeployment } from './deployment-table';
import { messageText } from './mock-provider';
import { modelParameters, requesterMetadata, requestTags, type RequestBody } from './request-body';
import { assembleStream } from './stream-assembler';
import { computeCost, estimateTokens, NO_USAGE, readUsage, type TokenUsage } from './usage';

export type CallType = StandardLoggingPayload['call_type'];

/** What the tracker needs from the incoming request; express's Request satisfies it. */
export interface TrackedRequest extends RequestWithCallRecord {
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

export const CLIENT_DISCONNECTED = 'client_disconnected';

/** What the record needs of a stream: its `data` payloads in order. A live SseRelay or a replayed cache entry. */
export interface RecordedStream {
  readonly dataEvents: readonly string[];
  /** Epoch ms of the first event carrying a choice; 0 until then. */
  readonly firstTokenAt: number;
}

type Outcome =
  | { kind: 'pending' }
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'object'; value: unknown }
  | { kind: 'stream'; relay: RecordedStream | null; value: unknown; completed: boolean; error: Error | null }
  | { kind: 'failure'; error: Error };

/**
 * Per-request state for one LLM call. The request path only stores references here. Once the response has
 * closed (sent, or the client went away) the tracker, handed over as `request[CALL_RECORD]`, offers a builder
 * of the record: it only runs when the caller logs somewhere, so a key that logs nowhere pays nothing for it.
 */
export class CallTracker implements PendingCallRecord {
  readonly callId = randomUUID();
  readonly upstreamAbort = new UpstreamAbort();

  body: RequestBody | null = null;
  stream = false;
  deployment: CompiledDeployment | null = null;
  /** Epoch ms of the first token (streams) or of the complete upstream answer. */
  firstTokenAt = 0;
  /** What the response cache decided for this call; null when caching is off for the caller. */
  cachePlan: CachePlan | null = null;
  /** The answer came from the response cache: no upstream call, no cost. */
  cacheHit = false;

  private readonly startedAt = Date.now();
  private readonly startedPerf = performance.now();
  private overheadMs: number | null = null;
  private outcome: Outcome = { kind: 'pending' };
  private closed = false;
  private endedAt = 0;
  private disconnected = false;
  private listeners: RecordListener[] | null = null;
  private built: StandardLoggingPayload | null = null;

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

  /** True once the client is gone before the response finished; writing further is pointless. */
  get clientGone(): boolean {
    return this.closed && !this.res.writableFinished;
  }

  /** Marks the moment the upstream request leaves, so the record can tell the gateway's own overhead. */
  dispatched(): void {
    if (this.overheadMs === null) {
      this.overheadMs = performance.now() - this.startedPerf;
    }
  }

  succeededWithBytes(bytes: Buffer): void {
    this.outcome = { kind: 'bytes', bytes };
  }

  succeededWithObject(value: unknown): void {
    this.outcome = { kind: 'object', value };
  }

  /** The stream's headers went out; from here on failures travel inside the stream. */
  streamStarted(relay: RecordedStream | null, value: unknown = null): void {
    this.outcome = { kind: 'stream', relay, value, completed: false, error: null };
  }

  streamEnded(error: Error | null): void {
    if (this.outcome.kind === 'stream') {
      this.outcome.completed = error === null;
      this.outcome.error = error;
    }
  }

  failed(error: Error): void {
    if (this.outcome.kind === 'stream') {
      this.streamEnded(error);
    } else {
      this.outcome = { kind: 'failure', error };
    }
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

  /** Builds the record once (later calls return the same object). Only valid after the response closed. */
  private build(): StandardLoggingPayload {
    if (this.built !== null) {
      return this.built;
    }
    const snapshot = this.snapshot(this.endedAt, this.disconnected);
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

  private snapshot(endedAt: number, disconnected: boolean): CallSnapshot {
    return {
      callId: this.callId,
      callType: this.callType,
      route: this.route,
      stream: this.stream,
      body: this.body,
      deployment: this.deployment,
      principal: this.req.principal ?? null,
      headers: this.req.headers,
      ip: this.req.ip ?? this.req.socket.remoteAddress ?? null,
      startedAt: this.startedAt,
      firstTokenAt:
        this.firstTokenAt || (this.outcome.kind === 'stream' && this.outcome.relay ? this.outcome.relay.firstTokenAt : 0),
      endedAt,
      overheadMs: this.overheadMs,
      outcome: this.outcome,
      cacheHit: this.cacheHit,
      cacheKey: this.cachePlan?.key ?? null,
      clientDisconnected: disconnected,
      responseStatus: this.res.statusCode,
    };
  }
}

export interface CallSnapshot {
  readonly callId: string;
  readonly callType: CallType;
  readonly route: string;
  readonly stream: boolean;
  readonly body: RequestBody | null;
  readonly deployment: CompiledDeployment | null;
  readonly principal: Principal | null;
  readonly headers: IncomingHttpHeaders;
  readonly ip: string | null;
  readonly startedAt: number;
  readonly firstTokenAt: number;
  readonly endedAt: number;
  readonly overheadMs: number | null;
  readonly outcome: Outcome;
  /** Absent in snapshots built before caching existed (tests): no hit, no key. */
  readonly cacheHit?: boolean;
  readonly cacheKey?: string | null;
  readonly clientDisconnected: boolean;
  readonly responseStatus: number;
}

interface ResolvedOutcome {
  success: boolean;
  response: unknown;
  usage: TokenUsage | null;
  error: ErrorInformation | null;
  errorStr: string | null;
}

export function buildStandardLoggingPayload(s: CallSnapshot): StandardLoggingPayload {
  const d = s.deployment;
  const body = s.body;
  const provider = d?.providerLabel ?? '';
  const outcome = resolveOutcome(s, provider);
  const usage = outcome.usage ?? NO_USAGE;
  // A cache hit called no upstream, so it cost nothing (LiteLLM logs hits with zero cost too).
  const cost = d && !s.cacheHit ? computeCost(usage, d) : { input_cost: 0, output_cost: 0, total_cost: 0 };
  const requester = requesterMetadata(body);
  const endUser = typeof body?.user === 'string' ? body.user : null;
  const p = s.principal;
  const responseId = responseIdOf(outcome.response);
  const headerTrace = s.headers['x-litellm-trace-id'];
  const traceId =
    typeof requester.trace_id === 'string' && requester.trace_id !== ''
      ? requester.trace_id
      : typeof headerTrace === 'string' && headerTrace !== ''
        ? headerTrace
        : s.callId;
  const userAgent = s.headers['user-agent'];

  return {
    id: responseId ?? s.callId,
    trace_id: traceId,
    litellm_call_id: s.callId,
    call_type: s.callType,
    stream: s.stream,
    status: outcome.success ? 'success' : 'failure',
    custom_llm_provider: provider,
    model: d?.upstreamModel ?? (typeof body?.model === 'string' ? body.model : ''),
    model_group: typeof body?.model === 'string' ? body.model : '',
    model_id: d?.modelId ?? null,
    api_base: d?.apiBaseForLog ?? null,
    response_cost: cost.total_cost,
    cost_breakdown: cost,
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
    startTime: s.startedAt / 1000,
    endTime: s.endedAt / 1000,
    completionStartTime: (s.firstTokenAt || s.endedAt) / 1000,
    response_time: (s.endedAt - s.startedAt) / 1000,
    metadata: {
      user_api_key_hash: p?.keyHash ?? null,
      user_api_key_alias: p?.keyAlias ?? null,
      user_api_key_team_id: p?.teamId ?? null,
      user_api_key_team_alias: p?.teamAlias ?? null,
      user_api_key_end_user_id: endUser,
      user_api_key_request_route: s.route,
      requester_metadata: requester,
      team_id: p?.teamId ?? null,
      team_alias: p?.teamAlias ?? null,
    },
    cache_hit: s.cacheHit === true,
    cache_key: s.cacheKey ?? null,
    request_tags: requestTags(requester),
    end_user: endUser,
    requester_ip_address: s.ip,
    user_agent: typeof userAgent === 'string' ? userAgent : null,
    messages: body ? (s.callType === 'aembedding' ? (body.input ?? null) : (body.messages ?? null)) : null,
    response: outcome.response,
    model_parameters: body ? modelParameters(body) : {},
    error_str: outcome.errorStr,
    error_information: outcome.error,
    hidden_params: {
      model_id: d?.modelId ?? null,
      api_base: d?.apiBaseForLog ?? null,
      response_cost: cost.total_cost,
      litellm_overhead_time_ms: s.overheadMs === null ? null : Math.round(s.overheadMs * 1000) / 1000,
    },
  };
}

function resolveOutcome(s: CallSnapshot, provider: string): ResolvedOutcome {
  const o = s.outcome;
  switch (o.kind) {
    case 'bytes': {
      const response = parseResponse(o.bytes, s.callType);
      const usage = readUsage((response as { usage?: unknown } | null)?.usage);
      if (s.clientDisconnected) {
        return { ...disconnectedFailure(provider), response, usage };
      }
      return { success: true, response, usage, error: null, errorStr: null };
    }
    case 'object': {
      const usage = readUsage((o.value as { usage?: unknown } | null)?.usage);
      const response = s.callType === 'aembedding' ? withoutVectors(o.value) : o.value;
      if (s.clientDisconnected) {
        return { ...disconnectedFailure(provider), response, usage };
      }
      return { success: true, response, usage, error: null, errorStr: null };
    }
    case 'stream': {
      let response: unknown = o.value;
      let usage = readUsage((o.value as { usage?: unknown } | null)?.usage);
      let malformed = 0;
      if (o.relay) {
        const assembled = assembleStream(o.relay.dataEvents);
        response = assembled.completion;
        usage = assembled.completion.usage;
        malformed = assembled.malformedEvents;
      }
      if (!usage && !o.completed && s.body) {
        usage = estimatePartialUsage(s.body, response);
      }
      if (o.completed && !s.clientDisconnected) {
        if (malformed > 0) {
          const message = `${malformed} stream event(s) from the upstream were not valid JSON`;
          return {
            success: false,
            response,
            usage,
            errorStr: message,
            error: { error_code: 'upstream_protocol_error', error_class: 'APIError', llm_provider: provider, error_message: message },
          };
        }
        return { success: true, response, usage, error: null, errorStr: null };
      }
      if (o.error && !(s.clientDisconnected && o.error.message === CLIENT_DISCONNECTED)) {
        return { ...errorOutcome(o.error, provider), response, usage };
      }
      return { ...disconnectedFailure(provider), response, usage };
    }
    case 'failure':
      if (s.clientDisconnected && o.error.message === CLIENT_DISCONNECTED) {
        return { ...disconnectedFailure(provider), response: null, usage: null };
      }
      return { ...errorOutcome(o.error, provider), response: null, usage: null };
    case 'pending':
      if (s.clientDisconnected) {
        return { ...disconnectedFailure(provider), response: null, usage: null };
      }
      // Only reachable when something outside the service answered (e.g. a framework error).
      return {
        ...errorOutcome(new Error(`The request ended with HTTP ${s.responseStatus} before the gateway answered`), provider),
        success: s.responseStatus < 400,
        response: null,
        usage: null,
      };
  }
}

function errorOutcome(error: Error, provider: string): Omit<ResolvedOutcome, 'response' | 'usage'> {
  const app = error instanceof AppException ? error : null;
  const status = app?.status ?? 500;
  return {
    success: false,
    errorStr: error.message,
    error: {
      error_code: String(status),
      error_class: app ? errorClass(app) : error.name || 'Error',
      llm_provider: provider,
      error_message: error.message,
    },
  };
}

function disconnectedFailure(provider: string): Omit<ResolvedOutcome, 'response' | 'usage'> {
  const message = 'The client disconnected before the response was complete';
  return {
    success: false,
    errorStr: message,
    error: { error_code: CLIENT_DISCONNECTED, error_class: 'ClientDisconnected', llm_provider: provider, error_message: message },
  };
}

/** OpenAI SDK exception names, which is what LiteLLM logs and what dashboards group by. */
function errorClass(error: AppException): string {
  switch (error.code) {
    case 'rate_limited':
      return 'RateLimitError';
    case 'upstream_timeout':
      return 'Timeout';
    case 'upstream_error':
      return error.status === 502 ? 'APIConnectionError' : 'APIError';
    case 'model_not_allowed':
    case 'forbidden':
      return 'PermissionDeniedError';
    case 'missing_api_key':
    case 'invalid_api_key':
      return 'AuthenticationError';
    case 'model_not_found':
      return 'NotFoundError';
    default:
      return error.status >= 500 ? 'APIError' : 'BadRequestError';
  }
}

function parseResponse(bytes: Buffer, callType: CallType): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  return callType === 'aembedding' ? withoutVectors(parsed) : parsed;
}

/** Embedding vectors are large and useless in a log line; their count and size say what happened. */
function withoutVectors(response: unknown): unknown {
  if (response === null || typeof response !== 'object') {
    return response;
  }
  const r = response as Record<string, unknown>;
  if (!Array.isArray(r.data)) {
    return response;
  }
  return {
    ...r,
    data: r.data.map((item: unknown) => {
      if (item === null || typeof item !== 'object') {
        return item;
      }
      const { embedding, ...rest } = item as Record<string, unknown>;
      return { ...rest, dimensions: embeddingDimensions(embedding) };
    }),
  };
}

/** Float arrays count directly; base64 (what the openai SDK asks for) holds little-endian float32s. */
function embeddingDimensions(embedding: unknown): number | null {
  if (Array.isArray(embedding)) {
    return embedding.length;
  }
  if (typeof embedding === 'string') {
    const padding = embedding.endsWith('==') ? 2 : embedding.endsWith('=') ? 1 : 0;
    return Math.floor(((embedding.length * 3) / 4 - padding) / 4);
  }
  return null;
}

/** An abandoned stream never receives its usage chunk; the upstream still bills it, so estimate. */
function estimatePartialUsage(body: RequestBody, response: unknown): TokenUsage {
  const prompt = Array.isArray(body.messages) ? estimateTokens(messageText(body.messages)) : 0;
  let text = '';
  const choices = (response as { choices?: unknown } | null)?.choices;
  if (Array.isArray(choices)) {
    for (const choice of choices) {
      const message = (choice as { message?: { content?: unknown; tool_calls?: unknown } } | null)?.message;
      if (typeof message?.content === 'string') {
        text += message.content;
      }
      if (Array.isArray(message?.tool_calls)) {
        for (const call of message.tool_calls as Array<{ function?: { arguments?: unknown } }>) {
          if (typeof call.function?.arguments === 'string') {
            text += call.function.arguments;
          }
        }
      }
    }
  }
  const completion = estimateTokens(text);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function responseIdOf(response: unknown): string | null {
  const id = (response as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id !== '' ? id : null;
}
