import { createHash } from 'node:crypto';
import { Pool } from 'undici';
import type { ModelDeployment, ModelGroupAlias } from '../config/gateway-config.types';
import type { ModelGrants } from '../keys/model-access';
import { isModelPattern, ModelPattern } from './model-pattern';
import { listPrice } from './prices/price-list';
import { providerOfBareModel } from './providers/bare-model';
import { DeploymentSource } from './providers/deployment-source';
import type { Provider, ProviderDeployment } from './providers/provider';
import { MOCK_PREFIX, providerFor, SUPPORTED_PREFIXES } from './providers/registry';
import type { RequestBody } from './request-body';
import type { WildcardModel } from './wildcard-deployment';

export const DEFAULT_TIMEOUT_SECONDS = 600;
export const DEFAULT_MAX_RETRIES = 0;
export const DEFAULT_MOCK_RESPONSE = 'This is a mock response from Gatehouse.';
const NO_SEGMENTS: readonly string[] = [];
const NO_ACCESS_GROUPS: readonly string[] = [];

/**
 * OpenAI request parameters a deployment may set in `litellm_params` as defaults (LiteLLM passes them to every
 * call; a value in the request wins). `extra_body` is merged in field by field.
 */
export const REQUEST_DEFAULT_PARAMS: readonly string[] = [
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'n',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'seed',
  'response_format',
  'user',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'reasoning_effort',
  'service_tier',
  'modalities',
  'audio',
  'prediction',
  'store',
  'verbosity',
  'web_search_options',
  'dimensions',
  'encoding_format',
];

/** Settings the table itself reads; the rest belong to the provider (or are warned about as unused). */
export const TABLE_PARAMS = ['timeout', 'stream_timeout', 'max_retries', 'mock_response', 'custom_llm_provider', 'input_cost_per_token', 'output_cost_per_token', 'extra_body', 'weight', 'rpm', 'tpm'];

/** One `model_list` entry, compiled once at boot so the request path only reads fields. */
export interface CompiledDeployment {
  readonly modelName: string;
  /** LiteLLM's `custom_llm_provider`, for the record and error messages (`openai`, `azure`, `groq`, `mock`, ...). */
  readonly providerLabel: string;
  /** Model name sent upstream: `litellm_params.model` without its provider prefix. */
  readonly upstreamModel: string;
  readonly modelId: string;
  /** For the record: origin + path, no credentials, no query, no trailing slash. Null for the offline provider. */
  readonly apiBaseForLog: string | null;
  /** How to call the upstream; null for the offline provider, which the gateway answers itself. */
  readonly target: ProviderDeployment | null;
  readonly pool: Pool | null;
  /** Request parameters from `litellm_params` that a call gets unless it sets them; null when there are none. */
  readonly requestDefaults: Readonly<RequestBody> | null;
  readonly timeoutMs: number;
  readonly streamTimeoutMs: number;
  readonly maxRetries: number;
  readonly mockResponse: string | null;
  readonly inputCostPerToken: number;
  readonly outputCostPerToken: number;
  /** Set when `model:` has a `*`: the call's model is made from the requested name (see wildcard-deployment.ts). */
  readonly wildcard: WildcardModel | null;
  /** Routing inputs from `litellm_params` (router/): a share for simple-shuffle, and the per-minute limits. */
  readonly weight: number | null;
  readonly rpm: number | null;
  readonly tpm: number | null;
}

export interface ModelGroup {
  readonly name: string;
  readonly deployments: readonly CompiledDeployment[];
  /** LiteLLM's model access groups: `model_info.access_groups` of the group's deployments; a key naming one may call the group. */
  readonly accessGroups: readonly string[];
  /** Index of the deployment that starts the next call; advancing it spreads load round robin. */
  cursor: number;
}

/** Where a requested model name goes. */
export interface RoutedModel {
  readonly group: ModelGroup;
  /** The name the group serves: the requested one, or the group a `model_group_alias` names. */
  readonly name: string;
  /** What the `*`s of the group's `model_name` matched; empty for an exact name. */
  readonly segments: readonly string[];
}

