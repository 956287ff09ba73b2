import type { ModelDeployment } from '../../../config/gateway-config.types';
import { DeploymentTable, type CompiledDeployment } from '../../deployment-table';
import type { UpstreamRequest } from '../provider';
import { supportsStreamOptions } from './azure.provider';

const BASE = 'https://res.openai.azure.com';

function compile(params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): CompiledDeployment {
  const entry: ModelDeployment = { model_name: 'az', litellm_params: { api_base: BASE, ...params } as ModelDeployment['litellm_params'], model_info: {} };
  const table = new DeploymentTable([entry], { env, pools: false });
  return table.group('az')!.deployments[0];
}

function problemsOf(params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    compile(params, env);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

const request = (d: CompiledDeployment, stream = false, body: Record<string, unknown> = { messages: [] }): UpstreamRequest =>
  d.target!.request({ endpoint: 'chat', stream, body: { ...body, stream }, upstreamModel: d.upstreamModel, callId: 'c' }) as UpstreamRequest;

describe('azure provider', () => {
  it('strips LiteLLM routing markers from the deployment name', () => {
    expect(request(compile({ model: 'azure/o_series/my-o3', api_key: 'k' })).path).toMatch(/^\/openai\/deployments\/my-o3\/chat\/completions\?/);
    expect(request(compile({ model: 'azure/gpt5_series/g5', api_key: 'k' })).path).toMatch(/^\/openai\/deployments\/g5\//);
    const body = JSON.parse(request(compile({ model: 'azure/o_series/my-o3', api_key: 'k' })).body as string) as { model: string };
    expect(body.model).toBe('my-o3');
  });

  it('api_version: litellm_params, else AZURE_API_VERSION, else LiteLLM default', () => {
    expect(request(compile({ model: 'azure/d', api_key: 'k', api_version: '2024-10-21' })).path).toContain('api-version=2024-10-21');
    expect(request(compile({ model: 'azure/d', api_key: 'k' }, { AZURE_API_VERSION: '2024-06-01' })).path).toContain('api-version=2024-06-01');
    expect(request(compile({ model: 'azure/d', api_key: 'k' })).path).toContain('api-version=2025-02-01-preview');
  });

  it('leaves stream_options out for API versions before 2024-09-01 only', () => {
    expect(supportsStreamOptions('2023-05-15')).toBe(false);
    expect(supportsStreamOptions('2024-08-01-preview')).toBe(false);
    expect(supportsStreamOptions('2024-09-01-preview')).toBe(true);
    expect(supportsStreamOptions('2024-10-21')).toBe(true);
    expect(supportsStreamOptions('preview')).toBe(true);
    const old: unknown = JSON.parse(request(compile({ model: 'azure/d', api_key: 'k', api_version: '2023-05-15' }), true, { messages: [], stream_options: { include_usage: true } }).body as string);
    expect(old).toEqual({ messages: [], stream: true, model: 'd' });
    const current = JSON.parse(request(compile({ model: 'azure/d', api_key: 'k', api_version: '2024-10-21' }), true).body as string) as { stream_options?: unknown };
    expect(current.stream_options).toEqual({ include_usage: true });
  });

  it('credentials: a key in litellm_params, then azure_ad_token, then the environment (AZURE_OPENAI_API_KEY before AZURE_API_KEY, then AZURE_AD_TOKEN)', () => {
    expect(request(compile({ model: 'azure/d', api_key: 'k1', azure_ad_token: 't1' })).headers['api-key']).toBe('k1');
    const adToken = request(compile({ model: 'azure/d', azure_ad_token: 't1' }, { AZURE_API_KEY: 'env-key' })).headers;
    expect(adToken.authorization).toBe('Bearer t1');
    expect(adToken['api-key']).toBeUndefined();
    expect(request(compile({ model: 'azure/d' }, { AZURE_API_KEY: 'b', AZURE_OPENAI_API_KEY: 'a' })).headers['api-key']).toBe('a');
    expect(request(compile({ model: 'azure/d' }, { AZURE_AD_TOKEN: 'env-token' })).headers.authorization).toBe('Bearer env-token');
  });

  it('a service principal or user named in litellm_params wins over a key in the environment, and needs no key', async () => {
    const sp = compile({ model: 'azure/d', tenant_id: 't', client_id: 'c', client_secret: 's', azure_authority_host: 'http://127.0.0.1:9' }, { AZURE_API_KEY: 'env-key' });
    // The token is fetched for the call (here from a closed port), never the environment's key sent instead.
    await expect(Promise.resolve(request(sp))).rejects.toThrow();
    expect(problemsOf({ model: 'azure/d', client_id: 'c', azure_username: 'u', azure_password: 'p' })).toBe('');
    // Partly in litellm_params, the rest from the standard variables (as LiteLLM reads them).
    expect(problemsOf({ model: 'azure/d', client_secret: 's' }, { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c' })).toBe('');
  });

  it('names what is missing', () => {
    expect(problemsOf({ model: 'azure/d' })).toContain('the Azure OpenAI credentials are missing');
    expect(problemsOf({ model: 'azure/d', tenant_id: 't', client_id: 'c' })).toContain('the Azure service principal is incomplete');
    expect(problemsOf({ model: 'azure/d', azure_username: 'u', azure_password: 'p' })).toContain('azure_username and azure_password need client_id');
    expect(problemsOf({ model: 'azure/d', azure_ad_token: 'oidc/github/x' })).toContain('oidc/ token references');
    expect(problemsOf({ model: 'azure/d', api_key: 'k', api_base: undefined })).toContain('the Azure OpenAI endpoint is missing');
    expect(problemsOf({ model: 'azure/o_series/', api_key: 'k' })).toContain('names no Azure deployment');
  });
});
