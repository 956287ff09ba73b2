import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';

/**
 * The gateway as `npm start` runs it: its own process, the embedded database in a data directory,
 * configuration from a file. Covers what only a real process shows: refusing to start, the data-dir
 * lock, graceful shutdown with a request in flight, and data surviving a restart.
 */
describe('start-up, configuration and shutdown of the real process', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-startup-'));
  const dataDir = join(workDir, 'data');
  const strongKey = 'sk-startup-test-0123456789-abcdefghijklmnopqrstuvwxyz';
  const running: GatewayProcess[] = [];

  function writeConfig(name: string, text: string): string {
    const path = join(workDir, name);
    writeFileSync(path, text);
    return path;
  }

  async function start(env: Record<string, string | undefined>, args: string[] = []): Promise<GatewayProcess> {
    const gateway = await spawnGateway({ env: { DATA_DIR: dataDir, ...env }, args });
    running.push(gateway);
    return gateway;
  }

  afterAll(() => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  });

  it('stops on a config typo, naming the path and line (LiteLLM ignored it)', async () => {
    const config = writeConfig('typo.yaml', 'model_list: []\nlitellm_settings:\n  success_callbacks: ["langfuse"]\n');
    const gateway = await start({ MASTER_KEY: strongKey }, ['--config', config]);
    expect(await gateway.waitForExit()).toBe(1);
    expect(gateway.output()).toMatch(/typo\.yaml:3\s+litellm_settings\.success_callbacks/);
    expect(gateway.output()).toContain('success_callback');
  });

  it('stops on a default_team_settings entry without team_id, naming the entry', async () => {
    const config = writeConfig(
      'no-team-id.yaml',
      'litellm_settings:\n  default_team_settings:\n    - team_id: a\n      success_callback: ["langfuse"]\n    - success_callback: ["langfuse"]\n',
    );
    const gateway = await start({ MASTER_KEY: strongKey, CONFIG_FILE: config });
    expect(await gateway.waitForExit()).toBe(1);
    expect(gateway.output()).toContain('litellm_settings.default_team_settings[1].team_id');
  });

  it('refuses to start without a master key', async () => {
    const config = writeConfig('no-master.yaml', 'model_list: []\n');
    const gateway = await start({ CONFIG_FILE: config });
    expect(await gateway.waitForExit()).toBe(1);
    expect(gateway.output()).toContain('No master key');
  });

  it('boots on the embedded database, refuses a second process on the same data dir, shuts down gracefully mid-request and keeps its data', async () => {
    const config = writeConfig(
      'ok.yaml',
      'model_list: []\nfancy_future_section: {}\ngeneral_settings:\n  master_key: sk-1234  # the seed’s example key\nlitellm_settings:\n  default_team_settings:\n    - team_id: config-team\n',
    );
    // No HOST, as `npm start` runs on a fresh machine.
    const first = await start({ CONFIG_FILE: config, HOST: undefined }, []);
    await first.waitForReady(90_000);
    // Unknown top-level keys are a warning; the well-known example key is announced but never printed.
    expect(first.output()).toContain('fancy_future_section');
    expect(first.output()).toContain('INSECURE MASTER KEY');
    expect(first.output()).not.toContain('sk-1234');
    // ...and it keeps the gateway on loopback: the socket the kernel holds is bound to 127.0.0.1, not 0.0.0.0.
    expect(first.output()).toContain('Listening on 127.0.0.1 only');
    expect(listeningAddresses(first.port)).toEqual(['127.0.0.1']);

    const second = await start({ CONFIG_FILE: config });
    expect(await second.waitForExit()).toBe(1);
    expect(second.output()).toMatch(/Another Gatehouse process \(pid \d+\) is already using the embedded database/);

    // The config team exists, so the seed's /key/generate works as written.
    const generated = await fetch(`${first.baseUrl}/key/generate`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk-1234', 'Content-Type': 'application/json' },
      body: JSON.stringify({ team_id: 'config-team' }),
    });
    expect(generated.status).toBe(200);
    const { key } = (await generated.json()) as { key: string };
    expect(first.output()).not.toContain(key);

    // A request in flight when SIGTERM arrives still gets its answer.
    const body = JSON.stringify({ team_id: 'created-during-shutdown' });
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${first.baseUrl}/team/new`,
        { method: 'POST', headers: { Authorization: 'Bearer sk-1234', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 5));
      setTimeout(() => {
        first.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(5)), 300);
      }, 300);
    });
    expect(await inFlight).toBe(200);
    expect(await first.waitForExit()).toBe(0);
    expect(first.output()).toContain('shutdown complete');
    expect(existsSync(join(dataDir, 'gatehouse.lock'))).toBe(false);

    // Restart on the same data dir: the team made during shutdown and the key are still there.
    const third = await start({ CONFIG_FILE: config });
    await third.waitForReady(60_000);
    const info = await fetch(`${third.baseUrl}/team/info?team_id=created-during-shutdown`, { headers: { Authorization: 'Bearer sk-1234' } });
    expect(info.status).toBe(200);
    const keyInfo = await fetch(`${third.baseUrl}/key/info`, { headers: { Authorization: `Bearer ${key}` } });
    expect(keyInfo.status).toBe(200);
    third.kill('SIGINT');
    expect(await third.waitForExit()).toBe(0);
  });

  it('refuses a data directory it cannot use with a plain message, not a stack trace', async () => {
    const config = writeConfig('unusable-dir.yaml', 'model_list: []\n');
    // A directory under a regular file cannot exist, whoever asks (root included).
    const dataUnderFile = join(writeConfig('not-a-directory', ''), 'data');
    const gateway = await spawnGateway({ env: { DATA_DIR: dataUnderFile, CONFIG_FILE: config, MASTER_KEY: strongKey } });
    running.push(gateway);
    expect(await gateway.waitForExit()).toBe(1);
    expect(gateway.output()).toContain(`Cannot create the data directory ${dataUnderFile} (ENOTDIR)`);
    expect(gateway.output()).not.toMatch(/\n\s+at /);
  });

  it('takes over a lock left by a process that died (SIGKILL)', async () => {
    writeFileSync(join(dataDir, 'gatehouse.lock'), '999999');
    const config = writeConfig('ok2.yaml', 'model_list: []\n');
    const gateway = await start({ CONFIG_FILE: config, MASTER_KEY: strongKey });
    await gateway.waitForReady(60_000);
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit()).toBe(0);
  });
});

/** The local addresses of IPv4 and IPv6 sockets listening on `port`, read from the kernel's own tables. */
function listeningAddresses(port: number): string[] {
  const LISTEN = '0A';
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== LISTEN) continue;
      const [hexAddress, hexPort] = local.split(':');
      if (Number.parseInt(hexPort, 16) !== port) continue;
      found.push(hexAddress.length === 8 ? decodeIpv4(hexAddress) : hexAddress);
    }
  }
  return found;
}

/** /proc/net/tcp writes an IPv4 address as one little-endian 32-bit hex word. */
function decodeIpv4(hex: string): string {
  return [6, 4, 2, 0].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)).join('.');
}
