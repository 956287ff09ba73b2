import { envReferenceName } from './env-reference';
import type { GatewayConfig } from './gateway-config.types';

/**
 * The gateway's own secrets by their usual variable names: whatever config.yaml says, none of them is a logging
 * credential. Provider keys that config.yaml references are added per config (see `ProtectedEnvironment`).
 */
export const GATEWAY_SECRET_ENV_NAMES: readonly string[] = [
  'DATABASE_URL',
  'MASTER_KEY',
  'LITELLM_MASTER_KEY',
  'SALT_KEY',
  'LITELLM_SALT_KEY',
  'SALT_KEY_PREVIOUS',
  'LITELLM_SALT_KEY_PREVIOUS',
  'REDIS_URL',
  'REDIS_PASSWORD',
];

/** The config.yaml key where an operator lists variables that may be used as logging credentials anyway. */
export const ALLOWED_ENV_SETTING = 'general_settings.allowed_logging_env_vars';

const byConfig = new WeakMap<GatewayConfig, ProtectedEnvironment>();

/**
 * Which environment variables an `os.environ/NAME` logging credential may not name: a reference is resolved on
 * the gateway and its value sent to the destination's host, so naming a provider key or the database URL would
 * hand it to whoever chose that host. Protected are the names above and every variable config.yaml references
 * outside its logging settings (model_list, general_settings, cache_params, ...), unless the operator lists it in
 * `general_settings.allowed_logging_env_vars`.
 */
export class ProtectedEnvironment {
  private readonly names: ReadonlySet<string>;
  private readonly allowed: ReadonlySet<string>;

  constructor(protectedNames: Iterable<string>, allowed: Iterable<string>) {
    this.names = new Set(protectedNames);
    this.allowed = new Set(allowed);
  }

  static forConfig(config: GatewayConfig): ProtectedEnvironment {
    let found = byConfig.get(config);
    if (found === undefined) {
      found = new ProtectedEnvironment(
        [...GATEWAY_SECRET_ENV_NAMES, ...referencesOutsideLogging(config)],
        config.generalSettings.allowed_logging_env_vars,
      );
      byConfig.set(config, found);
    }
    return found;
  }

  /** True when a logging credential may not be read from this variable. */
  refuses(name: string): boolean {
    return this.names.has(name) && !this.allowed.has(name);
  }

  /** The 400 / delivery error text for a refused name: it names the variable, never its value. */
  static refusal(name: string): string {
    return (
      `os.environ/${name} is one of the gateway's own secrets and is never sent to a logging destination; ` +
      `an operator can allow it in config.yaml under ${ALLOWED_ENV_SETTING}`
    );
  }
}

/** Names referenced as `os.environ/NAME` anywhere in config.yaml except the logging callbacks and their variables. */
export function referencesOutsideLogging(config: GatewayConfig): Set<string> {
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      const name = envReferenceName(value);
      if (name !== null) names.add(name);
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (value !== null && typeof value === 'object') {
      for (const item of Object.values(value as Record<string, unknown>)) walk(item);
    }
  };
  for (const deployment of config.modelList) {
    walk(deployment.litellm_params);
    walk(deployment.model_info);
  }
  const { allowed_logging_env_vars: _allowed, ...general } = config.generalSettings;
  walk(general);
  walk(config.litellmSettings.cache_params);
  walk(config.litellmSettings.other);
  return names;
}
