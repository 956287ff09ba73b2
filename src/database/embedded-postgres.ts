import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The default database: PGlite (Postgres compiled to WASM) behind a Unix socket, so TypeORM talks to it with
 * the same `pg` driver and the same migrations as a real PostgreSQL.
 *
 * PGlite accepts any user without a password, so whoever can connect owns the data. The socket is therefore
 * the access control: it lives in a directory only our uid may enter (0700: the data directory itself, or a
 * private temporary directory for an in-memory database) and is itself 0600. No TCP port is opened, so other
 * local users and processes running under other uids cannot reach it; a process of our own uid could read the
 * data files anyway.
 *
 * PGlite serves one session: with two active client connections the socket server mixes up
 * extended-protocol state between them, so the pool must be exactly 1 (stack.md §3a). PGlite also takes no
 * lock on its data directory, so two processes could open it and lose each other's commits; we hold our
 * own lock file for as long as the database is open.
 */
export interface EmbeddedPostgres {
  /** `postgresql://postgres@localhost:5432/postgres?host=<socket directory>`: `pg` connects to `<dir>/.s.PGSQL.5432`. */
  readonly url: string;
  readonly dataDir: string | null;
  /** The Unix socket's path. */
  readonly socketPath: string;
  stop(): Promise<void>;
}

/** PostgreSQL's socket file name for a port; the port is only a name here, nothing listens on it. */
const SOCKET_PORT = 5432;
const SOCKET_NAME = `.s.PGSQL.${SOCKET_PORT}`;
/** sun_path holds 108 bytes on Linux (104 on macOS), terminator included. */
const MAX_SOCKET_PATH_BYTES = 103;

/** The data directory cannot be used: a problem for the operator, reported without a stack trace. */
export class DataDirError extends Error {}
export class DataDirLockedError extends DataDirError {}

/**
 * The worker's code, evaluated as CommonJS (so one source serves ts-jest and the built app); the packages
 * are passed as resolved paths because an evaluated worker resolves modules from the working directory.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { join } = require('node:path');
const { PGlite } = require(workerData.pglite);
const { PGLiteSocketServer } = require(workerData.socket);
const { chmodSync, rmSync } = require('node:fs');
(async () => {
  const db = workerData.dataDir ? await PGlite.create(join(workerData.dataDir, 'pglite')) : await PGlite.create();
  // A socket file left by a process that died: ours to remove, since we hold the data directory's lock.
  rmSync(workerData.socketPath, { force: true });
  // Headroom of 4 so a reconnect is never refused while an old socket is still closing.
  const server = new PGLiteSocketServer({ db, path: workerData.socketPath, maxConnections: 4 });
  await server.start();
  // The directory (0700) already keeps other uids out; 0600 on the file keeps it so if the directory is ever widened.
  chmodSync(workerData.socketPath, 0o600);
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
  parentPort.postMessage({ listening: true });
})().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;

type WorkerMessage = { listening?: boolean; stopped?: boolean; error?: string };

export async function startEmbeddedPostgres(options: { dataDir: string | null }): Promise<EmbeddedPostgres> {
  const dataDir = options.dataDir ? resolve(options.dataDir) : null;
  const releaseLock = dataDir ? acquireDataDirLock(dataDir) : () => undefined;
  let socketDir: SocketDirectory | null = null;
  let worker: Worker | null = null;
  try {
    socketDir = privateSocketDirectory(dataDir);
    const socketPath = join(socketDir.path, SOCKET_NAME);
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      name: 'gatehouse-pglite',
      workerData: { dataDir, socketPath, pglite: require.resolve('@electric-sql/pglite'), socket: require.resolve('@electric-sql/pglite-socket') },
    });
    const started = await nextMessage(worker);
    if (!started.listening) throw new Error(`the embedded database did not start: ${started.error ?? 'no socket'}`);
    const running = worker;
    const { remove: removeSocketDir } = socketDir;
    let stopping: Promise<void> | null = null;
    return {
      url: `postgresql://postgres@localhost:${SOCKET_PORT}/postgres?host=${encodeURIComponent(socketDir.path)}`,
      dataDir,
      socketPath,
      stop() {
        stopping ??= (async () => {
          try {
            running.postMessage('stop');
            const stopped = await nextMessage(running);
            if (stopped.error) throw new Error(`the embedded database did not close cleanly: ${stopped.error}`);
          } finally {
            await running.terminate();
            removeSocketDir();
            releaseLock();
          }
        })();
        return stopping;
      },
    };
  } catch (error) {
    await worker?.terminate();
    socketDir?.remove();
    releaseLock();
    throw error;
  }
}

/**
 * Where the socket goes: the data directory (made 0700: it holds the database files, and PostgreSQL insists on
 * the same), else — in-memory database, or a data directory whose path is too long for a socket address — a
 * fresh private directory under the system's temporary directory (mkdtemp creates it 0700), removed on stop.
 */
interface SocketDirectory {
  readonly path: string;
  readonly remove: () => void;
}

function privateSocketDirectory(dataDir: string | null): SocketDirectory {
  if (dataDir !== null) {
    try {
      chmodSync(dataDir, 0o700);
    } catch (error) {
      throw unusableDataDir(dataDir, 'make private (chmod 0700)', error);
    }
    if (Buffer.byteLength(join(dataDir, SOCKET_NAME)) <= MAX_SOCKET_PATH_BYTES) {
      return { path: dataDir, remove: () => rmSync(join(dataDir, SOCKET_NAME), { force: true }) };
    }
  }
  const path = mkdtempSync(join(tmpdir(), 'gatehouse-pglite-'));
  chmodSync(path, 0o700);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
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
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unusableDataDir(dataDir, 'create', error);
  }
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
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unusableDataDir(dataDir, 'write the lock file in', error);
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

function unusableDataDir(dataDir: string, action: string, error: unknown): DataDirError {
  const reason = (error as NodeJS.ErrnoException | null)?.code ?? String(error);
  return new DataDirError(
    `Cannot ${action} the data directory ${dataDir} (${reason}). It holds the embedded database's files, lock and socket: ` +
      'run the gateway as its owner, or point DATA_DIR at a directory of its own.',
  );
}
