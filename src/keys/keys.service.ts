import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { checkCacheMetadata } from '../cache/cache-metadata';
import { loggingFingerprint, mergeMetadataKeepingLogging } from '../common/metadata';
import { checkPrivacyMetadata } from '../logging/privacy/privacy-metadata';
import { PrivacyResolver } from '../logging/privacy/privacy-resolver';
import { GatewaySettings } from '../config/gateway-settings';
import { AppException } from '../errors';
import { LoggingEntryPolicy } from '../logging/logging-entry.policy';
import { keyOwner, maskMetadata } from '../logging/logging-entry';
import { TeamsService, type ChangeContext } from '../teams/teams.service';
import type { DeleteKeysDto, GeneratedKeyResponseDto, GenerateKeyDto, KeyInfoDto, KeyResponseDto, UpdateKeyDto } from './dto/key.dto';
import { expiryFromDuration } from './duration';
import { VirtualKey } from './key.entity';
import { TeamMember } from '../teams/team-member.entity';
import { digestsEqual, displayName, generateKey, hashKey } from './key-material';
import { ModelAccess } from './model-access';
import { limitSetOf, NO_LIMITS } from '../budgets/usage-limits';
import { isSomeTeamAdmin, managesTeam, type Principal } from './principal';
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

export interface KeyListQuery {
  team_id?: string;
  key_alias?: string;
  page: number;
  size: number;
  return_full_object: boolean;
}

