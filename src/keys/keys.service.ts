import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, In, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { checkCacheMetadata } from '../cache/cache-metadata';
import { Clock } from '../common/clock';
import { loggingFingerprint, mergeMetadataKeepingLogging } from '../common/metadata';
import { decryptSecretVars, encryptSecretVars, isEncrypted, SecretBox, SecretDecryptionError } from '../common/secret-box';
import { checkPrivacyMetadata } from '../logging/privacy/privacy-metadata';
import { PrivacyResolver } from '../logging/privacy/privacy-resolver';
import { GatewaySettings } from '../config/gateway-settings';
import { AppException } from '../errors';
import { LoggingEntryPolicy } from '../logging/logging-entry.policy';
import { entryPlace, keyOwner, storedEntries } from '../logging/logging-entry';
import { readStoredFields, KEY_GENERATE_STORED, KEY_REGENERATE_STORED, KEY_UPDATE_STORED } from '../management/stored-fields';
import { applyUsageLimits, newUsageLimits } from '../management/usage-limits.dto';
import { toKeyResponse } from './key-view';
import { BudgetsService } from '../budgets/budgets.service';
import { TeamsService, type ChangeContext } from '../teams/teams.service';
import { User } from '../users/user.entity';
import type {
  BlockKeyDto,
  DeleteKeysDto,
  GeneratedKeyResponseDto,
  GenerateKeyDto,
  KeyInfoDto,
  KeyResponseDto,
  KeyWriteResponseDto,
  RegenerateKeyDto,
  UpdateKeyDto,
} from './dto/key.dto';
import { expiryFromDuration } from './duration';
import { VirtualKey } from './key.entity';
import { TeamMember } from '../teams/team-member.entity';
import { digestsEqual, displayName, generateKey, hashKey } from './key-material';
import { ModelAccess } from './model-access';
import { limitSetOf, NO_LIMITS } from '../budgets/usage-limits';
import { managesTeam, type Principal } from './principal';
import { PrincipalCache } from './principal-cache';

const MASTER_PRINCIPAL: Principal = Object.freeze({
  kind: 'master',
  isProxyAdmin: true,
  role: 'proxy_admin',
  keyHash: null,
  keyAlias: null,
  teamId: null,
  teamAlias: null,
  allowedModels: null,
  keyMetadata: {},
  teamMetadata: {},
  teamLoggingDisabled: false,
  userId: null,
  adminTeamIds: [],
  limits: NO_LIMITS,
});

const TOKEN_PATTERN = /^[0-9a-f]{64}$/;
// Visible ASCII only, as the auth guard reads keys: a key outside it could never be used.
const KEY_CHARSET = /^[\x21-\x7e]+$/;

/** User roles whose keys act as the proxy admin (LiteLLM gives a proxy_admin user's keys admin rights). */
const ADMIN_USER_ROLES: ReadonlySet<string> = new Set(['proxy_admin']);

export const KEY_SORT_FIELDS = ['spend', 'max_budget', 'created_at', 'updated_at', 'token', 'key_alias'] as const;
export type KeySortField = (typeof KEY_SORT_FIELDS)[number];

export interface KeyListQuery {
  team_id?: string;
  user_id?: string;
  key_alias?: string;
  key_hash?: string;
  organization_id?: string;
  page: number;
  size: number;
  return_full_object: boolean;
  include_team_keys: boolean;
  sort_by: KeySortField;
  sort_order: 'asc' | 'desc';
  /** LiteLLM's `status=deleted`: Gatehouse keeps no deleted keys, so the list is empty. */
  deleted: boolean;
}

export interface KeyListResponse {
  keys: (string | KeyResponseDto)[];
  total_count: number;
  current_page: number;
  total_pages: number;
}

const SORT_COLUMNS: Record<KeySortField, string> = {
  spend: 'key.spend',
  max_budget: 'key.max_budget',
  created_at: 'key.created_at',
  updated_at: 'key.updated_at',
  token: 'key.token',
  key_alias: 'key.key_alias',
};

