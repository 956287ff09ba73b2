import type { GatewaySettings } from '../../config/gateway-settings';
import type { Principal } from '../../keys/principal';
import type { PrivacyLayer } from './privacy-settings';
import { privacyHints, PrivacyResolver } from './privacy-resolver';

function resolver(global: PrivacyLayer = {}, configTeam: PrivacyLayer | null = null, generalNoLog?: boolean): PrivacyResolver {
  const settings = {
    config: {
      litellmSettings: { privacy: global, default_team_settings: configTeam === null ? [] : [{ team_id: 't', privacy: configTeam }] },
      generalSettings: generalNoLog === undefined ? {} : { global_disable_no_log_param: generalNoLog },
    },
  } as unknown as GatewaySettings;
  return new PrivacyResolver(settings);
}

const caller = (team: PrivacyLayer | null, key: PrivacyLayer | null): Principal =>
  ({
    kind: 'key',
    teamId: 't',
    teamMetadata: team === null ? {} : { logging_settings: team },
    keyMetadata: key === null ? {} : { logging_settings: key },
  }) as unknown as Principal;

describe(PrivacyResolver.name, () => {
  // global < config team < team (API) < key, per switch.
  it.each<[string, PrivacyLayer, PrivacyLayer | null, PrivacyLayer | null, PrivacyLayer | null, { value: boolean; source: string }]>([
    ['nothing anywhere', {}, null, null, null, { value: false, source: 'default' }],
    ['global only', { turn_off_message_logging: true }, null, null, null, { value: true, source: 'global' }],
    ['config team over global', { turn_off_message_logging: true }, { turn_off_message_logging: false }, null, null, { value: false, source: 'config' }],
    ['API team over config team', {}, { turn_off_message_logging: false }, { turn_off_message_logging: true }, null, { value: true, source: 'team' }],
    ['key over team', {}, null, { turn_off_message_logging: true }, { turn_off_message_logging: false }, { value: false, source: 'key' }],
    ['a team that sets another switch inherits this one', { turn_off_message_logging: true }, null, { redact_user_api_key_info: true }, null, { value: true, source: 'global' }],
  ])('%s', (_name, global, configTeam, team, key, expected) => {
    expect(resolver(global, configTeam).resolve(caller(team, key)).turn_off_message_logging).toEqual(expected);
  });

  it('no-log is allowed by default and forbidden by either global section, a team or a key', () => {
    expect(resolver().resolve(caller(null, null)).no_log_allowed).toEqual({ value: true, source: 'default' });
    expect(resolver({ disable_no_log_param: true }).resolve(caller(null, null)).no_log_allowed).toEqual({ value: false, source: 'global' });
    expect(resolver({}, null, true).resolve(caller(null, null)).no_log_allowed).toEqual({ value: false, source: 'global' });
    expect(resolver().resolve(caller({ disable_no_log_param: true }, null)).no_log_allowed).toEqual({ value: false, source: 'team' });
    expect(resolver({ disable_no_log_param: true }).resolve(caller(null, { disable_no_log_param: false })).no_log_allowed).toEqual({ value: true, source: 'key' });
  });

  it('pii_masking: the most specific level wins, false switches it off', () => {
    const masking = { detectors: ['email'], patterns: [] };
    expect(resolver().resolve(caller({ pii_masking: masking } as PrivacyLayer, null)).pii_masking).toEqual({ value: masking, source: 'team' });
    expect(resolver().resolve(caller({ pii_masking: masking } as PrivacyLayer, { pii_masking: null })).pii_masking).toEqual({ value: null, source: 'key' });
  });

  it('stored settings that no longer read apply nothing rather than failing the request', () => {
    const broken = { kind: 'key', teamId: 't', teamMetadata: { logging_settings: { turn_off_message_logging: 'perhaps' } }, keyMetadata: {} } as unknown as Principal;
    expect(resolver({ turn_off_message_logging: true }).resolve(broken).turn_off_message_logging).toEqual({ value: true, source: 'global' });
  });

  it('reads LiteLLM’s request headers', () => {
    expect(privacyHints({ 'x-litellm-enable-message-redaction': 'true' })).toEqual({ enableRedaction: true, disableRedaction: false });
    expect(privacyHints({ 'litellm-enable-message-redaction': 'True' })).toEqual({ enableRedaction: true, disableRedaction: false });
    expect(privacyHints({ 'litellm-disable-message-redaction': 'true' })).toEqual({ enableRedaction: false, disableRedaction: true });
    expect(privacyHints({ 'litellm-disable-message-redaction': 'no' })).toEqual({ enableRedaction: false, disableRedaction: false });
  });
});
