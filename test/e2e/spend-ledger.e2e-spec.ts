import { memberId, SpendLedger, type QueryRunnerFn } from '../../src/budgets/spend-ledger';
import { BudgetsService } from '../../src/budgets/budgets.service';
import type { FetchedAnswer, GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { postJson } from '../support/post-json';
import { createTestApp, type TestApp } from '../support/test-app';

/** The ledger against the real database: batching, atomic merging, failures kept for the next flush, shutdown flush. */
describe('spend ledger', () => {
  let gw: TestApp;
  let statements: string[];
  let query: QueryRunnerFn;
  let sequence = 0;

  beforeAll(async () => {
    // A flush interval nobody reaches: only the flushes the tests make (and the shutdown's) write.
    gw = await createTestApp({ env: { SPEND_FLUSH_INTERVAL_MS: '60000' } });
  });

  afterAll(() => gw.close());

  beforeEach(() => {
    statements = [];
    query = (sql, parameters) => {
      statements.push(sql);
      return gw.dataSource.query(sql, parameters);
    };
  });

  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) => gw.dataSource.query<T[]>(text, parameters);

  async function users(count: number, setup = ''): Promise<string[]> {
    const ids = Array.from({ length: count }, () => `ledger-user-${++sequence}`);
    for (const id of ids) await sql(`INSERT INTO users (user_id) VALUES ($1)`, [id]);
    if (setup) await sql(`UPDATE users SET ${setup} WHERE user_id = ANY($1)`, [ids]);
    return ids;
  }

  const userRows = async (ids: string[]) =>
    Object.fromEntries(
      (await sql<{ user_id: string; spend: number; model_spend: Record<string, number> }>(`SELECT user_id, spend, model_spend FROM users WHERE user_id = ANY($1)`, [ids])).map(
        (row) => [row.user_id, { spend: row.spend, model_spend: row.model_spend }],
      ),
    );

  it('batches: any number of calls becomes one statement per table, with the sums per entity and per model', async () => {
    const ids = await users(3);
    const team = `ledger-team-${++sequence}`;
    await sql(`INSERT INTO teams (team_id) VALUES ($1)`, [team]);
    await sql(`INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)`, [team, ids[0]]);
    const ledger = new SpendLedger(query);
    for (let call = 0; call < 300; call++) {
      const id = ids[call % 3];
      ledger.add('user', id, 0.25, call % 2 === 0 ? 'm-even' : 'm-odd');
      ledger.add('team', team, 0.25, 'm-team');
      ledger.add('member', memberId(team, ids[0]), 0.5, null);
      ledger.add('end_user', `ledger-customer-${call % 5}-${sequence}`, 1, null);
    }
    expect(ledger.unflushed('user', ids[0])).toBe(25);
    expect(ledger.unflushedForModel('user', ids[0], 'm-even')).toBe(12.5);

    const outcome = await ledger.flush();
    expect(outcome.failed).toEqual([]);
    expect(statements).toHaveLength(4);
    expect(statements.filter((text) => text.includes('UPDATE users'))).toHaveLength(1);
    expect(await userRows(ids)).toEqual({
      [ids[0]]: { spend: 25, model_spend: { 'm-even': 12.5, 'm-odd': 12.5 } },
      [ids[1]]: { spend: 25, model_spend: { 'm-even': 12.5, 'm-odd': 12.5 } },
      [ids[2]]: { spend: 25, model_spend: { 'm-even': 12.5, 'm-odd': 12.5 } },
    });
    expect((await sql<{ spend: number }>(`SELECT spend FROM teams WHERE team_id = $1`, [team]))[0].spend).toBe(75);
    expect((await sql<{ spend: number }>(`SELECT spend FROM team_members WHERE team_id = $1`, [team]))[0].spend).toBe(150);
    const customers = await sql<{ spend: number }>(`SELECT spend FROM end_users WHERE user_id LIKE $1`, [`ledger-customer-%-${sequence}`]);
    expect(customers.map((row) => row.spend)).toEqual([60, 60, 60, 60, 60]);
    // The RETURNING rows carry what the database holds now.
    expect(outcome.rows.find((row) => row.kind === 'user' && row.id === ids[0])).toEqual({ kind: 'user', id: ids[0], spend: 25, modelSpend: { 'm-even': 12.5, 'm-odd': 12.5 } });
    expect(ledger.unflushed('user', ids[0])).toBe(0);
    expect(ledger.isEmpty).toBe(true);
    expect(await ledger.flush()).toEqual({ rows: [], failed: [] });
  });

  it('merges atomically: ledgers of several instances flushing at once add up exactly, and model_spend keeps other models', async () => {
    const [id] = await users(1, `spend = 6, model_spend = '{"m1": 1, "other": 5}'`);
    const ledgers = Array.from({ length: 4 }, () => new SpendLedger((text, parameters) => gw.dataSource.query(text, parameters)));
    for (let round = 0; round < 15; round++) {
      ledgers.forEach((ledger, index) => ledger.add('user', id, 1, index % 2 === 0 ? 'm1' : 'm2'));
      await Promise.all(ledgers.map((ledger) => ledger.flush()));
    }
    expect(await userRows([id])).toEqual({ [id]: { spend: 6 + 60, model_spend: { m1: 1 + 30, m2: 30, other: 5 } } });
  });

  it('keeps the deltas of a failed statement and writes them, with what came meanwhile, on the next flush', async () => {
    const [id] = await users(1);
    let failNext = true;
    const flaky: QueryRunnerFn = (text, parameters) => {
      if (failNext && text.includes('UPDATE users')) {
        failNext = false;
        return Promise.reject(new Error('connection lost'));
      }
      return gw.dataSource.query(text, parameters);
    };
    const ledger = new SpendLedger(flaky);
    ledger.add('user', id, 2, 'm1');
    ledger.add('end_user', `ledger-retry-${id}`, 2, null);
    const failed = await ledger.flush();
    expect(failed.failed.map((failure) => failure.kind)).toEqual(['user']);
    // The end users' statement went through on its own.
    expect((await sql<{ spend: number }>(`SELECT spend FROM end_users WHERE user_id = $1`, [`ledger-retry-${id}`]))[0].spend).toBe(2);
    expect(ledger.unflushed('user', id)).toBe(2);
    expect(ledger.unflushed('end_user', `ledger-retry-${id}`)).toBe(0);
    ledger.add('user', id, 3, 'm2');
    expect(ledger.unflushedForModel('user', id, 'm1')).toBe(2);
    expect((await ledger.flush()).failed).toEqual([]);
    expect(await userRows([id])).toEqual({ [id]: { spend: 5, model_spend: { m1: 2, m2: 3 } } });
    expect(ledger.isEmpty).toBe(true);
  });

  it('counts spend being written as unflushed until it commits; what is filed meanwhile waits for the next flush', async () => {
    const [id] = await users(1);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: QueryRunnerFn = async (text, parameters) => {
      await gate;
      return gw.dataSource.query(text, parameters);
    };
    const ledger = new SpendLedger(slow);
    ledger.add('user', id, 1, null);
    const first = ledger.flush();
    ledger.add('user', id, 2, null);
    expect(ledger.unflushed('user', id)).toBe(3);
    // A second flush waits for the first instead of running beside it.
    const second = ledger.flush();
    release();
    await Promise.all([first, second]);
    expect(ledger.unflushed('user', id)).toBe(0);
    expect((await userRows([id]))[id].spend).toBe(3);
  });

  it('drops the spend of rows that no longer exist (a deleted key) instead of retrying it forever', async () => {
    const ledger = new SpendLedger(query);
    ledger.add('key', 'f'.repeat(64), 1, 'm');
    ledger.add('member', memberId('no-team', 'no-user'), 1, null);
    expect(await ledger.flush()).toEqual({ rows: [], failed: [] });
    expect(ledger.isEmpty).toBe(true);
  });
});

