import { BudgetsService } from '../budgets/budgets.service';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { checkCacheMetadata } from '../cache/cache-metadata';
import { Clock } from '../common/clock';
import { loggingFingerprint, mergeMetadataKeepingLogging } from '../common/metadata';
import { VirtualKey } from '../keys/key.entity';
import { toKeyResponse, toKeyResponseWithoutToken } from '../keys/key-view';
import { readStoredFields, TEAM_NEW_STORED, TEAM_UPDATE_STORED } from '../management/stored-fields';
import { applyUsageLimits, metadataWithModelLimits, newUsageLimits, usageLimitsView } from '../management/usage-limits.dto';
import { findOrCreateUser, findUser, readMember, readMembers, type MemberInput } from '../users/user-records';
import { toUserResponse, type UserView } from '../users/user-view';
import { checkPrivacyMetadata } from '../logging/privacy/privacy-metadata';
import { GatewaySettings } from '../config/gateway-settings';
import { AppException } from '../errors';
import { managesTeam, type Principal } from '../keys/principal';
import { LoggingEntryPolicy } from '../logging/logging-entry.policy';
import { maskMetadata, teamOwner } from '../logging/logging-entry';
import type {
  CreateTeamDto,
  MemberViewDto,
  TeamInfoResponseDto,
  TeamMemberAddDto,
  TeamMemberAddResponseDto,
  TeamMemberDeleteDto,
  TeamMembershipDto,
  TeamMemberUpdateDto,
  TeamMemberUpdateResponseDto,
  TeamResponseDto,
  TeamWriteResponseDto,
  UpdateTeamDto,
} from './dto/team.dto';
import { TeamMember } from './team-member.entity';
import { Team } from './team.entity';

export type TeamChangeListener = (teamId: string) => void;
export type UserChangeListener = (userId: string) => void;

/** Fields of /team/update only the proxy admin may change: a team admin widening them would be an escalation. */
const ADMIN_ONLY_TEAM_FIELDS = [
  'models',
  'blocked',
  'max_budget',
  'soft_budget',
  'budget_duration',
  'rpm_limit',
  'tpm_limit',
  'max_parallel_requests',
  'model_max_budget',
  'model_rpm_limit',
  'model_tpm_limit',
] as const;

/** Who asked, for the audit trail: the caller and LiteLLM's optional `litellm-changed-by` header. */
export interface ChangeContext {
  caller: Principal;
  changedBy?: string;
}

