import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Response } from 'supertest';
import { errorOf } from '../support/api-responses';
import { FakeGcs } from '../support/fakes/fake-gcs';
import { modelListYaml } from '../support/logging/fixtures';
import { bearer, EnvScope, LOGGING_ENV, makeServiceAccount, newKey, newTeam, secret } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 23: `gcs_path_service_account` typed into the API is a file read on the gateway's host, so it must name a
 * file inside GCS_SERVICE_ACCOUNT_DIR (realpath: no `..`, no symbolic link out), and without that variable a path
 * from the API is refused with a 400 that says how to allow it. `os.environ/NAME` references (the variable holds a
 * path or the JSON), inline JSON and paths in config.yaml keep working; no error ever shows the file's bytes.
 */
describe('gcs_path_service_account from the API is confined to GCS_SERVICE_ACCOUNT_DIR', () => {
  const env = new EnvScope();
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-sa-path-')));
  const dir = join(root, 'accounts');
  const account = makeServiceAccount('confined-logger');
  const canary = `file-bytes-canary-${secret('c')}`;
  const outsideAccount = join(root, 'outside-sa.json');
  let gcs: FakeGcs;
  let gw: TestApp | null = null;
  let teamId: string;

  const gcsEntry = (path: string) => ({ callback_name: 'gcs_bucket', callback_type: 'success', callback_vars: { gcs_bucket_name: 'sa-logs', gcs_path_service_account: path } });

  async function start(extraEnv: Record<string, string>): Promise<TestApp> {
    await gw?.close();
    gw = await createTestApp({
      configYaml: `${modelListYaml()}
litellm_settings:
  default_team_settings:
    - team_id: config-sa-team
      success_callback: ["gcs_bucket"]
      gcs_bucket_name: sa-logs
      gcs_path_service_account: ${outsideAccount}
`,
      env: { ...LOGGING_ENV, STORAGE_EMULATOR_HOST: gcs.url, ...extraEnv },
      keepData: true,
    });
    teamId = await newTeam(gw, { team_alias: 'sa-path' });
    return gw;
  }

  async function save(path: string): Promise<Response> {
    const res = await (gw as TestApp).http().post(`/team/${teamId}/callback`).set(bearer((gw as TestApp).masterKey)).send(gcsEntry(path));
    expect(res.text).not.toContain(canary);
    expect(res.text).not.toContain(account.canary);
    if (res.status === 200) await (gw as TestApp).http().delete(`/team/${teamId}/callback/gcs_bucket`).set(bearer((gw as TestApp).masterKey));
    return res;
  }

  function expectRefused(res: Response, message: string | RegExp): void {
    expect([res.status, errorOf(res).param]).toEqual([400, 'callback_vars.gcs_path_service_account']);
    expect(errorOf(res).message).toMatch(message);
  }

  async function health(key: string): Promise<{ key: string; logging_callbacks: { details: string } | null }> {
    const res = await (gw as TestApp).http().post('/key/health').set(bearer(key));
    return res.body as { key: string; logging_callbacks: { details: string } | null };
  }

  beforeAll(async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sa.json'), account.json);
    writeFileSync(join(dir, 'notes.txt'), `not a key at all: ${canary}\n`);
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ type: 'authorized_user', refresh_token: canary }));
    writeFileSync(outsideAccount, account.json);
    symlinkSync(outsideAccount, join(dir, 'escape.json'));
    execFileSync('mkfifo', [join(dir, 'pipe.json')]);
    gcs = await FakeGcs.start({ buckets: ['sa-logs'] });
    env.set({ GCS_E2E_SA_PATH: outsideAccount, GCS_E2E_SA_JSON: account.json, GCS_E2E_NOT_SA: join(dir, 'notes.txt') });
  });

  afterAll(async () => {
    await gw?.close();
    await gcs?.close();
    env.restore();
    rmSync(root, { recursive: true, force: true });
  });

  describe('without GCS_SERVICE_ACCOUNT_DIR', () => {
    beforeAll(() => start({}));

    it.each([['/etc/passwd'], [join(dir, 'sa.json')], ['sa.json']])('a path from the API (%s) → 400 saying how to allow it', async (path) => {
      const res = await save(path);
      expectRefused(res, /unless the operator sets GCS_SERVICE_ACCOUNT_DIR to the directory that holds service-account files/);
      expect(res.text).not.toContain('root:');
    });

    it('os.environ/NAME holding a path or the JSON, and inline JSON, keep working', async () => {
      expect((await save('os.environ/GCS_E2E_SA_PATH')).status).toBe(200);
      expect((await save('os.environ/GCS_E2E_SA_JSON')).status).toBe(200);
      expect((await save(account.json)).status).toBe(200);
    });

    it('a variable naming a file that is no service account → 400 naming the variable, never the bytes', async () => {
      expectRefused(await save('os.environ/GCS_E2E_NOT_SA'), 'gcs_path_service_account (os.environ/GCS_E2E_NOT_SA): the file is not valid JSON');
    });

    it('a path in config.yaml (the operator’s) keeps working', async () => {
      const key = (await newKey(gw as TestApp, { team_id: 'config-sa-team' })).key;
      expect(await health(key)).toMatchObject({ key: 'healthy' });
    });
  });

  describe('with GCS_SERVICE_ACCOUNT_DIR', () => {
    beforeAll(() => start({ GCS_SERVICE_ACCOUNT_DIR: dir }));

    it.each([['sa.json'], [join(dir, 'sa.json')], ['sub/../sa.json']])('a service-account file inside it (%s) → 200', async (path) => {
      expect((await save(path)).status).toBe(200);
    });

    it.each([
      ['a parent path', '../outside-sa.json'],
      ['an absolute path outside', outsideAccount],
      ['a symbolic link out of it', 'escape.json'],
      ['/etc/passwd', '/etc/passwd'],
    ])('%s → 400, although the file is readable', async (_label, path) => {
      const res = await save(path);
      expectRefused(res, 'gcs_path_service_account: the path must name a file inside GCS_SERVICE_ACCOUNT_DIR (.. and symbolic links leading out of it are refused)');
      expect(res.text).not.toContain('root:');
    });

    it.each([
      ['text', 'notes.txt', 'the file is not valid JSON'],
      ['JSON of another kind', 'other.json', 'the file is not a service account key (type must be "service_account")'],
      ['a FIFO (would block a plain read)', 'pipe.json', 'cannot read the service account file (ENOTFILE)'],
      ['nothing', 'missing.json', 'gcs_path_service_account: no such file in GCS_SERVICE_ACCOUNT_DIR'],
    ])('a file inside it that is %s → 400 naming the field, never its bytes', async (_label, path, message) => {
      expectRefused(await save(path), message);
    });

    it('checked again when used: a file swapped for a link out of the directory is not read', async () => {
      writeFileSync(join(dir, 'swap.json'), account.json);
      const key = (await newKey(gw as TestApp, { metadata: { logging: [gcsEntry('swap.json')] } })).key;
      expect(await health(key)).toMatchObject({ key: 'healthy' });
      unlinkSync(join(dir, 'swap.json'));
      symlinkSync(outsideAccount, join(dir, 'swap.json'));
      const after = await health(key);
      expect(after.key).toBe('unhealthy');
      expect(after.logging_callbacks?.details).toContain('gcs_path_service_account: the path must name a file inside GCS_SERVICE_ACCOUNT_DIR');
    });
  });
});
