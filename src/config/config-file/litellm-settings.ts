import { isEnvReference } from '../env-reference';
import { readPrivacyLayer } from '../../logging/privacy/privacy-settings';
import type { LitellmSettings, TeamDefaultSettings } from '../gateway-config.types';
import { S3_PARAMS_NOT_USED, S3_VARS } from '../../logging/delivery/destinations/s3/s3.destination';
import { LITELLM_ROUTER_TWINS } from './router-settings';
import { KNOWN_CALLBACK_VARS, readOtherSetting, TEAM_ENTRY_KEYS } from './known-keys';
import { closestKey, checkEnvReference, describeKind, isMapping, Issues, joinPath, readBoolean, readMapping, readNumber, readString, readStringList, readSwitch, scalarToString } from './problems';

/**
 * config.yaml's `litellm_settings`: global callbacks, cache, the privacy switches, and `default_team_settings` (each
 * team entry's callback lists, callback variables, cache and privacy settings).
 */

export function emptyLitellmSettings(): LitellmSettings {
  return {
    success_callback: [],
    failure_callback: [],
    callbacks: [],
    default_team_settings: [],
    cache: false,
    cache_params: {},
    s3_callback_params: {},
    privacy: {},
    other: {},
  };
}

export function readLitellmSettings(issues: Issues, value: unknown): LitellmSettings {
  const path = 'litellm_settings';
  const section = readMapping(issues, path, value, 'a mapping of settings');
  if (section === undefined) {
    return emptyLitellmSettings();
  }
  const other: Array<[string, unknown]> = [];
  let result = emptyLitellmSettings();
  for (const [key, raw] of Object.entries(section)) {
    const keyPath = joinPath(path, key);
    if ((LITELLM_ROUTER_TWINS as readonly string[]).includes(key)) {
      // Read with router_settings (router-settings.ts), which reports their problems.
      other.push([key, raw]);
      continue;
    }
    switch (key) {
      case 'success_callback':
      case 'failure_callback':
      case 'callbacks':
        result = { ...result, [key]: readCallbackList(issues, keyPath, raw) };
        break;
      case 'default_team_settings':
        result = { ...result, default_team_settings: readTeamSettings(issues, keyPath, raw) };
        break;
      case 'cache':
        result = { ...result, cache: raw === null ? false : (readBoolean(issues, keyPath, raw) ?? false) };
        break;
      case 'cache_params':
        result = { ...result, cache_params: readMapping(issues, keyPath, raw, 'a mapping') ?? {} };
        break;
      case 's3_callback_params':
        result = { ...result, s3_callback_params: readS3CallbackParams(issues, keyPath, raw) };
        break;
      case 'turn_off_message_logging':
      case 'redact_user_api_key_info':
      case 'global_disable_no_log_param': {
        const flag = raw === null ? undefined : readSwitch(issues, keyPath, raw);
        const name = key === 'global_disable_no_log_param' ? 'disable_no_log_param' : key;
        if (flag !== undefined) result = { ...result, privacy: { ...result.privacy, [name]: flag } };
        break;
      }
      case 'model_group_alias':
        break; // read with router_settings' (router-settings.ts)
      case 'max_end_user_budget': {
        const budget = raw === null ? undefined : readNumber(issues, keyPath, raw, {});
        if (budget !== undefined) result = { ...result, max_end_user_budget: budget };
        break;
      }
      default:
        // LiteLLM sets any litellm_settings key on its module, so an unknown one may still be real: keep it.
        if (readOtherSetting(issues, keyPath, key, 'litellm_settings')) {
          other.push([key, raw]);
        }
    }
  }
  return { ...result, other: Object.fromEntries(other) };
}

/**
 * LiteLLM's other spellings of a callback, as its docs write them: `s3_v2` is its current S3 logger, which Gatehouse
 * registers as `s3`.
 */
const CALLBACK_SPELLINGS: Readonly<Record<string, string>> = { s3_v2: 's3' };

function readCallbackList(issues: Issues, path: string, raw: unknown): string[] {
  return readStringList(issues, path, raw).map((name) => (Object.prototype.hasOwnProperty.call(CALLBACK_SPELLINGS, name) ? CALLBACK_SPELLINGS[name] : name));
}

/**
 * `s3_callback_params`: the global `s3` callback's settings, in LiteLLM's names. LiteLLM settings Gatehouse does not
 * act on (role assumption, botocore config, its own batching) are warned about and left out; any other name is
 * not one of LiteLLM's S3 settings (warned about, left out: the s3 destination would refuse it).
 */
