import type { AppException } from '../../errors';
import type { CompiledDeployment } from '../deployment-table';
import type { FailureKind } from './failure-kind';

/** One attempt of a call that did not answer it. */
export interface FailedAttempt {
  readonly modelGroup: string;
  readonly deployment: CompiledDeployment;
  readonly exception: AppException;
  readonly kind: FailureKind | null;
  readonly durationMs: number;
}

/**
 * What the router did for a call beyond its first attempt: kept on the CallTracker only once an attempt failed,
 * so a call answered at the first try carries nothing (null there).
 */
export interface RoutingRecord {
  readonly failedAttempts: FailedAttempt[];
  /** Attempts after the first one within a model group, summed over the groups (LiteLLM's `attempted_retries`). */
  attemptedRetries: number;
  /** Fallback model groups tried (LiteLLM's `attempted_fallbacks`). */
  attemptedFallbacks: number;
  /** The model group being tried, which answered if the call succeeded. */
  modelGroup: string;
}

/** LiteLLM's exception class names by failure kind, as its logs show them for each attempt. */
export const ERROR_CLASS_BY_KIND: Readonly<Record<FailureKind, string>> = {
  context_window: 'ContextWindowExceededError',
  content_policy: 'ContentPolicyViolationError',
  rate_limit: 'RateLimitError',
  server: 'InternalServerError',
  timeout: 'Timeout',
  connection: 'APIConnectionError',
  auth: 'AuthenticationError',
  not_found: 'NotFoundError',
  caller: 'BadRequestError',
};
