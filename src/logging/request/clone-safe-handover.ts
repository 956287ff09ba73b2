import type { HandedOverEvent } from '../delivery/delivery-thread.protocol';
import type { StandardLoggingPayload } from '../standard-logging-payload';

/** What stands in for content that could not be handed to the delivery thread. */
export const NOT_HANDED_OVER_MARKER = 'gatehouse: content left out of this log event, it could not be copied to the delivery thread';

export interface HandOverResult {
  /** Rows that went over only with their content replaced: they take the originals' place wherever those are kept. */
  readonly replaced: HandedOverEvent[];
  /** Rows that could not go over even so. */
  readonly dropped: HandedOverEvent[];
  /** The first error thrown (RangeError: nesting deeper than the clone's stack, DataCloneError: a value clone refuses). */
  readonly error: Error | null;
}

const ALL_SENT: HandOverResult = { replaced: [], dropped: [], error: null };

/**
 * Sends rows with `send` (a `postMessage`) in one message, as the hand-over always does. Structured clone
 * throws on a value nested deeper than its stack allows (an upstream answer can be) or of a kind it refuses,
 * and the whole message is then lost. So after a failed batch every row is tried alone, and a row that still
 * fails goes with its content (messages, response, the request's parameters and the caller's metadata)
 * replaced by a marker: ids, usage, cost, status and timings still reach the destinations. Only a row that
 * fails even then is dropped. Never throws; the caller logs and counts what the result reports.
 */
export function handOverRows(rows: readonly HandedOverEvent[], send: (rows: HandedOverEvent[]) => void): HandOverResult {
  let error = attempt(() => send([...rows]));
  if (error === null) return ALL_SENT;
  const replaced: HandedOverEvent[] = [];
  const dropped: HandedOverEvent[] = [];
  for (const row of rows) {
    if (rows.length > 1 && attempt(() => send([row])) === null) continue;
    const stripped: HandedOverEvent = { ...row, payload: withoutContent(row.payload) };
    const strippedError = attempt(() => send([stripped]));
    if (strippedError === null) replaced.push(stripped);
    else dropped.push(row);
    error ??= strippedError;
  }
  return { replaced, dropped, error };
}

function attempt(action: () => void): Error | null {
  try {
    action();
    return null;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Everything the caller or the upstream shaped is replaced or cut down to scalars; what the gateway computed stays. */
function withoutContent(payload: StandardLoggingPayload): StandardLoggingPayload {
  return {
    ...payload,
    messages: [{ role: 'user', content: NOT_HANDED_OVER_MARKER }],
    response: payload.response === null ? null : { text: NOT_HANDED_OVER_MARKER },
    model_parameters: scalarsOf(payload.model_parameters),
    request_tags: Array.isArray(payload.request_tags) ? payload.request_tags.filter((tag) => typeof tag === 'string') : [],
    metadata: { ...payload.metadata, requester_metadata: scalarsOf(payload.metadata.requester_metadata) },
  };
}

function scalarsOf(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = value;
  }
  return out;
}
