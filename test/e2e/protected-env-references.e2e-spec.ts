import type { Response } from 'supertest';
import { errorOf, type DataJson } from '../support/api-responses';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import { bearer, EnvScope, LOGGING_ENV, newKey, newTeam, secret, sleep, waitFor } from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 23: `os.environ/` references to the gateway's own secrets — the provider keys config.yaml uses, the database
 * and Redis URLs, the master and salt keys — are refused from everyone, the proxy admin included, on every route
 * that saves logging (400 naming the variable), unless general_settings.allowed_logging_env_vars names them; and a
 * stored reference that has become protected since is not resolved when the destination is used.
 */
describe('os.environ/ references to the gateway’s own secrets', () => {
  const env = new EnvScope();
  const project = langfuseProject('protected-env');
  const values: Record<string, string> = {
    PROT_E2E_PROVIDER_KEY: secret('provider-key'),
    PROT_E2E_ALLOWED_KEY: secret('allowed-provider-key'),
    PROT_E2E_CACHE_PASSWORD: secret('cache-password'),
    PROT_E2E_LATER: project.secretKey,
    PROT_E2E_FREE: project.secretKey,
    REDIS_URL: `redis://:${secret('redis-pw')}@127.0.0.1:1`,
    REDIS_PASSWORD: secret('redis-password'),
    SALT_KEY_PREVIOUS: secret('old-salt'),
    LITELLM_SALT_KEY_PREVIOUS: secret('old-litellm-salt'),
    MASTER_KEY: secret('env-master'),
  };
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let teamId: string;

  const config = (extraModel: string) => `${modelListYaml()}  - model_name: provider-a
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/PROT_E2E_PROVIDER_KEY
  - model_name: provider-b
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/PROT_E2E_ALLOWED_KEY
${extraModel}litellm_settings:
  cache_params:
    type: local
    password: os.environ/PROT_E2E_CACHE_PASSWORD
general_settings:
  allowed_logging_env_vars: [PROT_E2E_ALLOWED_KEY]
`;

  const entry = (variable: string) => ({
    callback_name: 'langfuse',
    callback_type: 'success',
    callback_vars: { langfuse_public_key: project.publicKey, langfuse_secret_key: `os.environ/${variable}`, langfuse_host: langfuse.url },
  });

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: [project] });
    env.set(values);
    gw = await createTestApp({ configYaml: config(''), env: { ...LOGGING_ENV, LOG_MAX_ATTEMPTS: '1' } });
    teamId = await newTeam(gw, { team_alias: 'protected-env' });
  });

  afterAll(async () => {
    await gw?.close();
    await langfuse?.close();
    env.restore();
  });

  function expectRefused(res: Response, param: string, variable: string): void {
    expect([res.status, errorOf(res).param]).toEqual([400, param]);
    expect(errorOf(res).message).toBe(
      `os.environ/${variable} is one of the gateway's own secrets and is never sent to a logging destination; ` +
        'an operator can allow it in config.yaml under general_settings.allowed_logging_env_vars',
    );
    for (const value of Object.values(values)) expect(res.text).not.toContain(value);
  }

  const PROTECTED = [
    ['a model_list api_key', 'PROT_E2E_PROVIDER_KEY'],
    ['a cache_params password', 'PROT_E2E_CACHE_PASSWORD'],
    ['REDIS_URL', 'REDIS_URL'],
    ['REDIS_PASSWORD', 'REDIS_PASSWORD'],
    ['SALT_KEY_PREVIOUS', 'SALT_KEY_PREVIOUS'],
    ['LITELLM_SALT_KEY_PREVIOUS', 'LITELLM_SALT_KEY_PREVIOUS'],
    ['DATABASE_URL', 'DATABASE_URL'],
    ['MASTER_KEY', 'MASTER_KEY'],
  ];

  it.each(PROTECTED)('POST /team/{id}/callback from the proxy admin naming %s → 400 naming it, nothing stored', async (_label, variable) => {
    const res = await gw.http().post(`/team/${teamId}/callback`).set(bearer(gw.masterKey)).send(entry(variable));
    expectRefused(res, 'callback_vars.langfuse_secret_key', variable);
    const view = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey));
    expect((view.body as DataJson<{ callbacks: unknown[] }>).data.callbacks).toEqual([]);
  });

  it.each(PROTECTED)('team metadata.logging and key metadata.logging naming %s → 400 naming it', async (_label, variable) => {
    const team = await gw.http().post('/team/update').set(bearer(gw.masterKey)).send({ team_id: teamId, metadata: { logging: [entry(variable)] } });
    expectRefused(team, 'metadata.logging[0].callback_vars.langfuse_secret_key', variable);
    const key = await gw.http().post('/key/generate').set(bearer(gw.masterKey)).send({ metadata: { logging: [entry(variable)] } });
    expectRefused(key, 'metadata.logging[0].callback_vars.langfuse_secret_key', variable);
  });

  it('a variable the operator allow-listed, or one the config does not use, is accepted', async () => {
    for (const variable of ['PROT_E2E_ALLOWED_KEY', 'PROT_E2E_FREE']) {
      const res = await gw.http().post('/key/generate').set(bearer(gw.masterKey)).send({ metadata: { logging: [entry(variable)] } });
      expect([variable, res.status]).toEqual([variable, 200]);
    }
  });

  it('a stored reference that became protected is not resolved: /key/health names it, nothing reaches the destination', async () => {
    const key = (await newKey(gw, { metadata: { logging: [entry('PROT_E2E_LATER')] } })).key;
    const before = await gw.http().post('/key/health').set(bearer(key));
    expect((before.body as { key: string }).key).toBe('healthy');

    // The operator now uses the same variable for a model: from the next start on it is one of the gateway's secrets.
    await gw.close();
    gw = await createTestApp({
      configYaml: config('  - model_name: provider-c\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: os.environ/PROT_E2E_LATER\n'),
      env: { ...LOGGING_ENV, LOG_MAX_ATTEMPTS: '1' },
      keepData: true,
    });
    langfuse.requests.length = 0;
    const health = await gw.http().post('/key/health').set(bearer(key));
    expect(health.body).toMatchObject({
      key: 'unhealthy',
      logging_callbacks: { status: 'unhealthy', details: expect.stringContaining('langfuse_secret_key: os.environ/PROT_E2E_LATER is one of the gateway') as unknown },
    });
    expect(health.text).not.toContain(project.secretKey);

    const chat = await gw.http().post('/v1/chat/completions').set(bearer(key)).send({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.status).toBe(200);
    const dead = await waitFor('the event dead-lettered with the configuration error', async () => {
      const list = await gw.http().get('/logging/dead-letters').set(bearer(gw.masterKey));
      const data = (list.body as DataJson<Array<{ last_error: string | null }>>).data;
      return data.find((row) => row.last_error?.includes('PROT_E2E_LATER'));
    });
    expect(dead.last_error).toContain('not configured correctly');
    await sleep(300);
    expect(langfuse.requests).toEqual([]);
  });
});
