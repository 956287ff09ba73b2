import { readFileSync } from 'node:fs';
import { MAIN_JS, spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { tempDir } from '../support/logging/fixtures';

/**
 * Issue 29, "Memory": the started gateway runs with V8's young generation capped — the main isolate re-executed
 * once with `--max-semi-space-size=16` (same pid: what /proc shows is what V8 was started with), the delivery thread
 * with `resourceLimits.maxYoungGenerationSizeMb` 48 — and an operator's own setting (NODE_OPTIONS, node's command
 * line) wins for both.
 */
const MASTER_KEY = 'sk-heap-flags-test-0123456789abcdefghijklmnopqrstuv';

interface YoungGenerationLine {
  node_flags: string[];
  semi_space_mb: number | null;
  semi_space_source: string;
}

describe('V8 young generation of the started gateway', () => {
  const dir = tempDir('gatehouse-heap-flags-');
  const config = dir.write('config.yaml', 'model_list: []\n');
  const running: GatewayProcess[] = [];

  async function start(name: string, options: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<GatewayProcess> {
    const gateway = await spawnGateway({
      env: { MASTER_KEY, CONFIG_FILE: config, DATA_DIR: `${dir.path}/${name}`, DATABASE_URL: undefined, LOG_LEVEL: 'debug', LOG_FORMAT: 'json', ...options.env },
      command: [process.execPath, ...(options.nodeArgs ?? []), MAIN_JS],
    });
    running.push(gateway);
    await gateway.waitForReady(90_000);
    await gateway.waitForOutput(/delivery thread ready/, 30_000);
    return gateway;
  }

  /** The arguments the kernel shows for the child's pid: after an execve, the new ones. */
  const commandLine = (gateway: GatewayProcess): string[] => readFileSync(`/proc/${gateway.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

  function youngGenerationLine(gateway: GatewayProcess): YoungGenerationLine {
    const line = gateway
      .output()
      .split('\n')
      .find((text) => text.includes('"msg":"V8 young generation'));
    if (!line) throw new Error(`no "V8 young generation" line:\n${gateway.output()}`);
    return JSON.parse(line) as YoungGenerationLine;
  }

  const deliveryThreadYoungGeneration = (gateway: GatewayProcess): number | null => {
    const match = /delivery thread ready; its V8 young generation grows to (\d+) MB/.exec(gateway.output());
    return match ? Number(match[1]) : null;
  };

  async function stop(gateway: GatewayProcess): Promise<void> {
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit(30_000)).toBe(0);
  }

  afterAll(() => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    dir.cleanup();
  });

  it('by default: 16 MB semi-spaces on the main isolate (re-executed once, same pid) and a 48 MB young generation on the delivery thread', async () => {
    const gateway = await start('default');
    const args = commandLine(gateway);
    expect(args.filter((arg) => arg.startsWith('--max-semi-space-size'))).toEqual(['--max-semi-space-size=16']);
    expect(args[args.length - 1]).toBe(MAIN_JS);
    expect(youngGenerationLine(gateway)).toMatchObject({ node_flags: ['--max-semi-space-size=16'], semi_space_mb: 16, semi_space_source: 'gatehouse' });
    expect(deliveryThreadYoungGeneration(gateway)).toBe(48);
    // Re-executed once, not in a loop: one start-up, one listening line.
    expect(gateway.output().match(/Gatehouse listening/g)).toHaveLength(1);
    expect((await fetch(`${gateway.baseUrl}/health/liveliness`)).status).toBe(200);
    await stop(gateway);
  }, 120_000);

  it("an operator's NODE_OPTIONS wins: no re-exec, its size on both isolates", async () => {
    const gateway = await start('node-options', { env: { NODE_OPTIONS: '--max-semi-space-size=32' } });
    expect(commandLine(gateway).filter((arg) => arg.startsWith('--max-semi-space-size'))).toEqual([]);
    expect(youngGenerationLine(gateway)).toMatchObject({ node_flags: [], semi_space_mb: 32, semi_space_source: 'operator' });
    expect(deliveryThreadYoungGeneration(gateway)).toBe(96);
    await stop(gateway);
  }, 120_000);

  it("an operator's flag on node's command line wins too", async () => {
    const gateway = await start('command-line', { nodeArgs: ['--max_semi_space_size=12'] });
    expect(commandLine(gateway).filter((arg) => /^--max[-_]semi[-_]space/.test(arg))).toEqual(['--max_semi_space_size=12']);
    expect(youngGenerationLine(gateway)).toMatchObject({ semi_space_mb: 12, semi_space_source: 'operator' });
    expect(deliveryThreadYoungGeneration(gateway)).toBe(36);
    await stop(gateway);
  }, 120_000);
});
