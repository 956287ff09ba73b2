import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import OpenAI from 'openai';
import { RedisCacheStore } from '../../src/cache/redis-cache-store';
import { ResponseCache } from '../../src/cache/response-cache.service';
import { LoggingService } from '../../src/logging/request/logging.service';
import { FakeUpstream, unusedPort } from '../support/fake-upstream';
import { RecordingLogging } from '../support/recording-logging';
import {
  errorOf,
  type ChatCompletionJson,
  type ErrorJson,
  type FetchedAnswer,
  type GeneratedKeyJson,
  type NewTeamJson,
  type TeamInfoJson,
} from '../support/api-responses';
import { createTestApp, type TestApp } from '../support/test-app';
import { postJson } from '../support/post-json';

const ANSWER = 'Cached answers are cheap answers.';
const REDIS_HOST = '127.0.0.1';
const REDIS_PORT = 6379;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function modelList(upstream: FakeUpstream): string {
  return `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/upstream-model
      api_base: ${upstream.url}
      api_key: sk-upstream-cache-e2e
    model_info:
      input_cost_per_token: 0.000002
      output_cost_per_token: 0.000008
  - model_name: text-embedding
    litellm_params:
      model: openai/upstream-embedding
      api_base: ${upstream.url}
      api_key: sk-upstream-cache-e2e
`;
}

function call(gw: TestApp, path: string, key: string, body: unknown, headers: Record<string, string> = {}): Promise<FetchedAnswer> {
  return postJson(gw.baseUrl + path, key, body, headers);
}

/** A fresh question per call site, so tests never see each other's entries. */
function question(label: string): Array<{ role: string; content: string }> {
  return [{ role: 'user', content: `${label} ${randomUUID()}` }];
}

async function admin(gw: TestApp, path: string, body: unknown, auth = gw.masterKey): Promise<{ status: number; body: unknown }> {
  const res = await gw.http().post(path).set('Authorization', `Bearer ${auth}`).send(body as object);
  return { status: res.status, body: res.body };
}

async function newTeam(gw: TestApp, metadata: Record<string, unknown> = {}): Promise<string> {
  const res = await admin(gw, '/team/new', { metadata });
  expect(res.status).toBe(200);
  return (res.body as NewTeamJson).team_id;
}

async function newKey(gw: TestApp, body: Record<string, unknown>): Promise<{ key: string; token: string }> {
  const res = await admin(gw, '/key/generate', body);
  expect(res.status).toBe(200);
  const generated = res.body as GeneratedKeyJson;
  return { key: generated.key, token: generated.token };
}

async function cacheMetric(gw: TestApp, event: string): Promise<number> {
  const res = await gw.http().get('/metrics').set('Authorization', `Bearer ${gw.masterKey}`);
  expect(res.status).toBe(200);
  const match = new RegExp(`^gatehouse_cache_events_total\\{event="${event}"\\} (\\d+(?:\\.\\d+)?)$`, 'm').exec(res.text);
  return match ? Number(match[1]) : 0;
}

