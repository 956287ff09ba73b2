import type { IncomingHttpHeaders } from 'node:http';
import { AppException } from '../../errors';
import type { RequestBody } from '../request-body';

/** What a request may ask of the router in its body (LiteLLM takes these from the body too; they never go upstream). */
export interface RequestRouting {
  readonly fallbacks: readonly string[] | null;
  readonly contextWindowFallbacks: readonly string[] | null;
  readonly numRetries: number | null;
  /** `mock_testing_fallbacks` and its two siblings: the first model group fails with this kind, without a call. */
  readonly mockFailure: 'server' | 'context_window' | 'content_policy' | null;
  /** The call's own timeouts, over the deployment's (`timeout` / `stream_timeout`, or LiteLLM's `x-litellm-*` headers). */
  readonly timeouts: RequestTimeouts | null;
}

export interface RequestTimeouts {
  readonly timeoutMs: number | null;
  /** Until the first byte and between chunks of a stream; unset, a stream waits `timeoutMs`. */
  readonly streamTimeoutMs: number | null;
}

/** Body fields the router consumes: never sent upstream. */
export const ROUTER_BODY_FIELDS: readonly string[] = [
  'fallbacks',
  'context_window_fallbacks',
  'num_retries',
  'mock_testing_fallbacks',
  'mock_testing_context_fallbacks',
  'mock_testing_content_policy_fallbacks',
  'timeout',
  'stream_timeout',
];

/** LiteLLM's request headers for the same: a body field wins over its header. */
const TIMEOUT_HEADER = 'x-litellm-timeout';
const STREAM_TIMEOUT_HEADER = 'x-litellm-stream-timeout';
const NUM_RETRIES_HEADER = 'x-litellm-num-retries';

/** A caller may shorten a call's wait or lengthen it up to an hour; never hold a connection open for longer. */
const MAX_REQUEST_TIMEOUT_SECONDS = 3600;

const MAX_REQUEST_FALLBACKS = 10;
const MAX_REQUEST_RETRIES = 10;

/** Null for the usual request that asks nothing of the router (checked with a few property reads, no allocation). */
export function readRequestRouting(body: RequestBody, headers: IncomingHttpHeaders = {}): RequestRouting | null {
  if (
    body.fallbacks === undefined &&
    body.context_window_fallbacks === undefined &&
    body.num_retries === undefined &&
    body.mock_testing_fallbacks === undefined &&
    body.mock_testing_context_fallbacks === undefined &&
    body.mock_testing_content_policy_fallbacks === undefined &&
    body.timeout === undefined &&
    body.stream_timeout === undefined &&
    headers[TIMEOUT_HEADER] === undefined &&
    headers[STREAM_TIMEOUT_HEADER] === undefined &&
    headers[NUM_RETRIES_HEADER] === undefined
  ) {
    return null;
  }
  const timeoutMs = seconds(body.timeout ?? headerNumber(headers, TIMEOUT_HEADER), body.timeout !== undefined ? 'timeout' : TIMEOUT_HEADER);
  const streamTimeoutMs = seconds(
    body.stream_timeout ?? headerNumber(headers, STREAM_TIMEOUT_HEADER),
    body.stream_timeout !== undefined ? 'stream_timeout' : STREAM_TIMEOUT_HEADER,
  );
  return {
    fallbacks: modelNames(body.fallbacks, 'fallbacks'),
    contextWindowFallbacks: modelNames(body.context_window_fallbacks, 'context_window_fallbacks'),
    numRetries: retries(body.num_retries ?? headerNumber(headers, NUM_RETRIES_HEADER), body.num_retries !== undefined ? 'num_retries' : NUM_RETRIES_HEADER),
    mockFailure:
      flag(body.mock_testing_fallbacks, 'mock_testing_fallbacks')
        ? 'server'
        : flag(body.mock_testing_context_fallbacks, 'mock_testing_context_fallbacks')
          ? 'context_window'
          : flag(body.mock_testing_content_policy_fallbacks, 'mock_testing_content_policy_fallbacks')
            ? 'content_policy'
            : null,
    timeouts: timeoutMs === null && streamTimeoutMs === null ? null : { timeoutMs, streamTimeoutMs },
  };
}

/** A header's number; text that is not one stays text, for the check to name. */
function headerNumber(headers: IncomingHttpHeaders, name: string): unknown {
  const value = headers[name];
  if (typeof value !== 'string') return value;
  const parsed = Number(value.trim());
  return value.trim() === '' || Number.isNaN(parsed) ? value : parsed;
}

function seconds(value: unknown, param: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_REQUEST_TIMEOUT_SECONDS) {
    throw new AppException('validation_failed', `\`${param}\` must be a number of seconds above 0 and at most ${MAX_REQUEST_TIMEOUT_SECONDS}`, { param });
  }
  return Math.ceil(value * 1000);
}

function modelNames(value: unknown, param: string): string[] | null {
  if (value === undefined || value === null) return null;
  // LiteLLM also takes `[{"model": ...}]` entries with their own parameters; only the plain names are supported.
  if (!Array.isArray(value) || value.length > MAX_REQUEST_FALLBACKS || !value.every((item) => typeof item === 'string' && item !== '')) {
    throw new AppException('validation_failed', `\`${param}\` must be a list of at most ${MAX_REQUEST_FALLBACKS} model names`, { param });
  }
  return value as string[];
}

function retries(value: unknown, param: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_REQUEST_RETRIES) {
    throw new AppException('validation_failed', `\`${param}\` must be an integer from 0 to ${MAX_REQUEST_RETRIES}`, { param });
  }
  return value;
}

function flag(value: unknown, param: string): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  throw new AppException('validation_failed', `\`${param}\` must be true or false`, { param });
}
