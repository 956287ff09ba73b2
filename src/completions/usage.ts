export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface TokenPrices {
  readonly inputCostPerToken: number;
  readonly outputCostPerToken: number;
}

export interface CostBreakdown {
  input_cost: number;
  output_cost: number;
  total_cost: number;
}

export const NO_USAGE: Readonly<TokenUsage> = Object.freeze({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });

/** Reads an upstream `usage` object defensively: providers omit fields or send null. */
export function readUsage(value: unknown): TokenUsage | null {
  if (value === null || typeof value !== 'object') {
    return null;
  }
  const usage = value as Record<string, unknown>;
  const prompt = count(usage.prompt_tokens);
  const completion = count(usage.completion_tokens);
  const total = count(usage.total_tokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: total || prompt + completion };
}

export function computeCost(usage: TokenUsage, prices: TokenPrices): CostBreakdown {
  const input = usage.prompt_tokens * prices.inputCostPerToken;
  const output = usage.completion_tokens * prices.outputCostPerToken;
  return { input_cost: input, output_cost: output, total_cost: input + output };
}

/** A rough token count (about four characters per token) for the offline provider. */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
