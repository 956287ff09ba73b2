import { FakeOtlp, otlpVendor, type ReceivedSpan } from '../support/fakes/fake-otlp';
import { modelListYaml } from '../support/logging/fixtures';
import {
  addCallback,
  bearer,
  chatOk,
  databaseHaystacks,
  EnvScope,
  fakeHaystacks,
  findSecrets,
  LOGGING_ENV,
  LogCapture,
  marker,
  MASK,
  newKey,
  newTeam,
  otlpSpansWith,
  secret,
  Transcript,
  waitFor,
} from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

interface CallbackView {
  data: { callbacks: { callback_name: string; callback_vars: Record<string, string> }[]; success_callbacks: string[] };
}
interface ErrorBody {
  error: { param: string; message: string };
}

/**
 * Issue 27 item 3: `arize`, `arize_phoenix` and `langfuse_otel`, LiteLLM's OTLP destinations, against loopback
 * receivers that require each vendor's authentication (the fake is proven with OpenTelemetry's exporter in
 * fake-otlp.e2e-spec.ts): as global callbacks from LiteLLM's environment variables, in a config team, as a team
 * callback and in a key's metadata.logging; retried through an outage; bad vars refused naming the field; secrets
 * in no answer, log line or table; /key/health healthy and unhealthy.
 */
