import type { Principal } from '../../src/keys/principal';
import type { StandardLoggingPayload } from '../../src/logging/standard-logging-payload';
import { sleep } from './logging/harness';

/**
 * Stands in for LoggingService (`overrideProvider(LoggingService).useValue(...)`): keeps every record the
 * completions path hands over, built at once, so a test can read the record of one call.
 */
export class RecordingLogging {
  readonly records: Array<{ payload: StandardLoggingPayload; principal: Principal }> = [];

  dispatch(build: () => StandardLoggingPayload, principal: Principal): void {
    this.records.push({ payload: build(), principal });
  }

  async recordFor(callId: string, timeoutMs = 5000): Promise<StandardLoggingPayload> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.records.find((r) => r.payload.litellm_call_id === callId);
      if (found) return found.payload;
      if (Date.now() > deadline) {
        throw new Error(`no record for call ${callId}; have ${this.records.map((r) => r.payload.litellm_call_id).join(', ')}`);
      }
      await sleep(20);
    }
  }
}
