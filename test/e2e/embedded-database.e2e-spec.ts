import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MAIN_JS, spawnGateway, type GatewayProcess } from '../support/gateway-process';

/**
 * The embedded database is reachable only by the gateway (issue 23): PGlite accepts any user without a password,
 * so it listens on a Unix socket in a directory only the gateway's uid may enter, never on a TCP port.
 */
const MASTER_KEY = 'sk-embedded-socket-test-0123456789abcdefghijklmnop';
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** TCP ports a process listens on: its socket inodes (/proc/PID/fd) matched against /proc/net/tcp{,6} in LISTEN. */
function listeningTcpPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed between readdir and readlink
    }
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, inode is the 10th field.
      if (fields.length > 9 && fields[3] === '0A' && inodes.has(fields[9])) ports.add(Number.parseInt(fields[1].split(':')[1], 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** `node -e` as another uid: connects to a Unix socket and prints `connected` or the error code. */
function connectAs(uid: number, socketPath: string): Promise<string> {
  const script = `require('node:net').connect(${JSON.stringify(socketPath)})
    .on('connect', function () { console.log('connected'); this.destroy(); })
    .on('error', (error) => console.log(error.code));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { uid, gid: uid, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(output.trim()));
  });
}

describe('the embedded database is reachable only by the gateway', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-socket-'));
  const running: GatewayProcess[] = [];

  async function start(dataDir: string): Promise<GatewayProcess> {
    const gateway = await spawnGateway({ env: { DATA_DIR: dataDir, MASTER_KEY } });
    running.push(gateway);
    await gateway.waitForReady(90_000);
    return gateway;
  }

  afterAll(() => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  });

  it('opens no TCP port (only the HTTP one); the socket is 0600 in the 0700 data directory; other uids get EACCES', async () => {
    const dataDir = join(workDir, 'data');
    const gateway = await start(dataDir);
    expect(listeningTcpPorts(gateway.child.pid as number)).toEqual([gateway.port]);

    const socketPath = join(dataDir, '.s.PGSQL.5432');
    expect(statSync(socketPath).isSocket()).toBe(true);
    expect(mode(socketPath)).toBe('600');
    expect(mode(dataDir)).toBe('700');

    if (isRoot) {
      // Control: the other uid can run node and reach a socket it is allowed to, so the EACCES below is the permissions'.
      const openDir = mkdtempSync(join(workDir, 'open-'));
      chmodSync(workDir, 0o755);
      chmodSync(openDir, 0o777);
      const openPath = join(openDir, 'open.sock');
      const server: Server = createServer((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.listen(openPath, resolve));
      chmodSync(openPath, 0o777);
      try {
        expect(await connectAs(NOBODY, openPath)).toBe('connected');
        expect(await connectAs(NOBODY, socketPath)).toBe('EACCES');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }

    // The gateway itself works over the socket.
    const generated = await fetch(`${gateway.baseUrl}/key/generate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${MASTER_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ key_alias: 'over-the-socket' }),
    });
    expect(generated.status).toBe(200);

    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit()).toBe(0);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('after a SIGKILL the stale socket file is replaced on the next start (the lock says it is ours)', async () => {
    const dataDir = join(workDir, 'killed');
    const first = await start(dataDir);
    first.kill('SIGKILL');
    await first.waitForExit();
    expect(existsSync(join(dataDir, '.s.PGSQL.5432'))).toBe(true);

    const second = await start(dataDir);
    const listed = await fetch(`${second.baseUrl}/key/list`, { headers: { Authorization: `Bearer ${MASTER_KEY}` } });
    expect(listed.status).toBe(200);
    second.kill('SIGTERM');
    expect(await second.waitForExit()).toBe(0);
  });

  it('an in-memory database (no data directory) gets a private 0700 directory of its own, removed on stop', async () => {
    const embeddedJs = join(dirname(MAIN_JS), 'database', 'embedded-postgres.js');
    const script = `
      const { statSync, existsSync } = require('node:fs');
      const { dirname } = require('node:path');
      require(${JSON.stringify(embeddedJs)}).startEmbeddedPostgres({ dataDir: null }).then(async (db) => {
        const dir = dirname(db.socketPath);
        const report = { url: db.url, dir, dirMode: (statSync(dir).mode & 0o777).toString(8), socketMode: (statSync(db.socketPath).mode & 0o777).toString(8) };
        await db.stop();
        console.log(JSON.stringify({ ...report, existsAfterStop: existsSync(dir) }));
      });`;
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('error', reject);
      child.on('exit', () => resolve(text));
    });
    const report = JSON.parse(output) as { url: string; dir: string; dirMode: string; socketMode: string; existsAfterStop: boolean };
    expect(report).toMatchObject({ dirMode: '700', socketMode: '600', existsAfterStop: false });
    expect(new URL(report.url).searchParams.get('host')).toBe(report.dir);
  });
});
