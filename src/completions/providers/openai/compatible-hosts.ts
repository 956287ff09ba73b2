import type { Endpoint } from '../provider';

/**
 * Hosts that speak OpenAI's wire format, by LiteLLM prefix: where they are when the config gives no `api_base`, and
 * the environment variables LiteLLM reads for their key and base URL when `litellm_params` names none. The prefix
 * is stripped from the model name; the request, the answer and the stream are OpenAI's and are relayed untouched.
 * (As in LiteLLM's `get_llm_provider_logic.py` and each host's `_get_openai_compatible_provider_info`.)
 */
export interface CompatibleHost {
  /** Base URL used without `api_base` or a base variable; null: the config must say where the server is. */
  readonly defaultBase: string | null;
  readonly baseEnv: readonly string[];
  readonly keyEnv: readonly string[];
  /** A hosted API refuses calls without a key, so a missing one stops start-up; a self-hosted server may need none. */
  readonly keyRequired: boolean;
  /** The routes it has, when not chat and embeddings (plus `/completions` for the hosts in LEGACY_COMPLETIONS_HOSTS). */
  readonly endpoints?: readonly Endpoint[];
  /**
   * The base must end in `/v1`: LiteLLM adds it to a configured base that lacks it (and a full
   * `.../chat/completions` URL is taken back to its base), so configs written for LiteLLM leave it out.
   */
  readonly v1Base?: boolean;
  /** The model name a chat call carries, where LiteLLM rewrites it (`configured`: an `api_base` of one's own is set). */
  readonly chatModel?: (model: string, configured: boolean) => string;
  /** Headers sent when their environment variable is set (header → variable). */
  readonly headersFromEnv?: Readonly<Record<string, string>>;
}

const hosted = (defaultBase: string, baseEnv: string, ...keyEnv: string[]): CompatibleHost => ({ defaultBase, baseEnv: [baseEnv], keyEnv, keyRequired: true });