describe('spend across a graceful restart', () => {
  it('what is filed but not yet written is written by the shutdown hook, and holds after the restart', async () => {
    const upstream = await FakeUpstream.start({ usage: { prompt_tokens: 10, completion_tokens: 20 } });
    const configYaml = `model_list:
  - model_name: gpt-b
    litellm_params:
      model: openai/gpt-b
      api_base: ${upstream.url}
      api_key: sk-upstream
    model_info:
      input_cost_per_token: 0.05
      output_cost_per_token: 0.025
`;
    const env = { SPEND_FLUSH_INTERVAL_MS: '60000' };
    const first = await createTestApp({ env, configYaml });
    const res = await first.http().post('/key/generate').set('Authorization', `Bearer ${first.masterKey}`).send({});
    const { key, token } = res.body as GeneratedKeyJson;
    await first.dataSource.query(`UPDATE virtual_keys SET max_budget = 3 WHERE token = $1`, [token]);
    const chat = (gw: TestApp): Promise<FetchedAnswer> => postJson(`${gw.baseUrl}/v1/chat/completions`, key, { model: 'gpt-b', messages: [{ role: 'user', content: 'hi' }] });
    for (let call = 0; call < 3; call++) expect((await chat(first)).status).toBe(200);
    expect(first.app.get(BudgetsService).pendingSpend('key', token)).toBe(3);
    const [before] = await first.dataSource.query<{ spend: number }[]>(`SELECT spend FROM virtual_keys WHERE token = $1`, [token]);
    expect(before.spend).toBe(0);
    await first.close();

    const second = await createTestApp({ env, configYaml, keepData: true });
    try {
      const [after] = await second.dataSource.query<{ spend: number }[]>(`SELECT spend FROM virtual_keys WHERE token = $1`, [token]);
      expect(after.spend).toBe(3);
      const refused = await chat(second);
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('Budget has been exceeded! Current cost: 3, Max budget: 3');
    } finally {
      await second.close();
      await upstream.close();
    }
  });
});
