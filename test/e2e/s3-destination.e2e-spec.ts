import { FakeS3 } from '../support/fakes/fake-s3';
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
  unmaskedSecretVars,
  waitFor,
} from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

interface CallbackView {
  data: { callbacks: { callback_name: string; callback_vars: Record<string, string> }[]; success_callbacks: string[] };
}

/**
 * Issue 27: the `s3` destination (LiteLLM's S3 logger) against a loopback S3 that verifies every SigV4 signature —
 * per team (POST /team/{id}/callback), per key (metadata.logging), for a config team (default_team_settings) and as
 * the global callback (litellm_settings.s3_callback_params + the AWS environment); an outage retried with none lost;
 * bad vars refused naming the field; secrets in no answer, log line, table or request; /key/health probes HeadBucket.
 */
describe('s3 destination (LiteLLM S3 logger, SigV4 verified by the fake)', () => {
  const transcript = new Transcript();
  const env = new EnvScope();
  const logs = new LogCapture();
  const team = { id: 'AKIATEAMS3000000001A', secret: secret('s3-team-secret') };
  const config = { id: 'AKIACONFIGS30000001A', secret: secret('s3-config-secret') };
  const ambient = { id: 'AKIAGLOBALS30000001A', secret: secret('s3-global-secret') };
  let s3: FakeS3;
  let gw: TestApp;
  let teamId: string;
  let teamKey: string;

  const entry = (vars: Record<string, string>) => ({ callback_name: 's3', callback_type: 'success_and_failure', callback_vars: vars });
  const teamVars = (extra: Record<string, string> = {}) => ({
    s3_bucket_name: 'team-logs',
    s3_region_name: 'eu-west-1',
    s3_endpoint_url: s3.url,
    s3_path: 'litellm/team',
    s3_aws_access_key_id: team.id,
    s3_aws_secret_access_key: team.secret,
    ...extra,
  });
  const linesWith = (bucket: string, mark: string) => s3.objects(bucket).filter((o) => o.text.includes(mark));

  beforeAll(async () => {
    s3 = await FakeS3.start({
      credentials: [
        { accessKeyId: team.id, secretAccessKey: team.secret },
        { accessKeyId: config.id, secretAccessKey: config.secret },
        { accessKeyId: ambient.id, secretAccessKey: ambient.secret },
      ],
      buckets: { 'team-logs': 'eu-west-1', 'key-logs': 'eu-west-1', 'config-logs': 'us-east-1', 'global-logs': 'us-east-1' },
    });
    // The global callback signs with the AWS environment, as LiteLLM's does when s3_callback_params has no keys.
    env.set({ AWS_ACCESS_KEY_ID: ambient.id, AWS_SECRET_ACCESS_KEY: ambient.secret, GH_S3_CONFIG_KEY_ID: config.id, GH_S3_CONFIG_SECRET: config.secret });
    gw = await createTestApp({
      configYaml: `${modelListYaml()}
general_settings:
  allowed_logging_hosts: ["127.0.0.1:${s3.port}"]
litellm_settings:
  success_callback: ["s3_v2"] # LiteLLM's docs' spelling of its S3 logger
  s3_callback_params:
    s3_bucket_name: global-logs
    s3_region_name: us-east-1
    s3_endpoint_url: ${s3.url}
    s3_path: litellm/global
  default_team_settings:
    - team_id: s3-config-team
      success_callback: ["s3"]
      s3_bucket_name: config-logs
      s3_endpoint_url: ${s3.url}
      s3_aws_access_key_id: os.environ/GH_S3_CONFIG_KEY_ID
      s3_aws_secret_access_key: os.environ/GH_S3_CONFIG_SECRET
`,
      env: LOGGING_ENV,
      logDestination: logs,
    });
    teamId = await newTeam(gw, { team_alias: 's3-team' }, transcript);
    teamKey = (await newKey(gw, { team_id: teamId, key_alias: 's3-app' }, { transcript })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await s3?.close();
    env.restore();
  });

  it('is attached to a team through POST /team/{id}/callback; its credentials are masked in every answer', async () => {
    const res = await addCallback(gw, teamId, entry(teamVars({ s3_use_team_prefix: 'true' })), { transcript });
    expect(res.text).not.toContain(team.secret);
    const view = await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey));
    const body = view.body as CallbackView;
    expect(body.data.success_callbacks).toEqual(['s3']);
    expect(body.data.callbacks[0].callback_vars).toMatchObject({
      s3_bucket_name: 'team-logs',
      s3_aws_access_key_id: MASK,
      s3_aws_secret_access_key: MASK,
      s3_endpoint_url: s3.url,
    });
    expect(unmaskedSecretVars(view.body)).toEqual([]);
  });

  it("delivers a team's call as a SigV4-signed object under LiteLLM's <s3_path>/<team alias>/<date>/time-… key", async () => {
    const mark = marker('s3-team');
    const { callId } = await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    const [object] = await waitFor('the team object in S3', () => linesWith('team-logs', mark));
    expect(object.key).toMatch(/^litellm\/team\/s3-team\/\d{4}-\d{2}-\d{2}\/time-\d{2}-\d{2}-\d{2}-\d{6}_.+\.json$/);
    expect(object.signedBy).toBe(team.id);
    expect(object.contentType).toBe('application/json');
    const line = JSON.parse(object.text.trim().split('\n').find((l) => l.includes(mark))!) as Record<string, unknown>;
    expect(line).toMatchObject({ litellm_call_id: callId, model_group: 'gpt-4', status: 'success' });
  });

  it('delivers a key with its own metadata.logging to its own bucket', async () => {
    const key = (await newKey(gw, { team_id: teamId, metadata: { logging: [entry(teamVars({ s3_bucket_name: 'key-logs', s3_path: 'per-key' }))] } }, { transcript })).key;
    const mark = marker('s3-key');
    await chatOk(gw.baseUrl, key, { marker: mark }, transcript);
    const [object] = await waitFor('the key object in S3', () => linesWith('key-logs', mark));
    expect(object.key.startsWith('per-key/')).toBe(true);
    expect(linesWith('team-logs', mark)).toEqual([]);
  });

  it('delivers a config team (default_team_settings, os.environ/ credentials) to its bucket', async () => {
    const key = (await newKey(gw, { team_id: 's3-config-team' }, { transcript })).key;
    const mark = marker('s3-config');
    await chatOk(gw.baseUrl, key, { marker: mark }, transcript);
    const [object] = await waitFor('the config-team object in S3', () => linesWith('config-logs', mark));
    expect(object.signedBy).toBe(config.id);
    expect(object.key).toMatch(/^\d{4}-\d{2}-\d{2}\/time-/);
  });

  it('delivers the global callback (s3_callback_params, signed with the AWS environment)', async () => {
    const key = (await newKey(gw, {}, { transcript })).key;
    const mark = marker('s3-global');
    await chatOk(gw.baseUrl, key, { marker: mark }, transcript);
    const [object] = await waitFor('the global object in S3', () => linesWith('global-logs', mark));
    expect(object.signedBy).toBe(ambient.id);
    expect(object.key.startsWith('litellm/global/')).toBe(true);
  });

  it('an S3 outage is retried until S3 takes the events: none lost', async () => {
    s3.setFailure({ status: 503, times: 2, retryAfter: '0', match: (req) => req.method === 'PUT' && req.path.startsWith('/team-logs/') });
    const marks = [marker('s3-retry-a'), marker('s3-retry-b')];
    for (const mark of marks) await chatOk(gw.baseUrl, teamKey, { marker: mark }, transcript);
    for (const mark of marks) await waitFor(`the retried event ${mark}`, () => linesWith('team-logs', mark), 20_000);
    const metrics = await gw.http().get('/metrics').set(bearer(gw.masterKey));
    expect(metrics.text).toMatch(/gatehouse_log_events_retried_total\{kind="s3",team="[^"]+"\} [1-9]/);
  });

  it('bad vars → 400 naming the field, nothing stored', async () => {
    const post = (body: object, auth = gw.masterKey) => gw.http().post(`/team/${teamId}/callback`).set(bearer(auth)).send(body);
    const cases: [Record<string, string>, string][] = [
      [teamVars({ s3_bucket_name: 'Not_A_Bucket' }), 'callback_vars.s3_bucket_name'],
      [teamVars({ s3_region_name: 'moon-1' }), 'callback_vars.s3_region_name'],
      [teamVars({ s3_endpoint_url: 'ftp://x' }), 'callback_vars.s3_endpoint_url'],
      [teamVars({ s3_aws_role_name: 'arn:aws:iam::1:role/r' }), 'callback_vars.s3_aws_role_name'],
      [{ s3_region_name: 'eu-west-1' }, 'callback_vars.s3_bucket_name'],
    ];
    for (const [vars, param] of cases) {
      const res = await post(entry(vars));
      expect([res.status, (res.body as { error: { param: string } }).error.param]).toEqual([400, param]);
      expect(res.text).not.toContain(team.secret);
    }
    // A team admin must bring its own key pair (the gateway's AWS identity is not for tenants' buckets).
    const teamAdmin = (await newKey(gw, { team_id: teamId, role: 'team_admin' }, { transcript })).key;
    const ambientOnly = await post(entry({ s3_bucket_name: 'team-logs', s3_endpoint_url: s3.url }), teamAdmin);
    expect([ambientOnly.status, (ambientOnly.body as { error: { param: string } }).error.param]).toEqual([400, 'callback_vars.s3_aws_access_key_id']);
    // ... and its endpoint passes the SSRF guard (only the allow-listed loopback port).
    const ssrf = await post(entry(teamVars({ s3_endpoint_url: `http://127.0.0.1:${s3.port + 1}` })), teamAdmin);
    expect([ssrf.status, (ssrf.body as { error: { param: string } }).error.param]).toEqual([400, 'callback_vars.s3_endpoint_url']);
    const view = (await gw.http().get(`/team/${teamId}/callback`).set(bearer(gw.masterKey))).body as CallbackView;
    expect(view.data.callbacks).toHaveLength(1);
  });

  it('/key/health probes HeadBucket: healthy with the right keys, unhealthy (nothing written, secret redacted) with a wrong one', async () => {
    const putsBefore = s3.puts.length;
    const healthy = await gw.http().post('/key/health').set(bearer(teamKey)).send({});
    expect((healthy.body as { logging_callbacks: unknown }).logging_callbacks).toMatchObject({ callbacks: ['s3'], status: 'healthy' });

    const wrong = secret('s3-wrong-secret');
    const key = (await newKey(gw, { team_id: teamId, metadata: { logging: [entry(teamVars({ s3_aws_secret_access_key: wrong }))] } }, { transcript })).key;
    const res = await gw.http().post('/key/health').set(bearer(key)).send({});
    const body = res.body as { key: string; logging_callbacks: { details: string } };
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks.details).toContain('S3 refused access to bucket team-logs (HTTP 403)');
    expect(res.text).not.toContain(wrong);
    expect(s3.requests.slice(-2).map((r) => r.method)).toEqual(['HEAD', 'HEAD']);
    expect(s3.puts.length).toBe(putsBefore);
  });

  it('secrets are in no answer, log line, table or request body', async () => {
    const secrets = { team: team.secret, config: config.secret, ambient: ambient.secret };
    expect(findSecrets(await databaseHaystacks(gw.dataSource), secrets)).toEqual([]);
    expect(findSecrets([{ where: 'gateway logs', text: logs.text() }], secrets)).toEqual([]);
    expect(findSecrets(transcript.entries, secrets)).toEqual([]);
    // The secrets sign; they are never sent (the Authorization header holds the key id and an HMAC, not the secret).
    expect(findSecrets(fakeHaystacks('s3', s3.requests), secrets)).toEqual([]);
  });
});
