import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';

/**
 * `.env` with the real process: started in a directory holding a `.env` (as `npm start` runs in the checkout), the
 * gateway takes its settings from the file, while the real environment wins where both name a variable.
 */
describe('.env: the real process reads the environment file in its working directory', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'gatehouse-env-file-'));
  const running: GatewayProcess[] = [];
  const masterKey = 'sk-env-file-test-0123456789-abcdefghijklmnopqrstuvwxyz';

  function directoryWith(name: string, files: Record<string, string>): string {
    const dir = join(workDir, name);
    mkdirSync(dir);
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    return dir;
  }

  async function start(cwd: string, env: Record<string, string | undefined> = {}): Promise<GatewayProcess> {
    // ENV_FILE unset, as on a fresh machine: the gateway looks for `.env` itself.
    const gateway = await spawnGateway({ cwd, env: { ENV_FILE: undefined, ...env } });
    running.push(gateway);
    return gateway;
  }

  afterAll(() => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  });

  it('takes the master key, the config file and os.environ/ values from .env; the real environment wins', async () => {
    const cwd = directoryWith('with-dotenv', {
      'gateway.yaml': [
        'model_list:',
        '  - model_name: from-dotenv',
        '    litellm_params:',
        '      model: mock/from-dotenv',
        '      api_key: os.environ/DOTENV_ONLY_UPSTREAM_KEY  # unset outside .env: start-up would stop',
        '',
      ].join('\n'),
      '.env': [
        '# a comment, and the quoting of Node\'s --env-file format',
        `MASTER_KEY="${masterKey}"`,
        'CONFIG_FILE=./gateway.yaml',
        'DATA_DIR=./data',
        'DOTENV_ONLY_UPSTREAM_KEY=sk-upstream-from-dotenv',
        // Both set by the test's real environment (spawnGateway): these lines must lose.
        'PORT=1',
        'LOG_LEVEL=silent',
        '',
      ].join('\n'),
    });
    const gateway = await start(cwd);
    // LOG_LEVEL=silent from .env would hide this line; PORT=1 would not be the port we call.
    await gateway.waitForReady(90_000);

    const models = await fetch(`${gateway.baseUrl}/v1/models`, { headers: { Authorization: `Bearer ${masterKey}` } });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((model) => model.id)).toContain('from-dotenv');

    // One line says which file was read and which variables it set: names, never values.
    const output = gateway.output();
    expect(output).toContain(join(cwd, '.env'));
    expect(output).toContain('"variables":["CONFIG_FILE","DATA_DIR","DOTENV_ONLY_UPSTREAM_KEY","MASTER_KEY"]');
    expect(output).not.toContain(masterKey);
    expect(output).not.toContain('sk-upstream-from-dotenv');

    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit()).toBe(0);
  });

  it('reads the file ENV_FILE names instead, and stops start-up when it is missing', async () => {
    const cwd = directoryWith('env-file-variable', {
      'production.env': `MASTER_KEY=${masterKey}\nDATA_DIR=./data\n`,
      // Ignored: ENV_FILE names another file.
      '.env': 'MASTER_KEY=sk-1234\n',
    });
    const gateway = await start(cwd, { ENV_FILE: 'production.env' });
    await gateway.waitForReady(90_000);
    const keys = await fetch(`${gateway.baseUrl}/key/list`, { headers: { Authorization: `Bearer ${masterKey}` } });
    expect(keys.status).toBe(200);
    expect(gateway.output()).toContain(join(cwd, 'production.env'));
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit()).toBe(0);

    const missing = await start(cwd, { ENV_FILE: 'staging.env' });
    expect(await missing.waitForExit()).toBe(1);
    expect(missing.output()).toContain(`Cannot read the environment file ${join(cwd, 'staging.env')} (ENV_FILE): ENOENT`);
  });

  it('starts without a .env, as before', async () => {
    const cwd = directoryWith('without-dotenv', {});
    const gateway = await start(cwd, { MASTER_KEY: masterKey, DATA_DIR: join(cwd, 'data') });
    await gateway.waitForReady(90_000);
    expect(gateway.output()).not.toContain('variables from');
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit()).toBe(0);
  });
});
