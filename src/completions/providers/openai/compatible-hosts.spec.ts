import type { ModelDeployment } from '../../../config/gateway-config.types';
import { DeploymentTable, type CompiledDeployment } from '../../deployment-table';
import type { UpstreamRequest } from '../provider';
import { COMPATIBLE_HOSTS } from './compatible-hosts';

function compile(params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): CompiledDeployment {
  const entry: ModelDeployment = { model_name: 'm', litellm_params: params as ModelDeployment['litellm_params'], model_info: {} };
  return new DeploymentTable([entry], { env, pools: false }).group('m')!.deployments[0];
}

function problems(params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    compile(params, env);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

const chat = (d: CompiledDeployment, body: Record<string, unknown> = { messages: [] }): UpstreamRequest & { json: Record<string, unknown> } => {
  const request = d.target!.request({ endpoint: 'chat', stream: false, body, upstreamModel: d.upstreamModel, callId: 'c' }) as UpstreamRequest;
  return { ...request, json: JSON.parse(request.body as string) as Record<string, unknown> };
};

describe('OpenAI-compatible hosts', () => {
  // One row per hosted prefix: its default URL and the first key variable LiteLLM reads.
  const hostedRows = Object.entries(COMPATIBLE_HOSTS).filter(([, host]) => host.keyRequired);

  it.each(hostedRows)('%s: default base URL, key from its first variable, prefix stripped', (prefix, host) => {
    const d = compile({ model: `${prefix}/some-model` }, { [host.keyEnv[0]]: `key-for-${prefix}` });
    const request = chat(d);
    const expectedBase = host.v1Base && !host.defaultBase!.endsWith('/v1') ? `${host.defaultBase}/v1` : host.defaultBase;
    expect(d.apiBaseForLog).toBe(expectedBase);
    expect(request.path).toBe(`${new URL(expectedBase!).pathname.replace(/\/$/, '')}/chat/completions`);
    expect(request.headers.authorization).toBe(`Bearer key-for-${prefix}`);
    expect(d.providerLabel).toBe(prefix);
  });

  it.each(hostedRows)('%s: a missing key stops start-up naming the variables', (prefix, host) => {
    expect(problems({ model: `${prefix}/x` })).toContain(`the ${prefix} API key is missing: set litellm_params.api_key or the environment variable ${host.keyEnv.join(' / ')}`);
  });

  it('the base variable replaces the default, and then no key is required (a server of one\'s own)', () => {
    const d = compile({ model: 'groq/llama-3.1-8b-instant' }, { GROQ_API_BASE: 'http://127.0.0.1:7000/openai/v1' });
    expect(chat(d).path).toBe('/openai/v1/chat/completions');
    expect(chat(d).headers.authorization).toBeUndefined();
  });

  it('self-hosted servers need a base but no key', () => {
    expect(problems({ model: 'hosted_vllm/meta-llama/Llama-3.1-8B' })).toContain('the hosted_vllm server address is missing: set litellm_params.api_base');
    const vllm = compile({ model: 'hosted_vllm/meta-llama/Llama-3.1-8B' }, { HOSTED_VLLM_API_BASE: 'http://10.0.0.5:8000/v1' });
    expect(chat(vllm).json.model).toBe('meta-llama/Llama-3.1-8B');
    expect(chat(vllm).headers.authorization).toBeUndefined();
    expect(chat(compile({ model: 'openai_like/x' }, { OPENAI_LIKE_API_BASE: 'http://h:1/v1', OPENAI_LIKE_API_KEY: 'k' })).headers.authorization).toBe('Bearer k');
    expect(chat(compile({ model: 'llamafile/x' })).path).toBe('/v1/chat/completions');
    expect(chat(compile({ model: 'llamafile/x' }, { LLAMAFILE_API_KEY: 'lk' })).headers.authorization).toBe('Bearer lk');
  });

  it('mistral: MISTRAL_AZURE_API_KEY first, and /v1 added to a base without it', () => {
    expect(chat(compile({ model: 'mistral/m' }, { MISTRAL_API_KEY: 'b', MISTRAL_AZURE_API_KEY: 'a' })).headers.authorization).toBe('Bearer a');
    const azureMistral = compile({ model: 'mistral/mistral-large', api_base: 'https://Mistral-large-xyz.eastus2.inference.ai.azure.com', api_key: 'k' });
    expect(chat(azureMistral).path).toBe('/v1/chat/completions');
  });

  it('fireworks_ai: a short model name becomes accounts/fireworks/models/<name>', () => {
    const env = { FIREWORKS_API_KEY: 'k' };
    expect(chat(compile({ model: 'fireworks_ai/llama-v3p1-8b-instruct' }, env)).json.model).toBe('accounts/fireworks/models/llama-v3p1-8b-instruct');
    expect(chat(compile({ model: 'fireworks_ai/accounts/me/models/mine' }, env)).json.model).toBe('accounts/me/models/mine');
  });

  it('huggingface: the router with <org>/<model>:<provider>, or a dedicated endpoint taken as is; chat only', () => {
    const env = { HF_TOKEN: 'hf_x' };
    const routed = compile({ model: 'huggingface/together/deepseek-ai/DeepSeek-R1' }, env);
    expect(chat(routed).path).toBe('/v1/chat/completions');
    expect(chat(routed).json.model).toBe('deepseek-ai/DeepSeek-R1:together');
    expect(chat(compile({ model: 'huggingface/meta-llama/Llama-3.3-70B-Instruct' }, env)).json.model).toBe('meta-llama/Llama-3.3-70B-Instruct');
    const dedicated = compile({ model: 'huggingface/tgi', api_base: 'https://abc.us-east-1.aws.endpoints.huggingface.cloud/v1/chat/completions' });
    expect(chat(dedicated).path).toBe('/v1/chat/completions');
    expect(chat(dedicated).json.model).toBe('tgi');
    expect([...routed.target!.endpoints]).toEqual(['chat']);
  });

  it('openrouter: OR_SITE_URL and OR_APP_NAME become its attribution headers, OR_API_KEY is a key variable', () => {
    const headers = chat(compile({ model: 'openrouter/anthropic/claude-3.5-sonnet' }, { OR_API_KEY: 'k', OR_SITE_URL: 'https://me.example', OR_APP_NAME: 'Mine' })).headers;
    expect(headers).toMatchObject({ authorization: 'Bearer k', 'http-referer': 'https://me.example', 'x-title': 'Mine' });
    expect(chat(compile({ model: 'openrouter/x' }, { OPENROUTER_API_KEY: 'k' })).headers['x-title']).toBeUndefined();
  });
});
