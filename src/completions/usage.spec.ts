import { computeCost, estimateTokens, readUsage } from './usage';

describe('usage and cost', () => {
  it('reads usage defensively and fills total_tokens', () => {
    expect(readUsage({ prompt_tokens: 3, completion_tokens: 4 })).toEqual({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    expect(readUsage({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 9 })?.total_tokens).toBe(9);
    expect(readUsage({ prompt_tokens: 'x', completion_tokens: null })).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    expect(readUsage(null)).toBeNull();
    expect(readUsage('usage')).toBeNull();
  });

  it('prices prompt and completion tokens separately', () => {
    const cost = computeCost(
      { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 },
      { inputCostPerToken: 0.000001, outputCostPerToken: 0.000004 },
    );
    expect(cost.input_cost).toBeCloseTo(0.001, 12);
    expect(cost.output_cost).toBeCloseTo(0.002, 12);
    expect(cost.total_cost).toBeCloseTo(0.003, 12);
  });

  it('costs nothing without prices', () => {
    expect(computeCost({ prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 }, { inputCostPerToken: 0, outputCostPerToken: 0 }).total_cost).toBe(0);
  });

  it('estimates about four characters per token', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
  });
});
