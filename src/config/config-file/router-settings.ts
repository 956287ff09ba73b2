import type { FallbackMap, ModelGroupAlias, RouterSettings, RoutingStrategy } from '../gateway-config.types';
import { describeKind, isMapping, Issues, joinPath, readBoolean, readMapping, readNumber, readString, reportUnknownKey } from './problems';

/**
 * config.yaml's `router_settings` (LiteLLM's Router arguments) and their `litellm_settings` twins. A value in
 * `router_settings` wins over its twin, as it does when LiteLLM's proxy builds its Router.
 */

export const ROUTING_STRATEGIES: readonly RoutingStrategy[] = ['simple-shuffle', 'least-busy', 'latency-based-routing', 'usage-based-routing-v2'];

/** Keys of `router_settings` Gatehouse acts on. */
export const ROUTER_SETTINGS_USED = [
  'routing_strategy',
  'routing_strategy_args',
  'num_retries',
  'retry_after',
  'timeout',
  'stream_timeout',
  'fallbacks',
  'context_window_fallbacks',
  'content_policy_fallbacks',
  'default_fallbacks',
  'max_fallbacks',
  'allowed_fails',
  'cooldown_time',
  'disable_cooldowns',
  // Read by readModelGroupAliases below.
  'model_group_alias',
] as const;

/** LiteLLM Router settings Gatehouse does not act on (warned about, kept in `other`). */
export const ROUTER_SETTINGS_IGNORED = [
  'enable_pre_call_checks',
  'optional_pre_call_checks',
  'redis_host',
  'redis_port',
  'redis_password',
  'redis_url',
  'cache_responses',
  'cache_kwargs',
  'retry_policy',
  'model_group_retry_policy',
  'allowed_fails_policy',
  'provider_budget_config',
  'enable_tag_filtering',
  'tag_filtering_match_any',
  'router_general_settings',
  'polling_interval',
  'client_ttl',
  'default_max_parallel_requests',
  'default_priority',
  'default_litellm_params',
  'set_verbose',
  'debug_level',
  'alerting_config',
  'assistants_config',
  'search_tools',
  'ignore_invalid_deployments',
  'deployment_affinity_ttl_seconds',
  'model_group_affinity_config',
] as const;

/** `litellm_settings` keys LiteLLM also reads as Router settings; `request_timeout` is `timeout` there. */
export const LITELLM_ROUTER_TWINS = [
  'num_retries',
  'request_timeout',
  'fallbacks',
  'default_fallbacks',
  'context_window_fallbacks',
  'content_policy_fallbacks',
  'max_fallbacks',
  'allowed_fails',
  'cooldown_time',
  'disable_cooldowns',
] as const;

export function emptyRouterSettings(): RouterSettings {
  return {
    routing_strategy: 'simple-shuffle',
    routing_strategy_args: {},
    retry_after: 0,
    fallbacks: {},
    context_window_fallbacks: {},
    content_policy_fallbacks: {},
    default_fallbacks: [],
    max_fallbacks: 5,
    disable_cooldowns: false,
    other: {},
  };
}

