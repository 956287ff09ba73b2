import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { envReferenceName } from '../config/env-reference';
import { storedEntries, type ResolvedEntry } from './logging-entry';
import { LoggingResolver } from './request/logging-resolver';

/** One destination whose `os.environ/` references name variables this process does not have. */
export interface UnsetDestination {
  /** Null for the global callbacks. */
  readonly teamId: string | null;
  readonly source: 'config' | 'team' | 'global';
  readonly kind: string;
  readonly variables: readonly string[];
}

/**
 * The destinations of `entries` (one per kind: a kind in both success and failure lists is one destination) whose
 * references name unset or empty variables: delivery would fail on each of their events, as `settingsFor` does.
 */
export function unsetDestinations(teamId: string | null, entries: readonly ResolvedEntry[], env: NodeJS.ProcessEnv): UnsetDestination[] {
  const byKind = new Map<string, { source: ResolvedEntry['source']; variables: Set<string> }>();
  for (const entry of entries) {
    for (const value of Object.values(entry.callback_vars)) {
      const name = envReferenceName(value);
      if (name === null || (env[name] !== undefined && env[name] !== '')) continue;
      let found = byKind.get(entry.callback_name);
      if (found === undefined) byKind.set(entry.callback_name, (found = { source: entry.source, variables: new Set() }));
      found.variables.add(name);
    }
  }
  return [...byKind].map(([kind, { source, variables }]) => ({
    teamId,
    source: source === 'global' || source === 'config' ? source : 'team',
    kind,
    variables: [...variables].sort(),
  }));
}

export function describeUnsetDestination(destination: UnsetDestination): string {
  const owner =
    destination.source === 'global'
      ? 'the global callbacks (litellm_settings)'
      : destination.source === 'config'
        ? `team ${destination.teamId} (config.yaml default_team_settings)`
        : `team ${destination.teamId} (set through the API)`;
  const names = destination.variables.map((name) => `os.environ/${name}`).join(', ');
  return (
    `logging destination ${destination.kind} of ${owner} refers to unset environment variable(s) ${names}: ` +
    'its events will fail and be retried until dead-lettered, and /key/health shows it unhealthy. Set the variables, or remove the destination.'
  );
}

interface TeamLoggingRow {
  team_id: string;
  metadata: Record<string, unknown> | null;
  logging_disabled: boolean;
}

/**
 * At start-up, one warning per logging destination in force whose `os.environ/NAME` references point at unset
 * variables: the config file's teams and global callbacks, and the teams' own destinations stored through the API.
 * Names only, never values. (Keys' own destinations are not scanned here: there may be millions; `/key/health` checks
 * one key's.)
 */
@Injectable()
export class UnsetVariableWarnings implements OnApplicationBootstrap {
  private readonly logger = new Logger('LoggingConfig');

  constructor(
    private readonly resolver: LoggingResolver,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      for (const destination of await this.find(process.env)) this.logger.warn(describeUnsetDestination(destination));
    } catch (error) {
      // A check, not a precondition: the gateway serves without it.
      this.logger.warn(`could not check the logging destinations' environment variables: ${(error as Error).message}`);
    }
  }

  async find(env: NodeJS.ProcessEnv): Promise<UnsetDestination[]> {
    const { configTeams, globals } = this.resolver.configDestinations();
    // Teams whose destinations were set (or logging turned off) through the API: theirs win over the config file's.
    const rows: TeamLoggingRow[] = await this.db.query(
      `SELECT team_id, metadata, logging_disabled FROM teams WHERE logging_disabled OR (metadata -> 'logging') IS NOT NULL`,
    );
    const found: UnsetDestination[] = unsetDestinations(null, globals, env);
    const overridden = new Set<string>();
    for (const row of rows) {
      if (row.logging_disabled) {
        overridden.add(row.team_id);
        continue;
      }
      if (storedEntries(row.metadata ?? {}) === undefined) continue;
      overridden.add(row.team_id);
      found.push(...unsetDestinations(row.team_id, this.resolver.teamView(row.team_id, row.metadata ?? {}, false).entries, env));
    }
    for (const [teamId, entries] of configTeams) if (!overridden.has(teamId)) found.push(...unsetDestinations(teamId, entries, env));
    return found;
  }
}
