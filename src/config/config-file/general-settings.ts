import { isEnvReference } from '../env-reference';
import type { GeneralSettings } from '../gateway-config.types';
import { readOtherSetting } from './known-keys';
import { Issues, joinPath, readMapping, readString, readStringList, readSwitch } from './problems';

/** config.yaml's `general_settings`: master key, database URL, allowed logging hosts, the `no-log` switch. */

export function emptyGeneralSettings(): GeneralSettings {
  return { allowed_logging_hosts: [], other: {} };
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
    ...(disableNoLog !== undefined ? { global_disable_no_log_param: disableNoLog } : {}),
    other: Object.fromEntries(other),
  };
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