export function readRouterSettings(issues: Issues, value: unknown, litellmOther: Readonly<Record<string, unknown>>): RouterSettings {
  const section = readMapping(issues, 'router_settings', value, 'a mapping of settings') ?? {};
  // Twins first, so the router_settings value of the same setting overwrites it.
  const sources: Array<[string, string, unknown]> = [];
  for (const twin of LITELLM_ROUTER_TWINS) {
    if (twin in litellmOther) sources.push([joinPath('litellm_settings', twin), twin === 'request_timeout' ? 'timeout' : twin, litellmOther[twin]]);
  }
  const other: Record<string, unknown> = {};
  const known: readonly string[] = [...ROUTER_SETTINGS_USED, ...ROUTER_SETTINGS_IGNORED];
  for (const [key, raw] of Object.entries(section)) {
    const path = joinPath('router_settings', key);
    if ((ROUTER_SETTINGS_USED as readonly string[]).includes(key)) {
      sources.push([path, key, raw]);
    } else if ((ROUTER_SETTINGS_IGNORED as readonly string[]).includes(key)) {
      // Kept in `other`, as written.
      if (key.startsWith('redis_')) issues.warn(path, 'not used: the router shares its state through the gateway\'s Redis (REDIS_URL); ignored');
      else issues.warn(path, 'LiteLLM router setting not used by Gatehouse; ignored');
      other[key] = raw;
    } else if (!reportUnknownKey(issues, path, key, known, 'router_settings')) {
      other[key] = raw;
    }
  }
  const settings: Mutable<RouterSettings> = { ...emptyRouterSettings(), other };
  for (const [path, key, raw] of sources) readOne(issues, path, key, raw, settings);
  return settings;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function readOne(issues: Issues, path: string, key: string, raw: unknown, settings: Mutable<RouterSettings>): void {
  if (raw === null || raw === undefined) return;
  switch (key) {
    case 'routing_strategy': {
      const strategy = readString(issues, path, raw);
      if (strategy === undefined) return;
      if (!(ROUTING_STRATEGIES as readonly string[]).includes(strategy)) {
        issues.error(path, `must be one of ${ROUTING_STRATEGIES.join(', ')} (got \`${strategy}\`)`);
        return;
      }
      settings.routing_strategy = strategy as RoutingStrategy;
      return;
    }
    case 'routing_strategy_args': {
      const args = readMapping(issues, path, raw, 'a mapping') ?? {};
      const buffer = args.lowest_latency_buffer;
      const ttl = args.ttl;
      settings.routing_strategy_args = {
        lowest_latency_buffer: buffer === undefined ? undefined : readNumber(issues, joinPath(path, 'lowest_latency_buffer'), buffer, {}),
        ttl: ttl === undefined ? undefined : readNumber(issues, joinPath(path, 'ttl'), ttl, { positive: true }),
      };
      return;
    }
    case 'num_retries':
    case 'allowed_fails':
      settings[key] = readNumber(issues, path, raw, { integer: true });
      return;
    case 'max_fallbacks':
      settings.max_fallbacks = readNumber(issues, path, raw, { integer: true }) ?? settings.max_fallbacks;
      return;
    case 'retry_after':
      settings.retry_after = readNumber(issues, path, raw, {}) ?? 0;
      return;
    case 'cooldown_time':
      settings.cooldown_time = readNumber(issues, path, raw, {});
      return;
    case 'timeout':
    case 'stream_timeout':
      settings[key] = readNumber(issues, path, raw, { positive: true });
      return;
    case 'disable_cooldowns':
      settings.disable_cooldowns = readBoolean(issues, path, raw) ?? false;
      return;
    case 'fallbacks':
    case 'context_window_fallbacks':
    case 'content_policy_fallbacks':
      settings[key] = readFallbackList(issues, path, raw);
      return;
    case 'default_fallbacks':
      settings.default_fallbacks = readModelNames(issues, path, raw);
      return;
  }
}

/** LiteLLM's form: a list of one-key mappings, `[{"gpt-4o": ["claude-sonnet"]}]`; a plain mapping is taken too. */
function readFallbackList(issues: Issues, path: string, raw: unknown): FallbackMap {
  const entries: Array<[string, unknown, string]> = [];
  if (Array.isArray(raw)) {
    raw.forEach((item, index) => {
      const itemPath = `${path}[${index}]`;
      if (!isMapping(item)) {
        issues.error(itemPath, `must be a mapping of a model name to its fallbacks (\`{"gpt-4o": ["claude-sonnet"]}\`), got ${describeKind(item)}`);
        return;
      }
      for (const [model, targets] of Object.entries(item)) entries.push([model, targets, joinPath(itemPath, model)]);
    });
  } else if (isMapping(raw)) {
    for (const [model, targets] of Object.entries(raw)) entries.push([model, targets, joinPath(path, model)]);
  } else {
    issues.error(path, `must be a list like [{"gpt-4o": ["claude-sonnet"]}], got ${describeKind(raw)}`);
  }
  const map: Record<string, readonly string[]> = {};
  for (const [model, targets, entryPath] of entries) {
    const names = readModelNames(issues, entryPath, targets);
    if (names.includes(model)) issues.warn(entryPath, `\`${model}\` lists itself as a fallback; that entry is skipped`);
    map[model] = [...(map[model] ?? []), ...names.filter((name) => name !== model)];
  }
  return map;
}

function readModelNames(issues: Issues, path: string, raw: unknown): string[] {
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list)) {
    issues.error(path, `must be a list of model names, got ${describeKind(raw)}`);
    return [];
  }
  const names: string[] = [];
  list.forEach((item, index) => {
    if (typeof item === 'string' && item.trim() !== '') names.push(item);
    else issues.error(`${path}[${index}]`, `must be a model name, got ${describeKind(item)}`);
  });
  return names;
}

/**
 * `model_group_alias` from `litellm_settings` and `router_settings` (LiteLLM reads it in both; the router's wins on a
 * name both set): `{alias: group}` or `{alias: {model: group, hidden: true}}`.
 */
export function readModelGroupAliases(issues: Issues, root: Readonly<Record<string, unknown>>): Readonly<Record<string, ModelGroupAlias>> {
  const litellm = isMapping(root.litellm_settings) ? root.litellm_settings : {};
  const router = isMapping(root.router_settings) ? root.router_settings : {};
  return {
    ...readAliases(issues, 'litellm_settings.model_group_alias', litellm.model_group_alias),
    ...readAliases(issues, 'router_settings.model_group_alias', router.model_group_alias),
  };
}

function readAliases(issues: Issues, path: string, value: unknown): Record<string, ModelGroupAlias> {
  if (value === undefined || value === null) return {};
  const section = readMapping(issues, path, value, 'a mapping of alias: model group');
  const aliases: Record<string, ModelGroupAlias> = {};
  for (const [alias, target] of Object.entries(section ?? {})) {
    const aliasPath = joinPath(path, alias);
    if (typeof target === 'string' && target.trim() !== '') {
      aliases[alias] = { model: target, hidden: false };
    } else if (isMapping(target) && typeof target.model === 'string' && target.model.trim() !== '') {
      if (target.hidden !== undefined && typeof target.hidden !== 'boolean') {
        issues.error(joinPath(aliasPath, 'hidden'), `must be true or false, got ${describeKind(target.hidden)}`);
      }
      aliases[alias] = { model: target.model, hidden: target.hidden === true };
    } else {
      issues.error(aliasPath, `must name a model group: \`${alias}: <model_name>\` or \`${alias}: {model: <model_name>, hidden: true}\`, got ${describeKind(target)}`);
    }
  }
  return aliases;
}
