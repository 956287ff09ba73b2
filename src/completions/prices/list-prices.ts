/**
 * Public list prices in USD per million tokens, [input, output], as the providers publish them for standard
 * (non-batch, non-cached) usage. Data, not logic: update it when providers change their prices, and move `taken`.
 */
export interface ListPrices {
  /** The day the prices were read from the providers' pricing pages. */
  readonly taken: string;
  readonly models: Readonly<Record<string, Readonly<Record<string, readonly [number, number]>>>>;
}

export const LIST_PRICES: ListPrices = {
  taken: '2026-12-07',
  models: {
    openai: {
      'gpt-4o': [2.5, 10],
      'gpt-4o-mini': [0.15, 0.6],
      'text-embedding-3-small': [0.02, 0],
      'text-embedding-3-large': [0.13, 0],
    },
    anthropic: {
      'claude-sonnet-4-5': [3, 15],
    },
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
