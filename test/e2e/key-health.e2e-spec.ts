import { basicAuth } from '../support/fakes/fake-http-server';
import { FakeGcs } from '../support/fakes/fake-gcs';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { FakeOtlp } from '../support/fakes/fake-otlp';
import { freePort } from '../support/gateway-process';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import {
  addCallback,
  bearer,
  EnvScope,
  findSecrets,
  langfuseEntry,
  LOGGING_ENV,
  makeServiceAccount,
  newKey,
  newTeam,
  secret,
  Transcript,
} from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

interface HealthBody {
  key: 'healthy' | 'unhealthy';
  logging_callbacks: { callbacks: string[]; status: 'healthy' | 'unhealthy'; details: string } | null;
}

/**
 * Issue 4, `POST /key/health`: LiteLLM's response shape, but a real probe of every destination resolved for the
 * key and for its team (Langfuse auth, GCS bucket access, OTLP reachability, env variables set), writing nothing.
 */
describe('POST /key/health', () => {
  const env = new EnvScope();
  const transcript = new Transcript();
  const good = langfuseProject('health-good');
  const teamGood = langfuseProject('health-team');
  const wrongSecret = secret('sk-lf-wrong');
  const otlpToken = secret('otlp-health-token');
  const serviceAccount = makeServiceAccount('health-logger');
  let closedPort: number;

  let langfuse: FakeLangfuse;
  let gcs: FakeGcs;
  let otlp: FakeOtlp;
  let gw: TestApp;

  async function health(key: string): Promise<HealthBody> {
    const res = await gw.http().post('/key/health').set(bearer(key)).set('Content-Type', 'application/json');
    transcript.record('POST /key/health', res);
    expect([res.status, res.text.slice(0, 500)]).toEqual([200, expect.any(String) as unknown]);
    // The privacy switches every answer carries are issue 14's (test/e2e/privacy.e2e-spec.ts); here, LiteLLM's shape.
    const { privacy, ...body } = res.body as HealthBody & { privacy: unknown };
    expect(privacy).toMatchObject({ turn_off_message_logging: expect.any(Object) as unknown });
    return body;
  }

  async function keyWith(logging: unknown[], extra: Record<string, unknown> = {}): Promise<string> {
    return (await newKey(gw, { ...extra, metadata: { logging } }, { transcript })).key;
  }

  const gcsEntry = (bucket: string) => ({
    callback_name: 'gcs_bucket',
    callback_type: 'success',
    callback_vars: { gcs_bucket_name: bucket, gcs_service_account_json: serviceAccount.json },
  });
  const otelEntry = (endpoint: string) => ({
    callback_name: 'otel',
    callback_vars: { otel_endpoint: endpoint, otel_headers: `x-otlp-token=${otlpToken}` },
  });

  beforeAll(async () => {
    langfuse = await FakeLangfuse.start({ keys: [good, teamGood] });
    gcs = await FakeGcs.start({ buckets: ['health-ok', 'health-forbidden'] });
    otlp = await FakeOtlp.start({ requiredHeaders: { 'x-otlp-token': otlpToken } });
    closedPort = await freePort();
    env.set({
      HEALTH_SET_PK: good.publicKey,
      HEALTH_SET_SK: good.secretKey,
      HEALTH_LATER_UNSET_SK: good.secretKey,
      STORAGE_EMULATOR_HOST: gcs.url,
    });
    env.unset('HEALTH_UNSET_PK');
    env.unset('LANGFUSE_PUBLIC_KEY');
    gw = await createTestApp({
      configYaml: `${modelListYaml()}
litellm_settings:
  default_team_settings:
    - team_id: health-env-ok
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/HEALTH_SET_PK
      langfuse_secret: os.environ/HEALTH_SET_SK
      langfuse_host: ${langfuse.url}
    - team_id: health-env-missing
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/HEALTH_UNSET_PK
      langfuse_secret: os.environ/HEALTH_SET_SK
      langfuse_host: ${langfuse.url}
`,
      env: { ...LOGGING_ENV, STORAGE_EMULATOR_HOST: gcs.url },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([langfuse?.close(), gcs?.close(), otlp?.close()]);
    env.restore();
  });

  it('needs the key under test', async () => {
    const res = await gw.http().post('/key/health');
    expect(res.status).toBe(401);
  });

  it('a key with nothing resolved: {"key":"healthy","logging_callbacks":null}', async () => {
    const plain = (await newKey(gw, {}, { transcript })).key;
    expect(await health(plain)).toEqual({ key: 'healthy', logging_callbacks: null });
    const teamId = await newTeam(gw, { team_id: 'health-no-logging' }, transcript);
    const teamKey = (await newKey(gw, { team_id: teamId }, { transcript })).key;
    expect(await health(teamKey)).toEqual({ key: 'healthy', logging_callbacks: null });
  });

  it('healthy Langfuse: the credentials are really checked against the host, and no trace is written', async () => {
    const key = await keyWith([langfuseEntry(good, langfuse.url)]);
    const before = langfuse.requests.length;
    const body = await health(key);
    expect(body).toEqual({
      key: 'healthy',
      logging_callbacks: { callbacks: ['langfuse'], status: 'healthy', details: expect.any(String) as unknown },
    });
    const probes = langfuse.requests.slice(before);
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.some((r) => basicAuth(r.headers)?.user === good.publicKey && basicAuth(r.headers)?.password === good.secretKey)).toBe(true);
    const written = probes.filter((r) => r.path === '/api/public/ingestion' && ((r.json as { batch?: unknown[] } | undefined)?.batch?.length ?? 0) > 0);
    expect(written).toEqual([]);
    expect(langfuse.traces(good.publicKey)).toEqual([]);
  });

  it('wrong Langfuse secret → unhealthy, naming langfuse, never the secret', async () => {
    const key = await keyWith([langfuseEntry({ publicKey: good.publicKey, secretKey: wrongSecret }, langfuse.url)]);
    const body = await health(key);
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks).toMatchObject({ callbacks: ['langfuse'], status: 'unhealthy' });
    expect(body.logging_callbacks?.details).toMatch(/langfuse/i);
    expect(body.logging_callbacks?.details).toMatch(/401|auth|credential|unauthori[sz]ed|invalid/i);
    expect(JSON.stringify(body)).not.toContain(wrongSecret);
    expect(JSON.stringify(body)).not.toContain(good.publicKey);
  });

  it('GCS: a writable bucket is healthy without writing an object; a forbidden bucket (403) is unhealthy', async () => {
    const okKey = await keyWith([gcsEntry('health-ok')]);
    const uploadsBefore = gcs.uploadRequests.length;
    expect(await health(okKey)).toEqual({
      key: 'healthy',
      logging_callbacks: { callbacks: ['gcs_bucket'], status: 'healthy', details: expect.any(String) as unknown },
    });

    gcs.setBucketStatus('health-forbidden', 403);
    const forbiddenKey = await keyWith([gcsEntry('health-forbidden')]);
    const body = await health(forbiddenKey);
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks).toMatchObject({ callbacks: ['gcs_bucket'], status: 'unhealthy' });
    expect(body.logging_callbacks?.details).toMatch(/gcs_bucket/);
    expect(body.logging_callbacks?.details).toMatch(/403|forbidden|permission|access/i);
    expect(body.logging_callbacks?.details).toContain('health-forbidden');
    expect(JSON.stringify(body)).not.toContain(serviceAccount.canary);

    expect(gcs.uploadRequests.length).toBe(uploadsBefore);
    expect(gcs.objects('health-ok')).toEqual([]);
    expect(gcs.requests.length).toBeGreaterThan(0); // it did ask the bucket
  });

  it('OTLP: a reachable collector is healthy without receiving a span; an unreachable host is unhealthy', async () => {
    const okKey = await keyWith([otelEntry(otlp.url)]);
    expect(await health(okKey)).toEqual({
      key: 'healthy',
      logging_callbacks: { callbacks: ['otel'], status: 'healthy', details: expect.any(String) as unknown },
    });
    expect(otlp.spans()).toEqual([]);

    const downKey = await keyWith([otelEntry(`http://127.0.0.1:${closedPort}`)]);
    const body = await health(downKey);
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks).toMatchObject({ callbacks: ['otel'], status: 'unhealthy' });
    expect(body.logging_callbacks?.details).toMatch(/otel/);
    expect(body.logging_callbacks?.details).toMatch(/ECONNREFUSED|unreachable|reach|connect/i);
    expect(JSON.stringify(body)).not.toContain(otlpToken);
  });

  it('an unreachable Langfuse host is unhealthy', async () => {
    const key = await keyWith([langfuseEntry(good, `http://127.0.0.1:${closedPort}`)]);
    const body = await health(key);
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks?.details).toMatch(/langfuse/);
    expect(body.logging_callbacks?.details).toMatch(/ECONNREFUSED|unreachable|reach|connect/i);
  });

  it('an unset environment variable is unhealthy and named (config team, and a key whose variable went away)', async () => {
    const okTeamKey = (await newKey(gw, { team_id: 'health-env-ok' }, { transcript })).key;
    expect(await health(okTeamKey)).toMatchObject({ key: 'healthy', logging_callbacks: { callbacks: ['langfuse'], status: 'healthy' } });

    const missingTeamKey = (await newKey(gw, { team_id: 'health-env-missing' }, { transcript })).key;
    const body = await health(missingTeamKey);
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks).toMatchObject({ callbacks: ['langfuse'], status: 'unhealthy' });
    expect(body.logging_callbacks?.details).toContain('HEALTH_UNSET_PK');
    expect(body.logging_callbacks?.details).toMatch(/langfuse/);

    const refKey = await keyWith([
      { callback_name: 'langfuse', callback_vars: { langfuse_public_key: 'os.environ/HEALTH_SET_PK', langfuse_secret_key: 'os.environ/HEALTH_LATER_UNSET_SK', langfuse_host: langfuse.url } },
    ]);
    expect((await health(refKey)).key).toBe('healthy');
    env.unset('HEALTH_LATER_UNSET_SK');
    const gone = await health(refKey);
    expect(gone.key).toBe('unhealthy');
    expect(gone.logging_callbacks?.details).toContain('HEALTH_LATER_UNSET_SK');
    expect(JSON.stringify(gone)).not.toContain(good.secretKey);
  });

  it('checks the team’s destinations as well as the key’s own', async () => {
    const teamId = await newTeam(gw, { team_id: 'health-team-broken' }, transcript);
    await addCallback(gw, teamId, langfuseEntry({ publicKey: teamGood.publicKey, secretKey: wrongSecret }, langfuse.url), { transcript });
    const teamOnly = (await newKey(gw, { team_id: teamId }, { transcript })).key;
    const body = await health(teamOnly);
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks).toMatchObject({ callbacks: ['langfuse'], status: 'unhealthy' });

    const ownGood = await keyWith([otelEntry(otlp.url)], { team_id: teamId });
    const mixed = await health(ownGood);
    expect(mixed.key).toBe('unhealthy');
    expect(mixed.logging_callbacks?.callbacks).toEqual(expect.arrayContaining(['otel', 'langfuse']));
    expect(mixed.logging_callbacks?.details).toMatch(/langfuse/);
    expect(JSON.stringify(mixed)).not.toContain(wrongSecret);

    const healthyTeam = await newTeam(gw, { team_id: 'health-team-ok' }, transcript);
    await addCallback(gw, healthyTeam, langfuseEntry(teamGood, langfuse.url), { transcript });
    const teamKey = (await newKey(gw, { team_id: healthyTeam }, { transcript })).key;
    expect(await health(teamKey)).toEqual({
      key: 'healthy',
      logging_callbacks: { callbacks: ['langfuse'], status: 'healthy', details: expect.any(String) as unknown },
    });
  });

  it('a key of a team with logging disabled has nothing resolved (null), its own entries included', async () => {
    const teamId = await newTeam(gw, { team_id: 'health-disabled' }, transcript);
    await addCallback(gw, teamId, langfuseEntry(teamGood, langfuse.url), { transcript });
    const own = await keyWith([otelEntry(`http://127.0.0.1:${closedPort}`)], { team_id: teamId });
    expect((await health(own)).key).toBe('unhealthy');
    await gw.http().post(`/team/${teamId}/disable_logging`).set(bearer(gw.masterKey)).expect(200);
    expect(await health(own)).toEqual({ key: 'healthy', logging_callbacks: null });
  });

  it('one failing destination among several: unhealthy, and details name the failing one', async () => {
    const key = await keyWith([langfuseEntry(good, langfuse.url), otelEntry(`http://127.0.0.1:${closedPort}`)]);
    const body = await health(key);
    expect(body.key).toBe('unhealthy');
    expect(body.logging_callbacks?.callbacks).toEqual(expect.arrayContaining(['langfuse', 'otel']));
    expect(body.logging_callbacks?.status).toBe('unhealthy');
    expect(body.logging_callbacks?.details).toMatch(/otel/);
  });

  it('no health answer ever contains a secret, and no health check wrote any data', () => {
    const secrets = {
      good: good.secretKey,
      teamGood: teamGood.secretKey,
      wrong: wrongSecret,
      otlp: otlpToken,
      sa: serviceAccount.canary,
      goodPublic: good.publicKey,
      teamPublic: teamGood.publicKey,
    };
    const healthAnswers = transcript.entries.filter((entry) => entry.where.startsWith('POST /key/health'));
    expect(healthAnswers.length).toBeGreaterThan(10);
    expect(findSecrets(healthAnswers, secrets)).toEqual([]);
    expect(langfuse.traces(good.publicKey)).toEqual([]);
    expect(langfuse.traces(teamGood.publicKey)).toEqual([]);
    expect(otlp.spans()).toEqual([]);
    expect(gcs.objects('health-ok')).toEqual([]);
  });
});
