import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';
import type { GeneratedKeyJson, NewTeamJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { tempDir } from '../support/logging/fixtures';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * The response cache configured as LiteLLM's caching docs configure it, against the machine's Redis
 * (127.0.0.1:6379): the REDIS_HOST/REDIS_PORT/REDIS_PASSWORD/REDIS_USERNAME variables, cache_params
 * host/port as `os.environ/` references, `mode: default_off`, and two gateway processes logging in as a
 * password-protected ACL user that exists only for this spec.
 */
const REDIS_HOST = '127.0.0.1';
const REDIS_PORT = 6379;
const ANSWER = 'Shared through Redis.';

function modelList(upstream: FakeUpstream): string {
  return `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/upstream-model
      api_base: ${upstream.url}
      api_key: sk-upstream-redis-litellm-e2e
`;
}

/** The model list plus `litellm_settings.cache: true` and these `cache_params` lines (each indented by four). */
function cacheConfig(upstream: FakeUpstream, params: string[]): string {
  return `${modelList(upstream)}
litellm_settings:
  cache: true
  cache_params:
${params.map((line) => `    ${line}`).join('\n')}
`;
}

function question(label: string): Array<{ role: string; content: string }> {
  return [{ role: 'user', content: `${label} ${randomUUID()}` }];
}

async function chat(baseUrl: string, key: string, body: Record<string, unknown>): Promise<{ status: number; cacheKey: string | null; text: string }> {
  const response = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', ...body }),
  });
  return { status: response.status, cacheKey: response.headers.get('x-litellm-cache-key'), text: await response.text() };
}

async function teamKey(gw: TestApp): Promise<string> {
  const team = await gw.http().post('/team/new').set('Authorization', `Bearer ${gw.masterKey}`).send({});
  const key = await gw.http().post('/key/generate').set('Authorization', `Bearer ${gw.masterKey}`).send({ team_id: (team.body as NewTeamJson).team_id });
  return (key.body as GeneratedKeyJson).key;
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
    if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
  }
}

describe('response cache on Redis, configured the LiteLLM way', () => {
  const namespace = `gatehouse-e2e-litellm-${process.pid}-${randomUUID().slice(0, 8)}`;
  let upstream: FakeUpstream;
  let inspector: Redis;
  const apps: TestApp[] = [];

  async function app(configYaml: string, env: Record<string, string>, keepData = false): Promise<TestApp> {
    const gw = await createTestApp({ configYaml, env, keepData });
    apps.push(gw);
    return gw;
  }

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ content: ANSWER });
    inspector = new Redis({ host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    for (const gw of apps) await gw.close();
    await upstream?.close();
    await deleteKeys(inspector, `${namespace}`);
    inspector?.disconnect();
  });

  beforeEach(() => upstream.reset());

  it('REDIS_HOST and REDIS_PORT (LiteLLM’s docs: `type: redis`, the server in the environment): two instances share hits', async () => {
    const configYaml = cacheConfig(upstream, ['type: redis', `namespace: ${namespace}-env`]);
    const env = { REDIS_HOST, REDIS_PORT: String(REDIS_PORT) };
    const first = await app(configYaml, env);
    const key = await teamKey(first);
    const second = await app(configYaml, env, true);

    const body = { messages: question('env-host') };
    const miss = await chat(first.baseUrl, key, body);
    expect(miss).toMatchObject({ status: 200, cacheKey: null });
    const hit = await chat(second.baseUrl, key, body);
    expect(hit.cacheKey).toMatch(/^[0-9a-f]{64}$/);
    expect(hit.text).toBe(miss.text);
    expect(upstream.count).toBe(1);
    expect(await inspector.exists(`${namespace}-env:cache:${hit.cacheKey}`)).toBe(1);
  });

  it('cache_params host and port as os.environ/ references', async () => {
    process.env.GATEHOUSE_E2E_CACHE_HOST = REDIS_HOST;
    process.env.GATEHOUSE_E2E_CACHE_PORT = String(REDIS_PORT);
    try {
      const gw = await app(
        cacheConfig(upstream, [
          'type: redis',
          'host: os.environ/GATEHOUSE_E2E_CACHE_HOST',
          'port: os.environ/GATEHOUSE_E2E_CACHE_PORT',
          `namespace: ${namespace}-params`,
        ]),
        {},
      );
      const key = await teamKey(gw);
      const body = { messages: question('params-host') };
      await chat(gw.baseUrl, key, body);
      const hit = await chat(gw.baseUrl, key, body);
      expect(hit.cacheKey).not.toBeNull();
      expect(upstream.count).toBe(1);
      expect(await inspector.exists(`${namespace}-params:cache:${hit.cacheKey}`)).toBe(1);
    } finally {
      delete process.env.GATEHOUSE_E2E_CACHE_HOST;
      delete process.env.GATEHOUSE_E2E_CACHE_PORT;
    }
  });

  it('mode: default_off caches only a request that asks with "cache": {"use-cache": true}', async () => {
    const gw = await app(
      cacheConfig(upstream, ['type: redis', `host: ${REDIS_HOST}`, `port: ${REDIS_PORT}`, 'mode: default_off', `namespace: ${namespace}-optin`]),
      {},
    );
    const key = await teamKey(gw);

    const plain = { messages: question('not-asked') };
    expect((await chat(gw.baseUrl, key, plain)).cacheKey).toBeNull();
    expect((await chat(gw.baseUrl, key, plain)).cacheKey).toBeNull();
    expect(upstream.count).toBe(2);
    expect(await inspector.keys(`${namespace}-optin:*`)).toEqual([]);

    const asking = { messages: question('asked'), cache: { 'use-cache': true } };
    const miss = await chat(gw.baseUrl, key, asking);
    const hit = await chat(gw.baseUrl, key, asking);
    expect(miss.cacheKey).toBeNull();
    expect(hit.cacheKey).not.toBeNull();
    expect(hit.text).toBe(miss.text);
    expect(upstream.count).toBe(3);
    // The opted-in answer is not served to a request that does not ask.
    expect((await chat(gw.baseUrl, key, { messages: asking.messages })).cacheKey).toBeNull();
    expect(upstream.count).toBe(4);

    const bad = await chat(gw.baseUrl, key, { messages: question('bad'), cache: { 'use-cache': 'yes' } });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('`cache.use-cache` must be true or false');
  });
});