export interface DeploymentTableOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Upper bound on sockets per upstream origin. */
  readonly connectionsPerOrigin?: number;
  readonly onWarning?: (message: string) => void;
  /** False for a dry run (`DeploymentTable.check`): compiled, but no connection pool is made. */
  readonly pools?: boolean;
  /** `model_group_alias`: a request for the alias goes to the group it names. */
  readonly aliases?: Readonly<Record<string, ModelGroupAlias>>;
  /** `router_settings.timeout` / `stream_timeout`: for deployments that set none of their own (seconds). */
  readonly defaultTimeoutSeconds?: number;
  readonly defaultStreamTimeoutSeconds?: number;
}

/** Deployments that cannot be used as configured: every problem, each naming its deployment. */
export class DeploymentConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid model_list (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'DeploymentConfigError';
  }
}

/**
 * Routing table for `model_list`: model name → deployments, each compiled by its provider, plus one keep-alive undici
 * Pool per upstream origin shared by every deployment on it. Problems (an unknown provider, a missing credential or
 * base URL, an unset variable) stop start-up together; settings nobody reads are named in a warning.
 */
export class DeploymentTable {
  private readonly groups = new Map<string, ModelGroup>();
  private readonly pools = new Map<string, Pool>();
  /** Groups whose `model_name` is a pattern, the most specific first (an exact name is looked up before any). */
  private readonly patterns: Array<{ readonly pattern: ModelPattern; readonly group: ModelGroup }> = [];
  private readonly aliases: ReadonlyMap<string, ModelGroupAlias>;
  /** Model names in config order, then the aliases not hidden, for `/v1/models` (patterns as written, as LiteLLM lists them). */
  readonly modelNames: readonly string[];

  constructor(modelList: readonly ModelDeployment[], private readonly options: DeploymentTableOptions) {
    const names: string[] = [];
    const problems: string[] = [];
    modelList.forEach((entry, index) => {
      const compiled = this.compile(entry, index, problems);
      if (compiled === null) return;
      let group = this.groups.get(entry.model_name);
      if (!group) {
        group = { name: entry.model_name, deployments: [], accessGroups: [], cursor: 0 };
        this.groups.set(entry.model_name, group);
        names.push(entry.model_name);
        if (isModelPattern(entry.model_name)) this.patterns.push({ pattern: new ModelPattern(entry.model_name), group });
      }
      (group.deployments as CompiledDeployment[]).push(compiled);
      for (const accessGroup of accessGroupsOf(entry)) if (!group.accessGroups.includes(accessGroup)) (group.accessGroups as string[]).push(accessGroup);
    });
    if (problems.length > 0) {
      void this.close();
      throw new DeploymentConfigError(problems);
    }
    // Stable: patterns equally specific keep their config order.
    this.patterns.sort((a, b) => b.pattern.literalLength - a.pattern.literalLength);
    this.aliases = new Map(Object.entries(options.aliases ?? {}));
    for (const [alias, { model, hidden }] of this.aliases) {
      if (!hidden && !this.groups.has(alias)) names.push(alias);
      if (this.route(model) === undefined) options.onWarning?.(`model_group_alias \`${alias}\` names \`${model}\`, which no model_name serves: requests for it get model_not_found`);
    }
    this.modelNames = names;
  }

  /**
   * Compiles `modelList` without making any connection pool, so start-up can stop on a problem before the database
   * and the HTTP server start. Throws DeploymentConfigError.
   */
  static check(modelList: readonly ModelDeployment[], env: NodeJS.ProcessEnv): void {
    new DeploymentTable(modelList, { env, pools: false });
  }

  group(modelName: string): ModelGroup | undefined {
    return this.groups.get(modelName);
  }

  /** The group a `model_group_alias` sends this name to, if it is an alias (LiteLLM resolves aliases first). */
  aliasTarget(requested: string): string | undefined {
    return this.aliases.get(requested)?.model;
  }

  /**
   * The names besides its own whose permission allows a key to call `requested` (see ModelAccess.allows); `routed`:
   * its route, when the caller has it already.
   */
  grantsFor(requested: string, routed: RoutedModel | undefined = this.route(requested)): ModelGrants {
    const alias = this.aliasTarget(requested);
    const accessGroups = routed?.group.accessGroups ?? NO_ACCESS_GROUPS;
    return alias === undefined ? { accessGroups } : { alias, accessGroups };
  }

