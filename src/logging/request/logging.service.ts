import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { SecretRedactor } from '../../common/secret-redactor';
import { GatewaySettings } from '../../config/gateway-settings';
import type { Principal } from '../../keys/principal';
import type { RecordBuilder } from './call-record';
import { DeliveryHandover } from './delivery-handover';
import { appliesTo } from '../logging-entry';
import { LoggingResolver } from './logging-resolver';
import { withoutKeyInfo, withoutMessages, withRedactedError } from '../privacy/payload-redaction';
import { NO_HINTS, PrivacyResolver, type RequestPrivacyHints } from '../privacy/privacy-resolver';
import type { StandardLoggingPayload } from '../standard-logging-payload';

/**
 * Entry point of the logging module: takes a finished call's event and the caller, resolves where the
 * event goes and hands it to the delivery thread. Never awaits a destination and never throws into the request.
 */
@Injectable()
export class LoggingService {
  private readonly logger = new Logger(LoggingService.name);
  /** Whether each call's destinations are written at debug; decided once, so info costs the calls nothing. */
  private readonly tellsDestinations: boolean;

  constructor(
    private readonly resolver: LoggingResolver,
    private readonly privacy: PrivacyResolver,
    private readonly handover: DeliveryHandover,
    @Inject(SecretRedactor) private readonly redactor: SecretRedactor,
    @Optional() @Inject(GatewaySettings) settings: GatewaySettings | null = null,
  ) {
    const level = settings?.environment.LOG_LEVEL;
    this.tellsDestinations = level === 'debug' || level === 'trace';
  }

  /**
   * GDPR: when a team turns logging off, its events still waiting for delivery are deleted as well, so
   * nothing of the team leaves after the switch. (An event already being sent may still arrive.)
   */
  purgeTeam(teamId: string): Promise<number> {
    return this.handover.purgeTeam(teamId);
  }

  /**
   * Builds the record only when the caller logs somewhere. Redaction is applied here, before the event leaves
   * the request loop, so redacted text never reaches the delivery thread, the outbox or a dead letter; PII
   * masking needs real work and runs on the delivery thread (the event carries its masking configuration).
   */
  dispatch(build: RecordBuilder, principal: Principal, hints: RequestPrivacyHints = NO_HINTS): void {
    const entries = this.resolver.resolve(principal);
    if (entries.length === 0) return;
    const privacy = this.privacy.resolve(principal);
    const record = build();
    // Failures only: a successful call has no error text and pays nothing here.
    const built = record.status === 'failure' ? withRedactedError(record, this.redactor) : record;
    const payload = privacy.redact_user_api_key_info.value ? withoutKeyInfo(built) : built;
    // One object per variant: the rows of one call share it across the thread boundary (and in the outbox batch).
    let redacted: StandardLoggingPayload | undefined;
    const piiMasking = privacy.pii_masking.value;
    // "Why did my log not arrive?": where this call's event goes, before the delivery thread takes over.
    if (this.tellsDestinations) {
      const targets = entries.filter((entry) => appliesTo(entry.callback_type, payload.status)).map((entry) => `${entry.callback_name} (${entry.source})`);
      this.logger.debug(`call ${payload.litellm_call_id} (${payload.status}) handed to delivery for: ${targets.length > 0 ? targets.join(', ') : 'no destination'}`);
    }
    for (const entry of entries) {
      if (!appliesTo(entry.callback_type, payload.status)) continue;
      const redact = this.privacy.redactsMessages(privacy, hints, entry);
      this.handover.enqueue({
        eventId: `${payload.litellm_call_id}:${entry.entry_id}`,
        entry,
        source: entry.source,
        teamId: principal.teamId,
        payload: redact ? (redacted ??= withoutMessages(payload)) : payload,
        ...(piiMasking !== null ? { piiMasking } : {}),
      });
    }
  }
}
