import { PII_DETECTORS } from './pii-masker';
import { readLoggingSettings, relaxations } from './privacy-settings';

const read = (raw: unknown) => readLoggingSettings(raw, { checkPatterns: true });

describe('logging_settings', () => {
  it('reads every switch, LiteLLM string booleans included', () => {
    expect(read({ turn_off_message_logging: 'True', redact_user_api_key_info: false, disable_no_log_param: true, allow_client_message_redaction_opt_out: true })).toEqual({
      layer: { turn_off_message_logging: true, redact_user_api_key_info: false, disable_no_log_param: true, allow_client_message_redaction_opt_out: true },
    });
  });

  it('pii_masking: true is every detector, false is off, an object lists detectors and patterns', () => {
    expect(read({ pii_masking: true })).toEqual({ layer: { pii_masking: { detectors: PII_DETECTORS, patterns: [] } } });
    expect(read({ pii_masking: false })).toEqual({ layer: { pii_masking: null } });
    expect(read({ pii_masking: { detectors: ['phone', 'email'], patterns: [{ name: 'employee_id', regex: 'EMP-\\d{6}' }] } })).toEqual({
      layer: { pii_masking: { detectors: ['email', 'phone'], patterns: [{ name: 'employee_id', regex: 'EMP-\\d{6}' }] } },
    });
    expect(read({ pii_masking: { detectors: 'all' } })).toEqual({ layer: { pii_masking: { detectors: PII_DETECTORS, patterns: [] } } });
  });

  it.each([
    [{ turn_off_message_logging: 'yes' }, 'turn_off_message_logging', 'must be true or false'],
    [{ turn_of_message_logging: true }, 'turn_of_message_logging', 'unknown setting'],
    [{ pii_masking: { detectors: ['email', 'ssn'] } }, 'pii_masking.detectors[1]', 'unknown detector "ssn"'],
    [{ pii_masking: { detectors: [] } }, 'pii_masking', 'names no detector'],
    [{ pii_masking: { patterns: [{ name: 'ok', regex: 'x' }, { name: 'bad', regex: '(?<=id:)\\w+' }] } }, 'pii_masking.patterns[1].regex', 'pattern bad ((?<=id:)\\w+) uses a lookbehind (?<=…), which RE2 cannot run in linear time'],
    [{ pii_masking: { patterns: [{ name: 'long', regex: 'x'.repeat(501) }] } }, 'pii_masking.patterns[0].regex', 'is longer than 500 characters'],
    [{ pii_masking: { patterns: [{ name: '1x', regex: 'x' }] } }, 'pii_masking.patterns[0].name', 'name must be'],
    [{ pii_masking: { patterns: [{ name: 'x', regex: 'x', flags: 'i' }] } }, 'pii_masking.patterns[0]', '{name, regex}'],
    [{ pii_masking: 'on' }, 'pii_masking', 'must be true, false, or an object'],
  ])('%j is refused at %s', (raw, path, message) => {
    const result = read(raw);
    expect('problem' in result && result.problem.path).toBe(path);
    expect('problem' in result && result.problem.message).toContain(message);
  });

  it('relaxations: what only the proxy admin may do', () => {
    expect(relaxations({ turn_off_message_logging: true, pii_masking: { detectors: ['email'], patterns: [] } }, {})).toEqual([]);
    expect(relaxations({ turn_off_message_logging: false }, {})).toEqual(['turn_off_message_logging']);
    expect(relaxations({ turn_off_message_logging: false }, { turn_off_message_logging: false })).toEqual([]);
    expect(relaxations({ disable_no_log_param: false }, {})).toEqual(['disable_no_log_param']);
    expect(relaxations({ disable_no_log_param: true }, { disable_no_log_param: true })).toEqual([]);
    expect(relaxations({ allow_client_message_redaction_opt_out: true }, {})).toEqual(['allow_client_message_redaction_opt_out']);
    expect(relaxations({ pii_masking: null }, { pii_masking: { detectors: ['email'], patterns: [] } })).toEqual(['pii_masking']);
    expect(relaxations({ pii_masking: null }, {})).toEqual(['pii_masking']);
  });
});
