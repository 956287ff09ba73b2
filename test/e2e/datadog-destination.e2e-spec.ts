import { FakeDatadog, type DatadogLog } from '../support/fakes/fake-datadog';
import { freePort } from '../support/gateway-process';
import { modelListYaml } from '../support/logging/fixtures';
import {
  addCallback,
  bearer,
  chat,
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
  data: { callbacks: { callback_name: string; callback_vars: Record<string, string> }[]; success_callbacks: string[] };
}

/**
 * Issue 27: the built-in `datadog` destination (LiteLLM's Datadog logs logger) — per team, per key, per config team
 * and as a global callback from LiteLLM's DD_API_KEY / DD_BASE_URL; retried through an outage; its key encrypted,
 * masked and absent from every answer, log line and table; /key/health validates the key without writing a log.
 */
describe('datadog destination (Datadog logs intake)', () => {
  const transcript = new Transcript();
  const capture = new LogCapture();
  const env = new EnvScope();
  const keys = { team: secret('dd-team'), key: secret('dd-key'), config: secret('dd-config'), global: secret('dd-global') };
  let dd: FakeDatadog;
  let gw: TestApp;
  let teamId: string;
  let teamKey: string;

  const entry = (vars: Record<string, string>) => ({ callback_name: 'datadog', callback_type: 'success_and_failure', callback_vars: vars });
  const withKey = (apiKey: string) => (log: DatadogLog) => log.request.headers['dd-api-key'] === apiKey;
  const message = (log: DatadogLog) => log.message as { litellm_call_id: string; status: string; metadata: Record<string, unknown> };

  beforeAll(async () => {
    dd = await FakeDatadog.start({ apiKeys: Object.values(keys) });
    env.set({ DD_API_KEY: keys.global, DD_BASE_URL: dd.url, DD_CONFIG_KEY: keys.config });
    gw = await createTestApp({
      configYaml: `${modelListYaml({ brokenUpstreamPort: await freePort() })}
general_settings:
  allowed_logging_hosts: ["127.0.0.1:${dd.port}"]
litellm_settings:
  success_callback: ["datadog"]
  default_team_settings:
    - team_id: dd-config-team
      success_callback: ["datadog"]
      dd_api_key: os.environ/DD_CONFIG_KEY
      dd_base_url: ${dd.url}
`,
      env: LOGGING_ENV,
      logDestination: capture,
    });
    teamId = await newTeam(gw, { team_alias: 'dd-acme' }, transcript);
    teamKey = (await newKey(gw, { team_id: teamId, key_alias: 'dd-acme-app' }, { transcript })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await dd?.close();
    env.restore();
  });

  it('team callback: attached through POST /team/{id}/callback (key masked), events arrive as LiteLLM log items', async () => {
    const res = await addCallback(gw, teamId, entry({ dd_api_key: keys.team, dd_base_url: dd.url }), { transcript });
    expect(res.text).not.toContain(keys.team);
    const view = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey));
    transcript.record('GET /team/callback', view);
    expect((view.body as CallbackView).data.callbacks[0].callback_vars).toEqual({ dd_api_key: MASK, dd_base_url: dd.url });

    const mark = marker('dd-team');
    const { callId } = await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    const [log] = await waitFor('the team log at Datadog', () => dd.logsMentioning(mark).filter(withKey(keys.team)));
    expect(log.request.headers['content-encoding']).toBe('gzip');
    expect(log.item).toMatchObject({ ddsource: 'litellm', service: 'litellm-server', status: 'info' });
    expect(String(log.item.ddtags)).toContain('team:dd-acme');
    expect(message(log)).toMatchObject({ litellm_call_id: callId, status: 'success' });
  });

  it("a failed call is logged with Datadog status error and LiteLLM's failure payload", async () => {
    const mark = marker('dd-failure');
    const res = await chat(gw.baseUrl, teamKey, { marker: mark, model: 'broken-upstream' }, transcript);
    expect(res.status).toBeGreaterThanOrEqual(500);
    const [log] = await waitFor('the failure log at Datadog', () => dd.logsMentioning(mark).filter(withKey(keys.team)));
    expect(log.item.status).toBe('error');
    expect(message(log).status).toBe('failure');
  });

  it('global callback: DD_API_KEY / DD_BASE_URL, as LiteLLM reads them, for a key without any logging of its own', async () => {
    const plain = (await newKey(gw, {}, { transcript })).key;
    const mark = marker('dd-global');
    const { callId } = await chatOk(gw.baseUrl, plain, { marker: mark }, transcript);
    const [log] = await waitFor('the global log at Datadog', () => dd.logsMentioning(mark).filter(withKey(keys.global)));
    expect(message(log).litellm_call_id).toBe(callId);
  });

  it('key logging (metadata.logging) and a config team (default_team_settings) deliver with their own keys', async () => {
    const keyWithLogging = (await newKey(gw, { metadata: { logging: [entry({ dd_api_key: keys.key, dd_base_url: dd.url })] } }, { transcript })).key;
    const keyMark = marker('dd-key');
    await chatOk(gw.baseUrl, keyWithLogging, { marker: keyMark }, transcript);
    await waitFor('the key log at Datadog', () => dd.logsMentioning(keyMark).filter(withKey(keys.key)));

    const configMember = (await newKey(gw, { team_id: 'dd-config-team' }, { transcript })).key;
    const configMark = marker('dd-config');
    await chatOk(gw.baseUrl, configMember, { marker: configMark }, transcript);
    await waitFor('the config team log at Datadog', () => dd.logsMentioning(configMark).filter(withKey(keys.config)));
  });

  it('an intake outage (503 twice) is retried until the log lands: none lost', async () => {
    dd.server.setFailure({ status: 503, times: 2, retryAfter: '0', match: (req) => req.method === 'POST' && req.headers['dd-api-key'] === keys.team });
    const mark = marker('dd-retry');
    await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    const logs = await waitFor('the retried log', () => dd.logsMentioning(mark).filter(withKey(keys.team)), 20_000);
    expect(logs).toHaveLength(1);
    const attempts = dd.intakeRequests().filter((r) => r.headers['dd-api-key'] === keys.team && r.text.length > 0 && dd.logs().every((l) => l.request !== r));
    expect(attempts.length).toBeGreaterThanOrEqual(2); // the two refused attempts
    dd.server.setFailure(null);
    const metrics = await gw.http().get('/metrics').set(bearer(gw.masterKey));
    expect(metrics.text).toMatch(/gatehouse_log_events_retried_total\{kind="datadog",team="[^"]+"\} [1-9]/);
  });

  it('bad vars → 400 naming the field, nothing stored', async () => {
    const post = (body: object) => gw.http().post(`/team/${teamId}/callback`).set(bearer(gw.masterKey)).send(body);
    const cases: [Record<string, string>, string][] = [
      [{ dd_api_kee: 'x' }, 'callback_vars.dd_api_kee'],
      [{ dd_site: 'datadoghq.eu' }, 'callback_vars.dd_api_key'],
      [{ dd_api_key: 'x', dd_site: 'not a site/' }, 'callback_vars.dd_site'],
      [{ dd_api_key: 'x', dd_base_url: 'ftp://x' }, 'callback_vars.dd_base_url'],
    ];
    for (const [vars, param] of cases) {
      const res = transcript.record('POST bad datadog vars', await post(entry(vars)));
      expect([res.status, (res.body as { error: { param: string } }).error.param]).toEqual([400, param]);
    }
    const view = (await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey))).body as CallbackView;
    expect(view.data.callbacks).toHaveLength(1);
  });

  it("SSRF: a team admin's dd_base_url to a non-allowed internal address is refused at save time", async () => {
    const other = await newTeam(gw, { team_alias: 'dd-acme-2' }, transcript);
    const teamAdmin = (await newKey(gw, { team_id: other, role: 'team_admin' }, { transcript })).key;
    const refused = await gw
      .http()
      .post(`/team/${other}/callback`)
      .set(bearer(teamAdmin))
      .send(entry({ dd_api_key: keys.team, dd_base_url: `http://127.0.0.1:${dd.port + 1}` }));
    transcript.record('POST team admin datadog', refused);
    expect([refused.status, (refused.body as { error: { param: string } }).error.param]).toEqual([400, 'callback_vars.dd_base_url']);
  });

  it('/key/health: validates the key at /api/v1/validate (healthy), a wrong key is unhealthy and not echoed; no log written', async () => {
    const intakeBefore = dd.intakeRequests().length;
    const healthy = await gw.http().post('/key/health').set(bearer(teamKey)).send({});
    transcript.record('POST /key/health', healthy);
    expect(healthy.body).toMatchObject({ key: 'healthy', logging_callbacks: { status: 'healthy' } });

    const wrong = secret('dd-wrong');
    const key = (await newKey(gw, { metadata: { logging: [entry({ dd_api_key: wrong, dd_base_url: dd.url })] } }, { transcript })).key;
    const res = await gw.http().post('/key/health').set(bearer(key)).send({});
    transcript.record('POST /key/health (wrong key)', res);
    const body = res.body as { key: string; logging_callbacks: { details: string } };
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks.details).toContain('Datadog rejected the API key (HTTP 403)');
    expect(res.text).not.toContain(wrong);
    expect(dd.intakeRequests().length).toBe(intakeBefore);
    expect(dd.requests.some((r) => r.path === '/api/v1/validate')).toBe(true);
  });

  it('the keys are in no answer, no log line, no table, and in no request but their own DD-API-KEY header', async () => {
    const all = { ...keys };
    expect(findSecrets(transcript.entries, all)).toEqual([]);
    expect(findSecrets([{ where: 'gateway log', text: capture.text() }], all)).toEqual([]);
    expect(findSecrets(await databaseHaystacks(gw.dataSource), all)).toEqual([]);
    expect(findSecrets(fakeHaystacks('datadog', dd.requests, ['dd-api-key']), all)).toEqual([]);
  });
});