export const COMPATIBLE_HOSTS: Readonly<Record<string, CompatibleHost>> = {
  openai: { defaultBase: 'https://api.openai.com/v1', baseEnv: ['OPENAI_BASE_URL', 'OPENAI_API_BASE'], keyEnv: ['OPENAI_API_KEY'], keyRequired: true },
  // OpenAI's legacy text route by name (`gpt-3.5-turbo-instruct`, `davinci-002`); the same host and key as `openai/`.
  'text-completion-openai': { defaultBase: 'https://api.openai.com/v1', baseEnv: ['OPENAI_BASE_URL', 'OPENAI_API_BASE'], keyEnv: ['OPENAI_API_KEY'], keyRequired: true },
  // LiteLLM sends these to OpenAI's own URL when no base is given; here the config must say where the server is.
  custom_openai: { defaultBase: null, baseEnv: ['OPENAI_BASE_URL', 'OPENAI_API_BASE'], keyEnv: ['OPENAI_API_KEY'], keyRequired: false },
  openai_like: { defaultBase: null, baseEnv: ['OPENAI_LIKE_API_BASE'], keyEnv: ['OPENAI_LIKE_API_KEY'], keyRequired: false },
  hosted_vllm: { defaultBase: null, baseEnv: ['HOSTED_VLLM_API_BASE'], keyEnv: ['HOSTED_VLLM_API_KEY'], keyRequired: false },
  lm_studio: { defaultBase: null, baseEnv: ['LM_STUDIO_API_BASE'], keyEnv: ['LM_STUDIO_API_KEY'], keyRequired: false },
  llamafile: { defaultBase: 'http://127.0.0.1:8080/v1', baseEnv: ['LLAMAFILE_API_BASE'], keyEnv: ['LLAMAFILE_API_KEY'], keyRequired: false },
  litellm_proxy: { defaultBase: null, baseEnv: ['LITELLM_PROXY_API_BASE'], keyEnv: ['LITELLM_PROXY_API_KEY'], keyRequired: false },
  groq: hosted('https://api.groq.com/openai/v1', 'GROQ_API_BASE', 'GROQ_API_KEY'),
  // LiteLLM reads the MISTRAL_AZURE_* variables (Mistral on Azure AI) before MISTRAL_API_KEY, and no MISTRAL_API_BASE.
  mistral: { ...hosted('https://api.mistral.ai/v1', 'MISTRAL_AZURE_API_BASE', 'MISTRAL_AZURE_API_KEY', 'MISTRAL_API_KEY'), v1Base: true },
  codestral: hosted('https://codestral.mistral.ai/v1', 'CODESTRAL_API_BASE', 'CODESTRAL_API_KEY'),
  deepseek: hosted('https://api.deepseek.com/beta', 'DEEPSEEK_API_BASE', 'DEEPSEEK_API_KEY'),
  openrouter: {
    ...hosted('https://openrouter.ai/api/v1', 'OPENROUTER_API_BASE', 'OPENROUTER_API_KEY', 'OR_API_KEY'),
    // OpenRouter's app attribution, from the variables LiteLLM's docs name.
    headersFromEnv: { 'http-referer': 'OR_SITE_URL', 'x-title': 'OR_APP_NAME' },
  },
  together_ai: hosted('https://api.together.xyz/v1', 'TOGETHER_AI_API_BASE', 'TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_TOKEN'),
  fireworks_ai: {
    ...hosted('https://api.fireworks.ai/inference/v1', 'FIREWORKS_API_BASE', 'FIREWORKS_API_KEY', 'FIREWORKS_AI_API_KEY', 'FIREWORKSAI_API_KEY', 'FIREWORKS_AI_TOKEN'),
    // `fireworks_ai/llama-v3p1-8b-instruct` is Fireworks' `accounts/fireworks/models/llama-v3p1-8b-instruct`.
    chatModel: (model) => (model.startsWith('accounts/') ? model : `accounts/fireworks/models/${model}`),
  },
  xai: hosted('https://api.x.ai/v1', 'XAI_API_BASE', 'XAI_API_KEY'),
  perplexity: { ...hosted('https://api.perplexity.ai', 'PERPLEXITY_API_BASE', 'PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'), endpoints: ['chat'] },
  cerebras: hosted('https://api.cerebras.ai/v1', 'CEREBRAS_API_BASE', 'CEREBRAS_API_KEY'),
  sambanova: hosted('https://api.sambanova.ai/v1', 'SAMBANOVA_API_BASE', 'SAMBANOVA_API_KEY'),
  nvidia_nim: hosted('https://integrate.api.nvidia.com/v1', 'NVIDIA_NIM_API_BASE', 'NVIDIA_NIM_API_KEY'),
  deepinfra: hosted('https://api.deepinfra.com/v1/openai', 'DEEPINFRA_API_BASE', 'DEEPINFRA_API_KEY'),
  github: hosted('https://models.inference.ai.azure.com', 'GITHUB_API_BASE', 'GITHUB_API_KEY'),
  nscale: hosted('https://inference.api.nscale.com/v1', 'NSCALE_API_BASE', 'NSCALE_API_KEY'),
  volcengine: hosted('https://ark.cn-beijing.volces.com/api/v3', 'VOLCENGINE_API_BASE', 'VOLCENGINE_API_KEY'),
  nebius: hosted('https://api.studio.nebius.ai/v1', 'NEBIUS_API_BASE', 'NEBIUS_API_KEY'),
  novita: hosted('https://api.novita.ai/v3/openai', 'NOVITA_API_BASE', 'NOVITA_API_KEY'),
  meta_llama: hosted('https://api.llama.com/compat/v1', 'LLAMA_API_BASE', 'LLAMA_API_KEY'),
  moonshot: hosted('https://api.moonshot.ai/v1', 'MOONSHOT_API_BASE', 'MOONSHOT_API_KEY'),
  hyperbolic: hosted('https://api.hyperbolic.xyz/v1', 'HYPERBOLIC_API_BASE', 'HYPERBOLIC_API_KEY'),
  friendliai: hosted('https://api.friendli.ai/serverless/v1', 'FRIENDLI_API_BASE', 'FRIENDLIAI_API_KEY', 'FRIENDLI_TOKEN'),
  galadriel: hosted('https://api.galadriel.com/v1', 'GALADRIEL_API_BASE', 'GALADRIEL_API_KEY'),
  ai21_chat: { ...hosted('https://api.ai21.com/studio/v1', 'AI21_API_BASE', 'AI21_API_KEY'), endpoints: ['chat'] },
  empower: { ...hosted('https://app.empower.dev/api/v1', 'EMPOWER_API_BASE', 'EMPOWER_API_KEY'), endpoints: ['chat'] },
  parasail: hosted('https://api.parasail.io/v1', 'PARASAIL_API_BASE', 'PARASAIL_API_KEY'),
  siliconflow: hosted('https://api.siliconflow.com/v1', 'SILICONFLOW_API_BASE', 'SILICONFLOW_API_KEY'),
  // Servers of one's own: the config says where.
  lemonade: { defaultBase: null, baseEnv: ['LEMONADE_API_BASE'], keyEnv: ['LEMONADE_API_KEY'], keyRequired: false },
  xinference: { defaultBase: null, baseEnv: ['XINFERENCE_API_BASE'], keyEnv: ['XINFERENCE_API_KEY'], keyRequired: false },
  // Hugging Face's router (Inference Providers) or a dedicated endpoint given as api_base; chat only (its
  // embeddings are not OpenAI's format).
  huggingface: {
    defaultBase: 'https://router.huggingface.co/v1',
    baseEnv: ['HF_API_BASE', 'HUGGINGFACE_API_BASE'],
    keyEnv: ['HF_TOKEN', 'HUGGINGFACE_API_KEY'],
    keyRequired: true,
    endpoints: ['chat'],
    v1Base: true,
    // `huggingface/<provider>/<org>/<model>` picks an inference provider: the router's `<org>/<model>:<provider>`.
    chatModel: (model, configured) => {
      const parts = model.split('/');
      return configured || parts.length < 3 ? model : `${parts.slice(1).join('/')}:${parts[0]}`;
    },
  },
};