describe('response cache (local)', () => {
  let gw: TestApp;
  let upstream: FakeUpstream;
  let recorder: RecordingLogging;
  let teamKey: string;

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ content: ANSWER });
    recorder = new RecordingLogging();
    gw = await createTestApp({
      configYaml: `${modelList(upstream)}
litellm_settings:
  cache: true
  cache_params:
    type: local
    ttl: 60
  default_team_settings:
    - team_id: config-team-off
      cache: false
    - team_id: config-team-short
      cache_ttl: 1
`,
      override: (builder) => builder.overrideProvider(LoggingService).useValue(recorder),
    });
    teamKey = (await newKey(gw, { team_id: await newTeam(gw) })).key;
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  beforeEach(() => upstream.reset());

  describe('hits and misses', () => {
    it('the second identical request is answered from the cache, byte for byte, without calling the upstream, and logged as a free hit', async () => {
      const messages = question('hit-miss');
      const first = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, temperature: 0 });
      expect(first.status).toBe(200);
      expect(first.headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(1);

      const second = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, temperature: 0 });
      expect(second.status).toBe(200);
      expect(second.text).toBe(first.text);
      expect(second.headers['content-type']).toContain('application/json');
      expect(second.headers['x-litellm-cache-key']).toMatch(/^[0-9a-f]{64}$/);
      expect(upstream.count).toBe(1);

      const missRecord = await recorder.recordFor(first.headers['x-litellm-call-id']);
      expect(missRecord).toMatchObject({ status: 'success', cache_hit: false, cache_key: second.headers['x-litellm-cache-key'] });
      expect(missRecord.response_cost).toBeGreaterThan(0);
      const hitRecord = await recorder.recordFor(second.headers['x-litellm-call-id']);
      expect(hitRecord).toMatchObject({
        status: 'success',
        cache_hit: true,
        cache_key: second.headers['x-litellm-cache-key'],
        response_cost: 0,
        cost_breakdown: { input_cost: 0, output_cost: 0, total_cost: 0 },
        model_group: 'gpt-4o',
        prompt_tokens: 11,
        completion_tokens: 7,
      });
      expect((hitRecord.response as ChatCompletionJson).choices[0].message.content).toBe(ANSWER);
      expect(await cacheMetric(gw, 'hit')).toBeGreaterThanOrEqual(1);
    });

    it('user, metadata and key order do not change the key; answer-changing parameters do', async () => {
      const messages = question('params');
      await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, temperature: 0.5, max_tokens: 20 });
      const reordered = await call(gw, '/v1/chat/completions', teamKey, {
        max_tokens: 20,
        temperature: 0.5,
        messages,
        model: 'gpt-4o',
        user: 'someone-else',
        metadata: { trace_id: 'other' },
      });
      expect(reordered.headers['x-litellm-cache-key']).toBeDefined();
      expect(upstream.count).toBe(1);

      for (const change of [{ temperature: 0.6 }, { max_tokens: 21 }, { seed: 7 }, { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }]) {
        const res = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, temperature: 0.5, max_tokens: 20, ...change });
        expect(res.headers['x-litellm-cache-key']).toBeUndefined();
      }
      expect(upstream.count).toBe(5);
    });

    it('the request’s cache object never reaches the upstream', async () => {
      const res = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages: question('strip'), cache: { ttl: 30 } });
      expect(res.status).toBe(200);
      expect(upstream.last.body).not.toHaveProperty('cache');
    });

    it('failed answers are not cached', async () => {
      const messages = question('failure');
      upstream.next({ type: 'status', status: 500, body: '{"error":{"message":"boom"}}' });
      const failed = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages });
      expect(failed.status).toBe(500);
      const retried = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages });
      expect(retried.status).toBe(200);
      expect(retried.headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(2);
    });

    it('embeddings are cached too', async () => {
      const body = { model: 'text-embedding', input: [`embed ${randomUUID()}`, 'second'] };
      const first = await call(gw, '/v1/embeddings', teamKey, body);
      const second = await call(gw, '/v1/embeddings', teamKey, body);
      expect(first.status).toBe(200);
      expect(second.text).toBe(first.text);
      expect(second.headers['x-litellm-cache-key']).toMatch(/^[0-9a-f]{64}$/);
      expect(upstream.count).toBe(1);
      const record = await recorder.recordFor(second.headers['x-litellm-call-id']);
      expect(record).toMatchObject({ call_type: 'aembedding', cache_hit: true, response_cost: 0 });
      // A different encoding is a different answer.
      const base64 = await call(gw, '/v1/embeddings', teamKey, { ...body, encoding_format: 'base64' });
      expect(base64.headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(2);
    });
  });

  describe('streams', () => {
    it('a cached stream is replayed as the same SSE, ending with [DONE]', async () => {
      const messages = question('stream');
      const first = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, stream: true });
      expect(first.status).toBe(200);
      expect(first.text.endsWith('data: [DONE]\n\n')).toBe(true);
      const second = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, stream: true });
      expect(second.status).toBe(200);
      expect(second.headers['content-type']).toContain('text/event-stream');
      expect(second.headers['x-litellm-cache-key']).toMatch(/^[0-9a-f]{64}$/);
      expect(second.text).toBe(first.text);
      expect(upstream.count).toBe(1);

      const hit = await recorder.recordFor(second.headers['x-litellm-call-id']);
      expect(hit).toMatchObject({ stream: true, status: 'success', cache_hit: true, response_cost: 0 });
      expect((hit.response as ChatCompletionJson).choices[0].message.content).toBe(ANSWER);

      // The usage chunk the gateway asked for is in the entry: a caller who wants it gets it.
      const withUsage = await call(gw, '/v1/chat/completions', teamKey, {
        model: 'gpt-4o',
        messages,
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(withUsage.headers['x-litellm-cache-key']).toBeDefined();
      expect(withUsage.text).toContain('"prompt_tokens":11');
      expect(upstream.count).toBe(1);
    });

    it('a stream and a plain request share the entry; each gets its own form (official SDK)', async () => {
      const client = new OpenAI({ baseURL: `${gw.baseUrl}/v1`, apiKey: teamKey, maxRetries: 0 });
      const messages = question('sdk') as OpenAI.Chat.ChatCompletionMessageParam[];
      const plain = await client.chat.completions.create({ model: 'gpt-4o', messages });
      expect(plain.choices[0].message.content).toBe(ANSWER);
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe(ANSWER);
      expect(upstream.count).toBe(1);

      const streamedFirst = question('sdk-stream-first') as OpenAI.Chat.ChatCompletionMessageParam[];
      const live = await client.chat.completions.create({ model: 'gpt-4o', messages: streamedFirst, stream: true });
      for await (const chunk of live) void chunk;
      const assembled = await client.chat.completions.create({ model: 'gpt-4o', messages: streamedFirst });
      expect(assembled.choices[0].message.content).toBe(ANSWER);
      expect(assembled.usage?.total_tokens).toBe(18);
      expect(upstream.count).toBe(2);
    });
  });

  describe('time to live', () => {
    it('an entry expires after its ttl (request ttl, and a config team’s cache_ttl)', async () => {
      const messages = question('ttl');
      await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, cache: { ttl: 1 } });
      const hit = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages });
      expect(hit.headers['x-litellm-cache-key']).toBeDefined();
      await sleep(1100);
      const expired = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages });
      expect(expired.headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(2);

      const shortKey = (await newKey(gw, { team_id: 'config-team-short' })).key;
      const other = question('config-ttl');
      await call(gw, '/v1/chat/completions', shortKey, { model: 'gpt-4o', messages: other });
      expect((await call(gw, '/v1/chat/completions', shortKey, { model: 'gpt-4o', messages: other })).headers['x-litellm-cache-key']).toBeDefined();
      await sleep(1100);
      expect((await call(gw, '/v1/chat/completions', shortKey, { model: 'gpt-4o', messages: other })).headers['x-litellm-cache-key']).toBeUndefined();
    });

    it('s-maxage only accepts entries at most that old', async () => {
      const messages = question('s-maxage');
      await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages });
      await sleep(1100);
      const fresh = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, cache: { 's-maxage': 1 } });
      expect(fresh.headers['x-litellm-cache-key']).toBeUndefined();
      const lenient = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, cache: { 's-maxage': 60 } });
      expect(lenient.headers['x-litellm-cache-key']).toBeDefined();
      expect(upstream.count).toBe(2);
    });
  });

  describe('per team and per key', () => {
    it('a team with caching off is never cached nor served from the cache (config entry and team metadata)', async () => {
      const offKey = (await newKey(gw, { team_id: 'config-team-off' })).key;
      const messages = question('config-off');
      for (let i = 0; i < 3; i++) {
        const res = await call(gw, '/v1/chat/completions', offKey, { model: 'gpt-4o', messages });
        expect(res.headers['x-litellm-cache-key']).toBeUndefined();
      }
      expect(upstream.count).toBe(3);
      const record = recorder.records.find((r) => r.principal.teamId === 'config-team-off');
      expect(record?.payload).toMatchObject({ cache_hit: false, cache_key: null });

      // Turned off through the API after an entry was stored: the entry is not served any more.
      const teamId = await newTeam(gw);
      const key = (await newKey(gw, { team_id: teamId })).key;
      const cached = question('api-off');
      await call(gw, '/v1/chat/completions', key, { model: 'gpt-4o', messages: cached });
      expect((await call(gw, '/v1/chat/completions', key, { model: 'gpt-4o', messages: cached })).headers['x-litellm-cache-key']).toBeDefined();
      expect((await admin(gw, '/team/update', { team_id: teamId, metadata: { cache: false } })).status).toBe(200);
      for (let i = 0; i < 2; i++) {
        expect((await call(gw, '/v1/chat/completions', key, { model: 'gpt-4o', messages: cached })).headers['x-litellm-cache-key']).toBeUndefined();
      }
      expect(upstream.count).toBe(3 + 1 + 2);
    });

    it('the key wins over the team, both ways', async () => {
      const keyOn = (await newKey(gw, { team_id: 'config-team-off', metadata: { cache: true } })).key;
      const messages = question('key-on');
      await call(gw, '/v1/chat/completions', keyOn, { model: 'gpt-4o', messages });
      expect((await call(gw, '/v1/chat/completions', keyOn, { model: 'gpt-4o', messages })).headers['x-litellm-cache-key']).toBeDefined();
      expect(upstream.count).toBe(1);

      const onTeam = await newTeam(gw, { cache: true });
      const keyOff = (await newKey(gw, { team_id: onTeam, metadata: { cache: false } })).key;
      const other = question('key-off');
      await call(gw, '/v1/chat/completions', keyOff, { model: 'gpt-4o', messages: other });
      expect((await call(gw, '/v1/chat/completions', keyOff, { model: 'gpt-4o', messages: other })).headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(3);

      // Key settings change at once (the key update invalidates the cached principal).
      expect((await admin(gw, '/key/update', { key: keyOff, metadata: { cache: true } })).status).toBe(200);
      await call(gw, '/v1/chat/completions', keyOff, { model: 'gpt-4o', messages: other });
      expect((await call(gw, '/v1/chat/completions', keyOff, { model: 'gpt-4o', messages: other })).headers['x-litellm-cache-key']).toBeDefined();
      expect(upstream.count).toBe(4);
    });

    it('teams never read each other’s answers; keys without a team have their own namespace', async () => {
      const teamA = await newTeam(gw);
      const a = (await newKey(gw, { team_id: teamA })).key;
      const a2 = (await newKey(gw, { team_id: teamA })).key;
      const b = (await newKey(gw, { team_id: await newTeam(gw) })).key;
      const lone = (await newKey(gw, {})).key;
      const lone2 = (await newKey(gw, {})).key;
      const messages = question('isolation');
      const body = { model: 'gpt-4o', messages };

      const fromA = await call(gw, '/v1/chat/completions', a, body);
      expect(fromA.headers['x-litellm-cache-key']).toBeUndefined();
      const fromB = await call(gw, '/v1/chat/completions', b, body);
      expect(fromB.headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(2);
      // Same team, other key: the team's namespace is shared by its keys.
      const sameTeam = await call(gw, '/v1/chat/completions', a2, body);
      const hitB = await call(gw, '/v1/chat/completions', b, body);
      expect(sameTeam.headers['x-litellm-cache-key']).toBeDefined();
      expect(hitB.headers['x-litellm-cache-key']).toBeDefined();
      expect(sameTeam.headers['x-litellm-cache-key']).not.toBe(hitB.headers['x-litellm-cache-key']);

      await call(gw, '/v1/chat/completions', lone, body);
      expect((await call(gw, '/v1/chat/completions', lone2, body)).headers['x-litellm-cache-key']).toBeUndefined();
      expect((await call(gw, '/v1/chat/completions', lone, body)).headers['x-litellm-cache-key']).toBeDefined();
      expect(upstream.count).toBe(4);
    });

    it('teams opted into the shared namespace by the proxy admin share answers; a team admin cannot opt in', async () => {
      const shared1 = await newTeam(gw, { cache_namespace: 'shared' });
      const shared2 = await newTeam(gw);
      const teamAdmin = (await newKey(gw, { team_id: shared2, role: 'team_admin' })).key;
      const refused = await admin(gw, '/team/update', { team_id: shared2, metadata: { cache_namespace: 'shared' } }, teamAdmin);
      expect(refused.status).toBe(403);
      expect(errorOf(refused).message).toContain('cache_namespace');
      expect((await admin(gw, '/team/update', { team_id: shared2, metadata: { cache_namespace: 'shared' } })).status).toBe(200);
      // An unrelated edit by the team admin keeps the admin's setting.
      expect((await admin(gw, '/team/update', { team_id: shared2, metadata: { owner: 'x' } }, teamAdmin)).status).toBe(200);
      const info = await gw.http().get(`/team/info?team_id=${shared2}`).set('Authorization', `Bearer ${gw.masterKey}`);
      expect((info.body as TeamInfoJson).team_info.metadata).toEqual({ owner: 'x', cache_namespace: 'shared' });

      const k1 = (await newKey(gw, { team_id: shared1 })).key;
      const k2 = (await newKey(gw, { team_id: shared2 })).key;
      const body = { model: 'gpt-4o', messages: question('shared') };
      await call(gw, '/v1/chat/completions', k1, body);
      const fromOther = await call(gw, '/v1/chat/completions', k2, body);
      expect(fromOther.headers['x-litellm-cache-key']).toBeDefined();
      expect(upstream.count).toBe(1);
      // A team outside the shared namespace still cannot read it.
      expect((await call(gw, '/v1/chat/completions', teamKey, body)).headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(2);
    });

    it('cache settings in metadata are checked when written', async () => {
      const teamId = await newTeam(gw);
      expect((await admin(gw, '/team/update', { team_id: teamId, metadata: { cache: 'yes' } })).status).toBe(400);
      expect((await admin(gw, '/team/update', { team_id: teamId, metadata: { cache_ttl: -5 } })).status).toBe(400);
      expect((await admin(gw, '/team/update', { team_id: teamId, metadata: { cache_namespace: 'everyone' } })).status).toBe(400);
      expect((await admin(gw, '/key/generate', { metadata: { allowed_cache_controls: ['no-cache', 'bogus'] } })).status).toBe(400);
      expect((await admin(gw, '/key/generate', { metadata: { cache_namespace: 'shared' } })).status).toBe(400);
      expect((await admin(gw, '/key/generate', { metadata: { cache: { ttl: 'long' } } })).status).toBe(400);
    });
  });

  describe('request controls', () => {
    it('no-cache skips the lookup but stores the fresh answer; no-store skips the store (body)', async () => {
      const messages = question('no-cache');
      await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages });
      const bypass = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages, cache: { 'no-cache': true } });
      expect(bypass.headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(2);
      expect((await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages })).headers['x-litellm-cache-key']).toBeDefined();
      expect(upstream.count).toBe(2);

      const unstored = question('no-store');
      await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages: unstored, cache: { 'no-store': true } });
      expect((await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages: unstored })).headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(4);
    });

    it('the Cache-Control header does the same', async () => {
      const messages = question('header');
      await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages }, { 'cache-control': 'no-store' });
      expect(upstream.count).toBe(1);
      await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages });
      expect(upstream.count).toBe(2);
      const bypass = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages }, { 'cache-control': 'no-cache' });
      expect(bypass.headers['x-litellm-cache-key']).toBeUndefined();
      expect(upstream.count).toBe(3);
      // Directives HTTP libraries add on their own change nothing.
      const plain = await call(gw, '/v1/chat/completions', teamKey, { model: 'gpt-4o', messages }, { 'cache-control': 'max-age=0' });
      expect(plain.headers['x-litellm-cache-key']).toBeDefined();
      expect(upstream.count).toBe(3);
    });

    it('a control outside the key’s allowed_cache_controls is refused with LiteLLM’s 403, before any upstream call', async () => {
      const limited = (await newKey(gw, { team_id: 'config-team-short', metadata: { allowed_cache_controls: ['no-cache'] } })).key;
      const messages = question('allowed');
      const refused = await call(gw, '/v1/chat/completions', limited, { model: 'gpt-4o', messages, cache: { 'no-store': true } });
      expect(refused.status).toBe(403);
      expect((refused.json as ErrorJson).error.message).toBe('Not allowed to set no-store as a cache control. Contact admin to change permissions.');
      const header = await call(gw, '/v1/chat/completions', limited, { model: 'gpt-4o', messages }, { 'cache-control': 'no-store' });
      expect(header.status).toBe(403);
      expect(upstream.count).toBe(0);
      const allowed = await call(gw, '/v1/chat/completions', limited, { model: 'gpt-4o', messages, cache: { 'no-cache': true } });
      expect(allowed.status).toBe(200);
      // Checked even for a caller whose caching is off, as LiteLLM does.
      const offLimited = (await newKey(gw, { team_id: 'config-team-off', metadata: { allowed_cache_controls: ['no-cache'] } })).key;
      expect((await call(gw, '/v1/chat/completions', offLimited, { model: 'gpt-4o', messages, cache: { ttl: 5 } })).status).toBe(403);
    });

    it('a key’s own cache controls replace the request’s', async () => {
      const noStoreKey = (await newKey(gw, { team_id: 'config-team-short', metadata: { cache: { 'no-store': true } } })).key;
      const messages = question('key-controls');
      await call(gw, '/v1/chat/completions', noStoreKey, { model: 'gpt-4o', messages });
      await call(gw, '/v1/chat/completions', noStoreKey, { model: 'gpt-4o', messages });
      expect(upstream.count).toBe(2);
    });
  });
});

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const stream = redis.scanStream({ match: `${prefix}*`, count: 500 });
    for await (const keys of stream) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}

