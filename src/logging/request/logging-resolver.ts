import { Injectable, Logger } from '@nestjs/common';
import { GatewaySettings } from '../../config/gateway-settings';
import type { TeamDefaultSettings } from '../../config/gateway-config.types';
import type { Principal } from '../../keys/principal';
import { DESTINATION_VARS, isDestinationKind, type DestinationKind } from '../log-destination';
import {
  keyOwner,
  storedEntries,
  teamOwner,
  type CallbackType,
  type EntryOwner,
  type LoggingEntry,
  type LoggingSource,
  type ResolvedEntry,
} from '../logging-entry';

/** The env vars each destination reads when configured globally (or in a config team entry without them). */
const ENV_DEFAULTS: { readonly [K in DestinationKind]: Readonly<Record<string, string>> } = {
  langfuse: { langfuse_public_key: 'LANGFUSE_PUBLIC_KEY', langfuse_secret_key: 'LANGFUSE_SECRET_KEY', langfuse_host: 'LANGFUSE_HOST' },
  gcs_bucket: { gcs_bucket_name: 'GCS_BUCKET_NAME', gcs_path_service_account: 'GCS_PATH_SERVICE_ACCOUNT' },
  otel: { otel_endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT', otel_headers: 'OTEL_EXPORTER_OTLP_HEADERS', otel_service_name: 'OTEL_SERVICE_NAME' },
  langsmith: { langsmith_api_key: 'LANGSMITH_API_KEY', langsmith_project: 'LANGSMITH_PROJECT', langsmith_base_url: 'LANGSMITH_BASE_URL' },
};

export interface TeamLoggingView {
  source: LoggingSource | 'disabled' | 'none';
  entries: readonly ResolvedEntry[];
}

/**
 * Where a caller's logs go: the first source that has a logging list wins — the key's `metadata.logging`,
 * else the team's (set through the API), else the team's `default_team_settings` entry, else the global
 * callbacks. A present but empty list is a choice ("nowhere"). A team with logging disabled logs nowhere.
 * Results are memoized per Principal object: the principal cache replaces the object on every write, so a
 * change applies to the next request.
 */
@Injectable()
export class LoggingResolver {
  private readonly logger = new Logger(LoggingResolver.name);
  private readonly memo = new WeakMap<Principal, readonly ResolvedEntry[]>();
  private readonly configTeams = new Map<string, readonly ResolvedEntry[]>();
  private readonly globals: readonly ResolvedEntry[];

  constructor(settings: GatewaySettings) {
    const litellm = settings.config.litellmSettings;
    for (const team of litellm.default_team_settings) {
      if (team.logging_configured) this.configTeams.set(team.team_id, this.fromConfigTeam(team));
    }
    this.globals = this.fromCallbackLists('global', 'global', litellm, {});
  }

  resolve(principal: Principal): readonly ResolvedEntry[] {
    let resolved = this.memo.get(principal);
    if (resolved === undefined) {
      resolved = this.compute(principal);
      this.memo.set(principal, resolved);
    }
    return resolved;
  }

  /** What a team's keys without their own logging use: for `GET /team/{id}/callback` and `/key/health`. */
  teamView(teamId: string, teamMetadata: Readonly<Record<string, unknown>>, loggingDisabled: boolean): TeamLoggingView {
    if (loggingDisabled) return { source: 'disabled', entries: [] };
    const api = storedEntries(teamMetadata);
    if (api !== undefined) return { source: 'team', entries: withSource(api, 'team', teamOwner(teamId)) };
    const config = this.configTeams.get(teamId);
    if (config !== undefined) return { source: 'config', entries: config };
    return { source: 'none', entries: [] };
  }

  private compute(principal: Principal): readonly ResolvedEntry[] {
    if (principal.teamLoggingDisabled) return [];
    const own = storedEntries(principal.keyMetadata);
    if (own !== undefined) return withSource(own, 'key', principal.keyHash === null ? null : keyOwner(principal.keyHash));
    if (principal.teamId !== null) {
      const team = this.teamView(principal.teamId, principal.teamMetadata, false);
      if (team.source !== 'none') return team.entries;
    }
    return this.globals;
  }

  private fromConfigTeam(team: TeamDefaultSettings): readonly ResolvedEntry[] {
    return this.fromCallbackLists('config', `config:${team.team_id}`, team, team.callback_vars);
  }

  /**
   * LiteLLM's list form (`success_callback`, `failure_callback`, `callbacks` + one flat var dict) → entries.
   * Each destination takes the vars of its own kind; a required var the entry lacks is read from the
   * destination's usual environment variable, as LiteLLM falls back to its global settings.
   */
  private fromCallbackLists(
    source: 'config' | 'global',
    idPrefix: string,
    lists: { success_callback: readonly string[]; failure_callback: readonly string[]; callbacks: readonly string[] },
    vars: Readonly<Record<string, string>>,
  ): readonly ResolvedEntry[] {
    const entries: ResolvedEntry[] = [];
    const add = (names: readonly string[], type: CallbackType) => {
      for (const name of names) {
        if (!isDestinationKind(name)) {
          this.logger.warn(`${idPrefix}: callback "${name}" is not a Gatehouse destination (${Object.keys(DESTINATION_VARS).join(', ')}); ignored`);
          continue;
        }
        entries.push({
          callback_name: name,
          callback_type: type,
          callback_vars: varsFor(name, vars),
          entry_id: `${idPrefix}:${name}:${type}`,
          trusted: true,
          source,
          owner: null,
        });
      }
    };
    add(lists.success_callback, 'success');
    add(lists.failure_callback, 'failure');
    add(lists.callbacks, 'success_and_failure');
    return entries;
  }
}

function varsFor(kind: DestinationKind, vars: Readonly<Record<string, string>>): Record<string, string> {
  const spec = DESTINATION_VARS[kind];
  const own: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) if (name in spec.vars) own[name] = value;
  for (const group of spec.required) {
    if (group.some((name) => own[name] !== undefined)) continue;
    own[group[0]] = `os.environ/${ENV_DEFAULTS[kind][group[0]]}`;
  }
  // Optional env-configured vars (host, headers, project) only when set at boot, so unset means "default".
  for (const [name, variable] of Object.entries(ENV_DEFAULTS[kind])) {
    if (own[name] === undefined && !spec.required.some((group) => group.includes(name)) && process.env[variable]) {
      own[name] = `os.environ/${variable}`;
    }
  }
  return own;
}

/** Stored entries as resolved: where they come from, and the row their secrets are bound to. */
export function withSource(entries: readonly LoggingEntry[], source: LoggingSource, owner: EntryOwner | null): ResolvedEntry[] {
  return entries.map((entry) => ({ ...entry, source, owner }));
}