  /** The group for a requested name: its alias's target, then an exact `model_name`, then the most specific pattern. */
  route(requested: string): RoutedModel | undefined {
    const name = this.aliases.get(requested)?.model ?? requested;
    const group = this.groups.get(name);
    if (group !== undefined) return { group, name, segments: NO_SEGMENTS };
    for (const { pattern, group: patternGroup } of this.patterns) {
      const segments = pattern.match(name);
      if (segments !== null) return { group: patternGroup, name, segments };
    }
    return undefined;
  }

  /** Returns the index of the first deployment to try for this call and moves the cursor on. */
  static nextStart(group: ModelGroup): number {
    const start = group.cursor;
    group.cursor = start + 1 === group.deployments.length ? 0 : start + 1;
    return start;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }

  private compile(entry: ModelDeployment, index: number, problems: string[]): CompiledDeployment | null {
    const model = entry.litellm_params.model;
    const slash = model.indexOf('/');
    const prefix = slash === -1 ? providerOfBareModel(model) : model.slice(0, slash);
    const upstreamModel = slash === -1 ? model : model.slice(slash + 1);
    const source = new DeploymentSource(index, entry, prefix, upstreamModel, this.options.env, problems);
    const problemsBefore = problems.length;

    const mockResponse = source.string('mock_response');
    const provider = prefix === MOCK_PREFIX || mockResponse !== undefined ? null : providerFor(prefix);
    if (provider === undefined) {
      source.problem(`provider \`${prefix}\` is not supported (supported: ${SUPPORTED_PREFIXES.join(', ')})`);
      return null;
    }
    const wildcardProblem = isModelPattern(model) ? refusedWildcard(entry, slash, prefix, provider) : null;
    if (wildcardProblem !== null) {
      source.problem(wildcardProblem);
      return null;
    }
    const target = provider === null ? null : provider.compile(source);
    const modelName = target?.upstreamModel ?? upstreamModel;
    const timeoutSeconds = positive(source.number('timeout')) ?? this.options.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const streamTimeoutSeconds = positive(source.number('stream_timeout')) ?? this.options.defaultStreamTimeoutSeconds ?? timeoutSeconds;
    const retries = source.number('max_retries');
    const info: Readonly<Record<string, unknown>> = entry.model_info ?? {};
    // Priced by the prefix first: the OpenAI-compatible hosts share one provider but not their models or prices.
    const priceProviders = provider === null ? [MOCK_PREFIX] : [prefix, provider.name];
    const { configured, ...prices } = this.prices(source, info, priceProviders, modelName);
    const requestDefaults = readRequestDefaults(source);
    for (const name of TABLE_PARAMS) source.raw(name);
    const unread = source.unread();
    if (unread.length > 0) {
      this.options.onWarning?.(`${source.label}: litellm_params ${unread.join(', ')} ${unread.length === 1 ? 'is' : 'are'} not used by Gatehouse and ignored`);
    }
    if (problems.length > problemsBefore) return null;

    return {
      modelName: entry.model_name,
      providerLabel: provider === null ? MOCK_PREFIX : prefix,
      upstreamModel: modelName,
      modelId: typeof info.id === 'string' && info.id !== '' ? info.id : generatedModelId(entry, index),
      apiBaseForLog: target?.apiBaseForLog ?? null,
      target,
      pool: target === null || this.options.pools === false ? null : this.poolFor(target.origin),
      requestDefaults,
      timeoutMs: timeoutSeconds * 1000,
      streamTimeoutMs: streamTimeoutSeconds * 1000,
      maxRetries: retries !== undefined && Number.isInteger(retries) && retries >= 0 ? retries : DEFAULT_MAX_RETRIES,
      mockResponse: provider === null ? (mockResponse ?? DEFAULT_MOCK_RESPONSE) : null,
      ...prices,
      wildcard: isModelPattern(modelName) ? { template: modelName, priceProviders, configuredPrices: configured, byName: new Map() } : null,
      weight: positive(source.number('weight')) ?? null,
      rpm: positive(source.number('rpm')) ?? null,
      tpm: positive(source.number('tpm')) ?? null,
    };
  }

