import type { ModelGroupAlias } from '../gateway-config.types';
import { describeKind, isMapping, joinPath, readMapping, reportUnknownKey, type Issues } from './problems';

export const ROUTER_SETTINGS_USED = ['model_group_alias'] as const;

/** LiteLLM router settings Gatehouse does not act on: each loads with a warning naming it. */
export const ROUTER_SETTINGS_IGNORED = [
  'routing_strategy',
  'routing_strategy_args',
  'num_retries',
  'timeout',
  'stream_timeout',
  'fallbacks',
  'default_fallbacks',
  'context_window_fallbacks',
  'content_policy_fallbacks',
  'max_fallbacks',
  'allowed_fails',
  'allowed_fails_policy',
  'cooldown_time',
  'disable_cooldowns',
  'retry_policy',
  'model_group_retry_policy',
  'retry_after',
  'enable_pre_call_checks',
  'optional_pre_call_checks',
  'redis_host',
  'redis_port',
  'redis_password',
  'redis_url',
  'cache_responses',
  'cache_kwargs',
  'client_ttl',
  'polling_interval',
  'enable_tag_filtering',
  'tag_filtering_match_any',
  'default_max_parallel_requests',
  'default_priority',
  'provider_budget_config',
  'default_litellm_params',
  'alerting_config',
  'set_verbose',
  'debug_level',
] as const;

/**
 * `model_group_alias` from `litellm_settings` and `router_settings` (LiteLLM reads it in both; the router's wins on a
 * name both set): `{alias: group}` or `{alias: {model: group, hidden: true}}`. Other router settings are warned about.
 */
export function readModelGroupAliases(issues: Issues, root: Readonly<Record<string, unknown>>): Readonly<Record<string, ModelGroupAlias>> {
  const litellm = isMapping(root.litellm_settings) ? root.litellm_settings : {};
  const aliases = { ...readAliases(issues, 'litellm_settings.model_group_alias', litellm.model_group_alias) };
  const router = readMapping(issues, 'router_settings', root.router_settings, 'a mapping of settings') ?? {};
  const known: readonly string[] = [...ROUTER_SETTINGS_USED, ...ROUTER_SETTINGS_IGNORED];
  for (const key of Object.keys(router)) {
    const path = joinPath('router_settings', key);
    if (key === 'model_group_alias') Object.assign(aliases, readAliases(issues, path, router[key]));
    else if ((ROUTER_SETTINGS_IGNORED as readonly string[]).includes(key)) issues.warn(path, 'LiteLLM router setting not used by Gatehouse; ignored');
    else reportUnknownKey(issues, path, key, known, 'router_settings');
  }
  return aliases;
}

function readAliases(issues: Issues, path: string, value: unknown): Record<string, ModelGroupAlias> {
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
