import { ModelPattern, isModelPattern } from '../completions/model-pattern';
import { providerOfBareModel } from '../completions/providers/bare-model';

/** Entries of a `models` list that grant every model (LiteLLM's special names). */
const ALL_MODELS: ReadonlySet<string> = new Set(['*', 'all-proxy-models']);

/**
 * The models a key may call, from the key's and its team's `models` lists, read as LiteLLM reads them: an empty list
 * allows all, `*` and `all-proxy-models` allow all, a name allows itself, a pattern (`openai/*`, `claude-*`) allows
 * the names it matches — a bare name also by the provider LiteLLM infers for it (`gpt-4o` is `openai/gpt-4o`). When
 * both lists restrict, a model must pass both.
 */
export class ModelAccess {
  private constructor(private readonly lists: readonly ModelList[]) {}

  /** Null when neither list restricts anything. */
  static of(keyModels: readonly string[], teamModels: readonly string[]): ModelAccess | null {
    const lists = [keyModels, teamModels].filter((models) => models.length > 0 && !models.some((model) => ALL_MODELS.has(model)));
    return lists.length === 0 ? null : new ModelAccess(lists.map((models) => new ModelList(models)));
  }

  /** `alias`: the group a `model_group_alias` sends `model` to; LiteLLM allows the call when either name is allowed. */
  allows(model: string, alias?: string): boolean {
    return this.lists.every((list) => list.allows(model) || (alias !== undefined && list.allows(alias)));
  }
}

class ModelList {
  private readonly names: ReadonlySet<string>;
  private readonly patterns: readonly ModelPattern[];

  constructor(models: readonly string[]) {
    this.names = new Set(models.filter((model) => !isModelPattern(model)));
    this.patterns = models.filter(isModelPattern).map((model) => new ModelPattern(model));
  }

  allows(model: string): boolean {
    if (this.names.has(model)) return true;
    if (this.patterns.length === 0) return false;
    const withProvider = model.includes('/') ? null : `${providerOfBareModel(model)}/${model}`;
    return this.patterns.some((pattern) => pattern.matches(model) || (withProvider !== null && pattern.matches(withProvider)));
  }
}
