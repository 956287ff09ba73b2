import { listPrice } from './prices/price-list';
import type { CompiledDeployment } from './deployment-table';
import { fillWildcards } from './model-pattern';

/** Distinct requested names a wildcard deployment remembers; past it the memory starts again (names are caller-chosen). */
const REMEMBERED_NAMES = 1000;

/**
 * A deployment whose `model:` has a `*` (`openai/*`, `anthropic/claude-*`): compiled once at boot with its provider
 * and credentials; a call only changes the model sent upstream, and with it the list price and the logged model.
 */
export interface WildcardModel {
  /** The `model:` value without its prefix, `*`s included. */
  readonly template: string;
  /** Names the list prices are looked up under (the prefix, then the provider's name). */
  readonly priceProviders: readonly string[];
  /** Prices the config sets (`input_cost_per_token`, ...): they hold for every name the deployment serves. */
  readonly configuredPrices: { readonly input?: number; readonly output?: number };
  /** The deployment as served for each name seen, so a repeated name costs one map lookup. */
  readonly byName: Map<string, CompiledDeployment>;
}

/**
 * The deployment as it serves `requested`, which its group's pattern matched with `segments`; itself when its model
 * is fixed. The result carries the upstream model the `*`s make, priced by its list price unless the config prices it.
 */
export function deploymentFor(deployment: CompiledDeployment, segments: readonly string[], requested: string): CompiledDeployment {
  const wildcard = deployment.wildcard;
  if (wildcard === null) return deployment;
  const known = wildcard.byName.get(requested);
  if (known !== undefined) return known;
  const upstreamModel = fillWildcards(wildcard.template, segments, requested);
  let listed: ReturnType<typeof listPrice> = null;
  for (const provider of wildcard.priceProviders) listed ??= listPrice(provider, upstreamModel);
  const served: CompiledDeployment = {
    ...deployment,
    upstreamModel,
    inputCostPerToken: wildcard.configuredPrices.input ?? listed?.inputCostPerToken ?? 0,
    outputCostPerToken: wildcard.configuredPrices.output ?? listed?.outputCostPerToken ?? 0,
    wildcard: null,
  };
  if (wildcard.byName.size >= REMEMBERED_NAMES) wildcard.byName.clear();
  wildcard.byName.set(requested, served);
  return served;
}
