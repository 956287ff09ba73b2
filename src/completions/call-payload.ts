import type { IncomingHttpHeaders } from 'node:http';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import type { ErrorInformation, StandardLoggingMetadata, StandardLoggingPayload } from '../logging/standard-logging-payload';
import type { CompiledDeployment } from './deployment-table';
import { messageText } from './mock-provider';
import { modelParameters, requesterMetadata, requestTags, type RequestBody } from './request-body';
import { ERROR_CLASS_BY_KIND, type FailedAttempt, type RoutingRecord } from './router/routing-record';
import { assembleStream } from './stream-assembler';
import { assembleTextStream, promptText } from './text-completion';
import { streamUsage, trailingUsage } from './call-usage';
import { computeCost, estimateTokens, NO_USAGE, readUsage, type TokenUsage } from './usage';

export type CallType = StandardLoggingPayload['call_type'];

export const CLIENT_DISCONNECTED = 'client_disconnected';

/** What the record needs of a stream: its `data` payloads in order. A live SseRelay or a replayed cache entry. */
export interface RecordedStream {
  readonly dataEvents: readonly string[];
  /** Epoch ms of the first event carrying a choice; 0 until then. */
  readonly firstTokenAt: number;
}

/** How the call ended, as far as the gateway answered it. */
export type Outcome =
  | { kind: 'pending' }
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'object'; value: unknown }
  | { kind: 'stream'; relay: RecordedStream | null; value: unknown; completed: boolean; error: Error | null }
  | { kind: 'failure'; error: Error };

/** What the record is built from, copied out of the tracker when the response has closed. */
export interface CallSnapshot {
  readonly callId: string;
  readonly callType: CallType;
  readonly route: string;
  readonly stream: boolean;
  readonly body: RequestBody | null;
  readonly deployment: CompiledDeployment | null;
  /** The router's failed attempts before the answer; absent or null when the first attempt answered. */
  readonly routing?: RoutingRecord | null;
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

/** What spend and rate limits need of every finished call, logged or not: the record's fields of the same names. */
export interface CallUsage extends TokenUsage {
  readonly response_cost: number;
  readonly model_group: string;
  readonly end_user: string | null;
  readonly cache_hit: boolean;
}

/**
 * The tokens and cost the call's record would show, read without building the record: the answer's trailing
 * `usage` or the stream's usage chunk; the whole answer only when neither is found (and for the estimate of an
 * abandoned stream, as the record makes it).
 */
export function callUsage(s: CallSnapshot): CallUsage {
  const quick = quickUsage(s.outcome);
  const usage = (quick !== undefined ? quick : resolveOutcome(s, '').usage) ?? NO_USAGE;
  const d = s.deployment;
  const body = s.body;
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
    response_cost: d && !s.cacheHit ? computeCost(usage, d).total_cost : 0,
    model_group: s.routing?.modelGroup ?? (typeof body?.model === 'string' ? body.model : ''),
    end_user: typeof body?.user === 'string' ? body.user : null,
    cache_hit: s.cacheHit === true,
  };
}

/** Null: the call used nothing (it failed before an answer). Undefined: not found where expected. */
function quickUsage(o: Outcome): TokenUsage | null | undefined {
  switch (o.kind) {
    case 'bytes': {
      const found = trailingUsage(o.bytes);
      return found === undefined ? undefined : (readUsage(found) ?? undefined);
    }
    case 'object':
      return readUsage((o.value as { usage?: unknown } | null)?.usage) ?? undefined;
    case 'stream':
      return o.relay ? streamUsage(o.relay.dataEvents) : (readUsage((o.value as { usage?: unknown } | null)?.usage) ?? undefined);
    case 'failure':
      return null;
    case 'pending':
      return null;
  }
}

/**
 * The StandardLoggingPayload (LiteLLM's log shape) of a finished call, from a snapshot of what its CallTracker
 * kept. Pure: it reads the snapshot only, so the tracker can build it lazily, once, after the response closed.
 */
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
    model_group: s.routing?.modelGroup ?? (typeof body?.model === 'string' ? body.model : ''),
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
      ...(s.routing ? routingMetadata(s.routing) : null),
    },
    cache_hit: s.cacheHit === true,
    cache_key: s.cacheKey ?? null,
    request_tags: requestTags(requester),
    end_user: endUser,
    requester_ip_address: s.ip,
    user_agent: typeof userAgent === 'string' ? userAgent : null,
    messages: body ? (body[REQUEST_FIELD[s.callType]] ?? null) : null,
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