@Injectable()
export class KeysService implements OnModuleInit {
  private readonly masterKeyDigest: string;

  constructor(
    @InjectRepository(VirtualKey) private readonly keys: Repository<VirtualKey>,
    private readonly teams: TeamsService,
    private readonly cache: PrincipalCache,
    settings: GatewaySettings,
    private readonly loggingPolicy: LoggingEntryPolicy,
    private readonly privacy: PrivacyResolver,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly secrets: SecretBox,
    private readonly budgets: BudgetsService,
  ) {
    this.masterKeyDigest = hashKey(settings.masterKey);
  }

  /** The teams whose `admin` member the user is (LiteLLM's team admins by membership). */
  private async adminTeamsOf(userId: string | null): Promise<string[]> {
    if (userId === null) return [];
    const rows = await this.keys.manager.find(TeamMember, { select: { teamId: true }, where: { userId, role: 'admin' } });
    return rows.map((member) => member.teamId);
  }

  onModuleInit(): void {
    this.teams.onTeamChanged((teamId) => this.cache.invalidateTeam(teamId));
    this.teams.onUserChanged((userId) => this.cache.invalidateUser(userId));
  }

  /**
   * The master key or a cached key, answered synchronously; undefined when the database must be asked.
   * One hash per request: it is both the comparison with the master key and the key's token.
   */
  authenticateCached(rawKey: string): Principal | undefined {
    const token = hashKey(rawKey);
    if (digestsEqual(token, this.masterKeyDigest)) return MASTER_PRINCIPAL;
    const cached = this.cache.get(token);
    if (cached === 'expired') throw new AppException('key_expired', 'Authentication Error - Expired Key');
    return cached;
  }

