import { SecretRedactor } from '../../common/secret-redactor';
import type { GatewaySettings } from '../../config/gateway-settings';
import type { Principal } from '../../keys/principal';
import type { DeliveryHandover } from './delivery-handover';
import type { ResolvedEntry } from '../logging-entry';
import type { LoggingResolver } from './logging-resolver';
import { LoggingService } from './logging.service';
import { NO_HINTS, PrivacyResolver } from '../privacy/privacy-resolver';
import type { StandardLoggingPayload } from '../standard-logging-payload';

const principal = { kind: 'key', teamId: 'team-a', teamMetadata: {}, keyMetadata: {} } as unknown as Principal;
const noGlobalPrivacy = { config: { litellmSettings: { privacy: {}, default_team_settings: [] }, generalSettings: {} } } as unknown as GatewaySettings;

function entry(name: ResolvedEntry['callback_name'], type: ResolvedEntry['callback_type'], vars: Record<string, string> = {}): ResolvedEntry {
  return { callback_name: name, callback_type: type, callback_vars: vars, entry_id: `key:${name}:${type}`, trusted: true, source: 'key', owner: { table: 'virtual_keys', id: 'h' } };
}

function setup(entries: readonly ResolvedEntry[]) {
  const enqueued: Array<{ eventId: string; payload: StandardLoggingPayload; piiMasking?: unknown }> = [];
  const resolver = { resolve: () => entries } as unknown as LoggingResolver;
  const buffer = { enqueue: (row: { eventId: string; payload: StandardLoggingPayload }) => enqueued.push(row) } as unknown as DeliveryHandover;
  const service = new LoggingService(resolver, new PrivacyResolver(noGlobalPrivacy), buffer, new SecretRedactor([]));
  let builds = 0;
  const record = {
    litellm_call_id: 'call-1',
    status: 'success',
    messages: [{ role: 'user', content: 'secret plans' }],
    response: { choices: [{ message: { role: 'assistant', content: 'noted' } }] },
    end_user: 'u-1',
    model_parameters: { user: 'u-1', temperature: 0 },
    metadata: { user_api_key_hash: 'h', user_api_key_alias: 'my-alias', user_api_key_team_id: 'team-a', team_id: 'team-a', requester_metadata: {} },
  } as unknown as StandardLoggingPayload;
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

  it('redacts credentials from a failure’s error text before the event leaves; a success is handed over untouched', () => {
    const key = 'configured-provider-key-77';
    const enqueued: StandardLoggingPayload[] = [];
    const service = new LoggingService(
      { resolve: () => [entry('langfuse', 'success_and_failure')] } as unknown as LoggingResolver,
      new PrivacyResolver(noGlobalPrivacy),
      { enqueue: (row: { payload: StandardLoggingPayload }) => enqueued.push(row.payload) } as unknown as DeliveryHandover,
      new SecretRedactor([key]),
    );
    const failure = {
      litellm_call_id: 'call-f',
      status: 'failure',
      metadata: {},
      model_parameters: {},
      error_str: `bad key ${key}`,
      error_information: { error_code: '502', error_class: 'APIError', llm_provider: 'openai', error_message: `bad key ${key}` },
    } as unknown as StandardLoggingPayload;
    service.dispatch(() => failure, principal);
    expect(enqueued[0].error_str).toBe('bad key [REDACTED]');
    expect(enqueued[0].error_information?.error_message).toBe('bad key [REDACTED]');
    const success = { litellm_call_id: 'call-s', status: 'success', metadata: {}, model_parameters: {}, error_str: null, error_information: null } as unknown as StandardLoggingPayload;
    service.dispatch(() => success, principal);
    expect(enqueued[1]).toBe(success);
  });

  describe('privacy', () => {
    const withSettings = (settings: Record<string, unknown>) => ({ ...principal, teamMetadata: { logging_settings: settings } }) as Principal;

    it('turn_off_message_logging: LiteLLM’s markers instead of messages and answer, one shared copy for every entry', () => {
      const { service, enqueued, build } = setup([entry('langfuse', 'success'), entry('otel', 'success')]);
      service.dispatch(build, withSettings({ turn_off_message_logging: true }));
      expect(enqueued[0].payload.messages).toEqual([{ role: 'user', content: 'redacted-by-litellm' }]);
      expect(enqueued[0].payload.response).toEqual({ text: 'redacted-by-litellm' });
      expect(enqueued[1].payload).toBe(enqueued[0].payload);
    });

    it('a destination entry’s own turn_off_message_logging wins over the team’s, a request header over both', () => {
      const { service, enqueued, build } = setup([entry('langfuse', 'success', { turn_off_message_logging: 'false' }), entry('otel', 'success')]);
      service.dispatch(build, withSettings({ turn_off_message_logging: true }));
      expect(JSON.stringify(enqueued[0].payload)).toContain('secret plans');
      expect(JSON.stringify(enqueued[1].payload)).not.toContain('secret plans');
      service.dispatch(build, principal, { ...NO_HINTS, enableRedaction: true });
      expect(JSON.stringify(enqueued[2].payload)).not.toContain('secret plans');
    });

    it('the opt-out header counts only where allow_client_message_redaction_opt_out is on', () => {
      const { service, enqueued, build } = setup([entry('otel', 'success')]);
      const optOut = { enableRedaction: false, disableRedaction: true };
      service.dispatch(build, withSettings({ turn_off_message_logging: true }), optOut);
      service.dispatch(build, withSettings({ turn_off_message_logging: true, allow_client_message_redaction_opt_out: true }), optOut);
      expect(enqueued.map((row) => JSON.stringify(row.payload).includes('secret plans'))).toEqual([false, true]);
    });

    it('redact_user_api_key_info leaves out key hash and alias, user and team', () => {
      const { service, enqueued, build } = setup([entry('otel', 'success')]);
      service.dispatch(build, withSettings({ redact_user_api_key_info: true }));
      const sent = JSON.stringify(enqueued[0].payload);
      for (const identifier of ['"h"', 'my-alias', 'team-a', 'u-1']) expect([identifier, sent.includes(identifier)]).toEqual([identifier, false]);
    });

    it('PII masking travels with the event to the delivery thread; the record itself is not touched here', () => {
      const { service, enqueued, build } = setup([entry('otel', 'success')]);
      service.dispatch(build, { ...principal, keyMetadata: { logging_settings: { pii_masking: { detectors: ['email'] } } } });
      expect(enqueued[0].piiMasking).toEqual({ detectors: ['email'], patterns: [] });
      expect(JSON.stringify(enqueued[0].payload)).toContain('secret plans');
    });
  });
});
