import { gzipSync } from 'node:zlib';
import type { DataSource } from 'typeorm';
import { NOT_HANDED_OVER_MARKER } from '../../src/logging/request/clone-safe-handover';
import { metricValue, scrape } from '../support/delivery/delivery-support';
import { FakeUpstream } from '../support/fake-upstream';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { langfuseProject } from '../support/logging/fixtures';
import { addCallback, langfuseEntry, newKey, newTeam, secret, waitFor } from '../support/logging/harness';
import { envelopeOf, rawRequest, type RawAnswer } from '../support/raw-http';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 23, the request boundary, in process: what a malformed query, body, encoding, content type or key header
 * gets (a 4xx in the OpenAI envelope, before any route), that nothing is created or reaches the upstream or a
 * log event, and that the delivery hand-over keeps an event it cannot copy. The real process's side (it stays up,
 * its log lines stay JSON) is in request-boundary-process.e2e-spec.ts, the generated inputs in fuzz.e2e-spec.ts.
 */

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Rows per table: a refused request must leave every one of them as it was. */
async function rowCounts(dataSource: DataSource): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { tableName } of dataSource.entityMetadatas) {
    const [row] = await dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM "${tableName}"`);
    counts[tableName] = Number(row.n);
  }
  return counts;
}

describe('request boundary (in process)', () => {
  const project = langfuseProject('boundary');
  let upstream: FakeUpstream;
  let langfuse: FakeLangfuse;
  let gw: TestApp;
  let teamId: string;
  /** A member key of a team that logs to Langfuse: its calls go through the delivery hand-over. */
  let memberKey: string;

  const admin = (): [string, string] => ['Authorization', `Bearer ${gw.masterKey}`];
  const json: [string, string] = ['Content-Type', 'application/json'];
  const send = (method: string, path: string, headers: [string, string][], body?: string | Buffer): Promise<RawAnswer> =>
    rawRequest(gw.baseUrl, { method, path, headers, body });

  function expectEnvelope(answer: RawAnswer, status: number, code: string, param?: string | null): void {
    expect([answer.status, envelopeOf(answer)?.code, answer.text.slice(0, 300)]).toEqual([status, code, answer.text.slice(0, 300)]);
    if (param !== undefined) expect(envelopeOf(answer)?.param).toBe(param);
  }

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ usage: { prompt_tokens: 7, completion_tokens: 3 } });
    langfuse = await FakeLangfuse.start({ keys: [project] });
    gw = await createTestApp({
      env: { LOG_FLUSH_INTERVAL_MS: '100', OUTBOX_WRITE_INTERVAL_MS: '100' },
      configYaml: `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/upstream-model
      api_base: ${upstream.url}
      api_key: sk-upstream-boundary
    model_info:
      input_cost_per_token: 0.000002
      output_cost_per_token: 0.000008
`,
    });
    teamId = await newTeam(gw, { team_id: 'boundary-team' });
    await addCallback(gw, teamId, langfuseEntry(project, langfuse.url));
    memberKey = (await newKey(gw, { team_id: teamId })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await langfuse?.close();
  });

  describe('depth and member limits, before parsing', () => {
    const chatBody = (extra: string) => `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]${extra}}`;

    it('a chat body with 5,000 nested arrays (~10 kB) → 400 json_too_deep; it reaches neither the upstream nor a log event', async () => {
      const upstreamBefore = upstream.count;
      const metricsBefore = await scrape(gw.baseUrl, gw.masterKey);
      const answer = await send('POST', '/v1/chat/completions', [['Authorization', `Bearer ${memberKey}`], json], chatBody(`,"deep":${nested(5000)}`));
      expectEnvelope(answer, 400, 'json_too_deep', null);
      expect(envelopeOf(answer)?.type).toBe('invalid_request_error');
      expect(envelopeOf(answer)?.message).toMatch(/more than 128 levels deep/);
      expect(upstream.count).toBe(upstreamBefore);
      const metricsAfter = await scrape(gw.baseUrl, gw.masterKey);
      const enqueued = (text: string) => metricValue(text, 'gatehouse_log_events_enqueued_total', { team: teamId });
      expect(enqueued(metricsAfter)).toBe(enqueued(metricsBefore));
    });

    it('the same on the admin routes that gave 500 (/key/update, /team/update), and the rows stay as they were', async () => {
      const key = await newKey(gw, { key_alias: 'deep-target' });
      const before = await rowCounts(gw.dataSource);
      const keyAnswer = await send('POST', '/key/update', [admin(), json], `{"key":"${key.key}","metadata":{"deep":${nested(5000)}}}`);
      expectEnvelope(keyAnswer, 400, 'json_too_deep');
      const teamAnswer = await send('POST', '/team/update', [admin(), json], `{"team_id":"${teamId}","metadata":{"deep":${nested(5000)}}}`);
      expectEnvelope(teamAnswer, 400, 'json_too_deep');
      const generate = await send('POST', '/key/generate', [admin(), json], `{"metadata":{"deep":${nested(129)}}}`);
      expectEnvelope(generate, 400, 'json_too_deep');
      expect(await rowCounts(gw.dataSource)).toEqual(before);
      const info = await send('GET', `/key/info?key=${key.key}`, [admin()]);
      expect((info.json as { info: { metadata: unknown } }).info.metadata).toEqual({});
    });

    it('an object or array with more than 100,000 members → 400 json_too_many_members', async () => {
      const answer = await send('POST', '/v1/chat/completions', [['Authorization', `Bearer ${memberKey}`], json], chatBody(`,"logit_bias":[${'0,'.repeat(100_000)}0]`));
      expectEnvelope(answer, 400, 'json_too_many_members', null);
      expect(envelopeOf(answer)?.message).toMatch(/more than 100000 members/);
    });

    it('the lenient retry (# comments) obeys the same limits', async () => {
      const answer = await send('POST', '/key/generate', [admin(), json], `{"key_alias": "lenient", # a comment\n "metadata": {"deep": ${nested(300)}}}`);
      expectEnvelope(answer, 400, 'json_too_deep');
    });

    it('a real agent body passes: a tool schema nested 20 levels (arrays of objects) and 5,000 messages', async () => {
      let schema: Record<string, unknown> = { type: 'string' };
      for (let level = 0; level < 20; level++) schema = { type: 'array', items: { type: 'object', properties: { child: schema } } };
      const body = {
        model: 'gpt-4o',
        messages: Array.from({ length: 5_000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}` })),
        tools: [{ type: 'function', function: { name: 'deep', parameters: schema } }],
      };
      const answer = await send('POST', '/v1/chat/completions', [['Authorization', `Bearer ${memberKey}`], json], JSON.stringify(body));
      expect([answer.status, answer.text.slice(0, 200)]).toEqual([200, answer.text.slice(0, 200)]);
    });
  });

  describe('the delivery hand-over keeps an event it cannot copy', () => {
    it('an upstream answer nested 5,000 deep: the caller gets it, the event reaches Langfuse with ids, usage and cost and the content replaced', async () => {
      const deepAnswer = `{"id":"chatcmpl-deep","object":"chat.completion","created":1,"model":"upstream-model","choices":[{"index":0,"message":{"role":"assistant","content":"deep"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10},"extra":${nested(5000)}}`;
      upstream.next({ type: 'status', status: 200, body: deepAnswer });
      const before = await scrape(gw.baseUrl, gw.masterKey);
      const deepTrace = `deep-${secret('trace')}`;
      const plainTrace = `plain-${secret('trace')}`;
      // Both in one event-loop turn, so they are handed over in one message: the plain one must not be lost with it.
      const [deep, plain] = await Promise.all(
        [deepTrace, plainTrace].map((traceId) =>
          send('POST', '/v1/chat/completions', [['Authorization', `Bearer ${memberKey}`], json], JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: traceId }], metadata: { trace_id: traceId } })),
        ),
      );
      expect([deep.status, plain.status]).toEqual([200, 200]);
      expect([deep.text, plain.text].filter((text) => text === deepAnswer)).toHaveLength(1);

      const replaced = await waitFor(`generation of ${deepTrace}`, () => langfuse.generations(project.publicKey, deepTrace)[0]);
      const intact = await waitFor(`generation of ${plainTrace}`, () => langfuse.generations(project.publicKey, plainTrace)[0]);
      expect(JSON.stringify(replaced)).toContain(NOT_HANDED_OVER_MARKER);
      expect(replaced).toMatchObject({ usageDetails: { input: 7, output: 3, total: 10 }, model: 'upstream-model' });
      expect((replaced.costDetails as { total: number }).total).toBeCloseTo(7 * 0.000002 + 3 * 0.000008, 12);
      expect(JSON.stringify(intact)).not.toContain(NOT_HANDED_OVER_MARKER);
      expect(JSON.stringify(intact.input)).toContain(plainTrace);

      const after = await scrape(gw.baseUrl, gw.masterKey);
      const failures = (text: string, outcome: string) => metricValue(text, 'gatehouse_log_handover_failures_total', { team: teamId, outcome });
      expect(failures(after, 'content_replaced') - failures(before, 'content_replaced')).toBe(1);
      expect(failures(after, 'dropped') - failures(before, 'dropped')).toBe(0);
    });
  });

  describe('malformed input on every kind of route → 4xx in the OpenAI envelope', () => {
    it.each([
      ['GET', '/key/info?key=a&key=b', 'key'],
      ['GET', '/key/list?page=1&page=2', 'page'],
      ['GET', '/team/info?team_id=a&team_id=b', 'team_id'],
      ['GET', '/health/liveliness?probe=1&probe=2', 'probe'],
      ['GET', '/openapi.json?x=&x=', 'x'],
      ['POST', '/v1/chat/completions?api-version=1&api-version=2', 'api-version'],
    ])('a repeated query parameter: %s %s → 400 repeated_parameter naming it', async (method, path, param) => {
      const answer = await send(method, path, [admin(), json], method === 'POST' ? '{}' : undefined);
      expectEnvelope(answer, 400, 'repeated_parameter', param);
      expect(envelopeOf(answer)?.message).toContain(`"${param}"`);
    });

    it.each([
      ['gzip', 'POST', '/key/generate'],
      ['deflate', 'POST', '/key/generate'],
      ['br', 'POST', '/team/new'],
      ['zstd', 'POST', '/v1/chat/completions'],
      ['gzip', 'GET', '/health/liveliness'],
      ['gzip', 'GET', '/docs/'],
    ])('Content-Encoding %s over a plain body (%s %s) → 400 before authentication', async (encoding, method, path) => {
      const before = await rowCounts(gw.dataSource);
      const answer = await send(method, path, [json, ['Content-Encoding', encoding]], '{"key_alias":"plain"}');
      expectEnvelope(answer, 400, 'invalid_content_encoding', null);
      expect(envelopeOf(answer)?.message).toContain(`"${encoding}"`);
      expect(await rowCounts(gw.dataSource)).toEqual(before);
    });

    it('an unknown Content-Encoding → 415, public routes included; a real gzip body is accepted', async () => {
      expectEnvelope(await send('GET', '/health/liveliness', [json, ['Content-Encoding', 'x-snappy']], '{}'), 415, 'unsupported_media_type');
      expectEnvelope(await send('POST', '/key/generate', [json, ['Content-Encoding', 'gzip, gzip']], '{}'), 415, 'unsupported_media_type');
      const gzipped = await send('POST', '/key/generate', [admin(), json, ['Content-Encoding', 'gzip']], gzipSync('{"key_alias":"gzipped"}'));
      expect([gzipped.status, (gzipped.json as { key_alias?: string }).key_alias]).toEqual([200, 'gzipped']);
    });

    it('a NUL character in a callback value, key or team metadata, or an alias → 400 naming the field; nothing stored', async () => {
      const before = await rowCounts(gw.dataSource);
      const entry = langfuseEntry(project, langfuse.url) as { callback_vars: Record<string, string> };
      const callback = await send('POST', `/team/${teamId}/callback`, [admin(), json], JSON.stringify({ ...entry, callback_vars: { ...entry.callback_vars, langfuse_public_key: 'pk-a\u0000b' } }));
      expectEnvelope(callback, 400, 'validation_failed', 'callback_vars.langfuse_public_key');
      expect(envelopeOf(callback)?.message).toMatch(/NUL character/);
      expectEnvelope(await send('POST', '/key/generate', [admin(), json], '{"metadata":{"note":"a\\u0000b"}}'), 400, 'validation_failed', 'metadata.note');
      expectEnvelope(await send('POST', '/key/generate', [admin(), json], '{"metadata":{"tags":["ok","a\\u0000b"]}}'), 400, 'validation_failed', 'metadata.tags[1]');
      expectEnvelope(await send('POST', '/team/new', [admin(), json], '{"metadata":{"a\\u0000b":1}}'), 400, 'validation_failed', 'metadata.a\u0000b');
      expectEnvelope(await send('POST', '/team/new', [admin(), json], '{"team_alias":"x\\u0000y"}'), 400, 'validation_failed', 'team_alias');
      expectEnvelope(await send('POST', '/team/update', [admin(), json], `{"team_id":"${teamId}","metadata":{"logging":[{"callback_name":"langfuse","callback_vars":{"langfuse_host":"a\\u0000"}}]}}`), 400, 'validation_failed', 'metadata.logging[0].callback_vars.langfuse_host');
      expect(await rowCounts(gw.dataSource)).toEqual(before);
    });
  });

  describe('a body that is not declared JSON changes nothing (415)', () => {
    it.each([
      ['text/plain', [['Content-Type', 'text/plain']]],
      ['a form', [['Content-Type', 'application/x-www-form-urlencoded']]],
      ['multipart', [['Content-Type', 'multipart/form-data; boundary=x']]],
      ['no Content-Type at all', []],
      ['JSON in UTF-16', [['Content-Type', 'application/json; charset=utf-16']]],
    ] as [string, [string, string][]][])('/key/generate and /team/new with %s → 415 unsupported_media_type, no key, no team', async (_name, headers) => {
      const before = await rowCounts(gw.dataSource);
      for (const path of ['/key/generate', '/team/new']) {
        const answer = await send('POST', path, [admin(), ...headers], '{"models":["gpt-4o"],"team_alias":"typed-wrong"}');
        expectEnvelope(answer, 415, 'unsupported_media_type', null);
        expect(envelopeOf(answer)?.message).toMatch(/Content-Type: application\/json/);
      }
      expect(await rowCounts(gw.dataSource)).toEqual(before);
    });

    it('an empty body is still {} with any type or none (the seed’s curls)', async () => {
      // curl -X POST .../team/ID/disable_logging -H 'Authorization: Bearer sk-1234'
      const disable = await send('POST', `/team/${teamId}/disable_logging`, [admin()]);
      expect([disable.status, disable.text.slice(0, 200)]).toEqual([200, disable.text.slice(0, 200)]);
      // curl -X POST /key/health -H 'Content-Type: application/json' (no body)
      const health = await send('POST', '/key/health', [['Authorization', `Bearer ${memberKey}`], json]);
      expect(health.status).toBe(200);
      // An empty body declared as text, or sent chunked with no type.
      expect((await send('POST', '/key/generate', [admin(), ['Content-Type', 'text/plain']], '')).status).toBe(200);
      expect((await send('POST', '/key/generate', [admin(), ['Transfer-Encoding', 'chunked']], '')).status).toBe(200);
    });

    it('application/json; charset=utf-8 and application/*+json are JSON', async () => {
      // One alias per type: key aliases are unique (LiteLLM refuses a taken one).
      for (const [i, type] of ['application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/merge-patch+json', 'application/vnd.api+json'].entries()) {
        const answer = await send('POST', '/key/generate', [admin(), ['Content-Type', type]], `{"key_alias":"typed-right-${i}"}`);
        expect([type, answer.status, (answer.json as { key_alias?: string }).key_alias]).toEqual([type, 200, `typed-right-${i}`]);
      }
    });
  });

  describe('one key, in one header', () => {
    it('two Authorization headers, a valid one first → 400 duplicate_api_key', async () => {
      const answer = await send('GET', '/key/info', [admin(), ['Authorization', 'Bearer sk-another-key']]);
      expectEnvelope(answer, 400, 'duplicate_api_key', 'authorization');
      expect(envelopeOf(answer)?.message).toMatch(/^Duplicate API key found/);
      expectEnvelope(await send('GET', '/key/info', [admin(), admin()]), 400, 'duplicate_api_key', 'authorization');
    });

    it('Authorization and x-api-key (or api-key) disagreeing → 400; agreeing → accepted', async () => {
      expectEnvelope(await send('GET', '/v1/models', [admin(), ['x-api-key', memberKey]]), 400, 'duplicate_api_key', 'x-api-key');
      expectEnvelope(await send('GET', '/v1/models', [['api-key', memberKey], ['x-api-key', gw.masterKey]]), 400, 'duplicate_api_key', 'api-key');
      expect((await send('GET', '/v1/models', [['Authorization', `Bearer ${memberKey}`], ['x-api-key', memberKey]])).status).toBe(200);
    });

    it('public routes are unaffected', async () => {
      expect((await send('GET', '/health/liveliness', [admin(), ['Authorization', 'Bearer sk-other']])).status).toBe(200);
    });
  });

  describe('callback_vars are strings', () => {
    it.each([
      ['a number', { langfuse_sample_rate: 0.5 }, 'callback_vars.langfuse_sample_rate'],
      ['a boolean', { langfuse_host: true }, 'callback_vars.langfuse_host'],
      ['a number for a key', { langfuse_public_key: 12345 }, 'callback_vars.langfuse_public_key'],
    ])('%s → 400 naming the field; nothing stored', async (_name, vars, param) => {
      const before = await rowCounts(gw.dataSource);
      const entry = langfuseEntry(project, langfuse.url) as { callback_vars: Record<string, unknown> };
      const answer = await send('POST', `/team/${teamId}/callback`, [admin(), json], JSON.stringify({ ...entry, callback_vars: { ...entry.callback_vars, ...vars } }));
      expectEnvelope(answer, 400, 'validation_failed', param);
      expect(envelopeOf(answer)?.message).toBe(`${param} must be a string`);
      const key = await send('POST', '/key/generate', [admin(), json], JSON.stringify({ metadata: { logging: [{ ...entry, callback_vars: { ...entry.callback_vars, ...vars } }] } }));
      expectEnvelope(key, 400, 'validation_failed', `metadata.logging[0].${param}`);
      expect(await rowCounts(gw.dataSource)).toEqual(before);
    });

    it('turn_off_message_logging: true stays accepted, as the README shows it', async () => {
      const entry = langfuseEntry(project, langfuse.url) as { callback_vars: Record<string, unknown> };
      const answer = await send('POST', '/key/generate', [admin(), json], JSON.stringify({ metadata: { logging: [{ ...entry, callback_vars: { ...entry.callback_vars, turn_off_message_logging: true } }] } }));
      expect([answer.status, answer.text.slice(0, 200)]).toEqual([200, answer.text.slice(0, 200)]);
    });
  });
});
