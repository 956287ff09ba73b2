import { errorOf, type DataJson, type ErrorJson, type TeamInfoJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { FakeGcs } from '../support/fakes/fake-gcs';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { FakeLangsmith } from '../support/fakes/fake-langsmith';
import { FakeOtlp } from '../support/fakes/fake-otlp';
import { freePort } from '../support/gateway-process';
import { langfuseProject, modelListYaml } from '../support/logging/fixtures';
import {
  bearer,
  databaseHaystacks,
  EnvScope,
  LogCapture,
  LOGGING_ENV,
  makeServiceAccount,
  marker,
  newKey,
  newTeam,
  quietPeriod,
  secret,
  Transcript,
  waitFor,
} from '../support/logging/harness';
import { createTestApp, type TestApp } from '../support/test-app';

/** Personal data of every detector, in the prompt and in the upstream's answer. */
const PII = {
  email: 'jane.doe@example-corp.com',
  phone: '+1 415-555-0132',
  card: '4111 1111 1111 1111',
  iban: 'DE89 3704 0044 0532 0130 00',
  ip: '203.0.113.42',
  ipv6: '2001:db8:85a3::8a2e:370:7334',
  apiKey: 'sk-proj-4f9Qk2LmN8pR1sT6uV3wX7yZ0aB5cD',
  aws: 'AKIAIOSFODNN7EXAMPLE',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  employee: 'EMP-482913',
};
const PII_TEXT = `mail ${PII.email}, call ${PII.phone}, card ${PII.card}, IBAN ${PII.iban}, from ${PII.ip} and ${PII.ipv6}, key ${PII.apiKey}, aws ${PII.aws}, token ${PII.jwt}, badge ${PII.employee}`;
const UPSTREAM_ANSWER = `Noted: ${PII_TEXT}.`;
const PLACEHOLDERS = ['[EMAIL]', '[PHONE]', '[CREDIT_CARD]', '[IBAN]', '[IP_ADDRESS]', '[API_KEY]', '[AWS_ACCESS_KEY]', '[JWT]', '[EMPLOYEE_ID]'];

type DestinationName = 'langfuse' | 'gcs' | 'otel' | 'langsmith';

/** The effective privacy settings with their sources (`/key/info`, `/key/health`, `/team/{id}/callback`). */
interface PrivacyView {
  privacy: Record<string, unknown>;
}
const DESTINATIONS: readonly DestinationName[] = ['langfuse', 'gcs', 'otel', 'langsmith'];

/**
 * Issue 14: `no-log`, message redaction, key-info redaction and PII masking, per team and key, proven against all
 * four destination kinds (real client libraries talking to the fakes), for plain, streamed, failed and cached calls.
 */
describe('privacy controls', () => {
  const env = new EnvScope();
  const capture = new LogCapture();
  const transcript = new Transcript();
  const serviceAccount = makeServiceAccount('privacy-logger');
  let upstream: FakeUpstream;
  let toolUpstream: FakeUpstream;
  let langfuse: FakeLangfuse;
  let gcs: FakeGcs;
  let otlp: FakeOtlp;
  let langsmith: FakeLangsmith;
  let closedPort: number;
  let gw: TestApp;
  const fakes = () => ({ langfuse, gcs, otel: otlp, langsmith });

  /** Each team logs to its own Langfuse project, bucket and LangSmith key, and to the shared OTLP collector. */
  const identities = new Map<string, { project: ReturnType<typeof langfuseProject>; bucket: string; langsmithKey: string }>();
  function destinationsFor(teamId: string): unknown[] {
    const id = identities.get(teamId) ?? { project: langfuseProject(teamId), bucket: `${teamId}-logs`, langsmithKey: `lsv2_${secret(teamId)}` };
    identities.set(teamId, id);
    return [
      { callback_name: 'langfuse', callback_vars: { langfuse_public_key: id.project.publicKey, langfuse_secret_key: id.project.secretKey, langfuse_host: langfuse.url } },
      { callback_name: 'gcs_bucket', callback_vars: { gcs_bucket_name: id.bucket, gcs_service_account_json: serviceAccount.json } },
      { callback_name: 'otel', callback_vars: { otel_endpoint: otlp.url, otel_service_name: `svc-${teamId}` } },
      { callback_name: 'langsmith', callback_vars: { langsmith_api_key: id.langsmithKey, langsmith_base_url: langsmith.url, langsmith_project: `${teamId}-project` } },
    ];
  }

  /** A team logging to all four destinations (`fromConfig`: the team exists already, declared in config.yaml). */
  async function team(teamId: string, loggingSettings?: Record<string, unknown>, fromConfig = false): Promise<string> {
    const metadata: Record<string, unknown> = { logging: destinationsFor(teamId) };
    if (loggingSettings !== undefined) metadata.logging_settings = loggingSettings;
    if (fromConfig) {
      const res = await gw.http().post('/team/update').set(bearer(gw.masterKey)).send({ team_id: teamId, metadata });
      expect([res.status, res.text.slice(0, 300)]).toEqual([200, expect.any(String)]);
    } else {
      await newTeam(gw, { team_id: teamId, metadata }, transcript);
    }
    langfuse.addKeyPair(identities.get(teamId)!.project);
    gcs.createBucket(identities.get(teamId)!.bucket);
    langsmith.addApiKey(identities.get(teamId)!.langsmithKey);
    return (await newKey(gw, { team_id: teamId, key_alias: `${teamId}-key` }, { transcript })).key;
  }

  interface Call {
    status: number;
    callId: string;
    text: string;
  }

  async function call(key: string, body: Record<string, unknown>, options: { path?: string; headers?: Record<string, string> } = {}): Promise<Call> {
    const response = await fetch(`${gw.baseUrl}${options.path ?? '/v1/chat/completions'}`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    transcript.add(`POST ${options.path ?? '/v1/chat/completions'} → ${response.status}`, text);
    return { status: response.status, callId: response.headers.get('x-litellm-call-id') ?? '', text };
  }

  const chatBody = (mark: string, extra: Record<string, unknown> = {}) => ({
    model: 'upstream-gpt',
    messages: [
      { role: 'system', content: `You are the support bot (${mark}).` },
      { role: 'user', content: [{ type: 'text', text: `Please update my details: ${PII_TEXT} ${mark}` }] },
    ],
    ...extra,
  });

  /** What each destination received about one call (every request that names its call id), once all four have it. */
  async function delivered(callId: string): Promise<Record<DestinationName, string>> {
    const all = fakes();
    const texts = {} as Record<DestinationName, string>;
    for (const name of DESTINATIONS) {
      const requests = await waitFor(`${name} to receive call ${callId}`, () =>
        all[name].requests.filter((request) => request.text.includes(callId)),
      );
      texts[name] = requests.map((request) => request.text).join('\n');
    }
    return texts;
  }

  function expectNoOriginalText(texts: Record<DestinationName, string>, originals: readonly string[]): void {
    for (const name of DESTINATIONS) {
      for (const original of originals) expect([name, texts[name].includes(original) ? original : null]).toEqual([name, null]);
    }
  }

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ content: UPSTREAM_ANSWER });
    toolUpstream = await FakeUpstream.start({ toolCall: { id: 'call_1', name: 'update_contact', arguments: JSON.stringify({ email: PII.email, iban: PII.iban }) } });
    langfuse = await FakeLangfuse.start();
    gcs = await FakeGcs.start();
    otlp = await FakeOtlp.start();
    langsmith = await FakeLangsmith.start();
    closedPort = await freePort();
    env.set({ STORAGE_EMULATOR_HOST: gcs.url });
    gw = await createTestApp({
      configYaml: `${modelListYaml()}  - model_name: upstream-gpt
    litellm_params:
      model: openai/upstream-model
      api_base: ${upstream.url}
      api_key: sk-upstream-privacy-e2e
      max_retries: 0
  - model_name: upstream-tool
    litellm_params:
      model: openai/upstream-tool
      api_base: ${toolUpstream.url}
      api_key: sk-upstream-privacy-e2e
  - model_name: upstream-embedding
    litellm_params:
      model: openai/upstream-embedding
      api_base: ${upstream.url}
      api_key: sk-upstream-privacy-e2e
litellm_settings:
  cache: true
  cache_params:
    type: local
    ttl: 600
  default_team_settings:
    - team_id: pv-config-redacted
      turn_off_message_logging: true
      pii_masking:
        detectors: [email]
`,
      // A refused event dead-letters after two attempts, for the sweep.
      env: { ...LOGGING_ENV, STORAGE_EMULATOR_HOST: gcs.url, LOG_MAX_ATTEMPTS: '2', LOG_RETRY_MAX_BACKOFF_MS: '200' },
      logDestination: capture,
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([upstream?.close(), toolUpstream?.close(), langfuse?.close(), gcs?.close(), otlp?.close(), langsmith?.close()]);
    env.restore();
  });

  describe('turn_off_message_logging for a team', () => {
    let key: string;
    beforeAll(async () => {
      key = await team('pv-redact', { turn_off_message_logging: true });
    });

    it.each([
      ['a plain answer', {}],
      ['a streamed answer', { stream: true }],
    ])('%s: every destination gets the metadata and the marker, never the messages or the answer', async (_name, extra) => {
      const mark = marker('redact');
      const result = await call(key, chatBody(mark, extra));
      expect(result.status).toBe(200);
      // The caller still gets the real answer, and the upstream the real prompt.
      expect(result.text).toContain('Noted:');
      expect(upstream.requests.some((request) => request.rawBody.includes(mark) && request.rawBody.includes(PII.email))).toBe(true);
      const texts = await delivered(result.callId);
      expectNoOriginalText(texts, [mark, PII.email, 'Noted:', 'support bot']);
      for (const name of DESTINATIONS) expect([name, texts[name].includes('redacted-by-litellm')]).toEqual([name, true]);
      // Metadata still arrives: the model and the key alias.
      for (const name of DESTINATIONS) expect([name, texts[name].includes('pv-redact-key')]).toEqual([name, true]);
    });

    it('a failure (upstream 500) is logged without its messages', async () => {
      const mark = marker('redact-fail');
      upstream.next({ type: 'status', status: 500, body: JSON.stringify({ error: { message: 'upstream broke' } }) });
      const result = await call(key, chatBody(mark));
      expect(result.status).toBe(500);
      expectNoOriginalText(await delivered(result.callId), [mark, PII.email, 'support bot']);
    });

    it('a cache hit is logged without its messages or answer', async () => {
      const mark = marker('redact-cache');
      const body = chatBody(mark, { temperature: 0 });
      expect((await call(key, body)).status).toBe(200);
      const before = upstream.requests.length;
      const hit = await call(key, body);
      expect(upstream.requests.length).toBe(before);
      const texts = await delivered(hit.callId);
      expectNoOriginalText(texts, [mark, PII.email, 'Noted:']);
    });

    it('embeddings: the input is not logged', async () => {
      const mark = marker('redact-embed');
      const result = await call(key, { model: 'upstream-embedding', input: [`embed ${mark} ${PII.email}`] }, { path: '/v1/embeddings' });
      expect(result.status).toBe(200);
      expectNoOriginalText(await delivered(result.callId), [mark, PII.email]);
    });
  });

  describe('PII masking for a team', () => {
    let key: string;
    beforeAll(async () => {
      key = await team('pv-pii', { pii_masking: { detectors: 'all', patterns: [{ name: 'employee_id', regex: 'EMP-\\d{6}' }] } });
    });

    it.each([
      ['a plain answer', {}],
      ['a streamed answer', { stream: true }],
    ])('%s: destinations get typed placeholders for every detector, the upstream and the caller the originals', async (_name, extra) => {
      const mark = marker('pii');
      const result = await call(key, chatBody(mark, extra));
      expect(result.status).toBe(200);
      expect(result.text).toContain('jane.doe');
      expect(upstream.requests.some((request) => request.rawBody.includes(mark) && request.rawBody.includes(PII.card))).toBe(true);
      const texts = await delivered(result.callId);
      expectNoOriginalText(texts, Object.values(PII));
      for (const name of DESTINATIONS) {
        // The marker is not personal data: the rest of the text arrives.
        expect([name, texts[name].includes(mark)]).toEqual([name, true]);
        for (const placeholder of PLACEHOLDERS) expect([name, placeholder, texts[name].includes(placeholder)]).toEqual([name, placeholder, true]);
      }
    });

    it.each([
      ['plain', {}],
      ['streamed', { stream: true }],
    ])('a tool call’s arguments are masked (%s)', async (_name, extra) => {
      const mark = marker('pii-tool');
      const result = await call(key, chatBody(mark, { model: 'upstream-tool', ...extra }));
      expect(result.status).toBe(200);
      expect(result.text).toContain('update_contact');
      const texts = await delivered(result.callId);
      expectNoOriginalText(texts, [PII.email, PII.iban]);
      for (const name of DESTINATIONS) expect([name, texts[name].includes('update_contact')]).toEqual([name, true]);
    });

    it('a failure’s error text and a cache hit are masked too', async () => {
      const mark = marker('pii-fail');
      upstream.next({ type: 'status', status: 400, body: JSON.stringify({ error: { message: `invalid contact ${PII.email}` } }) });
      const failed = await call(key, chatBody(mark));
      expect(failed.status).toBe(400);
      expectNoOriginalText(await delivered(failed.callId), [PII.email, PII.card]);

      const cached = chatBody(marker('pii-cache'), { temperature: 0 });
      await call(key, cached);
      const hit = await call(key, cached);
      expectNoOriginalText(await delivered(hit.callId), Object.values(PII));
    });
  });

  describe('"no-log": true', () => {
    let key: string;
    let forbiddenKey: string;
    beforeAll(async () => {
      key = await team('pv-nolog');
      forbiddenKey = await team('pv-nolog-forbidden', { disable_no_log_param: true });
    });

    it('is logged nowhere (plain, streamed, failed and cached), and `no-log` never reaches the upstream', async () => {
      const marks = [marker('nolog'), marker('nolog-stream'), marker('nolog-fail'), marker('nolog-cache')];
      expect((await call(key, chatBody(marks[0], { 'no-log': true }))).status).toBe(200);
      expect((await call(key, chatBody(marks[1], { 'no-log': true, stream: true }))).status).toBe(200);
      upstream.next({ type: 'status', status: 500, body: '{"error":{"message":"nope"}}' });
      expect((await call(key, chatBody(marks[2], { 'no-log': true }))).status).toBe(500);
      const cached = chatBody(marks[3], { temperature: 0 });
      await call(key, cached); // logged: the miss
      const hit = await call(key, { ...cached, 'no-log': true });
      expect(hit.status).toBe(200);
      // Positive control: a later logged call of the same team arrives everywhere.
      const control = await call(key, chatBody(marker('nolog-control')));
      await delivered(control.callId);
      await quietPeriod();
      for (const mark of marks.slice(0, 3)) expect(requestsNaming(mark)).toEqual([]);
      expect(requestsNaming(hit.callId)).toEqual([]);
      for (const request of upstream.requests) expect(request.body?.['no-log']).toBeUndefined();
    });

    it('forbidden for a team: a clear 400, nothing sent upstream, nothing logged', async () => {
      const mark = marker('nolog-forbidden');
      const before = upstream.requests.length;
      const result = await call(forbiddenKey, chatBody(mark, { 'no-log': true }));
      expect(result.status).toBe(400);
      expect(JSON.parse(result.text)).toMatchObject({ error: { param: 'no-log', type: 'invalid_request_error' } });
      expect((JSON.parse(result.text) as ErrorJson).error.message).toContain('no-log` is disabled for this team');
      expect(upstream.requests.length).toBe(before);
      const control = await call(forbiddenKey, chatBody(marker('nolog-forbidden-control')));
      await delivered(control.callId);
      expect(requestsNaming(mark)).toEqual([]);
    });

    it('a malformed no-log is a 400', async () => {
      const result = await call(key, chatBody(marker('nolog-bad'), { 'no-log': 'sometimes' }));
      expect(result.status).toBe(400);
      expect((JSON.parse(result.text) as ErrorJson).error.param).toBe('no-log');
    });
  });

  function requestsNaming(needle: string): string[] {
    const hits: string[] = [];
    for (const [name, fake] of Object.entries(fakes())) {
      for (const request of fake.requests) if (request.text.includes(needle)) hits.push(`${name} ${request.method} ${request.path}`);
    }
    return hits;
  }

  it('redact_user_api_key_info: key hash, key alias, team and user are left out', async () => {
    const key = await team('pv-anon', { redact_user_api_key_info: true });
    const result = await call(key, chatBody(marker('anon'), { user: 'end-user-4711' }));
    const texts = await delivered(result.callId);
    for (const name of DESTINATIONS) {
      for (const identifier of ['pv-anon-key', 'end-user-4711', '"pv-anon"']) {
        expect([name, identifier, texts[name].includes(identifier)]).toEqual([name, identifier, false]);
      }
    }
  });

  describe('precedence: global < config team < team < key < request', () => {
    const cases: Array<[string, Record<string, unknown> | undefined, Record<string, unknown> | undefined, Record<string, string>, boolean]> = [
      ['nothing set', undefined, undefined, {}, false],
      ['team on', { turn_off_message_logging: true }, undefined, {}, true],
      ['team on, key off (proxy admin)', { turn_off_message_logging: true }, { turn_off_message_logging: false }, {}, false],
      ['team off, key on', undefined, { turn_off_message_logging: true }, {}, true],
      ['request header turns it on', undefined, undefined, { 'x-litellm-enable-message-redaction': 'true' }, true],
      ['opt-out header without permission is ignored', { turn_off_message_logging: true }, undefined, { 'litellm-disable-message-redaction': 'true' }, true],
      [
        'opt-out header with the team’s permission',
        { turn_off_message_logging: true, allow_client_message_redaction_opt_out: true },
        undefined,
        { 'litellm-disable-message-redaction': 'true' },
        false,
      ],
    ];
    let counter = 0;
    it.each(cases)('%s', async (_name, teamSettings, keySettings, headers, redacted) => {
      counter += 1;
      const teamId = `pv-prec-${counter}`;
      await team(teamId, teamSettings);
      const key = (await newKey(gw, { team_id: teamId, ...(keySettings ? { metadata: { logging_settings: keySettings } } : {}) }, { transcript })).key;
      const mark = marker('prec');
      const result = await call(key, chatBody(mark), { headers });
      const texts = await delivered(result.callId);
      for (const name of DESTINATIONS) expect([name, texts[name].includes(mark)]).toEqual([name, !redacted]);
      const info = await gw.http().get('/key/info').set(bearer(key)).expect(200);
      expect((info.body as { info: PrivacyView }).info.privacy.turn_off_message_logging).toEqual({
        value: keySettings?.turn_off_message_logging ?? teamSettings?.turn_off_message_logging ?? false,
        source: keySettings ? 'key' : teamSettings ? 'team' : 'default',
      });
    });

    it('a config team’s settings apply under the API team level, and the views say where each came from', async () => {
      const key = await team('pv-config-redacted', undefined, true);
      const view = await gw.http().get('/team/pv-config-redacted/callback').set(bearer(gw.masterKey)).expect(200);
      expect((view.body as DataJson<PrivacyView>).data.privacy).toMatchObject({
        turn_off_message_logging: { value: true, source: 'config' },
        pii_masking: { value: { detectors: ['email'], patterns: [] }, source: 'config' },
        no_log_allowed: { value: true, source: 'default' },
      });
      const health = await gw.http().post('/key/health').set(bearer(key)).expect(200);
      expect((health.body as PrivacyView).privacy.turn_off_message_logging).toEqual({ value: true, source: 'config' });
      const result = await call(key, chatBody(marker('cfg')));
      expectNoOriginalText(await delivered(result.callId), [PII.email, 'support bot']);
    });
  });

  describe('settings are validated and guarded', () => {
    let teamAdmin: string;
    beforeAll(async () => {
      await team('pv-guarded', { turn_off_message_logging: true });
      teamAdmin = (await newKey(gw, { team_id: 'pv-guarded', role: 'team_admin' }, { transcript })).key;
    });

    async function teamState(): Promise<string> {
      const info = await gw.http().get('/team/info').query({ team_id: 'pv-guarded' }).set(bearer(gw.masterKey)).expect(200);
      const audit = await gw.http().get('/audit').query({ team_id: 'pv-guarded' }).set(bearer(gw.masterKey)).expect(200);
      return JSON.stringify([(info.body as TeamInfoJson).team_info.metadata, (audit.body as DataJson<unknown[]>).data.length]);
    }

    it.each([
      ['a pattern with a lookbehind', { pii_masking: { patterns: [{ name: 'after', regex: '(?<=id:)\\w+' }] } }, 'metadata.logging_settings.pii_masking.patterns[0].regex', 'after'],
      ['a pattern with a back-reference', { pii_masking: { patterns: [{ name: 'twice', regex: '(\\d)\\1' }] } }, 'metadata.logging_settings.pii_masking.patterns[0].regex', 'back-reference'],
      ['an unknown detector', { pii_masking: { detectors: ['ssn'] } }, 'metadata.logging_settings.pii_masking.detectors[0]', 'ssn'],
      ['a misspelt switch', { turn_off_messages: true }, 'metadata.logging_settings.turn_off_messages', 'unknown setting'],
      ['a non-boolean', { redact_user_api_key_info: 'maybe' }, 'metadata.logging_settings.redact_user_api_key_info', 'true or false'],
    ])('%s: 400 naming it, nothing changes', async (_name, settings, param, text) => {
      const before = await teamState();
      const res = await gw.http().post('/team/update').set(bearer(gw.masterKey)).send({ team_id: 'pv-guarded', metadata: { logging_settings: settings } });
      transcript.record('POST /team/update', res);
      expect(res.status).toBe(400);
      expect(errorOf(res).param).toBe(param);
      expect(errorOf(res).message).toContain(text);
      expect(await teamState()).toBe(before);
    });

    it('a team admin may switch privacy on, not off, and not change the no-log permission', async () => {
      const on = await gw.http().post('/team/update').set(bearer(teamAdmin)).send({ team_id: 'pv-guarded', metadata: { logging_settings: { turn_off_message_logging: true, redact_user_api_key_info: true } } });
      expect(on.status).toBe(200);
      for (const settings of [{ turn_off_message_logging: false }, { disable_no_log_param: false }, { allow_client_message_redaction_opt_out: true }]) {
        const before = await teamState();
        const res = await gw.http().post('/team/update').set(bearer(teamAdmin)).send({ team_id: 'pv-guarded', metadata: { logging_settings: settings } });
        expect([JSON.stringify(settings), res.status]).toEqual([JSON.stringify(settings), 403]);
        expect(await teamState()).toBe(before);
      }
      const removed = await gw.http().post('/team/update').set(bearer(teamAdmin)).send({ team_id: 'pv-guarded', metadata: { logging_settings: null } });
      expect(removed.status).toBe(403);
    });

    it('changes are audited, and an unrelated metadata edit keeps them', async () => {
      const res = await gw.http().post('/team/update').set(bearer(gw.masterKey)).send({ team_id: 'pv-guarded', metadata: { owner: 'finance' } });
      expect(res.status).toBe(200);
      expect((res.body as DataJson<{ metadata: { logging_settings: unknown } }>).data.metadata.logging_settings).toMatchObject({ turn_off_message_logging: true });
      const audit = await gw.http().get('/audit').query({ team_id: 'pv-guarded' }).set(bearer(gw.masterKey)).expect(200);
      expect(JSON.stringify((audit.body as DataJson<unknown>).data)).toContain('redact_user_api_key_info');
    });
  });

  it('sweep: no original text of a redacted team in stdout, the outbox or the dead letters', async () => {
    // One destination down (outbox, retries) and one refusing for good (dead letter), so the stores get rows.
    const teamId = 'pv-sweep';
    await newTeam(gw, {
      team_id: teamId,
      metadata: {
        logging_settings: { turn_off_message_logging: true },
        logging: [
          { callback_name: 'otel', callback_vars: { otel_endpoint: `http://127.0.0.1:${closedPort}` } },
          { callback_name: 'langsmith', callback_vars: { langsmith_api_key: 'lsv2_not-registered', langsmith_base_url: langsmith.url } },
        ],
      },
    });
    const key = (await newKey(gw, { team_id: teamId }, { transcript })).key;
    const mark = marker('sweep');
    expect((await call(key, chatBody(mark))).status).toBe(200);
    await waitFor(
      'outbox rows, one dead-lettered, for the sweep team',
      async () => {
        const rows: { status: string }[] = await gw.dataSource.query('SELECT status FROM log_outbox WHERE team_id = $1', [teamId]);
        const statuses = rows.map((row) => row.status);
        return statuses.length >= 2 && statuses.includes('dead') ? statuses : false;
      },
      30_000,
    );
    const haystacks = [...(await databaseHaystacks(gw.dataSource)), { where: 'stdout', text: capture.lines.join('') }];
    for (const original of [mark, PII.email, PII.card]) {
      expect(haystacks.filter((haystack) => haystack.text.includes(original)).map((haystack) => haystack.where)).toEqual([]);
    }
  });
});
