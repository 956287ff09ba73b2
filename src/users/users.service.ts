import { BudgetsService } from '../budgets/budgets.service';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, In, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock';
import { AppException } from '../errors';
import { VirtualKey } from '../keys/key.entity';
import { toKeyResponse } from '../keys/key-view';
import { KeysService } from '../keys/keys.service';
import type { Principal } from '../keys/principal';
import { PrincipalCache } from '../keys/principal-cache';
import { readStoredFields, USER_NEW_STORED, USER_UPDATE_STORED } from '../management/stored-fields';
import { applyUsageLimits, newUsageLimits } from '../management/usage-limits.dto';
import { TeamMember } from '../teams/team-member.entity';
import { Team } from '../teams/team.entity';
import { TeamsService, toMembership, toTeamResponse, type ChangeContext } from '../teams/teams.service';
import type { NewUserDto, NewUserResponseDto, UpdateUserDto, UserInfoResponseDto, UserListResponseDto } from './dto/user.dto';
import { findUser, type MemberInput } from './user-records';
import { User, USER_ROLES, type UserRole } from './user.entity';
import { toUserResponse, type UserView } from './user-view';

export const USER_SORT_FIELDS = ['user_id', 'user_email', 'created_at', 'spend', 'user_alias', 'user_role'] as const;
export type UserSortField = (typeof USER_SORT_FIELDS)[number];

export interface UserListQuery {
  role?: string;
  user_ids?: string;
  user_email?: string;
  team?: string;
  page: number;
  page_size: number;
  sort_by?: UserSortField;
  sort_order: 'asc' | 'desc';
}

/** What a user may change about itself: never its role, budgets, limits, models or spend. */
const SELF_SERVICE_FIELDS = new Set(['user_id', 'user_email', 'user_alias', 'metadata', 'password']);

const PASSWORD_WARNING = 'password is not stored: Gatehouse has no user login';

