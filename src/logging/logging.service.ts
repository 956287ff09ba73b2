import { Injectable } from '@nestjs/common';
import type { Principal } from '../keys/principal';
import type { RecordBuilder } from './call-record';
import { DeliveryHandover } from './delivery-handover';
import { appliesTo, type ResolvedEntry } from './logging-entry';
import { LoggingResolver } from './logging-resolver';
import type { StandardLoggingPayload } from './standard-logging-payload';

const REDACTED = 'redacted-by-litellm';

/**
 * Entry point of the logging module: takes a finished call's event and the caller, resolves where the
 * event goes and hands it to the delivery thread. Never awaits a destination and never throws into the request.
 */
@Injectable()
export class LoggingService {
  constructor(
    private readonly resolver: LoggingResolver,
    private readonly handover: DeliveryHandover,
  ) {}

  /**
   * GDPR: when a team turns logging off, its events still waiting for delivery are deleted as well, so
   * nothing of the team leaves after the switch. (An event already being sent may still arrive.)
   */
  purgeTeam(teamId: string): Promise<number> {
    return this.handover.purgeTeam(teamId);
  }

  /** Builds the record only when the caller logs somewhere. */
  dispatch(build: RecordBuilder, principal: Principal): void {
    const entries = this.resolver.resolve(principal);
    if (entries.length === 0) return;
    const payload = build();
    for (const entry of entries) {
      if (!appliesTo(entry.callback_type, payload.status)) continue;
      this.handover.enqueue({
        eventId: `${payload.litellm_call_id}:${entry.entry_id}`,
        entry,
        source: entry.source,
        teamId: principal.teamId,
        payload: forEntry(payload, entry),
      });
    }
  }
}

/** LiteLLM's per-entry `turn_off_message_logging`: the destination gets the metadata but not the content. */
function forEntry(payload: StandardLoggingPayload, entry: ResolvedEntry): StandardLoggingPayload {
  const flag = entry.callback_vars.turn_off_message_logging;
  if (flag === undefined || !/^(true|1|yes)$/i.test(flag)) return payload;
  return { ...payload, messages: REDACTED, response: payload.response === null ? null : REDACTED };
}
