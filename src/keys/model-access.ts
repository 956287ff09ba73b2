import { ModelPattern, isModelPattern } from '../completions/model-pattern';
import { providerOfBareModel } from '../completions/providers/bare-model';

/** Entries of a `models` list that grant every model (LiteLLM's special names). */
const ALL_MODELS: ReadonlySet<string> = new Set(['*', 'all-proxy-models']);

/**
 * The models a key may call, from the key's and its team's `models` lists, read as LiteLLM reads them: an empty list
 * allows all, `*` and `all-proxy-models` allow all, a name allows itself, a pattern (`openai/*`, `claude-*`) allows
 * the names it matches — a bare name also by the provider LiteLLM infers for it (`gpt-4o` is `openai/gpt-4o`) — and
 * an access group's name (`model_info.access_groups`) allows the models in it. When both lists restrict, a model must
 * pass both.
 */
export class ModelAccess {
  private constructor(private readonly lists: readonly ModelList[]) {}

  /** Null when neither list restricts anything. */
  static of(keyModels: readonly string[], teamModels: readonly string[]): ModelAccess | null {
    const lists = [keyModels, teamModels].filter((models) => models.length > 0 && !models.some((model) => ALL_MODELS.has(model)));
    return lists.length === 0 ? null : new ModelAccess(lists.map((models) => new ModelList(models)));
  }

  /**
   * `grants`: the other names that allow `model` (DeploymentTable.grantsFor) — the group a `model_group_alias` sends
   * it to, and the `model_info.access_groups` of its deployments; LiteLLM allows the call when any of them is allowed.
   */
  allows(model: string, grants: ModelGrants = NO_GRANTS): boolean {
    return this.lists.every(
      (list) => list.allows(model) || (grants.alias !== undefined && list.allows(grants.alias)) || grants.accessGroups.some((group) => list.names(group)),
    );
  }
}

/** The names besides its own that allow a model: its alias's target, and its deployments' access groups. */
export interface ModelGrants {
  readonly alias?: string;
  readonly accessGroups: readonly string[];
}

const NO_GRANTS: ModelGrants = { accessGroups: [] };

class ModelList {
  private readonly named: ReadonlySet<string>;
  private readonly patterns: readonly ModelPattern[];

  constructor(models: readonly string[]) {
    this.named = new Set(models.filter((model) => !isModelPattern(model)));
    this.patterns = models.filter(isModelPattern).map((model) => new ModelPattern(model));
  }

  /** Whether the list names this entry as it is (an access group is granted by its name, never by a pattern). */
  names(entry: string): boolean {
    return this.named.has(entry);
  }

  allows(model: string): boolean {
    if (this.named.has(model)) return true;
    if (this.patterns.length === 0) return false;
    const withProvider = model.includes('/') ? null : `${providerOfBareModel(model)}/${model}`;
    return this.patterns.some((pattern) => pattern.matches(model) || (withProvider !== null && pattern.matches(withProvider)));
  }
}