/** LiteLLM's internal users: `/user/new`, `/user/info`, `/user/update`, `/user/list`, `/user/delete`. */
@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly keys: KeysService,
    private readonly teams: TeamsService,
    private readonly principals: PrincipalCache,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly budgets: BudgetsService,
  ) {}

  async create(dto: NewUserDto, context: ChangeContext): Promise<NewUserResponseDto> {
    const userId = dto.user_id ?? randomUUID();
    refuseLoggingMetadata(dto.metadata);
    if (await this.users.existsBy({ userId })) throw new AppException('conflict', `User with id ${userId} already exists`, { param: 'user_id' });
    if (dto.user_email && (await findUser(this.users.manager, { user_email: dto.user_email })) !== null) {
      throw new AppException('conflict', `User with email ${dto.user_email} already exists`, { param: 'user_email' });
    }
    const memberships = readTeams(dto.teams ?? [], dto.team_id ?? null);
    for (const { teamId } of memberships) {
      if (!(await this.users.manager.existsBy(Team, { teamId }))) throw new AppException('not_found', `Team ${teamId} does not exist`, { param: 'teams' });
    }
    if (dto.key_alias && (await this.users.manager.existsBy(VirtualKey, { keyAlias: dto.key_alias }))) {
      throw new AppException('validation_failed', `Key with alias '${dto.key_alias}' already exists. Unique key aliases across all keys are required.`, { param: 'key_alias' });
    }
    const usage = newUsageLimits();
    const metadata = applyUsageLimits(usage, { dto, creating: true, now: this.now(), metadata: dto.metadata ?? {}, maySetSpend: true }) ?? {};
    const stored = readStoredFields(dto, USER_NEW_STORED);
    usage.extraFields = stored.values;
    const warnings = [...stored.warnings, ...(dto.password ? [PASSWORD_WARNING] : [])];

    const user = await this.users.manager.transaction(async (manager) => {
      const saved = await manager.save(
        manager.create(User, {
          userId,
          userEmail: dto.user_email ?? null,
          userAlias: dto.user_alias ?? null,
          userRole: dto.user_role ?? 'internal_user',
          metadata,
          models: dto.models ?? [],
          usage,
        }),
      );
      for (const membership of memberships) {
        await this.teams.addMembers(manager, membership.teamId, [{ user_id: userId, role: membership.role }], membership.maxBudgetInTeam, context);
      }
      await this.record(manager, context, 'user_created', saved, null);
      return saved;
    });
    this.principals.invalidateUser(userId);

    let key: { key: string; key_alias: string | null; key_name: string | null; expires: string | null; team_id: string | null } = {
      key: '',
      key_alias: null,
      key_name: null,
      expires: null,
      team_id: null,
    };
    if (dto.auto_create_key ?? true) {
      const generated = await this.keys.generate(
        { user_id: userId, team_id: dto.team_id ?? undefined, key_alias: dto.key_alias ?? undefined, duration: dto.duration, blocked: dto.blocked ?? undefined },
        context,
      );
      key = { key: generated.key, key_alias: generated.key_alias, key_name: generated.key_name, expires: generated.expires, team_id: generated.team_id };
    }
    return {
      ...toUserResponse(user),
      ...key,
      teams: memberships.map((membership) => membership.teamId),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  /**
   * LiteLLM's `/user/info`: the user, its keys and its teams. The proxy admin reads anyone (without `user_id`: every
   * key and team); a key reads its own user.
   */
  async info(caller: Principal, userId: string | undefined): Promise<UserInfoResponseDto> {
    if (userId === undefined || userId === '') {
      if (caller.isProxyAdmin && caller.userId === null) return this.everything();
      if (caller.userId === null) throw new AppException('validation_failed', 'This key has no user: pass ?user_id=', { param: 'user_id' });
      userId = caller.userId;
    }
    if (!caller.isProxyAdmin && userId !== caller.userId) {
      throw new AppException('forbidden', `User=${caller.userId ?? 'None'} is not allowed to view user=${userId}`, { param: 'user_id' });
    }
    const user = await this.users.findOneBy({ userId });
    if (!user) throw new AppException('not_found', `User ${userId} not found`, { param: 'user_id' });
    const [keys, memberships] = await Promise.all([
      this.users.manager.find(VirtualKey, { where: { userId }, relations: { team: true }, order: { createdAt: 'ASC' } }),
      this.users.manager.find(TeamMember, { where: { userId }, relations: { team: true }, order: { createdAt: 'ASC' } }),
    ]);
    return {
      user_id: userId,
      user_info: { ...toUserResponse(this.budgets.withPendingSpend('user', userId, user)), teams: memberships.map((row) => row.teamId) },
      keys: keys.map((key) => ({ ...toKeyResponse(this.budgets.withPendingSpend('key', key.token, key)), team_alias: key.team?.teamAlias ?? 'None' })),
      teams: memberships.filter((row) => row.team).map((row) => ({ ...toTeamResponse(row.team as Team), team_memberships: [toMembership(row)] })),
    };
  }

  private async everything(): Promise<UserInfoResponseDto> {
    const [keys, teams] = await Promise.all([
      this.users.manager.find(VirtualKey, { relations: { team: true }, order: { createdAt: 'ASC' } }),
      this.users.manager.find(Team, { order: { createdAt: 'ASC' } }),
    ]);
    return {
      user_id: null,
      user_info: null,
      keys: keys.map((key) => ({ ...toKeyResponse(key), team_alias: key.team?.teamAlias ?? 'None' })),
      teams: teams.map((team) => ({ ...toTeamResponse(team) })),
    };
  }

  async update(dto: UpdateUserDto, context: ChangeContext): Promise<UserView & { warnings?: string[] }> {
    const { caller } = context;
    if (!dto.user_id && !dto.user_email) throw new AppException('validation_failed', 'Either user id or user email must be provided', { param: 'user_id' });
    refuseLoggingMetadata(dto.metadata);
    if (!caller.isProxyAdmin) {
      if (dto.user_role !== undefined && dto.user_role !== null) throw new AppException('forbidden', 'Only proxy admins can modify user roles.', { param: 'user_role' });
      const field = Object.keys(dto).find((name) => !SELF_SERVICE_FIELDS.has(name) && (dto as Record<string, unknown>)[name] !== undefined);
      if (field !== undefined) throw new AppException('forbidden', `Only the proxy admin may change ${field}`, { param: field });
    }
    const existing = await findUser(this.users.manager, { user_id: dto.user_id, user_email: dto.user_email });
    if (!caller.isProxyAdmin && (existing === null || existing.userId !== caller.userId)) {
      throw new AppException('forbidden', 'A user may update only itself', { param: 'user_id' });
    }
    if (existing === null && dto.user_id) throw new AppException('not_found', `User not found, passed user_id=${dto.user_id}`, { param: 'user_id' });
    if (dto.user_email && existing !== null && dto.user_id && existing.userEmail?.toLowerCase() !== dto.user_email.toLowerCase()) {
      const other = await findUser(this.users.manager, { user_email: dto.user_email });
      if (other !== null && other.userId !== existing.userId) throw new AppException('conflict', `User with email ${dto.user_email} already exists`, { param: 'user_email' });
    }
    // LiteLLM creates the user when an unknown email is updated.
    const user = existing ?? this.users.create({ userId: randomUUID(), userEmail: dto.user_email ?? null, userRole: 'internal_user', metadata: {}, models: [], usage: newUsageLimits() });
    const before = existing === null ? null : toUserResponse(existing);
    const metadata = applyUsageLimits(user.usage, { dto, creating: existing === null, now: this.now(), metadata: dto.metadata, maySetSpend: caller.isProxyAdmin });
    const stored = readStoredFields(dto, USER_UPDATE_STORED);
    user.usage.extraFields = { ...user.usage.extraFields, ...stored.values };
    if (metadata !== undefined && metadata !== null) user.metadata = metadata;
    if (dto.user_email !== undefined && dto.user_email !== null) user.userEmail = dto.user_email;
    if (dto.user_alias !== undefined && dto.user_alias !== null) user.userAlias = dto.user_alias;
    if (dto.user_role !== undefined && dto.user_role !== null) user.userRole = dto.user_role;
    if (dto.models !== undefined && dto.models !== null) user.models = dto.models;
    const saved = await this.users.manager.transaction(async (manager) => {
      const result = await manager.save(user);
      await this.record(manager, context, existing === null ? 'user_created' : 'user_updated', result, before);
      return result;
    });
    this.principals.invalidateUser(saved.userId);
    const warnings = [...stored.warnings, ...(dto.password ? [PASSWORD_WARNING] : [])];
    return { ...toUserResponse(saved), ...(warnings.length > 0 ? { warnings } : {}) };
  }

  async list(query: UserListQuery): Promise<UserListResponseDto> {
    const qb = this.users.createQueryBuilder('user');
    if (query.role !== undefined) {
      if (!(USER_ROLES as readonly string[]).includes(query.role)) throw new AppException('validation_failed', `role must be one of ${USER_ROLES.join(', ')}`, { param: 'role' });
      qb.andWhere('user.user_role = :role', { role: query.role as UserRole });
    }
    if (query.user_ids !== undefined) {
      const ids = query.user_ids.split(',').map((id) => id.trim()).filter((id) => id !== '');
      // One id matches as a case-insensitive part of the id (LiteLLM's search box); several match exactly.
      if (ids.length === 1) qb.andWhere('user.user_id ILIKE :idPart', { idPart: `%${escapeLike(ids[0])}%` });
      else if (ids.length > 1) qb.andWhere('user.user_id IN (:...ids)', { ids });
    }
    if (query.user_email !== undefined) qb.andWhere('user.user_email ILIKE :email', { email: `%${escapeLike(query.user_email)}%` });
    if (query.team !== undefined) qb.andWhere('user.user_id IN (SELECT user_id FROM team_members WHERE team_id = :team)', { team: query.team });
    const order = query.sort_order === 'asc' ? 'ASC' : 'DESC';
    if (query.sort_by !== undefined) qb.orderBy(`user.${query.sort_by}`, order, 'NULLS LAST').addOrderBy('user.user_id', 'ASC');
    else qb.orderBy('user.created_at', 'DESC').addOrderBy('user.user_id', 'ASC');
    const [rows, total] = await qb.skip((query.page - 1) * query.page_size).take(query.page_size).getManyAndCount();
    const counts = rows.length === 0 ? [] : await this.users.manager
      .createQueryBuilder(VirtualKey, 'key')
      .select('key.user_id', 'user_id')
      .addSelect('count(*)::int', 'count')
      .where('key.user_id IN (:...ids)', { ids: rows.map((row) => row.userId) })
      .groupBy('key.user_id')
      .getRawMany<{ user_id: string; count: number }>();
    return {
      users: rows.map((row) => ({ ...toUserResponse(row), key_count: counts.find((count) => count.user_id === row.userId)?.count ?? 0 })),
      total,
      page: query.page,
      page_size: query.page_size,
      total_pages: Math.ceil(total / query.page_size),
    };
  }

  /** The users, their keys and their memberships (LiteLLM deletes them together). */
  async delete(userIds: string[], context: ChangeContext): Promise<{ deleted_users: string[] }> {
    const existing = await this.users.findBy({ userId: In(userIds) });
    const missing = userIds.find((id) => !existing.some((user) => user.userId === id));
    if (missing !== undefined) throw new AppException('not_found', `User not found, passed user_id=${missing}`, { param: 'user_ids' });
    const keys = await this.users.manager.find(VirtualKey, { select: { token: true }, where: { userId: In(userIds) } });
    await this.users.manager.transaction(async (manager) => {
      for (const user of existing) await this.record(manager, context, 'user_deleted', null, toUserResponse(user), user.userId);
      await manager.delete(User, { userId: In(userIds) });
    });
    keys.forEach((key) => this.principals.invalidateKey(key.token));
    userIds.forEach((userId) => this.principals.invalidateUser(userId));
    return { deleted_users: userIds };
  }

  private record(manager: EntityManager, context: ChangeContext, action: string, after: User | null, before: UserView | null, userId?: string): Promise<void> {
    return this.audit.record(
      {
        ...context,
        action,
        tableName: 'users',
        objectId: (after?.userId ?? userId ?? before?.user_id ?? '').slice(0, 256),
        teamId: null,
        before: before === null ? null : { ...before },
        after: after === null ? null : { ...toUserResponse(after) },
      },
      manager,
    );
  }

  private now(): Date {
    return new Date(this.clock.now());
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** Logging destinations belong to keys and teams; a user's metadata is never read for them (nor encrypted). */
function refuseLoggingMetadata(metadata: Record<string, unknown> | null | undefined): void {
  if (metadata && Object.prototype.hasOwnProperty.call(metadata, 'logging')) {
    throw new AppException('validation_failed', 'metadata.logging is for keys and teams, not users', { param: 'metadata.logging' });
  }
}

interface TeamMembershipInput {
  teamId: string;
  role: MemberInput['role'];
  maxBudgetInTeam: number | null;
}

/** `teams` of `/user/new`: ids, or `{team_id, max_budget_in_team?, user_role}`; plus the legacy `team_id` as a `user`. */
function readTeams(teams: unknown[], legacyTeamId: string | null): TeamMembershipInput[] {
  const out: TeamMembershipInput[] = [];
  teams.forEach((entry, index) => {
    const param = `teams[${index}]`;
    if (typeof entry === 'string') {
      out.push({ teamId: entry, role: 'user', maxBudgetInTeam: null });
      return;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new AppException('validation_failed', `${param} must be a team id or {team_id, max_budget_in_team, user_role}`, { param });
    }
    const fields = entry as Record<string, unknown>;
    for (const name of Object.keys(fields)) {
      if (!['team_id', 'max_budget_in_team', 'user_role'].includes(name)) {
        throw new AppException('unrecognized_field', `Unrecognized request argument supplied: ${param}.${name}`, { param: `${param}.${name}` });
      }
    }
    if (typeof fields.team_id !== 'string' || fields.team_id === '') throw new AppException('validation_failed', `${param}.team_id must be a string`, { param: `${param}.team_id` });
    const role = fields.user_role ?? 'user';
    if (role !== 'user' && role !== 'admin') throw new AppException('validation_failed', `${param}.user_role must be user or admin`, { param: `${param}.user_role` });
    const budget = fields.max_budget_in_team ?? null;
    if (budget !== null && (typeof budget !== 'number' || !Number.isFinite(budget) || budget < 0)) {
      throw new AppException('validation_failed', `${param}.max_budget_in_team must be a non-negative number`, { param: `${param}.max_budget_in_team` });
    }
    out.push({ teamId: fields.team_id, role, maxBudgetInTeam: budget });
  });
  if (legacyTeamId !== null && !out.some((membership) => membership.teamId === legacyTeamId)) out.push({ teamId: legacyTeamId, role: 'user', maxBudgetInTeam: null });
  return out;
}
