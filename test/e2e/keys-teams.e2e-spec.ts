import { createHash } from 'node:crypto';
import { errorOf, type GeneratedKeyJson, type KeyInfoJson, type NewTeamJson, type TeamInfoJson, type DataJson } from '../support/api-responses';
import { createTestApp, type TestApp } from '../support/test-app';

const SEED_CONFIG = `
litellm_settings:
  default_team_settings:
    - team_id: my-secret-project
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/LANGFUSE_PUB_KEY_1
      langfuse_secret: os.environ/LANGFUSE_PRIVATE_KEY_1
    - team_id: ishaans-secret-project
      success_callback: ["langfuse"]
      langfuse_public_key: os.environ/LANGFUSE_PUB_KEY_2
      langfuse_secret: os.environ/LANGFUSE_SECRET_2
`;

/** Answers only these tests read (the shared ones are in api-responses.ts). */
interface KeyListResponse {
  keys: { team_id: string }[];
}
interface KeyUpdateResponse {
  metadata: unknown;
}

describe('keys and teams (LiteLLM-compatible routes)', () => {
  let gw: TestApp;
  const admin = () => ({ Authorization: `Bearer ${gw.masterKey}` });
  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

  beforeAll(async () => {
    gw = await createTestApp({ configYaml: SEED_CONFIG });
  });
  afterAll(async () => {
    await gw.close();
  });

  async function newKey(body: Record<string, unknown>, auth = admin()): Promise<string> {
    const res = await gw.http().post('/key/generate').set(auth).send(body).expect(200);
    return (res.body as GeneratedKeyJson).key;
  }

  it('generates a key for a config team exactly as the seed shows, shown once and stored only as its SHA-256', async () => {
    const res = await gw.http().post('/key/generate').set(admin()).set('Content-Type', 'application/json').send('{"team_id": "ishaans-secret-project"}').expect(200);
    const generated = res.body as GeneratedKeyJson;
    const key: string = generated.key;
    expect(key).toMatch(/^sk-[A-Za-z0-9_-]{43}$/); // 256 random bits
    expect(generated.team_id).toBe('ishaans-secret-project');
    expect(generated.token).toBe(createHash('sha256').update(key).digest('hex'));

    const rows: Record<string, unknown>[] = await gw.dataSource.query('SELECT * FROM virtual_keys');
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain(key.slice(3, 20));

    const info = await gw.http().get('/key/info').set(bearer(key)).expect(200);
    expect((info.body as KeyInfoJson).info.team_id).toBe('ishaans-secret-project');
    expect(JSON.stringify(info.body)).not.toContain(key);
    const list = await gw.http().get('/key/list').set(admin()).expect(200);
    expect(JSON.stringify(list.body)).not.toContain(key);
  });

  it('creates, reads, lists, updates and deletes teams', async () => {
    const created = await gw.http().post('/team/new').set(admin()).send({ team_alias: 'alpha', metadata: { owner: 'x' } }).expect(200);
    const teamId: string = (created.body as NewTeamJson).team_id;
    expect(teamId).toMatch(/^[0-9a-f-]{36}$/);
    await gw.http().post('/team/new').set(admin()).send({ team_id: 'beta-team', models: ['gpt-4'] }).expect(200);
    await gw.http().post('/team/new').set(admin()).send({ team_id: 'beta-team' }).expect(409);

    const info = await gw.http().get('/team/info').query({ team_id: teamId }).set(admin()).expect(200);
    expect((info.body as TeamInfoJson).team_info).toMatchObject({ team_id: teamId, team_alias: 'alpha', metadata: { owner: 'x' } });

    const list = await gw.http().get('/team/list').set(admin()).expect(200);
    const ids = (list.body as { team_id: string }[]).map((team) => team.team_id);
    expect(ids).toEqual(expect.arrayContaining([teamId, 'beta-team', 'my-secret-project', 'ishaans-secret-project']));

    const updated = await gw.http().post('/team/update').set(admin()).send({ team_id: teamId, team_alias: 'alpha-2' }).expect(200);
    expect(updated.body).toMatchObject({ team_id: teamId, data: { team_alias: 'alpha-2', metadata: { owner: 'x' } } });

    const key = await newKey({ team_id: teamId });
    await gw.http().get('/key/info').set(bearer(key)).expect(200);
    await gw.http().post('/team/delete').set(admin()).send({ team_ids: [teamId] }).expect(200, { deleted_teams: [teamId] });
    await gw.http().get('/team/info').query({ team_id: teamId }).set(admin()).expect(404);
    // The team's keys went with it, and the cached principal was dropped.
    await gw.http().get('/key/info').set(bearer(key)).expect(401);
    await gw.http().post('/team/delete').set(admin()).send({ team_ids: ['no-such-team'] }).expect(404);
  });

  it('keeps metadata.logging when other metadata is updated (LiteLLM #31447), on keys and teams', async () => {
    const vars = { langfuse_public_key: 'pk-lf-1', langfuse_secret_key: 'sk-lf-1', langfuse_host: 'https://cloud.langfuse.com' };
    const logging = [{ callback_name: 'langfuse', callback_type: 'success', callback_vars: vars }];
    const masked = [{ ...logging[0], callback_vars: { ...vars, langfuse_public_key: '***REDACTED***', langfuse_secret_key: '***REDACTED***' } }];
    const genRes = await gw.http().post('/key/generate').set(admin()).send({ metadata: { logging, owner: 'a' } }).expect(200);
    const gen = genRes.body as GeneratedKeyJson;
    expect(gen.metadata).toEqual({ owner: 'a', logging: masked });
    const updated = await gw.http().post('/key/update').set(admin()).send({ key: gen.key, metadata: { owner: 'b' } }).expect(200);
    expect((updated.body as KeyUpdateResponse).metadata).toEqual({ owner: 'b', logging: masked });
    const cleared = await gw.http().post('/key/update').set(admin()).send({ key: gen.token, metadata: { logging: [] } }).expect(200);
    expect((cleared.body as KeyUpdateResponse).metadata).toEqual({ logging: [] });
    const removed = await gw.http().post('/key/update').set(admin()).send({ key: gen.token, metadata: { logging: null, owner: 'c' } }).expect(200);
    expect((removed.body as KeyUpdateResponse).metadata).toEqual({ owner: 'c' });

    await gw.http().post('/team/new').set(admin()).send({ team_id: 'meta-team', metadata: { logging, tier: 1 } }).expect(200);
    const team = await gw.http().post('/team/update').set(admin()).send({ team_id: 'meta-team', metadata: { tier: 2 } }).expect(200);
    expect((team.body as DataJson<{ metadata: unknown }>).data.metadata).toEqual({ tier: 2, logging: masked });
  });

  it('refuses expired, blocked and deleted keys with 401, also when the key was cached', async () => {
    const shortLived = await newKey({ duration: '1s' });
    await gw.http().get('/key/info').set(bearer(shortLived)).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await gw.http().get('/key/info').set(bearer(shortLived)).expect(401);
    expect(errorOf(expired).code).toBe('key_expired');

    const blocked = await newKey({});
    await gw.http().get('/key/info').set(bearer(blocked)).expect(200);
    await gw.http().post('/key/update').set(admin()).send({ key: blocked, blocked: true }).expect(200);
    expect(errorOf(await gw.http().get('/key/info').set(bearer(blocked)).expect(401)).code).toBe('key_blocked');
    await gw.http().post('/key/update').set(admin()).send({ key: blocked, blocked: false }).expect(200);
    await gw.http().get('/key/info').set(bearer(blocked)).expect(200);

    const deleted = await newKey({});
    await gw.http().get('/key/info').set(bearer(deleted)).expect(200);
    await gw.http().post('/key/delete').set(admin()).send({ keys: [deleted] }).expect(200, { deleted_keys: [deleted] });
    expect(errorOf(await gw.http().get('/key/info').set(bearer(deleted)).expect(401)).code).toBe('invalid_api_key');

    await gw.http().post('/team/new').set(admin()).send({ team_id: 'blocked-team' }).expect(200);
    const teamKey = await newKey({ team_id: 'blocked-team' });
    await gw.http().get('/key/info').set(bearer(teamKey)).expect(200);
    await gw.http().post('/team/update').set(admin()).send({ team_id: 'blocked-team', blocked: true }).expect(200);
    expect(errorOf(await gw.http().get('/key/info').set(bearer(teamKey)).expect(401)).code).toBe('team_blocked');
  });

  it('never accepts the stored hash as a credential', async () => {
    const gen = (await gw.http().post('/key/generate').set(admin()).send({}).expect(200)).body as GeneratedKeyJson;
    const res = await gw.http().get('/key/info').set(bearer(gen.token)).expect(401);
    expect(errorOf(res).code).toBe('invalid_api_key');
    expect(JSON.stringify(res.body)).not.toContain(gen.token);
  });

  it('accepts x-api-key and api-key headers as LiteLLM does', async () => {
    const key = await newKey({});
    await gw.http().get('/key/info').set('x-api-key', key).expect(200);
    await gw.http().get('/key/info').set('api-key', key).expect(200);
  });

  describe('roles', () => {
    let teamAdmin: string;
    let member: string;
    let otherTeamKey: string;

    beforeAll(async () => {
      await gw.http().post('/team/new').set(admin()).send({ team_id: 'team-a', models: ['gpt-4'] }).expect(200);
      await gw.http().post('/team/new').set(admin()).send({ team_id: 'team-b' }).expect(200);
      teamAdmin = await newKey({ team_id: 'team-a', role: 'team_admin', key_alias: 'ta' });
      member = await newKey({ team_id: 'team-a', key_alias: 'ma' });
      otherTeamKey = await newKey({ team_id: 'team-b', key_alias: 'kb' });
    });

    it('a team admin manages its own team’s keys and nothing else', async () => {
      const minted = await gw.http().post('/key/generate').set(bearer(teamAdmin)).send({ key_alias: 'minted' }).expect(200);
      expect((minted.body as GeneratedKeyJson).team_id).toBe('team-a');
      await gw.http().post('/key/generate').set(bearer(teamAdmin)).send({ team_id: 'team-a', role: 'team_admin' }).expect(200);

      const foreign = await gw.http().post('/key/generate').set(bearer(teamAdmin)).send({ team_id: 'team-b' }).expect(403);
      const unknown = await gw.http().post('/key/generate').set(bearer(teamAdmin)).send({ team_id: 'does-not-exist' }).expect(403);
      expect(unknown.body).toEqual(foreign.body); // no probing of team ids

      const escalate = await gw.http().post('/key/generate').set(bearer(teamAdmin)).send({ role: 'proxy_admin' }).expect(403);
      expect(errorOf(escalate).param).toBe('role');

      const list = await gw.http().get('/key/list').set(bearer(teamAdmin)).query({ return_full_object: 'true' }).expect(200);
      expect((list.body as KeyListResponse).keys.every((key) => key.team_id === 'team-a')).toBe(true);
      await gw.http().get('/key/list').set(bearer(teamAdmin)).query({ team_id: 'team-b' }).expect(403);

      await gw.http().post('/key/update').set(bearer(teamAdmin)).send({ key: member, key_alias: 'renamed' }).expect(200);
      await gw.http().post('/key/update').set(bearer(teamAdmin)).send({ key: otherTeamKey, key_alias: 'nope' }).expect(403);
      await gw.http().post('/key/delete').set(bearer(teamAdmin)).send({ keys: [otherTeamKey] }).expect(403);
      await gw.http().get('/key/info').query({ key: otherTeamKey }).set(bearer(teamAdmin)).expect(403);
      await gw.http().get('/key/info').query({ key: member }).set(bearer(teamAdmin)).expect(200);

      await gw.http().get('/team/info').query({ team_id: 'team-a' }).set(bearer(teamAdmin)).expect(200);
      const foreignTeam = await gw.http().get('/team/info').query({ team_id: 'team-b' }).set(bearer(teamAdmin)).expect(403);
      const unknownTeam = await gw.http().get('/team/info').query({ team_id: 'nope' }).set(bearer(teamAdmin)).expect(403);
      expect(unknownTeam.body).toEqual(foreignTeam.body);
      await gw.http().post('/team/update').set(bearer(teamAdmin)).send({ team_id: 'team-a', team_alias: 'A' }).expect(200);
      await gw.http().post('/team/update').set(bearer(teamAdmin)).send({ team_id: 'team-a', models: [] }).expect(403);
      await gw.http().post('/team/update').set(bearer(teamAdmin)).send({ team_id: 'team-b', team_alias: 'B' }).expect(403);
      const teams = await gw.http().get('/team/list').set(bearer(teamAdmin)).expect(200);
      expect((teams.body as { team_id: string }[]).map((team) => team.team_id)).toEqual(['team-a']);
      await gw.http().post('/team/new').set(bearer(teamAdmin)).send({}).expect(403);
      await gw.http().post('/team/delete').set(bearer(teamAdmin)).send({ team_ids: ['team-a'] }).expect(403);
    });

    it('a plain key sees itself and its own team (LiteLLM: a team’s keys may read /team/info), without other keys’ tokens', async () => {
      const ownTeam = await gw.http().get('/team/info').query({ team_id: 'team-a' }).set(bearer(member)).expect(200);
      const info = ownTeam.body as { team_id: string; keys: Record<string, unknown>[] };
      expect(info.team_id).toBe('team-a');
      expect(info.keys.length).toBeGreaterThanOrEqual(2);
      expect(info.keys.every((key) => !('token' in key))).toBe(true);
    });

    it('a plain key sees only itself', async () => {
      const own = await gw.http().get('/key/info').set(bearer(member)).expect(200);
      expect((own.body as KeyInfoJson).info.key_alias).toBe('renamed');
      await gw.http().get('/key/info').query({ key: member }).set(bearer(member)).expect(200);
      await gw.http().get('/key/info').query({ key: teamAdmin }).set(bearer(member)).expect(403);
      for (const [method, path] of [
        ['post', '/key/generate'],
        ['post', '/key/update'],
        ['post', '/key/delete'],
        ['get', '/key/list'],
        ['get', '/team/list'],
        ['get', '/team/info?team_id=team-b'],
        ['post', '/team/new'],
        ['post', '/team/update'],
      ] as const) {
        const res = await gw.http()[method](path).set(bearer(member)).send({});
        expect([path, res.status]).toEqual([path, 403]);
        expect(errorOf(res).type).toBe('permission_error');
      }
    });

    it('a proxy_admin key may do what the master key does', async () => {
      const proxyAdmin = await newKey({ role: 'proxy_admin' });
      await gw.http().post('/team/new').set(bearer(proxyAdmin)).send({ team_id: 'made-by-proxy-admin' }).expect(200);
      await gw.http().get('/key/list').set(bearer(proxyAdmin)).expect(200);
    });
  });

  describe('bad input changes nothing', () => {
    async function teamCount(): Promise<number> {
      const [{ count }] = await gw.dataSource.query<{ count: number }[]>('SELECT count(*)::int AS count FROM teams');
      return count;
    }

    it.each([
      ['unknown field', { team_id: 'x1', max_budgett: 10 }, 'unrecognized_field', 'max_budgett'],
      ['negative budget', { team_id: 'x1', max_budget: -1 }, 'validation_failed', 'max_budget'],
      ['wrong type', { team_id: 42 }, 'validation_failed', 'team_id'],
      ['slash in id', { team_id: 'a/b' }, 'validation_failed', 'team_id'],
      ['models not a list', { models: 'gpt-4' }, 'validation_failed', 'models'],
      ['metadata not an object', { metadata: 'x' }, 'validation_failed', 'metadata'],
    ])('%s → 400 naming the field', async (_name, body, code, param) => {
      const before = await teamCount();
      const res = await gw.http().post('/team/new').set(admin()).send(body).expect(400);
      expect(res.body).toEqual({ error: { message: expect.any(String) as unknown, type: 'invalid_request_error', param, code } });
      expect(await teamCount()).toBe(before);
    });

    it('invalid JSON → 400 invalid_json', async () => {
      const res = await gw.http().post('/team/new').set(admin()).set('Content-Type', 'application/json').send('{"team_id": ').expect(400);
      expect(errorOf(res)).toMatchObject({ code: 'invalid_json', type: 'invalid_request_error' });
    });

    it('accepts the seed’s bodies as written: # comments and trailing commas', async () => {
      const res = await gw
        .http()
        .post('/key/generate')
        .set(admin())
        .set('Content-Type', 'application/json')
        .send('{\n  "key_alias": "from-docs", # a comment as in the docs\n  "models": ["gpt-4",],\n}')
        .expect(200);
      expect(res.body).toMatchObject({ key_alias: 'from-docs', models: ['gpt-4'] });
    });

    it('bad duration and unknown role → 400 naming the field', async () => {
      expect(errorOf(await gw.http().post('/key/generate').set(admin()).send({ duration: '30 days' }).expect(400)).param).toBe('duration');
      expect(errorOf(await gw.http().post('/key/generate').set(admin()).send({ role: 'god' }).expect(400)).param).toBe('role');
      expect(errorOf(await gw.http().post('/key/generate').set(admin()).send({ role: 'team_admin' }).expect(400)).param).toBe('role');
    });

    it('an unknown team for the proxy admin is a 404', async () => {
      const res = await gw.http().post('/key/generate').set(admin()).send({ team_id: 'nope' }).expect(404);
      expect(errorOf(res).type).toBe('not_found_error');
    });

    it('bad paging → 400', async () => {
      await gw.http().get('/key/list').query({ page: 0 }).set(admin()).expect(400);
      await gw.http().get('/key/list').query({ size: 'x' }).set(admin()).expect(400);
    });

    it('prototype pollution attempts are refused and harmless', async () => {
      await gw.http().post('/team/new').set(admin()).set('Content-Type', 'application/json').send('{"__proto__": {"isProxyAdmin": true}}').expect(400);
      expect(({} as Record<string, unknown>).isProxyAdmin).toBeUndefined();
    });
  });
});