export interface KeyListResponse {
  keys: (string | KeyResponseDto)[];
  total_count: number;
  current_page: number;
  total_pages: number;
}

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
    checkCacheMetadata(dto.metadata ?? {}, 'key', caller, null);
    await checkPrivacyMetadata(dto.metadata ?? {}, caller, null);
    // The token first: secrets in the key's logging entries are bound to its row.
    const key = generateKey();
    const token = hashKey(key);
    const metadata = await this.withCheckedLogging(dto.metadata ?? {}, caller, token);

    const row = await this.keys.manager.transaction(async (manager) => {
      const saved = await manager.save(
        manager.create(VirtualKey, {
          token,
          keyName: displayName(key),
          keyAlias: dto.key_alias ?? null,
          teamId,
          role: dto.role ?? null,
          metadata,
          models: dto.models ?? [],
          blocked: dto.blocked ?? false,
          expiresAt: expiryFromDuration(dto.duration),
        }),
      );
      if (metadata.logging !== undefined || metadata.logging_settings !== undefined) await this.auditLogging(context, saved, null, manager);
      return saved;
    });
    return { key, ...toKeyResponse(row) };
  }

  async update(dto: UpdateKeyDto, context: ChangeContext): Promise<KeyResponseDto> {
    const { caller } = context;
    const row = await this.requireManageableKey(caller, dto.key);
    if (dto.role !== undefined) this.assertRoleAllowed(dto.role, caller, row.teamId);
    if (dto.metadata !== undefined) {
      checkCacheMetadata(dto.metadata, 'key', caller, row.metadata);
      await checkPrivacyMetadata(dto.metadata, caller, row.metadata);
    }
    const incoming = dto.metadata === undefined ? undefined : await this.withCheckedLogging(dto.metadata, caller, row.token);
    const before = { metadata: maskMetadata(row.metadata) };
    const loggingBefore = loggingFingerprint(row.metadata);
    if (dto.key_alias !== undefined) row.keyAlias = dto.key_alias;
    if (incoming !== undefined) row.metadata = mergeMetadataKeepingLogging(row.metadata, incoming);
    if (dto.models !== undefined) row.models = dto.models;
    if (dto.blocked !== undefined) row.blocked = dto.blocked;
    if (dto.role !== undefined) row.role = dto.role;
    if (dto.duration !== undefined) row.expiresAt = expiryFromDuration(dto.duration);
    const saved = await this.keys.manager.transaction(async (manager) => {
      const result = await manager.save(row);
      if (loggingFingerprint(result.metadata) !== loggingBefore) await this.auditLogging(context, result, before, manager);
      return result;
    });
    this.cache.invalidateKey(saved.token);
    return toKeyResponse(saved);
  }

  /** `metadata.logging` of a key passes the same checks as a team callback. */
  private async withCheckedLogging(metadata: Record<string, unknown>, caller: Principal, token: string): Promise<Record<string, unknown>> {
    if (!Object.prototype.hasOwnProperty.call(metadata, 'logging') || metadata.logging === null) return metadata;
    return { ...metadata, logging: await this.loggingPolicy.prepareList(metadata.logging, caller, keyOwner(token), 'metadata.logging') };
  }

  private auditLogging(context: ChangeContext, row: VirtualKey, before: Record<string, unknown> | null, manager: EntityManager): Promise<void> {
    return this.audit.record(
      {
        ...context,
        action: 'key_logging_updated',
        tableName: 'virtual_keys',
        objectId: row.keyName,
        teamId: row.teamId,
        before,
        after: { metadata: maskMetadata(row.metadata) },
      },
      manager,
    );
  }

  /** Without `key`: the caller's own key. With it: admins any key, team admins their team's, others only themselves. */
  /** With the privacy switches in force for the key, each with the level it comes from. */
  async info(caller: Principal, keyOrToken: string | undefined): Promise<{ key: string; info: KeyInfoDto }> {
    let row: VirtualKey;
    if (keyOrToken === undefined || keyOrToken === '') {
      if (caller.keyHash === null) {
        throw new AppException('validation_failed', 'The master key has no key info: pass ?key=', { param: 'key' });
      }
      row = await this.findOrFail(caller.keyHash);
    } else if (isSomeTeamAdmin(caller)) {
      row = await this.requireManageableKey(caller, keyOrToken);
    } else {
      if (toToken(keyOrToken) !== caller.keyHash) throw new AppException('forbidden', 'You may only view your own key');
      row = await this.findOrFail(caller.keyHash);
    }
    const withTeam = await this.keys.findOne({ where: { token: row.token }, relations: { team: true } });
    return { key: row.token, info: { ...toKeyResponse(row), privacy: this.privacy.resolve(toPrincipal(withTeam ?? row)) } };
  }

  async list(caller: Principal, query: KeyListQuery): Promise<KeyListResponse> {
    let teamId = query.team_id;
    if (!caller.isProxyAdmin) {
      if (teamId !== undefined && teamId !== caller.teamId) throw new AppException('forbidden', 'You do not have access to this team');
      teamId = caller.teamId ?? undefined;
    }
    const [rows, total] = await this.keys.findAndCount({
      where: { ...(teamId !== undefined ? { teamId } : {}), ...(query.key_alias !== undefined ? { keyAlias: query.key_alias } : {}) },
      order: { createdAt: 'ASC', token: 'ASC' },
      skip: (query.page - 1) * query.size,
      take: query.size,
    });
    return {
      keys: rows.map((row) => (query.return_full_object ? toKeyResponse(row) : row.token)),
      total_count: total,
      current_page: query.page,
      total_pages: Math.ceil(total / query.size),
    };
  }

  async delete(dto: DeleteKeysDto, caller: Principal): Promise<{ deleted_keys: string[] }> {
    const rows: VirtualKey[] = [];
    for (const keyOrToken of dto.keys) rows.push(await this.requireManageableKey(caller, keyOrToken));
    await this.keys.delete(rows.map((row) => row.token));
    rows.forEach((row) => this.cache.invalidateKey(row.token));
    return { deleted_keys: dto.keys };
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

  /** Unknown keys and other teams' keys look the same to non-admins (403), so keys cannot be probed. */
  private async requireManageableKey(caller: Principal, keyOrToken: string): Promise<VirtualKey> {
    const row = await this.keys.findOneBy({ token: toToken(keyOrToken) });
    if (caller.isProxyAdmin) {
      if (!row) throw new AppException('not_found', 'Key not found', { param: 'key' });
      return row;
    }
    const manageable =
      row !== null && row.teamId !== null && managesTeam(caller, row.teamId) && row.role !== 'proxy_admin';
    if (!manageable) throw new AppException('forbidden', 'You do not have access to this key');
    return row;
  }

  private async findOrFail(token: string): Promise<VirtualKey> {
    const row = await this.keys.findOneBy({ token });
    if (!row) throw new AppException('not_found', 'Key not found', { param: 'key' });
    return row;
  }
}

/** Accepts the key itself or its token; anything else cannot match a row. */
function toToken(keyOrToken: string): string {
  return TOKEN_PATTERN.test(keyOrToken) ? keyOrToken : hashKey(keyOrToken);
}

function toPrincipal(row: VirtualKey, adminTeamIds: readonly string[] = []): Principal {
  const team = row.team ?? null;
  const user = row.user ?? null;
  return Object.freeze({
    kind: 'key',
    isProxyAdmin: row.role === 'proxy_admin',
    role: row.role,
    keyHash: row.token,
    keyAlias: row.keyAlias,
    teamId: row.teamId,
    teamAlias: team?.teamAlias ?? null,
    allowedModels: ModelAccess.of(row.models, team?.models ?? []),
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

export function toKeyResponse(row: VirtualKey): KeyResponseDto {
  return {
    token: row.token,
    key_name: row.keyName,
    key_alias: row.keyAlias,
    team_id: row.teamId,
    role: row.role,
    metadata: maskMetadata(row.metadata),
    models: row.models,
    blocked: row.blocked,
    expires: row.expiresAt ? row.expiresAt.toISOString() : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
