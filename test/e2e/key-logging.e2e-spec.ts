import { errorOf, type GeneratedKeyJson, type KeyInfoJson } from '../support/api-responses';
import { FakeGcs } from '../support/fakes/fake-gcs';
import { FakeLangfuse, type KeyPair } from '../support/fakes/fake-langfuse';
import { FAKE_ENDPOINT_ANSWER, GPT4_ANSWER, langfuseProject, modelListYaml, tempDir } from '../support/logging/fixtures';
import {
  addCallback,
  bearer,
  chat,
  chatOk,
  databaseHaystacks,
  EnvScope,
  findSecrets,
  gcsEventsWith,
  langfuseEntry,
  langfuseTraces,
  LOGGING_ENV,
  makeServiceAccount,
  marker,
  MASK,
  newKey,
  newTeam,
  quietPeriod,
  requestsMentioning,
  secret,
  Transcript,
  unmaskedSecretVars,
  waitFor,
  waitForLangfuse,
} from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 4, "[BETA] Key Based Logging": `metadata.logging` on /key/generate and /key/update, first source wins
 * (key > team API > config team > global), an empty list means nowhere, changes apply to the next request,
 * validation with the same rules as team callbacks, and masking in every key response.
 */
describe('key based logging (seed flows, precedence, validation, masking)', () => {
  const env = new EnvScope();
  const transcript = new Transcript();
  const dir = tempDir('gatehouse-key-logging-');

  const globalProject = langfuseProject('key-global');
  const configProject = langfuseProject('key-config-team');
  const seedKeyProject = langfuseProject('key-seed');
  const teamProject = langfuseProject('key-team');
  const ownProject = langfuseProject('key-own');
  const updatedProject = langfuseProject('key-updated');
  const failureProject = langfuseProject('key-failure');
  const taProject = langfuseProject('key-team-admin');
  const projects: KeyPair[] = [globalProject, configProject, seedKeyProject, teamProject, ownProject, updatedProject, failureProject, taProject];
  const serviceAccount = makeServiceAccount('key-logger');

  let langfuse: FakeLangfuse;
  let gcs: FakeGcs;
  let gw: TestApp;
  let noTeamKey: string;

  async function positiveControl(): Promise<void> {
    const mark = marker('control');
    await chatOk(gw.baseUrl, noTeamKey, { marker: mark }, transcript);
    await waitForLangfuse(langfuse, globalProject.publicKey, mark);
    await quietPeriod();
  }

  async function keyCount(): Promise<number> {
    const [{ count }] = await gw.dataSource.query<{ count: number }[]>('SELECT count(*)::int AS count FROM virtual_keys');
    return count;
  }

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: projects });
    gcs = await FakeGcs.start({ buckets: ['key-logs'] });
    const saPath = dir.write('sa.json', serviceAccount.json);
    env.set({
      LANGFUSE_PUBLIC_KEY: globalProject.publicKey,
      LANGFUSE_SECRET_KEY: globalProject.secretKey,
      LANGFUSE_HOST: langfuse.url,
      CFG_TEAM_PK: configProject.publicKey,
      CFG_TEAM_SK: configProject.secretKey,
      // The seed's key example references the proxy environment; these names are the key's own project.
      KEY_LANGFUSE_PUBLIC_KEY: seedKeyProject.publicKey,
      KEY_LANGFUSE_SECRET_KEY: seedKeyProject.secretKey,
      GCS_SERVICE_ACCOUNT: saPath,
      STORAGE_EMULATOR_HOST: gcs.url,
    });
    gw = await createTestApp({
      configYaml: `${modelListYaml()}
litellm_settings:
  success_callback: ["langfuse"]
  default_team_settings:
    - team_id: cfg-team
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/CFG_TEAM_PK
      langfuse_secret: os.environ/CFG_TEAM_SK
general_settings:
  allowed_logging_hosts: ["127.0.0.1:${langfuse.port}"]
`,
      env: { ...LOGGING_ENV, STORAGE_EMULATOR_HOST: gcs.url, LANGFUSE_HOST: langfuse.url },
    });
    noTeamKey = (await newKey(gw, { key_alias: 'no-team' }, { transcript })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([langfuse?.close(), gcs?.close()]);
    env.restore();
    dir.cleanup();
  });

  it('the seed’s Langfuse key: env references (proxy admin), the key logs to its own project, not the global one', async () => {
    const res = await gw
      .http()
      .post('/key/generate')
      .set(bearer(gw.masterKey))
      .set('Content-Type', 'application/json')
      .send(`{
    "metadata": {
        "logging": [{
            "callback_name": "langfuse", # "otel", "gcs_bucket"
            "callback_type": "success", # "success", "failure", "success_and_failure"
            "callback_vars": {
                "langfuse_public_key": "os.environ/KEY_LANGFUSE_PUBLIC_KEY", # [RECOMMENDED] reference key in proxy environment
                "langfuse_secret_key": "os.environ/KEY_LANGFUSE_SECRET_KEY", # [RECOMMENDED] reference key in proxy environment
                "langfuse_host": "${langfuse.url}"
            }
        }]
    }
}`);
    transcript.record('POST /key/generate (seed langfuse)', res);
    expect(res.status).toBe(200);
    const generated = res.body as GeneratedKeyJson;
    expect(generated.metadata.logging).toHaveLength(1);
    expect(generated.metadata.logging[0]).toMatchObject({ callback_name: 'langfuse', callback_type: 'success' });
    expect(unmaskedSecretVars(res.body)).toEqual([]);
    expect(res.text).not.toContain(seedKeyProject.secretKey);
    expect(res.text).not.toContain(seedKeyProject.publicKey);

    const mark = marker('seed-key');
    const answer = await chatOk(gw.baseUrl, generated.key, { marker: mark }, transcript);
    const { trace } = await waitForLangfuse(langfuse, seedKeyProject.publicKey, mark);
    expect(trace.id).toBe(answer.callId);
    await positiveControl();
    expect(langfuseTraces(langfuse, globalProject.publicKey, mark)).toEqual([]);
  });

  it('the seed’s GCS key: gcs_path_service_account from the environment; the request lands in the bucket', async () => {
    const res = await gw
      .http()
      .post('/key/generate')
      .set(bearer(gw.masterKey))
      .send({
        key_alias: 'gcs-key',
        metadata: {
          logging: [
            {
              callback_name: 'gcs_bucket',
              callback_type: 'success',
              callback_vars: { gcs_bucket_name: 'key-logs', gcs_path_service_account: 'os.environ/GCS_SERVICE_ACCOUNT' },
            },
          ],
        },
      });
    transcript.record('POST /key/generate (seed gcs)', res);
    expect(res.status).toBe(200);
    const generated = res.body as GeneratedKeyJson;
    const mark = marker('seed-gcs');
    // The seed's request: fake-openai-endpoint, with "user": "hello" (and its trailing comma).
    const response = await fetch(`${gw.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${generated.key}`, 'Content-Type': 'application/json' },
      body: `{\n "model": "fake-openai-endpoint",\n "messages": [\n {"role": "user", "content": "Hello, Claude ${mark}"}\n ],\n "user": "hello",\n }`,
    });
    const text = await response.text();
    expect([response.status, text.slice(0, 300)]).toEqual([200, expect.any(String)]);
    const callId = response.headers.get('x-litellm-call-id');
    const [found] = await waitFor(`GCS event with ${mark}`, () => gcsEventsWith(gcs, 'key-logs', mark));
    expect(found.objectName).toMatch(/^(?:[^/]+\/)*\d{4}-\d{2}-\d{2}\/batch-\d{13}-[0-9a-f]{8}\.ndjson$/);
    expect(found.event).toMatchObject({
      litellm_call_id: callId,
      model: 'fake-openai-endpoint',
      status: 'success',
      end_user: 'hello',
      metadata: { user_api_key_alias: 'gcs-key', user_api_key_hash: generated.token },
    });
    expect(JSON.stringify(found.event.response)).toContain(FAKE_ENDPOINT_ANSWER);
    expect(findSecrets([{ where: 'gcs uploads', text: gcs.requests.map((r) => r.text + JSON.stringify(r.headers)).join('\n') }], { sa: serviceAccount.canary })).toEqual([]);
    await positiveControl();
    expect(langfuseTraces(langfuse, globalProject.publicKey, mark)).toEqual([]);
  });

  it('first source wins: key beats team, team beats global, config team beats global, no team → global', async () => {
    const teamId = await newTeam(gw, { team_id: 'key-precedence-team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(teamProject, langfuse.url), { transcript });
    const own = await newKey(gw, { team_id: teamId, key_alias: 'own-dest', metadata: { logging: [langfuseEntry(ownProject, langfuse.url)] } }, { transcript });
    const plain = await newKey(gw, { team_id: teamId, key_alias: 'team-dest' }, { transcript });
    const cfg = await newKey(gw, { team_id: 'cfg-team' }, { transcript });

    const mOwn = marker('own');
    const mTeam = marker('team');
    const mCfg = marker('cfg');
    const mNone = marker('none');
    await chatOk(gw.baseUrl, own.key, { marker: mOwn }, transcript);
    await chatOk(gw.baseUrl, plain.key, { marker: mTeam }, transcript);
    await chatOk(gw.baseUrl, cfg.key, { marker: mCfg }, transcript);
    await chatOk(gw.baseUrl, noTeamKey, { marker: mNone }, transcript);

    const ownEvent = await waitForLangfuse(langfuse, ownProject.publicKey, mOwn);
    expect(ownEvent.generation.name).toBe('litellm:own-dest');
    await waitForLangfuse(langfuse, teamProject.publicKey, mTeam);
    await waitForLangfuse(langfuse, configProject.publicKey, mCfg);
    await waitForLangfuse(langfuse, globalProject.publicKey, mNone);
    await positiveControl();

    const everywhere = (mark: string) => projects.filter((p) => langfuseTraces(langfuse, p.publicKey, mark).length > 0).map((p) => p.publicKey);
    expect(everywhere(mOwn)).toEqual([ownProject.publicKey]);
    expect(everywhere(mTeam)).toEqual([teamProject.publicKey]);
    expect(everywhere(mCfg)).toEqual([configProject.publicKey]);
    expect(everywhere(mNone)).toEqual([globalProject.publicKey]);
  });

  it('a present but empty key list means “log nowhere”: not the team’s, not the global destinations', async () => {
    const teamId = await newTeam(gw, { team_id: 'key-empty-team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(teamProject, langfuse.url), { transcript });
    const silent = await newKey(gw, { team_id: teamId, metadata: { logging: [] } }, { transcript });
    const silentNoTeam = await newKey(gw, { metadata: { logging: [] } }, { transcript });
    const mark = marker('empty-list');
    const markNoTeam = marker('empty-list-no-team');
    await chatOk(gw.baseUrl, silent.key, { marker: mark }, transcript);
    await chatOk(gw.baseUrl, silentNoTeam.key, { marker: markNoTeam }, transcript);
    await positiveControl();
    expect(requestsMentioning({ langfuse, gcs }, mark)).toEqual([]);
    expect(requestsMentioning({ langfuse, gcs }, markNoTeam)).toEqual([]);
  });

  it('/key/update changes the key’s logging for the very next request, and an empty list silences it', async () => {
    const teamId = await newTeam(gw, { team_id: 'key-update-team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(teamProject, langfuse.url), { transcript });
    const generated = await newKey(gw, { team_id: teamId }, { transcript });

    const m1 = marker('before-update');
    await chatOk(gw.baseUrl, generated.key, { marker: m1 }, transcript);
    await waitForLangfuse(langfuse, teamProject.publicKey, m1);

    const updated = await gw
      .http()
      .post('/key/update')
      .set(bearer(gw.masterKey))
      .send({ key: generated.key, metadata: { logging: [langfuseEntry(updatedProject, langfuse.url)] } });
    transcript.record('POST /key/update', updated);
    expect(updated.status).toBe(200);
    expect(unmaskedSecretVars(updated.body)).toEqual([]);
    expect(updated.text).not.toContain(updatedProject.secretKey);

    const m2 = marker('after-update');
    await chatOk(gw.baseUrl, generated.key, { marker: m2 }, transcript);
    await waitForLangfuse(langfuse, updatedProject.publicKey, m2);

    await gw.http().post('/key/update').set(bearer(gw.masterKey)).send({ key: generated.token, metadata: { logging: [] } }).expect(200);
    const m3 = marker('after-empty');
    await chatOk(gw.baseUrl, generated.key, { marker: m3 }, transcript);

    await positiveControl();
    expect(langfuseTraces(langfuse, teamProject.publicKey, m2)).toEqual([]);
    expect(requestsMentioning({ langfuse }, m3)).toEqual([]);
  });

  it('"logging": null removes the key’s own logging, so it follows its team again (README)', async () => {
    const teamId = await newTeam(gw, { team_id: 'key-null-team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(teamProject, langfuse.url), { transcript });
    const generated = await newKey(gw, { team_id: teamId, metadata: { logging: [] } }, { transcript });
    const silent = marker('null-before');
    await chatOk(gw.baseUrl, generated.key, { marker: silent }, transcript);
    await gw.http().post('/key/update').set(bearer(gw.masterKey)).send({ key: generated.token, metadata: { logging: null } }).expect(200);
    const follows = marker('null-after');
    await chatOk(gw.baseUrl, generated.key, { marker: follows }, transcript);
    await waitForLangfuse(langfuse, teamProject.publicKey, follows);
    await positiveControl();
    expect(requestsMentioning({ langfuse }, silent)).toEqual([]);
  });

  it('turn_off_message_logging: the destination gets the event without the messages and the answer (README)', async () => {
    const traceId = `tid-${secret('quiet')}`;
    const generated = await newKey(
      gw,
      {
        key_alias: 'quiet-key',
        metadata: { logging: [{ ...langfuseEntry(ownProject, langfuse.url), callback_vars: { ...(langfuseEntry(ownProject, langfuse.url).callback_vars as object), turn_off_message_logging: true } }] },
      },
      { transcript },
    );
    const mark = marker('quiet');
    await chatOk(gw.baseUrl, generated.key, { marker: mark, metadata: { trace_id: traceId } }, transcript);
    const trace = await waitFor(`trace ${traceId}`, () => langfuse.trace(ownProject.publicKey, traceId));
    await waitFor(`generation of ${traceId}`, () => langfuse.generations(ownProject.publicKey, traceId));
    expect(trace.metadata).toMatchObject({ user_api_key_alias: 'quiet-key' });
    await positiveControl();
    expect(requestsMentioning({ langfuse }, mark)).toEqual([]);
    const quietRequests = langfuse.ingestionRequests.filter((r) => r.text.includes(traceId));
    expect(quietRequests.length).toBeGreaterThan(0);
    for (const request of quietRequests) expect(request.text.includes(GPT4_ANSWER)).toBe(false);
  });

  it('a key’s failure-only entry gets the failed request (level ERROR) and not the successful one', async () => {
    const generated = await newKey(gw, { key_alias: 'failure-key', metadata: { logging: [langfuseEntry(failureProject, langfuse.url, 'failure')] } }, { transcript });
    const ok = marker('key-ok');
    const bad = marker('key-bad');
    await chatOk(gw.baseUrl, generated.key, { marker: ok }, transcript);
    const failed = await chat(gw.baseUrl, generated.key, { model: 'no-such-model', marker: bad }, transcript);
    expect(failed.status).toBe(400);
    const { generation } = await waitForLangfuse(langfuse, failureProject.publicKey, bad);
    expect(generation.level).toBe('ERROR');
    await positiveControl();
    expect(requestsMentioning({ langfuse }, ok)).toEqual([]);
  });

  it('a team admin may give its team’s keys their own destination (allow-listed host:port, real values)', async () => {
    const teamId = await newTeam(gw, { team_id: 'key-ta-team' }, transcript);
    const admin = await newKey(gw, { team_id: teamId, role: 'team_admin' }, { transcript });
    const minted = await newKey(gw, { key_alias: 'ta-minted', metadata: { logging: [langfuseEntry(taProject, langfuse.url)] } }, { auth: admin.key, transcript });
    expect(minted.body.team_id).toBe(teamId);
    expect(unmaskedSecretVars(minted.body)).toEqual([]);
    const mark = marker('ta-key');
    await chatOk(gw.baseUrl, minted.key, { marker: mark }, transcript);
    await waitForLangfuse(langfuse, taProject.publicKey, mark);
  });

  describe('validation: same rules as team callbacks, 400 naming the field, nothing written', () => {
    let teamAdmin: string;
    let member: string;
    const pair = langfuseProject('never-stored');

    beforeAll(async () => {
      await newTeam(gw, { team_id: 'key-validation-team' }, transcript);
      teamAdmin = (await newKey(gw, { team_id: 'key-validation-team', role: 'team_admin' }, { transcript })).key;
      member = (await newKey(gw, { team_id: 'key-validation-team' }, { transcript })).key;
    });

    const lf = (vars: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ callback_name: 'langfuse', callback_vars: vars, ...extra });

    const cases: [string, () => unknown, 'admin' | 'team_admin', string][] = [
      ['logging not a list', () => ({ callback_name: 'langfuse' }), 'admin', 'metadata.logging'],
      ['unknown callback_name', () => [{ callback_name: 'langfusee', callback_vars: {} }], 'admin', 'metadata.logging[0].callback_name'],
      ['bad callback_type', () => [lf({ langfuse_public_key: pair.publicKey, langfuse_secret_key: pair.secretKey }, { callback_type: 'both' })], 'admin', 'metadata.logging[0].callback_type'],
      ['unknown var', () => [lf({ langfuse_public_key: pair.publicKey, langfuse_secret_key: pair.secretKey, langfuse_colour: 'red' })], 'admin', 'metadata.logging[0].callback_vars.langfuse_colour'],
      ['missing secret key', () => [lf({ langfuse_public_key: pair.publicKey, langfuse_host: langfuse.url })], 'admin', 'metadata.logging[0].callback_vars.langfuse_secret_key'],
      [
        'second entry invalid',
        () => [langfuseEntry(pair, langfuse.url), { callback_name: 'otel', callback_vars: { otel_service_name: 'x' } }],
        'admin',
        'metadata.logging[1].callback_vars.otel_endpoint',
      ],
      ['admin env reference to an unset variable', () => [lf({ langfuse_public_key: 'os.environ/GATEHOUSE_NOT_SET_ANYWHERE', langfuse_secret_key: pair.secretKey })], 'admin', 'metadata.logging[0].callback_vars.langfuse_public_key'],
      ['admin env reference to DATABASE_URL', () => [lf({ langfuse_public_key: pair.publicKey, langfuse_secret_key: 'os.environ/DATABASE_URL' })], 'admin', 'metadata.logging[0].callback_vars.langfuse_secret_key'],
      ['team admin env reference', () => [lf({ langfuse_public_key: pair.publicKey, langfuse_secret_key: 'os.environ/LANGFUSE_SECRET_KEY', langfuse_host: langfuse.url })], 'team_admin', 'metadata.logging[0].callback_vars.langfuse_secret_key'],
      ['team admin loopback host not on the allowlist', () => [lf({ langfuse_public_key: pair.publicKey, langfuse_secret_key: pair.secretKey, langfuse_host: 'http://127.0.0.1:1' })], 'team_admin', 'metadata.logging[0].callback_vars.langfuse_host'],
      ['team admin metadata address', () => [lf({ langfuse_public_key: pair.publicKey, langfuse_secret_key: pair.secretKey, langfuse_host: 'http://169.254.169.254/latest/meta-data/' })], 'team_admin', 'metadata.logging[0].callback_vars.langfuse_host'],
      ['team admin GCS file path', () => [{ callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'key-logs', gcs_path_service_account: '/etc/passwd', gcs_service_account_json: serviceAccount.json } }], 'team_admin', 'metadata.logging[0].callback_vars.gcs_path_service_account'],
      ['team admin GCS without its own service account', () => [{ callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: 'key-logs' } }], 'team_admin', 'metadata.logging[0].callback_vars.gcs_service_account_json'],
    ];

    it.each(cases)('/key/generate: %s', async (_name, logging, who, param) => {
      const before = await keyCount();
      const res = await gw
        .http()
        .post('/key/generate')
        .set(bearer(who === 'admin' ? gw.masterKey : teamAdmin))
        .send({ key_alias: 'never', metadata: { logging: logging() } });
      transcript.record('POST /key/generate (invalid)', res);
      expect(res.status).toBe(400);
      expect(errorOf(res)).toMatchObject({ type: 'invalid_request_error', param });
      expect(res.text).not.toContain(pair.secretKey);
      expect(res.text).not.toContain(process.env.DATABASE_URL as string);
      expect(await keyCount()).toBe(before);
    });

    it.each(cases)('/key/update: %s', async (_name, logging, who, param) => {
      const target = await newKey(gw, { team_id: 'key-validation-team', metadata: { owner: 'unchanged', logging: [langfuseEntry(teamProject, langfuse.url)] } }, { transcript });
      const infoBefore = await gw.http().get('/key/info').query({ key: target.token }).set(bearer(gw.masterKey)).expect(200);
      const res = await gw
        .http()
        .post('/key/update')
        .set(bearer(who === 'admin' ? gw.masterKey : teamAdmin))
        .send({ key: target.token, metadata: { owner: 'changed', logging: logging() } });
      transcript.record('POST /key/update (invalid)', res);
      expect(res.status).toBe(400);
      expect(errorOf(res)).toMatchObject({ type: 'invalid_request_error', param });
      const infoAfter = await gw.http().get('/key/info').query({ key: target.token }).set(bearer(gw.masterKey)).expect(200);
      const metadataAfter = (infoAfter.body as KeyInfoJson).info.metadata;
      expect(metadataAfter).toEqual((infoBefore.body as KeyInfoJson).info.metadata);
      expect(metadataAfter.owner).toBe('unchanged');
    });

    it('a plain key may not give itself (or anyone) a logging destination', async () => {
      const before = await keyCount();
      const res = await gw.http().post('/key/generate').set(bearer(member)).send({ metadata: { logging: [langfuseEntry(pair, langfuse.url)] } });
      expect(res.status).toBe(403);
      expect(errorOf(res).type).toBe('permission_error');
      expect(await keyCount()).toBe(before);
      const self = await gw.http().post('/key/update').set(bearer(member)).send({ key: member, metadata: { logging: [] } });
      expect(self.status).toBe(403);
    });
  });

  it('key responses mask secrets: generate, update, info (self and admin), list', async () => {
    const vars = langfuseProject('masking');
    const generated = await newKey(gw, { key_alias: 'masked', metadata: { logging: [langfuseEntry(vars, langfuse.url)], note: 'kept' } }, { transcript });
    expect(generated.body.metadata).toMatchObject({ note: 'kept', logging: [{ callback_name: 'langfuse', callback_type: 'success_and_failure' }] });
    const entryVars = generated.body.metadata.logging[0].callback_vars;
    expect(entryVars).toEqual({ langfuse_public_key: MASK, langfuse_secret_key: MASK, langfuse_host: langfuse.url });

    const responses = [
      await gw.http().get('/key/info').set(bearer(generated.key)).expect(200),
      await gw.http().get('/key/info').query({ key: generated.token }).set(bearer(gw.masterKey)).expect(200),
      await gw.http().get('/key/list').query({ return_full_object: 'true' }).set(bearer(gw.masterKey)).expect(200),
      await gw.http().post('/key/update').set(bearer(gw.masterKey)).send({ key: generated.token, key_alias: 'masked-2' }).expect(200),
    ];
    for (const res of responses) {
      transcript.record('key read', res);
      expect(unmaskedSecretVars(res.body)).toEqual([]);
      expect(res.text).not.toContain(vars.secretKey);
      expect(res.text).not.toContain(vars.publicKey);
    }
    const shownLogging = (responses[0].body as KeyInfoJson).info.metadata.logging;
    expect(shownLogging[0].callback_vars).toEqual({ langfuse_public_key: MASK, langfuse_secret_key: MASK, langfuse_host: langfuse.url });
    // Masked values are never accepted back as credentials.
    const echoed = await gw
      .http()
      .post('/key/update')
      .set(bearer(gw.masterKey))
      .send({ key: generated.token, metadata: { logging: shownLogging } });
    expect(echoed.status).toBe(400);
  });

  it('no key logging secret in any response or database table', async () => {
    const secrets: Record<string, string> = {};
    for (const project of projects) {
      secrets[`secret of ${project.publicKey.slice(0, 24)}`] = project.secretKey;
    }
    secrets['SA private key'] = serviceAccount.canary;
    // Values that only ever existed as env references must not be resolved into storage or responses either.
    expect(findSecrets(transcript.entries, secrets)).toEqual([]);
    const tables = await databaseHaystacks(gw.dataSource);
    expect(tables.length).toBeGreaterThan(0);
    expect(findSecrets(tables, secrets)).toEqual([]);
    // Public keys are secret vars too: encrypted at rest.
    expect(findSecrets(tables, { ownPublicKey: ownProject.publicKey, updatedPublicKey: updatedProject.publicKey })).toEqual([]);
  });
});
