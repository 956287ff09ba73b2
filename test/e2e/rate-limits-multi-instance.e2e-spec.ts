import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { tempDir } from '../support/logging/fixtures';

/**
 * Two gateway processes behind one PostgreSQL (the machine's server, a database of their own) and the real Redis:
 * a limit holds exactly across both, because each call is counted by one atomic script in Redis.
 */
const ADMIN_URL = process.env.MULTI_INSTANCE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.MULTI_INSTANCE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE = 'gatehouse_ratelimits_multi';
const MASTER_KEY = 'sk-ratelimit-multi-test-0123456789abcdefghijklmnop';

describe('rate limits across two instances sharing Redis', () => {
  const dir = tempDir('gatehouse-ratelimits-');
  let upstream: FakeUpstream;
  let database: Client;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
    const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${DATABASE}`);
    upstream = await FakeUpstream.start();
    const config = dir.write('config.yaml', `model_list:\n  - model_name: gpt-4o\n    litellm_params: { model: openai/upstream-model, api_base: "${upstream.url}" }\n`);
    const env = { DATABASE_URL: databaseUrl, MASTER_KEY, CONFIG_FILE: config, REDIS_URL };
    // One after the other: the first runs the migrations.
    a = await spawnGateway({ env });
    await a.waitForReady(30_000);
    b = await spawnGateway({ env });
    await b.waitForReady(30_000);
    database = new Client({ connectionString: databaseUrl });
    await database.connect();
  });

  afterAll(async () => {
    for (const gateway of [a, b]) if (gateway?.child.exitCode === null) gateway.kill('SIGKILL');
    await database?.end();
    await upstream?.close();
    dir.cleanup();
  });

  async function limitedKey(column: string, value: number): Promise<string> {
    const res = await fetch(`${a.baseUrl}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: '{}' });
    const key = ((await res.json()) as GeneratedKeyJson).key;
    await database.query(`UPDATE virtual_keys SET ${column} = $1 WHERE token = $2`, [value, createHash('sha256').update(key).digest('hex')]);
    return key;
  }

  const chat = (gateway: GatewayProcess, key: string, stream = false) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content: 'Hi' }] }),
    });

  it('both instances count in Redis', () => {
    expect(a.output()).toContain('rate-limit counters shared through Redis');
    expect(b.output()).toContain('rate-limit counters shared through Redis');
  });

  it('rpm_limit=10: 30 calls alternating between the instances, exactly 10 admitted', async () => {
    const key = await limitedKey('rpm_limit', 10);
    upstream.reset();
    const statuses: number[] = [];
    for (let index = 0; index < 30; index++) {
      const res = await chat(index % 2 === 0 ? a : b, key);
      await res.text();
      statuses.push(res.status);
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(upstream.count).toBe(10);
  });

  it('rpm_limit=10: 30 concurrent calls spread over both instances, exactly 10 admitted', async () => {
    const key = await limitedKey('rpm_limit', 10);
    const statuses = await Promise.all(
      Array.from({ length: 30 }, async (_, index) => {
        const res = await chat(index % 2 === 0 ? a : b, key);
        await res.text();
        return res.status;
      }),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
  });

  it('max_parallel_requests=1: a stream open on A refuses a call on B until it ends', async () => {
    const key = await limitedKey('max_parallel_requests', 1);
    let finish = () => undefined as void;
    upstream.next({ type: 'stall', until: new Promise<void>((resolve) => (finish = resolve)) });
    const stream = await chat(a, key, true);
    expect(stream.status).toBe(200);
    const refused = await chat(b, key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('rate_limit_type')).toBe('max_parallel_requests');
    finish();
    expect(await stream.text()).toContain('data: [DONE]');
    // The release is one script run after A closes the response.
    const deadline = Date.now() + 2000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      const res = await chat(b, key);
      await res.text();
      status = res.status;
      if (status === 429) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(200);
  });
});
