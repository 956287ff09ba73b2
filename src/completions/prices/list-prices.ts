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
    openai: {
      'gpt-4o': [2.5, 10],
      'gpt-4o-mini': [0.15, 0.6],
      'text-embedding-3-small': [0.02, 0],
      'text-embedding-3-large': [0.13, 0],
    },
    anthropic: {
      'claude-sonnet-4-5': [3, 15],
    },
    gemini: GEMINI,
    vertex_ai: GEMINI,
  },
};
