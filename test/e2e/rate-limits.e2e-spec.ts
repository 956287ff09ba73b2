import { createHash, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Clock } from '../../src/common/clock';
import { RateLimitService } from '../../src/rate-limits/rate-limits.service';
import { errorOf, type GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream, unusedPort } from '../support/fake-upstream';
import { createTestApp, type TestApp } from '../support/test-app';

const REDIS_URL = 'redis://127.0.0.1:6379';
const WINDOW_MS = 60_000;

class MovableClock extends Clock {
  offsetMs = 0;
  override now(): number {
    return Date.now() + this.offsetMs;
  }
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

const configFor = (upstream: FakeUpstream) => `
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/upstream-model, api_base: "${upstream.url}" }
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/upstream-mini, api_base: "${upstream.url}" }
`;

/**
 * Rate limits as a LiteLLM client meets them: limits are written straight into the tables on keys nobody has used
 * yet (so no principal is cached), and every suite runs twice, counting in memory and through the real Redis.
 */
// LiteLLM's per-descriptor success headers on: these suites read them (the default sends OpenAI's four; see the end).
describe.each([
  ['in memory', { RATE_LIMIT_HEADERS: 'litellm' }],
  ['shared through Redis', { REDIS_URL, RATE_LIMIT_HEADERS: 'litellm' }],
])('rate limits (%s)', (_mode, env: Record<string, string>) => {
  const shared = 'REDIS_URL' in env;
  let gw: TestApp;
  let upstream: FakeUpstream;
  const clock = new MovableClock();

  beforeAll(async () => {
    // 11 prompt + 7 completion tokens per call.
    upstream = await FakeUpstream.start({ usage: { prompt_tokens: 11, completion_tokens: 7 } });
    gw = await createTestApp({ configYaml: configFor(upstream), env, override: (builder) => builder.overrideProvider(Clock).useValue(clock) });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  beforeEach(() => {
    upstream.reset();
  });

  it(`counts ${shared ? 'in Redis' : 'in memory'}`, () => {
    expect(gw.app.get(RateLimitService).backend).toBe(shared ? 'redis' : 'memory');
  });

  const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');

  async function newKey(body: Record<string, unknown> = {}): Promise<string> {
    const res = await gw.http().post('/key/generate').set({ Authorization: `Bearer ${gw.masterKey}` }).send(body).expect(200);
    return (res.body as GeneratedKeyJson).key;
  }

  async function newTeam(): Promise<string> {
    const teamId = `rl-team-${randomUUID()}`;
    await gw.http().post('/team/new').set({ Authorization: `Bearer ${gw.masterKey}` }).send({ team_id: teamId }).expect(200);
    return teamId;
  }

  async function limitKey(key: string, column: string, value: unknown): Promise<void> {
    await gw.dataSource.query(`UPDATE virtual_keys SET ${column} = $1 WHERE token = $2`, [value, hashOf(key)]);
  }

  async function chat(key: string, body: Record<string, unknown> = {}, route = '/v1/chat/completions'): Promise<Answer> {
    const res = await fetch(`${gw.baseUrl}${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', max_tokens: 20, messages: [{ role: 'user', content: 'Hi' }], ...body }),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** The call's tokens reach the limiter when the gateway closes the response, a moment after the client read it. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('rpm_limit on a key: N calls pass with LiteLLM’s headers (JSON and stream), the next gets its 429 and reaches no upstream', async () => {
    const key = await newKey();
    await limitKey(key, 'rpm_limit', 3);
    const first = await chat(key);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-api_key-remaining-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-api_key-limit-requests')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('3');
    const streamed = await chat(key, { stream: true });
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('data: [DONE]');
    expect(streamed.headers.get('x-ratelimit-api_key-remaining-requests')).toBe('1');
    expect((await chat(key)).headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(upstream.count).toBe(3);

    const refused = await chat(key);
    expect(refused.status).toBe(429);
    const error = errorOf({ status: refused.status, body: JSON.parse(refused.text) as unknown });
    expect(error.type).toBe('rate_limit_error');
    expect(error.message).toMatch(
      new RegExp(`^Rate limit exceeded for api_key: ${hashOf(key)}\\. Limit type: requests\\. Current limit: 3, Remaining: 0\\. Limit resets at: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC$`),
    );
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(55);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('rate_limit_type')).toBe('requests');
    expect(refused.headers.get('reset_at')).toMatch(/ UTC$/);
    expect(refused.headers.get('x-ratelimit-api_key-remaining-requests')).toBe('0');
    // Refused as a stream too, before any byte of one.
    expect((await chat(key, { stream: true })).status).toBe(429);
    expect(upstream.count).toBe(3);
  });

  if (!shared) {
    it('the window is fixed, anchored at the first call, and rolls on the injectable clock', async () => {
      const key = await newKey();
      await limitKey(key, 'rpm_limit', 1);
      expect((await chat(key)).status).toBe(200);
      clock.offsetMs += WINDOW_MS - 2_000;
      const refused = await chat(key);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(2);
      clock.offsetMs += 2_000;
      expect((await chat(key)).status).toBe(200);
      expect((await chat(key)).status).toBe(429);
    });
  }

  it('a team’s rpm_limit is shared by its keys; a key without limits gets no x-ratelimit headers', async () => {
    const teamId = await newTeam();
    await gw.dataSource.query('UPDATE teams SET rpm_limit = 3 WHERE team_id = $1', [teamId]);
    const a = await newKey({ team_id: teamId });
    const b = await newKey({ team_id: teamId });
    const statuses: number[] = [];
    for (const key of [a, b, a, b, a]) statuses.push((await chat(key)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await chat(b);
    expect(errorOf({ status: refused.status, body: JSON.parse(refused.text) as unknown }).message).toContain(`Rate limit exceeded for team: ${teamId}. Limit type: requests. Current limit: 3`);

    const free = await chat(await newKey());
    expect(free.status).toBe(200);
    expect([...free.headers.keys()].filter((name) => name.startsWith('x-ratelimit'))).toEqual([]);
  });

  it('a user’s rpm_limit holds across the user’s keys', async () => {
    const userId = `rl-user-${randomUUID()}`;
    await gw.dataSource.query('INSERT INTO users (user_id, rpm_limit) VALUES ($1, 2)', [userId]);
    const a = await newKey();
    const b = await newKey();
    for (const key of [a, b]) await gw.dataSource.query('UPDATE virtual_keys SET user_id = $1 WHERE token = $2', [userId, hashOf(key)]);
    const ok = await chat(a);
    expect(ok.headers.get('x-ratelimit-user-remaining-requests')).toBe('1');
    expect((await chat(b)).status).toBe(200);
    const refused = await chat(a);
    expect(refused.status).toBe(429);
    expect(refused.text).toContain(`Rate limit exceeded for user: ${userId}. Limit type: requests.`);
  });

  it('model_rpm_limit counts per requested model', async () => {
    const key = await newKey();
    await limitKey(key, 'model_rpm_limit', JSON.stringify({ 'gpt-4o-mini': 1 }));
    const mini = await chat(key, { model: 'gpt-4o-mini' });
    expect(mini.status).toBe(200);
    expect(mini.headers.get('x-ratelimit-model_per_key-remaining-requests')).toBe('0');
    const refused = await chat(key, { model: 'gpt-4o-mini' });
    expect(refused.status).toBe(429);
    expect(refused.text).toContain(`Rate limit exceeded for model_per_key: ${hashOf(key)}:gpt-4o-mini. Limit type: requests.`);
    for (let index = 0; index < 3; index++) expect((await chat(key, { model: 'gpt-4o' })).status).toBe(200);
  });

  it('tpm_limit: the tokens of each call count once it is over; a window that reached the limit takes no more calls', async () => {
    const key = await newKey();
    await limitKey(key, 'tpm_limit', 40);
    const first = await chat(key);
    expect(first.headers.get('x-ratelimit-api_key-remaining-tokens')).toBe('40');
    await settle();
    const second = await chat(key, { stream: true, stream_options: { include_usage: true } });
    expect(second.headers.get('x-ratelimit-api_key-remaining-tokens')).toBe('22');
    expect(second.headers.get('x-ratelimit-limit-tokens')).toBe('40');
    await settle();
    expect((await chat(key)).headers.get('x-ratelimit-remaining-tokens')).toBe('4');
    await settle();
    const refused = await chat(key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('rate_limit_type')).toBe('tokens');
    expect(refused.text).toContain('Limit type: tokens. Current limit: 40, Remaining: 0.');
    expect(upstream.count).toBe(3);
  });

  it('max_parallel_requests holds a slot per open stream: the extra call gets a 429 while they run, and passes once they end', async () => {
    const key = await newKey();
    await limitKey(key, 'max_parallel_requests', 2);
    let finish = () => undefined as void;
    const until = new Promise<void>((resolve) => (finish = resolve));
    upstream.next({ type: 'stall', until }, { type: 'stall', until });
    const open = async () =>
      fetch(`${gw.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      });
    const streams = [await open(), await open()];
    expect(streams.map((stream) => stream.status)).toEqual([200, 200]);
    expect(streams[1].headers.get('x-ratelimit-api_key-remaining-max_parallel_requests')).toBe('0');
    const refused = await chat(key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('rate_limit_type')).toBe('max_parallel_requests');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(upstream.count).toBe(2);

    finish();
    for (const stream of streams) expect(await stream.text()).toContain('data: [DONE]');
    await settle();
    const after = await chat(key);
    expect(after.status).toBe(200);
    expect(after.headers.get('x-ratelimit-api_key-remaining-max_parallel_requests')).toBe('1');
  });

  it('a stream the client drops frees its slot', async () => {
    const key = await newKey();
    await limitKey(key, 'max_parallel_requests', 1);
    const until = new Promise<void>(() => undefined);
    upstream.next({ type: 'stall', until });
    const abort = new AbortController();
    const stream = await fetch(`${gw.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      signal: abort.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(stream.status).toBe(200);
    expect((await chat(key)).status).toBe(429);
    abort.abort();
    await upstream.waitForAbort();
    await settle();
    expect((await chat(key)).status).toBe(200);
  });

  it('the headers survive the answers other APIs rewrite (Anthropic’s /v1/messages, JSON and stream)', async () => {
    const key = await newKey();
    await limitKey(key, 'rpm_limit', 5);
    const json = await chat(key, {}, '/v1/messages');
    expect(json.status).toBe(200);
    expect(json.text).toContain('"type":"message"');
    expect(json.headers.get('x-ratelimit-api_key-remaining-requests')).toBe('4');
    const stream = await chat(key, { stream: true }, '/v1/messages');
    expect(stream.text).toContain('message_stop');
    expect(stream.headers.get('x-ratelimit-api_key-remaining-requests')).toBe('3');
  });
});

describe('rate limits when their Redis is down', () => {
  it('fall back to counting in memory, with a warning in the log (Redis named the LiteLLM way, in cache_params)', async () => {
    const upstream = await FakeUpstream.start();
    const lines: string[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const deadRedis = `
litellm_settings:
  cache: false
  cache_params: { type: redis, host: 127.0.0.1, port: ${await unusedPort()} }
`;
    const gw = await createTestApp({ configYaml: configFor(upstream) + deadRedis, logDestination, logLevel: 'warn' });
    try {
      expect(gw.app.get(RateLimitService).backend).toBe('memory');
      const generated = await gw.http().post('/key/generate').set({ Authorization: `Bearer ${gw.masterKey}` }).send({}).expect(200);
      const key = (generated.body as GeneratedKeyJson).key;
      await gw.dataSource.query('UPDATE virtual_keys SET rpm_limit = 1 WHERE token = $1', [createHash('sha256').update(key).digest('hex')]);
      const call = () =>
        gw.http().post('/v1/chat/completions').set({ Authorization: `Bearer ${key}` }).send({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] });
      expect((await call()).status).toBe(200);
      expect((await call()).status).toBe(429);
      expect(lines.join('')).toContain('rate limits: Redis unreachable');
    } finally {
      await gw.close();
      await upstream.close();
    }
  });

  it('by default a call let through carries OpenAI’s four headers only; a refused one LiteLLM’s whole set', async () => {
    const upstream = await FakeUpstream.start();
    const gw = await createTestApp({ configYaml: configFor(upstream) });
    try {
      const generated = await gw.http().post('/key/generate').set({ Authorization: `Bearer ${gw.masterKey}` }).send({ rpm_limit: 1, tpm_limit: 1000 }).expect(200);
      const key = (generated.body as GeneratedKeyJson).key;
      const call = () =>
        gw.http().post('/v1/chat/completions').set({ Authorization: `Bearer ${key}` }).send({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }] });
      const ok = await call();
      expect(ok.status).toBe(200);
      expect(Object.keys(ok.headers).filter((name) => name.startsWith('x-ratelimit')).sort()).toEqual([
        'x-ratelimit-limit-requests',
        'x-ratelimit-limit-tokens',
        'x-ratelimit-remaining-requests',
        'x-ratelimit-remaining-tokens',
      ]);
      expect(ok.headers['x-ratelimit-remaining-requests']).toBe('0');
      const refused = await call();
      expect(refused.status).toBe(429);
      expect(refused.headers['x-ratelimit-api_key-remaining-requests']).toBe('0');
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      await gw.close();
      await upstream.close();
    }
  });
});
