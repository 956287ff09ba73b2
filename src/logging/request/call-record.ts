import type { StandardLoggingPayload } from '../standard-logging-payload';

/**
 * The hand-off between the completions module and the logging interceptor. The completions controller
 * attaches a pending record to the request; it settles once the response is fully sent (after the last
 * chunk of a stream, or when the client went away). The interceptor then enqueues it: nothing of the
 * logging work runs before the caller has its answer.
 */
export const CALL_RECORD = Symbol('gatehouse.callRecord');

/** Builds the call's record on demand: a caller that logs nowhere never pays for building it. */
export type RecordBuilder = () => StandardLoggingPayload;
export type RecordListener = (build: RecordBuilder) => void;

export interface PendingCallRecord {
  /** Calls `listener` once the response is over (at once when it already is), with the record's builder. */
  whenSettled(listener: RecordListener): void;
}

export interface RequestWithCallRecord {
  [CALL_RECORD]?: PendingCallRecord;
}
