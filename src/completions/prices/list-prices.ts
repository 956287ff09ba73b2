/**
 * Public list prices in USD per million tokens, [input, output], as the providers publish them for standard
 * (non-batch, non-cached) usage. Data, not logic: update it when providers change their prices, and move `taken`.
 */
export interface ListPrices {
  /** The day the prices were read from the providers' pricing pages. */
  readonly taken: string;
  readonly models: Readonly<Record<string, Readonly<Record<string, readonly [number, number]>>>>;
}

/**
 * Google's Gemini models, the same list prices on the Gemini API and on Vertex AI (ai.google.dev/gemini-api/docs/pricing,
 * cloud.google.com/vertex-ai/generative-ai/pricing). Where a price depends on the prompt's length (2.5 Pro, 1.5
 * models: prompts over 200k / 128k tokens cost more) or on the input's modality (audio costs more), this is the
 * base tier: prompts up to that length, text, image and video input. Thinking tokens are billed as output.
 */
const GEMINI: Readonly<Record<string, readonly [number, number]>> = {
  'gemini-3-pro-preview': [2, 12],
  'gemini-3-flash-preview': [0.5, 3],
  'gemini-2.5-pro': [1.25, 10],
  'gemini-2.5-flash': [0.3, 2.5],
  'gemini-2.5-flash-lite': [0.1, 0.4],
  'gemini-2.0-flash': [0.1, 0.4],
  'gemini-2.0-flash-lite': [0.075, 0.3],
  'gemini-1.5-pro': [1.25, 5],
  'gemini-1.5-flash': [0.075, 0.3],
  'gemini-1.5-flash-8b': [0.0375, 0.15],
  'gemini-embedding-001': [0.15, 0],
};

