import { errorOf, type GeneratedKeyJson, type TeamCallbackJson } from '../support/api-responses';
import { basicAuth } from '../support/fakes/fake-http-server';
import { FakeGcs } from '../support/fakes/fake-gcs';
import { FakeLangfuse, type KeyPair } from '../support/fakes/fake-langfuse';
import { FakeLangsmith } from '../support/fakes/fake-langsmith';
import { FakeOtlp } from '../support/fakes/fake-otlp';
import { freePort } from '../support/gateway-process';
import {
  FAKE_ENDPOINT_ANSWER,
  GPT4_ANSWER,
  langfuseProject,
  modelListYaml,
  tempDir,
  TUTORIAL_TEAM,
} from '../support/logging/fixtures';
import {
  addCallback,
  bearer,
  chat,
  chatOk,
  databaseHaystacks,
  EnvScope,
  fakeHaystacks,
  findSecrets,
  gcsEventsWith,
  langfuseEntry,
  langfuseGenerations,
  langfuseTraces,
  LogCapture,
  LOGGING_ENV,
  makeServiceAccount,
  marker,
  newKey,
  newTeam,
  otlpSpansWith,
  quietPeriod,
  requestsMentioning,
  secret,
  Transcript,
  unmaskedSecretVars,
  waitFor,
  waitForLangfuse,
  type Haystack,
} from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 4, the seed's team flows end to end ("Team/Key Based Logging"): config teams in two Langfuse projects,
 * the "Team Logging via API" tutorial, disable_logging, GCS / OTLP / failure / streaming delivery, two entries
 * of one kind, GET and DELETE of team callbacks, 3 × 50 interleaved requests, and a secret sweep of everything.
 * Destinations are loopback fakes driven by the real client libraries.
 */
