import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { MAIN_JS } from '../gateway-process';

/**
 * The database of a gateway child process, and a way to look into it between runs:
 * - suite on PGlite: a temporary DATA_DIR (the embedded database, as `npm start` uses it); SQL goes through a
 *   helper process that opens the data directory with the built `embedded-postgres.js` (PGlite cannot be
 *   loaded inside Jest's VM), so it must run while no gateway holds the directory;
 * - suite on PostgreSQL: a dedicated database created on the suite's server, so the spec never touches the
 *   shared test database's tables.
 */
export interface ProcessDatabase {
  readonly kind: 'pglite' | 'postgres';
  /** Environment for `spawnGateway`: DATA_DIR or DATABASE_URL, the other one unset. */
  readonly env: Record<string, string | undefined>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  destroy(): Promise<void>;
}

const EMBEDDED_JS = join(dirname(MAIN_JS), 'database', 'embedded-postgres.js');

export async function processDatabase(label: string): Promise<ProcessDatabase> {
  return process.env.TEST_DATABASE_KIND === 'postgres' ? dedicatedPostgres(label) : embeddedDataDir(label);
}

async function dedicatedPostgres(label: string): Promise<ProcessDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is not set');
  const name = `gatehouse_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    kind: 'postgres',
    env: { DATABASE_URL: databaseUrl, DATA_DIR: undefined },
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
    async destroy(): Promise<void> {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

function embeddedDataDir(label: string): Promise<ProcessDatabase> {
  const root = mkdtempSync(join(tmpdir(), `gatehouse-${label}-`));
  const dataDir = join(root, 'data');
  return Promise.resolve({
    kind: 'pglite',
    env: { DATA_DIR: dataDir, DATABASE_URL: undefined },
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const embedded = await openEmbedded(dataDir);
      try {
        const client = new Client({ connectionString: embedded.url });
        await client.connect();
        try {
          return (await client.query(sql, params)).rows as T[];
        } finally {
          await client.end();
        }
      } finally {
        await embedded.close();
      }
    },
    destroy(): Promise<void> {
      return rm(root, { recursive: true, force: true });
    },
  });
}

/** Opens a PGlite data directory in a helper process (taking its lock) and serves it on a loopback socket. */
async function openEmbedded(dataDir: string): Promise<{ url: string; close(): Promise<void> }> {
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(EMBEDDED_JS)});
    startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} }).then(
      (db) => {
        process.stdout.write(JSON.stringify({ url: db.url }) + '\\n');
        process.once('SIGTERM', () => db.stop().then(() => process.exit(0), () => process.exit(1)));
      },
      (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); },
    );`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the PGlite helper did not start: ${stderr}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the PGlite helper exited (${code}): ${stderr}`));
    });
  });
  return {
    url,
    async close(): Promise<void> {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`the PGlite helper exited with ${code}: ${stderr}`);
    },
  };
}
