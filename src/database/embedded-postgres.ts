import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The default database: PGlite (Postgres compiled to WASM) behind a loopback socket, so TypeORM talks to
 * it with the same `pg` driver and the same migrations as a real PostgreSQL.
 *
 * PGlite serves one session: with two active client connections the socket server mixes up
 * extended-protocol state between them, so the pool must be exactly 1 (stack.md §3a). PGlite also takes no
 * lock on its data directory, so two processes could open it and lose each other's commits; we hold our
 * own lock file for as long as the database is open.
 */
export interface EmbeddedPostgres {
  readonly url: string;
  readonly dataDir: string | null;
  stop(): Promise<void>;
}

export class DataDirLockedError extends Error {}

export async function startEmbeddedPostgres(options: { dataDir: string | null }): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ? resolve(options.dataDir) : null;
  const releaseLock = dataDir ? acquireDataDirLock(dataDir) : () => undefined;
  try {
    // PGlite's CommonJS build loads its WASM through dynamic import(); keep it out of the module graph
    // until the embedded mode is actually used.
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const db = dataDir ? await PGlite.create(join(dataDir, 'pglite')) : await PGlite.create();
    // Headroom of 4 so a reconnect is never refused while an old socket is still closing.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
    await server.start();
    return {
      url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres`,
      dataDir,
      async stop() {
        await server.stop();
        await db.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/**
 * Takes `<dataDir>/gatehouse.lock` holding our PID. A lock left behind by a dead process (SIGKILL,
 * power loss) is taken over; a lock held by a live process refuses start-up.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = join(dataDir, 'gatehouse.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(lockPath, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new DataDirLockedError(
          `Another Gatehouse process (pid ${holder}) is already using the embedded database in ${dataDir}. ` +
            'Stop it first, point DATA_DIR at another directory, or share a real PostgreSQL via DATABASE_URL.',
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new DataDirLockedError(`Could not take the lock file ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