export const LIST_PRICES: ListPrices = {
  taken: '2026-12-07',
  models: {
    // openai.com/api/pricing (Azure deployments are priced from `model_info.base_model` through this table).
    openai: {
      'gpt-5': [1.25, 10],
      'gpt-5-mini': [0.25, 2],
      'gpt-5-nano': [0.05, 0.4],
      'gpt-5-chat': [1.25, 10],
      'gpt-5-codex': [1.25, 10],
      'gpt-5-pro': [15, 120],
      'gpt-5.1': [1.25, 10],
      'gpt-4.1': [2, 8],
      'gpt-4.1-mini': [0.4, 1.6],
      'gpt-4.1-nano': [0.1, 0.4],
      'gpt-4o': [2.5, 10],
      'gpt-4o-2024-05-13': [5, 15],
      'gpt-4o-mini': [0.15, 0.6],
      'chatgpt-4o': [5, 15],
      o1: [15, 60],
      'o1-mini': [1.1, 4.4],
      'o1-pro': [150, 600],
      o3: [2, 8],
      'o3-mini': [1.1, 4.4],
      'o3-pro': [20, 80],
      'o4-mini': [1.1, 4.4],
      'gpt-4-turbo': [10, 30],
      'gpt-4-turbo-preview': [10, 30],
      'gpt-4-1106-preview': [10, 30],
      'gpt-4-0125-preview': [10, 30],
      'gpt-4': [30, 60],
      'gpt-3.5-turbo': [0.5, 1.5],
      // Azure's name for it.
      'gpt-35-turbo': [0.5, 1.5],
      'text-embedding-3-small': [0.02, 0],
      'text-embedding-3-large': [0.13, 0],
      'text-embedding-ada-002': [0.1, 0],
    },
    // groq.com/pricing
    groq: {
      'llama-3.3-70b-versatile': [0.59, 0.79],
      'llama-3.1-8b-instant': [0.05, 0.08],
      'llama3-70b-8192': [0.59, 0.79],
      'llama3-8b-8192': [0.05, 0.08],
      'meta-llama/llama-4-scout-17b-16e-instruct': [0.11, 0.34],
      'meta-llama/llama-4-maverick-17b-128e-instruct': [0.2, 0.6],
      'mixtral-8x7b-32768': [0.24, 0.24],
      'gemma2-9b-it': [0.2, 0.2],
      'deepseek-r1-distill-llama-70b': [0.75, 0.99],
      'qwen/qwen3-32b': [0.29, 0.59],
      'moonshotai/kimi-k2-instruct': [1, 3],
      'openai/gpt-oss-120b': [0.15, 0.75],
      'openai/gpt-oss-20b': [0.1, 0.5],
    },
    // mistral.ai/pricing (the `-latest` aliases and dated versions fall back to these names).
    mistral: {
      'mistral-large': [2, 6],
      'mistral-medium': [0.4, 2],
      'mistral-small': [0.1, 0.3],
      codestral: [0.3, 0.9],
      'pixtral-large': [2, 6],
      'open-mistral-nemo': [0.15, 0.15],
      'ministral-8b': [0.1, 0.1],
      'ministral-3b': [0.04, 0.04],
      'magistral-medium': [2, 5],
      'magistral-small': [0.5, 1.5],
      'devstral-medium': [0.4, 2],
      'devstral-small': [0.1, 0.3],
      'mistral-embed': [0.1, 0],
    },
    codestral: {
      codestral: [0.3, 0.9],
    },
    // api-docs.deepseek.com/quick_start/pricing (input at the cache-miss price; both names serve DeepSeek-V3.2).
    deepseek: {
      'deepseek-chat': [0.28, 0.42],
      'deepseek-reasoner': [0.28, 0.42],
    },
    // docs.x.ai/docs/models
    xai: {
      'grok-4': [3, 15],
      'grok-4-fast-reasoning': [0.2, 0.5],
      'grok-4-fast-non-reasoning': [0.2, 0.5],
      'grok-code-fast-1': [0.2, 1.5],
      'grok-3': [3, 15],
      'grok-3-mini': [0.3, 0.5],
      'grok-2': [2, 10],
      'grok-2-vision': [2, 10],
    },
    // docs.perplexity.ai/getting-started/pricing (token prices only; its per-request search fees are not counted).
    perplexity: {
      sonar: [1, 1],
      'sonar-pro': [3, 15],
      'sonar-reasoning': [1, 5],
      'sonar-reasoning-pro': [2, 8],
      'sonar-deep-research': [2, 8],
    },
    // cerebras.ai/pricing
    cerebras: {
      'llama3.1-8b': [0.1, 0.1],
      'llama-3.3-70b': [0.85, 1.2],
      'qwen-3-32b': [0.4, 0.8],
    },
    // together.ai/pricing
    together_ai: {
      'meta-llama/llama-3.3-70b-instruct-turbo': [0.88, 0.88],
      'meta-llama/meta-llama-3.1-8b-instruct-turbo': [0.18, 0.18],
      'meta-llama/meta-llama-3.1-70b-instruct-turbo': [0.88, 0.88],
      'meta-llama/meta-llama-3.1-405b-instruct-turbo': [3.5, 3.5],
      'deepseek-ai/deepseek-v3': [1.25, 1.25],
      'deepseek-ai/deepseek-r1': [3, 7],
      'qwen/qwen2.5-72b-instruct-turbo': [1.2, 1.2],
      'mistralai/mixtral-8x7b-instruct-v0.1': [0.6, 0.6],
    },
    // fireworks.ai/pricing (by the name after accounts/fireworks/models/)
    fireworks_ai: {
      'llama-v3p3-70b-instruct': [0.9, 0.9],
      'llama-v3p1-8b-instruct': [0.2, 0.2],
      'llama-v3p1-405b-instruct': [3, 3],
      'deepseek-v3': [0.9, 0.9],
      'deepseek-r1': [3, 8],
      'qwen2p5-72b-instruct': [0.9, 0.9],
    },
    // Models on one's own Ollama server cost nothing per token.
    ollama: {},
    // anthropic.com/pricing, base input and output (Anthropic bills prompt-cache reads at 0.1× and writes at 1.25×
    // input; Gatehouse's cost has no cache tiers and counts them as input at this price). Dated ids
    // (claude-sonnet-4-5-20250929) and `-latest` fall back to these; `-4-0` is Anthropic's alias of the 4 models.
    anthropic: {
      'claude-opus-4-5': [5, 25],
      'claude-sonnet-4-5': [3, 15],
      'claude-haiku-4-5': [1, 5],
      'claude-opus-4-1': [15, 75],
      'claude-opus-4': [15, 75],
      'claude-opus-4-0': [15, 75],
      'claude-sonnet-4': [3, 15],
      'claude-sonnet-4-0': [3, 15],
      'claude-3-7-sonnet': [3, 15],
      'claude-3-5-sonnet': [3, 15],
      'claude-3-5-haiku': [0.8, 4],
      'claude-3-haiku': [0.25, 1.25],
      'claude-3-opus': [15, 75],
    },
    gemini: GEMINI,
    vertex_ai: GEMINI,
    // Amazon Bedrock, on-demand, US East (N. Virginia). Geographic cross-region profiles (`us.`, `eu.`, …) cost what
    // the model does in its region; from Claude Sonnet 4.5, Haiku 4.5 and Opus 4.5 on, the in-region and
    // geographic price is 10% above the `global.` profile's, which is listed on its own.
    bedrock: {
      'anthropic.claude-3-haiku-20240307-v1:0': [0.25, 1.25],
      'anthropic.claude-3-5-haiku-20241022-v1:0': [0.8, 4],
      'anthropic.claude-3-5-sonnet-20240620-v1:0': [3, 15],
      'anthropic.claude-3-5-sonnet-20241022-v2:0': [3, 15],
      'anthropic.claude-3-7-sonnet-20250219-v1:0': [3, 15],
      'anthropic.claude-3-opus-20240229-v1:0': [15, 75],
      'anthropic.claude-sonnet-4-20250514-v1:0': [3, 15],
      'anthropic.claude-opus-4-20250514-v1:0': [15, 75],
      'anthropic.claude-opus-4-1-20250805-v1:0': [15, 75],
      'anthropic.claude-sonnet-4-5-20250929-v1:0': [3.3, 16.5],
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0': [3, 15],
      'anthropic.claude-haiku-4-5-20251001-v1:0': [1.1, 5.5],
      'global.anthropic.claude-haiku-4-5-20251001-v1:0': [1, 5],
      'anthropic.claude-opus-4-5-20251101-v1:0': [5.5, 27.5],
      'global.anthropic.claude-opus-4-5-20251101-v1:0': [5, 25],
      'amazon.nova-micro-v1:0': [0.035, 0.14],
      'amazon.nova-lite-v1:0': [0.06, 0.24],
      'amazon.nova-pro-v1:0': [0.8, 3.2],
      'amazon.nova-premier-v1:0': [2.5, 12.5],
      'amazon.titan-embed-text-v1': [0.1, 0],
      'amazon.titan-embed-text-v2:0': [0.02, 0],
      'cohere.embed-english-v3': [0.1, 0],
      'cohere.embed-multilingual-v3': [0.1, 0],
      'meta.llama3-8b-instruct-v1:0': [0.3, 0.6],
      'meta.llama3-70b-instruct-v1:0': [2.65, 3.5],
      'meta.llama3-1-8b-instruct-v1:0': [0.22, 0.22],
      'meta.llama3-1-70b-instruct-v1:0': [0.72, 0.72],
      'meta.llama3-1-405b-instruct-v1:0': [2.4, 2.4],
      'meta.llama3-2-1b-instruct-v1:0': [0.1, 0.1],
      'meta.llama3-2-3b-instruct-v1:0': [0.15, 0.15],
      'meta.llama3-2-11b-instruct-v1:0': [0.16, 0.16],
      'meta.llama3-2-90b-instruct-v1:0': [0.72, 0.72],
      'meta.llama3-3-70b-instruct-v1:0': [0.72, 0.72],
      'mistral.mistral-7b-instruct-v0:2': [0.15, 0.2],
      'mistral.mixtral-8x7b-instruct-v0:1': [0.45, 0.7],
      'mistral.mistral-small-2402-v1:0': [1, 3],
      'mistral.mistral-large-2402-v1:0': [4, 12],
      'mistral.mistral-large-2407-v1:0': [2, 6],
    },
  },
};
