import { Clock } from '../../src/common/clock';
import { decryptSecretVars, SecretBox } from '../../src/common/secret-box';
import { entryPlace, keyOwner } from '../../src/logging/logging-entry';
import { errorOf } from '../support/api-responses';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * LiteLLM's key management API, field by field: what `/key/generate` and `/key/update` accept (budget and limit
 * columns, LiteLLM fields stored and named in `warnings`, `null` as absent), `/key/info`, `/key/list` filters,
 * `/key/block`, `/key/regenerate`, LiteLLM's model access errors, and our own versions of the checks of LiteLLM's
 * tests/test_keys.py.
 */
const CONFIG = `
model_list:
  - model_name: gpt-4
    litellm_params:
      model: mock/gpt-4
  - model_name: gpt-3.5-turbo
    litellm_params:
      model: mock/gpt-3.5-turbo
  - model_name: good-model
    litellm_params:
      model: mock/good-model
`;

/** Wednesday 2026-03-11 13:47:29.500 UTC, moved by the tests that need it. */
class FixedClock extends Clock {
  at = Date.parse('2026-03-11T13:47:29.500Z');
  override now(): number {
    return this.at;
  }
}

interface KeyJson {
  key: string;
  token: string;
  token_id: string;
  key_name: string;
  key_alias: string | null;
  team_id: string | null;
  user_id: string | null;
  metadata: Record<string, unknown>;
  models: string[];
  blocked: boolean;
  spend: number;
  max_budget: number | null;
  soft_budget: number | null;
  budget_duration: string | null;
  budget_reset_at: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  model_max_budget: Record<string, unknown>;
  model_rpm_limit: Record<string, number>;
  model_tpm_limit: Record<string, number>;
  created_at: string | null;
  updated_at: string | null;
  warnings?: string[];
  [field: string]: unknown;
}

