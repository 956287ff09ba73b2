/**
 * Hosts that speak OpenAI's wire format, by LiteLLM prefix: where they are when the config gives no `api_base`, and
 * the environment variables LiteLLM reads for their key and base URL when `litellm_params` names none. The prefix
 * is stripped from the model name; the request, the answer and the stream are OpenAI's and are relayed untouched.
 * (Defaults as in LiteLLM's `get_llm_provider_logic.py` and its provider pages.)
 */
export interface CompatibleHost {
  /** Base URL used without `api_base` or a base variable; null: the config must say where the server is. */
  readonly defaultBase: string | null;
  readonly baseEnv: readonly string[];
  readonly keyEnv: readonly string[];
  /** A hosted API refuses calls without a key, so a missing one stops start-up; a self-hosted server may need none. */
  readonly keyRequired: boolean;
  /** Logged as `custom_llm_provider` (LiteLLM's name). */
  readonly name?: string;
}

export const COMPATIBLE_HOSTS: Readonly<Record<string, CompatibleHost>> = {
  openai: { defaultBase: 'https://api.openai.com/v1', baseEnv: ['OPENAI_API_BASE', 'OPENAI_BASE_URL'], keyEnv: ['OPENAI_API_KEY'], keyRequired: true },
  custom_openai: { defaultBase: null, baseEnv: [], keyEnv: [], keyRequired: false },
  openai_like: { defaultBase: null, baseEnv: [], keyEnv: [], keyRequired: false },
  hosted_vllm: { defaultBase: null, baseEnv: ['HOSTED_VLLM_API_BASE'], keyEnv: ['HOSTED_VLLM_API_KEY'], keyRequired: false },
  lm_studio: { defaultBase: null, baseEnv: ['LM_STUDIO_API_BASE'], keyEnv: ['LM_STUDIO_API_KEY'], keyRequired: false },
  llamafile: { defaultBase: 'http://127.0.0.1:8080/v1', baseEnv: ['LLAMAFILE_API_BASE'], keyEnv: [], keyRequired: false },
  groq: { defaultBase: 'https://api.groq.com/openai/v1', baseEnv: ['GROQ_API_BASE'], keyEnv: ['GROQ_API_KEY'], keyRequired: true },
  mistral: { defaultBase: 'https://api.mistral.ai/v1', baseEnv: ['MISTRAL_API_BASE'], keyEnv: ['MISTRAL_API_KEY'], keyRequired: true },
  codestral: { defaultBase: 'https://codestral.mistral.ai/v1', baseEnv: ['CODESTRAL_API_BASE'], keyEnv: ['CODESTRAL_API_KEY'], keyRequired: true },
  deepseek: { defaultBase: 'https://api.deepseek.com/beta', baseEnv: ['DEEPSEEK_API_BASE'], keyEnv: ['DEEPSEEK_API_KEY'], keyRequired: true },
  openrouter: { defaultBase: 'https://openrouter.ai/api/v1', baseEnv: ['OPENROUTER_API_BASE'], keyEnv: ['OPENROUTER_API_KEY', 'OR_API_KEY'], keyRequired: true },
  together_ai: {
    defaultBase: 'https://api.together.xyz/v1',
    baseEnv: ['TOGETHER_AI_API_BASE'],
    keyEnv: ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_TOKEN'],
    keyRequired: true,
  },
  fireworks_ai: {
    defaultBase: 'https://api.fireworks.ai/inference/v1',
    baseEnv: ['FIREWORKS_API_BASE'],
    keyEnv: ['FIREWORKS_API_KEY', 'FIREWORKS_AI_API_KEY', 'FIREWORKSAI_API_KEY', 'FIREWORKS_AI_TOKEN'],
    keyRequired: true,
  },
  xai: { defaultBase: 'https://api.x.ai/v1', baseEnv: ['XAI_API_BASE'], keyEnv: ['XAI_API_KEY'], keyRequired: true },
  perplexity: { defaultBase: 'https://api.perplexity.ai', baseEnv: ['PERPLEXITY_API_BASE'], keyEnv: ['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'], keyRequired: true },
  cerebras: { defaultBase: 'https://api.cerebras.ai/v1', baseEnv: ['CEREBRAS_API_BASE'], keyEnv: ['CEREBRAS_API_KEY'], keyRequired: true },
  sambanova: { defaultBase: 'https://api.sambanova.ai/v1', baseEnv: ['SAMBANOVA_API_BASE'], keyEnv: ['SAMBANOVA_API_KEY'], keyRequired: true },
  nvidia_nim: { defaultBase: 'https://integrate.api.nvidia.com/v1', baseEnv: ['NVIDIA_NIM_API_BASE'], keyEnv: ['NVIDIA_NIM_API_KEY'], keyRequired: true },
  deepinfra: { defaultBase: 'https://api.deepinfra.com/v1/openai', baseEnv: ['DEEPINFRA_API_BASE'], keyEnv: ['DEEPINFRA_API_KEY'], keyRequired: true },
  github: { defaultBase: 'https://models.inference.ai.azure.com', baseEnv: ['GITHUB_API_BASE'], keyEnv: ['GITHUB_API_KEY'], keyRequired: true },
  litellm_proxy: { defaultBase: null, baseEnv: ['LITELLM_PROXY_API_BASE'], keyEnv: ['LITELLM_PROXY_API_KEY'], keyRequired: false },
};
