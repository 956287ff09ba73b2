import type { HandedOverEvent } from '../delivery/delivery-thread.protocol';
import type { NewOutboxRow } from '../delivery/outbox.store';
import type { StandardLoggingPayload } from '../standard-logging-payload';
import { withoutMessages } from './payload-redaction';
import type { PiiMaskerCache } from './pii-masker';

/**
 * Applies each event's PII masking before anything keeps it (buffer, outbox, dead letters). The events of one
 * call share one payload object, so it is masked once however many destinations the call goes to.
 */
export function maskedRows(events: readonly HandedOverEvent[], maskers: PiiMaskerCache): NewOutboxRow[] {
  const masked = new Map<StandardLoggingPayload, StandardLoggingPayload>();
  return events.map(({ piiMasking, ...row }) => {
    if (piiMasking === undefined) return row;
    let payload = masked.get(row.payload);
    if (payload === undefined) {
      try {
        payload = maskers.get(piiMasking).maskPayload(row.payload);
      } catch {
        // A configuration that cannot run (it was checked on write, so only by a hand-edited row): the safe
        // direction is to send no content at all rather than unmasked content, or to crash the thread.
        payload = withoutMessages({ ...row.payload, error_str: null, error_information: null });
      }
      masked.set(row.payload, payload);
    }
    return { ...row, payload };
  });
}
