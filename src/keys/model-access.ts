import { ModelPattern, isModelPattern } from '../completions/model-pattern';
import { providerOfBareModel } from '../completions/providers/bare-model';
import { AppException } from '../errors';

/** Whose `models` list refused a model: LiteLLM answers `key_model_access_denied`, `team_…` or `user_…`. */
export type ModelAccessLevel = 'key' | 'team' | 'user';

export interface ModelRefusal {
  readonly level: ModelAccessLevel;
  /** The list that refused it, as configured. */
  readonly models: readonly string[];
}

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

  /**
   * Null when no list restricts anything. `userModels`: the key's user's list, which LiteLLM applies to the keys
   * without a team (a team key is held to its team's list instead).
   */
  static of(keyModels: readonly string[], teamModels: readonly string[], userModels: readonly string[] = []): ModelAccess | null {
    const levels: [ModelAccessLevel, readonly string[]][] = [
      ['key', keyModels],
      ['team', teamModels],
      ['user', userModels],
    ];
    const lists = levels.filter(([, models]) => models.length > 0 && !models.some((model) => ALL_MODELS.has(model)));
    return lists.length === 0 ? null : new ModelAccess(lists.map(([level, models]) => new ModelList(models, level)));
  }

  /** The first list (key, team, user) that refuses `model`, or null when every list allows it. */
  refusal(model: string, grants: ModelGrants = NO_GRANTS): ModelRefusal | null {
    for (const list of this.lists) {
      if (!list.allowsWith(model, grants)) return { level: list.level, models: list.models };
    }
    return null;
  }

  /**
   * `grants`: the other names that allow `model` (DeploymentTable.grantsFor) — the group a `model_group_alias` sends
   * it to, and the `model_info.access_groups` of its deployments; LiteLLM allows the call when any of them is allowed.
   */
  allows(model: string, grants: ModelGrants = NO_GRANTS): boolean {
    return this.lists.every((list) => list.allowsWith(model, grants));
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

  constructor(
    readonly models: readonly string[],
    readonly level: ModelAccessLevel,
  ) {
    this.named = new Set(models.filter((model) => !isModelPattern(model)));
    this.patterns = models.filter(isModelPattern).map((model) => new ModelPattern(model));
  }

  /** Whether the list names this entry as it is (an access group is granted by its name, never by a pattern). */
  names(entry: string): boolean {
    return this.named.has(entry);
  }

  allowsWith(model: string, grants: ModelGrants): boolean {
    return this.allows(model) || (grants.alias !== undefined && this.allows(grants.alias)) || grants.accessGroups.some((group) => this.names(group));
  }

  allows(model: string): boolean {
    if (this.named.has(model)) return true;
    if (this.patterns.length === 0) return false;
    const withProvider = model.includes('/') ? null : `${providerOfBareModel(model)}/${model}`;
    return this.patterns.some((pattern) => pattern.matches(model) || (withProvider !== null && pattern.matches(withProvider)));
  }
}

const MAX_SHOWN = 200;

function clip(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/**
 * LiteLLM's 401 for a model outside a key's, team's or user's list, with its message ("key not allowed to access
 * model. This key can only access models=['gpt-4']. Tried to access gpt-3.5-turbo"), so scripts that read it work.
 */
export function modelAccessDenied(refusal: ModelRefusal, model: string, param = 'model'): AppException {
  const shown = refusal.models.slice(0, 50).map((name) => `'${clip(name)}'`);
  if (refusal.models.length > 50) shown.push('…');
  return new AppException(
    `${refusal.level}_model_access_denied`,
    `${refusal.level} not allowed to access model. This ${refusal.level} can only access models=[${shown.join(', ')}]. Tried to access ${clip(model)}`,
    { param },
  );
}
