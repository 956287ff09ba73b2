import { Client } from 'pg';
import type { GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { tempDir } from '../support/logging/fixtures';
import { waitFor } from '../support/logging/harness';

/**
 * Two gateway processes sharing one PostgreSQL (the machine's server, a database of their own): the spend both
 * write adds up exactly, a budget spent on one instance is enforced by the other within a couple of seconds, and
 * SIGTERM writes what was not flushed yet.
 */
const ADMIN_URL = process.env.MULTI_INSTANCE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'gh_budgets_multi';
const MASTER_KEY = 'sk-budgets-multi-instance-0123456789abcdefghijkl';
/** Every call costs exactly 1 USD: 10 prompt tokens × 0.05 + 20 completion tokens × 0.025. */
const COST = 1;

describe('budgets across several instances', () => {
  const dir = tempDir('gatehouse-budgets-multi-');
  let upstream: FakeUpstream;
  let databaseUrl: string;
  let config: string;
  let db: Client;
  const running: GatewayProcess[] = [];

  async function start(env: Record<string, string> = {}): Promise<GatewayProcess> {
    const gateway = await spawnGateway({ env: { DATABASE_URL: databaseUrl, MASTER_KEY, CONFIG_FILE: config, SPEND_FLUSH_INTERVAL_MS: '200', ...env } });
    running.push(gateway);
    await gateway.waitForReady(30_000);
    return gateway;
  }

  async function stop(gateway: GatewayProcess): Promise<void> {
    gateway.kill('SIGTERM');
    expect(await gateway.waitForExit()).toBe(0);
  }

  async function post(gateway: GatewayProcess, path: string, body: unknown, key = MASTER_KEY): Promise<{ status: number; json: unknown; text: string }> {
    const res = await fetch(`${gateway.baseUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null, text };
  }

  const chat = (gateway: GatewayProcess, key: string, user?: string) =>
    post(gateway, '/v1/chat/completions', { model: 'gpt-b', messages: [{ role: 'user', content: 'hi' }], ...(user ? { user } : {}) }, key);

  async function newKey(gateway: GatewayProcess, body: Record<string, unknown> = {}): Promise<GeneratedKeyJson> {
    const res = await post(gateway, '/key/generate', body);
    expect(res.status).toBe(200);
    return res.json as GeneratedKeyJson;
  }

  const spend = async (table: string, column: string, id: string) => (await db.query<{ spend: number }>(`SELECT spend FROM ${table} WHERE ${column} = $1`, [id])).rows[0]?.spend;

  beforeAll(async () => {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
    databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${DATABASE}`);
    upstream = await FakeUpstream.start({ usage: { prompt_tokens: 10, completion_tokens: 20 } });
    config = dir.write(
      'config.yaml',
      `model_list:
  - model_name: gpt-b
    litellm_params:
      model: openai/gpt-b
      api_base: ${upstream.url}
      api_key: sk-upstream
    model_info:
      input_cost_per_token: 0.05
      output_cost_per_token: 0.025
`,
    );
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });

  afterAll(async () => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    await db.end();
    await upstream.close();
    dir.cleanup();
  });

  it('spend from two instances adds up exactly for the key, its team and the end user, and a budget spent on A holds on B', async () => {
    const a = await start();
    const b = await start();
    expect((await post(a, '/team/new', { team_id: 'shared-budget-team' })).status).toBe(200);
    const { key, token } = await newKey(a, { team_id: 'shared-budget-team' });

    // 60 calls at once, half on each instance, while both flush every 200 ms.
    const calls = Array.from({ length: 60 }, (_, index) => chat(index % 2 === 0 ? a : b, key, 'shared-customer'));
    const answers = await Promise.all(calls);
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const expected = answers.length * COST;
    const spends = async () => [await spend('virtual_keys', 'token', token), await spend('teams', 'team_id', 'shared-budget-team'), await spend('end_users', 'user_id', 'shared-customer')];
    // Each table is written by a statement of its own: wait for all three of both instances.
    await waitFor('both instances to flush', async () => (await spends()).every((value) => value === expected), 5_000).catch(async (error: Error) => {
      throw new Error(`${error.message}: key, team, end user spend = ${JSON.stringify(await spends())}, expected ${expected} each`);
    });

    // A key with a budget of 3: spent on A, refused by B once B's re-read sees it (B has seen the key before).
    const budgeted = await newKey(a);
    await db.query(`UPDATE virtual_keys SET max_budget = 3 WHERE token = $1`, [budgeted.token]);
    expect((await chat(b, budgeted.key)).status).toBe(200);
    await waitFor('B to flush its call', async () => (await spend('virtual_keys', 'token', budgeted.token)) === COST, 5_000);
    for (let call = 0; call < 2; call++) expect((await chat(a, budgeted.key)).status).toBe(200);
    expect((await chat(a, budgeted.key)).status).toBe(400);
    const spentAt = Date.now();
    await waitFor('B to refuse the key A spent', async () => (await chat(b, budgeted.key)).status === 400, 5_000);
    expect(Date.now() - spentAt).toBeLessThan(2_000);
    const upstreamBefore = upstream.count;
    const refused = await chat(b, budgeted.key);
    // B may have let a call through while its re-read was on its way (the documented overshoot): 3 or more.
    const [, cost] = /Budget has been exceeded! Current cost: (\d+), Max budget: 3/.exec(refused.text) ?? [];
    expect(Number(cost)).toBeGreaterThanOrEqual(3);
    expect(upstream.count).toBe(upstreamBefore);

    await stop(a);
    await stop(b);
  });

  it('SIGTERM writes the spend not flushed yet; after the restart the budget still holds', async () => {
    // A flush interval no test reaches: only the shutdown writes.
    const a = await start({ SPEND_FLUSH_INTERVAL_MS: '60000' });
    const { key, token } = await newKey(a);
    await db.query(`UPDATE virtual_keys SET max_budget = 3 WHERE token = $1`, [token]);
    for (let call = 0; call < 3; call++) expect((await chat(a, key)).status).toBe(200);
    expect(await spend('virtual_keys', 'token', token)).toBe(0);
    await stop(a);
    expect(await spend('virtual_keys', 'token', token)).toBe(3 * COST);

    const again = await start();
    const refused = await chat(again, key);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('Budget has been exceeded! Current cost: 3, Max budget: 3');
    await stop(again);
  });
});