  /** Bearer key → Principal; cached, so the LLM routes pay a database round trip only on a miss. */
  async authenticate(rawKey: string): Promise<Principal> {
    const cached = this.authenticateCached(rawKey);
    if (cached) return cached;

    const token = hashKey(rawKey);
    const row = await this.keys.findOne({ where: { token }, relations: { team: true, user: true } });
    if (!row) throw new AppException('invalid_api_key', 'Authentication Error - Invalid proxy server token passed');
    if (row.blocked) throw new AppException('key_blocked', 'Authentication Error - Key is blocked');
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) {
      throw new AppException('key_expired', 'Authentication Error - Expired Key');
    }
    if (row.team?.blocked) throw new AppException('team_blocked', 'Authentication Error - Team is blocked');
    const principal = toPrincipal(row, await this.adminTeamsOf(row.userId));
    this.cache.set(token, principal, row.expiresAt);
    return principal;
  }

  async generate(dto: GenerateKeyDto, context: ChangeContext): Promise<GeneratedKeyResponseDto> {
    const { caller } = context;
    const teamId = dto.team_id ?? (caller.isProxyAdmin ? null : caller.teamId);
    if (teamId !== null) await this.teams.requireManageableTeam(caller, teamId);
    else if (!caller.isProxyAdmin) throw new AppException('forbidden', 'You do not have access to this team');
    this.assertRoleAllowed(dto.role ?? null, caller, teamId);
    // A non-admin's keys belong to its own user unless it names a member of the team it manages (LiteLLM's rule).
    const userId = dto.user_id ?? (caller.isProxyAdmin ? null : caller.userId);
    if (userId !== null) await this.assertUserAssignable(caller, userId, teamId, () => `User can only create keys for themselves. Got user_id=${userId}, Your ID=${caller.userId ?? 'None'}`);
    if (dto.key_alias) await this.assertAliasFree(dto.key_alias, null);

    const usage = newUsageLimits();
    const metadataIn = applyUsageLimits(usage, { dto, creating: true, now: this.now(), metadata: dto.metadata ?? {}, maySetSpend: caller.isProxyAdmin }) ?? {};
    const stored = readStoredFields(dto, KEY_GENERATE_STORED);
    usage.extraFields = stored.values;
    checkCacheMetadata(metadataIn, 'key', caller, null);
    await checkPrivacyMetadata(metadataIn, caller, null);
    // The token first: secrets in the key's logging entries are bound to its row.
    const key = dto.key === undefined || dto.key === null ? generateKey() : this.checkChosenKey(dto.key, 'key');
    const token = hashKey(key);
    if (await this.keys.existsBy({ token })) throw new AppException('validation_failed', 'This key already exists: choose another one', { param: 'key' });
    const metadata = await this.withCheckedLogging(metadataIn, caller, token);

    const row = await this.keys.manager.transaction(async (manager) => {
      if (userId !== null) await ensureUser(manager, userId);
      const saved = await manager.save(
        manager.create(VirtualKey, {
          token,
          keyName: displayName(key),
          keyAlias: dto.key_alias ?? null,
          teamId,
          userId,
          role: dto.role ?? null,
          metadata,
          models: dto.models ?? [],
          blocked: dto.blocked ?? false,
          expiresAt: expiryFromDuration(dto.duration, this.now()),
          usage,
        }),
      );
      await this.recordChange(context, 'key_created', saved, null, manager);
      return saved;
    });
    if (userId !== null) this.cache.invalidateUser(userId);
    return { key, token_id: token, ...toKeyResponse(row), ...warningsOf(stored.warnings) };
  }

  async update(dto: UpdateKeyDto, context: ChangeContext): Promise<KeyWriteResponseDto> {
    const { caller } = context;
    const row = await this.requireManageableKey(caller, dto.key);
    if (dto.team_id !== undefined && dto.team_id !== null && dto.team_id !== row.teamId) {
      await this.teams.requireManageableTeam(caller, dto.team_id);
    }
    const teamId = dto.team_id ?? row.teamId;
    if (dto.role !== undefined) this.assertRoleAllowed(dto.role, caller, teamId);
    else if (row.role === 'team_admin' && teamId !== row.teamId) this.assertRoleAllowed(row.role, caller, teamId);
    if (dto.user_id !== undefined && dto.user_id !== null && dto.user_id !== row.userId) {
      const userId = dto.user_id;
      await this.assertUserAssignable(caller, userId, teamId, () => `User=${caller.userId ?? 'None'} is not allowed to update key=${row.keyName} to belong to user=${userId}`);
    }
    if (dto.key_alias && dto.key_alias !== row.keyAlias) await this.assertAliasFree(dto.key_alias, row.token);
    const increase = storedField(dto, 'temp_budget_increase') ?? null;
    if ((increase === null) !== ((storedField(dto, 'temp_budget_expiry') ?? null) === null)) {
      throw new AppException('validation_failed', 'temp_budget_increase and temp_budget_expiry must be set together', {
        param: increase === null ? 'temp_budget_increase' : 'temp_budget_expiry',
      });
    }
    const before = toKeyResponse(row);
    const loggingBefore = loggingFingerprint(row.metadata);
    const metadataIn = applyUsageLimits(row.usage, { dto, creating: false, now: this.now(), metadata: dto.metadata, maySetSpend: caller.isProxyAdmin });
    if (metadataIn !== undefined && metadataIn !== null) {
      checkCacheMetadata(metadataIn, 'key', caller, row.metadata);
      await checkPrivacyMetadata(metadataIn, caller, row.metadata);
    }
    const incoming = metadataIn === undefined || metadataIn === null ? undefined : await this.withCheckedLogging(metadataIn, caller, row.token);
    const stored = readStoredFields(dto, KEY_UPDATE_STORED);
    row.usage.extraFields = { ...row.usage.extraFields, ...stored.values };
    const previousUser = row.userId;
    if (dto.key_alias !== undefined && dto.key_alias !== null) row.keyAlias = dto.key_alias;
    if (incoming !== undefined) row.metadata = mergeMetadataKeepingLogging(row.metadata, incoming);
    if (dto.models !== undefined && dto.models !== null) row.models = dto.models;
    if (dto.blocked !== undefined && dto.blocked !== null) row.blocked = dto.blocked;
    if (dto.role !== undefined) row.role = dto.role;
    if (dto.team_id !== undefined && dto.team_id !== null) row.teamId = dto.team_id;
    if (dto.user_id !== undefined && dto.user_id !== null) row.userId = dto.user_id;
    if (dto.duration !== undefined) row.expiresAt = expiryFromDuration(dto.duration, this.now());
    // Relations loaded for the checks would otherwise override the changed ids on save.
    delete row.team;
    delete row.user;
    const saved = await this.keys.manager.transaction(async (manager) => {
      if (row.userId !== null && row.userId !== previousUser) await ensureUser(manager, row.userId);
      const result = await manager.save(row);
      const action = loggingFingerprint(result.metadata) !== loggingBefore ? 'key_logging_updated' : 'key_updated';
      await this.recordChange(context, action, result, before, manager);
      return result;
    });
    this.cache.invalidateKey(saved.token);
    return { ...toKeyResponse(saved), ...warningsOf(stored.warnings) };
  }

  /** `/key/block` and `/key/unblock` (proxy admin): refused from the next request on, on every instance. */
  async setBlocked(dto: BlockKeyDto, blocked: boolean, context: ChangeContext): Promise<KeyResponseDto> {
    const row = await this.requireManageableKey(context.caller, dto.key);
    const before = toKeyResponse(row);
    row.blocked = blocked;
    delete row.user;
    const saved = await this.keys.manager.transaction(async (manager) => {
      const result = await manager.save(row);
      await this.recordChange(context, blocked ? 'key_blocked' : 'key_unblocked', result, before, manager);
      return result;
    });
    this.cache.invalidateKey(saved.token);
    return toKeyResponse(saved);
  }

  /**
   * A new secret for a key, with the same settings, logging, budgets, limits and spend; fields given in the body
   * change too. The row's primary key is the token, so a new row takes the old one's place in one transaction: the
   * responses it owns move with it, and its logging secrets (bound to the token) are sealed again for the new token.
   * The old secret stops at once, here and (through the invalidation bus) on every other instance.
   */
  async regenerate(dto: RegenerateKeyDto, pathKey: string | undefined, context: ChangeContext): Promise<GeneratedKeyResponseDto> {
    const { caller } = context;
    const keyRef = dto.key ?? pathKey;
    if (keyRef === undefined || keyRef === '') throw new AppException('validation_failed', 'No key passed in.', { param: 'key' });
    if ((storedField(dto, 'new_master_key') ?? null) !== null) {
      throw new AppException('validation_failed', 'The master key is MASTER_KEY in the environment: change it there and restart', { param: 'new_master_key' });
    }
    const current = await this.requireManageableKey(caller, keyRef);
    if (dto.team_id != null && dto.team_id !== current.teamId) {
      throw new AppException('validation_failed', 'Regenerating keeps the key’s team: use /key/update to move it', { param: 'team_id' });
    }
    if (dto.user_id != null && dto.user_id !== current.userId) {
      throw new AppException('validation_failed', 'Regenerating keeps the key’s user: use /key/update to change it', { param: 'user_id' });
    }
    if (dto.key_alias && dto.key_alias !== current.keyAlias) await this.assertAliasFree(dto.key_alias, current.token);
    const key = dto.new_key === undefined || dto.new_key === null ? generateKey() : this.checkChosenKey(dto.new_key, 'new_key');
    const token = hashKey(key);
    if (await this.keys.existsBy({ token })) throw new AppException('validation_failed', 'This key already exists: choose another one', { param: 'new_key' });

    const usageProbe = newUsageLimits();
    const metadataIn = applyUsageLimits(usageProbe, { dto, creating: false, now: this.now(), metadata: dto.metadata, maySetSpend: caller.isProxyAdmin });
    if (metadataIn !== undefined && metadataIn !== null) {
      checkCacheMetadata(metadataIn, 'key', caller, current.metadata);
      await checkPrivacyMetadata(metadataIn, caller, current.metadata);
    }
    const incoming = metadataIn === undefined || metadataIn === null ? undefined : await this.withCheckedLogging(metadataIn, caller, token);
    const stored = readStoredFields(dto, KEY_REGENERATE_STORED);
    const warnings = stored.warnings.filter((warning) => !warning.startsWith('grace_period ') && !warning.startsWith('new_master_key '));
    if (stored.values.grace_period !== undefined) warnings.push('grace_period is not supported: the old key stopped working at once');
    delete stored.values.grace_period;

    const saved = await this.keys.manager.transaction(async (manager) => {
      const old = await manager.findOne(VirtualKey, { where: { token: current.token }, lock: { mode: 'pessimistic_write' } });
      if (!old) throw new AppException('not_found', 'Key not found', { param: 'key' });
      const before = toKeyResponse(old);
      const usage = { ...old.usage, extraFields: { ...old.usage.extraFields, ...stored.values } };
      applyUsageLimits(usage, { dto, creating: false, now: this.now(), metadata: dto.metadata, maySetSpend: caller.isProxyAdmin });
      let metadata = this.rebindLogging(old.metadata, old.token, token);
      if (incoming !== undefined) metadata = mergeMetadataKeepingLogging(metadata, incoming);
      const fresh = await manager.save(
        manager.create(VirtualKey, {
          token,
          keyName: displayName(key),
          keyAlias: dto.key_alias ?? old.keyAlias,
          teamId: old.teamId,
          userId: old.userId,
          role: old.role,
          metadata,
          models: dto.models ?? old.models,
          blocked: dto.blocked ?? old.blocked,
          expiresAt: dto.duration === undefined ? old.expiresAt : expiryFromDuration(dto.duration, this.now()),
          usage,
          createdAt: old.createdAt,
        }),
      );
      await manager.query('UPDATE response_owner SET key_hash = $1 WHERE key_hash = $2', [token, old.token]);
      await manager.delete(VirtualKey, { token: old.token });
      await this.recordChange(context, 'key_regenerated', fresh, before, manager);
      return fresh;
    });
    this.cache.invalidateKey(current.token);
    return { key, token_id: token, ...toKeyResponse(saved), ...warningsOf(warnings) };
  }

  /**
   * The key's logging entries with every encrypted variable sealed again for the new token (each ciphertext names
   * the row it is stored in). A value that cannot be opened stays as it is: it was unreadable before too.
   */
  private rebindLogging(metadata: Record<string, unknown>, oldToken: string, newToken: string): Record<string, unknown> {
    const entries = storedEntries(metadata);
    if (entries === undefined) return metadata;
    const rebound = entries.map((entry) => {
      if (!Object.values(entry.callback_vars).some(isEncrypted)) return entry;
      try {
        const plain = decryptSecretVars(this.secrets, entry.callback_vars, entryPlace(keyOwner(oldToken), entry.entry_id));
        const wasEncrypted = (name: string) => isEncrypted(entry.callback_vars[name]);
        return { ...entry, callback_vars: encryptSecretVars(this.secrets, plain, wasEncrypted, entryPlace(keyOwner(newToken), entry.entry_id)) };
      } catch (error) {
        if (error instanceof SecretDecryptionError) return entry;
        throw error;
      }
    });
    return { ...metadata, logging: rebound };
  }

  /** `metadata.logging` of a key passes the same checks as a team callback. */
  private async withCheckedLogging(metadata: Record<string, unknown>, caller: Principal, token: string): Promise<Record<string, unknown>> {
    if (!Object.prototype.hasOwnProperty.call(metadata, 'logging') || metadata.logging === null) return metadata;
    return { ...metadata, logging: await this.loggingPolicy.prepareList(metadata.logging, caller, keyOwner(token), 'metadata.logging') };
  }

  /** One audit row per change, with the key's masked view before and after (never the key, never a secret). */
  private recordChange(context: ChangeContext, action: string, row: VirtualKey, before: KeyResponseDto | null, manager: EntityManager): Promise<void> {
    return this.audit.record(
      {
        ...context,
        action,
        tableName: 'virtual_keys',
        objectId: row.keyName,
        teamId: row.teamId,
        before: before === null ? null : { ...before },
        after: { ...toKeyResponse(row) },
      },
      manager,
    );
  }

  /**
   * Without `key`: the caller's own key. With it: admins any key; others their own key, their user's keys and the
   * keys of teams they manage. An unknown key is a 404 (LiteLLM's answer), for everyone.
   * With the privacy switches in force for the key, each with the level it comes from.
   */
  async info(caller: Principal, keyOrToken: string | undefined): Promise<{ key: string; info: KeyInfoDto }> {
    let row: VirtualKey;
    if (keyOrToken === undefined || keyOrToken === '') {
      if (caller.keyHash === null) {
        throw new AppException('validation_failed', 'The master key has no key info: pass ?key=', { param: 'key' });
      }
      row = await this.findOrFail(caller.keyHash);
    } else {
      row = await this.findOrFail(toToken(keyOrToken));
      const mayRead =
        caller.isProxyAdmin ||
        row.token === caller.keyHash ||
        (caller.userId !== null && row.userId === caller.userId) ||
        (row.teamId !== null && managesTeam(caller, row.teamId) && !isAdminKey(row));
      if (!mayRead) throw new AppException('forbidden', `You are not allowed to access this key's info. Your role=${roleName(caller)}`);
    }
    const withTeam = await this.keys.findOne({ where: { token: row.token }, relations: { team: true, user: true } });
    return { key: row.token, info: { ...toKeyResponse(this.budgets.withPendingSpend('key', row.token, row)), privacy: this.privacy.resolve(toPrincipal(withTeam ?? row)) } };
  }

  async list(caller: Principal, query: KeyListQuery): Promise<KeyListResponse> {
    const qb = this.keys.createQueryBuilder('key');
    if (!caller.isProxyAdmin) {
      const managed = managedTeams(caller);
      if (query.team_id !== undefined && !managed.includes(query.team_id)) throw new AppException('forbidden', 'You do not have access to this team');
      if (query.user_id !== undefined && query.user_id !== caller.userId && query.team_id === undefined) {
        throw new AppException('forbidden', "You are not authorized to check another user's keys", { param: 'user_id' });
      }
      qb.andWhere(
        new Brackets((scope) => {
          scope.where(managed.length > 0 ? 'key.team_id IN (:...managed)' : 'false', { managed });
          if (caller.userId !== null) scope.orWhere('key.user_id = :self', { self: caller.userId });
        }),
      );
    }
    if (query.deleted) qb.andWhere('false');
    if (query.team_id !== undefined) qb.andWhere('key.team_id = :teamId', { teamId: query.team_id });
    if (query.user_id !== undefined) {
      if (query.include_team_keys) {
        qb.andWhere(
          new Brackets((scope) => {
            scope
              .where('key.user_id = :userId', { userId: query.user_id })
              .orWhere('key.team_id IN (SELECT team_id FROM team_members WHERE user_id = :userId)', { userId: query.user_id });
          }),
        );
      } else {
        qb.andWhere('key.user_id = :userId', { userId: query.user_id });
      }
    }
    if (query.key_alias !== undefined) qb.andWhere('key.key_alias = :alias', { alias: query.key_alias });
    if (query.key_hash !== undefined) qb.andWhere('key.token = :hash', { hash: toToken(query.key_hash) });
    if (query.organization_id !== undefined) qb.andWhere(`key.extra_fields->>'organization_id' = :org`, { org: query.organization_id });
    const order = query.sort_order === 'asc' ? 'ASC' : 'DESC';
    qb.orderBy(SORT_COLUMNS[query.sort_by], order, order === 'ASC' ? 'NULLS FIRST' : 'NULLS LAST').addOrderBy('key.token', order);
    const [rows, total] = await qb
      .skip((query.page - 1) * query.size)
      .take(query.size)
      .getManyAndCount();
    return {
      keys: rows.map((row) => (query.return_full_object ? toKeyResponse(row) : row.token)),
      total_count: total,
      current_page: query.page,
      total_pages: Math.ceil(total / query.size),
    };
  }

  async delete(dto: DeleteKeysDto, context: ChangeContext): Promise<{ deleted_keys: string[] }> {
    const { caller } = context;
    const keys = dto.keys ?? [];
    const aliases = dto.key_aliases ?? [];
    if (keys.length === 0 && aliases.length === 0) {
      throw new AppException('validation_failed', 'Pass keys or key_aliases', { param: 'keys' });
    }
    const rows: VirtualKey[] = [];
    for (const keyOrToken of keys) rows.push(await this.requireManageableKey(caller, keyOrToken));
    if (aliases.length > 0) {
      const byAlias = await this.keys.find({ where: { keyAlias: In(aliases) }, relations: { user: true } });
      for (const alias of aliases) {
        const row = byAlias.find((candidate) => candidate.keyAlias === alias);
        if (!row || !this.mayManage(caller, row)) {
          if (caller.isProxyAdmin) throw new AppException('not_found', `Key with alias ${alias} not found`, { param: 'key_aliases' });
          throw new AppException('forbidden', 'You do not have access to this key');
        }
        rows.push(row);
      }
    }
    await this.keys.manager.transaction(async (manager) => {
      for (const row of rows) await this.recordChange(context, 'key_deleted', row, toKeyResponse(row), manager);
      await manager.delete(VirtualKey, { token: In(rows.map((row) => row.token)) });
    });
    rows.forEach((row) => this.cache.invalidateKey(row.token));
    return { deleted_keys: [...keys, ...aliases] };
  }

  /** Nobody mints or grants a role above their own; a team admin key needs a team. */
  private assertRoleAllowed(role: VirtualKey['role'], caller: Principal, teamId: string | null): void {
    if (role === 'proxy_admin' && !caller.isProxyAdmin) {
      throw new AppException('forbidden', 'Only the proxy admin may grant the proxy_admin role', { param: 'role' });
    }
    if (role === 'team_admin' && teamId === null) {
      throw new AppException('validation_failed', 'A team_admin key needs a team_id', { param: 'role' });
    }
  }

  /**
   * Who may own a key a caller makes or changes: the proxy admin names anyone; others their own user or a member of
   * the key's team they manage, and never a proxy-admin user (whose keys act as the proxy admin).
   */
  private async assertUserAssignable(caller: Principal, userId: string, teamId: string | null, refusal: () => string): Promise<void> {
    if (caller.isProxyAdmin) return;
    const user = await this.keys.manager.findOneBy(User, { userId });
    if (user !== null && user.userRole !== null && ADMIN_USER_ROLES.has(user.userRole)) {
      throw new AppException('forbidden', refusal(), { param: 'user_id' });
    }
    if (userId === caller.userId) return;
    const member = teamId === null ? false : await this.keys.manager.existsBy(TeamMember, { teamId, userId });
    if (!member) throw new AppException('forbidden', refusal(), { param: 'user_id' });
  }

  private async assertAliasFree(alias: string, except: string | null): Promise<void> {
    const other = await this.keys.findOne({ select: { token: true }, where: { keyAlias: alias } });
    if (other !== null && other.token !== except) {
      throw new AppException('validation_failed', `Key with alias '${alias}' already exists. Unique key aliases across all keys are required.`, {
        param: 'key_alias',
      });
    }
  }

  /** A key the caller chose (LiteLLM's `key` / `new_key`): `sk-…`, usable in a header, not the master key. */
  private checkChosenKey(key: string, param: string): string {
    if (!key.startsWith('sk-')) {
      const shown = key.length > 8 ? `${key.slice(0, 4)}****${key.slice(-4)}` : '****';
      throw new AppException('validation_failed', `Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: ${shown}`, { param });
    }
    if (!KEY_CHARSET.test(key)) throw new AppException('validation_failed', `${param} may hold visible ASCII characters only`, { param });
    if (digestsEqual(hashKey(key), this.masterKeyDigest)) throw new AppException('validation_failed', 'This key already exists: choose another one', { param });
    return key;
  }

  private mayManage(caller: Principal, row: VirtualKey): boolean {
    if (caller.isProxyAdmin) return true;
    return row.teamId !== null && managesTeam(caller, row.teamId) && !isAdminKey(row);
  }

  /** Unknown keys and other teams' keys look the same to non-admins (403), so keys cannot be probed. */
  private async requireManageableKey(caller: Principal, keyOrToken: string): Promise<VirtualKey> {
    const row = await this.keys.findOne({ where: { token: toToken(keyOrToken) }, relations: { user: true } });
    if (caller.isProxyAdmin) {
      if (!row) throw new AppException('not_found', 'Key not found', { param: 'key' });
      return row;
    }
    if (row === null || !this.mayManage(caller, row)) throw new AppException('forbidden', 'You do not have access to this key');
    return row;
  }

  private async findOrFail(token: string): Promise<VirtualKey> {
    const row = await this.keys.findOneBy({ token });
    if (!row) throw new AppException('not_found', 'Key not found in database', { param: 'key' });
    return row;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }
}

