import { LIST_PRICES } from './list-prices';
import { listPrice } from './price-list';

const perMillion = (provider: string, model: string): [number, number] | null => {
  const found = listPrice(provider, model);
  return found === null ? null : [Math.round(found.inputCostPerToken * 1e9) / 1e3, Math.round(found.outputCostPerToken * 1e9) / 1e3];
};

describe(listPrice.name, () => {
  it('finds a model by its exact name, case-insensitively', () => {
    expect(perMillion('openai', 'gpt-4.1-mini')).toEqual([0.4, 1.6]);
    expect(perMillion('together_ai', 'meta-llama/Llama-3.3-70B-Instruct-Turbo')).toEqual([0.88, 0.88]);
  });

  it('an exact dated entry wins over its family (gpt-4o-2024-05-13 is dearer than gpt-4o)', () => {
    expect(perMillion('openai', 'gpt-4o-2024-05-13')).toEqual([5, 15]);
    expect(perMillion('openai', 'gpt-4o-2024-08-06')).toEqual([2.5, 10]);
  });

  it.each([
    ['openai', 'gpt-4o-mini-2024-07-18', [0.15, 0.6]],
    ['openai', 'o3-mini-2025-01-31', [1.1, 4.4]],
    ['openai', 'gpt-4-0613', [30, 60]],
    ['openai', 'gpt-3.5-turbo-0125', [0.5, 1.5]],
    ['openai', 'chatgpt-4o-latest', [5, 15]],
    ['openai', 'gpt-5-chat-latest', [1.25, 10]],
    ['mistral', 'mistral-large-latest', [2, 6]],
    ['mistral', 'mistral-large-2411', [2, 6]],
    ['mistral', 'mistral-small-2503', [0.1, 0.3]],
    ['mistral', 'open-mistral-nemo-2407', [0.15, 0.15]],
    ['codestral', 'codestral-2501', [0.3, 0.9]],
    ['xai', 'grok-4-0709', [3, 15]],
    ['xai', 'grok-2-1212', [2, 10]],
  ] as const)('falls back from a version suffix: %s %s', (provider, model, expected) => {
    expect(perMillion(provider, model)).toEqual(expected);
  });

  it("takes a path's last segment: LiteLLM's base_model `azure/gpt-4o`, Fireworks' accounts/fireworks/models/<name>", () => {
    expect(perMillion('azure', 'azure/gpt-4o-2024-08-06')).toEqual([2.5, 10]);
    expect(perMillion('azure', 'gpt-35-turbo')).toEqual([0.5, 1.5]);
    expect(perMillion('fireworks_ai', 'accounts/fireworks/models/llama-v3p1-8b-instruct')).toEqual([0.2, 0.2]);
  });

  it("prices Bedrock's cross-region profiles as the model, unless the profile has a price of its own (global.)", () => {
    expect(perMillion('bedrock', 'us.anthropic.claude-3-5-haiku-20241022-v1:0')).toEqual([0.8, 4]);
    expect(perMillion('bedrock', 'jp.anthropic.claude-sonnet-4-5-20250929-v1:0')).toEqual([3.3, 16.5]);
    expect(perMillion('bedrock', 'apac.amazon.nova-lite-v1:0')).toEqual([0.06, 0.24]);
    expect(perMillion('bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0')).toEqual([3, 15]);
  });

  it('prices the OpenAI-compatible hosts by their own name, not as OpenAI', () => {
    expect(perMillion('groq', 'llama-3.3-70b-versatile')).toEqual([0.59, 0.79]);
    expect(perMillion('deepseek', 'deepseek-reasoner')).toEqual([0.28, 0.42]);
    expect(perMillion('groq', 'gpt-4o')).toBeNull();
  });

  it('has nothing for unknown models, and Ollama is free', () => {
    expect(perMillion('openai', 'gpt-unknown')).toBeNull();
    expect(perMillion('ollama', 'llama3.1')).toBeNull();
  });

  it('every price is a finite, non-negative number with input > 0', () => {
    for (const [provider, models] of Object.entries(LIST_PRICES.models)) {
      for (const [model, [input, output]] of Object.entries(models)) {
        expect({ provider, model, ok: input > 0 && output >= 0 && Number.isFinite(input) && Number.isFinite(output) }).toEqual({ provider, model, ok: true });
        expect(model).toBe(model.toLowerCase());
      }
    }
  });
});

describe('Anthropic list prices', () => {
  it.each([
    ['claude-opus-4-5-20251101', [5, 25]],
    ['claude-sonnet-4-5-20250929', [3, 15]],
    ['claude-haiku-4-5-20251001', [1, 5]],
    ['claude-opus-4-1-20250805', [15, 75]],
    ['claude-opus-4-20250514', [15, 75]],
    ['claude-opus-4-0', [15, 75]],
    ['claude-sonnet-4-20250514', [3, 15]],
    ['claude-sonnet-4-0', [3, 15]],
    ['claude-3-7-sonnet-20250219', [3, 15]],
    ['claude-3-7-sonnet-latest', [3, 15]],
    ['claude-3-5-sonnet-20241022', [3, 15]],
    ['claude-3-5-haiku-20241022', [0.8, 4]],
    ['claude-3-haiku-20240307', [0.25, 1.25]],
    ['claude-3-opus-20240229', [15, 75]],
  ] as const)('prices %s by its family', (model, expected) => {
    expect(perMillion('anthropic', model)).toEqual(expected);
  });
});
