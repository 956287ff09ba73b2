import { FakeGenericApi, type GenericApiEvent } from '../support/fakes/fake-generic-api';
import { modelListYaml } from '../support/logging/fixtures';
import {
  addCallback,
  bearer,
  chatOk,
  databaseHaystacks,
  EnvScope,
  fakeHaystacks,
  findSecrets,
  LogCapture,
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
  data: { callbacks: { callback_name: string; callback_vars: Record<string, string> }[] };
}

/**
 * Issue 27: the built-in `generic_api` destination (LiteLLM's generic API logger) — per team, per key, per config
 * team and as a global callback from LiteLLM's GENERIC_LOGGER_ENDPOINT / GENERIC_LOGGER_HEADERS; a JSON array of
 * StandardLoggingPayload per batch; the header list encrypted, masked and absent from every answer, log line and
 * table; /key/health probes the endpoint with OPTIONS (nothing posted).
 */
describe('generic_api destination (LiteLLM generic API logger)', () => {
  const transcript = new Transcript();
  const capture = new LogCapture();
  const env = new EnvScope();
  const tokens = { team: secret('gen-team'), key: secret('gen-key'), config: secret('gen-config'), global: secret('gen-global') };
  let sink: FakeGenericApi;
  let gw: TestApp;
  let teamId: string;
  let teamKey: string;

  const entry = (vars: Record<string, string>) => ({ callback_name: 'generic_api', callback_type: 'success_and_failure', callback_vars: vars });
  const withToken = (token: string) => (event: GenericApiEvent) => event.request.headers['x-api-key'] === token;

  beforeAll(async () => {
    // The sink takes any of the four tokens in x-api-key (each entry sends its own).
    sink = await FakeGenericApi.start();
    sink.server.setFailure({ status: 401, match: (req) => !Object.values(tokens).includes(String(req.headers['x-api-key'])) });
    env.set({ GENERIC_LOGGER_ENDPOINT: `${sink.url}/logs`, GENERIC_LOGGER_HEADERS: `X-Api-Key=${tokens.global}`, GEN_CONFIG_HEADERS: `x-api-key=${tokens.config}` });
    gw = await createTestApp({
      configYaml: `${modelListYaml()}
general_settings:
  allowed_logging_hosts: ["127.0.0.1:${sink.port}"]
litellm_settings:
  success_callback: ["generic_api"]
  default_team_settings:
    - team_id: gen-config-team
      success_callback: ["generic_api"]
      generic_logger_endpoint: ${sink.url}/logs
      generic_logger_headers: os.environ/GEN_CONFIG_HEADERS
`,
      env: LOGGING_ENV,
      logDestination: capture,
    });
    teamId = await newTeam(gw, { team_alias: 'gen-acme' }, transcript);
    teamKey = (await newKey(gw, { team_id: teamId }, { transcript })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await sink?.close();
    env.restore();
  });

  it('team callback: headers masked as a secret; a chat call arrives as a JSON array of StandardLoggingPayload', async () => {
    const headers = `X-Api-Key=${tokens.team},X-Source=gatehouse`;
    const res = await addCallback(gw, teamId, entry({ generic_logger_endpoint: `${sink.url}/logs`, generic_logger_headers: headers }), { transcript });
    expect(res.text).not.toContain(tokens.team);
    const view = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey));
    transcript.record('GET /team/callback', view);
    expect((view.body as CallbackView).data.callbacks[0].callback_vars).toEqual({ generic_logger_endpoint: `${sink.url}/logs`, generic_logger_headers: MASK });

    const mark = marker('gen-team');
    const { callId } = await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    const [event] = await waitFor('the team event at the endpoint', () => sink.eventsMentioning(mark).filter(withToken(tokens.team)));
    expect(event.request.headers['content-type']).toBe('application/json');
    expect(event.request.headers['x-source']).toBe('gatehouse');
    expect(Array.isArray(event.request.json)).toBe(true);
    expect(event.payload).toMatchObject({ litellm_call_id: callId, status: 'success', model_group: 'gpt-4' });
  });

  it('global callback from GENERIC_LOGGER_ENDPOINT / GENERIC_LOGGER_HEADERS', async () => {
    const plain = (await newKey(gw, {}, { transcript })).key;
    const mark = marker('gen-global');
    await chatOk(gw.baseUrl, plain, { marker: mark }, transcript);
    await waitFor('the global event', () => sink.eventsMentioning(mark).filter(withToken(tokens.global)));
  });

  it('key logging (metadata.logging, NDJSON) and a config team deliver with their own headers', async () => {
    const logging = [entry({ generic_logger_endpoint: `${sink.url}/logs`, generic_logger_headers: `{"x-api-key":"${tokens.key}"}`, generic_logger_log_format: 'ndjson' })];
    const keyWithLogging = (await newKey(gw, { metadata: { logging } }, { transcript })).key;
    const keyMark = marker('gen-key');
    await chatOk(gw.baseUrl, keyWithLogging, { marker: keyMark }, transcript);
    const [keyEvent] = await waitFor('the key event', () => sink.eventsMentioning(keyMark).filter(withToken(tokens.key)));
    expect(keyEvent.request.headers['content-type']).toBe('application/x-ndjson');

    const member = (await newKey(gw, { team_id: 'gen-config-team' }, { transcript })).key;
    const configMark = marker('gen-config');
    await chatOk(gw.baseUrl, member, { marker: configMark }, transcript);
    await waitFor('the config team event', () => sink.eventsMentioning(configMark).filter(withToken(tokens.config)));
  });

  it('an endpoint outage (502 twice) is retried until the batch is taken: none lost', async () => {
    sink.server.setFailure(null);
    sink.server.addFailure({ status: 502, times: 2, retryAfter: '0', match: (req) => req.method === 'POST' && req.headers['x-api-key'] === tokens.team });
    sink.server.addFailure({ status: 401, match: (req) => !Object.values(tokens).includes(String(req.headers['x-api-key'])) });
    const mark = marker('gen-retry');
    await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    const events = await waitFor('the retried event', () => sink.eventsMentioning(mark).filter(withToken(tokens.team)), 20_000);
    expect(events).toHaveLength(1);
    const attempts = sink.requests.filter((r) => r.method === 'POST' && r.text.includes(mark));
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    const metrics = await gw.http().get('/metrics').set(bearer(gw.masterKey));
    expect(metrics.text).toMatch(/gatehouse_log_events_retried_total\{kind="generic_api",team="[^"]+"\} [1-9]/);
  });

  it('bad vars → 400 naming the field, nothing stored', async () => {
    const post = (body: object) => gw.http().post(`/team/${teamId}/callback`).set(bearer(gw.masterKey)).send(body);
    const cases: [Record<string, string>, string][] = [
      [{ generic_logger_endpoint: `${sink.url}/logs`, endpoint: 'x' }, 'callback_vars.endpoint'],
      [{ generic_logger_headers: 'a=b' }, 'callback_vars.generic_logger_endpoint'],
      [{ generic_logger_endpoint: 'not a url' }, 'callback_vars.generic_logger_endpoint'],
      [{ generic_logger_endpoint: `${sink.url}/logs`, generic_logger_headers: `no-equals-${tokens.team}` }, 'callback_vars.generic_logger_headers'],
      [{ generic_logger_endpoint: `${sink.url}/logs`, generic_logger_log_format: 'single' }, 'callback_vars.generic_logger_log_format'],
    ];
    for (const [vars, param] of cases) {
      const res = transcript.record('POST bad generic_api vars', await post(entry(vars)));
      expect([res.status, (res.body as { error: { param: string } }).error.param]).toEqual([400, param]);
    }
    const view = (await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey))).body as CallbackView;
    expect(view.data.callbacks).toHaveLength(1);
  });

  it("SSRF: a team admin's endpoint on a non-allowed internal address is refused at save time", async () => {
    const other = await newTeam(gw, { team_alias: 'gen-acme-2' }, transcript);
    const teamAdmin = (await newKey(gw, { team_id: other, role: 'team_admin' }, { transcript })).key;
    const refused = await gw
      .http()
      .post(`/team/${other}/callback`)
      .set(bearer(teamAdmin))
      .send(entry({ generic_logger_endpoint: `http://127.0.0.1:${sink.port + 1}/logs`, generic_logger_headers: `x-api-key=${tokens.team}` }));
    transcript.record('POST team admin generic_api', refused);
    expect([refused.status, (refused.body as { error: { param: string } }).error.param]).toEqual([400, 'callback_vars.generic_logger_endpoint']);
  });

  it('/key/health: OPTIONS with the headers — healthy; refused headers unhealthy (not echoed); nothing posted', async () => {
    const postsBefore = sink.requests.filter((r) => r.method === 'POST').length;
    const healthy = await gw.http().post('/key/health').set(bearer(teamKey)).send({});
    transcript.record('POST /key/health', healthy);
    expect(healthy.body).toMatchObject({ key: 'healthy', logging_callbacks: { status: 'healthy' } });

    const wrong = secret('gen-wrong');
    const key = (await newKey(gw, { metadata: { logging: [entry({ generic_logger_endpoint: `${sink.url}/logs`, generic_logger_headers: `x-api-key=${wrong}` })] } }, { transcript })).key;
    const res = await gw.http().post('/key/health').set(bearer(key)).send({});
    transcript.record('POST /key/health (wrong headers)', res);
    const body = res.body as { key: string; logging_callbacks: { details: string } };
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks.details).toContain('refused the configured headers (OPTIONS answered HTTP 401)');
    expect(res.text).not.toContain(wrong);
    expect(sink.requests.filter((r) => r.method === 'POST').length).toBe(postsBefore);
  });

  it('the header values are in no answer, no log line, no table, and in no request but their own header', async () => {
    expect(findSecrets(transcript.entries, tokens)).toEqual([]);
    expect(findSecrets([{ where: 'gateway log', text: capture.text() }], tokens)).toEqual([]);
    expect(findSecrets(await databaseHaystacks(gw.dataSource), tokens)).toEqual([]);
    expect(findSecrets(fakeHaystacks('generic api', sink.requests, ['x-api-key']), tokens)).toEqual([]);
  });
});
