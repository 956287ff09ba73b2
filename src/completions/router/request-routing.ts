import { AppException } from '../../errors';
import type { RequestBody } from '../request-body';

/** What a request may ask of the router in its body (LiteLLM takes these from the body too; they never go upstream). */
export interface RequestRouting {
  readonly fallbacks: readonly string[] | null;
  readonly contextWindowFallbacks: readonly string[] | null;
  readonly numRetries: number | null;
  /** `mock_testing_fallbacks` and its two siblings: the first model group fails with this kind, without a call. */
  readonly mockFailure: 'server' | 'context_window' | 'content_policy' | null;
}

/** Body fields the router consumes: never sent upstream. */
export const ROUTER_BODY_FIELDS: readonly string[] = [
  'fallbacks',
  'context_window_fallbacks',
  'num_retries',
  'mock_testing_fallbacks',
  'mock_testing_context_fallbacks',
  'mock_testing_content_policy_fallbacks',
];

const MAX_REQUEST_FALLBACKS = 10;
const MAX_REQUEST_RETRIES = 10;

/** Null for the usual request that asks nothing of the router (checked with a few property reads, no allocation). */
export function readRequestRouting(body: RequestBody): RequestRouting | null {
  if (
    body.fallbacks === undefined &&
    body.context_window_fallbacks === undefined &&
    body.num_retries === undefined &&
    body.mock_testing_fallbacks === undefined &&
    body.mock_testing_context_fallbacks === undefined &&
    body.mock_testing_content_policy_fallbacks === undefined
  ) {
    return null;
  }
  return {
    fallbacks: modelNames(body.fallbacks, 'fallbacks'),
    contextWindowFallbacks: modelNames(body.context_window_fallbacks, 'context_window_fallbacks'),
    numRetries: retries(body.num_retries),
    mockFailure:
      flag(body.mock_testing_fallbacks, 'mock_testing_fallbacks')
        ? 'server'
        : flag(body.mock_testing_context_fallbacks, 'mock_testing_context_fallbacks')
          ? 'context_window'
          : flag(body.mock_testing_content_policy_fallbacks, 'mock_testing_content_policy_fallbacks')
            ? 'content_policy'
            : null,
  };
}

function modelNames(value: unknown, param: string): string[] | null {
  if (value === undefined || value === null) return null;
  // LiteLLM also takes `[{"model": ...}]` entries with their own parameters; only the plain names are supported.
  if (!Array.isArray(value) || value.length > MAX_REQUEST_FALLBACKS || !value.every((item) => typeof item === 'string' && item !== '')) {
    throw new AppException('validation_failed', `\`${param}\` must be a list of at most ${MAX_REQUEST_FALLBACKS} model names`, { param });
  }
  return value as string[];
}

function retries(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_REQUEST_RETRIES) {
    throw new AppException('validation_failed', `\`num_retries\` must be an integer from 0 to ${MAX_REQUEST_RETRIES}`, { param: 'num_retries' });
  }
  return value;
}

function flag(value: unknown, param: string): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  throw new AppException('validation_failed', `\`${param}\` must be true or false`, { param });
}
