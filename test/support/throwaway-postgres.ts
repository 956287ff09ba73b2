import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './gateway-process';

/**
 * A PostgreSQL cluster of its own for tests that stop and restart the database server: `initdb` into a
 * temporary directory, `pg_ctl start` on a free loopback port with its socket in that directory. It never
 * touches another cluster (the machine's or CI's shared server). Run as root, the server commands run as the
 * `postgres` OS user (initdb refuses root); otherwise as the current user.
 */
export interface ThrowawayPostgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication on loopback). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** `pg_ctl stop -m fast`: sessions are terminated, the server is down until `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`. */
  restart(): Promise<void>;
  /** The server's own log (for failure messages). */
  log(): string;
  /** Stops the server (immediately) and deletes every file. */
  destroy(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: PG_BIN_DIR, else `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBinDir(): string | null {
  const candidates: string[] = [];
  if (process.env.PG_BIN_DIR) candidates.push(process.env.PG_BIN_DIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config on PATH
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(root, version, 'bin')));
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ?? null;
}

function run(command: string, args: readonly string[], asUser: string | null, timeoutMs = 120_000): Promise<string> {
  const [file, argv] = asUser ? ['runuser', ['-u', asUser, '--', command, ...args]] : [command, [...args]];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

export async function startThrowawayPostgres(options: { binDir?: string } = {}): Promise<ThrowawayPostgres> {
  const binDir = options.binDir ?? postgresBinDir();
  if (!binDir) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found: set PG_BIN_DIR');
  const asUser = process.getuid?.() === 0 ? 'postgres' : null;
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-throwaway-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'socket');
  const logFile = join(root, 'postgres.log');
  mkdirSync(socketDir);
  if (asUser) {
    const uid = Number(execFileSync('id', ['-u', asUser], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', asUser], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  const port = await freePort();
  const pgCtl = join(binDir, 'pg_ctl');
  const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -k ${socketDir} -c fsync=off -c max_connections=100`;

  let running = false;
  const start = async (): Promise<void> => {
    await run(pgCtl, ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', '-t', '60', 'start'], asUser);
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast'): Promise<void> => {
    await run(pgCtl, ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop'], asUser);
    running = false;
  };

  try {
    await run(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], asUser);
    await start();
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }

  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => stop('fast'),
    start,
    restart: async () => {
      await run(pgCtl, ['-D', dataDir, '-l', logFile, '-o', serverOptions, '-m', 'fast', '-w', '-t', '60', 'restart'], asUser);
      running = true;
    },
    log,
    destroy: async () => {
      if (running) await stop('immediate').catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
