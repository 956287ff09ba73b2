import type { StandardLoggingPayload } from './standard-logging-payload';

/**
 * The hand-off between the completions module and the logging interceptor. The completions controller
 * attaches a pending record to the request; it settles once the response is fully sent (after the last
 * chunk of a stream, or when the client went away). The interceptor then enqueues it: nothing of the
 * logging work runs before the caller has its answer.
 */
export const CALL_RECORD = Symbol('gatehouse.callRecord');

export interface PendingCallRecord {
  readonly done: Promise<StandardLoggingPayload>;
}

export interface RequestWithCallRecord {
  [CALL_RECORD]?: PendingCallRecord;
}
