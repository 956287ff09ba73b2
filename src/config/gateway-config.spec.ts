import { SUPPORTED_PREFIXES } from '../completions/providers/registry';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ConfigValidationError,
  formatConfigIssue,
  KNOWN_CONFIG_KEYS,
  loadGatewayConfig,
  parseGatewayConfig,
} from './gateway-config';
import type { ConfigIssue } from './gateway-config.types';

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

function fatalIssues(text: string): ConfigIssue[] {
  try {
    parseGatewayConfig(text, '/srv/config.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as ConfigValidationError).issues;
  }
  throw new Error('expected the config to be rejected');
}

function warningsOf(text: string): ConfigIssue[] {
  return parseGatewayConfig(text, null).warnings;
}

describe('parseGatewayConfig', () => {
  describe('the example config.yaml at the repo root', () => {
    const example = loadGatewayConfig(path.resolve(__dirname, '../../config.yaml'));

    it('loads without errors or warnings', () => {
      expect(example.warnings).toEqual([]);
      expect(example.config.source).toBe(path.resolve(__dirname, '../../config.yaml'));
    });

    it('serves the seed’s model names offline, with costs', () => {
      const models = example.config.modelList;
      expect(models.map((m) => [m.model_name, m.litellm_params.model])).toEqual([
        ['fake-openai-endpoint', 'mock/fake-openai-endpoint'],
        ['gpt-4', 'mock/gpt-4'],
        ['mock/*', 'mock/*'],
      ]);
      expect(example.config.modelGroupAlias).toEqual({ 'gpt-4-latest': { model: 'gpt-4', hidden: false } });
      expect(models[1].model_info).toMatchObject({ input_cost_per_token: 0.00003, output_cost_per_token: 0.00006 });
      expect(typeof models[0].model_info.id).toBe('string');
    });

    it('keeps the seed’s teams with their os.environ/ references unresolved', () => {
      expect(example.config.litellmSettings.default_team_settings).toEqual([
        {
          team_id: 'my-secret-project',
          logging_configured: true,
          privacy: {},
          success_callback: ['langfuse'],
          failure_callback: [],
          callbacks: [],
          callback_vars: {
            langfuse_public_key: 'os.environ/LANGFUSE_PUB_KEY_1',
            langfuse_secret: 'os.environ/LANGFUSE_PRIVATE_KEY_1',
          },
        },
        {
          team_id: 'ishaans-secret-project',
          logging_configured: true,
          privacy: {},
          success_callback: ['langfuse'],
          failure_callback: [],
          callbacks: [],
          callback_vars: {
            langfuse_public_key: 'os.environ/LANGFUSE_PUB_KEY_2',
            langfuse_secret: 'os.environ/LANGFUSE_SECRET_2',
          },
        },
        {
          team_id: 'dbe2f686-a686-4896-864a-4c3924458709',
          logging_configured: false,
          privacy: {},
          success_callback: [],
          failure_callback: [],
          callbacks: [],
          callback_vars: {},
        },
      ]);
      expect(example.config.generalSettings.master_key).toBe('sk-1234');
    });
  });

  describe('LiteLLM configs load unchanged', () => {
    it.each([
      [
        'proxy quick start with drop_params, router_settings and environment_variables',
        yaml(
          'model_list:',
          '  - model_name: gpt-3.5-turbo',
          '    litellm_params:',
          '      model: openai/gpt-3.5-turbo',
          '      api_key: os.environ/OPENAI_API_KEY',
          '      rpm: 6',
          '  - model_name: gpt-3.5-turbo',
          '    litellm_params:',
          '      model: gpt-3.5-turbo',
          '      api_base: os.environ/OPENAI_API_BASE',
          'litellm_settings:',
          '  drop_params: True',
          '  set_verbose: False',
          '  num_retries: 3',
          '  request_timeout: 10',
          '  success_callback: ["langfuse"]',
          'router_settings:',
          '  routing_strategy: usage-based-routing-v2',
          '  redis_host: os.environ/REDIS_HOST',
          'environment_variables:',
          '  REDIS_PORT: 6379',
          '  LANGFUSE_HOST: https://cloud.langfuse.com',
          'general_settings:',
          '  master_key: os.environ/LITELLM_MASTER_KEY',
          '  database_url: os.environ/DATABASE_URL',
          '  alerting: ["slack"]',
          '  proxy_batch_write_at: 60',
          '  database_connection_pool_limit: 10',
        ),
        [
          'litellm_settings.drop_params',
          'litellm_settings.set_verbose',
          'router_settings.redis_host',
          'general_settings.alerting',
          'general_settings.proxy_batch_write_at',
          'general_settings.database_connection_pool_limit',
        ],
      ],
      [
        'team logging with nested callback_vars and a single-string callback',
        yaml(
          'litellm_settings:',
          '  callbacks: custom_callbacks.proxy_handler_instance',
          '  default_team_settings:',
          '    - team_id: team-1',
          '      success_callback: langfuse',
          '      callback_vars:',
          '        langfuse_public_key: os.environ/LANGFUSE_PROJECT1_PUBLIC_KEY',
          '        langfuse_secret_key: os.environ/LANGFUSE_PROJECT1_SECRET_KEY',
          '        langfuse_host: https://cloud.langfuse.com',
        ),
        [],
      ],
      [
        'PyYAML-style booleans, anchors and merge keys',
        yaml(
          'x-defaults: &defaults',
          '  api_key: os.environ/OPENAI_API_KEY',
          '  timeout: 30',
          'model_list:',
          '  - model_name: a',
          '    litellm_params:',
          '      <<: *defaults',
          '      model: openai/gpt-4o',
          'litellm_settings:',
          '  cache: yes',
          '  cache_params: { type: local }',
          '  turn_off_message_logging: on',
        ),
        ['x-defaults'],
      ],
      ['an empty file', '', []],
      ['only comments', '# nothing configured yet\n', []],
      ['empty sections', yaml('model_list:', 'litellm_settings:', 'general_settings:', 'environment_variables:'), []],
    ])('%s', (_name, text, warningPaths) => {
      const { warnings } = parseGatewayConfig(text, null);
      expect(warnings.map((w) => w.path)).toEqual(warningPaths);
    });

    it('reads the merged values and the PyYAML booleans', () => {
      const { config } = parseGatewayConfig(
        yaml(
          'x-defaults: &defaults',
          '  api_key: os.environ/OPENAI_API_KEY',
          '  timeout: 30',
          'model_list:',
          '  - model_name: a',
          '    litellm_params:',
          '      <<: *defaults',
          '      model: openai/gpt-4o',
          'litellm_settings:',
          '  cache: yes',
          'environment_variables:',
          '  FLAG: y',
          '  STARTED: 2024-01-01',
        ),
        null,
      );
      expect(config.modelList[0].litellm_params).toMatchObject({ api_key: 'os.environ/OPENAI_API_KEY', timeout: 30 });
      expect(config.litellmSettings.cache).toBe(true);
      expect(config.environmentVariables).toEqual({ FLAG: 'y', STARTED: '2024-01-01' });
    });
  });

  describe('fatal issues name the path, the line and the fix', () => {
    it.each<[string, string, string, number, string]>([
      [
        'plural success_callbacks',
        yaml('litellm_settings:', '  success_callbacks: ["langfuse"]'),
        'litellm_settings.success_callbacks',
        2,
        'did you mean `success_callback`?',
      ],
      [
        'misspelt sucess_callback',
        yaml('litellm_settings:', '  sucess_callback: ["langfuse"]'),
        'litellm_settings.sucess_callback',
        2,
        'did you mean `success_callback`?',
      ],
      [
        'singular default_team_setting',
        yaml('litellm_settings:', '  cache: false', '  default_team_setting:', '    - team_id: a'),
        'litellm_settings.default_team_setting',
        3,
        'did you mean `default_team_settings`?',
      ],
      [
        'dashed master-key',
        yaml('general_settings:', '  master-key: sk-1234'),
        'general_settings.master-key',
        2,
        'did you mean `master_key`?',
      ],
      [
        'plural success_callbacks inside a team entry',
        yaml('litellm_settings:', '  default_team_settings:', '    - team_id: a', '      success_callbacks: ["langfuse"]'),
        'litellm_settings.default_team_settings[0].success_callbacks',
        4,
        'did you mean `success_callback`?',
      ],
      [
        'a team entry without team_id',
        yaml(
          'litellm_settings:',
          '  default_team_settings:',
          '    - team_id: a',
          '      success_callback: ["langfuse"]',
          '    - success_callback: ["langfuse"]',
          '      langfuse_public_key: os.environ/PK',
        ),
        'litellm_settings.default_team_settings[1].team_id',
        5,
        'missing',
      ],
      [
        'a numeric team_id',
        yaml('litellm_settings:', '  default_team_settings:', '    - team_id: 1234'),
        'litellm_settings.default_team_settings[0].team_id',
        3,
        'quote it',
      ],
      [
        'duplicate team ids',
        yaml('litellm_settings:', '  default_team_settings:', '    - team_id: a', '    - team_id: a'),
        'litellm_settings.default_team_settings[1].team_id',
        4,
        'duplicate team_id `a`',
      ],
      [
        'a misspelt variable inside nested callback_vars',
        yaml('litellm_settings:', '  default_team_settings:', '    - team_id: a', '      callback_vars:', '        langfuse_secert: x'),
        'litellm_settings.default_team_settings[0].callback_vars.langfuse_secert',
        5,
        'did you mean `langfuse_secret`?',
      ],
      [
        'a list as a callback variable',
        yaml('litellm_settings:', '  default_team_settings:', '    - team_id: a', '      langfuse_host: [x]'),
        'litellm_settings.default_team_settings[0].langfuse_host',
        4,
        'must be a string, number or boolean',
      ],
      [
        'a callback list with a number in it',
        yaml('litellm_settings:', '  failure_callback:', '    - langfuse', '    - 42'),
        'litellm_settings.failure_callback[1]',
        4,
        'must be a non-empty string',
      ],
      [
        'a mapping as a callback list',
        yaml('litellm_settings:', '  callbacks: { langfuse: true }'),
        'litellm_settings.callbacks',
        2,
        'must be a list of strings',
      ],
      [
        'a string as cache',
        yaml('litellm_settings:', '  cache: "maybe"'),
        'litellm_settings.cache',
        2,
        'must be true or false',
      ],
      [
        'an unsupported provider',
        yaml('model_list:', '  - model_name: gpt-4o', '    litellm_params:', '      model: nosuch/gpt-4o'),
        'model_list[0].litellm_params.model',
        4,
        `provider \`nosuch\` is not supported by Gatehouse (supported: ${SUPPORTED_PREFIXES.join(', ')})`,
      ],
      [
        'an unsupported custom_llm_provider',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: m', '      custom_llm_provider: nosuch'),
        'model_list[0].litellm_params.custom_llm_provider',
        5,
        'provider `nosuch` is not supported',
      ],
      [
        'a deployment without a model',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      api_key: sk-x'),
        'model_list[0].litellm_params.model',
        3,
        'missing',
      ],
      [
        'a deployment without litellm_params',
        yaml('model_list:', '  - model_name: m'),
        'model_list[0].litellm_params',
        2,
        'missing',
      ],
      [
        'an empty model_name',
        yaml('model_list:', '  - model_name: ""', '    litellm_params: { model: mock/x }'),
        'model_list[0].model_name',
        2,
        'must be a non-empty string',
      ],
      [
        'an api_base that is not a URL',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: openai/m', '      api_base: api.openai.com/v1'),
        'model_list[0].litellm_params.api_base',
        5,
        'must be an http(s) URL',
      ],
      [
        'a negative timeout',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: openai/m', '      timeout: -5'),
        'model_list[0].litellm_params.timeout',
        5,
        'must be a non-negative number',
      ],
      [
        'a fractional max_retries',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: openai/m', '      max_retries: 1.5'),
        'model_list[0].litellm_params.max_retries',
        5,
        'must be a non-negative integer',
      ],
      [
        'a misspelt api_base',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: openai/m', '      api_bsae: https://x'),
        'model_list[0].litellm_params.api_bsae',
        5,
        'did you mean `api_base`?',
      ],
      [
        'a cost that is not a number',
        yaml('model_list:', '  - model_name: m', '    litellm_params: { model: mock/m }', '    model_info:', '      input_cost_per_token: cheap'),
        'model_list[0].model_info.input_cost_per_token',
        5,
        'must be a non-negative number',
      ],
      [
        'access groups that are not a list of names',
        yaml('model_list:', '  - model_name: m', '    litellm_params: { model: mock/m }', '    model_info:', '      access_groups: beta-models'),
        'model_list[0].model_info.access_groups',
        5,
        'must be a list of access group names',
      ],
      [
        'duplicate model_info ids',
        yaml(
          'model_list:',
          '  - model_name: a',
          '    litellm_params: { model: mock/a }',
          '    model_info: { id: same }',
          '  - model_name: b',
          '    litellm_params: { model: mock/b }',
          '    model_info: { id: same }',
        ),
        'model_list[1].model_info.id',
        7,
        'duplicate id `same`',
      ],
      [
        'an os.environ/ reference with an invalid name',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: openai/m', '      api_key: os.environ/oidc/env_path/FILE'),
        'model_list[0].litellm_params.api_key',
        5,
        'is not a valid os.environ/ reference',
      ],
      [
        'a misspelt os.environ/ reference (taken literally, it would be sent as the value)',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: azure/m', '      api_version: os.envrion/AZURE_API_VERSION'),
        'model_list[0].litellm_params.api_version',
        5,
        '`os.envrion/` looks like a misspelt `os.environ/` reference',
      ],
      [
        'master_key under litellm_settings',
        yaml('litellm_settings:', '  master_key: sk-1234'),
        'litellm_settings.master_key',
        2,
        'belongs under `general_settings`',
      ],
      [
        'a database_url that is not Postgres',
        yaml('general_settings:', '  database_url: mysql://db/litellm'),
        'general_settings.database_url',
        2,
        'must be a postgres:// or postgresql:// URL',
      ],
      [
        'a list as an environment variable',
        yaml('environment_variables:', '  HOSTS: [a, b]'),
        'environment_variables.HOSTS',
        2,
        'must be a string, number or boolean',
      ],
      ['a near-miss top-level section', yaml('model_lists:', '  - model_name: m'), 'model_lists', 1, 'did you mean `model_list`?'],
      ['model_list as a mapping', yaml('model_list:', '  gpt-4: mock/gpt-4'), 'model_list', 1, 'must be a list of deployments'],
      ['a duplicate YAML key', yaml('general_settings:', '  master_key: a', '  master_key: b'), 'general_settings.master_key', 3, 'appears twice in the same mapping (LiteLLM would silently keep only the last one)'],
      [
        'a litellm_credential_name credential_list does not define',
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: azure/d', '      litellm_credential_name: nope', 'credential_list:', '  - credential_name: eu', '    credential_values: {api_key: k}'),
        'model_list[0].litellm_params.litellm_credential_name',
        5,
        'refers to credential `nope`, which credential_list does not define (defined: eu)',
      ],
    ])('%s', (_name, text, issuePath, line, fragment) => {
      const issues = fatalIssues(text);
      expect(issues).toContainEqual({ path: issuePath, line, message: expect.stringContaining(fragment) as unknown });
    });

    it('reports a YAML syntax error with its line and nothing else', () => {
      const issues = fatalIssues(yaml('model_list:', '  - model_name: m', '    litellm_params: [oops', 'litellm_settings:', '  sucess_callback: x'));
      expect(issues.length).toBeGreaterThan(0);
      expect(issues.every((issue) => issue.line !== null && issue.line >= 3)).toBe(true);
      expect(issues.some((issue) => issue.path.includes('sucess_callback'))).toBe(false);
    });

    it('reports an alias to an undefined anchor', () => {
      expect(fatalIssues(yaml('litellm_settings:', '  callbacks: *nowhere'))).toContainEqual(
        expect.objectContaining({ line: 2, message: expect.stringContaining('anchor') as unknown }),
      );
    });

    it('lists every issue in the message as `config.yaml:LINE  path: message`', () => {
      const text = yaml(
        'litellm_settings:',
        '  success_callbacks: ["langfuse"]',
        '  default_team_settings:',
        '    - team_id: a',
        '    - langfuse_host: https://cloud.langfuse.com',
      );
      let error: ConfigValidationError | undefined;
      try {
        parseGatewayConfig(text, '/srv/gatehouse/config.yaml');
      } catch (caught) {
        error = caught as ConfigValidationError;
      }
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect(error?.issues).toHaveLength(2);
      expect(error?.message).toContain('/srv/gatehouse/config.yaml (2 problems)');
      expect(error?.message).toContain(
        'config.yaml:2  litellm_settings.success_callbacks: unknown key; did you mean `success_callback`?',
      );
      expect(error?.message).toContain('config.yaml:5  litellm_settings.default_team_settings[1].team_id: missing');
    });
  });

  describe('credentials and keys as LiteLLM configs write them', () => {
    it("gives a deployment its credential_list entry's values (its own win) and drops litellm_credential_name", () => {
      const { config, warnings } = parseGatewayConfig(
        yaml(
          'model_list:',
          '  - model_name: gpt-4o',
          '    litellm_params:',
          '      model: azure/gpt-4o',
          '      litellm_credential_name: default_azure_credential',
          '      api_version: "2024-10-21"',
          'credential_list:',
          '  - credential_name: default_azure_credential',
          '    credential_values:',
          '      api_key: os.environ/AZURE_API_KEY',
          '      api_base: os.environ/AZURE_API_BASE',
          '      api_version: "2023-05-15"',
          '    credential_info:',
          '      description: "Production credentials for EU region"',
        ),
        null,
      );
      expect(config.modelList[0].litellm_params).toEqual({
        model: 'azure/gpt-4o',
        api_key: 'os.environ/AZURE_API_KEY',
        api_base: 'os.environ/AZURE_API_BASE',
        api_version: '2024-10-21',
      });
      expect(warnings.map((w) => w.path)).not.toContain('credential_list');
    });

    it('reads `api_key: ""` as no key (vLLM configs write it so), not as an error', () => {
      const { config } = parseGatewayConfig(yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: hosted_vllm/q', '      api_base: http://h:8000/v1', '      api_key: ""'), null);
      expect(config.modelList[0].litellm_params).not.toHaveProperty('api_key');
    });
  });

  describe('warnings, not failures', () => {
    it.each([
      ['an unknown top-level key', yaml('my_notes: hello'), 'my_notes', 1, 'unknown key'],
      ['a LiteLLM section Gatehouse ignores', yaml('guardrails:', '  - guardrail_name: g'), 'guardrails', 1, 'not used by Gatehouse'],
      ['include', yaml('include:', '  - models.yaml'), 'include', 1, 'NOT read'],
      ['an ignored LiteLLM setting', yaml('general_settings:', '  store_model_in_db: true'), 'general_settings.store_model_in_db', 2, 'not used'],
      ['an unknown litellm setting far from any known one', yaml('litellm_settings:', '  my_custom_flag: 1'), 'litellm_settings.my_custom_flag', 2, 'unknown key'],
      ['a general setting placed in litellm_settings', yaml('litellm_settings:', '  alerting: ["slack"]'), 'litellm_settings.alerting', 2, '`general_settings` setting'],
      [
        'an unknown callback variable',
        yaml('litellm_settings:', '  default_team_settings:', '    - team_id: a', '      project_label: blue'),
        'litellm_settings.default_team_settings[0].project_label',
        4,
        'kept as a callback variable',
      ],
      ['an unknown deployment key', yaml('model_list:', '  - model_name: m', '    litellm_params: { model: mock/m }', '    tags: [x]'), 'model_list[0].tags', 4, 'ignored'],
    ])('%s', (_name, text, issuePath, line, fragment) => {
      expect(warningsOf(text)).toContainEqual({ path: issuePath, line, message: expect.stringContaining(fragment) as unknown });
    });

    it('keeps unknown and ignored settings for later features', () => {
      const { config } = parseGatewayConfig(
        yaml('litellm_settings:', '  drop_params: true', '  my_custom_flag: 1', 'general_settings:', '  alerting: ["slack"]'),
        null,
      );
      expect(config.litellmSettings.other).toEqual({ drop_params: true, my_custom_flag: 1 });
      expect(config.generalSettings.other).toEqual({ alerting: ['slack'] });
    });
  });

  describe('values', () => {
    it.each([
      ['a single string', 'langfuse', ['langfuse']],
      ['a flow list', '["langfuse", "gcs_bucket"]', ['langfuse', 'gcs_bucket']],
      ['nothing', '', []],
      ['an empty list', '[]', []],
    ])('a callback list written as %s', (_name, written, expected) => {
      const { config } = parseGatewayConfig(
        yaml(
          'litellm_settings:',
          `  success_callback: ${written}`,
          '  default_team_settings:',
          '    - team_id: a',
          `      failure_callback: ${written}`,
        ),
        null,
      );
      expect(config.litellmSettings.success_callback).toEqual(expected);
      expect(config.litellmSettings.default_team_settings[0].failure_callback).toEqual(expected);
    });

    it('turns scalar callback variables into strings and lets nested callback_vars win a clash', () => {
      const text = yaml(
        'litellm_settings:',
        '  default_team_settings:',
        '    - team_id: a',
        '      cache: false',
        '      cache_ttl: 600',
        '      langfuse_prompt_version: 2',
        '      turn_off_message_logging: true',
        '      langfuse_host: https://top.example',
        '      callback_vars:',
        '        langfuse_host: https://nested.example',
      );
      const { config, warnings } = parseGatewayConfig(text, null);
      expect(config.litellmSettings.default_team_settings[0]).toEqual({
        team_id: 'a',
        logging_configured: false,
        success_callback: [],
        failure_callback: [],
        callbacks: [],
        callback_vars: {
          langfuse_prompt_version: '2',
          langfuse_host: 'https://nested.example',
        },
        cache: false,
        cache_ttl: 600,
        // A team-level switch of the entry, not a variable of each destination.
        privacy: { turn_off_message_logging: true },
      });
      expect(warnings).toContainEqual(
        expect.objectContaining({ path: 'litellm_settings.default_team_settings[0].langfuse_host', line: 8 }),
      );
    });

    it.each([
      [{ model: 'gpt-4o' }, 'openai/gpt-4o'],
      [{ model: 'openai/gpt-4o' }, 'openai/gpt-4o'],
      // A bare name goes where LiteLLM sends it, so an Anthropic or AWS key never travels to api.openai.com.
      [{ model: 'bedrock-unrelated-name' }, 'openai/bedrock-unrelated-name'],
      [{ model: 'anthropic.claude-3-5-sonnet-20240620-v1:0' }, 'bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0'],
      [{ model: 'us.meta.llama3-3-70b-instruct-v1:0' }, 'bedrock/us.meta.llama3-3-70b-instruct-v1:0'],
      [{ model: 'gemini-2.5-flash' }, 'vertex_ai/gemini-2.5-flash'],
      [{ model: 'mock/anything/with/slashes' }, 'mock/anything/with/slashes'],
      [{ model: 'meta-llama/Llama-3', custom_llm_provider: 'openai' }, 'openai/meta-llama/Llama-3'],
      [{ model: 'openai/gpt-4o', custom_llm_provider: 'openai' }, 'openai/gpt-4o'],
    ])('litellm_params %j means model %s', (params, expected) => {
      const { config } = parseGatewayConfig(`model_list:\n  - model_name: m\n    litellm_params: ${JSON.stringify(params)}\n`, null);
      expect(config.modelList[0].litellm_params.model).toBe(expected);
    });

    it('takes os.environ/ references in numeric litellm_params (timeout, stream_timeout, max_retries), resolved at compile time', () => {
      const { config } = parseGatewayConfig(
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: openai/m', '      timeout: os.environ/T', '      max_retries: os.environ/R'),
        null,
      );
      expect(config.modelList[0].litellm_params).toMatchObject({ timeout: 'os.environ/T', max_retries: 'os.environ/R' });
    });

    it('keeps os.environ/ references as written everywhere', () => {
      const { config } = parseGatewayConfig(
        yaml(
          'model_list:',
          '  - model_name: m',
          '    litellm_params:',
          '      model: openai/m',
          '      api_key: os.environ/OPENAI_API_KEY',
          '      api_base: os.environ/OPENAI_API_BASE',
          'general_settings:',
          '  master_key: os.environ/LITELLM_MASTER_KEY',
          '  database_url: os.environ/DATABASE_URL',
        ),
        null,
      );
      expect(config.modelList[0].litellm_params).toMatchObject({
        api_key: 'os.environ/OPENAI_API_KEY',
        api_base: 'os.environ/OPENAI_API_BASE',
      });
      expect(config.generalSettings).toMatchObject({
        master_key: 'os.environ/LITELLM_MASTER_KEY',
        database_url: 'os.environ/DATABASE_URL',
      });
    });

    it('drops typed litellm_params left empty instead of passing null on', () => {
      const { config } = parseGatewayConfig(yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: mock/m', '      api_key:'), null);
      expect(config.modelList[0].litellm_params).toEqual({ model: 'mock/m' });
    });

    it('accepts numeric strings for numbers, as LiteLLM’s pydantic models do', () => {
      const { config } = parseGatewayConfig(
        yaml('model_list:', '  - model_name: m', '    litellm_params:', '      model: mock/m', '      timeout: "30"', '      max_retries: "2"'),
        null,
      );
      expect(config.modelList[0].litellm_params).toMatchObject({ timeout: 30, max_retries: 2 });
    });

    it('gives every deployment a stable id unless one is set', () => {
      const text = yaml(
        'model_list:',
        '  - model_name: a',
        '    litellm_params: { model: mock/a }',
        '  - model_name: a',
        '    litellm_params: { model: mock/a }',
        '  - model_name: b',
        '    litellm_params: { model: mock/b }',
        '    model_info: { id: 42, mode: chat }',
      );
      const first = parseGatewayConfig(text, null).config.modelList.map((m) => m.model_info.id);
      const second = parseGatewayConfig(text, null).config.modelList.map((m) => m.model_info.id);
      expect(first).toEqual(second);
      expect(new Set(first).size).toBe(3);
      expect(first[2]).toBe('42');
      expect(parseGatewayConfig(text, null).config.modelList[2].model_info.mode).toBe('chat');
    });

    it('reads allowed_logging_hosts as a list of host names', () => {
      const { config } = parseGatewayConfig(yaml('general_settings:', '  allowed_logging_hosts: langfuse.internal:3000'), null);
      expect(config.generalSettings.allowed_logging_hosts).toEqual(['langfuse.internal:3000']);
      expect(fatalIssues(yaml('general_settings:', '  allowed_logging_hosts: ["https://langfuse.internal"]'))).toContainEqual(
        expect.objectContaining({ path: 'general_settings.allowed_logging_hosts[0]' }),
      );
    });
  });

  it('exposes its key lists and formats issues without a line', () => {
    expect(KNOWN_CONFIG_KEYS.litellmSettings.used).toContain('default_team_settings');
    expect(formatConfigIssue({ path: '', line: null, message: 'file not found' }, '/etc/gatehouse/litellm.yaml')).toBe(
      'litellm.yaml  file not found',
    );
  });
});

describe('loadGatewayConfig', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-config-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with an empty config when the default file is missing', () => {
    const { config, warnings } = loadGatewayConfig(null, { cwd: dir });
    expect(config.source).toBeNull();
    expect(config.modelList).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ message: expect.stringContaining('no config file') as unknown })]);
  });

  it('fails when a named file is missing', () => {
    expect(() => loadGatewayConfig('litellm.yaml', { cwd: dir })).toThrow(/file not found/);
    expect(() => loadGatewayConfig('./config.yaml', { cwd: dir, explicit: true })).toThrow(ConfigValidationError);
  });

  it('treats the default path as optional when told it was not named', () => {
    expect(loadGatewayConfig('./config.yaml', { cwd: dir, explicit: false }).config.source).toBeNull();
  });

  it('reads a relative path against cwd and records the absolute source', () => {
    writeFileSync(path.join(dir, 'config.yaml'), yaml('model_list:', '  - model_name: m', '    litellm_params: { model: mock/m }'));
    const { config } = loadGatewayConfig('config.yaml', { cwd: dir });
    expect(config.source).toBe(path.join(dir, 'config.yaml'));
    expect(config.modelList).toHaveLength(1);
  });

  it('fails on a directory', () => {
    expect(() => loadGatewayConfig(dir)).toThrow(/cannot read the file/);
  });

  describe('privacy settings (issue 14)', () => {
    it('reads LiteLLM’s global switches; global_disable_no_log_param in either section', () => {
      const text = yaml(
        'litellm_settings:',
        '  turn_off_message_logging: true',
        '  redact_user_api_key_info: "True"',
        '  global_disable_no_log_param: true',
        'general_settings:',
        '  global_disable_no_log_param: true',
      );
      const { config, warnings } = parseGatewayConfig(text, null);
      expect(config.litellmSettings.privacy).toEqual({ turn_off_message_logging: true, redact_user_api_key_info: true, disable_no_log_param: true });
      expect(config.generalSettings.global_disable_no_log_param).toBe(true);
      expect(warnings).toEqual([]);
    });

    it('a team entry’s switches and PII masking are the team’s config level', () => {
      const text = yaml(
        'litellm_settings:',
        '  default_team_settings:',
        '    - team_id: a',
        '      redact_user_api_key_info: true',
        '      disable_no_log_param: true',
        '      pii_masking:',
        '        detectors: [email, iban]',
        '        patterns:',
        '          - name: employee_id',
        '            regex: "EMP-\\\\d{6}"',
      );
      const { config } = parseGatewayConfig(text, null);
      expect(config.litellmSettings.default_team_settings[0].privacy).toEqual({
        redact_user_api_key_info: true,
        disable_no_log_param: true,
        pii_masking: { detectors: ['email', 'iban'], patterns: [{ name: 'employee_id', regex: 'EMP-\\d{6}' }] },
      });
    });

    it.each([
      ['a pattern RE2 cannot run', ['      pii_masking:', '        patterns: [{ name: legacy, regex: "(?<=id:)\\\\w+" }]'], 'litellm_settings.default_team_settings[0].pii_masking.patterns[0].regex'],
      ['an unknown detector', ['      pii_masking: { detectors: [ssn] }'], 'litellm_settings.default_team_settings[0].pii_masking.detectors[0]'],
      ['a non-boolean switch', ['      turn_off_message_logging: sometimes'], 'litellm_settings.default_team_settings[0].turn_off_message_logging'],
    ])('%s stops the boot with its path', (_name, lines, path) => {
      const issues = fatalIssues(yaml('litellm_settings:', '  default_team_settings:', '    - team_id: a', ...lines));
      expect(issues.map((issue) => issue.path)).toContain(path);
    });

    it('a pattern RE2 cannot run stops the boot naming the construct; one that only a backtracking engine fears boots', () => {
      const entry = (regex: string) => yaml('litellm_settings:', '  default_team_settings:', '    - team_id: a', '      pii_masking:', `        patterns: [{ name: p, regex: ${JSON.stringify(regex)} }]`);
      const [issue] = fatalIssues(entry('EMP-(?=\\d)\\d+'));
      expect(issue.message).toContain('pattern p (EMP-(?=\\d)\\d+) uses a lookahead (?=…), which RE2 cannot run in linear time');
      expect(parseGatewayConfig(entry('(a+)+$'), null).config.litellmSettings.default_team_settings[0].privacy.pii_masking?.patterns).toEqual([{ name: 'p', regex: '(a+)+$' }]);
    });
  });

  describe('litellm_settings.max_end_user_budget', () => {
    it('is read as the budget of end users without one of their own', () => {
      const { config, warnings } = parseGatewayConfig(yaml('litellm_settings:', '  max_end_user_budget: 2.5'), null);
      expect(config.litellmSettings.max_end_user_budget).toBe(2.5);
      expect(warnings).toEqual([]);
    });

    it('a negative or non-numeric budget stops the boot with its path', () => {
      for (const value of ['-1', 'lots']) {
        expect(fatalIssues(yaml('litellm_settings:', `  max_end_user_budget: ${value}`)).map((issue) => issue.path)).toContain('litellm_settings.max_end_user_budget');
      }
    });
  });
});