describe('response cache (Redis)', () => {
  const namespace = `gatehouse-e2e-${process.pid}-${randomUUID().slice(0, 8)}`;
  let upstream: FakeUpstream;
  let first: TestApp;
  let second: TestApp;
  let key: string;
  let inspector: Redis;

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ content: ANSWER });
    const configYaml = `${modelList(upstream)}
litellm_settings:
  cache: true
  cache_params:
    type: redis
    host: ${REDIS_HOST}
    port: ${REDIS_PORT}
    namespace: ${namespace}
    ttl: 60
`;
    first = await createTestApp({ configYaml });
    key = (await newKey(first, { team_id: await newTeam(first) })).key;
    // Another instance on the same database and Redis, as behind a load balancer.
    second = await createTestApp({ configYaml, keepData: true });
    inspector = new Redis({ host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await upstream?.close();
    inspector?.disconnect();
    await deleteKeys(`${namespace}:`);
  });

  beforeEach(() => upstream.reset());

  it('stores under the configured namespace with the ttl, and any instance serves the hit', async () => {
    const body = { model: 'gpt-4o', messages: question('redis') };
    const miss = await call(first, '/v1/chat/completions', key, body);
    expect(miss.status).toBe(200);
    const hit = await call(second, '/v1/chat/completions', key, body);
    expect(hit.headers['x-litellm-cache-key']).toMatch(/^[0-9a-f]{64}$/);
    expect(hit.text).toBe(miss.text);
    expect(upstream.count).toBe(1);
    const redisKey = `${namespace}:cache:${hit.headers['x-litellm-cache-key']}`;
    expect(await inspector.exists(redisKey)).toBe(1);
    const ttl = await inspector.pttl(redisKey);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // The caller's key never appears in what is stored.
    expect((await inspector.getBuffer(redisKey))?.toString()).not.toContain(key);
  });

  it('streams replay from Redis identically', async () => {
    const body = { model: 'gpt-4o', messages: question('redis-stream'), stream: true };
    const live = await call(first, '/v1/chat/completions', key, body);
    const replay = await call(second, '/v1/chat/completions', key, body);
    expect(replay.headers['x-litellm-cache-key']).toBeDefined();
    expect(replay.text).toBe(live.text);
    expect(replay.text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(upstream.count).toBe(1);
  });

  it('entries expire with their ttl', async () => {
    const messages = question('redis-ttl');
    await call(first, '/v1/chat/completions', key, { model: 'gpt-4o', messages, cache: { ttl: 1 } });
    expect((await call(first, '/v1/chat/completions', key, { model: 'gpt-4o', messages })).headers['x-litellm-cache-key']).toBeDefined();
    await sleep(1100);
    expect((await call(first, '/v1/chat/completions', key, { model: 'gpt-4o', messages })).headers['x-litellm-cache-key']).toBeUndefined();
    expect(upstream.count).toBe(2);
  });
});

