import type { ModelDeployment } from '../config/gateway-config.types';
import { DEFAULT_MOCK_RESPONSE, DeploymentConfigError, DeploymentTable, withRequestDefaults, type CompiledDeployment } from './deployment-table';
import type { UpstreamRequest } from './providers/provider';

function deployment(model_name: string, params: Record<string, unknown>, model_info: Record<string, unknown> = {}): ModelDeployment {
  return { model_name, litellm_params: params as ModelDeployment['litellm_params'], model_info };
}

describe(DeploymentTable.name, () => {
  const tables: DeploymentTable[] = [];
  const build = (list: ModelDeployment[], env: NodeJS.ProcessEnv = {}, onWarning?: (m: string) => void) => {
    const table = new DeploymentTable(list, { env, onWarning });
    tables.push(table);
    return table;
  };
  afterAll(async () => Promise.all(tables.map((t) => t.close())));

  const requestOf = (d: CompiledDeployment, endpoint: 'chat' | 'embeddings' = 'chat', body: Record<string, unknown> = { model: 'x', messages: [] }) =>
    d.target!.request({ endpoint, stream: false, body, upstreamModel: d.upstreamModel, callId: 'c' }) as UpstreamRequest;

  it('compiles an openai deployment: paths, pre-built headers with the resolved key, loggable api_base', () => {
    const table = build(
      [
        deployment(
          'gpt-4o',
          { model: 'openai/gpt-4o-2024', api_base: 'http://user:pw@127.0.0.1:9999/v1/?api-version=1', api_key: 'os.environ/UP_KEY', timeout: 5, max_retries: 2 },
          { id: 'dep-1', input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 },
        ),
      ],
      { UP_KEY: 'sk-upstream' },
    );
    const d = table.group('gpt-4o')!.deployments[0];
    expect(d.providerLabel).toBe('openai');
    expect(d.upstreamModel).toBe('gpt-4o-2024');
    expect(d.modelId).toBe('dep-1');
    expect(d.apiBaseForLog).toBe('http://127.0.0.1:9999/v1');
    expect(requestOf(d).path).toBe('/v1/chat/completions?api-version=1');
    expect(requestOf(d, 'embeddings').path).toBe('/v1/embeddings?api-version=1');
    expect(requestOf(d).headers.authorization).toBe('Bearer sk-upstream');
    expect(JSON.parse(requestOf(d).body as string)).toEqual({ model: 'gpt-4o-2024', messages: [] });
    expect(d.target!.translation).toBeNull();
    expect(d.timeoutMs).toBe(5000);
    expect(d.streamTimeoutMs).toBe(5000);
    expect(d.maxRetries).toBe(2);
    expect(d.inputCostPerToken).toBe(0.000001);
    expect(d.outputCostPerToken).toBe(0.000002);
    expect(d.pool).not.toBeNull();
  });

  it('lets a server of one\'s own go without a key, but stops start-up on a reference to an unset variable', () => {
    const table = build([deployment('a', { model: 'openai/a', api_base: 'http://127.0.0.1:1' })]);
    expect(requestOf(table.group('a')!.deployments[0]).headers.authorization).toBeUndefined();
    expect(() => build([deployment('b', { model: 'openai/b', api_base: 'http://127.0.0.1:1', api_key: 'os.environ/MISSING' })])).toThrow(
      'model_list[0] (b): litellm_params.api_key refers to the environment variable MISSING, which is not set',
    );
    // api_base too (LiteLLM's docs write `api_base: os.environ/AZURE_API_BASE`): resolved, not parsed as a URL.
    const resolved = build([deployment('c', { model: 'openai/c', api_base: 'os.environ/C_BASE' })], { C_BASE: 'http://127.0.0.1:5/v2' });
    expect(resolved.group('c')!.deployments[0].apiBaseForLog).toBe('http://127.0.0.1:5/v2');
  });

  it('needs a key for a provider\'s own API, from litellm_params or the provider\'s variable, and names both when it is missing', () => {
    expect(() => build([deployment('gpt-4o', { model: 'gpt-4o' })])).toThrow(
      'model_list[0] (gpt-4o): the openai API key is missing: set litellm_params.api_key or the environment variable OPENAI_API_KEY',
    );
    const table = build([deployment('g', { model: 'groq/llama-3.3-70b-versatile' })], { GROQ_API_KEY: 'gsk-test' });
    const groq = table.group('g')!.deployments[0];
    expect([groq.providerLabel, groq.upstreamModel, groq.apiBaseForLog]).toEqual(['groq', 'llama-3.3-70b-versatile', 'https://api.groq.com/openai/v1']);
    expect(requestOf(groq).headers.authorization).toBe('Bearer gsk-test');
  });

  it('shares one pool per origin and defaults timeout, retries and the api base', () => {
    const table = build(
      [
        deployment('x', { model: 'openai/x', api_base: 'http://127.0.0.1:7000/v1' }),
        deployment('y', { model: 'openai/y', api_base: 'http://127.0.0.1:7000/other' }),
        deployment('z', { model: 'gpt-4o' }),
      ],
      { OPENAI_API_KEY: 'sk-env' },
    );
    const [x, y, z] = ['x', 'y', 'z'].map((name) => table.group(name)!.deployments[0]);
    expect(x.pool).toBe(y.pool);
    expect(x.timeoutMs).toBe(600_000);
    expect(x.maxRetries).toBe(0);
    expect(z.providerLabel).toBe('openai');
    expect(z.apiBaseForLog).toBe('https://api.openai.com/v1');
    expect(z.upstreamModel).toBe('gpt-4o');
  });

  it('treats mock/ models and deployments with mock_response as the offline provider', () => {
    const table = build([
      deployment('fake-openai-endpoint', { model: 'mock/anything' }),
      deployment('gpt-4', { model: 'openai/gpt-4', mock_response: 'canned' }),
    ]);
    const mock = table.group('fake-openai-endpoint')!.deployments[0];
    expect(mock.providerLabel).toBe('mock');
    expect(mock.target).toBeNull();
    expect(mock.mockResponse).toBe(DEFAULT_MOCK_RESPONSE);
    expect(mock.pool).toBeNull();
    expect(mock.apiBaseForLog).toBeNull();
    expect(table.group('gpt-4')!.deployments[0].mockResponse).toBe('canned');
  });

  it('stops start-up on an unknown provider, listing the supported ones, and names every problem at once', () => {
    let error: unknown;
    try {
      build([deployment('x', { model: 'nosuch/thing' }), deployment('y', { model: 'openai/x', api_base: 'not a url' })]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DeploymentConfigError);
    const problems = (error as DeploymentConfigError).problems;
    expect(problems[0]).toMatch(/^model_list\[0\] \(x\): provider `nosuch` is not supported \(supported: .*anthropic|azure.*\)/);
    expect(problems[1]).toBe('model_list[1] (y): litellm_params.api_base is not a valid URL');
  });

  it('rejects an api_base that is not an http(s) URL', () => {
    expect(() => build([deployment('bad', { model: 'openai/x', api_base: 'file:///etc/passwd' })])).toThrow(/http/);
    expect(() => build([deployment('bad', { model: 'openai/x', api_base: 'not a url' })])).toThrow(/valid URL/);
  });

  it('applies litellm_params request defaults under the caller\'s values, sends extra_headers, and warns about settings nobody reads', () => {
    const warnings: string[] = [];
    const table = build(
      [
        deployment('d', {
          model: 'openai/d',
          api_base: 'http://127.0.0.1:1/v1',
          temperature: 0.2,
          max_tokens: 100,
          extra_body: { top_k: 5 },
          extra_headers: { 'X-Tenant': 'os.environ/TENANT' },
          rpm: 60,
          tags: ['a'],
        }),
      ],
      { TENANT: 'acme' },
      (m) => warnings.push(m),
    );
    const d = table.group('d')!.deployments[0];
    expect(withRequestDefaults({ model: 'd', temperature: 1 }, d.requestDefaults)).toEqual({ top_k: 5, temperature: 1, max_tokens: 100, model: 'd' });
    expect(requestOf(d).headers['x-tenant']).toBe('acme');
    expect(warnings).toEqual(['model_list[0] (d): litellm_params tags is not used by Gatehouse and ignored']);
  });

  it('resolves os.environ/ in numeric settings as LiteLLM does, and stops start-up on a value that is no number', () => {
    const table = build(
      [deployment('n', { model: 'openai/n', api_base: 'http://127.0.0.1:1/v1', timeout: 'os.environ/T', max_retries: 'os.environ/R', temperature: 'os.environ/TEMP' })],
      { T: '7.5', R: '3', TEMP: '0.3' },
    );
    const d = table.group('n')!.deployments[0];
    expect([d.timeoutMs, d.maxRetries, d.requestDefaults]).toEqual([7500, 3, { temperature: 0.3 }]);

    let error: unknown;
    try {
      build([deployment('p', { model: 'openai/p', api_base: 'http://127.0.0.1:1/v1', temperature: '<your-temp>', timeout: 'os.environ/SECRETISH' })], { SECRETISH: 'sk-not-a-number' });
    } catch (caught) {
      error = caught;
    }
    const problems = (error as DeploymentConfigError).problems;
    expect(problems).toEqual([
      'model_list[0] (p): litellm_params.timeout must be a number, got os.environ/SECRETISH, whose value is not a number',
      'model_list[0] (p): litellm_params.temperature must be a number, got "<your-temp>"',
    ]);
    // The variable's value is never quoted: it may be a secret set in the wrong place.
    expect(problems.join('\n')).not.toContain('sk-not-a-number');
  });

  it('prices a well-known model from the list, and lets litellm_params win over model_info over the list', () => {
    const table = build(
      [
        deployment('listed', { model: 'openai/gpt-4o-2024-08-06', api_base: 'http://127.0.0.1:1' }),
        deployment('info', { model: 'openai/gpt-4o', api_base: 'http://127.0.0.1:1' }, { input_cost_per_token: 1e-6 }),
        deployment('params', { model: 'openai/gpt-4o', api_base: 'http://127.0.0.1:1', input_cost_per_token: 2e-6 }, { input_cost_per_token: 1e-6 }),
        deployment('azure', { model: 'azure/my-deployment', api_base: 'https://x.openai.azure.com', api_key: 'k' }, { base_model: 'gpt-4o-mini' }),
      ],
    );
    const [listed, info, params, azure] = ['listed', 'info', 'params', 'azure'].map((name) => table.group(name)!.deployments[0]);
    expect([listed.inputCostPerToken, listed.outputCostPerToken]).toEqual([2.5e-6, 10e-6]);
    expect([info.inputCostPerToken, info.outputCostPerToken]).toEqual([1e-6, 10e-6]);
    expect(params.inputCostPerToken).toBe(2e-6);
    expect([azure.inputCostPerToken, azure.outputCostPerToken]).toEqual([0.15e-6, 0.6e-6]);
  });

  it('groups deployments by model name and rotates the start index round robin', () => {
    const table = build([
      deployment('m', { model: 'mock/1' }),
      deployment('other', { model: 'mock/x' }),
      deployment('m', { model: 'mock/2' }),
      deployment('m', { model: 'mock/3' }),
    ]);
    expect(table.modelNames).toEqual(['m', 'other']);
    const group = table.group('m')!;
    expect(group.deployments.map((d) => d.upstreamModel)).toEqual(['1', '2', '3']);
    const starts = Array.from({ length: 7 }, () => DeploymentTable.nextStart(group));
    expect(starts).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('gives deployments without model_info.id a stable generated id', () => {
    const list = [deployment('m', { model: 'mock/1' }), deployment('m', { model: 'mock/1' })];
    const a = build(list).group('m')!.deployments;
    const b = build(list).group('m')!.deployments;
    expect(a[0].modelId).toBe(b[0].modelId);
    expect(a[0].modelId).not.toBe(a[1].modelId);
  });
});