/** A key that acts as the proxy admin: by its own role or by its user's. Only the proxy admin manages those. */
function isAdminKey(row: VirtualKey): boolean {
  return row.role === 'proxy_admin' || (row.user?.userRole != null && ADMIN_USER_ROLES.has(row.user.userRole));
}

/** The teams whose keys a non-admin caller manages. */
function managedTeams(caller: Principal): string[] {
  const teams = new Set(caller.adminTeamIds);
  if (caller.role === 'team_admin' && caller.teamId !== null) teams.add(caller.teamId);
  return [...teams];
}

function roleName(caller: Principal): string {
  if (caller.isProxyAdmin) return 'proxy_admin';
  return caller.role ?? 'internal_user';
}

/** The users row a key names, created when absent (LiteLLM does the same). */
export async function ensureUser(manager: EntityManager, userId: string): Promise<void> {
  await manager
    .createQueryBuilder()
    .insert()
    .into(User)
    .values({ userId, userRole: 'internal_user' })
    .orIgnore()
    .execute();
}

/** A LiteLLM field declared with `declareStoredFields` (not a typed property of the DTO). */
export function storedField(dto: object, name: string): unknown {
  return (dto as Record<string, unknown>)[name];
}

export function warningsOf(warnings: readonly string[]): { warnings?: string[] } {
  return warnings.length > 0 ? { warnings: [...warnings] } : {};
}

