import { BudgetsService } from '../../src/budgets/budgets.service';
import { nextBudgetReset } from '../../src/budgets/budget-period';
import { Clock } from '../../src/common/clock';
import type { ErrorJson, FetchedAnswer, GeneratedKeyJson } from '../support/api-responses';
import { FakeUpstream } from '../support/fake-upstream';
import { LogCapture, waitFor } from '../support/logging/harness';
import { postJson } from '../support/post-json';
import { createTestApp, type TestApp } from '../support/test-app';

/** Real time plus an offset the test moves: the budget reset job runs on its own and reads this clock. */
class MovableClock extends Clock {
  offsetMs = 0;
  override now(): number {
    return Date.now() + this.offsetMs;
  }
}

/** Every call costs exactly 1 USD: 10 prompt tokens × 0.05 + 20 completion tokens × 0.025. */
const COST = 1;
const DAY_MS = 86_400_000;

const priced = (name: string, url: string) => `
  - model_name: ${name}
    litellm_params:
      model: openai/${name}
      api_base: ${url}
      api_key: sk-upstream
    model_info:
      input_cost_per_token: 0.05
      output_cost_per_token: 0.025`;

describe('budgets: spend ledger, budget checks, resets and soft budgets', () => {
  let upstream: FakeUpstream;
  let gw: TestApp;
  let budgets: BudgetsService;
  const clock = new MovableClock();
  const log = new LogCapture();
  let sequence = 0;

  beforeAll(async () => {
    upstream = await FakeUpstream.start({ usage: { prompt_tokens: 10, completion_tokens: 20 } });
    gw = await createTestApp({
      env: { SPEND_FLUSH_INTERVAL_MS: '100', BUDGET_RESET_INTERVAL_MS: '300' },
      logDestination: log,
      override: (builder) => builder.overrideProvider(Clock).useValue(clock),
      configYaml: `model_list:${priced('gpt-b', upstream.url)}${priced('gpt-c', upstream.url)}
litellm_settings:
  max_end_user_budget: 3
`,
    });
    budgets = gw.app.get(BudgetsService);
  });

  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  const sql = <T = Record<string, unknown>>(text: string, parameters: unknown[] = []) => gw.dataSource.query<T[]>(text, parameters);

  async function newTeam(limits = ''): Promise<string> {
    const teamId = `team-${++sequence}`;
    const res = await gw.http().post('/team/new').set('Authorization', `Bearer ${gw.masterKey}`).send({ team_id: teamId });
    expect(res.status).toBe(200);
    if (limits) await sql(`UPDATE teams SET ${limits} WHERE team_id = $1`, [teamId]);
    return teamId;
  }

  async function newUser(limits = ''): Promise<string> {
    const userId = `user-${++sequence}`;
    await sql(`INSERT INTO users (user_id) VALUES ($1)`, [userId]);
    if (limits) await sql(`UPDATE users SET ${limits} WHERE user_id = $1`, [userId]);
    return userId;
  }

  /** A fresh key (never cached yet), its limits written straight to its row. */
  async function newKey(options: { teamId?: string; userId?: string; alias?: string; limits?: string } = {}): Promise<GeneratedKeyJson> {
    const res = await gw
      .http()
      .post('/key/generate')
      .set('Authorization', `Bearer ${gw.masterKey}`)
      .send({ ...(options.teamId ? { team_id: options.teamId } : {}), ...(options.alias ? { key_alias: options.alias } : {}) });
    expect(res.status).toBe(200);
    const generated = res.body as GeneratedKeyJson;
    if (options.userId) await sql(`UPDATE virtual_keys SET user_id = $1 WHERE token = $2`, [options.userId, generated.token]);
    if (options.limits) await sql(`UPDATE virtual_keys SET ${options.limits} WHERE token = $1`, [generated.token]);
    return generated;
  }

  const chat = (key: string, model = 'gpt-b', user?: string): Promise<FetchedAnswer> =>
    postJson(`${gw.baseUrl}/v1/chat/completions`, key, { model, messages: [{ role: 'user', content: 'hi' }], ...(user ? { user } : {}) });

  async function expectOk(answer: Promise<FetchedAnswer>): Promise<void> {
    const res = await answer;
    expect({ status: res.status, text: res.status === 200 ? '' : res.text }).toEqual({ status: 200, text: '' });
  }

  /** Refused with LiteLLM's budget_exceeded, and no request reached the upstream. */
  async function expectRefused(answer: () => Promise<FetchedAnswer>, message: string | RegExp): Promise<void> {
    const before = upstream.count;
    const res = await answer();
    expect(res.status).toBe(400);
    const error = (res.json as ErrorJson).error;
    expect(error.type).toBe('budget_exceeded');
    expect(error.message).toEqual(typeof message === 'string' ? message : expect.stringMatching(message));
    expect(upstream.count).toBe(before);
  }

  const spendOf = async (table: string, column: string, id: string) => (await sql<{ spend: number }>(`SELECT spend FROM ${table} WHERE ${column} = $1`, [id]))[0]?.spend;

  it('a key at its max_budget is refused (spend >= max_budget), nothing goes upstream, and the spend is in the database', async () => {
    const { key, token } = await newKey({ limits: 'max_budget = 2' });
    await expectOk(chat(key));
    await expectOk(chat(key));
    await expectRefused(() => chat(key), 'Budget has been exceeded! Current cost: 2, Max budget: 2');
    await budgets.flush();
    expect(await spendOf('virtual_keys', 'token', token)).toBe(2 * COST);
  });

  it('a team over its max_budget is refused for all its keys (spend > max_budget)', async () => {
    const teamId = await newTeam('max_budget = 2');
    const first = await newKey({ teamId });
    const second = await newKey({ teamId });
    await expectOk(chat(first.key));
    await expectOk(chat(second.key));
    // 2 > 2 is false: LiteLLM's team check is strict.
    await expectOk(chat(first.key));
    await expectRefused(() => chat(second.key), `Budget has been exceeded! Team=${teamId} Current cost: 3, Max budget: 2`);
    await budgets.flush();
    expect(await spendOf('teams', 'team_id', teamId)).toBe(3 * COST);
  });

  it("a user's max_budget holds for its personal keys only; its team keys spend the team's budget", async () => {
    const userId = await newUser('max_budget = 1');
    const personal = await newKey({ userId });
    const teamKey = await newKey({ userId, teamId: await newTeam() });
    await expectOk(chat(personal.key));
    await expectRefused(() => chat(personal.key), `ExceededBudget: User=${userId} over budget. Spend=1, Budget=1`);
    await expectOk(chat(teamKey.key));
    await budgets.flush();
    expect(await spendOf('users', 'user_id', userId)).toBe(2 * COST);
  });

  it("a team member's max_budget_in_team caps that member only", async () => {
    const teamId = await newTeam();
    const capped = await newUser();
    const free = await newUser();
    await sql(`INSERT INTO team_members (team_id, user_id, max_budget_in_team) VALUES ($1, $2, 1), ($1, $3, NULL)`, [teamId, capped, free]);
    const cappedKey = await newKey({ teamId, userId: capped });
    const freeKey = await newKey({ teamId, userId: free });
    await expectOk(chat(cappedKey.key));
    await expectRefused(() => chat(cappedKey.key), `Budget has been exceeded! User=${capped} in Team=${teamId} Current cost: 1, Max budget: 1`);
    await expectOk(chat(freeKey.key));
    await expectOk(chat(freeKey.key));
    await budgets.flush();
    const rows = await sql<{ user_id: string; spend: number }>(`SELECT user_id, spend FROM team_members WHERE team_id = $1 ORDER BY user_id`, [teamId]);
    expect(Object.fromEntries(rows.map((row) => [row.user_id, row.spend]))).toEqual({ [capped]: 1, [free]: 2 });
  });

  it("end users: their row's max_budget, else litellm_settings.max_end_user_budget (spend > budget), rows created with the first spend", async () => {
    const { key } = await newKey();
    const customer = `customer-${++sequence}`;
    await sql(`INSERT INTO end_users (user_id, max_budget) VALUES ($1, 1)`, [customer]);
    await expectOk(chat(key, 'gpt-b', customer));
    await expectOk(chat(key, 'gpt-b', customer));
    await expectRefused(() => chat(key, 'gpt-b', customer), `ExceededBudget: End User=${customer} over budget. Spend=2, Budget=1`);
    // The master key is held to end-user budgets too.
    await expectRefused(() => chat(gw.masterKey, 'gpt-b', customer), /^ExceededBudget: End User=/);

    const newcomer = `newcomer-${++sequence}`;
    for (let call = 0; call < 4; call++) await expectOk(chat(key, 'gpt-c', newcomer));
    await expectRefused(() => chat(key, 'gpt-c', newcomer), `ExceededBudget: End User=${newcomer} over budget. Spend=4, Budget=3`);
    await budgets.flush();
    expect(await spendOf('end_users', 'user_id', newcomer)).toBe(4 * COST);
    expect(await spendOf('end_users', 'user_id', customer)).toBe(2 * COST);
  });

  it('model_max_budget: a key, a team and a user each capped per model (spend > budget); other models go on', async () => {
    const key = await newKey({ alias: 'per-model', limits: `model_max_budget = '{"gpt-b": {"budget_limit": 1, "time_period": "1d"}}'` });
    await expectOk(chat(key.key));
    await expectOk(chat(key.key));
    await expectRefused(() => chat(key.key), `LiteLLM Virtual Key: ${key.token}, key_alias: per-model, exceeded budget for model=gpt-b`);
    await expectOk(chat(key.key, 'gpt-c'));
    await budgets.flush();
    const [row] = await sql<{ spend: number; model_spend: Record<string, number> }>(`SELECT spend, model_spend FROM virtual_keys WHERE token = $1`, [key.token]);
    expect(row).toEqual({ spend: 3, model_spend: { 'gpt-b': 2, 'gpt-c': 1 } });

    const teamId = await newTeam(`model_max_budget = '{"gpt-c": {"budget_limit": 0.5}}'`);
    const teamKey = await newKey({ teamId });
    await expectOk(chat(teamKey.key, 'gpt-c'));
    await expectRefused(() => chat(teamKey.key, 'gpt-c'), new RegExp(`^LiteLLM Team: ${teamId}, .*exceeded budget for model=gpt-c$`));
    await expectOk(chat(teamKey.key, 'gpt-b'));

    const userId = await newUser(`model_max_budget = '{"gpt-b": {"max_budget": 0.5}}'`);
    const userKey = await newKey({ userId });
    await expectOk(chat(userKey.key));
    await expectRefused(() => chat(userKey.key), `LiteLLM User: ${userId}, exceeded budget for model=gpt-b`);
  });

  it('soft_budget: one warning naming the key by alias and hash prefix (never the key) and one metric count per crossing; calls go on', async () => {
    const { key, token } = await newKey({ alias: 'soft-key', limits: 'soft_budget = 1.5' });
    const warnings = () => log.text().split('\n').filter((line) => line.includes('soft budget crossed') && line.includes('soft-key'));
    await expectOk(chat(key));
    expect(warnings()).toHaveLength(0);
    await expectOk(chat(key));
    await expectOk(chat(key));
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain(`(hash ${token.slice(0, 8)}…)`);
    expect(log.text()).not.toContain(key);
    const metrics = await gw.http().get('/metrics').set('Authorization', `Bearer ${gw.masterKey}`);
    expect(metrics.text).toMatch(/gatehouse_soft_budget_crossed_total\{entity="key"\} 1\b/);
    expect(metrics.text).toMatch(/gatehouse_budget_exceeded_total\{entity="key"\} [1-9]/);
  });

  it('budget_duration: when the (injected) clock passes budget_reset_at, spend goes back to 0 and the reset moves to the next period', async () => {
    const resetAt = new Date(clock.now() + 3_600_000);
    const { key, token } = await newKey({ limits: `max_budget = 1, budget_duration = '1d', budget_reset_at = '${resetAt.toISOString()}'` });
    await expectOk(chat(key));
    await expectRefused(() => chat(key), 'Budget has been exceeded! Current cost: 1, Max budget: 1');
    await budgets.flush();
    expect(await spendOf('virtual_keys', 'token', token)).toBe(1);

    clock.offsetMs += 2 * 3_600_000;
    const movedTo = nextBudgetReset('1d', new Date(clock.now()));
    await waitFor('the reset job to run on the clock', async () => (await spendOf('virtual_keys', 'token', token)) === 0, 5_000);
    const [row] = await sql<{ budget_reset_at: Date }>(`SELECT budget_reset_at FROM virtual_keys WHERE token = $1`, [token]);
    expect(row.budget_reset_at.getTime()).toBe(movedTo.getTime());
    // The instance that ran the job sees it at once; others within a flush cycle (the same wait covers both).
    await waitFor('the key to be served again', async () => (await chat(key)).status === 200, 2_000);
    await expectRefused(() => chat(key), 'Budget has been exceeded! Current cost: 1, Max budget: 1');
  });

  it("model_max_budget's time_period: each model's spend is cleared when its own period ends", async () => {
    const { key, token } = await newKey({ limits: `model_max_budget = '{"gpt-b": {"budget_limit": 0.5, "time_period": "1d"}}'` });
    const periodOf = async () => (await sql<{ r: Record<string, string> }>(`SELECT model_budget_reset_at AS r FROM virtual_keys WHERE token = $1`, [token]))[0].r;
    await waitFor('the first period to start', async () => (await periodOf())['gpt-b'] !== undefined, 5_000);
    expect(Date.parse((await periodOf())['gpt-b'])).toBe(nextBudgetReset('1d', new Date(clock.now())).getTime());
    await expectOk(chat(key));
    await expectOk(chat(key, 'gpt-c'));
    await expectRefused(() => chat(key), /exceeded budget for model=gpt-b$/);
    await budgets.flush();

    clock.offsetMs += DAY_MS + 60_000;
    await waitFor('gpt-b spend to be cleared', async () => {
      const [row] = await sql<{ model_spend: Record<string, number> }>(`SELECT model_spend FROM virtual_keys WHERE token = $1`, [token]);
      return row.model_spend['gpt-b'] === undefined;
    }, 5_000);
    const [row] = await sql<{ spend: number; model_spend: Record<string, number> }>(`SELECT spend, model_spend FROM virtual_keys WHERE token = $1`, [token]);
    // The key's own spend and the other models' are untouched.
    expect(row).toEqual({ spend: 2, model_spend: { 'gpt-c': 1 } });
    await expectOk(chat(key));
  });

  it('spend written by another instance (here: straight to the database) is seen within a couple of flush cycles', async () => {
    const { key, token } = await newKey({ limits: 'max_budget = 5' });
    await expectOk(chat(key));
    await sql(`UPDATE virtual_keys SET spend = spend + 10 WHERE token = $1`, [token]);
    await waitFor('the re-read to see the other spend', async () => (await chat(key)).status === 400, 3_000);
    expect(upstream.count).toBeGreaterThan(0);
  });

  it('pendingSpend exposes what is filed but not yet written; /key/info shows both at once', async () => {
    const { key, token } = await newKey();
    await budgets.flush();
    await expectOk(chat(key));
    // Either still pending or already written: together they are the call's cost.
    const pending = budgets.pendingSpend('key', token);
    const written = (await spendOf('virtual_keys', 'token', token)) ?? 0;
    expect([pending + written, pending + written - COST]).toContain(COST);
    const info = await gw.http().get('/key/info').set('Authorization', `Bearer ${key}`).expect(200);
    expect((info.body as { info: { spend: number } }).info.spend).toBe(COST);
    await budgets.flush();
    expect(budgets.pendingSpend('key', token)).toBe(0);
    expect(await spendOf('virtual_keys', 'token', token)).toBe(COST);
  });
});
