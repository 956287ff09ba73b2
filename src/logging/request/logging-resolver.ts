import { Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { GatewaySettings } from '../../config/gateway-settings';
import type { TeamDefaultSettings } from '../../config/gateway-config.types';
import type { Principal } from '../../keys/principal';
import { DestinationRegistry, specOf, type DestinationCatalog } from '../delivery/destination-registry';
import { builtInDefinitions } from '../delivery/destinations/built-in-destinations.module';
import type { DestinationSpec, LogDestinationDefinition } from '../log-destination';
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
export class LoggingResolver implements OnModuleInit {
  private readonly logger = new Logger(LoggingResolver.name);
  private readonly memo = new WeakMap<Principal, readonly ResolvedEntry[]>();
  private readonly destinations: DestinationCatalog;
  /** Config teams and global callbacks, read once the destinations are registered (onModuleInit, or first use). */
  private loaded: { configTeams: ReadonlyMap<string, readonly ResolvedEntry[]>; globals: readonly ResolvedEntry[] } | null = null;

  constructor(
    private readonly settings: GatewaySettings,
    @Optional() registry?: DestinationRegistry,
  ) {
    this.destinations = registry ?? fixedCatalog(builtInDefinitions(settings));
  }

  onModuleInit(): void {
    this.load();
  }

  private load(): NonNullable<LoggingResolver['loaded']> {
    if (this.loaded) return this.loaded;
    const litellm = this.settings.config.litellmSettings;
    const configTeams = new Map<string, readonly ResolvedEntry[]>();
    for (const team of litellm.default_team_settings) {
      if (team.logging_configured) configTeams.set(team.team_id, this.fromConfigTeam(team));
    }
    // The global callbacks' variables: LiteLLM's s3_callback_params (each destination takes only its own names).
    this.loaded = { configTeams, globals: this.fromCallbackLists('global', 'global', litellm, litellm.s3_callback_params) };
    return this.loaded;
  }

  /** The config file's destinations: each `default_team_settings` team's that names callbacks, and the global callbacks. */
  configDestinations(): { configTeams: ReadonlyMap<string, readonly ResolvedEntry[]>; globals: readonly ResolvedEntry[] } {
    return this.load();
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
    if (api !== undefined) return { source: 'team', entries: withSource(this.registered(api), 'team', teamOwner(teamId)) };
    const config = this.load().configTeams.get(teamId);
    if (config !== undefined) return { source: 'config', entries: config };
    return { source: 'none', entries: [] };
  }

  private compute(principal: Principal): readonly ResolvedEntry[] {
    if (principal.teamLoggingDisabled) return [];
    const own = storedEntries(principal.keyMetadata);
    if (own !== undefined) return withSource(this.registered(own), 'key', principal.keyHash === null ? null : keyOwner(principal.keyHash));
    if (principal.teamId !== null) {
      const team = this.teamView(principal.teamId, principal.teamMetadata, false);
      if (team.source !== 'none') return team.entries;
    }
    return this.load().globals;
  }

  /** Entries of a kind no module registers (any more) are not delivered; /key/health names them. */
  private registered(entries: LoggingEntry[]): LoggingEntry[] {
    return entries.every((entry) => this.destinations.spec(entry.callback_name) !== undefined)
      ? entries
      : entries.filter((entry) => this.destinations.spec(entry.callback_name) !== undefined);
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
        const spec = this.destinations.spec(name);
        if (!spec) {
          this.logger.warn(`${idPrefix}: callback "${name}" is not a Gatehouse destination (${this.destinations.kinds.join(', ')}); ignored`);
          continue;
        }
        entries.push({
          callback_name: name,
          callback_type: type,
          callback_vars: varsFor(spec, vars),
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

/**
 * The vars of one destination out of a config entry's flat dict. A required var the entry lacks is read from the
 * destination's usual environment variable (its definition's `environment`).
 */
function varsFor({ vars: spec, environment }: DestinationSpec, vars: Readonly<Record<string, string>>): Record<string, string> {
  const own: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) if (Object.prototype.hasOwnProperty.call(spec.vars, name)) own[name] = value;
  for (const group of spec.required) {
    if (group.some((name) => own[name] !== undefined)) continue;
    // Of alternatives (ARIZE_SPACE_KEY or ARIZE_SPACE_ID), the first whose variable is set; else the first.
    const name = group.find((n) => environment[n] !== undefined && process.env[environment[n]]) ?? group[0];
    const variable = environment[name];
    if (variable !== undefined) own[name] = `os.environ/${variable}`;
  }
  // Optional env-configured vars (host, headers, project) only when set at boot, so unset means "default".
  for (const [name, variable] of Object.entries(environment)) {
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

/** A catalog of fixed definitions (no Nest: their specs only). */
function fixedCatalog(definitions: readonly LogDestinationDefinition[]): DestinationCatalog {
  const specs = new Map(definitions.map((definition) => [definition.callbackName, specOf(definition)]));
  return { kinds: [...specs.keys()], spec: (kind) => specs.get(kind) };
}
