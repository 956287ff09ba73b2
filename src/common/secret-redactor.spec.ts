import { loadEnvironment } from '../config/environment';
import { parseGatewayConfig } from '../config/gateway-config';
import { GatewaySettings } from '../config/gateway-settings';
import { REDACTION_MARKER, SecretRedactor } from './secret-redactor';

const MASTER = 'master-0123456789-abcdefghijklmnopqrstuv';

function settingsFor(yaml: string, env: Record<string, string> = {}, databaseUrl = 'postgres://gw:db-pass-93jf7@127.0.0.1:5432/gw'): GatewaySettings {
  const { config } = parseGatewayConfig(yaml, null);
  return new GatewaySettings(loadEnvironment(env), config, MASTER, { url: databaseUrl, poolSize: 1, embedded: false });
}

const CONFIG = `
model_list:
  - model_name: plain
    litellm_params:
      model: openai/gpt-4o
      api_key: upstream-literal-key-7f3a
  - model_name: from-env
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/REDACTOR_SPEC_PROVIDER_KEY
      aws_secret_access_key: os.environ/REDACTOR_SPEC_AWS_SECRET
      api_base: https://api.example.com/v1
litellm_settings:
  cache_params:
    type: local
    password: os.environ/REDACTOR_SPEC_REDIS_PASSWORD
`;

