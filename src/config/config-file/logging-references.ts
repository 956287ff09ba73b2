import { envReferenceName } from '../env-reference';
import type { GatewayConfig } from '../gateway-config.types';
import { ProtectedEnvironment } from '../protected-env';
import { isMapping, type Issues, joinPath } from './problems';

/**
 * `default_team_settings` is the operator's own text, but its callback variables are sent to destination hosts like
 * any team's: an `os.environ/` reference there to one of the gateway's own secrets (a provider key config.yaml uses
 * for a model, the database URL, ...) would hand that secret to the destination. The same rule as on the API,
 * enforced at start-up: an error naming the path and the variable, lifted by listing the variable in
 * `general_settings.allowed_logging_env_vars`. An error rather than a warning, because the mistake is a copy-paste
 * away and a warning would not stop the secret from travelling with the first request.
 */
export function checkTeamSettingsReferences(issues: Issues, root: Readonly<Record<string, unknown>>, config: GatewayConfig): void {
  const litellm = root.litellm_settings;
  const teams = isMapping(litellm) ? litellm.default_team_settings : undefined;
  if (!Array.isArray(teams)) return;
  const protectedEnv = ProtectedEnvironment.forConfig(config);
  teams.forEach((entry, index) => {
    if (!isMapping(entry)) return;
    const path = `litellm_settings.default_team_settings[${index}]`;
    const check = (keyPath: string, value: unknown): void => {
      const name = envReferenceName(value);
      if (name !== null && protectedEnv.refuses(name)) issues.error(keyPath, ProtectedEnvironment.refusal(name));
    };
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'callback_vars' && isMapping(value)) {
        for (const [name, nested] of Object.entries(value)) check(joinPath(joinPath(path, key), name), nested);
      } else {
        check(joinPath(path, key), value);
      }
    }
  });
}
