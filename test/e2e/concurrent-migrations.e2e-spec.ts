import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { dataSourceOptions, migrations, openDataSource } from '../../src/database/data-source-options';

/**
 * Instances started together on an empty PostgreSQL (compose, a Kubernetes rollout) migrate one at a time: without
 * the lock, PostgreSQL refuses the second instance's `CREATE TABLE` of the migrations table. Runs against the
 * machine's PostgreSQL (the server of DATABASE_URL when set), in a database of its own.
 */
const serverUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

describe('migrations with several instances starting at once', () => {
  const database = `gatehouse_migrate_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: new URL('/postgres', serverUrl).toString() });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('four instances on an empty database all start, and every migration runs once', async () => {
    const url = new URL(`/${database}`, serverUrl).toString();
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => openDataSource(dataSourceOptions({ url, poolSize: 2 }), { embedded: false })),
    );
    const opened = results.filter((result): result is PromiseFulfilledResult<DataSource> => result.status === 'fulfilled').map((result) => result.value);
    try {
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      const rows = await opened[0].query<{ name: string }[]>('SELECT name FROM gatehouse_migrations ORDER BY id');
      const names = rows.map((row) => row.name);
      expect(names).toHaveLength(migrations(null).length);
      expect(new Set(names).size).toBe(names.length);
    } finally {
      await Promise.all(opened.map((dataSource) => dataSource.destroy()));
    }
  });
});
