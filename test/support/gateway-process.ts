import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { devNull } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const MAIN_JS = join(ROOT, 'dist', 'src', 'main.js');

/** A gateway started the way `npm start` starts it: the built `dist/src/main.js` in its own process. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly baseUrl: string;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  waitForReady(timeoutMs?: number): Promise<void>;
  waitForExit(timeoutMs?: number): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface SpawnGatewayOptions {
  env?: Record<string, string | undefined>;
  args?: string[];
  /** Another way to start it (the container spec runs the image's CMD as another user); default `node dist/src/main.js`. */
  command?: readonly string[];
  cwd?: string;
}

export async function spawnGateway(options: SpawnGatewayOptions = {}): Promise<GatewayProcess> {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run "npm run build" (npm test does it first)`);
  const port = await freePort();
  const env: Record<string, string> = {};
  // A clean environment: nothing of the test runner's database or keys leaks into the child.
  for (const name of ['PATH', 'HOME', 'LANG', 'TZ']) if (process.env[name]) env[name] = process.env[name];
  // ENV_FILE: a developer's own .env in the repository must not reach the child either (an empty file instead).
  Object.assign(env, { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ENV_FILE: devNull });
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const [file, ...args] = [...(options.command ?? [process.execPath, MAIN_JS]), ...(options.args ?? [])];
  const child = spawn(file, args, { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForOutput = async (pattern: RegExp, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (child.exitCode !== null) throw new Error(`gateway exited (${child.exitCode}) before ${pattern}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  return {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    waitForOutput,
    waitForReady: (timeoutMs) => waitForOutput(/Gatehouse listening/, timeoutMs),
    waitForExit: async (timeoutMs = 30_000) => {
      const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`gateway did not exit:\n${output}`)), timeoutMs).unref());
      return Promise.race([exited, timer]);
    },
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}
