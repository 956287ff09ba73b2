import { isEnvReference, isValidEnvName } from '../env-reference';
import { GATEWAY_SECRET_ENV_NAMES } from '../protected-env';
import type { GeneralSettings } from '../gateway-config.types';
import { readOtherSetting } from './known-keys';
import { Issues, joinPath, readMapping, readString, readStringList, readSwitch } from './problems';

/** config.yaml's `general_settings`: master key, database URL, allowed logging hosts and env vars, the `no-log` switch. */

export function emptyGeneralSettings(): GeneralSettings {
  return { allowed_logging_hosts: [], allowed_logging_env_vars: [], other: {} };
}

export function readGeneralSettings(issues: Issues, value: unknown): GeneralSettings {
  const path = 'general_settings';
  const section = readMapping(issues, path, value, 'a mapping of settings');
  if (section === undefined) {
    return emptyGeneralSettings();
  }
  const other: Array<[string, unknown]> = [];
  let masterKey: string | undefined;
  let databaseUrl: string | undefined;
  let allowedLoggingHosts: string[] = [];
  let allowedLoggingEnvVars: string[] = [];
  let disableNoLog: boolean | undefined;
  for (const [key, raw] of Object.entries(section)) {
    const keyPath = joinPath(path, key);
    switch (key) {
      case 'master_key':
        // LiteLLM treats an empty master_key as "none"; so does Gatehouse, so the env fallback still applies.
        masterKey = raw === null ? undefined : readString(issues, keyPath, raw, ' (quote it if it looks like a number)');
        break;
      case 'database_url':
        databaseUrl = raw === null ? undefined : readDatabaseUrl(issues, keyPath, raw);
        break;
      case 'allowed_logging_hosts':
        allowedLoggingHosts = readStringList(issues, keyPath, raw);
        allowedLoggingHosts.forEach((host, index) => {
          if (/[\s/]/.test(host)) {
            const hostPath = typeof raw === 'string' ? keyPath : `${keyPath}[${index}]`;
            issues.error(hostPath, 'must be a host name (optionally with :port), without scheme or path');
          }
        });
        break;
      case 'allowed_logging_env_vars':
        allowedLoggingEnvVars = readAllowedEnvVars(issues, keyPath, raw);
        break;
      case 'global_disable_no_log_param':
        disableNoLog = raw === null ? undefined : readSwitch(issues, keyPath, raw);
        break;
      default:
        if (readOtherSetting(issues, keyPath, key, 'general_settings')) {
          other.push([key, raw]);
        }
    }
  }
  return {
    ...(masterKey !== undefined ? { master_key: masterKey } : {}),
    ...(databaseUrl !== undefined ? { database_url: databaseUrl } : {}),
    allowed_logging_hosts: allowedLoggingHosts,
    allowed_logging_env_vars: allowedLoggingEnvVars,
    ...(disableNoLog !== undefined ? { global_disable_no_log_param: disableNoLog } : {}),
    other: Object.fromEntries(other),
  };
}

/**
 * Gatehouse's own key (LiteLLM ignores general_settings it does not know, so the file stays valid there). Names only,
 * never `os.environ/` references: the list says which variables, the environment holds their values.
 */
function readAllowedEnvVars(issues: Issues, path: string, raw: unknown): string[] {
  const names = readStringList(issues, path, raw);
  names.forEach((name, index) => {
    const itemPath = typeof raw === 'string' ? path : `${path}[${index}]`;
    if (!isValidEnvName(name)) {
      issues.error(itemPath, 'must be an environment variable name (letters, digits and _), without os.environ/');
    } else if (GATEWAY_SECRET_ENV_NAMES.includes(name)) {
      issues.warn(itemPath, `lets the proxy admin send ${name}, one of the gateway's own secrets, to a logging destination`);
    }
  });
  return names.filter(isValidEnvName);
}

export function readDatabaseUrl(issues: Issues, path: string, value: unknown): string | undefined {
  const url = readString(issues, path, value);
  if (url === undefined || isEnvReference(url)) {
    return url;
  }
  if (!/^postgres(ql)?:\/\/\S+$/.test(url)) {
    issues.error(path, 'must be a postgres:// or postgresql:// URL, or an os.environ/NAME reference');
    return undefined;
  }
  return url;
}
