import { errorOf, type DataJson, type TeamInfoJson } from '../support/api-responses';
import type { Response } from 'supertest';
import { FakeGcs } from '../support/fakes/fake-gcs';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { FakeOtlp } from '../support/fakes/fake-otlp';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import {
  bearer,
  chatOk,
  databaseHaystacks,
  EnvScope,
  fakeHaystacks,
  findSecrets,
  langfuseEntry,
  LogCapture,
  LOGGING_ENV,
  makeServiceAccount,
  marker,
  MASK,
  newKey,
  newTeam,
  secret,
  sleep,
  FLUSH_MS,
  Transcript,
  unmaskedSecretVars,
  waitFor,
  waitForLangfuse,
} from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 4, the logging admin API under attack (security-and-reliability.md §4: A7, A9, B1–B4, B6–B8, F1–F3):
 * bad input → 400 naming the field with nothing written, role checks → 403 without team-id probing, env
 * references only from the proxy admin, the SSRF guard for non-admin hosts, redacted audit rows, and secrets
 * that never show up in a response, the gateway's stdout or the database.
 */
describe('logging admin API: bad input, roles, SSRF, audit, secrets', () => {
  const env = new EnvScope();
  const capture = new LogCapture();
  const transcript = new Transcript();
  const projectA = langfuseProject('sec-team-a');
  const projectB = langfuseProject('sec-team-b');
  const stored = langfuseProject('sec-stored');
  const serviceAccount = makeServiceAccount('sec-logger');
  const envSecret = secret('env-held-secret');
  const protectedValues = {
    MASTER_KEY: secret('protected-master'),
    LITELLM_MASTER_KEY: secret('protected-litellm-master'),
    SALT_KEY: secret('protected-salt'),
  };

  let langfuse: FakeLangfuse;
  let gcs: FakeGcs;
  let otlp: FakeOtlp;
  const otlpRequired = secret('otlp-required');
  const otlpWrong = secret('otlp-wrong-token');
  const wrongPair = langfuseProject('sec-not-registered');
  let gw: TestApp;
  let teamAdminA: string;
  let memberA: string;
  let teamAdminB: string;
  let proxyAdmin: string;
  const teamA = 'sec-team-a';
  const teamB = 'sec-team-b';

  const admin = () => gw.masterKey;
  /** The request path of a supertest response, to label assertions. */
  const pathOf = (res: Response): string => (res as unknown as { req: { path: string } }).req.path;

  async function post(path: string, body: unknown, key: string, headers: Record<string, string> = {}): Promise<Response> {
    const req = gw.http().post(path).set(bearer(key)).set(headers);
    const res = typeof body === 'string' ? await req.set('Content-Type', 'application/json').send(body) : await req.send(body as object);
    return transcript.record(`POST ${path}`, res);
  }
  async function get(path: string, key: string): Promise<Response> {
    return transcript.record(`GET ${path}`, await gw.http().get(path).set(bearer(key)));
  }
  async function del(path: string, key: string): Promise<Response> {
    return transcript.record(`DELETE ${path}`, await gw.http().delete(path).set(bearer(key)));
  }

  /** What can change when a callback write goes through: the callback view, the team row and the audit log. */
  async function snapshot(teamId: string): Promise<string> {
    const view = await gw.http().get(`/team/${teamId}/callback`).set(bearer(admin())).expect(200);
    const info = await gw.http().get('/team/info').query({ team_id: teamId }).set(bearer(admin())).expect(200);
    const audit = await gw.http().get('/audit').query({ team_id: teamId }).set(bearer(admin())).expect(200);
    // Spend moves on its own (calls made earlier in the spec are written by the spend ledger at its next flush).
    const rows = (await gw.dataSource.query<Record<string, unknown>[]>('SELECT * FROM teams WHERE team_id = $1', [teamId])).map(
      ({ spend: _spend, model_spend: _modelSpend, ...row }) => row,
    );
    const metadata = (info.body as Partial<TeamInfoJson>).team_info?.metadata;
    return JSON.stringify({ view: view.body as unknown, metadata, audit: (audit.body as DataJson<unknown[]>).data.length, rows });
  }

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: [projectA, projectB, stored] });
    gcs = await FakeGcs.start({ buckets: ['sec-forbidden'] });
    gcs.setBucketStatus('sec-forbidden', 403);
    otlp = await FakeOtlp.start({ requiredHeaders: { 'x-otlp-token': otlpRequired } });
    env.set({ SEC_ENV_SECRET: envSecret, SEC_ENV_PUBLIC: stored.publicKey, STORAGE_EMULATOR_HOST: gcs.url, ...protectedValues });
    gw = await createTestApp({
      configYaml: `${modelListYaml()}
general_settings:
  allowed_logging_hosts: ["127.0.0.1:${langfuse.port}"]
`,
      env: { ...LOGGING_ENV, STORAGE_EMULATOR_HOST: gcs.url },
      logDestination: capture,
    });
    await newTeam(gw, { team_id: teamA, team_alias: 'Team A' }, transcript);
    await newTeam(gw, { team_id: teamB, team_alias: 'Team B' }, transcript);
    teamAdminA = (await newKey(gw, { team_id: teamA, role: 'team_admin', key_alias: 'ta' }, { transcript })).key;
    memberA = (await newKey(gw, { team_id: teamA, key_alias: 'ma' }, { transcript })).key;
    teamAdminB = (await newKey(gw, { team_id: teamB, role: 'team_admin', key_alias: 'tb' }, { transcript })).key;
    proxyAdmin = (await newKey(gw, { role: 'proxy_admin', key_alias: 'pa' }, { transcript })).key;
    // Team B starts with a real callback, so cross-team reads have something to leak.
    const res = await post(`/team/${teamB}/callback`, langfuseEntry(projectB, langfuse.url), admin());
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([langfuse?.close(), gcs?.close(), otlp?.close()]);
    env.restore();
  });

  const lfVars = () => ({ langfuse_public_key: stored.publicKey, langfuse_secret_key: stored.secretKey, langfuse_host: langfuse.url });

  /** POSTs a bad body and checks the 400, the field it names, and that nothing changed. */
  async function expectRejected(body: unknown, param: string | RegExp, key = admin(), teamId = teamA, code?: string): Promise<Response> {
    const before = await snapshot(teamId);
    const res = await post(`/team/${teamId}/callback`, body, key);
    expect([res.status, res.text.slice(0, 300)]).toEqual([400, expect.any(String)]);
    const error = errorOf(res);
    expect(error.type).toBe('invalid_request_error');
    if (typeof param === 'string') expect(error.param).toBe(param);
    else expect(error.param).toMatch(param);
    if (code) expect(error.code).toBe(code);
    expect(res.text).not.toContain(stored.secretKey);
    expect(await snapshot(teamId)).toBe(before);
    return res;
  }

  describe('B1: callback_name', () => {
    it.each([['langfusee'], [''], ['../../x'], ['__proto__'], ['Langfuse'], [['langfuse']], [42], [null]])('%j → 400 param callback_name', async (name) => {
      const res = await expectRejected({ callback_name: name, callback_vars: lfVars() }, 'callback_name');
      // The message lists what is allowed.
      expect(errorOf(res).message).toMatch(/langfuse/);
      expect(errorOf(res).message).toMatch(/gcs_bucket/);
    });

    it('missing → 400 param callback_name', async () => {
      await expectRejected({ callback_vars: lfVars() }, 'callback_name');
    });
  });

  describe('B2: callback_type', () => {
    it.each([['both'], [null], [1], ['SUCCESS'], [['success']]])('%j → 400 param callback_type', async (type) => {
      await expectRejected({ callback_name: 'langfuse', callback_type: type, callback_vars: lfVars() }, 'callback_type');
    });
  });

  describe('B3: missing required vars', () => {
    it.each([
      ['langfuse without the secret key', { callback_name: 'langfuse', callback_vars: { langfuse_public_key: stored.publicKey, langfuse_host: 'https://cloud.langfuse.com' } }, 'callback_vars.langfuse_secret_key'],
      ['langfuse with an empty secret key', { callback_name: 'langfuse', callback_vars: { langfuse_public_key: stored.publicKey, langfuse_secret_key: '' } }, 'callback_vars.langfuse_secret_key'],
      ['langfuse without the public key', { callback_name: 'langfuse', callback_vars: { langfuse_secret_key: stored.secretKey } }, 'callback_vars.langfuse_public_key'],
      ['langfuse_host alone (would pair operator credentials with a chosen host)', { callback_name: 'langfuse', callback_vars: { langfuse_host: 'https://cloud.langfuse.com' } }, /^callback_vars\.langfuse_(public|secret)_key$/],
      ['gcs_bucket without a bucket', { callback_name: 'gcs_bucket', callback_vars: { gcs_service_account_json: serviceAccount.json } }, 'callback_vars.gcs_bucket_name'],
      ['otel without an endpoint', { callback_name: 'otel', callback_vars: { otel_service_name: 'svc' } }, 'callback_vars.otel_endpoint'],
      ['langsmith without an api key', { callback_name: 'langsmith', callback_vars: { langsmith_project: 'p' } }, 'callback_vars.langsmith_api_key'],
    ])('%s → 400', async (_name, body, param) => {
      await expectRejected(body, param);
    });

    it('no callback_vars at all → 400 param callback_vars', async () => {
      await expectRejected({ callback_name: 'langfuse' }, 'callback_vars');
    });

    it('a team admin’s GCS entry needs its own service account JSON', async () => {
      await expectRejected({ callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'some-bucket' } }, 'callback_vars.gcs_service_account_json', teamAdminA);
    });
  });

  describe('B4: unknown vars and wrong shapes', () => {
    it.each([
      ['an unknown var', () => ({ ...lfVars(), langfuse_colour: 'red' }), 'callback_vars.langfuse_colour'],
      ['another destination’s var', () => ({ ...lfVars(), gcs_bucket_name: 'b' }), 'callback_vars.gcs_bucket_name'],
      ['an object value', () => ({ ...lfVars(), langfuse_host: { url: 'https://cloud.langfuse.com' } }), 'callback_vars.langfuse_host'],
      ['a list value', () => ({ ...lfVars(), langfuse_secret_key: [stored.secretKey] }), 'callback_vars.langfuse_secret_key'],
    ])('%s → 400 naming it', async (_name, vars, param) => {
      await expectRejected({ callback_name: 'langfuse', callback_vars: vars() }, param);
    });

    it('callback_vars that is not an object → 400 param callback_vars', async () => {
      await expectRejected({ callback_name: 'langfuse', callback_vars: 'langfuse_public_key=pk' }, 'callback_vars');
      await expectRejected({ callback_name: 'langfuse', callback_vars: [lfVars()] }, 'callback_vars');
    });

    it('__proto__ inside callback_vars or the body is refused and grants nothing', async () => {
      const before = await snapshot(teamA);
      const res = await post(
        `/team/${teamA}/callback`,
        `{"callback_name": "langfuse", "callback_vars": {"__proto__": {"isProxyAdmin": true}, "langfuse_public_key": "${stored.publicKey}", "langfuse_secret_key": "${stored.secretKey}"}}`,
        teamAdminA,
      );
      expect(res.status).toBe(400);
      const body = await post(`/team/${teamA}/callback`, `{"__proto__": {"isProxyAdmin": true}, "callback_name": "langfuse", "callback_vars": {}}`, teamAdminA);
      expect(body.status).toBe(400);
      expect(await snapshot(teamA)).toBe(before);
      expect(({} as Record<string, unknown>).isProxyAdmin).toBeUndefined();
      // Still just a member.
      expect((await get(`/team/${teamA}/callback`, memberA)).status).toBe(403);
      expect((await post('/team/new', { team_id: 'by-ta' }, teamAdminA)).status).toBe(403);
    });

    it('an unknown top-level field → 400, nothing written', async () => {
      await expectRejected({ callback_name: 'langfuse', callback_vars: lfVars(), is_admin: true }, /is_admin/);
    });
  });

  describe('duplicates', () => {
    it('same name, same type, same credentials → 400 duplicate_callback worded as LiteLLM does; other variants are fine', async () => {
      const entry = { callback_name: 'langfuse', callback_type: 'success', callback_vars: lfVars() };
      const first = await post(`/team/${teamA}/callback`, entry, admin());
      expect(first.status).toBe(200);
      const res = await expectRejected(entry, 'callback_name', admin(), teamA, 'duplicate_callback');
      expect(errorOf(res).message).toBe(`callback_name = langfuse already exists in team_callback_settings, for team_id = ${teamA} and event = success`);
      // Same credentials for failures, and another project for successes, are new entries.
      expect((await post(`/team/${teamA}/callback`, { ...entry, callback_type: 'failure' }, admin())).status).toBe(200);
      expect((await post(`/team/${teamA}/callback`, langfuseEntry(projectA, langfuse.url, 'success'), admin())).status).toBe(200);
      expect((await del(`/team/${teamA}/callback/langfuse`, admin())).status).toBe(200);
    });
  });

  describe('B6: os.environ/ references', () => {
    it('from a team admin → 400 naming the field, whatever the variable', async () => {
      for (const name of ['SEC_ENV_SECRET', 'DATABASE_URL', 'NOT_SET_AT_ALL']) {
        const res = await expectRejected(
          { callback_name: 'langfuse', callback_vars: { langfuse_public_key: stored.publicKey, langfuse_secret_key: `os.environ/${name}`, langfuse_host: langfuse.url } },
          'callback_vars.langfuse_secret_key',
          teamAdminA,
        );
        expect(res.text).not.toContain(envSecret);
      }
    });

    it('from the proxy admin naming an unset variable → 400', async () => {
      await expectRejected(
        { callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'os.environ/GATEHOUSE_SURELY_UNSET', langfuse_secret_key: stored.secretKey } },
        'callback_vars.langfuse_public_key',
      );
    });

    it.each([['DATABASE_URL'], ['MASTER_KEY'], ['LITELLM_MASTER_KEY'], ['SALT_KEY']])('from the proxy admin naming protected %s → 400, value never echoed', async (name) => {
      expect(process.env[name]).toBeTruthy(); // set, so only the name rule can refuse it
      const res = await expectRejected(
        { callback_name: 'langfuse', callback_vars: { langfuse_public_key: stored.publicKey, langfuse_secret_key: `os.environ/${name}`, langfuse_host: langfuse.url } },
        'callback_vars.langfuse_secret_key',
      );
      expect(res.text).not.toContain(process.env[name] as string);
    });

    it('from the proxy admin naming a set variable → stored as the reference, never resolved into a response', async () => {
      const res = await post(
        `/team/${teamA}/callback`,
        { callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'os.environ/SEC_ENV_PUBLIC', langfuse_secret_key: 'os.environ/SEC_ENV_SECRET', langfuse_host: langfuse.url } },
        admin(),
      );
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(envSecret);
      expect(res.text).not.toContain(stored.publicKey);
      const view = await get(`/team/${teamA}/callback`, admin());
      expect(view.text).not.toContain(envSecret);
      const rows: unknown[] = await gw.dataSource.query('SELECT * FROM teams WHERE team_id = $1', [teamA]);
      expect(JSON.stringify(rows)).toContain('SEC_ENV_SECRET');
      expect(JSON.stringify(rows)).not.toContain(envSecret);
      expect((await del(`/team/${teamA}/callback/langfuse`, admin())).status).toBe(200);
    });
  });

  describe('B7: SSRF guard for hosts chosen by non-admins', () => {
    const blocked = [
      'http://127.0.0.1',
      'http://127.0.0.1:1',
      'http://localhost:3000',
      'http://[::1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://10.0.0.8',
      'http://172.16.3.4',
      'http://192.168.1.10',
      'http://logs.corp.internal',
      'http://printer.local',
      'file:///etc/passwd',
      'gopher://127.0.0.1:6379/_INFO',
      'ftp://example.com/',
      'data:text/plain,hello',
      'https://user:pass@cloud.langfuse.com',
      `http://127.0.0.1:${65535}`,
    ];

    it.each(blocked.map((host) => [host]))('langfuse_host %s → 400 param callback_vars.langfuse_host', async (host) => {
      await expectRejected({ callback_name: 'langfuse', callback_vars: { ...lfVars(), langfuse_host: host } }, 'callback_vars.langfuse_host', teamAdminA);
    });

    it.each([['http://169.254.169.254'], ['http://127.0.0.1:9'], ['http://10.1.2.3:4318']])('otel_endpoint %s → 400 param callback_vars.otel_endpoint', async (host) => {
      await expectRejected({ callback_name: 'otel', callback_vars: { otel_endpoint: host } }, 'callback_vars.otel_endpoint', teamAdminA);
    });

    it.each([['http://192.168.0.1'], ['http://localhost']])('langsmith_base_url %s → 400 param callback_vars.langsmith_base_url', async (host) => {
      await expectRejected({ callback_name: 'langsmith', callback_vars: { langsmith_api_key: stored.secretKey, langsmith_base_url: host } }, 'callback_vars.langsmith_base_url', teamAdminA);
    });

    it('the allow-listed host:port is accepted from a team admin, and delivery to it works', async () => {
      const res = await post(`/team/${teamA}/callback`, langfuseEntry(projectA, langfuse.url), teamAdminA);
      try {
        expect([res.status, res.text.slice(0, 300)]).toEqual([200, expect.any(String)]);
        const mark = marker('sec-allowlisted');
        await chatOk(gw.baseUrl, memberA, { marker: mark }, transcript);
        await waitForLangfuse(langfuse, projectA.publicKey, mark);
      } finally {
        expect((await del(`/team/${teamA}/callback/langfuse`, teamAdminA)).status).toBe(200);
      }
    });

    it('hosts set by the proxy admin are not SSRF-checked', async () => {
      const res = await post(`/team/${teamA}/callback`, { callback_name: 'otel', callback_vars: { otel_endpoint: 'http://127.0.0.1:4318' } }, admin());
      expect(res.status).toBe(200);
      expect((await del(`/team/${teamA}/callback/otel`, admin())).status).toBe(200);
    });
  });

  describe('B8: service-account file paths', () => {
    it.each([['/etc/passwd'], ['../../secrets/sa.json'], ['/proc/self/environ'], ['/var/run/secrets/kubernetes.io/serviceaccount/token']])(
      'a team admin may not name a file (%s) → 400 param callback_vars.gcs_path_service_account',
      async (path) => {
        const res = await expectRejected(
          { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'some-bucket', gcs_path_service_account: path, gcs_service_account_json: serviceAccount.json } },
          'callback_vars.gcs_path_service_account',
          teamAdminA,
        );
        expect(res.text).not.toContain('root:');
      },
    );

    it('the proxy admin naming a non-service-account file never gets its bytes back', async () => {
      const res = await post(`/team/${teamA}/callback`, { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'some-bucket', gcs_path_service_account: '/etc/passwd' } }, admin());
      expect(res.text).not.toContain('root:');
      if (res.status === 200) expect((await del(`/team/${teamA}/callback/gcs_bucket`, admin())).status).toBe(200);
    });

    it('service-account JSON from a team admin is validated without echoing the key', async () => {
      const broken = serviceAccount.json.replace('"type":"service_account"', '"type":"authorized_user"');
      const res = await expectRejected(
        { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'some-bucket', gcs_service_account_json: broken } },
        'callback_vars.gcs_service_account_json',
        teamAdminA,
      );
      expect(res.text).not.toContain(serviceAccount.canary);
    });
  });

  describe('A9 / who may: team admins their own team’s callbacks only; members nothing; no probing of team ids', () => {
    const entry = () => langfuseEntry(projectA, langfuse.url);

    it('a team admin manages its own team’s callbacks (POST, GET, DELETE) but may not disable logging', async () => {
      const posted = await post(`/team/${teamA}/callback`, entry(), teamAdminA);
      expect(posted.status).toBe(200);
      expect((posted.body as { status: string }).status).toBe('success');
      expect(unmaskedSecretVars(posted.body)).toEqual([]);
      const view = await get(`/team/${teamA}/callback`, teamAdminA);
      expect(view.status).toBe(200);
      expect((view.body as DataJson<unknown>).data).toMatchObject({ team_id: teamA, success_callbacks: ['langfuse'], failure_callbacks: ['langfuse'] });

      const before = await snapshot(teamA);
      const disable = await post(`/team/${teamA}/disable_logging`, {}, teamAdminA);
      expect(disable.status).toBe(403);
      expect(errorOf(disable).type).toBe('permission_error');
      expect(await snapshot(teamA)).toBe(before);

      expect((await del(`/team/${teamA}/callback/langfuse`, teamAdminA)).status).toBe(200);
    });

    it('another team, or an unknown one, is 403 with the identical body for a team admin (GET, POST, DELETE, disable)', async () => {
      const unknown = `team-${secret('unknown')}`;
      const beforeB = await snapshot(teamB);
      const pairs: [Response, Response][] = [
        [await get(`/team/${teamB}/callback`, teamAdminA), await get(`/team/${unknown}/callback`, teamAdminA)],
        [await post(`/team/${teamB}/callback`, entry(), teamAdminA), await post(`/team/${unknown}/callback`, entry(), teamAdminA)],
        [await del(`/team/${teamB}/callback/langfuse`, teamAdminA), await del(`/team/${unknown}/callback/langfuse`, teamAdminA)],
        [await post(`/team/${teamB}/disable_logging`, {}, teamAdminA), await post(`/team/${unknown}/disable_logging`, {}, teamAdminA)],
      ];
      for (const [other, missing] of pairs) {
        expect(other.status).toBe(403);
        expect(missing.status).toBe(403);
        expect(errorOf(other).type).toBe('permission_error');
        expect(missing.body).toEqual(other.body);
        expect(other.text).not.toContain(projectB.secretKey);
        expect(other.text).not.toContain(projectB.publicKey);
      }
      expect(await snapshot(teamB)).toBe(beforeB);
      // And the other way round.
      expect((await get(`/team/${teamA}/callback`, teamAdminB)).status).toBe(403);
    });

    it('a plain member key gets 403 on every team logging route, even for its own team', async () => {
      const before = await snapshot(teamA);
      for (const res of [
        await get(`/team/${teamA}/callback`, memberA),
        await post(`/team/${teamA}/callback`, entry(), memberA),
        await del(`/team/${teamA}/callback/langfuse`, memberA),
        await post(`/team/${teamA}/disable_logging`, {}, memberA),
        await get(`/audit?team_id=${teamA}`, memberA),
      ]) {
        expect([pathOf(res), res.status]).toEqual([pathOf(res), 403]);
        expect(errorOf(res).type).toBe('permission_error');
      }
      expect(await snapshot(teamA)).toBe(before);
    });

    it('/audit is for the proxy admin only; a proxy_admin key may do everything the master key does', async () => {
      expect((await get(`/audit?team_id=${teamA}`, teamAdminA)).status).toBe(403);
      expect((await get(`/audit?team_id=${teamA}`, proxyAdmin)).status).toBe(200);
      const res = await post(`/team/${teamB}/callback`, langfuseEntry(stored, langfuse.url, 'failure'), proxyAdmin);
      expect(res.status).toBe(200);
      expect((await del(`/team/${teamB}/callback/langfuse`, proxyAdmin)).status).toBe(200);
      expect((await post(`/team/${teamB}/callback`, langfuseEntry(projectB, langfuse.url), proxyAdmin)).status).toBe(200);
    });

    it('the proxy admin gets 404 for an unknown team', async () => {
      const unknown = `team-${secret('missing')}`;
      for (const res of [
        await get(`/team/${unknown}/callback`, admin()),
        await post(`/team/${unknown}/callback`, entry(), admin()),
        await del(`/team/${unknown}/callback/langfuse`, admin()),
        await post(`/team/${unknown}/disable_logging`, {}, admin()),
      ]) {
        expect([pathOf(res), res.status]).toEqual([pathOf(res), 404]);
        expect(errorOf(res).type).toBe('not_found_error');
      }
      const rows: unknown[] = await gw.dataSource.query('SELECT * FROM teams WHERE team_id = $1', [unknown]);
      expect(rows).toEqual([]);
    });

    it('A7: key generation with logging — member 403, team admin for another team 403', async () => {
      expect((await post('/key/generate', { metadata: { logging: [entry()] } }, memberA)).status).toBe(403);
      const foreign = await post('/key/generate', { team_id: teamB, metadata: { logging: [entry()] } }, teamAdminA);
      expect(foreign.status).toBe(403);
      expect(foreign.text).not.toContain(projectA.secretKey);
    });
  });

  describe('audit rows', () => {
    it('every change of a team’s logging writes one redacted row (who, when, before/after); refused requests write none', async () => {
      const teamId = await newTeam(gw, { team_id: 'sec-audit-team' }, transcript);
      const list = async () => ((await get(`/audit?team_id=${teamId}`, admin())).body as DataJson<Record<string, unknown>[]>).data;
      const start = (await list()).length;

      expect((await post(`/team/${teamId}/callback`, langfuseEntry(stored, langfuse.url), admin(), { 'litellm-changed-by': 'ops-on-call' })).status).toBe(200);
      let rows = await list();
      expect(rows.length).toBe(start + 1);
      const added = rows[0];
      expect(added).toMatchObject({
        id: expect.any(String) as unknown,
        updated_at: expect.any(String) as unknown,
        changed_by: 'ops-on-call',
        action: expect.any(String) as unknown,
        table_name: expect.any(String) as unknown,
        object_id: teamId,
      });
      expect(Number.isNaN(Date.parse(added.updated_at as string))).toBe(false);
      expect(JSON.stringify(added.updated_values)).toContain(MASK);
      expect(JSON.stringify(added.updated_values)).toContain('langfuse');

      expect((await post(`/team/${teamId}/callback`, { callback_name: 'nope', callback_vars: {} }, admin())).status).toBe(400);
      expect((await post(`/team/${teamId}/callback`, langfuseEntry(projectA, langfuse.url), memberA)).status).toBe(403);
      expect((await list()).length).toBe(start + 1);

      expect((await post(`/team/${teamId}/disable_logging`, {}, admin())).status).toBe(200);
      rows = await list();
      expect(rows.length).toBe(start + 2);
      expect(JSON.stringify(rows[0].before_value)).toContain(MASK);
      expect(rows[0].changed_by).toEqual(expect.any(String));

      expect((await post(`/team/${teamId}/callback`, langfuseEntry(projectA, langfuse.url), admin())).status).toBe(200);
      expect((await del(`/team/${teamId}/callback/langfuse`, admin())).status).toBe(200);
      rows = await list();
      expect(rows.length).toBe(start + 4);

      // Key logging changes of the team's keys are audited too.
      const generated = await newKey(gw, { team_id: teamId, metadata: { logging: [langfuseEntry(stored, langfuse.url)] } }, { transcript });
      await gw.http().post('/key/update').set(bearer(admin())).send({ key: generated.token, metadata: { logging: [] } }).expect(200);
      rows = await list();
      const keyRows = rows.filter((row) => /key/i.test(String(row.table_name)));
      expect(keyRows.length).toBeGreaterThanOrEqual(2);

      const text = JSON.stringify(rows);
      for (const value of [stored.secretKey, stored.publicKey, projectA.secretKey, projectA.publicKey, generated.key]) expect(text).not.toContain(value);
      expect(findSecrets([{ where: 'audit_log table', text: JSON.stringify(await gw.dataSource.query('SELECT * FROM audit_log')) }], { s: stored.secretKey, p: projectA.secretKey })).toEqual([]);
    });
  });

  describe('F1–F3: secrets never readable', () => {
    it('every read API masks secrets: callback view, team info/list, key info/list, POST answers, audit, error bodies', async () => {
      const teamId = await newTeam(gw, { team_id: 'sec-read-team', metadata: { logging: [langfuseEntry(stored, langfuse.url)] } }, transcript);
      const posted = await post(
        `/team/${teamId}/callback`,
        { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'read-bucket/pre/fix', gcs_service_account_json: serviceAccount.json } },
        admin(),
      );
      expect(posted.status).toBe(200);
      const generated = await newKey(gw, { team_id: teamId, metadata: { logging: [langfuseEntry(projectA, langfuse.url)] } }, { transcript });
      const reads = [
        posted,
        await get(`/team/${teamId}/callback`, admin()),
        await get(`/team/info?team_id=${teamId}`, admin()),
        await get('/team/list', admin()),
        await get(`/key/info?key=${generated.token}`, admin()),
        transcript.record('GET /key/info (self)', await gw.http().get('/key/info').set(bearer(generated.key))),
        await get('/key/list?return_full_object=true', admin()),
        await get(`/audit?team_id=${teamId}`, admin()),
        await post('/team/update', { team_id: teamId, team_alias: 'renamed' }, admin()),
      ];
      for (const res of reads) {
        expect([pathOf(res), res.status]).toEqual([pathOf(res), 200]);
        expect([pathOf(res), unmaskedSecretVars(res.body)]).toEqual([pathOf(res), []]);
        for (const value of [stored.secretKey, stored.publicKey, projectA.secretKey, projectA.publicKey, serviceAccount.canary]) {
          expect([pathOf(res), res.text.includes(value)]).toEqual([pathOf(res), false]);
        }
      }
      // Hosts and bucket names stay visible.
      const view = (reads[1].body as DataJson<{ callback_vars: Record<string, string> }>).data.callback_vars;
      expect(view.gcs_bucket_name).toBe('read-bucket/pre/fix');
      expect(view.gcs_service_account_json).toBe(MASK);
      // Error bodies never echo the submitted secret either.
      const bad = await post(`/team/${teamId}/callback`, { callback_name: 'langfuse', callback_vars: { langfuse_secret_key: stored.secretKey, langfuse_host: 'gopher://x' } }, teamAdminA);
      expect(bad.status).toBe(403); // another team's admin
      const badOwn = await post(`/team/${teamA}/callback`, { callback_name: 'langfuse', callback_vars: { ...lfVars(), langfuse_host: 'gopher://x' } }, teamAdminA);
      expect(badOwn.status).toBe(400);
      expect(badOwn.text).not.toContain(stored.secretKey);
    });

    it('team metadata.logging through /team/new and /team/update follows the same rules for non-admins', async () => {
      // A team admin may be refused team metadata altogether (403); if the body is examined, the entry rules apply (400).
      const before = await snapshot(teamA);
      const ssrf = await post('/team/update', { team_id: teamA, metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { ...lfVars(), langfuse_host: 'http://169.254.169.254' } }] } }, teamAdminA);
      expect([400, 403]).toContain(ssrf.status);
      if (ssrf.status === 400) expect(errorOf(ssrf).param).toBe('metadata.logging[0].callback_vars.langfuse_host');
      const envRef = await post('/team/update', { team_id: teamA, metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { ...lfVars(), langfuse_secret_key: 'os.environ/SEC_ENV_SECRET' } }] } }, teamAdminA);
      expect([400, 403]).toContain(envRef.status);
      if (envRef.status === 400) expect(errorOf(envRef).param).toBe('metadata.logging[0].callback_vars.langfuse_secret_key');
      const created = await post('/team/new', { team_id: 'sec-new-ssrf', metadata: { logging: [{ callback_name: 'langfuse', callback_vars: { ...lfVars(), langfuse_host: 'ftp://x' } }] } }, admin());
      expect(created.status).toBe(400);
      expect(errorOf(created).param).toBe('metadata.logging[0].callback_vars.langfuse_host');
      expect(await snapshot(teamA)).toBe(before);
    });

    it('encryption at rest: no secret (plain, base64 or JSON-escaped) in any table; the same secret twice is stored differently', async () => {
      await newTeam(gw, { team_id: 'sec-twice-1' }, transcript);
      await newTeam(gw, { team_id: 'sec-twice-2' }, transcript);
      const same = langfuseProject('same-twice');
      expect((await post('/team/sec-twice-1/callback', langfuseEntry(same, langfuse.url), admin())).status).toBe(200);
      expect((await post('/team/sec-twice-2/callback', langfuseEntry(same, langfuse.url), admin())).status).toBe(200);
      const rows: { metadata: unknown }[] = await gw.dataSource.query("SELECT metadata FROM teams WHERE team_id IN ('sec-twice-1', 'sec-twice-2') ORDER BY team_id");
      const stored1 = JSON.stringify(rows[0].metadata);
      const stored2 = JSON.stringify(rows[1].metadata);
      expect(stored1).not.toContain(same.secretKey);
      const secretField = (text: string) => /"langfuse_secret_key":"([^"]+)"/.exec(text)?.[1];
      expect(secretField(stored1)).toBeDefined();
      expect(secretField(stored1)).not.toBe(secretField(stored2));

      const secrets: Record<string, string> = {
        same: same.secretKey,
        samePublic: same.publicKey,
        stored: stored.secretKey,
        storedPublic: stored.publicKey,
        a: projectA.secretKey,
        b: projectB.secretKey,
        sa: serviceAccount.canary,
        env: envSecret,
        ...protectedValues,
      };
      const tables = await databaseHaystacks(gw.dataSource);
      expect(tables.map((t) => t.where)).toEqual(expect.arrayContaining(['table teams', 'table virtual_keys', 'table audit_log']));
      expect(findSecrets(tables, secrets)).toEqual([]);
    });

    it('failed deliveries (Langfuse 401, GCS 403, OTLP 401) leak no credential into stdout, the dead-letter list or tables', async () => {
      const teamId = await newTeam(gw, { team_id: 'sec-failing-team' }, transcript);
      for (const entry of [
        langfuseEntry(wrongPair, langfuse.url),
        { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'sec-forbidden/x', gcs_service_account_json: serviceAccount.json } },
        { callback_name: 'otel', callback_vars: { otel_endpoint: otlp.url, otel_headers: `x-otlp-token=${otlpWrong}` } },
      ]) {
        expect((await post(`/team/${teamId}/callback`, entry, admin())).status).toBe(200);
      }
      const teamKey = (await newKey(gw, { team_id: teamId }, { transcript })).key;
      const mark = marker('sec-failing');
      await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
      await waitFor(`a refused Langfuse ingestion for ${mark}`, () => langfuse.ingestionRequests.some((r) => r.text.includes(mark)));
      await waitFor(`a refused GCS upload for ${mark}`, () => gcs.requests.some((r) => r.text.includes(mark)));
      await waitFor(`a refused OTLP export for ${mark}`, () => otlp.requests.some((r) => r.text.includes(mark)));
      // The refusals were answered; give the gateway time to record and log them.
      await sleep(FLUSH_MS * 10);
      const dead = await get(`/logging/dead-letters?team_id=${teamId}`, admin());
      expect(dead.status).toBe(200);
      const secrets = { wrongSecret: wrongPair.secretKey, wrongPublic: wrongPair.publicKey, sa: serviceAccount.canary, otlpWrong };
      expect(findSecrets([{ where: 'dead letters', text: dead.text }], secrets)).toEqual([]);
      expect(findSecrets([{ where: 'stdout', text: capture.text() }], secrets)).toEqual([]);
      expect(findSecrets(await databaseHaystacks(gw.dataSource), secrets)).toEqual([]);
      // Each refused request carried only its own destination's credentials.
      expect(findSecrets(fakeHaystacks('gcs', gcs.requests), { wrongSecret: wrongPair.secretKey, otlpWrong })).toEqual([]);
      expect(findSecrets(fakeHaystacks('otlp', otlp.requests, ['x-otlp-token']), { ...secrets, otlpWrong: '' })).toEqual([]);
      expect(findSecrets(fakeHaystacks('langfuse', langfuse.requests, ['authorization']), { wrongSecret: wrongPair.secretKey, sa: serviceAccount.canary, otlpWrong })).toEqual([]);
    });

    it('nothing secret in any response of this spec, in stdout, or in what the fake received beyond its auth header', () => {
      const secrets: Record<string, string> = {
        stored: stored.secretKey,
        storedPublic: stored.publicKey,
        a: projectA.secretKey,
        aPublic: projectA.publicKey,
        b: projectB.secretKey,
        bPublic: projectB.publicKey,
        sa: serviceAccount.canary,
        env: envSecret,
        wrongSecret: wrongPair.secretKey,
        wrongPublic: wrongPair.publicKey,
        otlpWrong,
        ...protectedValues,
      };
      expect(findSecrets(transcript.entries, secrets)).toEqual([]);
      expect(capture.lines.length).toBeGreaterThan(0);
      expect(findSecrets([{ where: 'stdout', text: capture.text() }], { ...secrets, master: gw.masterKey, ta: teamAdminA, ma: memberA, tb: teamAdminB, pa: proxyAdmin })).toEqual([]);
      expect(findSecrets(fakeHaystacks('langfuse', langfuse.requests, ['authorization']), { stored: stored.secretKey, a: projectA.secretKey, b: projectB.secretKey, env: envSecret, master: gw.masterKey })).toEqual([]);
    });
  });
});