describe('LiteLLM key management API', () => {
  let gw: TestApp;
  const clock = new FixedClock();
  const admin = () => ({ Authorization: `Bearer ${gw.masterKey}` });
  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

  beforeAll(async () => {
    gw = await createTestApp({ configYaml: CONFIG, override: (builder) => builder.overrideProvider(Clock).useValue(clock) });
  });
  afterAll(async () => {
    await gw.close();
  });

  async function generate(body: Record<string, unknown>, auth = admin()): Promise<KeyJson> {
    const res = await gw.http().post('/key/generate').set(auth).send(body);
    if (res.status !== 200) throw new Error(`generate ${res.status}: ${res.text}`);
    return res.body as KeyJson;
  }
  const info = async (key: string, auth = admin()) => ((await gw.http().get('/key/info').query({ key }).set(auth).expect(200)).body as { info: KeyJson }).info;
  const keyCount = async () => (await gw.dataSource.query<{ count: number }[]>('SELECT count(*)::int AS count FROM virtual_keys'))[0].count;
  const chat = (key: string, model: string) =>
    gw.http().post('/v1/chat/completions').set(bearer(key)).send({ model, messages: [{ role: 'user', content: 'Hi' }] });

  describe('/key/generate', () => {
    it('stores and returns every budget and limit field under LiteLLM’s names, with token_id and the standardized reset time', async () => {
      const generated = await generate({
        key_alias: 'budgeted',
        max_budget: 10,
        soft_budget: 8,
        budget_duration: '1d',
        rpm_limit: 60,
        tpm_limit: 100000,
        max_parallel_requests: 4,
        model_max_budget: { 'gpt-4': { budget_limit: 0.5, time_period: '1d' }, 'gpt-3.5-turbo': { max_budget: '2', budget_duration: '7d' } },
        model_rpm_limit: { 'gpt-4': 10 },
        model_tpm_limit: { 'gpt-4': 1000 },
        spend: 1.5,
      });
      expect(generated).toMatchObject({
        key_alias: 'budgeted',
        max_budget: 10,
        soft_budget: 8,
        budget_duration: '1d',
        budget_reset_at: '2026-03-12T00:00:00.000Z',
        rpm_limit: 60,
        tpm_limit: 100000,
        max_parallel_requests: 4,
        model_max_budget: { 'gpt-4': { budget_limit: 0.5, time_period: '1d' }, 'gpt-3.5-turbo': { budget_limit: 2, time_period: '7d' } },
        model_rpm_limit: { 'gpt-4': 10 },
        model_tpm_limit: { 'gpt-4': 1000 },
        spend: 1.5,
        metadata: { model_rpm_limit: { 'gpt-4': 10 }, model_tpm_limit: { 'gpt-4': 1000 } },
      });
      expect(generated.warnings).toBeUndefined();
      // test_simple_key_gen: token is not the key; token_id, created_at, updated_at are set.
      expect(generated.token).not.toBe(generated.key);
      expect(generated.token_id).toBe(generated.token);
      expect(generated.created_at).not.toBeNull();
      expect(generated.updated_at).not.toBeNull();
      const [row] = await gw.dataSource.query<Record<string, unknown>[]>(
        'SELECT max_budget, rpm_limit, model_rpm_limit, metadata, budget_reset_at FROM virtual_keys WHERE token = $1',
        [generated.token],
      );
      expect(row).toMatchObject({ max_budget: 10, rpm_limit: 60, model_rpm_limit: { 'gpt-4': 10 }, metadata: {} });
      expect((await info(generated.key)).spend).toBe(1.5);
    });

    it('reads model_rpm_limit / model_tpm_limit from metadata too (where LiteLLM keeps them) into their columns', async () => {
      const generated = await generate({ metadata: { team: 'x', model_rpm_limit: { 'gpt-4': 3 }, model_tpm_limit: { 'gpt-4': 30 } } });
      expect(generated.model_rpm_limit).toEqual({ 'gpt-4': 3 });
      expect(generated.model_tpm_limit).toEqual({ 'gpt-4': 30 });
      const [row] = await gw.dataSource.query<{ metadata: unknown }[]>('SELECT metadata FROM virtual_keys WHERE token = $1', [generated.token]);
      expect(row.metadata).toEqual({ team: 'x' });
    });

    it('takes null as absent for every LiteLLM field (LiteLLM’s clients send them)', async () => {
      const nulls = Object.fromEntries(
        ['key_alias', 'duration', 'max_budget', 'soft_budget', 'budget_duration', 'rpm_limit', 'tpm_limit', 'max_parallel_requests', 'user_id', 'team_id',
          'model_max_budget', 'model_rpm_limit', 'model_tpm_limit', 'aliases', 'config', 'permissions', 'tags', 'guardrails', 'allowed_cache_controls',
          'object_permission', 'enforced_params', 'budget_id', 'organization_id', 'key_type', 'allowed_routes', 'metadata', 'spend', 'blocked'].map((name) => [name, null]),
      );
      const generated = await generate(nulls);
      expect(generated).toMatchObject({ max_budget: null, rpm_limit: null, key_alias: null, team_id: null, user_id: null, spend: 0, metadata: {} });
      expect(generated.warnings).toBeUndefined();
    });

    it('stores LiteLLM fields it does not enforce, returns them, and names each once in warnings', async () => {
      const generated = await generate({
        aliases: { 'my-gpt': 'gpt-4' },
        tags: ['prod'],
        guardrails: ['pii'],
        config: {},
        allowed_cache_controls: [],
        organization_id: 'org-1',
        key_type: 'llm_api',
      });
      expect(generated.warnings).toEqual(expect.arrayContaining([
        'aliases is stored but not enforced by Gatehouse',
        'tags is stored but not enforced by Gatehouse',
        'guardrails is stored but not enforced by Gatehouse',
        'organization_id is stored but not enforced by Gatehouse',
        'key_type is stored but not enforced by Gatehouse',
      ]));
      expect(generated.warnings).toHaveLength(5); // empty config and allowed_cache_controls: nothing to warn about
      const stored = await info(generated.key);
      expect(stored).toMatchObject({ aliases: { 'my-gpt': 'gpt-4' }, tags: ['prod'], organization_id: 'org-1', config: {} });
      expect(stored.warnings).toBeUndefined();
    });

    it.each([
      ['a field LiteLLM does not have', { max_budgett: 1 }, 'unrecognized_field', 'max_budgett'],
      ['a negative max_budget', { max_budget: -1 }, 'validation_failed', 'max_budget'],
      ['a negative soft_budget', { soft_budget: -0.5 }, 'validation_failed', 'soft_budget'],
      ['a budget as text', { max_budget: 'ten' }, 'validation_failed', 'max_budget'],
      ['a bad budget_duration', { budget_duration: '30 days' }, 'validation_failed', 'budget_duration'],
      ['two months', { budget_duration: '2mo' }, 'validation_failed', 'budget_duration'],
      ['a fractional rpm_limit', { rpm_limit: 1.5 }, 'validation_failed', 'rpm_limit'],
      ['a negative tpm_limit', { tpm_limit: -1 }, 'validation_failed', 'tpm_limit'],
      ['max_parallel_requests as text', { max_parallel_requests: '2' }, 'validation_failed', 'max_parallel_requests'],
      ['a bare number per model', { model_max_budget: { 'gpt-4': 5 } }, 'validation_failed', 'model_max_budget.gpt-4'],
      ['a negative model budget', { model_max_budget: { 'gpt-4': { budget_limit: -1 } } }, 'validation_failed', 'model_max_budget.gpt-4.budget_limit'],
      ['a bad model period', { model_max_budget: { 'gpt-4': { budget_limit: 1, time_period: 'daily' } } }, 'validation_failed', 'model_max_budget.gpt-4.time_period'],
      ['an unknown model budget field', { model_max_budget: { 'gpt-4': { limit: 1 } } }, 'unrecognized_field', 'model_max_budget.gpt-4.limit'],
      ['a model rpm as text', { model_rpm_limit: { 'gpt-4': 'ten' } }, 'validation_failed', 'model_rpm_limit.gpt-4'],
      ['a model tpm in metadata as text', { metadata: { model_tpm_limit: { 'gpt-4': 'x' } } }, 'validation_failed', 'metadata.model_tpm_limit.gpt-4'],
      ['tags not a list', { tags: 'prod' }, 'validation_failed', 'tags'],
      ['aliases not an object', { aliases: ['x'] }, 'validation_failed', 'aliases'],
      ['a key without sk-', { key: 'abcdefghijklmnop' }, 'validation_failed', 'key'],
    ])('%s → 400 naming the field, nothing stored', async (_name, body, code, param) => {
      const before = await keyCount();
      const res = await gw.http().post('/key/generate').set(admin()).send(body).expect(400);
      expect(errorOf(res)).toMatchObject({ code, param });
      expect(await keyCount()).toBe(before);
    });

    it('LiteLLM’s wording for a negative budget and a key without sk-', async () => {
      expect(errorOf(await gw.http().post('/key/generate').set(admin()).send({ max_budget: -2 }).expect(400)).message).toBe('max_budget cannot be negative. Received: -2');
      expect(errorOf(await gw.http().post('/key/generate').set(admin()).send({ key: 'abcd1234567wxyz' }).expect(400)).message).toBe(
        "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: abcd****wxyz",
      );
    });

    it('takes a key of one’s own (sk-…), and refuses it twice and a duplicate alias', async () => {
      const chosen = await generate({ key: 'sk-my-own-chosen-key-0001', key_alias: 'chosen' });
      expect(chosen.key).toBe('sk-my-own-chosen-key-0001');
      await gw.http().get('/key/info').set(bearer(chosen.key)).expect(200);
      await gw.http().post('/key/generate').set(admin()).send({ key: 'sk-my-own-chosen-key-0001' }).expect(400);
      const duplicate = await gw.http().post('/key/generate').set(admin()).send({ key_alias: 'chosen' }).expect(400);
      expect(errorOf(duplicate).message).toBe("Key with alias 'chosen' already exists. Unique key aliases across all keys are required.");
    });

    it('user_id creates the user when absent (LiteLLM), and a key for an unknown user can still call models', async () => {
      const generated = await generate({ user_id: 'fresh-user@example.com' });
      expect(generated.user_id).toBe('fresh-user@example.com');
      const [user] = await gw.dataSource.query<{ user_id: string }[]>('SELECT user_id FROM users WHERE user_id = $1', ['fresh-user@example.com']);
      expect(user).toBeDefined();
      expect((await chat(generated.key, 'gpt-4')).status).toBe(200);
    });

    it('10 keys generated at once all succeed (test_key_gen)', async () => {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => gw.http().post('/key/generate').set(admin()).send({ key_alias: `parallel-${index}` })));
      expect(answers.map((res) => res.status)).toEqual(Array(10).fill(200));
    });

    it('spend is the proxy admin’s to set; a team admin may set budgets on its own team’s keys', async () => {
      await gw.http().post('/team/new').set(admin()).send({ team_id: 'spend-team' }).expect(200);
      const teamAdmin = (await generate({ team_id: 'spend-team', role: 'team_admin' })).key;
      const res = await gw.http().post('/key/generate').set(bearer(teamAdmin)).send({ spend: 5 }).expect(403);
      expect(errorOf(res).param).toBe('spend');
      const capped = (await gw.http().post('/key/generate').set(bearer(teamAdmin)).send({ max_budget: 2 }).expect(200)).body as KeyJson;
      expect(capped).toMatchObject({ team_id: 'spend-team', max_budget: 2 });
    });
  });

  describe('/key/update', () => {
    it('changes the given fields; null clears a budget or limit, null for anything else leaves it', async () => {
      const generated = await generate({ key_alias: 'to-update', max_budget: 5, rpm_limit: 10, budget_duration: '1h', tags: ['a'], metadata: { test: 'test' } });
      expect(generated.metadata).toEqual({ test: 'test' });
      clock.at = Date.parse('2026-03-11T14:10:00.000Z');
      const updated = (await gw.http().post('/key/update').set(admin()).send({
        key: generated.key,
        max_budget: null,
        rpm_limit: 20,
        budget_duration: '30m',
        key_alias: null,
        tags: null,
        guardrails: ['g'],
        metadata: { test: 'new' },
      }).expect(200)).body as KeyJson;
      expect(updated).toMatchObject({
        max_budget: null,
        rpm_limit: 20,
        budget_duration: '30m',
        budget_reset_at: '2026-03-11T14:30:00.000Z',
        key_alias: 'to-update',
        tags: ['a'],
        guardrails: ['g'],
        metadata: { test: 'new' },
        warnings: ['guardrails is stored but not enforced by Gatehouse'],
      });
      // test_key_update: an empty metadata replaces it with exactly that.
      const emptied = (await gw.http().post('/key/update').set(admin()).send({ key: generated.key, metadata: {} }).expect(200)).body as KeyJson;
      expect(emptied.metadata).toEqual({});
      const cleared = (await gw.http().post('/key/update').set(admin()).send({ key: generated.token, budget_duration: null, model_rpm_limit: { 'gpt-4': 1 } }).expect(200)).body as KeyJson;
      expect(cleared).toMatchObject({ budget_duration: null, budget_reset_at: null, model_rpm_limit: { 'gpt-4': 1 } });
    });

    it('temp_budget_increase and temp_budget_expiry go together', async () => {
      const generated = await generate({});
      const res = await gw.http().post('/key/update').set(admin()).send({ key: generated.key, temp_budget_increase: 10 }).expect(400);
      expect(errorOf(res).message).toBe('temp_budget_increase and temp_budget_expiry must be set together');
    });

    it('refuses bad values without changing anything', async () => {
      const generated = await generate({ max_budget: 3 });
      await gw.http().post('/key/update').set(admin()).send({ key: generated.key, max_budget: -3, rpm_limit: 5 }).expect(400);
      expect(await info(generated.key)).toMatchObject({ max_budget: 3, rpm_limit: null });
    });
  });

  describe('/key/info and /key/list', () => {
    it('an unknown key is a 404 in LiteLLM’s words, for the admin and for a key (test_key_info)', async () => {
      const own = await generate({});
      for (const auth of [admin(), bearer(own.key)]) {
        const res = await gw.http().get('/key/info').query({ key: 'sk-00000000-0000-4000-8000-000000000000' }).set(auth).expect(404);
        expect(errorOf(res)).toMatchObject({ message: 'Key not found in database', type: 'not_found_error', param: 'key' });
      }
      await gw.http().get('/key/info').query({ key: own.key }).set(admin()).expect(200);
      await gw.http().get('/key/info').query({ key: own.key }).set(bearer(own.key)).expect(200);
      const self = (await gw.http().get('/key/info').set(bearer(own.key)).expect(200)).body as { info: KeyJson };
      expect(self.info).toMatchObject({ spend: 0, max_budget: null });
    });

    it('a key of a user reads the user’s other keys, not another user’s', async () => {
      const mine = await generate({ user_id: 'reader' });
      const alsoMine = await generate({ user_id: 'reader' });
      const theirs = await generate({ user_id: 'someone-else' });
      await gw.http().get('/key/info').query({ key: alsoMine.token }).set(bearer(mine.key)).expect(200);
      await gw.http().get('/key/info').query({ key: theirs.token }).set(bearer(mine.key)).expect(403);
    });

    it('filters by user_id, key_alias and key_hash; pages and sorts as LiteLLM does', async () => {
      for (const [index, budget] of [3, 1, 2].entries()) await generate({ user_id: 'lister', key_alias: `list-${index}`, max_budget: budget });
      const byUser = (await gw.http().get('/key/list').query({ user_id: 'lister', return_full_object: 'true', sort_by: 'max_budget', sort_order: 'asc' }).set(admin()).expect(200)).body as { keys: KeyJson[]; total_count: number };
      expect(byUser.total_count).toBe(3);
      expect(byUser.keys.map((key) => key.max_budget)).toEqual([1, 2, 3]);
      const paged = (await gw.http().get('/key/list').query({ user_id: 'lister', page: 2, size: 2 }).set(admin()).expect(200)).body as { keys: string[]; current_page: number; total_pages: number };
      expect(paged).toMatchObject({ current_page: 2, total_pages: 2 });
      expect(paged.keys).toHaveLength(1);
      const byAlias = (await gw.http().get('/key/list').query({ key_alias: 'list-1', return_full_object: 'true' }).set(admin()).expect(200)).body as { keys: KeyJson[] };
      expect(byAlias.keys.map((key) => key.max_budget)).toEqual([1]);
      const byHash = (await gw.http().get('/key/list').query({ key_hash: byAlias.keys[0].token }).set(admin()).expect(200)).body as { keys: string[] };
      expect(byHash.keys).toEqual([byAlias.keys[0].token]);
      await gw.http().get('/key/list').query({ sort_by: 'nope' }).set(admin()).expect(400);
      expect(((await gw.http().get('/key/list').query({ status: 'deleted' }).set(admin()).expect(200)).body as { keys: unknown[] }).keys).toEqual([]);
    });

    it('/key/delete takes key_aliases too (test_key_delete)', async () => {
      const doomed = await generate({ key_alias: 'delete-me' });
      await gw.http().post('/key/delete').set(admin()).send({ key_aliases: ['delete-me'] }).expect(200, { deleted_keys: ['delete-me'] });
      await gw.http().get('/key/info').set(bearer(doomed.key)).expect(401);
      await gw.http().post('/key/delete').set(admin()).send({}).expect(400);
    });
  });

  describe('/key/block, /key/unblock, /key/regenerate', () => {
    it('a blocked key is refused at once and works again once unblocked; only the proxy admin blocks; both are audited', async () => {
      const generated = await generate({ key_alias: 'blockable' });
      expect((await chat(generated.key, 'gpt-4')).status).toBe(200);
      const blocked = (await gw.http().post('/key/block').set(admin()).send({ key: generated.key }).expect(200)).body as KeyJson;
      expect(blocked).toMatchObject({ token: generated.token, blocked: true });
      expect(JSON.stringify(blocked)).not.toContain(generated.key);
      expect(errorOf(await chat(generated.key, 'gpt-4')).code).toBe('key_blocked');
      await gw.http().post('/key/unblock').set(admin()).send({ key: generated.token }).expect(200);
      expect((await chat(generated.key, 'gpt-4')).status).toBe(200);
      await gw.http().post('/key/block').set(bearer(generated.key)).send({ key: generated.key }).expect(403);
      await gw.http().post('/key/block').set(admin()).send({ key: 'sk-unknown-unknown-unknown' }).expect(404);
      const actions = await gw.dataSource.query<{ action: string }[]>(`SELECT action FROM audit_log WHERE object_id = $1 ORDER BY updated_at`, [generated.key_name]);
      expect(actions.map((row) => row.action)).toEqual(['key_created', 'key_blocked', 'key_unblocked']);
    });

    it('regenerate: a new secret with the same settings; the old one stops at once; logging secrets sealed for the new token; owned responses move', async () => {
      await gw.http().post('/team/new').set(admin()).send({ team_id: 'regen-team', models: ['gpt-4', 'gpt-3.5-turbo'] }).expect(200);
      const logging = [{ callback_name: 'langfuse', callback_type: 'success', callback_vars: { langfuse_public_key: 'pk-lf-regen', langfuse_secret_key: 'sk-lf-regen', langfuse_host: 'https://cloud.langfuse.com' } }];
      const old = await generate({ team_id: 'regen-team', key_alias: 'regen', models: ['gpt-4'], max_budget: 7, rpm_limit: 9, tags: ['t'], metadata: { owner: 'o', logging } });
      expect((await chat(old.key, 'gpt-4')).status).toBe(200);
      await gw.dataSource.query(`INSERT INTO response_owner (id, model_id, model, key_hash, team_id) VALUES ('resp_regen', 'm', 'gpt-4', $1, 'regen-team')`, [old.token]);

      const fresh = (await gw.http().post('/key/regenerate').set(admin()).send({ key: old.key }).expect(200)).body as KeyJson;
      expect(fresh.key).not.toBe(old.key);
      expect(fresh.token_id).toBe(fresh.token);
      expect(fresh.token).not.toBe(old.token);
      expect(fresh.key_name).toBe(`sk-...${fresh.key.slice(-4)}`);
      expect(fresh).toMatchObject({ key_alias: 'regen', team_id: 'regen-team', models: ['gpt-4'], max_budget: 7, rpm_limit: 9, tags: ['t'], created_at: old.created_at });
      expect(fresh.metadata).toMatchObject({ owner: 'o', logging: [{ callback_name: 'langfuse', callback_vars: { langfuse_secret_key: '***REDACTED***' } }] });

      expect(errorOf(await chat(old.key, 'gpt-4')).code).toBe('invalid_api_key');
      expect((await chat(fresh.key, 'gpt-4')).status).toBe(200);
      const [owner] = await gw.dataSource.query<{ key_hash: string }[]>(`SELECT key_hash FROM response_owner WHERE id = 'resp_regen'`);
      expect(owner.key_hash).toBe(fresh.token);

      const [row] = await gw.dataSource.query<{ metadata: { logging: { entry_id: string; callback_vars: Record<string, string> }[] } }[]>(
        'SELECT metadata FROM virtual_keys WHERE token = $1',
        [fresh.token],
      );
      const entry = row.metadata.logging[0];
      const secrets = gw.app.get(SecretBox);
      expect(decryptSecretVars(secrets, entry.callback_vars, entryPlace(keyOwner(fresh.token), entry.entry_id))).toMatchObject({ langfuse_secret_key: 'sk-lf-regen' });
      expect(() => decryptSecretVars(secrets, entry.callback_vars, entryPlace(keyOwner(old.token), entry.entry_id))).toThrow();

      // By path, with a field changed and a grace period LiteLLM's premium build honours: refused at once here, and said so.
      const again = (await gw.http().post(`/key/${fresh.token}/regenerate`).set(admin()).send({ max_budget: 8, grace_period: '24h' }).expect(200)).body as KeyJson;
      expect(again).toMatchObject({ max_budget: 8, key_alias: 'regen', warnings: ['grace_period is not supported: the old key stopped working at once'] });
      await gw.http().get('/key/info').set(bearer(fresh.key)).expect(401);
      const actions = await gw.dataSource.query<{ action: string }[]>(`SELECT action FROM audit_log WHERE action = 'key_regenerated' AND team_id = 'regen-team'`);
      expect(actions).toHaveLength(2);
    });

    it('regenerate: no key → 400 "No key passed in.", a chosen new_key without sk- → 400; a plain key may not regenerate', async () => {
      expect(errorOf(await gw.http().post('/key/regenerate').set(admin()).send({}).expect(400)).message).toBe('No key passed in.');
      const generated = await generate({});
      expect(errorOf(await gw.http().post('/key/regenerate').set(admin()).send({ key: generated.key, new_key: 'not-an-sk-key-at-all' }).expect(400)).param).toBe('new_key');
      const chosen = (await gw.http().post('/key/regenerate').set(admin()).send({ key: generated.key, new_key: 'sk-chosen-by-the-admin-01' }).expect(200)).body as KeyJson;
      expect(chosen.key).toBe('sk-chosen-by-the-admin-01');
      await gw.http().post('/key/regenerate').set(bearer(chosen.key)).send({ key: chosen.key }).expect(403);
    });
  });

  describe('model access: LiteLLM’s 401 and types', () => {
    it('the key’s list → key_model_access_denied, the team’s → team_model_access_denied, the user’s → user_model_access_denied', async () => {
      const keyLimited = await generate({ models: ['gpt-4'] });
      const denied = await chat(keyLimited.key, 'gpt-3.5-turbo');
      expect(denied.status).toBe(401);
      expect(errorOf(denied)).toEqual({
        message: "key not allowed to access model. This key can only access models=['gpt-4']. Tried to access gpt-3.5-turbo",
        type: 'key_model_access_denied',
        param: 'model',
        code: 'key_model_access_denied',
      });

      await gw.http().post('/team/new').set(admin()).send({ team_id: 'narrow-team', models: ['gpt-4'] }).expect(200);
      const teamKey = await generate({ team_id: 'narrow-team' });
      const teamDenied = await chat(teamKey.key, 'gpt-3.5-turbo');
      expect([teamDenied.status, errorOf(teamDenied).type]).toEqual([401, 'team_model_access_denied']);
      expect((await chat(teamKey.key, 'gpt-4')).status).toBe(200);

      // test_user_model_access: the user's models apply to its personal keys (models []).
      await gw.http().post('/user/new').set(admin()).send({ user_id: 'model-user', models: ['good-model', 'anthropic/*'], auto_create_key: false }).expect(200);
      const userKey = await generate({ user_id: 'model-user' });
      expect(userKey.models).toEqual([]);
      expect((await chat(userKey.key, 'good-model')).status).toBe(200);
      const userDenied = await chat(userKey.key, 'gpt-4');
      expect([userDenied.status, errorOf(userDenied).type]).toEqual([401, 'user_model_access_denied']);

      // /v1/models/{id}: the same answer for "missing" and "not yours".
      const hidden = await gw.http().get('/v1/models/gpt-3.5-turbo').set(bearer(keyLimited.key));
      const missing = await gw.http().get('/v1/models/no-such-model').set(bearer(keyLimited.key));
      expect(hidden.status).toBe(missing.status);
      expect(errorOf(hidden).code).toBe(errorOf(missing).code);
    });
  });

  describe('LiteLLM’s user isolation (test_users.py)', () => {
    it('a key may not move a key to another user, nor delete another user’s key, nor generate keys', async () => {
      const user1 = await generate({ user_id: 'iso-user-1' });
      const user2 = await generate({ user_id: 'iso-user-2' });
      await gw.http().post('/key/update').set(bearer(user1.key)).send({ key: user1.key, user_id: 'iso-user-2' }).expect(403);
      await gw.http().post('/key/delete').set(bearer(user2.key)).send({ keys: [user1.key] }).expect(403);
      // test_key_gen_bad_key: a key made for a user cannot make keys.
      await gw.http().post('/key/generate').set(bearer(user1.key)).send({}).expect(403);
    });
  });
});
