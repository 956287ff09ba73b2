import type { Principal } from '../keys/principal';
import type { DeliveryHandover } from './delivery-handover';
import type { ResolvedEntry } from './logging-entry';
import type { LoggingResolver } from './logging-resolver';
import { LoggingService } from './logging.service';
import type { StandardLoggingPayload } from './standard-logging-payload';

const principal = { teamId: 'team-a' } as Principal;

function entry(name: ResolvedEntry['callback_name'], type: ResolvedEntry['callback_type']): ResolvedEntry {
  return { callback_name: name, callback_type: type, callback_vars: {}, entry_id: `key:${name}:${type}`, trusted: true, source: 'key' };
}

function setup(entries: readonly ResolvedEntry[]) {
  const enqueued: Array<{ eventId: string; payload: StandardLoggingPayload }> = [];
  const resolver = { resolve: () => entries } as unknown as LoggingResolver;
  const buffer = { enqueue: (row: { eventId: string; payload: StandardLoggingPayload }) => enqueued.push(row) } as unknown as DeliveryHandover;
  const service = new LoggingService(resolver, buffer);
  let builds = 0;
  const record = { litellm_call_id: 'call-1', status: 'success', messages: [], response: {} } as unknown as StandardLoggingPayload;
  const build = () => {
    builds += 1;
    return record;
  };
  return { service, enqueued, build, builds: () => builds };
}

describe(LoggingService.name, () => {
  it('never builds the record of a caller that logs nowhere', () => {
    const { service, enqueued, build, builds } = setup([]);
    service.dispatch(build, principal);
    expect(builds()).toBe(0);
    expect(enqueued).toHaveLength(0);
  });

  it('builds the record once and enqueues it for each entry that applies to its status', () => {
    const { service, enqueued, build, builds } = setup([
      entry('langfuse', 'success'),
      entry('otel', 'failure'),
      entry('gcs_bucket', 'success_and_failure'),
    ]);
    service.dispatch(build, principal);
    expect(builds()).toBe(1);
    expect(enqueued.map((row) => row.eventId)).toEqual(['call-1:key:langfuse:success', 'call-1:key:gcs_bucket:success_and_failure']);
  });
});
