import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { Principal } from '../keys/principal';
import { AuditLog } from './audit-log.entity';

export interface AuditEntry {
  caller: Principal;
  /** LiteLLM's `litellm-changed-by` header, when the caller acts for someone else. */
  changedBy?: string;
  action: string;
  /** `stored_secrets`: a change to every stored secret at once (re-encryption). */
  tableName: 'teams' | 'virtual_keys' | 'stored_secrets' | 'users' | 'team_members';
  objectId: string;
  teamId: string | null;
  /** Already masked by the caller (see `maskMetadata`). */
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface AuditLogResponse {
  id: string;
  updated_at: string;
  changed_by: string;
  action: string;
  table_name: string;
  object_id: string;
  team_id: string | null;
  before_value: unknown;
  updated_values: unknown;
}

@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditLog) private readonly rows: Repository<AuditLog>) {}

  /** Pass the transaction's manager so the audit row commits (or not) with the change it describes. */
  async record(entry: AuditEntry, manager: EntityManager = this.rows.manager): Promise<void> {
    const rows = manager.getRepository(AuditLog);
    await rows.save(
      rows.create({
      changedBy: (entry.changedBy?.slice(0, 256) || undefined) ?? describeCaller(entry.caller),
      action: entry.action,
      tableName: entry.tableName,
      objectId: entry.objectId,
      teamId: entry.teamId,
        beforeValue: entry.before,
        updatedValues: entry.after,
      }),
    );
  }

  async list(filter: { teamId?: string; limit: number }): Promise<AuditLogResponse[]> {
    const rows = await this.rows.find({
      where: filter.teamId !== undefined ? { teamId: filter.teamId } : {},
      order: { updatedAt: 'DESC' },
      take: filter.limit,
    });
    return rows.map((row) => ({
      id: row.id,
      updated_at: row.updatedAt.toISOString(),
      changed_by: row.changedBy,
      action: row.action,
      table_name: row.tableName,
      object_id: row.objectId,
      team_id: row.teamId,
      before_value: row.beforeValue,
      updated_values: row.updatedValues,
    }));
  }
}

/** Never the key itself: the alias, or the first 12 hex digits of its token. */
export function describeCaller(caller: Principal): string {
  if (caller.kind === 'master') return 'master_key';
  return `key:${caller.keyAlias ?? caller.keyHash?.slice(0, 12) ?? 'unknown'}`;
}