/** The request field logged as the call's `messages`, as LiteLLM logs each call type's input. */
// A Responses call is recorded through its chat reading (`messages`), whatever the deployment answered in.
const REQUEST_FIELD: Readonly<Record<CallType, string>> = { acompletion: 'messages', aembedding: 'input', atext_completion: 'prompt', aresponses: 'messages' };

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
        const assembled = s.callType === 'atext_completion' ? assembleTextStream(o.relay.dataEvents) : assembleStream(o.relay.dataEvents);
        response = assembled.completion;
        usage = assembled.completion.usage;
        malformed = assembled.malformedEvents;
      }
      // An abandoned stream never receives its usage chunk, and some upstreams never send one (Azure before API
      // version 2024-09-01 refuses stream_options): the upstream still bills the tokens, so they are estimated.
      if (!usage && s.body) {
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
  const { code, errorClass: error_class } = failureLabels(error);
  return {
    success: false,
    errorStr: error.message,
    error: { error_code: code, error_class, llm_provider: provider, error_message: error.message },
  };
}

function disconnectedFailure(provider: string): Omit<ResolvedOutcome, 'response' | 'usage'> {
  const message = 'The client disconnected before the response was complete';
  return {
    success: false,
    errorStr: message,
    error: { error_code: DISCONNECTED.code, error_class: DISCONNECTED.errorClass, llm_provider: provider, error_message: message },
  };
}

/** How a call failed, as its record's `error_code` and `error_class` say it. */
export interface CallFailure {
  readonly code: string;
  readonly errorClass: string;
  /** It ended a stream already under way, from the upstream's side (not the client's). */
  readonly midStream: boolean;
}

const DISCONNECTED: CallFailure = { code: CLIENT_DISCONNECTED, errorClass: 'ClientDisconnected', midStream: false };

function failureLabels(error: Error, midStream = false): CallFailure {
  const app = error instanceof AppException ? error : null;
  return { code: String(app?.status ?? 500), errorClass: app ? errorClass(app) : error.name || 'Error', midStream };
}

/**
 * Whether a finished call failed, and how, as its record would say, read without building the record (metrics need
 * it for every call). One difference: a completed stream with malformed events counts as answered here, since telling
 * needs the whole stream parsed.
 */
export function callFailure(outcome: Outcome, clientDisconnected: boolean, responseStatus: number): CallFailure | null {
  switch (outcome.kind) {
    case 'bytes':
    case 'object':
      return clientDisconnected ? DISCONNECTED : null;
    case 'stream':
      if (outcome.completed && !clientDisconnected) return null;
      if (outcome.error && !(clientDisconnected && outcome.error.message === CLIENT_DISCONNECTED)) return failureLabels(outcome.error, true);
      return DISCONNECTED;
    case 'failure':
      return clientDisconnected && outcome.error.message === CLIENT_DISCONNECTED ? DISCONNECTED : failureLabels(outcome.error);
    case 'pending':
      if (clientDisconnected) return DISCONNECTED;
      return responseStatus < 400 ? null : failureLabels(new Error('answered outside the gateway'));
  }
}

/** LiteLLM's exception class of a failed attempt: by its failure kind, else by its exception. */
export function attemptErrorClass(attempt: FailedAttempt): string {
  return attempt.kind === null ? errorClass(attempt.exception) : ERROR_CLASS_BY_KIND[attempt.kind];
}

/**
 * LiteLLM's `attempted_retries` / `attempted_fallbacks` counts, and the attempts before the answer: which deployment,
 * how it failed (class and status, never the upstream's words) and how long it took.
 */
function routingMetadata(routing: RoutingRecord): Pick<StandardLoggingMetadata, 'attempted_retries' | 'attempted_fallbacks' | 'failed_attempts'> {
  return {
    attempted_retries: routing.attemptedRetries,
    attempted_fallbacks: routing.attemptedFallbacks,
    failed_attempts: routing.failedAttempts.map((attempt) => ({
      model_group: attempt.modelGroup,
      model_id: attempt.deployment.modelId,
      model: attempt.deployment.upstreamModel,
      custom_llm_provider: attempt.deployment.providerLabel,
      api_base: attempt.deployment.apiBaseForLog,
      error_class: attemptErrorClass(attempt),
      error_code: String(attempt.exception.status),
      duration_ms: attempt.durationMs,
    })),
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
    case 'key_model_access_denied':
    case 'team_model_access_denied':
    case 'user_model_access_denied':
      return 'AuthenticationError';
    case 'model_not_found':
      return 'NotFoundError';
    case 'content_filter':
      return 'ContentPolicyViolationError';
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
  const prompt = Array.isArray(body.messages) ? estimateTokens(messageText(body.messages)) : estimateTokens(promptText(body.prompt));
  let text = '';
  const choices = (response as { choices?: unknown } | null)?.choices;
  if (Array.isArray(choices)) {
    for (const choice of choices) {
      const choiceText = (choice as { text?: unknown } | null)?.text;
      if (typeof choiceText === 'string') {
        text += choiceText;
      }
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