describe(SecretRedactor.name, () => {
  const env = {
    REDACTOR_SPEC_PROVIDER_KEY: 'provider-from-env-Qw8z1x',
    REDACTOR_SPEC_AWS_SECRET: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    REDACTOR_SPEC_REDIS_PASSWORD: 'redis-pw-55k2',
    // Read by a provider when litellm_params names no key, so no config line points at it.
    ANTHROPIC_API_KEY: 'ant-default-key-3k9p',
    AWS_SESSION_TOKEN: 'session-token-value-77q',
  };
  const redactor = SecretRedactor.forGateway(
    settingsFor(CONFIG, { SALT_KEY: 'salt-key-value-xyz987', SALT_KEY_PREVIOUS: 'old-salt-one-abc, old-salt-two-def' }),
    env,
  );

  it.each([
    ['a literal api_key', 'upstream-literal-key-7f3a'],
    ['an api_key read from os.environ/', 'provider-from-env-Qw8z1x'],
    ['another secret litellm_param', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['the master key', MASTER],
    ['the salt key', 'salt-key-value-xyz987'],
    ['a previous salt key', 'old-salt-two-def'],
    ['the database password', 'db-pass-93jf7'],
    ['the cache password', 'redis-pw-55k2'],
    ["a provider's default key variable", 'ant-default-key-3k9p'],
    ['an AWS session token from the environment', 'session-token-value-77q'],
  ])('replaces %s wherever it appears', (_label, secret) => {
    const text = `upstream said: bad credential "${secret}" (${encodeURIComponent(secret)})`;
    const out = redactor.redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTION_MARKER);
    expect(out).toMatch(/^upstream said: bad credential/);
  });

  it('knows REDIS_PASSWORD from the validated environment, whatever process environment it is given', () => {
    const withRedis = SecretRedactor.forGateway(settingsFor(CONFIG, { REDIS_HOST: 'cache', REDIS_PASSWORD: 'env-redis-pw-4q1' }), {});
    expect(withRedis.redact('WRONGPASS for env-redis-pw-4q1')).toBe(`WRONGPASS for ${REDACTION_MARKER}`);
  });

  it('leaves the api_base and ordinary prose alone', () => {
    const text = 'The model https://api.example.com/v1 is overloaded; the token limit was reached, try again later.';
    expect(redactor.redact(text)).toBe(text);
    expect(redactor.redact('')).toBe('');
  });

  it.each([
    ['OpenAI 401', 'Incorrect API key provided: sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789.', 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'],
    ['Anthropic key', 'invalid x-api-key sk-ant-api03-abcdefghijklmnopqrstuvwxyz-0123', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz-0123'],
    ['AWS key id', 'The security token included in the request is invalid: AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['Google key', 'API key not valid: AIzaSyA-1234567890abcdefghijklmnopqrstu', 'AIzaSyA-1234567890abcdefghijklmnopqrstu'],
    ['Bearer header', 'sent Authorization: Bearer opaque.value_0123456789', 'opaque.value_0123456789'],
    ['Basic header', 'Authorization: Basic cGstbGYtMTIzOnNrLWxmLTQ1Ng==', 'cGstbGYtMTIzOnNrLWxmLTQ1Ng=='],
    ['JWT', 'expired eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'eyJzdWIiOiIxMjM0NTY3ODkwIn0'],
    ['URL password', 'cannot connect to redis://default:hunter2hunter2@cache:6379', 'hunter2hunter2'],
    ['PEM key', 'bad key -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY----- end', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'],
    ['announced token', 'invalid api_key=Zx81nq0PLmW2vB7tR4cY9sDe', 'Zx81nq0PLmW2vB7tR4cY9sDe'],
    ['announced token in JSON', '{"secret": "8f0c2b7e4d1a9f3e6b5c0d2a"}', '8f0c2b7e4d1a9f3e6b5c0d2a'],
    ['LangSmith key', 'unauthorized: lsv2_pt_0123456789abcdef0123456789abcdef', 'lsv2_pt_0123456789abcdef0123456789abcdef'],
  ])('replaces a credential shaped like a %s', (_label, text, secret) => {
    const out = redactor.redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTION_MARKER);
  });

  it('keeps the scheme or URL around a replaced secret, so the message still reads', () => {
    expect(redactor.redact('Authorization: Bearer abcdefgh12345678')).toBe(`Authorization: Bearer ${REDACTION_MARKER}`);
    expect(redactor.redact('at postgres://app:s3cr3t-pw@db:5432/x')).toBe(`at postgres://app:${REDACTION_MARKER}@db:5432/x`);
    expect(redactor.redact('Incorrect API key provided: k7Hq2mX9pL4nR8sT1vW6yZ0a.')).toBe(`Incorrect API key provided: ${REDACTION_MARKER}.`);
  });

  it('adds the secrets of the moment (a destination own credentials) to the configured ones', () => {
    const own = 'sk-lf-0b1d';
    expect(redactor.redact(`Invalid credentials ${own} for pk-lf-visible`, [own])).toBe(`Invalid credentials ${REDACTION_MARKER} for pk-lf-visible`);
  });

  it('takes the secret fields of a JSON credential, not the whole blob', () => {
    const vertex = JSON.stringify({ type: 'service_account', client_email: 'a@b.iam', private_key_id: 'kid-0123456789abcdef' });
    const out = SecretRedactor.forGateway(
      settingsFor(`model_list:\n  - model_name: v\n    litellm_params:\n      model: openai/x\n      vertex_credentials: os.environ/REDACTOR_SPEC_VERTEX\n`),
      { REDACTOR_SPEC_VERTEX: vertex },
    ).redact('key kid-0123456789abcdef of a@b.iam');
    expect(out).toBe(`key ${REDACTION_MARKER} of a@b.iam`);
  });

  it('takes the credential headers of extra_headers, not the others', () => {
    const out = SecretRedactor.forGateway(
      settingsFor(
        `model_list:\n  - model_name: h\n    litellm_params:\n      model: openai/x\n      extra_headers:\n        X-Upstream-Token: os.environ/REDACTOR_SPEC_HEADER\n        X-Tenant: tenant-name-visible\n`,
      ),
      { REDACTOR_SPEC_HEADER: 'hdr0123secret' },
    ).redact('rejected hdr0123secret for tenant-name-visible');
    expect(out).toBe(`rejected ${REDACTION_MARKER} for tenant-name-visible`);
  });
});
