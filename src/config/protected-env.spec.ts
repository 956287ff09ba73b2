import { ConfigValidationError, parseGatewayConfig } from './gateway-config';
import { ProtectedEnvironment, referencesOutsideLogging } from './protected-env';

const MODELS = `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/PROVIDER_KEY_A
      api_base: os.environ/PROVIDER_BASE
  - model_name: bedrock
    litellm_params:
      model: openai/x
      aws_secret_access_key: os.environ/AWS_SECRET_B
      extra: { nested: [os.environ/NESTED_C] }
general_settings:
  master_key: os.environ/MY_MASTER
  database_url: os.environ/MY_DB
litellm_settings:
  cache_params:
    type: redis
    password: os.environ/MY_REDIS_PW
  success_callback: ["langfuse"]
  default_team_settings:
    - team_id: t1
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/TEAM_PK
      langfuse_secret_key: os.environ/TEAM_SK
`;

function issuesOf(yaml: string): { errors: string[]; warnings: string[] } {
  try {
    const { warnings } = parseGatewayConfig(yaml, null);
    return { errors: [], warnings: warnings.map((w) => `${w.path}: ${w.message}`) };
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    return { errors: error.issues.map((i) => `${i.path}: ${i.message}`), warnings: error.warnings.map((w) => `${w.path}: ${w.message}`) };
  }
}

describe(ProtectedEnvironment.name, () => {
  it('protects the gateway’s own variables and every one config.yaml references outside its logging settings', () => {
    const { config } = parseGatewayConfig(MODELS, null);
    expect([...referencesOutsideLogging(config)].sort()).toEqual(['AWS_SECRET_B', 'MY_DB', 'MY_MASTER', 'MY_REDIS_PW', 'NESTED_C', 'PROVIDER_BASE', 'PROVIDER_KEY_A']);
    const env = ProtectedEnvironment.forConfig(config);
    for (const name of ['PROVIDER_KEY_A', 'AWS_SECRET_B', 'NESTED_C', 'MY_REDIS_PW', 'DATABASE_URL', 'MASTER_KEY', 'LITELLM_MASTER_KEY', 'SALT_KEY', 'LITELLM_SALT_KEY', 'SALT_KEY_PREVIOUS', 'LITELLM_SALT_KEY_PREVIOUS', 'REDIS_URL', 'REDIS_PASSWORD']) {
      expect([name, env.refuses(name)]).toEqual([name, true]);
    }
    // The logging settings' own references stay usable as logging credentials.
    expect(env.refuses('TEAM_SK')).toBe(false);
    expect(env.refuses('LANGFUSE_SECRET_KEY')).toBe(false);
    expect(ProtectedEnvironment.refusal('PROVIDER_KEY_A')).toContain('general_settings.allowed_logging_env_vars');
  });

  it('lets general_settings.allowed_logging_env_vars lift the rule, warning when it names a core secret', () => {
    const yaml = `${MODELS.replace('general_settings:', 'general_settings:\n  allowed_logging_env_vars: [PROVIDER_KEY_A, REDIS_URL]')}`;
    const { config } = parseGatewayConfig(yaml, null);
    const env = ProtectedEnvironment.forConfig(config);
    expect([env.refuses('PROVIDER_KEY_A'), env.refuses('REDIS_URL'), env.refuses('AWS_SECRET_B')]).toEqual([false, false, true]);
    expect(issuesOf(yaml).warnings).toContainEqual(expect.stringMatching(/^general_settings\.allowed_logging_env_vars\[1\]: .*REDIS_URL/));
    expect(issuesOf('general_settings:\n  allowed_logging_env_vars: ["os.environ/X", "A-B"]\n').errors).toEqual([
      expect.stringMatching(/^general_settings\.allowed_logging_env_vars\[0\]: must be an environment variable name/),
      expect.stringMatching(/^general_settings\.allowed_logging_env_vars\[1\]: must be an environment variable name/),
    ]);
  });

  it('stops the start when default_team_settings references one of them, naming the path and the variable', () => {
    const leaky = MODELS.replace('langfuse_secret_key: os.environ/TEAM_SK', 'langfuse_secret_key: os.environ/PROVIDER_KEY_A').replace(
      'langfuse_public_key: os.environ/TEAM_PK',
      'callback_vars:\n        langfuse_public_key: os.environ/REDIS_URL',
    );
    const { errors } = issuesOf(leaky);
    expect(errors).toEqual([
      expect.stringMatching(/^litellm_settings\.default_team_settings\[0\]\.callback_vars\.langfuse_public_key: os\.environ\/REDIS_URL is one of the gateway's own secrets/),
      expect.stringMatching(/^litellm_settings\.default_team_settings\[0\]\.langfuse_secret_key: os\.environ\/PROVIDER_KEY_A is one of the gateway's own secrets.*allowed_logging_env_vars/),
    ]);
    const allowed = leaky.replace('general_settings:', 'general_settings:\n  allowed_logging_env_vars: [PROVIDER_KEY_A, REDIS_URL]');
    expect(issuesOf(allowed).errors).toEqual([]);
    expect(issuesOf(MODELS).errors).toEqual([]);
  });
});