describe('OTLP destinations arize, arize_phoenix, langfuse_otel', () => {
  const transcript = new Transcript();
  const capture = new LogCapture();
  const env = new EnvScope();
  const arizeKey = secret('arize-api-key');
  const arizeSpace = secret('arize-space');
  const phoenixKey = secret('phoenix-key');
  const lfPublic = secret('pk-lf');
  const lfSecret = secret('sk-lf');
  const secrets = { arizeKey, arizeSpace, phoenixKey, lfPublic, lfSecret };

  let arize: FakeOtlp;
  let phoenix: FakeOtlp;
  let langfuse: FakeOtlp;
  let gw: TestApp;
  let teamlessKey: string;
  let teamId: string;
  let teamKey: string;

  const fakes = () => ({ arize, phoenix, langfuse });
  const one = async (fake: FakeOtlp, what: string, mark: string): Promise<ReceivedSpan> => (await waitFor(what, () => otlpSpansWith(fake, mark)))[0];

  beforeAll(async () => {
    arize = await FakeOtlp.start(otlpVendor.arize(arizeSpace, arizeKey));
    phoenix = await FakeOtlp.start(otlpVendor.phoenix(phoenixKey));
    langfuse = await FakeOtlp.start(otlpVendor.langfuse(lfPublic, lfSecret));
    env.set({
      // LiteLLM's variables, read for the global callbacks.
      ARIZE_SPACE_ID: arizeSpace,
      ARIZE_API_KEY: arizeKey,
      ARIZE_HTTP_ENDPOINT: `${arize.url}/v1`,
      ARIZE_PROJECT_NAME: 'global-arize',
      PHOENIX_API_KEY: phoenixKey,
      PHOENIX_COLLECTOR_HTTP_ENDPOINT: `${phoenix.url}/v1/traces`,
      PHOENIX_PROJECT_NAME: 'global-phoenix',
      LANGFUSE_PUBLIC_KEY: lfPublic,
      LANGFUSE_SECRET_KEY: lfSecret,
      LANGFUSE_OTEL_HOST: langfuse.url,
      // A config team's own reference.
      CFG_PHOENIX_KEY: phoenixKey,
    });
    const configYaml = `${modelListYaml()}
litellm_settings:
  callbacks: ["arize", "arize_phoenix", "langfuse_otel"]
  default_team_settings:
    - team_id: otlp-config-team
      success_callback: ["arize_phoenix"]
      phoenix_api_key: os.environ/CFG_PHOENIX_KEY
      phoenix_collector_endpoint: ${phoenix.url}
      phoenix_project_name: config-team-project

general_settings:
  allowed_logging_hosts: ["127.0.0.1"]
`;
    gw = await createTestApp({ configYaml, env: LOGGING_ENV, logDestination: capture });
    teamlessKey = (await newKey(gw, { key_alias: 'otlp-no-team' }, { transcript })).key;
    teamId = await newTeam(gw, { team_alias: 'otlp-team' }, transcript);
    teamKey = (await newKey(gw, { team_id: teamId, key_alias: 'otlp-team-key' }, { transcript })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([arize?.close(), phoenix?.close(), langfuse?.close()]);
    env.restore();
  });

  it("global callbacks from LiteLLM's environment variables: each product gets the call, as it shows one", async () => {
    const mark = marker('otlp-global');
    const { callId } = await chatOk(gw.baseUrl, teamlessKey, { marker: mark }, transcript);

    const a = await one(arize, 'the Arize span', mark);
    expect(a.resource).toMatchObject({ model_id: 'global-arize', 'openinference.project.name': 'global-arize' });
    expect(a.attributes).toMatchObject({ 'openinference.span.kind': 'LLM', 'llm.model_name': expect.any(String) as unknown, 'gatehouse.call_id': callId });
    expect(a.attributes['llm.input_messages.0.message.content']).toContain(mark);
    expect(a.attributes['llm.token_count.prompt']).toBeGreaterThan(0);
    expect(a.attributes['output.value']).toEqual(expect.any(String));

    const p = await one(phoenix, 'the Phoenix span', mark);
    expect(p.resource).toMatchObject({ 'openinference.project.name': 'global-phoenix' });
    expect(phoenix.requests.find((r) => r.text.includes(mark))?.path).toBe('/v1/traces');

    const l = await one(langfuse, 'the Langfuse span', mark);
    expect(l.attributes).toMatchObject({ 'gen_ai.usage.input_tokens': expect.any(Number) as unknown, 'input.value': expect.stringContaining(mark) as unknown });
    expect(langfuse.requests.find((r) => r.text.includes(mark))?.path).toBe('/api/public/otel/v1/traces');
  });

  it('a config team (default_team_settings) logs to its own Phoenix project', async () => {
    // Config teams exist from start-up.
    const key = (await newKey(gw, { team_id: 'otlp-config-team' }, { transcript })).key;
    const mark = marker('otlp-config');
    await chatOk(gw.baseUrl, key, { marker: mark }, transcript);
    const spans = await waitFor('the config team span', () => otlpSpansWith(phoenix, mark).filter((s) => s.resource['openinference.project.name'] === 'config-team-project'));
    expect(spans).toHaveLength(1);
  });

  it('a team callback (POST /team/{id}/callback) for arize: secrets masked in the answer, the call delivered', async () => {
    const res = await addCallback(
      gw,
      teamId,
      {
        callback_name: 'arize',
        callback_type: 'success_and_failure',
        callback_vars: { arize_space_key: arizeSpace, arize_api_key: arizeKey, arize_endpoint: arize.url, arize_project_name: 'team-project' },
      },
      { transcript },
    );
    expect(res.text).not.toContain(arizeKey);
    const view = (await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey))).body as CallbackView;
    expect(view.data.callbacks[0].callback_vars).toEqual({ arize_space_key: MASK, arize_api_key: MASK, arize_endpoint: arize.url, arize_project_name: 'team-project' });

    const mark = marker('otlp-team');
    await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    const spans = await waitFor('the team Arize span', () => otlpSpansWith(arize, mark).filter((s) => s.resource.model_id === 'team-project'));
    expect(spans).toHaveLength(1);
  });

  it("a key's metadata.logging entry for langfuse_otel", async () => {
    const key = (
      await newKey(
        gw,
        {
          metadata: {
            logging: [
              {
                callback_name: 'langfuse_otel',
                callback_type: 'success',
                callback_vars: { langfuse_public_key: lfPublic, langfuse_secret_key: lfSecret, langfuse_host: langfuse.url },
              },
            ],
          },
        },
        { transcript },
      )
    ).key;
    const mark = marker('otlp-key');
    await chatOk(gw.baseUrl, key, { marker: mark }, transcript);
    await one(langfuse, 'the key-logged Langfuse span', mark);
  });

  it('an outage of the receiver is retried until it takes the span: none lost', async () => {
    arize.setFailure({ status: 503, times: 2, retryAfter: '0' });
    const mark = marker('otlp-outage');
    await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    await waitFor('the retried Arize span', () => otlpSpansWith(arize, mark).filter((s) => s.resource.model_id === 'team-project'), 20_000);
    const metrics = await gw.http().get('/metrics').set(bearer(gw.masterKey));
    expect(metrics.text).toMatch(/gatehouse_log_events_retried_total\{kind="arize",team="[^"]+"\} [1-9]/);
  });

  it('bad vars → 400 naming the field, nothing stored', async () => {
    const other = await newTeam(gw, { team_alias: 'otlp-bad-vars' }, transcript);
    const post = (body: object) => gw.http().post(`/team/${other}/callback`).set(bearer(gw.masterKey)).send(body);
    const missing = await post({ callback_name: 'arize', callback_vars: { arize_space_key: arizeSpace } });
    expect([missing.status, (missing.body as ErrorBody).error.param]).toEqual([400, 'callback_vars.arize_api_key']);
    const unknown = await post({ callback_name: 'arize_phoenix', callback_vars: { phoenix_collector_endpoint: phoenix.url, phoenix_apikey: 'x' } });
    expect([unknown.status, (unknown.body as ErrorBody).error.param]).toEqual([400, 'callback_vars.phoenix_apikey']);
    const badUrl = await post({ callback_name: 'langfuse_otel', callback_vars: { langfuse_public_key: 'p', langfuse_secret_key: lfSecret, langfuse_host: 'ftp://x' } });
    expect([badUrl.status, (badUrl.body as ErrorBody).error.param]).toEqual([400, 'callback_vars.langfuse_host']);
    expect(badUrl.text).not.toContain(lfSecret);
    const view = (await gw.http().get(`/team/${other}/callback`).set(bearer(gw.masterKey))).body as CallbackView;
    expect(view.data.callbacks).toEqual([]);
  });

  it("a team admin's collector endpoint is SSRF-checked, and required (the default is on the gateway's host)", async () => {
    const other = await newTeam(gw, { team_alias: 'otlp-team-admin' }, transcript);
    const teamAdmin = (await newKey(gw, { team_id: other, role: 'team_admin' }, { transcript })).key;
    const refused = await gw
      .http()
      .post(`/team/${other}/callback`)
      .set(bearer(teamAdmin))
      .send({ callback_name: 'arize_phoenix', callback_vars: { phoenix_api_key: phoenixKey, phoenix_collector_endpoint: 'http://169.254.169.254/' } });
    expect([refused.status, (refused.body as ErrorBody).error.param]).toEqual([400, 'callback_vars.phoenix_collector_endpoint']);
    const noEndpoint = await gw.http().post(`/team/${other}/callback`).set(bearer(teamAdmin)).send({ callback_name: 'arize_phoenix', callback_vars: { phoenix_api_key: phoenixKey } });
    expect([noEndpoint.status, (noEndpoint.body as ErrorBody).error.param]).toEqual([400, 'callback_vars.phoenix_collector_endpoint']);
  });

  it('/key/health probes for real (an empty export, nothing written): healthy, and unhealthy with a wrong key', async () => {
    const before = arize.spans().length;
    const healthy = await gw.http().post('/key/health').set(bearer(teamKey)).send({});
    expect((healthy.body as { logging_callbacks: unknown }).logging_callbacks).toMatchObject({ callbacks: ['arize'], status: 'healthy' });
    expect(arize.spans().length).toBe(before);

    const wrong = secret('wrong-phoenix-key');
    const key = (
      await newKey(
        gw,
        { metadata: { logging: [{ callback_name: 'arize_phoenix', callback_type: 'success', callback_vars: { phoenix_api_key: wrong, phoenix_collector_endpoint: phoenix.url } }] } },
        { transcript },
      )
    ).key;
    const res = await gw.http().post('/key/health').set(bearer(key)).send({});
    const body = res.body as { key: string; logging_callbacks: { details: string } };
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks.details).toContain('HTTP 401');
    expect(res.text).not.toContain(wrong);
  });

  it('secrets are in no answer, log line or table, and reach the receivers only as their auth headers', async () => {
    expect(findSecrets(transcript.entries, secrets)).toEqual([]);
    expect(capture.lines.length).toBeGreaterThan(0);
    expect(findSecrets([{ where: 'stdout', text: capture.text() }], secrets)).toEqual([]);
    expect(findSecrets(await databaseHaystacks(gw.dataSource), secrets)).toEqual([]);
    expect(
      findSecrets(
        [
          ...fakeHaystacks('arize', arize.requests, ['space_id', 'api_key']),
          ...fakeHaystacks('phoenix', phoenix.requests, ['authorization']),
          ...fakeHaystacks('langfuse', langfuse.requests, ['authorization']),
        ],
        secrets,
      ),
    ).toEqual([]);
    expect(Object.keys(fakes())).toHaveLength(3);
  });
});
