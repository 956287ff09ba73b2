import { HttpJsonlModule } from '../../examples/http-jsonl/http-jsonl.module';
import { FakeJsonlSink } from '../support/fakes/fake-jsonl-sink';
import { modelListYaml } from '../support/logging/fixtures';
import {
  addCallback,
  bearer,
  chatOk,
  databaseHaystacks,
  findSecrets,
  LOGGING_ENV,
  marker,
  MASK,
  newKey,
  newTeam,
  secret,
  Transcript,
  waitFor,
} from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

interface CallbackView {
  data: { callbacks: { callback_name: string; callback_vars: Record<string, string> }[]; success_callbacks: string[] };
}

/**
 * Issue 27: a destination registered by a module outside src/ (examples/http-jsonl) works like a built-in one —
 * attached to a team through POST /team/{id}/callback, its events arrive at a loopback sink from the delivery
 * thread, its secret is encrypted and masked, its URL SSRF-checked for team admins, /key/health probes it, and a
 * sink that fails is retried until it takes the events.
 */
describe('an enterprise destination module (examples/http-jsonl)', () => {
  const transcript = new Transcript();
  const token = secret('jsonl-token');
  let sink: FakeJsonlSink;
  let gw: TestApp;
  let teamId: string;
  let teamKey: string;

  beforeAll(async () => {
    sink = await FakeJsonlSink.start({ token });
    gw = await createTestApp({
      configYaml: `${modelListYaml()}
general_settings:
  allowed_logging_hosts: ["127.0.0.1:${sink.port}"]
`,
      env: LOGGING_ENV,
      extraImports: [HttpJsonlModule],
    });
    teamId = await newTeam(gw, { team_alias: 'acme' }, transcript);
    teamKey = (await newKey(gw, { team_id: teamId, key_alias: 'acme-app' }, { transcript })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await sink?.close();
  });

  const entry = (vars: Record<string, string>) => ({ callback_name: 'http_jsonl', callback_type: 'success_and_failure', callback_vars: vars });

  it('is attached to a team through POST /team/{id}/callback; its token is masked in every answer', async () => {
    const res = await addCallback(gw, teamId, entry({ http_jsonl_url: `${sink.url}/ingest`, http_jsonl_token: token, http_jsonl_source: 'acme-gw' }), { transcript });
    expect(res.text).not.toContain(token);
    const view = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey));
    expect(view.status).toBe(200);
    const body = view.body as CallbackView;
    expect(body.data.success_callbacks).toEqual(['http_jsonl']);
    expect(body.data.callbacks[0].callback_vars).toEqual({ http_jsonl_url: `${sink.url}/ingest`, http_jsonl_token: MASK, http_jsonl_source: 'acme-gw' });
  });

  it("delivers a chat call's event to the sink, from the delivery thread, with the token as its credential", async () => {
    const mark = marker('jsonl');
    const { callId } = await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    const [{ line, request }] = await waitFor('the event at the sink', () => sink.linesMentioning(mark));
    expect(request.path).toBe('/ingest');
    expect(request.headers['content-type']).toBe('application/x-ndjson');
    expect(request.headers.authorization).toBe(`Bearer ${token}`);
    expect(line).toMatchObject({ source: 'acme-gw', litellm_call_id: callId, model_group: 'gpt-4', status: 'success' });
    expect(line.event_id).toEqual(expect.stringMatching(new RegExp(`^${callId}:`)));
    expect(JSON.stringify(line)).not.toContain(token);
  });

  it('stores the token encrypted: no table holds it', async () => {
    expect(findSecrets(await databaseHaystacks(gw.dataSource), { token })).toEqual([]);
  });

  it('/key/health probes it for real: healthy with the right token, unhealthy (token redacted) with a wrong one', async () => {
    const healthy = await gw.http().post('/key/health').set(bearer(teamKey)).send({});
    expect((healthy.body as { logging_callbacks: unknown }).logging_callbacks).toMatchObject({ callbacks: ['http_jsonl'], status: 'healthy' });

    const wrong = secret('wrong-token');
    const key = (await newKey(gw, { team_id: teamId, metadata: { logging: [entry({ http_jsonl_url: sink.url, http_jsonl_token: wrong })] } }, { transcript })).key;
    const res = await gw.http().post('/key/health').set(bearer(key)).send({});
    const body = res.body as { key: string; logging_callbacks: { details: string } };
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks.details).toContain('http_jsonl (key): http://127.0.0.1');
    expect(body.logging_callbacks.details).toContain('HTTP 401');
    expect(res.text).not.toContain(wrong);
  });

  it('validates its callback_vars from its own spec: unknown or missing variables → 400 naming the field, nothing stored', async () => {
    const post = (body: object) => gw.http().post(`/team/${teamId}/callback`).set(bearer(gw.masterKey)).send(body);
    const unknown = await post(entry({ http_jsonl_url: sink.url, http_jsonl_tokn: 'x' }));
    expect([unknown.status, (unknown.body as { error: { param: string } }).error.param]).toEqual([400, 'callback_vars.http_jsonl_tokn']);
    const missing = await post(entry({ http_jsonl_source: 'x' }));
    expect([missing.status, (missing.body as { error: { param: string; message: string } }).error]).toEqual([
      400,
      expect.objectContaining({ param: 'callback_vars.http_jsonl_url', message: 'http_jsonl_url is required for http_jsonl' }),
    ]);
    const bogus = await post({ callback_name: 'http_jsonl_v2', callback_vars: {} });
    expect((bogus.body as { error: { message: string } }).error.message).toBe('callback_name must be one of langfuse, gcs_bucket, otel, langsmith, s3, datadog, generic_api, arize, arize_phoenix, langfuse_otel, http_jsonl');
    const view = (await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey))).body as CallbackView;
    expect(view.data.callbacks).toHaveLength(1);
  });

  it("SSRF-checks a team admin's URL at save time (the allow-listed sink is accepted, other loopback ports are not)", async () => {
    const other = await newTeam(gw, { team_alias: 'acme-2' }, transcript);
    const teamAdmin = (await newKey(gw, { team_id: other, role: 'team_admin', key_alias: 'acme-2-admin' }, { transcript })).key;
    const refused = await gw
      .http()
      .post(`/team/${other}/callback`)
      .set(bearer(teamAdmin))
      .send(entry({ http_jsonl_url: `http://127.0.0.1:${sink.port + 1}/ingest`, http_jsonl_token: token }));
    expect([refused.status, (refused.body as { error: { param: string } }).error.param]).toEqual([400, 'callback_vars.http_jsonl_url']);
    expect(refused.text).toMatch(/loopback/);

    await addCallback(gw, other, entry({ http_jsonl_url: `${sink.url}/team-admin`, http_jsonl_token: token }), { auth: teamAdmin, transcript });
    const memberKey = (await newKey(gw, { team_id: other }, { transcript })).key;
    const mark = marker('jsonl-guarded');
    await chatOk(gw.baseUrl, memberKey, { marker: mark }, transcript);
    const [{ request }] = await waitFor("the team admin's event at the sink", () => sink.linesMentioning(mark));
    expect(request.path).toBe('/team-admin');
  });

  it('a sink that fails is retried until it takes the event: none lost', async () => {
    sink.server.setFailure({ status: 503, times: 2, retryAfter: '0' });
    const mark = marker('jsonl-retry');
    await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    await waitFor('the retried event at the sink', () => sink.linesMentioning(mark), 20_000);
    const metrics = await gw.http().get('/metrics').set(bearer(gw.masterKey));
    expect(metrics.text).toMatch(/gatehouse_log_events_retried_total\{kind="http_jsonl",team="[^"]+"\} [1-9]/);
    expect(metrics.text).toMatch(/gatehouse_log_events_delivered_total\{kind="http_jsonl",team="[^"]+"\} [1-9]/);
  });
});
