import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { In, Repository } from 'typeorm';
import { mergeMetadataKeepingLogging } from '../common/metadata';
import { GatewaySettings } from '../config/gateway-settings';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import type { CreateTeamDto, TeamResponseDto, UpdateTeamDto } from './dto/team.dto';
import { Team } from './team.entity';

export type TeamChangeListener = (teamId: string) => void;

@Injectable()
export class TeamsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(TeamsService.name);
  private readonly changeListeners: TeamChangeListener[] = [];

  constructor(
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    private readonly settings: GatewaySettings,
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

  async create(dto: CreateTeamDto): Promise<TeamResponseDto> {
    const teamId = dto.team_id ?? randomUUID();
    if (await this.teams.existsBy({ teamId })) {
      throw new AppException('conflict', `Team ${teamId} already exists`, { param: 'team_id' });
    }
    const team = await this.teams.save(
      this.teams.create({
        teamId,
        teamAlias: dto.team_alias ?? null,
        metadata: dto.metadata ?? {},
        models: dto.models ?? [],
        blocked: dto.blocked ?? false,
        source: 'api',
      }),
    );
    return toTeamResponse(team);
  }

  async update(dto: UpdateTeamDto, caller: Principal): Promise<{ team_id: string; data: TeamResponseDto }> {
    const team = await this.requireManageableTeam(caller, dto.team_id);
    if (!caller.isProxyAdmin && (dto.models !== undefined || dto.blocked !== undefined)) {
      // A team admin widening its own model list or unblocking itself would be an escalation.
      throw new AppException('forbidden', 'Only the proxy admin may change a team’s models or blocked state', {
        param: dto.models !== undefined ? 'models' : 'blocked',
      });
    }
    if (dto.team_alias !== undefined) team.teamAlias = dto.team_alias;
    if (dto.metadata !== undefined) team.metadata = mergeMetadataKeepingLogging(team.metadata, dto.metadata);
    if (dto.models !== undefined) team.models = dto.models;
    if (dto.blocked !== undefined) team.blocked = dto.blocked;
    const saved = await this.teams.save(team);
    this.notifyChanged(saved.teamId);
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
    const ownTeam = caller.role === 'team_admin' && teamId !== null && caller.teamId === teamId;
    if (!caller.isProxyAdmin && !ownTeam) {
      throw new AppException('forbidden', 'You do not have access to this team');
    }
    const team = teamId === null ? null : await this.teams.findOneBy({ teamId });
    if (!team) {
      if (!caller.isProxyAdmin) throw new AppException('forbidden', 'You do not have access to this team');
      throw new AppException('not_found', `Team ${teamId} does not exist`, { param: 'team_id' });
    }
    return team;
  }

  private notifyChanged(teamId: string): void {
    for (const listener of this.changeListeners) listener(teamId);
  }
}

export function toTeamResponse(team: Team): TeamResponseDto {
  return {
    team_id: team.teamId,
    team_alias: team.teamAlias,
    metadata: team.metadata,
    models: team.models,
    blocked: team.blocked,
    source: team.source,
    created_at: team.createdAt.toISOString(),
    updated_at: team.updatedAt.toISOString(),
  };
}