/** Accepts the key itself or its token; anything else cannot match a row. */
export function toToken(keyOrToken: string): string {
  return TOKEN_PATTERN.test(keyOrToken) ? keyOrToken : hashKey(keyOrToken);
}

function toPrincipal(row: VirtualKey, adminTeamIds: readonly string[] = []): Principal {
  const team = row.team ?? null;
  const user = row.user ?? null;
  const adminUser = user?.userRole != null && ADMIN_USER_ROLES.has(user.userRole);
  return Object.freeze({
    kind: 'key',
    isProxyAdmin: row.role === 'proxy_admin' || adminUser,
    role: row.role,
    keyHash: row.token,
    keyAlias: row.keyAlias,
    teamId: row.teamId,
    teamAlias: team?.teamAlias ?? null,
    // A personal key (no team) is held to its user's models, a team key to its team's (LiteLLM's rule).
    allowedModels: ModelAccess.of(row.models, team?.models ?? [], row.teamId === null ? (user?.models ?? []) : []),
    keyMetadata: row.metadata,
    teamMetadata: team?.metadata ?? {},
    teamLoggingDisabled: team?.loggingDisabled ?? false,
    userId: row.userId,
    adminTeamIds,
    limits: Object.freeze({
      key: limitSetOf(row.token, row.usage),
      team: team ? limitSetOf(team.teamId, team.usage) : null,
      user: user ? limitSetOf(user.userId, user.usage) : null,
    }),
  });
}

export { toKeyResponse };