function readS3CallbackParams(issues: Issues, path: string, raw: unknown): Record<string, string> {
  const params: Record<string, string> = {};
  if (raw === null || raw === undefined) return params;
  for (const [name, value] of Object.entries(readMapping(issues, path, raw, 'a mapping of S3 settings') ?? {})) {
    const namePath = joinPath(path, name);
    if (Object.prototype.hasOwnProperty.call(S3_PARAMS_NOT_USED, name)) {
      issues.warn(namePath, `not used by Gatehouse (${S3_PARAMS_NOT_USED[name]}); ignored`);
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(S3_VARS.vars, name)) {
      const suggestion = closestKey(name, Object.keys(S3_VARS.vars));
      issues.warn(namePath, `not a LiteLLM S3 setting${suggestion ? ` (did you mean \`${suggestion}\`?)` : ''}; ignored`);
      continue;
    }
    if (value === null || value === undefined) continue;
    const text = scalarToString(value);
    if (text === undefined) {
      issues.error(namePath, `must be a string, number or boolean, got ${describeKind(value)}`);
      continue;
    }
    checkEnvReference(issues, namePath, text);
    params[name] = text;
  }
  return params;
}

// default_team_settings

export function readTeamSettings(issues: Issues, path: string, value: unknown): TeamDefaultSettings[] {
  if (value === null || value === undefined) {
    return [];
  }
  if (!Array.isArray(value)) {
    issues.error(path, `must be a list of team entries (each starting with \`- team_id: ...\`), got ${describeKind(value)}`);
    return [];
  }
  const teams: TeamDefaultSettings[] = [];
  const firstIndexOf = new Map<string, number>();
  value.forEach((entry, index) => {
    const entryPath = `${path}[${index}]`;
    const team = readTeamEntry(issues, entryPath, entry);
    if (team === undefined) {
      return;
    }
    const first = firstIndexOf.get(team.team_id);
    if (first !== undefined) {
      issues.error(joinPath(entryPath, 'team_id'), `duplicate team_id \`${team.team_id}\` (already used by ${path}[${first}])`);
      return;
    }
    firstIndexOf.set(team.team_id, index);
    teams.push(team);
  });
  return teams;
}

/**
 * Every key of an entry that is not structural is a callback variable, as in LiteLLM. A nested `callback_vars`
 * mapping is merged in and wins on a clash, because when LiteLLM finds one it reads only that mapping.
 */
export function readTeamEntry(issues: Issues, path: string, entry: unknown): TeamDefaultSettings | undefined {
  if (!isMapping(entry)) {
    issues.error(path, `must be a mapping with a \`team_id\`, got ${describeKind(entry)}`);
    return undefined;
  }
  const errorsBefore = issues.errors.length;
  const candidates: readonly string[] = [...TEAM_ENTRY_KEYS, ...KNOWN_CALLBACK_VARS];
  let teamId: string | undefined;
  const lists = { success_callback: [] as string[], failure_callback: [] as string[], callbacks: [] as string[] };
  let cache: boolean | undefined;
  let cacheTtl: number | undefined;
  const topLevelVars = new Map<string, string>();
  const nestedVars = new Map<string, string>();
  const privacyFields: Record<string, unknown> = {};

  if (!('team_id' in entry)) {
    issues.error(joinPath(path, 'team_id'), 'missing: every default_team_settings entry needs a non-empty string team_id');
  }
  for (const [key, raw] of Object.entries(entry)) {
    const keyPath = joinPath(path, key);
    switch (key) {
      case 'team_id':
        teamId = readString(issues, keyPath, raw, ' (quote it if it looks like a number)');
        if (teamId !== undefined && isEnvReference(teamId)) {
          issues.error(keyPath, 'must be the team id itself, not an os.environ/ reference');
          teamId = undefined;
        }
        break;
      case 'success_callback':
      case 'failure_callback':
      case 'callbacks':
        lists[key] = readCallbackList(issues, keyPath, raw);
        break;
      case 'cache':
        cache = readBoolean(issues, keyPath, raw);
        break;
      case 'cache_ttl':
        cacheTtl = readNumber(issues, keyPath, raw, { positive: true });
        break;
      case 'turn_off_message_logging':
      case 'redact_user_api_key_info':
      case 'disable_no_log_param':
      case 'allow_client_message_redaction_opt_out':
      case 'pii_masking':
        privacyFields[key] = raw;
        break;
      case 'callback_vars': {
        const nested = readMapping(issues, keyPath, raw, 'a mapping of callback variables') ?? {};
        for (const [name, nestedRaw] of Object.entries(nested)) {
          readCallbackVar(issues, joinPath(keyPath, name), name, nestedRaw, nestedVars, KNOWN_CALLBACK_VARS);
        }
        break;
      }
      default:
        readCallbackVar(issues, keyPath, key, raw, topLevelVars, candidates);
    }
  }
  for (const name of nestedVars.keys()) {
    if (topLevelVars.has(name)) {
      issues.warn(joinPath(path, name), `also set in callback_vars; the callback_vars value is used`);
    }
  }
  const privacy = readPrivacyLayer(privacyFields, { checkPatterns: true });
  if ('problem' in privacy) {
    issues.error(joinPath(path, privacy.problem.path), privacy.problem.message);
  }
  if (teamId === undefined || issues.errors.length > errorsBefore || 'problem' in privacy) {
    return undefined;
  }
  return {
    team_id: teamId,
    privacy: privacy.layer,
    ...lists,
    logging_configured: ['success_callback', 'failure_callback', 'callbacks'].some((key) => key in entry),
    callback_vars: Object.fromEntries([...topLevelVars, ...nestedVars]),
    ...(cache !== undefined ? { cache } : {}),
    ...(cacheTtl !== undefined ? { cache_ttl: cacheTtl } : {}),
  };
}

/** `typoCandidates` decides what a near-miss name was probably meant to be; such a name is fatal, not a variable. */
export function readCallbackVar(
  issues: Issues,
  path: string,
  name: string,
  raw: unknown,
  into: Map<string, string>,
  typoCandidates: readonly string[],
): void {
  if (!(KNOWN_CALLBACK_VARS as readonly string[]).includes(name)) {
    const suggestion = closestKey(name, typoCandidates);
    if (suggestion !== undefined) {
      issues.error(path, `unknown key; did you mean \`${suggestion}\`?`);
      return;
    }
    issues.warn(path, 'not a callback variable LiteLLM knows; kept as a callback variable');
  }
  const text = scalarToString(raw);
  if (text === undefined) {
    issues.error(path, `callback variables must be a string, number or boolean, got ${describeKind(raw)}`);
    return;
  }
  checkEnvReference(issues, path, text);
  into.set(name, text);
}
