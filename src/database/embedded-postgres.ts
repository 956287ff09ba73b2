import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

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

/**
 * The worker's code, evaluated as CommonJS (so one source serves ts-jest and the built app); the packages
 * are passed as resolved paths because an evaluated worker resolves modules from the working directory.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { join } = require('node:path');
const { PGlite } = require(workerData.pglite);
const { PGLiteSocketServer } = require(workerData.socket);
(async () => {
  const db = workerData.dataDir ? await PGlite.create(join(workerData.dataDir, 'pglite')) : await PGlite.create();
  // Headroom of 4 so a reconnect is never refused while an old socket is still closing.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 4 });
  await server.start();
  parentPort.on('message', (message) => {
    if (message !== 'stop') return;
    (async () => {
      await server.stop();
      await db.close();
    })().then(
      () => parentPort.postMessage({ stopped: true }),
      (error) => parentPort.postMessage({ stopped: true, error: String((error && error.stack) || error) }),
    );
  });
  parentPort.postMessage({ url: 'postgresql://postgres:postgres@' + server.getServerConn() + '/postgres' });
})().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;

type WorkerMessage = { url?: string; stopped?: boolean; error?: string };

export async function startEmbeddedPostgres(options: { dataDir: string | null }): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ? resolve(options.dataDir) : null;
  const releaseLock = dataDir ? acquireDataDirLock(dataDir) : () => undefined;
  let worker: Worker | null = null;
  try {
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      name: 'gatehouse-pglite',
      workerData: { dataDir, pglite: require.resolve('@electric-sql/pglite'), socket: require.resolve('@electric-sql/pglite-socket') },
    });
    const started = await nextMessage(worker);
    if (started.url === undefined) throw new Error(`the embedded database did not start: ${started.error ?? 'no address'}`);
    const running = worker;
    let stopping: Promise<void> | null = null;
    return {
      url: started.url,
      dataDir,
      stop() {
        stopping ??= (async () => {
          try {
            running.postMessage('stop');
            const stopped = await nextMessage(running);
            if (stopped.error) throw new Error(`the embedded database did not close cleanly: ${stopped.error}`);
          } finally {
            await running.terminate();
            releaseLock();
          }
        })();
        return stopping;
      },
    };
  } catch (error) {
    await worker?.terminate();
    releaseLock();
    throw error;
  }
}

/** The worker's next message; its crash or exit before answering is an error. */
function nextMessage(worker: Worker): Promise<WorkerMessage> {
  return new Promise((resolvePromise, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: WorkerMessage) => {
      cleanup();
      resolvePromise(message);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`the embedded database's worker exited (code ${code})`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
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