/**
 * Two gateway processes on one PostgreSQL database, logging in to Redis as a throwaway ACL user with a password
 * given the LiteLLM way (REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD): both the response cache and the
 * cross-instance invalidation go through it, hits are shared, and the password appears in no output.
 */
describe('two gateway processes behind a password-protected Redis', () => {
  const ADMIN_URL = process.env.MULTI_INSTANCE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = 'gatehouse_redis_litellm';
  const MASTER_KEY = 'sk-redis-litellm-test-0123456789abcdefghijklmn';
  const user = `gatehouse-e2e-${process.pid}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const namespace = `gatehouse-e2e-acl-${process.pid}`;
  const dir = tempDir('gatehouse-redis-litellm-');
  const running: GatewayProcess[] = [];
  let admin: Redis;
  let upstream: FakeUpstream;
  let databaseUrl: string;
  let config: string;

  async function start(env: Record<string, string>): Promise<GatewayProcess> {
    const gateway = await spawnGateway({ env: { DATABASE_URL: databaseUrl, MASTER_KEY, CONFIG_FILE: config, ...env } });
    running.push(gateway);
    await gateway.waitForReady(30_000);
    return gateway;
  }

  beforeAll(async () => {
    admin = new Redis({ host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: 1 });
    // Only this spec's keys and the invalidation channel; removed again in afterAll.
    await admin.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, `~${namespace}:*`, '&gatehouse_invalidation', '+@all');
    const pg = new Client({ connectionString: ADMIN_URL });
    await pg.connect();
    await pg.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await pg.query(`CREATE DATABASE ${database}`);
    await pg.end();
    databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
    upstream = await FakeUpstream.start({ content: ANSWER });
    config = dir.write('config.yaml', cacheConfig(upstream, ['type: redis', `namespace: ${namespace}`]));
  });

  afterAll(async () => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    await upstream?.close();
    await admin.call('ACL', 'DELUSER', user);
    await deleteKeys(admin, `${namespace}:`);
    admin.disconnect();
    dir.cleanup();
  });

  it('the cache and the invalidation bus log in with REDIS_USERNAME/REDIS_PASSWORD; B serves A’s answer', async () => {
    const env = { REDIS_HOST, REDIS_PORT: String(REDIS_PORT), REDIS_USERNAME: user, REDIS_PASSWORD: password };
    const a = await start(env);
    const b = await start(env);
    for (const gateway of [a, b]) {
      expect(gateway.output()).toContain('cross-instance invalidation over Redis pub/sub');
      expect(gateway.output()).toContain('Redis cache connected');
    }

    const headers = { Authorization: `Bearer ${MASTER_KEY}`, 'Content-Type': 'application/json' };
    await fetch(`${a.baseUrl}/team/new`, { method: 'POST', headers, body: JSON.stringify({ team_id: 'acl-team' }) });
    const generated = await fetch(`${a.baseUrl}/key/generate`, { method: 'POST', headers, body: JSON.stringify({ team_id: 'acl-team' }) });
    const key = ((await generated.json()) as GeneratedKeyJson).key;

    const body = { messages: question('acl') };
    const miss = await chat(a.baseUrl, key, body);
    expect(miss).toMatchObject({ status: 200, cacheKey: null });
    const hit = await chat(b.baseUrl, key, body);
    expect(hit.cacheKey).not.toBeNull();
    expect(hit.text).toBe(miss.text);
    expect(upstream.count).toBe(1);
    expect(await admin.exists(`${namespace}:cache:${hit.cacheKey}`)).toBe(1);

    // REDIS_URL wins over the separate variables, with a warning per variable that disagrees; the URL's
    // credentials are the ones used, so C (wrong REDIS_PASSWORD, other REDIS_HOST) still shares the hits.
    const c = await start({
      REDIS_URL: `redis://${user}:${password}@${REDIS_HOST}:${REDIS_PORT}`,
      REDIS_HOST: 'redis.elsewhere.invalid',
      REDIS_PASSWORD: 'not-the-password',
    });
    expect(c.output()).toContain('REDIS_HOST is ignored: REDIS_URL is set and wins');
    expect(c.output()).toContain('REDIS_PASSWORD is ignored');
    expect(c.output()).toContain('cross-instance invalidation over Redis pub/sub');
    const third = await chat(c.baseUrl, key, body);
    expect(third.cacheKey).toBe(hit.cacheKey);
    expect(upstream.count).toBe(1);

    for (const gateway of [a, b, c]) {
      gateway.kill('SIGTERM');
      expect(await gateway.waitForExit()).toBe(0);
      expect(gateway.output()).not.toContain(password);
      expect(gateway.output()).not.toContain('not-the-password');
    }
  });
});
