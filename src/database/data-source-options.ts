import { DataSource, type DataSourceOptions, type MigrationInterface } from 'typeorm';
import type { SecretBox } from '../common/secret-box';
import { AuditLog } from '../audit/audit-log.entity';
import { VirtualKey } from '../keys/key.entity';
import { OutboxEvent } from '../logging/delivery/outbox-event.entity';
import { Team } from '../teams/team.entity';
import { InitialSchema1764200000000 } from './migrations/1764200000000-InitialSchema';
import { TeamLoggingAndAudit1764300000000 } from './migrations/1764300000000-TeamLoggingAndAudit';
import { LogOutbox1764400000000 } from './migrations/1764400000000-LogOutbox';
import { OutboxJsonColumns1764500000000 } from './migrations/1764500000000-OutboxJsonColumns';
import { BindSecretsToOwners1764600000000 } from './migrations/1764600000000-BindSecretsToOwners';
import { ResponseOwners1764700000000 } from './migrations/1764700000000-ResponseOwners';
import { UsersBudgetsAndLimits1764800000000 } from './migrations/1764800000000-UsersBudgetsAndLimits';
import { TeamMemberLimits1764900000000 } from './migrations/1764900000000-TeamMemberLimits';
import { ModelBudgetPeriods1764910000000 } from './migrations/1764910000000-ModelBudgetPeriods';
import { ResponseOwnerRow } from '../completions/responses-api/response-owner.entity';
import { EndUser } from '../budgets/end-user.entity';
import { TeamMember } from '../teams/team-member.entity';
import { User } from '../users/user.entity';

export const ENTITIES = [Team, VirtualKey, AuditLog, OutboxEvent, ResponseOwnerRow, User, TeamMember, EndUser];

/** The migrations, in order; `secrets` is the key material the data migrations re-encrypt stored secrets with. */
export function migrations(secrets: SecretBox | null): (new () => MigrationInterface)[] {
  return [
    InitialSchema1764200000000,
    TeamLoggingAndAudit1764300000000,
    LogOutbox1764400000000,
    OutboxJsonColumns1764500000000,
    BindSecretsToOwners1764600000000.withSecrets(secrets),
    ResponseOwners1764700000000,
    UsersBudgetsAndLimits1764800000000,
    TeamMemberLimits1764900000000,
    ModelBudgetPeriods1764910000000,
  ];
}

/**
 * The one set of TypeORM options for the app, the tests and the migration CLI (`ormconfig.ts`).
 * Never `synchronize`: the schema only changes through reviewed migrations, on PGlite and PostgreSQL alike.
 * Without `secrets` a migration that meets a stored secret stops with an error naming the variables to set.
 */
export function dataSourceOptions(database: { url: string; poolSize: number; secrets?: SecretBox | null; applicationName?: string }): DataSourceOptions {
  return {
    type: 'postgres',
    url: database.url,
    entities: ENTITIES,
    migrations: migrations(database.secrets ?? null),
    // Run by `openDataSource` under a lock, not by `initialize()`.
    migrationsRun: false,
    migrationsTableName: 'gatehouse_migrations',
    synchronize: false,
    // gen_random_uuid() is built into PG 13+; PGlite has no uuid-ossp.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    poolSize: database.poolSize,
    // Names the connections in pg_stat_activity (README, "Connections"); a URL's own application_name wins.
    applicationName: database.applicationName ?? APPLICATION_NAME,
    // Fail instead of hanging when the single embedded connection is busy for too long.
    extra: { connectionTimeoutMillis: 10_000, idleTimeoutMillis: database.poolSize === 1 ? 0 : 30_000 },
  };
}

/** What `pg_stat_activity.application_name` shows for the request loop's pool; the other connections add a suffix. */
export const APPLICATION_NAME = 'gatehouse';

/** Any fixed number: every Gatehouse instance on one database takes the same advisory lock to migrate. */
const MIGRATION_LOCK_ID = 0x6761_7465;

/**
 * Connects and brings the schema up to date. Several instances starting at once on an empty PostgreSQL would otherwise
 * run the migrations concurrently: PostgreSQL refuses the second `CREATE TABLE` of the migrations table with a unique
 * violation on `pg_type`, and that instance only comes up after TypeORM's retry. A session-level advisory lock lets one
 * instance migrate while the others wait, then find nothing left to do. The embedded database has a single connection
 * and a single process (its data directory is locked), so it needs no lock.
 */
export async function openDataSource(options: DataSourceOptions, { embedded }: { embedded: boolean }): Promise<DataSource> {
  const dataSource = await new DataSource(options).initialize();
  try {
    if (embedded) {
      await dataSource.runMigrations({ transaction: 'all' });
      return dataSource;
    }
    const lock = dataSource.createQueryRunner();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
      await dataSource.runMigrations({ transaction: 'all' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
      await lock.release();
    }
    return dataSource;
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}
