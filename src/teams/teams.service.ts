import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { In, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { checkCacheMetadata } from '../cache/cache-metadata';
import { loggingFingerprint, mergeMetadataKeepingLogging } from '../common/metadata';
import { checkPrivacyMetadata } from '../logging/privacy/privacy-metadata';
import { GatewaySettings } from '../config/gateway-settings';
import { AppException } from '../errors';
import { managesTeam, type Principal } from '../keys/principal';
import { LoggingEntryPolicy } from '../logging/logging-entry.policy';
import { maskMetadata, teamOwner } from '../logging/logging-entry';
import type { CreateTeamDto, TeamResponseDto, UpdateTeamDto } from './dto/team.dto';
import { Team } from './team.entity';

export type TeamChangeListener = (teamId: string) => void;

/** Who asked, for the audit trail: the caller and LiteLLM's optional `litellm-changed-by` header. */
export interface ChangeContext {
  caller: Principal;
  changedBy?: string;
}

@Injectable()
export class TeamsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(TeamsService.name);
  private readonly changeListeners: TeamChangeListener[] = [];

  constructor(
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    private readonly settings: GatewaySettings,
    private readonly loggingPolicy: LoggingEntryPolicy,
    private readonly audit: AuditService,
  ) {}

  /** Teams named in `default_team_settings` exist, so `/key/generate {"team_id": ...}` works for them. */
  async onApplicationBootstrap(): Promise<void> {
    const configured = this.settings.config.litellmSettings.default_team_settings.map((entry) => entry.team_id);
    if (configured.length === 0) return;
    await this.teams
      .createQueryBuilder()
      .insert()
      .values(configured.map((teamId) => ({ teamId, source: 'config' as const })))
      .orIgnore()
      .execute();
    this.logger.log(`config teams present: ${configured.length}`);
  }

  /** Lets the keys module drop cached principals when a team changes, without a module cycle. */
  onTeamChanged(listener: TeamChangeListener): void {
    this.changeListeners.push(listener);
  }

  async create(dto: CreateTeamDto, context: ChangeContext): Promise<TeamResponseDto> {
    const teamId = dto.team_id ?? randomUUID();
    checkCacheMetadata(dto.metadata ?? {}, 'team', context.caller, null);
    await checkPrivacyMetadata(dto.metadata ?? {}, context.caller, null);
    const metadata = await this.withCheckedLogging(dto.metadata ?? {}, context.caller, teamId);
    if (await this.teams.existsBy({ teamId })) {
      throw new AppException('conflict', `Team ${teamId} already exists`, { param: 'team_id' });
    }
    const team = await this.teams.manager.transaction(async (manager) => {
      const saved = await manager.save(
        manager.create(Team, {
          teamId,
          teamAlias: dto.team_alias ?? null,
          metadata,
          models: dto.models ?? [],
          blocked: dto.blocked ?? false,
          source: 'api',
        }),
      );
      if (metadata.logging !== undefined || metadata.logging_settings !== undefined) {
        await this.audit.record(
          { ...context, action: 'team_logging_updated', tableName: 'teams', objectId: teamId, teamId, before: null, after: { metadata: maskMetadata(metadata) } },
          manager,
        );
      }
      return saved;
    });
    return toTeamResponse(team);
  }

  async update(dto: UpdateTeamDto, context: ChangeContext): Promise<{ team_id: string; data: TeamResponseDto }> {
    const { caller } = context;
    if (!caller.isProxyAdmin && (dto.models !== undefined || dto.blocked !== undefined)) {
      // A team admin widening its own model list or unblocking itself would be an escalation.
      throw new AppException('forbidden', 'Only the proxy admin may change a team’s models or blocked state', {
        param: dto.models !== undefined ? 'models' : 'blocked',
      });
    }
    const current = await this.requireManageableTeam(caller, dto.team_id);
    if (dto.metadata !== undefined) {
      checkCacheMetadata(dto.metadata, 'team', caller, current.metadata);
      await checkPrivacyMetadata(dto.metadata, caller, current.metadata);
    }
    const incoming = dto.metadata === undefined ? undefined : await this.withCheckedLogging(dto.metadata, caller, current.teamId);
    const saved = await this.mutate(dto.team_id, context, 'team_logging_updated', (team) => {
      if (dto.team_alias !== undefined) team.teamAlias = dto.team_alias;
      if (incoming !== undefined) team.metadata = mergeMetadataKeepingLogging(team.metadata, incoming);
      if (dto.models !== undefined) team.models = dto.models;
      if (dto.blocked !== undefined) team.blocked = dto.blocked;
    });
    return { team_id: saved.teamId, data: toTeamResponse(saved) };
  }

  async info(teamId: string, caller: Principal): Promise<TeamResponseDto> {
    return toTeamResponse(await this.requireManageableTeam(caller, teamId));
  }

  async list(caller: Principal): Promise<TeamResponseDto[]> {
    if (caller.isProxyAdmin) {
      const all = await this.teams.find({ order: { createdAt: 'ASC' } });
      return all.map(toTeamResponse);
    }
    return [toTeamResponse(await this.requireManageableTeam(caller, caller.teamId))];
  }

  async delete(teamIds: string[]): Promise<{ deleted_teams: string[] }> {
    const existing = await this.teams.findBy({ teamId: In(teamIds) });
    const missing = teamIds.filter((id) => !existing.some((team) => team.teamId === id));
    if (missing.length > 0) {
      throw new AppException('not_found', `Team ${missing[0]} does not exist`, { param: 'team_ids' });
    }
    // Keys of a deleted team go with it (ON DELETE CASCADE), as in LiteLLM.
    await this.teams.delete({ teamId: In(teamIds) });
    teamIds.forEach((id) => this.notifyChanged(id));
    return { deleted_teams: teamIds };
  }

  /**
   * The team a caller may manage: the proxy admin any existing team, a team admin only its own.
   * Everyone else gets the same 403 for a foreign team and an unknown one, so team ids cannot be probed.
   */
  async requireManageableTeam(caller: Principal, teamId: string | null): Promise<Team> {
    if (!managesTeam(caller, teamId)) {
      throw new AppException('forbidden', 'You do not have access to this team');
    }
    const team = teamId === null ? null : await this.teams.findOneBy({ teamId });
    if (!team) {
      if (!caller.isProxyAdmin) throw new AppException('forbidden', 'You do not have access to this team');
      throw new AppException('not_found', `Team ${teamId} does not exist`, { param: 'team_id' });
    }
    return team;
  }

  /**
   * Read-modify-write of one team under a row lock, so two concurrent callback changes cannot lose each
   * other. When the logging changed, the redacted before/after goes to the audit log in the same transaction.
   * Call `requireManageableTeam` first: this only re-reads the row.
   */
  async mutate(teamId: string, context: ChangeContext, auditAction: string, change: (team: Team) => void | Promise<void>): Promise<Team> {
    const saved = await this.teams.manager.transaction(async (manager) => {
      const team = await manager.findOne(Team, { where: { teamId }, lock: { mode: 'pessimistic_write' } });
      if (!team) throw new AppException('not_found', `Team ${teamId} does not exist`, { param: 'team_id' });
      const loggingBefore = loggingState(team);
      const before = { metadata: maskMetadata(team.metadata), logging_disabled: team.loggingDisabled };
      await change(team);
      const result = await manager.save(team);
      if (loggingState(result) !== loggingBefore) {
        const after = { metadata: maskMetadata(result.metadata), logging_disabled: result.loggingDisabled };
        await this.audit.record({ ...context, action: auditAction, tableName: 'teams', objectId: teamId, teamId, before, after }, manager);
      }
      return result;
    });
    this.notifyChanged(teamId);
    return saved;
  }

  /** `metadata.logging` given to /team/new or /team/update passes the same checks as the callback route. */
  private async withCheckedLogging(metadata: Record<string, unknown>, caller: Principal, teamId: string): Promise<Record<string, unknown>> {
    if (!Object.prototype.hasOwnProperty.call(metadata, 'logging') || metadata.logging === null) return metadata;
    return { ...metadata, logging: await this.loggingPolicy.prepareList(metadata.logging, caller, teamOwner(teamId), 'metadata.logging') };
  }

  private notifyChanged(teamId: string): void {
    for (const listener of this.changeListeners) listener(teamId);
  }
}

/** Compared on the stored (encrypted) form, so a changed secret counts even though it masks the same. */
function loggingState(team: Team): string {
  return JSON.stringify([team.loggingDisabled, loggingFingerprint(team.metadata)]);
}

export function toTeamResponse(team: Team): TeamResponseDto {
  return {
    team_id: team.teamId,
    team_alias: team.teamAlias,
    metadata: maskMetadata(team.metadata),
    models: team.models,
    blocked: team.blocked,
    logging_disabled: team.loggingDisabled,
    source: team.source,
    created_at: team.createdAt.toISOString(),
    updated_at: team.updatedAt.toISOString(),
  };
}
