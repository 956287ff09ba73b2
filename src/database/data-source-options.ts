import type { DataSourceOptions } from 'typeorm';
import { AuditLog } from '../audit/audit-log.entity';
import { VirtualKey } from '../keys/key.entity';
import { OutboxEvent } from '../logging/delivery/outbox-event.entity';
import { Team } from '../teams/team.entity';
import { InitialSchema1764200000000 } from './migrations/1764200000000-InitialSchema';
import { TeamLoggingAndAudit1764300000000 } from './migrations/1764300000000-TeamLoggingAndAudit';
import { LogOutbox1764400000000 } from './migrations/1764400000000-LogOutbox';
import { OutboxJsonColumns1764500000000 } from './migrations/1764500000000-OutboxJsonColumns';

export const ENTITIES = [Team, VirtualKey, AuditLog, OutboxEvent];
export const MIGRATIONS = [InitialSchema1764200000000, TeamLoggingAndAudit1764300000000, LogOutbox1764400000000, OutboxJsonColumns1764500000000];

/**
 * The one set of TypeORM options for the app, the tests and the migration CLI (`ormconfig.ts`).
 * Never `synchronize`: the schema only changes through reviewed migrations, on PGlite and PostgreSQL alike.
 */
export function dataSourceOptions(database: { url: string; poolSize: number }): DataSourceOptions {
  return {
    type: 'postgres',
    url: database.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTableName: 'gatehouse_migrations',
    synchronize: false,
    // gen_random_uuid() is built into PG 13+; PGlite has no uuid-ossp.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    poolSize: database.poolSize,
    // Fail instead of hanging when the single embedded connection is busy for too long.
    extra: { connectionTimeoutMillis: 10_000, idleTimeoutMillis: database.poolSize === 1 ? 0 : 30_000 },
  };
}