/**
 * Speaks just enough RESP for ioredis to become ready (CLIENT SETNAME, INFO), then never answers a GET or SET:
 * a Redis that hangs.
 */
async function hangingRedis(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => {
      const text = data.toString('latin1').toLowerCase();
      if (text.includes('setname')) socket.write('+OK\r\n');
      if (text.includes('info')) {
        const info = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';
        socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('response cache when Redis fails', () => {
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ content: ANSWER });
  });

  afterAll(async () => {
    await upstream?.close();
  });

  it('Redis down: every request still succeeds from the upstream, quickly, and the errors are counted', async () => {
    const port = await unusedPort();
    const gw = await createTestApp({
      configYaml: `${modelList(upstream)}
litellm_settings:
  cache: true
  cache_params:
    type: redis
    host: 127.0.0.1
    port: ${port}
`,
    });
    try {
      const key = (await newKey(gw, { team_id: await newTeam(gw) })).key;
      const body = { model: 'gpt-4o', messages: question('redis-down') };
      upstream.reset();
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const res = await call(gw, '/v1/chat/completions', key, body);
        expect(res.status).toBe(200);
        expect((res.json as ChatCompletionJson).choices[0].message.content).toBe(ANSWER);
        expect(Date.now() - started).toBeLessThan(1000);
      }
      const stream = await call(gw, '/v1/chat/completions', key, { ...body, stream: true });
      expect(stream.status).toBe(200);
      expect(stream.text.endsWith('data: [DONE]\n\n')).toBe(true);
      expect(upstream.count).toBe(4);
      expect(await cacheMetric(gw, 'error')).toBeGreaterThanOrEqual(4);
    } finally {
      const store = gw.app.get(ResponseCache).store as RedisCacheStore;
      await gw.close();
      // Shutting down closes the client, which stops the background reconnects.
      expect(store.status).toBe('closed');
    }
  });

  it('Redis that hangs: a request waits at most the command timeout, then goes upstream', async () => {
    const redis = await hangingRedis();
    const gw = await createTestApp({
      configYaml: `${modelList(upstream)}
litellm_settings:
  cache: true
  cache_params:
    type: redis
    host: 127.0.0.1
    port: ${redis.port}
    redis_timeout_ms: 200
`,
    });
    try {
      const key = (await newKey(gw, { team_id: await newTeam(gw) })).key;
      upstream.reset();
      const started = Date.now();
      const res = await call(gw, '/v1/chat/completions', key, { model: 'gpt-4o', messages: question('redis-hang') });
      const elapsed = Date.now() - started;
      expect(res.status).toBe(200);
      expect(upstream.count).toBe(1);
      expect(elapsed).toBeLessThan(1500);
      expect(await cacheMetric(gw, 'error')).toBeGreaterThanOrEqual(1);
    } finally {
      await gw.close();
      await redis.close();
    }
  });
});
