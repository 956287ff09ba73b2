import type { TokenPrices } from '../usage';
import { PROFILE_PREFIX } from '../providers/bedrock/model-id';
import { LIST_PRICES, type ListPrices } from './list-prices';

/**
 * The public list price of a model, so a call logs its cost without the config pricing it. Looked up by the
 * provider's name and the model as the provider calls it; date suffixes and regional prefixes fall back to the
 * family (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`, `us.anthropic.claude-…` → `anthropic.claude-…`).
 * Deployments override it with `input_cost_per_token` / `output_cost_per_token` in `litellm_params` or `model_info`.
 */
export function listPrice(provider: string, model: string, table: ListPrices = LIST_PRICES): TokenPrices | null {
  const prices = table.models[provider] ?? table.models[ALIASES[provider] ?? ''];
  if (prices === undefined) return null;
  for (const candidate of candidates(model)) {
    const found = prices[candidate];
    if (found !== undefined) {
      return { inputCostPerToken: found[0] / 1_000_000, outputCostPerToken: found[1] / 1_000_000 };
    }
  }
  return null;
}

/** Providers that sell the same models at the same list prices under another name. */
const ALIASES: Readonly<Record<string, string>> = { azure: 'openai', text_completion_openai: 'openai' };

function candidates(model: string): string[] {
  const lower = model.toLowerCase();
  const out = [lower];
  // Bedrock's cross-region inference profiles (us., eu., apac., jp., global., …) cost what the model does.
  const inRegion = lower.replace(PROFILE_PREFIX, '');
  if (inRegion !== lower) out.push(inRegion);
  // A path's last segment: `azure/gpt-4o` (how LiteLLM configs write base_model), `accounts/fireworks/models/x`.
  const slash = lower.lastIndexOf('/');
  if (slash !== -1 && slash < lower.length - 1) out.push(lower.slice(slash + 1));
  for (const name of [...out]) {
    // Version suffixes: -20250929, -2024-08-06, @20240620, -v1:0, -latest, -001, and four digits (-2411, -0613, -1212).
    const family = name.replace(/(?:[-@](?:\d{8}|\d{4}-\d{2}-\d{2})|-v\d+(?::\d+)?|-latest|-\d{3,4})$/, '');
    if (family !== name) out.push(family);
  }
  return out;
}