  /**
   * Per-token prices: `litellm_params` wins over `model_info` (LiteLLM reads both), which wins over the list
   * price of the model (`model_info.base_model` for deployments whose name is not the model's, as on Azure).
   */
  private prices(
    source: DeploymentSource,
    info: Readonly<Record<string, unknown>>,
    providerNames: readonly string[],
    upstreamModel: string,
  ): { inputCostPerToken: number; outputCostPerToken: number; configured: { input?: number; output?: number } } {
    const baseModel = typeof info.base_model === 'string' && info.base_model !== '' ? info.base_model : upstreamModel;
    let listed: ReturnType<typeof listPrice> = null;
    for (const name of providerNames) listed ??= listPrice(name, baseModel);
    const configured = (name: 'input_cost_per_token' | 'output_cost_per_token'): number | undefined =>
      nonNegative(source.number(name)) ?? nonNegative(info[name]);
    const input = configured('input_cost_per_token');
    const output = configured('output_cost_per_token');
    return {
      inputCostPerToken: input ?? listed?.inputCostPerToken ?? 0,
      outputCostPerToken: output ?? listed?.outputCostPerToken ?? 0,
      configured: { input, output },
    };
  }

  private poolFor(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.options.connectionsPerOrigin ?? 512,
        pipelining: 1,
        keepAliveTimeout: 30_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }
}

/**
 * Why a `model:` with a `*` cannot be served as written, or null when it can: the provider must be spelled out (LiteLLM
 * infers one per request for a bare `*`; Gatehouse compiles one provider per deployment), the `model_name` must be a
 * pattern for the `*` to be filled, and the provider must read the model from each call rather than at boot.
 */
function refusedWildcard(entry: ModelDeployment, slash: number, prefix: string, provider: Provider | null): string | null {
  const model = entry.litellm_params.model;
  if (slash === -1 || prefix.includes('*')) {
    return `litellm_params.model \`${model}\` needs its provider spelled out for a wildcard (\`openai/*\`, \`anthropic/*\`, ...)`;
  }
  if (!isModelPattern(entry.model_name)) {
    return `litellm_params.model \`${model}\` has a \`*\` but model_name \`${entry.model_name}\` has none to fill it: make model_name a pattern (\`*\`, \`${prefix}/*\`) or name the model`;
  }
  if (provider !== null && provider.servesAnyModel !== true) {
    return `provider \`${prefix}\` cannot serve a wildcard model (it names the model in its deployment or address at start-up): list each model as its own deployment`;
  }
  return null;
}

/** The request parameters `litellm_params` sets, `extra_body`'s fields first; null when there are none. */
/** Request defaults an upstream takes as numbers only: a string left there would fail every call, so it fails start-up. */
const NUMERIC_REQUEST_DEFAULTS: ReadonlySet<string> = new Set([
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'top_logprobs',
]);

function readRequestDefaults(source: DeploymentSource): RequestBody | null {
  const defaults: RequestBody = {};
  const extraBody = source.raw('extra_body');
  if (extraBody !== undefined && extraBody !== null) {
    if (typeof extraBody === 'object' && !Array.isArray(extraBody)) Object.assign(defaults, extraBody);
    else source.problem('litellm_params.extra_body must be a mapping');
  }
  for (const name of REQUEST_DEFAULT_PARAMS) {
    if (!source.has(name)) continue;
    if (NUMERIC_REQUEST_DEFAULTS.has(name)) {
      defaults[name] = source.number(name);
      continue;
    }
    const value = source.raw(name);
    defaults[name] = typeof value === 'string' ? source.resolve(name, value) : value;
  }
  return Object.keys(defaults).length > 0 ? defaults : null;
}

/** The call's body with the deployment's defaults under it: the caller's own values win. */
export function withRequestDefaults(body: RequestBody, defaults: Readonly<RequestBody> | null): RequestBody {
  if (defaults === null) return body;
  const merged: RequestBody = { ...defaults };
  for (const key in body) merged[key] = body[key];
  return merged;
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined;
}

function nonNegative(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Stable across restarts for an unchanged config, so logs of one deployment group together; never hashes the key. */
function generatedModelId(entry: ModelDeployment, index: number): string {
  return createHash('sha256')
    .update(`${index}\0${entry.model_name}\0${entry.litellm_params.model}\0${typeof entry.litellm_params.api_base === 'string' ? entry.litellm_params.api_base : ''}`)
    .digest('hex')
    .slice(0, 16);
}

/** `model_info.access_groups`, a list of names (config validation checked it). */
function accessGroupsOf(entry: ModelDeployment): readonly string[] {
  const groups = entry.model_info?.access_groups;
  return Array.isArray(groups) ? groups.filter((group): group is string => typeof group === 'string') : NO_ACCESS_GROUPS;
}