@Injectable()
export class TeamsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(TeamsService.name);
  private readonly changeListeners: TeamChangeListener[] = [];
  private readonly userListeners: UserChangeListener[] = [];

  constructor(
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    private readonly settings: GatewaySettings,
    private readonly loggingPolicy: LoggingEntryPolicy,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly budgets: BudgetsService,
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

  /** A user's memberships or role changed: its keys' cached principals (admin teams by membership) are read again. */
  onUserChanged(listener: UserChangeListener): void {
    this.userListeners.push(listener);
  }

  notifyUserChanged(userId: string): void {
    for (const listener of this.userListeners) listener(userId);
  }

  async create(dto: CreateTeamDto, context: ChangeContext): Promise<TeamWriteResponseDto> {
    const teamId = dto.team_id ?? randomUUID();
    const members = (dto.members_with_roles ?? []).map((member, index) => readMember(member, `members_with_roles[${index}]`));
    const usage = newUsageLimits();
    const metadataIn = applyUsageLimits(usage, { dto, creating: true, now: this.now(), metadata: dto.metadata ?? {} }) ?? {};
    const stored = readStoredFields(dto, TEAM_NEW_STORED);
    usage.extraFields = stored.values;
    checkCacheMetadata(metadataIn, 'team', context.caller, null);
    await checkPrivacyMetadata(metadataIn, context.caller, null);
    const metadata = await this.withCheckedLogging(metadataIn, context.caller, teamId);
    if (await this.teams.existsBy({ teamId })) {
      throw new AppException('conflict', `Team id = ${teamId} already exists. Please use a different team id.`, { param: 'team_id' });
    }
    // The creator's own user becomes an admin member (LiteLLM's rule), unless it is listed already.
    const creator = context.caller.userId;
    if (creator !== null && !members.some((member) => member.user_id === creator)) members.push({ user_id: creator, role: 'admin' });
    const { team, rows } = await this.teams.manager.transaction(async (manager) => {
      const saved = await manager.save(
        manager.create(Team, {
          teamId,
          teamAlias: dto.team_alias ?? null,
          metadata,
          models: dto.models ?? [],
          blocked: dto.blocked ?? false,
          source: 'api',
          usage,
        }),
      );
      const added = await this.addMembers(manager, teamId, members, null, context);
      await this.audit.record(
        { ...context, action: 'team_created', tableName: 'teams', objectId: teamId, teamId, before: null, after: { ...toTeamResponse(saved) } },
        manager,
      );
      return { team: saved, rows: added.memberships };
    });
    rows.forEach((row) => this.notifyUserChanged(row.userId));
    return { ...toTeamResponse(team, await this.memberViews(teamId)), ...warningsOf(stored.warnings) };
  }

  async update(dto: UpdateTeamDto, context: ChangeContext): Promise<{ team_id: string; data: TeamWriteResponseDto }> {
    const { caller } = context;
    if (!caller.isProxyAdmin) {
      const field = ADMIN_ONLY_TEAM_FIELDS.find((name) => dto[name] !== undefined);
      // A team admin widening its own model list, budget or limits, or unblocking itself, would be an escalation.
      if (field !== undefined) throw new AppException('forbidden', 'Only the proxy admin may change a team’s models, budgets, limits or blocked state', { param: field });
    }
    const current = await this.requireManageableTeam(caller, dto.team_id);
    const probe = newUsageLimits();
    const metadataIn = applyUsageLimits(probe, { dto, creating: false, now: this.now(), metadata: dto.metadata });
    if (metadataIn !== undefined && metadataIn !== null) {
      checkCacheMetadata(metadataIn, 'team', caller, current.metadata);
      await checkPrivacyMetadata(metadataIn, caller, current.metadata);
    }
    const incoming = metadataIn === undefined || metadataIn === null ? undefined : await this.withCheckedLogging(metadataIn, caller, current.teamId);
    const stored = readStoredFields(dto, TEAM_UPDATE_STORED);
    const saved = await this.mutate(
      dto.team_id,
      context,
      'team_logging_updated',
      (team) => {
        applyUsageLimits(team.usage, { dto, creating: false, now: this.now(), metadata: dto.metadata });
        team.usage.extraFields = { ...team.usage.extraFields, ...stored.values };
        if (dto.team_alias !== undefined && dto.team_alias !== null) team.teamAlias = dto.team_alias;
        if (incoming !== undefined) team.metadata = mergeMetadataKeepingLogging(team.metadata, incoming);
        if (dto.models !== undefined && dto.models !== null) team.models = dto.models;
        if (dto.blocked !== undefined && dto.blocked !== null) team.blocked = dto.blocked;
      },
      'team_updated',
    );
    return { team_id: saved.teamId, data: { ...toTeamResponse(saved, await this.memberViews(saved.teamId)), ...warningsOf(stored.warnings) } };
  }

  /** `/team/block` and `/team/unblock` (proxy admin): the team's keys are refused from their next request on. */
  async setBlocked(teamId: string, blocked: boolean, context: ChangeContext): Promise<TeamResponseDto> {
    await this.requireManageableTeam(context.caller, teamId);
    const saved = await this.mutate(
      teamId,
      context,
      blocked ? 'team_blocked' : 'team_unblocked',
      (team) => {
        team.blocked = blocked;
      },
      blocked ? 'team_blocked' : 'team_unblocked',
    );
    return toTeamResponse(saved, await this.memberViews(teamId));
  }

  /**
   * LiteLLM's `/team/info`: the team, its keys and its members' memberships. The proxy admin, the team's admins, any
   * key of the team and the team's members may read it; the keys' tokens only go to those who manage the team.
   */
  async info(teamId: string, caller: Principal): Promise<TeamInfoResponseDto> {
    const team = await this.requireReadableTeam(caller, teamId);
    const [keys, memberships, members] = await Promise.all([
      this.teams.manager.find(VirtualKey, { where: { teamId }, order: { createdAt: 'ASC' } }),
      this.teams.manager.find(TeamMember, { where: { teamId }, order: { createdAt: 'ASC' } }),
      this.memberViews(teamId),
    ]);
    const withTokens = managesTeam(caller, teamId);
    return {
      team_id: teamId,
      team_info: toTeamResponse(this.budgets.withPendingSpend('team', teamId, team), members),
      keys: keys.map((row) => {
        const key = this.budgets.withPendingSpend('key', row.token, row);
        return withTokens ? toKeyResponse(key) : toKeyResponseWithoutToken(key);
      }),
      team_memberships: memberships.map(toMembership),
    };
  }

  /**
   * LiteLLM's `/team/list`: every team for the proxy admin (`user_id` and `organization_id` filter), the teams a
   * team admin manages; each with its members' memberships and its keys.
   */
  async list(caller: Principal, filter: { user_id?: string; organization_id?: string } = {}): Promise<(TeamResponseDto & { team_memberships: TeamMembershipDto[]; keys: Record<string, unknown>[] })[]> {
    const qb = this.teams.createQueryBuilder('team').orderBy('team.created_at', 'ASC');
    if (!caller.isProxyAdmin) {
      const managed = [...new Set([...caller.adminTeamIds, ...(caller.role === 'team_admin' && caller.teamId !== null ? [caller.teamId] : [])])];
      if (filter.user_id !== undefined && filter.user_id !== caller.userId) {
        throw new AppException('forbidden', `Only admin users can query all teams/other teams. Your user role=${caller.role ?? 'internal_user'}`, { param: 'user_id' });
      }
      qb.andWhere(managed.length > 0 ? 'team.team_id IN (:...managed)' : 'false', { managed });
    }
    if (filter.user_id !== undefined) qb.andWhere('team.team_id IN (SELECT team_id FROM team_members WHERE user_id = :userId)', { userId: filter.user_id });
    if (filter.organization_id === 'default_organization') qb.andWhere(`team.extra_fields->>'organization_id' IS NULL`);
    else if (filter.organization_id !== undefined) qb.andWhere(`team.extra_fields->>'organization_id' = :org`, { org: filter.organization_id });
    const teams = await qb.getMany();
    const ids = teams.map((team) => team.teamId);
    const [keys, memberships, members] =
      ids.length === 0
        ? [[], [], new Map<string, MemberViewDto[]>()]
        : await Promise.all([
            this.teams.manager.find(VirtualKey, { where: { teamId: In(ids) }, order: { createdAt: 'ASC' } }),
            this.teams.manager.find(TeamMember, { where: { teamId: In(ids) }, order: { createdAt: 'ASC' } }),
            this.memberViewsOf(ids),
          ]);
    return teams.map((team) => ({
      ...toTeamResponse(team, members.get(team.teamId) ?? []),
      team_memberships: memberships.filter((row) => row.teamId === team.teamId).map(toMembership),
      keys: keys.filter((key) => key.teamId === team.teamId).map((key) => ({ ...(managesTeam(caller, team.teamId) ? toKeyResponse(key) : toKeyResponseWithoutToken(key)) })),
    }));
  }

  /** `/team/member_add`: users that do not exist yet are created; a member already in the team is a 400. */
  async memberAdd(dto: TeamMemberAddDto, context: ChangeContext): Promise<TeamMemberAddResponseDto> {
    const members = readMembers(dto.member, 'member');
    const team = await this.requireManageableTeam(context.caller, dto.team_id);
    const added = await this.teams.manager.transaction((manager) => this.addMembers(manager, team.teamId, members, dto.max_budget_in_team ?? null, context, true));
    added.memberships.forEach((row) => this.notifyUserChanged(row.userId));
    const fresh = await this.teams.findOneByOrFail({ teamId: team.teamId });
    return {
      ...toTeamResponse(fresh, await this.memberViews(team.teamId)),
      updated_users: added.users.map((user) => ({ ...user })),
      updated_team_memberships: added.memberships.map(toMembership),
    };
  }

  async memberUpdate(dto: TeamMemberUpdateDto, context: ChangeContext): Promise<TeamMemberUpdateResponseDto> {
    await this.requireManageableTeam(context.caller, dto.team_id);
    const { member, user } = await this.requireMember(dto.team_id, dto);
    const before = toMembership(member);
    if (dto.role !== undefined && dto.role !== null) member.role = dto.role;
    if (dto.max_budget_in_team !== undefined) member.maxBudgetInTeam = dto.max_budget_in_team;
    if (dto.tpm_limit !== undefined) member.tpmLimit = dto.tpm_limit;
    if (dto.rpm_limit !== undefined) member.rpmLimit = dto.rpm_limit;
    const saved = await this.teams.manager.transaction(async (manager) => {
      const result = await manager.save(member);
      await this.recordMember(manager, context, 'team_member_updated', result, before);
      return result;
    });
    this.notifyUserChanged(saved.userId);
    this.notifyChanged(dto.team_id);
    return {
      team_id: saved.teamId,
      user_id: saved.userId,
      user_email: user.userEmail,
      max_budget_in_team: saved.maxBudgetInTeam,
      tpm_limit: saved.tpmLimit,
      rpm_limit: saved.rpmLimit,
      role: saved.role,
    };
  }

  async memberDelete(dto: TeamMemberDeleteDto, context: ChangeContext): Promise<TeamResponseDto> {
    await this.requireManageableTeam(context.caller, dto.team_id);
    const { member } = await this.requireMember(dto.team_id, dto);
    await this.teams.manager.transaction(async (manager) => {
      await manager.delete(TeamMember, { teamId: member.teamId, userId: member.userId });
      await this.recordMember(manager, context, 'team_member_deleted', null, toMembership(member));
    });
    this.notifyUserChanged(member.userId);
    const team = await this.teams.findOneByOrFail({ teamId: dto.team_id });
    return toTeamResponse(team, await this.memberViews(dto.team_id));
  }

  /** Adds members to a team in the caller's transaction, creating users that do not exist yet. */
  async addMembers(
    manager: EntityManager,
    teamId: string,
    members: readonly MemberInput[],
    maxBudgetInTeam: number | null,
    context: ChangeContext,
    refuseExisting = false,
  ): Promise<{ users: UserView[]; memberships: TeamMember[] }> {
    const users: UserView[] = [];
    const memberships: TeamMember[] = [];
    for (const member of members) {
      const { user } = await findOrCreateUser(manager, member);
      const existing = await manager.findOneBy(TeamMember, { teamId, userId: user.userId });
      if (existing !== null) {
        if (!refuseExisting) continue;
        const current = await manager.find(TeamMember, { select: { userId: true }, where: { teamId } });
        throw new AppException(
          'validation_failed',
          `User=${user.userId} already in team. Existing members=${current.map((row) => row.userId).join(', ')}`,
          { param: 'member' },
        );
      }
      const row = await manager.save(manager.create(TeamMember, { teamId, userId: user.userId, role: member.role, maxBudgetInTeam, spend: 0, rpmLimit: null, tpmLimit: null }));
      await this.recordMember(manager, context, 'team_member_added', row, null);
      users.push(toUserResponse(user));
      memberships.push(row);
    }
    return { users, memberships };
  }

  private async requireMember(teamId: string, ref: { user_id?: string | null; user_email?: string | null }) {
    if (!ref.user_id && !ref.user_email) throw new AppException('validation_failed', 'Either user id or user email must be provided', { param: 'user_id' });
    const user = await findUser(this.teams.manager, ref);
    const member = user === null ? null : await this.teams.manager.findOneBy(TeamMember, { teamId, userId: user.userId });
    if (user === null || member === null) throw new AppException('validation_failed', 'User not found in team', { param: ref.user_id ? 'user_id' : 'user_email' });
    return { user, member };
  }

  private recordMember(manager: EntityManager, context: ChangeContext, action: string, after: TeamMember | null, before: TeamMembershipDto | null): Promise<void> {
    const row = after ?? before;
    const teamId = after?.teamId ?? before?.team_id ?? '';
    const userId = after?.userId ?? before?.user_id ?? '';
    return this.audit.record(
      {
        ...context,
        action,
        tableName: 'team_members',
        objectId: `${teamId}:${userId}`.slice(0, 256),
        teamId,
        before: before === null ? null : { ...before },
        after: after === null || row === null ? null : { ...toMembership(after), role: after.role },
      },
      manager,
    );
  }

  /** The members as `members_with_roles` shows them, in the order they joined. */
  async memberViews(teamId: string): Promise<MemberViewDto[]> {
    return (await this.memberViewsOf([teamId])).get(teamId) ?? [];
  }

  private async memberViewsOf(teamIds: string[]): Promise<Map<string, MemberViewDto[]>> {
    const rows = await this.teams.manager.find(TeamMember, { where: { teamId: In(teamIds) }, relations: { user: true }, order: { createdAt: 'ASC' } });
    const byTeam = new Map<string, MemberViewDto[]>();
    for (const row of rows) {
      const list = byTeam.get(row.teamId) ?? [];
      list.push({ user_id: row.userId, user_email: row.user?.userEmail ?? null, role: row.role });
      byTeam.set(row.teamId, list);
    }
    return byTeam;
  }

  async delete(teamIds: string[], context: ChangeContext): Promise<{ deleted_teams: string[] }> {
    const existing = await this.teams.findBy({ teamId: In(teamIds) });
    const missing = teamIds.filter((id) => !existing.some((team) => team.teamId === id));
    if (missing.length > 0) {
      throw new AppException('not_found', `Team ${missing[0]} does not exist`, { param: 'team_ids' });
    }
    const members = await this.teams.manager.find(TeamMember, { select: { userId: true }, where: { teamId: In(teamIds) } });
    // Keys and memberships of a deleted team go with it (ON DELETE CASCADE), as in LiteLLM.
    await this.teams.manager.transaction(async (manager) => {
      for (const team of existing) {
        await this.audit.record(
          { ...context, action: 'team_deleted', tableName: 'teams', objectId: team.teamId, teamId: team.teamId, before: { ...toTeamResponse(team) }, after: null },
          manager,
        );
      }
      await manager.delete(Team, { teamId: In(teamIds) });
    });
    teamIds.forEach((id) => this.notifyChanged(id));
    new Set(members.map((member) => member.userId)).forEach((userId) => this.notifyUserChanged(userId));
    return { deleted_teams: teamIds };
  }

  /**
   * The team a caller may read: whoever manages it, any key of the team, and the team's members (LiteLLM's
   * `validate_membership`). Others get the same 403 for a foreign team and an unknown one.
   */
  private async requireReadableTeam(caller: Principal, teamId: string): Promise<Team> {
    const team = await this.teams.findOneBy({ teamId });
    if (caller.isProxyAdmin) {
      if (!team) throw new AppException('not_found', `Team not found, passed team id: ${teamId}.`, { param: 'team_id' });
      return team;
    }
    const member = team !== null && caller.userId !== null && (await this.teams.manager.existsBy(TeamMember, { teamId, userId: caller.userId }));
    if (team === null || !(managesTeam(caller, teamId) || caller.teamId === teamId || member)) {
      // Without the team id: an unknown team and a foreign one must read the same.
      throw new AppException('forbidden', 'You do not have access to this team');
    }
    return team;
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
  async mutate(
    teamId: string,
    context: ChangeContext,
    auditAction: string,
    change: (team: Team) => void | Promise<void>,
    /** When given, a change that leaves the logging as it was is audited under this action too. */
    otherChangeAction?: string,
  ): Promise<Team> {
    const saved = await this.teams.manager.transaction(async (manager) => {
      const team = await manager.findOne(Team, { where: { teamId }, lock: { mode: 'pessimistic_write' } });
      if (!team) throw new AppException('not_found', `Team ${teamId} does not exist`, { param: 'team_id' });
      const loggingBefore = loggingState(team);
      const before = otherChangeAction === undefined ? { metadata: maskMetadata(team.metadata), logging_disabled: team.loggingDisabled } : { ...toTeamResponse(team) };
      await change(team);
      const result = await manager.save(team);
      const loggingChanged = loggingState(result) !== loggingBefore;
      if (loggingChanged || otherChangeAction !== undefined) {
        const after = otherChangeAction === undefined ? { metadata: maskMetadata(result.metadata), logging_disabled: result.loggingDisabled } : { ...toTeamResponse(result) };
        const action = loggingChanged ? auditAction : (otherChangeAction ?? auditAction);
        await this.audit.record({ ...context, action, tableName: 'teams', objectId: teamId, teamId, before, after }, manager);
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

  private now(): Date {
    return new Date(this.clock.now());
  }

  private notifyChanged(teamId: string): void {
    for (const listener of this.changeListeners) listener(teamId);
  }
}

/** Compared on the stored (encrypted) form, so a changed secret counts even though it masks the same. */
function loggingState(team: Team): string {
  return JSON.stringify([team.loggingDisabled, loggingFingerprint(team.metadata)]);
}

/** A team as answers show it: LiteLLM's names, metadata masked; `members_with_roles` when the caller read them. */
export function toTeamResponse(team: Team, members?: MemberViewDto[]): TeamResponseDto {
  return {
    ...team.usage.extraFields,
    team_id: team.teamId,
    team_alias: team.teamAlias,
    metadata: metadataWithModelLimits(maskMetadata(team.metadata), team.usage),
    models: team.models,
    blocked: team.blocked,
    logging_disabled: team.loggingDisabled,
    source: team.source,
    ...usageLimitsView(team.usage),
    created_at: team.createdAt.toISOString(),
    updated_at: team.updatedAt.toISOString(),
    ...(members === undefined ? {} : { members_with_roles: members }),
  };
}

/** LiteLLM's `LiteLLM_TeamMembership`, with the member's budget as its `litellm_budget_table`. */
export function toMembership(row: TeamMember): TeamMembershipDto {
  const hasBudget = row.maxBudgetInTeam !== null || row.tpmLimit !== null || row.rpmLimit !== null;
  return {
    user_id: row.userId,
    team_id: row.teamId,
    budget_id: null,
    spend: row.spend,
    max_budget_in_team: row.maxBudgetInTeam,
    tpm_limit: row.tpmLimit,
    rpm_limit: row.rpmLimit,
    litellm_budget_table: hasBudget ? { max_budget: row.maxBudgetInTeam, tpm_limit: row.tpmLimit, rpm_limit: row.rpmLimit } : null,
  };
}

function warningsOf(warnings: readonly string[]): { warnings?: string[] } {
  return warnings.length > 0 ? { warnings: [...warnings] } : {};
}
