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
  },
};