describe('litellm_settings.s3_callback_params (the global s3 callback)', () => {
  it("is read in LiteLLM's names, os.environ/ references kept for use time; settings Gatehouse does not act on are warned about", () => {
    const { config, warnings } = parseGatewayConfig(
      yaml(
        'litellm_settings:',
        '  success_callback: ["s3_v2"]',
        '  s3_callback_params:',
        '    s3_bucket_name: logs-bucket',
        '    s3_region_name: eu-west-1',
        '    s3_path: litellm',
        '    s3_aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID',
        '    s3_aws_secret_access_key: os.environ/AWS_SECRET_ACCESS_KEY',
        '    s3_use_team_prefix: true',
        '    s3_flush_interval: 10',
        '    s3_bucket_nme: typo',
      ),
      null,
    );
    // LiteLLM's docs write its current S3 logger as s3_v2: the same destination.
    expect(config.litellmSettings.success_callback).toEqual(['s3']);
    expect(config.litellmSettings.s3_callback_params).toEqual({
      s3_bucket_name: 'logs-bucket',
      s3_region_name: 'eu-west-1',
      s3_path: 'litellm',
      s3_aws_access_key_id: 'os.environ/AWS_ACCESS_KEY_ID',
      s3_aws_secret_access_key: 'os.environ/AWS_SECRET_ACCESS_KEY',
      s3_use_team_prefix: 'true',
    });
    expect(warnings).toEqual([
      { path: 'litellm_settings.s3_callback_params.s3_flush_interval', line: 10, message: expect.stringContaining('not used by Gatehouse') as unknown },
      { path: 'litellm_settings.s3_callback_params.s3_bucket_nme', line: 11, message: expect.stringContaining('did you mean `s3_bucket_name`?') as unknown },
    ]);
  });

  it('takes the s3 names as callback variables of a default_team_settings entry without a warning', () => {
    const { warnings } = parseGatewayConfig(
      yaml('litellm_settings:', '  default_team_settings:', '    - team_id: a', '      success_callback: ["s3"]', '      s3_bucket_name: b', '      s3_path: p'),
      null,
    );
    expect(warnings).toEqual([]);
  });
});
