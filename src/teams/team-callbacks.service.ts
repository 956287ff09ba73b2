import { Injectable } from '@nestjs/common';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { LoggingEntryPolicy } from '../logging/logging-entry.policy';
import { appliesTo, maskEntry, storedEntries, teamOwner, type MaskedEntry } from '../logging/logging-entry';
import { LoggingResolver } from '../logging/request/logging-resolver';
import { PrivacyResolver, type EffectivePrivacy } from '../logging/privacy/privacy-resolver';
import { LoggingService } from '../logging/request/logging.service';
import type { TeamResponseDto } from './dto/team.dto';
import { TeamsService, toTeamResponse, type ChangeContext } from './teams.service';

export interface TeamCallbacksView {
  team_id: string;
  success_callbacks: string[];
  failure_callbacks: string[];
  callback_vars: Record<string, string>;
  /** Where these come from: the team's API settings, its config entry, or nothing (disabled / none). */
  source: string;
  logging_disabled: boolean;
  /** Every entry on its own (LiteLLM's flat `callback_vars` cannot show two projects of one kind). */
  callbacks: MaskedEntry[];
  /** The privacy switches the team's keys inherit, each with the level it comes from. */
  privacy: EffectivePrivacy;
}

/** LiteLLM's team logging endpoints: add, read, remove callbacks and disable logging. */
@Injectable()
export class TeamCallbacksService {
  constructor(
    private readonly teams: TeamsService,
    private readonly policy: LoggingEntryPolicy,
    private readonly resolver: LoggingResolver,
    private readonly privacy: PrivacyResolver,
    private readonly logging: LoggingService,
  ) {}

  async add(teamId: string, body: unknown, context: ChangeContext): Promise<{ status: 'success'; data: TeamResponseDto }> {
    await this.teams.requireManageableTeam(context.caller, teamId);
    const owner = teamOwner(teamId);
    const entry = await this.policy.prepare(body, context.caller, owner);
    const team = await this.teams.mutate(teamId, context, 'team_callback_added', (row) => {
      const existing = storedEntries(row.metadata) ?? [];
      if (this.policy.isDuplicate(existing, entry, owner)) {
        throw new AppException(
          'duplicate_callback',
          `callback_name = ${entry.callback_name} already exists in team_callback_settings, for team_id = ${teamId} and event = ${entry.callback_type}`,
          { param: 'callback_name' },
        );
      }
      row.metadata = { ...row.metadata, logging: [...existing, entry] };
      // Adding a callback is how a disabled team turns logging back on (as in LiteLLM).
      row.loggingDisabled = false;
    });
    return { status: 'success', data: toTeamResponse(team) };
  }

  async get(teamId: string, caller: Principal): Promise<{ status: 'success'; data: TeamCallbacksView }> {
    const team = await this.teams.requireManageableTeam(caller, teamId);
    const view = this.resolver.teamView(teamId, team.metadata, team.loggingDisabled);
    const masked = view.entries.map(maskEntry);
    return {
      status: 'success',
      data: {
        ...this.summary(teamId, view.entries),
        callback_vars: Object.assign({}, ...masked.map((entry) => entry.callback_vars)) as Record<string, string>,
        source: view.source,
        logging_disabled: team.loggingDisabled,
        callbacks: masked,
        privacy: this.privacy.forTeam(teamId, team.metadata),
      },
    };
  }

  async remove(teamId: string, callbackName: string, context: ChangeContext): Promise<{ status: 'success'; message: string; data: ReturnType<TeamCallbacksService['summary']> }> {
    await this.teams.requireManageableTeam(context.caller, teamId);
    const team = await this.teams.mutate(teamId, context, 'team_callback_removed', (row) => {
      const existing = storedEntries(row.metadata) ?? [];
      const remaining = existing.filter((entry) => entry.callback_name !== callbackName);
      if (remaining.length === existing.length) {
        throw new AppException('not_found', `callback_name = ${callbackName} is not registered for team_id = ${teamId}.`, { param: 'callback_name' });
      }
      row.metadata = { ...row.metadata, logging: remaining };
    });
    return {
      status: 'success',
      message: `Callback ${callbackName} removed for team ${teamId}`,
      data: this.summary(teamId, storedEntries(team.metadata) ?? []),
    };
  }

  /**
   * Empties the team's callbacks and sets the kill switch: its keys log nowhere, globals included, and
   * its events still waiting for delivery are deleted.
   */
  async disable(teamId: string, context: ChangeContext): Promise<{ status: 'success'; message: string; data: ReturnType<TeamCallbacksService['summary']> }> {
    await this.teams.requireManageableTeam(context.caller, teamId);
    await this.teams.mutate(teamId, context, 'team_logging_disabled', (row) => {
      row.metadata = { ...row.metadata, logging: [] };
      row.loggingDisabled = true;
    });
    await this.logging.purgeTeam(teamId);
    return { status: 'success', message: `Logging disabled for team ${teamId}`, data: this.summary(teamId, []) };
  }

  private summary(teamId: string, entries: readonly { callback_name: string; callback_type: Parameters<typeof appliesTo>[0] }[]) {
    const names = (status: 'success' | 'failure') => [...new Set(entries.filter((e) => appliesTo(e.callback_type, status)).map((e) => e.callback_name))];
    return { team_id: teamId, success_callbacks: names('success'), failure_callbacks: names('failure') };
  }
}
