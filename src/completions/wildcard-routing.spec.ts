import type { ModelDeployment } from '../config/gateway-config.types';
import { DeploymentConfigError, DeploymentTable, type CompiledDeployment, type RoutedModel } from './deployment-table';
import type { UpstreamRequest } from './providers/provider';
import { deploymentFor } from './wildcard-deployment';

function deployment(model_name: string, params: Record<string, unknown>, model_info: Record<string, unknown> = {}): ModelDeployment {
  return { model_name, litellm_params: params as ModelDeployment['litellm_params'], model_info };
}

const ENV = { OPENAI_API_KEY: 'sk-o', ANTHROPIC_API_KEY: 'sk-a', GEMINI_API_KEY: 'g', VERTEXAI_PROJECT: 'p' };

describe('wildcard model names', () => {
  const tables: DeploymentTable[] = [];
  const build = (list: ModelDeployment[], options: Partial<ConstructorParameters<typeof DeploymentTable>[1]> = {}) => {
    const table = new DeploymentTable(list, { env: ENV, pools: false, ...options });
    tables.push(table);
    return table;
  };
  afterAll(async () => Promise.all(tables.map((t) => t.close())));

  /** The deployment a request for `requested` is served by. */
  const served = (table: DeploymentTable, requested: string) => {
    const routed = table.route(requested) as RoutedModel;
    return { group: routed.group.name, d: deploymentFor(routed.group.deployments[0], routed.segments, routed.name) };
  };
  /** The upstream request it makes (not for Vertex: its request fetches a token). */
  const requestOf = (d: CompiledDeployment) =>
    d.target!.request({ endpoint: 'chat', stream: false, body: { model: 'x', messages: [] }, upstreamModel: d.upstreamModel, callId: 'c' }) as UpstreamRequest;

  const table = () =>
    build([
      deployment('gpt-4o', { model: 'openai/gpt-4o-2024-08-06' }),
      deployment('*', { model: 'openai/*' }),
      deployment('anthropic/*', { model: 'anthropic/*' }),
      deployment('claude-*', { model: 'anthropic/claude-*' }),
      deployment('claude-haiku*', { model: 'anthropic/claude-3-5-haiku-20241022' }),
    ]);

  it('sends any name to `*` → openai/* with the name as the upstream model, priced by its list price', () => {
    const { group, d } = served(table(), 'gpt-4.1-mini');
    expect(group).toBe('*');
    expect(d.providerLabel).toBe('openai');
    expect(d.upstreamModel).toBe('gpt-4.1-mini');
    expect(d.inputCostPerToken).toBeGreaterThan(0);
    expect((JSON.parse(requestOf(d).body as string) as { model: string }).model).toBe('gpt-4.1-mini');
  });

  it('takes the provider off `anthropic/*` and prefers it to `*`', () => {
    const { group, d } = served(table(), 'anthropic/claude-sonnet-4-5');
    expect(group).toBe('anthropic/*');
    expect(d.providerLabel).toBe('anthropic');
    expect(d.upstreamModel).toBe('claude-sonnet-4-5');
    expect(d.inputCostPerToken).toBe(0.000003);
    expect((JSON.parse(requestOf(d).body as string) as { model: string }).model).toBe('claude-sonnet-4-5');
  });

  it('lets an exact model_name win over every pattern, and the longest pattern over shorter ones', () => {
    expect(served(table(), 'gpt-4o').d.upstreamModel).toBe('gpt-4o-2024-08-06');
    expect(served(table(), 'claude-opus-4-1')).toMatchObject({ group: 'claude-*', d: { upstreamModel: 'claude-opus-4-1' } });
    // A fixed model under a pattern: every name it matches goes to that one model.
    expect(served(table(), 'claude-haiku-latest')).toMatchObject({ group: 'claude-haiku*', d: { upstreamModel: 'claude-3-5-haiku-20241022' } });
  });

  it('keeps configured prices for every name and reuses the served deployment for a repeated name', () => {
    const t = build([deployment('x/*', { model: 'openai/*', input_cost_per_token: 0.5, output_cost_per_token: 0.25 })]);
    const first = served(t, 'x/anything').d;
    expect(first).toMatchObject({ upstreamModel: 'anything', inputCostPerToken: 0.5, outputCostPerToken: 0.25 });
    expect(served(t, 'x/anything').d).toBe(first);
  });

  it('builds the path from the call model for Gemini (Vertex fetches a token per request: only its model here)', () => {
    const t = build([deployment('gemini/*', { model: 'gemini/*' }), deployment('vertex_ai/*', { model: 'vertex_ai/*' })]);
    expect(requestOf(served(t, 'gemini/gemini-2.5-flash').d).path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(served(t, 'vertex_ai/gemini-2.5-pro').d.upstreamModel).toBe('gemini-2.5-pro');
  });

  it('refuses at boot what it cannot serve, each with its reason', () => {
    const problems = (list: ModelDeployment[]) => {
      try {
        build(list, { env: { ...ENV, AZURE_API_BASE: 'https://x.openai.azure.com', AZURE_API_KEY: 'k', AWS_REGION_NAME: 'us-east-1' } });
      } catch (error) {
        return (error as DeploymentConfigError).problems;
      }
      return [];
    };
    expect(problems([deployment('*', { model: '*' })])).toEqual([expect.stringContaining('needs its provider spelled out')]);
    expect(problems([deployment('gpt', { model: 'openai/*' })])).toEqual([expect.stringContaining('model_name `gpt` has none to fill it')]);
    expect(problems([deployment('azure/*', { model: 'azure/*' })])).toEqual([expect.stringContaining('provider `azure` cannot serve a wildcard')]);
    expect(problems([deployment('bedrock/*', { model: 'bedrock/*' })])).toEqual([expect.stringContaining('provider `bedrock` cannot serve a wildcard')]);
  });

  it('routes an alias to its group (patterns included), lists visible aliases, warns about an alias to nothing', () => {
    const warnings: string[] = [];
    const t = build([deployment('gpt-4o', { model: 'openai/gpt-4o' }), deployment('anthropic/*', { model: 'anthropic/*' })], {
      aliases: { smart: { model: 'gpt-4o', hidden: false }, claude: { model: 'anthropic/claude-opus-4-1', hidden: true }, lost: { model: 'nowhere', hidden: false } },
      onWarning: (message) => warnings.push(message),
    });
    expect(t.route('smart')).toMatchObject({ group: { name: 'gpt-4o' }, name: 'gpt-4o' });
    expect(served(t, 'claude').d.upstreamModel).toBe('claude-opus-4-1');
    expect(t.aliasTarget('smart')).toBe('gpt-4o');
    expect(t.route('nowhere')).toBeUndefined();
    expect(t.modelNames).toEqual(['gpt-4o', 'anthropic/*', 'smart', 'lost']);
    expect(warnings).toEqual([expect.stringContaining('model_group_alias `lost` names `nowhere`')]);
  });
});
