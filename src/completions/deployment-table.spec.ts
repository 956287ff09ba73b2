import type { ModelDeployment } from '../config/gateway-config.types';
import { DEFAULT_MOCK_RESPONSE, DeploymentTable } from './deployment-table';

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
    expect(d.provider).toBe('openai');
    expect(d.upstreamModel).toBe('gpt-4o-2024');
    expect(d.modelId).toBe('dep-1');
    expect(d.apiBaseForLog).toBe('http://127.0.0.1:9999/v1');
    expect(d.chatPath).toBe('/v1/chat/completions?api-version=1');
    expect(d.embeddingsPath).toBe('/v1/embeddings?api-version=1');
    expect(d.headers.authorization).toBe('Bearer sk-upstream');
    expect(d.timeoutMs).toBe(5000);
    expect(d.streamTimeoutMs).toBe(5000);
    expect(d.maxRetries).toBe(2);
    expect(d.inputCostPerToken).toBe(0.000001);
    expect(d.outputCostPerToken).toBe(0.000002);
    expect(d.pool).not.toBeNull();
  });

  it('sends no Authorization header when the key is unset, and warns about an unset env reference', () => {
    const warnings: string[] = [];
    const table = build(
      [deployment('a', { model: 'openai/a', api_base: 'http://127.0.0.1:1' }), deployment('b', { model: 'openai/b', api_base: 'http://127.0.0.1:1', api_key: 'os.environ/MISSING' })],
      {},
      (m) => warnings.push(m),
    );
    expect(table.group('a')!.deployments[0].headers.authorization).toBeUndefined();
    expect(table.group('b')!.deployments[0].headers.authorization).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain('MISSING=');
  });

  it('shares one pool per origin and defaults timeout, retries and the api base', () => {
    const table = build([
      deployment('x', { model: 'openai/x', api_base: 'http://127.0.0.1:7000/v1' }),
      deployment('y', { model: 'openai/y', api_base: 'http://127.0.0.1:7000/other' }),
      deployment('z', { model: 'gpt-4o' }),
    ]);
    const [x, y, z] = ['x', 'y', 'z'].map((name) => table.group(name)!.deployments[0]);
    expect(x.pool).toBe(y.pool);
    expect(x.timeoutMs).toBe(600_000);
    expect(x.maxRetries).toBe(0);
    expect(z.provider).toBe('openai');
    expect(z.apiBaseForLog).toBe('https://api.openai.com/v1');
    expect(z.upstreamModel).toBe('gpt-4o');
  });

  it('treats mock/ models and deployments with mock_response as the offline provider', () => {
    const table = build([
      deployment('fake-openai-endpoint', { model: 'mock/anything' }),
      deployment('gpt-4', { model: 'openai/gpt-4', mock_response: 'canned' }),
    ]);
    const mock = table.group('fake-openai-endpoint')!.deployments[0];
    expect(mock.provider).toBe('mock');
    expect(mock.mockResponse).toBe(DEFAULT_MOCK_RESPONSE);
    expect(mock.pool).toBeNull();
    expect(mock.apiBaseForLog).toBeNull();
    expect(table.group('gpt-4')!.deployments[0].mockResponse).toBe('canned');
  });

  it('marks unknown providers unsupported instead of guessing', () => {
    const warnings: string[] = [];
    const table = build([deployment('claude', { model: 'anthropic/claude-3' })], {}, (m) => warnings.push(m));
    expect(table.group('claude')!.deployments[0].provider).toBe('unsupported');
    expect(warnings[0]).toContain("provider 'anthropic'");
  });

  it('rejects an api_base that is not an http(s) URL', () => {
    expect(() => build([deployment('bad', { model: 'openai/x', api_base: 'file:///etc/passwd' })])).toThrow(/http/);
    expect(() => build([deployment('bad', { model: 'openai/x', api_base: 'not a url' })])).toThrow(/valid URL/);
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