describe('team based logging (seed flows, end to end)', () => {
  const env = new EnvScope();
  const capture = new LogCapture();
  const transcript = new Transcript();
  const dir = tempDir('gatehouse-team-logging-');

  // Langfuse projects on one fake (the fake keeps projects apart by Basic-auth public key).
  const project1 = langfuseProject('project1');
  const project2 = langfuseProject('project2');
  const globalProject = langfuseProject('global');
  const tutorialProject = langfuseProject('tutorial');
  const nextRequestProject = langfuseProject('next-request');
  const failureProject = langfuseProject('failure-only');
  const successProject = langfuseProject('success-only');
  const streamProject = langfuseProject('stream');
  const twinA = langfuseProject('twin-a');
  const twinB = langfuseProject('twin-b');
  const deleteProject = langfuseProject('delete');
  const gdprProject = langfuseProject('gdpr-team');
  const gdprKeyProject = langfuseProject('gdpr-key');
  const gdprReEnabled = langfuseProject('gdpr-re-enabled');
  const metaNew = langfuseProject('meta-new');
  const metaUpdated = langfuseProject('meta-updated');
  const concurrentProjects = [langfuseProject('conc-1'), langfuseProject('conc-2'), langfuseProject('conc-3')];
  const allProjects: KeyPair[] = [
    project1,
    project2,
    globalProject,
    tutorialProject,
    nextRequestProject,
    failureProject,
    successProject,
    streamProject,
    twinA,
    twinB,
    deleteProject,
    gdprProject,
    gdprKeyProject,
    gdprReEnabled,
    metaNew,
    metaUpdated,
    ...concurrentProjects,
  ];

  const otlpToken = secret('otlp-token');
  const langsmithKey = secret('ls-api-key');
  const upstreamKey = `sk-upstream-${secret('openai')}`;
  const teamServiceAccount = makeServiceAccount('team-logger');
  const globalServiceAccount = makeServiceAccount('global-logger');

  let langfuse: FakeLangfuse;
  let gcs: FakeGcs;
  let globalOtlp: FakeOtlp;
  let teamOtlp: FakeOtlp;
  let langsmith: FakeLangsmith;
  let gw: TestApp;
  let teamlessKey: string;
  const virtualKeys: string[] = [];

  const fakes = () => ({ langfuse, gcs, globalOtlp, teamOtlp, langsmith });

  /** Sends a chat with a key of no team (→ global callbacks) and waits for it: the positive control. */
  async function positiveControl(): Promise<void> {
    const mark = marker('control');
    const res = await chatOk(gw.baseUrl, teamlessKey, { marker: mark }, transcript);
    await waitForLangfuse(langfuse, globalProject.publicKey, mark);
    await waitFor(`global OTLP span for ${mark}`, () => otlpSpansWith(globalOtlp, mark));
    await waitFor(`global GCS event for ${mark}`, () => gcsEventsWith(gcs, 'global-logs', mark));
    expect(res.callId).toBeTruthy();
    await quietPeriod();
  }

  async function key(body: Record<string, unknown>, auth?: string): Promise<string> {
    const generated = await newKey(gw, body, { auth, transcript });
    virtualKeys.push(generated.key);
    return generated.key;
  }

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: allProjects });
    gcs = await FakeGcs.start({ buckets: ['global-logs', 'team-logs'] });
    globalOtlp = await FakeOtlp.start();
    teamOtlp = await FakeOtlp.start({ requiredHeaders: { 'x-otlp-token': otlpToken } });
    langsmith = await FakeLangsmith.start({ apiKeys: [langsmithKey] });
    const closedPort = await freePort();
    const saPath = dir.write('global-sa.json', globalServiceAccount.json);

    env.set({
      // default_team_settings references (the seed's names)
      LANGFUSE_PUB_KEY_1: project1.publicKey,
      LANGFUSE_PRIVATE_KEY_1: project1.secretKey,
      LANGFUSE_PUB_KEY_2: project2.publicKey,
      LANGFUSE_SECRET_2: project2.secretKey,
      // global callbacks, read from the destinations' usual variables
      LANGFUSE_PUBLIC_KEY: globalProject.publicKey,
      LANGFUSE_SECRET_KEY: globalProject.secretKey,
      LANGFUSE_HOST: langfuse.url,
      GCS_BUCKET_NAME: 'global-logs',
      GCS_PATH_SERVICE_ACCOUNT: saPath,
      OTEL_EXPORTER_OTLP_ENDPOINT: globalOtlp.url,
      OTEL_SERVICE_NAME: 'gatehouse-global',
      STORAGE_EMULATOR_HOST: gcs.url,
    });

    const configYaml = `${modelListYaml({ brokenUpstreamPort: closedPort, brokenUpstreamKey: upstreamKey })}
litellm_settings:
  success_callback: ["langfuse", "gcs_bucket"]
  callbacks: ["otel"]
  default_team_settings:
    - team_id: my-secret-project
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/LANGFUSE_PUB_KEY_1 # Project 1
      langfuse_secret: os.environ/LANGFUSE_PRIVATE_KEY_1 # Project 1
    - team_id: ishaans-secret-project
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/LANGFUSE_PUB_KEY_2 # Project 2
      langfuse_secret: os.environ/LANGFUSE_SECRET_2 # Project 2
    - team_id: ${TUTORIAL_TEAM}
    - team_id: cfg-override-team
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/LANGFUSE_PUB_KEY_1
      langfuse_secret: os.environ/LANGFUSE_PRIVATE_KEY_1

general_settings:
  allowed_logging_hosts: ["127.0.0.1"]
`;
    gw = await createTestApp({
      configYaml,
      env: { ...LOGGING_ENV, STORAGE_EMULATOR_HOST: gcs.url, LANGFUSE_HOST: langfuse.url },
      logDestination: capture,
    });
    teamlessKey = await key({ key_alias: 'no-team-key' });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([langfuse?.close(), gcs?.close(), globalOtlp?.close(), teamOtlp?.close(), langsmith?.close()]);
    env.restore();
    dir.cleanup();
  });

  it('GET /team/{id}/callback reflects the config teams (default_team_settings) with secrets masked', async () => {
    const res = transcript.record('GET callback', await gw.http().get('/team/my-secret-project/callback').set(bearer(gw.masterKey)).expect(200));
    expect(res.body).toMatchObject({
      status: 'success',
      data: { team_id: 'my-secret-project', success_callbacks: ['langfuse'], failure_callbacks: [] },
    });
    const vars = (res.body as TeamCallbackJson).data.callback_vars;
    expect(Object.keys(vars)).toEqual(expect.arrayContaining(['langfuse_public_key']));
    expect(Object.keys(vars).some((name) => name === 'langfuse_secret' || name === 'langfuse_secret_key')).toBe(true);
    expect(unmaskedSecretVars(res.body)).toEqual([]);
    expect(res.text).not.toContain(project1.publicKey);
    expect(res.text).not.toContain(project1.secretKey);

    const other = await gw.http().get('/team/ishaans-secret-project/callback').set(bearer(gw.masterKey)).expect(200);
    expect((other.body as TeamCallbackJson).data).toMatchObject({ team_id: 'ishaans-secret-project', success_callbacks: ['langfuse'], failure_callbacks: [] });
    expect(other.text).not.toContain(project2.secretKey);

    // A config team without callbacks reports nothing (the tutorial team before its POST).
    const tutorial = await gw.http().get(`/team/${TUTORIAL_TEAM}/callback`).set(bearer(gw.masterKey)).expect(200);
    expect(tutorial.body).toMatchObject({
      status: 'success',
      data: { team_id: TUTORIAL_TEAM, success_callbacks: [], failure_callbacks: [], callback_vars: {} },
    });
  });

  it('two config teams land in their own Langfuse projects and never in each other’s (nor in the global one)', async () => {
    // The seed's curl, as written.
    const gen1 = await gw
      .http()
      .post('/key/generate')
      .set(bearer(gw.masterKey))
      .set('Content-Type', 'application/json')
      .send('{"team_id": "my-secret-project", "key_alias": "team1-key"}')
      .expect(200);
    transcript.record('POST /key/generate', gen1);
    const gen2 = await gw.http().post('/key/generate').set(bearer(gw.masterKey)).set('Content-Type', 'application/json').send('{"team_id": "ishaans-secret-project"}').expect(200);
    transcript.record('POST /key/generate', gen2);
    const [key1, key2] = [gen1.body as GeneratedKeyJson, gen2.body as GeneratedKeyJson];
    virtualKeys.push(key1.key, key2.key);

    const m1 = marker('team1');
    const m2 = marker('team2');
    const r1 = await chatOk(gw.baseUrl, key1.key, { marker: m1, user: 'hello', metadata: { trace_id: `trace-${m1}`, tags: ['seed-flow'] }, extra: { temperature: 0.2, max_tokens: 50 } }, transcript);
    const r2 = await chatOk(gw.baseUrl, key2.key, { marker: m2 }, transcript);
    expect(r1.content).toBe(GPT4_ANSWER);

    const one = await waitForLangfuse(langfuse, project1.publicKey, m1);
    const two = await waitForLangfuse(langfuse, project2.publicKey, m2);

    // Project 1: trace id from metadata.trace_id, LiteLLM's names, input/output/model/usage/cost/user/tags/metadata.
    expect(one.trace.id).toBe(`trace-${m1}`);
    expect(langfuse.trace(project1.publicKey, `trace-${m1}`)).toBeDefined();
    expect(langfuse.generations(project1.publicKey, `trace-${m1}`)).toHaveLength(1);
    expect(one.trace.name).toBe('litellm-acompletion');
    expect(one.trace.userId).toBe('hello');
    expect(one.trace.tags).toEqual(expect.arrayContaining(['seed-flow']));
    expect(one.generation.name).toBe('litellm:team1-key');
    expect(one.generation.model).toBe('gpt-4');
    expect(JSON.stringify(one.generation.input)).toContain(m1);
    expect(JSON.stringify(one.generation.output)).toContain(GPT4_ANSWER);
    const usage = one.generation.usageDetails as { input: number; output: number };
    expect(usage.input).toBeGreaterThan(0);
    expect(usage.output).toBeGreaterThan(0);
    expect((one.generation.costDetails as { total: number }).total).toBeGreaterThan(0);
    expect(one.generation.modelParameters).toMatchObject({ temperature: 0.2, max_tokens: 50 });
    const times = ['startTime', 'completionStartTime', 'endTime'].map((name) => Date.parse(String(one.generation[name])));
    expect(times.every((time) => Number.isFinite(time))).toBe(true);
    expect(times[0]).toBeLessThanOrEqual(times[1]);
    expect(times[1]).toBeLessThanOrEqual(times[2]);
    expect(one.trace.metadata).toMatchObject({
      user_api_key_team_id: 'my-secret-project',
      user_api_key_alias: 'team1-key',
      user_api_key_hash: key1.token,
    });

    // Project 2: without metadata.trace_id the trace id is the call id (x-litellm-call-id).
    expect(r2.callId).toBeTruthy();
    expect(two.trace.id).toBe(r2.callId);
    expect(two.trace.metadata).toMatchObject({ user_api_key_team_id: 'ishaans-secret-project' });
    expect(two.generation.name).toBe('litellm-acompletion'); // no key alias

    await positiveControl();
    expect(langfuseTraces(langfuse, project2.publicKey, m1)).toEqual([]);
    expect(langfuseTraces(langfuse, project1.publicKey, m2)).toEqual([]);
    for (const mark of [m1, m2]) {
      expect(langfuseTraces(langfuse, globalProject.publicKey, mark)).toEqual([]);
      // First source wins: the global GCS and OTLP destinations get nothing from config teams.
      expect(requestsMentioning({ gcs, globalOtlp, teamOtlp, langsmith }, mark)).toEqual([]);
    }
    // Each project's items arrived with that project's own credentials only.
    for (const request of langfuse.ingestionRequests.filter((r) => r.text.includes(m1))) {
      expect(basicAuth(request.headers)).toEqual({ user: project1.publicKey, password: project1.secretKey });
    }
    for (const request of langfuse.ingestionRequests.filter((r) => r.text.includes(m2))) {
      expect(basicAuth(request.headers)).toEqual({ user: project2.publicKey, password: project2.secretKey });
    }
  });

  it('the seed tutorial: POST /team/{id}/callback (as written), generate a key for the team, chat → that project', async () => {
    // Step 1 exactly as the seed shows it (cloud host); the answer masks the secrets.
    const seedBody = `{
  "callback_name": "langfuse",
  "callback_type": "success",
  "callback_vars": {
    "langfuse_public_key": "pk", 
    "langfuse_secret_key": "sk_", 
    "langfuse_host": "https://cloud.langfuse.com"
    }
  
}`;
    const step1 = await gw.http().post(`/team/${TUTORIAL_TEAM}/callback`).set(bearer(gw.masterKey)).set('Content-Type', 'application/json').send(seedBody);
    transcript.record('POST tutorial callback', step1);
    expect(step1.status).toBe(200);
    expect((step1.body as TeamCallbackJson).status).toBe('success');
    expect((step1.body as TeamCallbackJson).data).toMatchObject({ team_id: TUTORIAL_TEAM });
    expect(unmaskedSecretVars(step1.body)).toEqual([]);
    expect(step1.text).not.toContain('"sk_"');
    expect(step1.text).not.toContain('"pk"');
    expect(step1.text).toContain('https://cloud.langfuse.com');
    const get = await gw.http().get(`/team/${TUTORIAL_TEAM}/callback`).set(bearer(gw.masterKey)).expect(200);
    expect((get.body as TeamCallbackJson).data).toMatchObject({ team_id: TUTORIAL_TEAM, success_callbacks: ['langfuse'], failure_callbacks: [] });
    expect((get.body as TeamCallbackJson).data.callback_vars).toMatchObject({ langfuse_host: 'https://cloud.langfuse.com' });
    expect(unmaskedSecretVars(get.body)).toEqual([]);
    // No traffic may go to the real cloud from a test: replace it with the same entry on the loopback fake.
    await gw.http().delete(`/team/${TUTORIAL_TEAM}/callback/langfuse`).set(bearer(gw.masterKey)).expect(200);
    await addCallback(gw, TUTORIAL_TEAM, langfuseEntry(tutorialProject, langfuse.url, 'success'), { transcript });

    // Step 2: generate a key for the team, as written.
    const step2 = await gw
      .http()
      .post('/key/generate')
      .set(bearer(gw.masterKey))
      .set('Content-Type', 'application/json')
      .send(`{\n        "team_id": "${TUTORIAL_TEAM}"\n}`)
      .expect(200);
    transcript.record('POST /key/generate', step2);
    const generated = step2.body as GeneratedKeyJson;
    virtualKeys.push(generated.key);

    // Step 3: the chat of the seed (plus a marker).
    const mark = marker('tutorial');
    const res = await chatOk(gw.baseUrl, generated.key, { model: 'gpt-4', marker: mark }, transcript);
    const { trace } = await waitForLangfuse(langfuse, tutorialProject.publicKey, mark);
    expect(trace.id).toBe(res.callId);
    expect(trace.metadata).toMatchObject({ user_api_key_team_id: TUTORIAL_TEAM });

    await positiveControl();
    expect(langfuseTraces(langfuse, globalProject.publicKey, mark)).toEqual([]);
    expect(requestsMentioning({ gcs, globalOtlp }, mark)).toEqual([]);
  });

  it('a change of a team’s logging applies to the very next request', async () => {
    const teamId = await newTeam(gw, { team_id: 'next-request-team' }, transcript);
    const teamKey = await key({ team_id: teamId });
    const before = marker('before-callback');
    await chatOk(gw.baseUrl, teamKey, { marker: before }, transcript);
    // No team logging yet: the global callbacks.
    await waitForLangfuse(langfuse, globalProject.publicKey, before);

    await addCallback(gw, teamId, langfuseEntry(nextRequestProject, langfuse.url), { transcript });
    const after = marker('after-callback');
    await chatOk(gw.baseUrl, teamKey, { marker: after }, transcript);
    await waitForLangfuse(langfuse, nextRequestProject.publicKey, after);

    await positiveControl();
    expect(langfuseTraces(langfuse, globalProject.publicKey, after)).toEqual([]);
    expect(requestsMentioning({ gcs, globalOtlp }, after)).toEqual([]);
    expect(langfuseTraces(langfuse, nextRequestProject.publicKey, before)).toEqual([]);
  });

  it('a config team’s logging set through the API replaces its default_team_settings (first source wins), in GET and at request time', async () => {
    const teamKey = await key({ team_id: 'cfg-override-team' });
    const before = marker('cfg-before');
    await chatOk(gw.baseUrl, teamKey, { marker: before }, transcript);
    await waitForLangfuse(langfuse, project1.publicKey, before);

    await addCallback(
      gw,
      'cfg-override-team',
      { callback_name: 'otel', callback_vars: { otel_endpoint: teamOtlp.url, otel_headers: `x-otlp-token=${otlpToken}`, otel_service_name: 'cfg-override' } },
      { transcript },
    );
    const view = await gw.http().get('/team/cfg-override-team/callback').set(bearer(gw.masterKey)).expect(200);
    transcript.record('GET callback', view);
    expect((view.body as TeamCallbackJson).data).toMatchObject({ team_id: 'cfg-override-team', success_callbacks: ['otel'], failure_callbacks: ['otel'] });
    expect((view.body as TeamCallbackJson).data.callback_vars).toMatchObject({ otel_endpoint: teamOtlp.url, otel_service_name: 'cfg-override' });
    expect(Object.keys((view.body as TeamCallbackJson).data.callback_vars).some((name) => name.startsWith('langfuse'))).toBe(false);
    expect(view.text).not.toContain(otlpToken);

    const after = marker('cfg-after');
    await chatOk(gw.baseUrl, teamKey, { marker: after }, transcript);
    await waitFor(`OTLP span with ${after}`, () => otlpSpansWith(teamOtlp, after));
    await positiveControl();
    expect(langfuseTraces(langfuse, project1.publicKey, after)).toEqual([]);
    expect(langfuseTraces(langfuse, globalProject.publicKey, after)).toEqual([]);
  });

  it('metadata.logging given to /team/new and /team/update is the team’s API logging, applied to the next request', async () => {
    const teamId = await newTeam(gw, { team_id: 'meta-team', metadata: { logging: [langfuseEntry(metaNew, langfuse.url)] } }, transcript);
    const view = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey)).expect(200);
    expect((view.body as TeamCallbackJson).data).toMatchObject({ success_callbacks: ['langfuse'], failure_callbacks: ['langfuse'] });
    const teamKey = await key({ team_id: teamId });
    const first = marker('meta-new');
    await chatOk(gw.baseUrl, teamKey, { marker: first }, transcript);
    await waitForLangfuse(langfuse, metaNew.publicKey, first);

    const updated = await gw.http().post('/team/update').set(bearer(gw.masterKey)).send({ team_id: teamId, metadata: { logging: [langfuseEntry(metaUpdated, langfuse.url)] } });
    transcript.record('POST /team/update', updated);
    expect(updated.status).toBe(200);
    expect(unmaskedSecretVars(updated.body)).toEqual([]);
    const second = marker('meta-updated');
    await chatOk(gw.baseUrl, teamKey, { marker: second }, transcript);
    await waitForLangfuse(langfuse, metaUpdated.publicKey, second);
    await positiveControl();
    expect(langfuseTraces(langfuse, metaNew.publicKey, second)).toEqual([]);
    expect(langfuseTraces(langfuse, globalProject.publicKey, first)).toEqual([]);
    expect(langfuseTraces(langfuse, globalProject.publicKey, second)).toEqual([]);
  });

  it('GCS: each request lands as one NDJSON line (StandardLoggingPayload names) in <prefix>/<date>/batch-<ms>-<hex8>.ndjson', async () => {
    const teamId = await newTeam(gw, { team_id: 'gcs-team', team_alias: 'GCS Team' }, transcript);
    await addCallback(
      gw,
      teamId,
      {
        callback_name: 'gcs_bucket',
        callback_type: 'success',
        callback_vars: { gcs_bucket_name: 'team-logs/gatehouse/prod', gcs_service_account_json: teamServiceAccount.json },
      },
      { transcript },
    );
    const teamKey = await newKey(gw, { team_id: teamId, key_alias: 'gcs-key' }, { transcript });
    virtualKeys.push(teamKey.key);
    const mark = marker('gcs');
    // The seed's GCS example body: fake-openai-endpoint with a user.
    const res = await chatOk(gw.baseUrl, teamKey.key, { model: 'fake-openai-endpoint', marker: mark, user: 'hello' }, transcript);
    const [found] = await waitFor(`GCS event with ${mark}`, () => gcsEventsWith(gcs, 'team-logs', mark));
    expect(gcsEventsWith(gcs, 'team-logs', mark)).toHaveLength(1);
    expect(found.objectName).toMatch(/^gatehouse\/prod\/\d{4}-\d{2}-\d{2}\/batch-\d{13}-[0-9a-f]{8}\.ndjson$/);
    const event = found.event;
    expect(event).toMatchObject({
      litellm_call_id: res.callId,
      model: 'fake-openai-endpoint',
      status: 'success',
      end_user: 'hello',
      metadata: { user_api_key_team_id: teamId, user_api_key_alias: 'gcs-key', user_api_key_hash: teamKey.token },
    });
    expect(JSON.stringify(event.messages)).toContain(mark);
    expect(JSON.stringify(event.response)).toContain(FAKE_ENDPOINT_ANSWER);
    const object = gcs.objects('team-logs').find((o) => o.name === found.objectName);
    expect(object?.contentType).toMatch(/json/);

    await positiveControl();
    expect(requestsMentioning({ globalOtlp, teamOtlp }, mark)).toEqual([]);
    expect(gcsEventsWith(gcs, 'global-logs', mark)).toEqual([]);
    expect(langfuseTraces(langfuse, globalProject.publicKey, mark)).toEqual([]);
  });

  it('OTLP: a team admin points its team at an allow-listed collector; one span per request with GenAI attributes', async () => {
    const teamId = await newTeam(gw, { team_id: 'otel-team', team_alias: 'OTel Team' }, transcript);
    const admin = await key({ team_id: teamId, role: 'team_admin', key_alias: 'otel-admin' });
    const posted = await addCallback(
      gw,
      teamId,
      {
        callback_name: 'otel',
        callback_vars: { otel_endpoint: teamOtlp.url, otel_headers: `x-otlp-token=${otlpToken},x-tenant=otel-team`, otel_service_name: 'team-otel-svc' },
      },
      { auth: admin, transcript },
    );
    expect(posted.text).not.toContain(otlpToken);
    const member = await key({ team_id: teamId, key_alias: 'otel-member' });
    const mark = marker('otel');
    const res = await chatOk(gw.baseUrl, member, { marker: mark }, transcript);
    const spans = await waitFor(`OTLP span with ${mark}`, () => otlpSpansWith(teamOtlp, mark));
    expect(spans).toHaveLength(1);
    const span = spans[0];
    expect(span.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4', 'gatehouse.team_id': teamId });
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(span.resource['service.name']).toBe('team-otel-svc');
    expect(JSON.stringify(span)).toContain(res.callId as string);
    const request = teamOtlp.requests.find((r) => r.text.includes(mark));
    expect(request?.headers['x-otlp-token']).toBe(otlpToken);
    expect(request?.headers['x-tenant']).toBe('otel-team');

    await positiveControl();
    expect(otlpSpansWith(teamOtlp, mark)).toHaveLength(1);
    expect(otlpSpansWith(globalOtlp, mark)).toEqual([]);
    expect(langfuseTraces(langfuse, globalProject.publicKey, mark)).toEqual([]);
  });

  it('failure-only entries get failed requests (unknown model, upstream error) and success-only entries get the rest', async () => {
    const teamId = await newTeam(gw, { team_id: 'failure-team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(failureProject, langfuse.url, 'failure'), { transcript });
    await addCallback(gw, teamId, langfuseEntry(successProject, langfuse.url, 'success'), { transcript });
    const get = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey)).expect(200);
    expect((get.body as TeamCallbackJson).data).toMatchObject({ success_callbacks: ['langfuse'], failure_callbacks: ['langfuse'] });
    const teamKey = await key({ team_id: teamId, key_alias: 'failure-key' });

    const ok = marker('success');
    const unknownModel = marker('unknown-model');
    const upstream = marker('upstream-error');
    await chatOk(gw.baseUrl, teamKey, { marker: ok }, transcript);
    const bad = await chat(gw.baseUrl, teamKey, { model: 'no-such-model', marker: unknownModel }, transcript);
    expect(bad.status).toBe(400);
    const broken = await chat(gw.baseUrl, teamKey, { model: 'broken-upstream', marker: upstream }, transcript);
    expect(broken.status).toBeGreaterThanOrEqual(500);
    expect(broken.text).not.toContain(upstreamKey);

    await waitForLangfuse(langfuse, successProject.publicKey, ok);
    const failedModel = await waitForLangfuse(langfuse, failureProject.publicKey, unknownModel);
    const failedUpstream = await waitForLangfuse(langfuse, failureProject.publicKey, upstream);
    expect(failedModel.generation.level).toBe('ERROR');
    expect(failedUpstream.generation.level).toBe('ERROR');
    expect(typeof failedUpstream.generation.statusMessage).toBe('string');
    expect(String(failedModel.generation.statusMessage)).toContain('no-such-model');

    await positiveControl();
    expect(langfuseTraces(langfuse, failureProject.publicKey, ok)).toEqual([]);
    expect(langfuseTraces(langfuse, successProject.publicKey, unknownModel)).toEqual([]);
    expect(langfuseTraces(langfuse, successProject.publicKey, upstream)).toEqual([]);
    expect(requestsMentioning({ langfuse }, upstreamKey)).toEqual([]);
  });

  it('streaming logs the assembled answer once the last chunk was sent', async () => {
    const teamId = await newTeam(gw, { team_id: 'stream-team', team_alias: 'Stream Team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(streamProject, langfuse.url), { transcript });
    const teamKey = await key({ team_id: teamId });
    const mark = marker('stream');
    const res = await chatOk(gw.baseUrl, teamKey, { marker: mark, stream: true }, transcript);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(res.content).toBe(GPT4_ANSWER);
    // More than one content chunk reached the client, so the logged text really was assembled.
    expect(res.text.split('\n').filter((line) => line.includes('"content"')).length).toBeGreaterThan(2);
    const { trace, generation } = await waitForLangfuse(langfuse, streamProject.publicKey, mark);
    expect(trace.id).toBe(res.callId);
    expect(trace.metadata).toMatchObject({ user_api_key_team_id: teamId, user_api_key_team_alias: 'Stream Team' });
    expect(JSON.stringify(generation.output)).toContain(GPT4_ANSWER);
    expect((generation.usageDetails as { output: number }).output).toBeGreaterThan(0);
    expect(langfuseGenerations(langfuse, streamProject.publicKey, mark)).toHaveLength(1);
  });

  it('global callbacks: success_callback gets successes only, callbacks gets failures too', async () => {
    const failed = marker('global-failure');
    const res = await chat(gw.baseUrl, teamlessKey, { model: 'no-such-model', marker: failed }, transcript);
    expect(res.status).toBe(400);
    const [span] = await waitFor(`global OTLP span for the failure ${failed}`, () => otlpSpansWith(globalOtlp, failed));
    expect(span.status?.code).toBe(2); // ERROR
    await positiveControl();
    expect(langfuseTraces(langfuse, globalProject.publicKey, failed)).toEqual([]);
    expect(gcsEventsWith(gcs, 'global-logs', failed)).toEqual([]);
  });

  it('two Langfuse entries on one team both receive each event, each with its own credentials', async () => {
    const teamId = await newTeam(gw, { team_id: 'twin-team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(twinA, langfuse.url, 'success'), { transcript });
    // The second one with LiteLLM's alias `langfuse_secret`.
    await addCallback(
      gw,
      teamId,
      { callback_name: 'langfuse', callback_type: 'success', callback_vars: { langfuse_public_key: twinB.publicKey, langfuse_secret: twinB.secretKey, langfuse_host: langfuse.url } },
      { transcript },
    );
    const teamKey = await key({ team_id: teamId });
    const mark = marker('twin');
    await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    await waitForLangfuse(langfuse, twinA.publicKey, mark);
    await waitForLangfuse(langfuse, twinB.publicKey, mark);
    await positiveControl();
    expect(langfuseTraces(langfuse, twinA.publicKey, mark)).toHaveLength(1);
    expect(langfuseTraces(langfuse, twinB.publicKey, mark)).toHaveLength(1);
    const users = langfuse.ingestionRequests.filter((r) => r.text.includes(mark)).map((r) => basicAuth(r.headers));
    for (const user of users) {
      expect([
        { user: twinA.publicKey, password: twinA.secretKey },
        { user: twinB.publicKey, password: twinB.secretKey },
      ]).toContainEqual(user);
    }
    expect(langfuseTraces(langfuse, globalProject.publicKey, mark)).toEqual([]);
  });

  it('DELETE /team/{id}/callback/{name} removes every entry of that name and leaves the others firing', async () => {
    const teamId = await newTeam(gw, { team_id: 'delete-team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(deleteProject, langfuse.url, 'success'), { transcript });
    await addCallback(gw, teamId, langfuseEntry(deleteProject, langfuse.url, 'failure'), { transcript });
    await addCallback(
      gw,
      teamId,
      { callback_name: 'langsmith', callback_type: 'success', callback_vars: { langsmith_api_key: langsmithKey, langsmith_project: 'delete-team-runs', langsmith_base_url: langsmith.url } },
      { transcript },
    );
    const teamKey = await key({ team_id: teamId });

    const removed = transcript.record('DELETE callback', await gw.http().delete(`/team/${teamId}/callback/langfuse`).set(bearer(gw.masterKey)));
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({
      status: 'success',
      message: `Callback langfuse removed for team ${teamId}`,
      data: { team_id: teamId, success_callbacks: ['langsmith'], failure_callbacks: [] },
    });
    const get = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey)).expect(200);
    expect((get.body as TeamCallbackJson).data).toMatchObject({ team_id: teamId, success_callbacks: ['langsmith'], failure_callbacks: [] });
    expect((get.body as TeamCallbackJson).data.callback_vars).toMatchObject({ langsmith_project: 'delete-team-runs' });
    expect(unmaskedSecretVars(get.body)).toEqual([]);
    expect(get.text).not.toContain(langsmithKey);

    const again = await gw.http().delete(`/team/${teamId}/callback/langfuse`).set(bearer(gw.masterKey));
    expect(again.status).toBe(404);
    expect(errorOf(again)).toMatchObject({ message: expect.any(String) as unknown });
    expect((await gw.http().delete(`/team/${teamId}/callback/gcs_bucket`).set(bearer(gw.masterKey))).status).toBe(404);

    const mark = marker('after-delete');
    await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    await waitFor(`LangSmith run with ${mark}`, () => langsmith.runs(langsmithKey, 'delete-team-runs').filter((run) => JSON.stringify(run).includes(mark)));
    await positiveControl();
    expect(langfuseTraces(langfuse, deleteProject.publicKey, mark)).toEqual([]);
    expect(langfuseTraces(langfuse, globalProject.publicKey, mark)).toEqual([]);
  });

  it('disable_logging: nothing anywhere (team, key and global destinations) until a callback is POSTed again', async () => {
    const teamId = await newTeam(gw, { team_id: 'gdpr-team' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(gdprProject, langfuse.url), { transcript });
    const teamKey = await key({ team_id: teamId, key_alias: 'gdpr-plain' });
    // A key of the team with its own destination: disabling the team silences it too.
    const ownKey = await key({ team_id: teamId, key_alias: 'gdpr-own', metadata: { logging: [langfuseEntry(gdprKeyProject, langfuse.url)] } });

    const warmTeam = marker('gdpr-warm-team');
    const warmKey = marker('gdpr-warm-key');
    await chatOk(gw.baseUrl, teamKey, { marker: warmTeam }, transcript);
    await chatOk(gw.baseUrl, ownKey, { marker: warmKey }, transcript);
    await waitForLangfuse(langfuse, gdprProject.publicKey, warmTeam);
    await waitForLangfuse(langfuse, gdprKeyProject.publicKey, warmKey);
    await quietPeriod(); // let everything from before the switch drain

    const disabled = await gw.http().post(`/team/${teamId}/disable_logging`).set(bearer(gw.masterKey));
    transcript.record('POST disable_logging', disabled);
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({
      status: 'success',
      message: `Logging disabled for team ${teamId}`,
      data: { team_id: teamId, success_callbacks: [], failure_callbacks: [] },
    });
    const get = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey)).expect(200);
    expect((get.body as TeamCallbackJson).data).toMatchObject({ team_id: teamId, success_callbacks: [], failure_callbacks: [] });

    // Success, stream and failure requests with both keys: zero events anywhere.
    const silenced = [marker('gdpr-ok'), marker('gdpr-stream'), marker('gdpr-fail'), marker('gdpr-upstream'), marker('gdpr-own-key'), marker('gdpr-own-fail')];
    await chatOk(gw.baseUrl, teamKey, { marker: silenced[0] }, transcript);
    await chatOk(gw.baseUrl, teamKey, { marker: silenced[1], stream: true }, transcript);
    expect((await chat(gw.baseUrl, teamKey, { model: 'no-such-model', marker: silenced[2] }, transcript)).status).toBe(400);
    expect((await chat(gw.baseUrl, teamKey, { model: 'broken-upstream', marker: silenced[3] }, transcript)).status).toBeGreaterThanOrEqual(500);
    await chatOk(gw.baseUrl, ownKey, { marker: silenced[4] }, transcript);
    expect((await chat(gw.baseUrl, ownKey, { model: 'no-such-model', marker: silenced[5] }, transcript)).status).toBe(400);

    await positiveControl();
    for (const mark of silenced) {
      expect([mark, requestsMentioning(fakes(), mark)]).toEqual([mark, []]);
      // No prompt content in the gateway's own output either (GDPR).
      expect(capture.text()).not.toContain(mark);
    }

    // Re-enable by POSTing a callback: the team's keys log again, to the new entry.
    await addCallback(gw, teamId, langfuseEntry(gdprReEnabled, langfuse.url), { transcript });
    const back = marker('gdpr-back');
    const backOwn = marker('gdpr-back-own');
    await chatOk(gw.baseUrl, teamKey, { marker: back }, transcript);
    await chatOk(gw.baseUrl, ownKey, { marker: backOwn }, transcript);
    await waitForLangfuse(langfuse, gdprReEnabled.publicKey, back);
    // The key's own entry wins again for that key.
    await waitForLangfuse(langfuse, gdprKeyProject.publicKey, backOwn);
    await positiveControl();
    expect(langfuseTraces(langfuse, gdprProject.publicKey, back)).toEqual([]);
    expect(langfuseTraces(langfuse, globalProject.publicKey, back)).toEqual([]);
  });

  it('3 teams × 50 interleaved concurrent requests: each project receives exactly its own 50 and nothing else', async () => {
    const teams = await Promise.all(
      concurrentProjects.map(async (project, index) => {
        const teamId = await newTeam(gw, { team_id: `conc-team-${index + 1}` }, transcript);
        await addCallback(gw, teamId, langfuseEntry(project, langfuse.url), { transcript });
        return { teamId, project, key: await key({ team_id: teamId }), prefix: `conc${index + 1}x` };
      }),
    );
    const calls: Promise<unknown>[] = [];
    const sent = new Map<string, string[]>(teams.map((team) => [team.prefix, []]));
    for (let i = 0; i < 50; i++) {
      for (const team of teams) {
        const mark = marker(team.prefix);
        sent.get(team.prefix)?.push(mark);
        calls.push(chatOk(gw.baseUrl, team.key, { marker: mark }));
      }
    }
    await Promise.all(calls);

    const ownTraces = (team: (typeof teams)[number]) =>
      langfuse.traces(team.project.publicKey).filter((trace) => JSON.stringify(trace).includes(`mk-${team.prefix}-`));
    for (const team of teams) {
      await waitFor(`50 traces in ${team.teamId}'s project`, () => ownTraces(team).length >= 50, 30_000);
    }
    await positiveControl();
    for (const team of teams) {
      const traces = langfuse.traces(team.project.publicKey);
      expect([team.teamId, traces.length]).toEqual([team.teamId, 50]);
      expect([team.teamId, langfuse.generations(team.project.publicKey).length]).toEqual([team.teamId, 50]);
      const text = JSON.stringify(traces);
      for (const mark of sent.get(team.prefix) ?? []) expect(text).toContain(mark);
      for (const other of teams) {
        if (other !== team) expect([team.teamId, text.includes(`mk-${other.prefix}-`)]).toEqual([team.teamId, false]);
      }
    }
    const globalText = JSON.stringify(langfuse.traces(globalProject.publicKey));
    for (const team of teams) expect(globalText.includes(`mk-${team.prefix}-`)).toBe(false);
  });

  it('no secret in any response, in stdout, in any payload sent to a fake (but its own auth header), or in the database', async () => {
    const callbackSecrets: Record<string, string> = {
      'team SA private key': teamServiceAccount.canary,
      'global SA private key': globalServiceAccount.canary,
      'OTLP token': otlpToken,
      'LangSmith key': langsmithKey,
      'upstream api_key': upstreamKey,
    };
    for (const project of allProjects) callbackSecrets[`Langfuse secret ${project.secretKey.slice(0, 20)}`] = project.secretKey;
    const publicKeys: Record<string, string> = {};
    for (const project of allProjects) publicKeys[`Langfuse public key ${project.publicKey.slice(0, 20)}`] = project.publicKey;
    const keys: Record<string, string> = { 'master key': gw.masterKey };
    virtualKeys.forEach((value, index) => (keys[`virtual key #${index}`] = value));

    // API responses: no callback secret and no public key (public keys are secret vars, masked too).
    expect(findSecrets(transcript.entries.map((e) => ({ where: e.where, text: e.text })), { ...callbackSecrets, ...publicKeys })).toEqual([]);
    // stdout: nothing at all.
    const stdout: Haystack[] = [{ where: 'stdout', text: capture.text() }];
    expect(capture.lines.length).toBeGreaterThan(0);
    expect(findSecrets(stdout, { ...callbackSecrets, ...publicKeys, ...keys })).toEqual([]);

    // Fakes: no key ever, and no callback secret outside the intended auth header of the intended destination.
    const fakeTexts: Haystack[] = [
      ...fakeHaystacks('langfuse', langfuse.requests, ['authorization']),
      ...fakeHaystacks('gcs', gcs.requests),
      ...fakeHaystacks('global OTLP', globalOtlp.requests),
      ...fakeHaystacks('team OTLP', teamOtlp.requests, ['x-otlp-token']),
      ...fakeHaystacks('langsmith', langsmith.requests, ['x-api-key']),
    ];
    expect(findSecrets(fakeTexts, { ...callbackSecrets, ...keys })).toEqual([]);
    // Langfuse: every request authenticates with one whole, real pair (never a mix), and carries no other project's public key.
    const pairs = allProjects.map((p) => ({ user: p.publicKey, password: p.secretKey }));
    for (const request of langfuse.requests) {
      const auth = basicAuth(request.headers);
      expect(pairs).toContainEqual(auth);
      for (const project of allProjects) {
        if (project.publicKey !== auth?.user) expect(request.text.includes(project.publicKey)).toBe(false);
      }
    }
    // The OTLP token went only to its collector; the LangSmith key only to LangSmith.
    expect(findSecrets(fakeHaystacks('langfuse', langfuse.requests), { otlp: otlpToken, langsmith: langsmithKey })).toEqual([]);
    expect(findSecrets([...fakeHaystacks('gcs', gcs.requests), ...fakeHaystacks('global OTLP', globalOtlp.requests)], { otlp: otlpToken, langsmith: langsmithKey })).toEqual([]);

    // Database: every table, every row.
    const tables = await databaseHaystacks(gw.dataSource);
    expect(tables.length).toBeGreaterThan(0);
    expect(findSecrets(tables, { ...callbackSecrets, ...publicKeys, ...keys })).toEqual([]);
  });
});
