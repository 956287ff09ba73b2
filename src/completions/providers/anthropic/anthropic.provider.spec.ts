import type { ModelDeployment } from '../../../config/gateway-config.types';
import { DeploymentConfigError, DeploymentTable, type CompiledDeployment } from '../../deployment-table';
import type { UpstreamRequest } from '../provider';
import { readAnthropicError } from './anthropic-errors';

const entry = (params: Record<string, unknown>, name = 'claude'): ModelDeployment => ({ model_name: name, litellm_params: params as ModelDeployment['litellm_params'], model_info: {} });

describe('anthropic/ deployments', () => {
  const tables: DeploymentTable[] = [];
  afterAll(async () => Promise.all(tables.map((table) => table.close())));
  const compile = (params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, warnings: string[] = []): CompiledDeployment => {
    const table = new DeploymentTable([entry(params)], { env, pools: false, onWarning: (warning) => warnings.push(warning) });
    tables.push(table);
    return table.group('claude')!.deployments[0];
  };
  const problems = (params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] => {
    try {
      DeploymentTable.check([entry(params)], env);
    } catch (error) {
      if (error instanceof DeploymentConfigError) return [...error.problems];
      throw error;
    }
    return [];
  };
  const request = (deployment: CompiledDeployment, stream = false): UpstreamRequest =>
    deployment.target!.request({ endpoint: 'chat', stream, body: { messages: [{ role: 'user', content: 'hi' }] }, upstreamModel: deployment.upstreamModel, callId: 'c' }) as UpstreamRequest;

  it('without a key: start-up stops naming the deployment, the setting and ANTHROPIC_API_KEY', () => {
    expect(problems({ model: 'anthropic/claude-sonnet-4-5' })).toEqual([
      'model_list[0] (claude): the Anthropic API key is missing: set litellm_params.api_key or the environment variable ANTHROPIC_API_KEY',
    ]);
    expect(problems({ model: 'anthropic/claude-sonnet-4-5', api_key: 'os.environ/MY_CLAUDE_KEY' })).toEqual([
      'model_list[0] (claude): litellm_params.api_key refers to the environment variable MY_CLAUDE_KEY, which is not set',
    ]);
    expect(problems({ model: 'anthropic/claude-sonnet-4-5', api_key: 'k', api_base: 'not a url' })).toEqual(['model_list[0] (claude): litellm_params.api_base is not a valid URL']);
  });

  it("Anthropic's address by default, the key from ANTHROPIC_API_KEY in x-api-key, chat only, priced, no setting left unread", () => {
    const warnings: string[] = [];
    const deployment = compile({ model: 'anthropic/claude-sonnet-4-5-20250929', extra_headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } }, { ANTHROPIC_API_KEY: 'sk-ant-env' }, warnings);
    expect(warnings).toEqual([]);
    expect([deployment.providerLabel, deployment.upstreamModel, deployment.apiBaseForLog, deployment.target!.origin]).toEqual(['anthropic', 'claude-sonnet-4-5-20250929', 'https://api.anthropic.com', 'https://api.anthropic.com']);
    expect([...deployment.target!.endpoints]).toEqual(['chat']);
    expect([deployment.inputCostPerToken, deployment.outputCostPerToken]).toEqual([3 / 1e6, 15 / 1e6]);
    const plain = request(deployment);
    expect(plain.path).toBe('/v1/messages');
    expect(plain.headers).toEqual({ 'content-type': 'application/json', accept: 'application/json', 'x-api-key': 'sk-ant-env', 'anthropic-version': '2023-06-01', 'anthropic-beta': 'prompt-caching-2024-07-31' });
    expect(JSON.parse(request(deployment, true).body as string)).toMatchObject({ model: 'claude-sonnet-4-5-20250929', stream: true, max_tokens: 4096 });
  });

  it.each([
    ['https://proxy.example', '/v1/messages', 'https://proxy.example'],
    ['https://proxy.example/anthropic/', '/anthropic/v1/messages', 'https://proxy.example/anthropic'],
    ['https://proxy.example/anthropic/v1', '/anthropic/v1/messages', 'https://proxy.example/anthropic'],
    ['https://proxy.example/anthropic/v1/messages', '/anthropic/v1/messages', 'https://proxy.example/anthropic'],
    ['https://proxy.example/v1?tenant=a', '/v1/messages?tenant=a', 'https://proxy.example'],
  ])('api_base %s: LiteLLM appends /v1/messages, unless the base already ends with it or with /v1', (apiBase, path, logged) => {
    const deployment = compile({ model: 'anthropic/claude-3-5-haiku-latest', api_key: 'k', api_base: apiBase });
    expect([request(deployment).path, deployment.apiBaseForLog]).toEqual([path, logged]);
  });

  it('the api_base from ANTHROPIC_API_BASE when the config sets none; the config wins over it', () => {
    expect(compile({ model: 'anthropic/claude-3-haiku', api_key: 'k' }, { ANTHROPIC_API_BASE: 'http://127.0.0.1:9/v1' }).target!.origin).toBe('http://127.0.0.1:9');
    expect(compile({ model: 'anthropic/claude-3-haiku', api_key: 'k', api_base: 'http://localhost:8' }, { ANTHROPIC_API_BASE: 'http://127.0.0.1:9' }).target!.origin).toBe('http://localhost:8');
  });
});

describe(readAnthropicError.name, () => {
  const read = (status: number, body: unknown): ReturnType<typeof readAnthropicError> =>
    readAnthropicError({ status, headers: {}, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const error = (type: string, message: string): unknown => ({ type: 'error', error: { type, message }, request_id: 'req_1' });

  it('reads "type: message" and keeps the status, but answers 529 overloaded as 503 (retried by the gateway and by OpenAI clients)', () => {
    expect(read(429, error('rate_limit_error', 'Slow down'))).toEqual({ status: undefined, message: 'rate_limit_error: Slow down' });
    expect(read(401, error('authentication_error', 'invalid x-api-key'))).toEqual({ status: undefined, message: 'authentication_error: invalid x-api-key' });
    expect(read(529, error('overloaded_error', 'Overloaded'))).toEqual({ status: 503, message: 'overloaded_error: Overloaded' });
    expect(read(529, 'upstream connect error')).toEqual({ status: 503, message: null });
  });

  it('a body that is not Anthropic\'s error leaves the reading to the gateway', () => {
    expect(read(502, '<html>Bad gateway</html>')).toEqual({ status: undefined, message: null });
    expect(read(500, { error: 'flat' })).toEqual({ status: undefined, message: null });
  });
});
