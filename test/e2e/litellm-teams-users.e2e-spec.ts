import { errorOf } from '../support/api-responses';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * LiteLLM's team and user management API: team fields and members, `/team/info` in LiteLLM's shape, team admins by
 * membership, `/team/block`, `/user/*`, and our own versions of the checks of LiteLLM's tests/test_team.py and
 * tests/test_users.py.
 */
const CONFIG = `
model_list:
  - model_name: gpt-4
    litellm_params:
      model: mock/gpt-4
`;

interface Membership {
  user_id: string;
  team_id: string;
  spend: number;
  litellm_budget_table: { max_budget: number | null } | null;
}
interface TeamJson {
  team_id: string;
  team_alias: string | null;
  max_budget: number | null;
  budget_duration: string | null;
  budget_reset_at: string | null;
  rpm_limit: number | null;
  models: string[];
  blocked: boolean;
  members_with_roles: { user_id: string; user_email: string | null; role: string }[];
  warnings?: string[];
  [field: string]: unknown;
}
interface TeamInfo {
  team_id: string;
  team_info: TeamJson;
  keys: Record<string, unknown>[];
  team_memberships: Membership[];
}
interface UserInfo {
  user_id: string | null;
  user_info: Record<string, unknown> & { teams: string[] };
  keys: Record<string, unknown>[];
  teams: (TeamJson & { team_memberships: Membership[] })[];
}
interface NewUser {
  user_id: string;
  key: string;
  user_email: string | null;
  user_role: string;
  max_budget: number | null;
  teams: string[];
  warnings?: string[];
}

describe('LiteLLM team and user management API', () => {
  let gw: TestApp;
  const admin = () => ({ Authorization: `Bearer ${gw.masterKey}` });
  const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
  const post = (path: string, body: unknown, auth = admin()) => gw.http().post(path).set(auth).send(body as object);
  const teamInfo = async (teamId: string, auth = admin()) => (await gw.http().get('/team/info').query({ team_id: teamId }).set(auth).expect(200)).body as TeamInfo;
  const newUser = async (body: Record<string, unknown>) => {
    const res = await post('/user/new', body);
    if (res.status !== 200) throw new Error(`user/new ${res.status}: ${res.text}`);
    return res.body as NewUser;
  };
  const auditActions = async (table: string) =>
    (await gw.dataSource.query<{ action: string }[]>('SELECT action FROM audit_log WHERE table_name = $1', [table])).map((row) => row.action);

  beforeAll(async () => {
    gw = await createTestApp({ configYaml: CONFIG });
  });
  afterAll(async () => {
    await gw.close();
  });

  describe('teams', () => {
    it('/team/new takes LiteLLM’s fields: budgets and limits in columns, members_with_roles as members, the rest stored and named', async () => {
      const res = await post('/team/new', {
        team_id: 'core-infra',
        team_alias: 'Core infra',
        models: ['gpt-4'],
        max_budget: 10,
        budget_duration: '30d',
        rpm_limit: 100,
        tpm_limit: null,
        members_with_roles: [{ role: 'admin', user_id: 'lead@example.com' }, { role: 'user', user_email: 'dev@example.com' }],
        team_member_permissions: ['/key/generate'],
        tags: ['infra'],
        model_aliases: {},
        organization_id: null,
        metadata: { cost_center: '42' },
      }).expect(200);
      const team = res.body as TeamJson;
      expect(team).toMatchObject({ team_id: 'core-infra', max_budget: 10, budget_duration: '30d', rpm_limit: 100, tags: ['infra'], team_member_permissions: ['/key/generate'] });
      expect(team.budget_reset_at).not.toBeNull();
      expect(team.warnings).toEqual(['team_member_permissions is stored but not enforced by Gatehouse', 'tags is stored but not enforced by Gatehouse']);
      expect(team.members_with_roles).toHaveLength(2);
      expect(team.members_with_roles).toEqual(
        expect.arrayContaining([
          { user_id: 'lead@example.com', user_email: null, role: 'admin' },
          { user_id: expect.any(String) as unknown, user_email: 'dev@example.com', role: 'user' },
        ]),
      );
      // The docs' example, once a 400 "Unrecognized request argument supplied: max_budget".
      await post('/team/new', { models: ['gpt-4'], team_id: 'docs-example', max_budget: 10 }).expect(200);
      await post('/team/new', { team_id: 'docs-example' }).expect(409);
    });

    it('/team/info answers LiteLLM’s shape: team_info, keys (tokens for those who manage it), team_memberships', async () => {
      const key = (await post('/key/generate', { team_id: 'core-infra', key_alias: 'infra-key' }).expect(200)).body as { key: string; token: string };
      const asAdmin = await teamInfo('core-infra');
      expect(asAdmin.team_id).toBe('core-infra');
      expect(asAdmin.team_info).toMatchObject({ team_id: 'core-infra', team_alias: 'Core infra', metadata: { cost_center: '42' }, max_budget: 10 });
      expect(asAdmin.keys).toEqual([expect.objectContaining({ token: key.token, key_alias: 'infra-key' })]);
      expect(asAdmin.team_memberships.map((row) => row.user_id)).toContain('lead@example.com');
      // test_team_info: a key of the team reads it too (without tokens); a key outside the team does not.
      const asTeamKey = await teamInfo('core-infra', bearer(key.key));
      expect(asTeamKey.keys[0]).not.toHaveProperty('token');
      const outsider = (await post('/key/generate', {}).expect(200)).body as { key: string };
      await gw.http().get('/team/info').query({ team_id: 'core-infra' }).set(bearer(outsider.key)).expect(403);
      const missing = await gw.http().get('/team/info').query({ team_id: 'no-such-team' }).set(admin()).expect(404);
      expect(errorOf(missing).message).toBe('Team not found, passed team id: no-such-team.');
    });

    it('10 teams created at once all succeed (test_team_new)', async () => {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, index) => post('/team/new', { team_alias: `parallel-${index}`, members_with_roles: [{ role: 'user', user_id: `parallel-member-${index}` }] })),
      );
      expect(answers.map((res) => res.status)).toEqual(Array(10).fill(200));
    });

    it('member_add takes a list (test_team_update_sc_2); update changes the alias and nothing else', async () => {
      await post('/team/new', { team_id: 'sc-2', members_with_roles: [{ role: 'admin', user_id: 'sc-2-admin' }] }).expect(200);
      const members = Array.from({ length: 10 }, (_, index) => ({ role: 'user', user_id: `sc-2-user-${index}` }));
      const added = (await post('/team/member_add', { team_id: 'sc-2', member: members }).expect(200)).body as TeamJson & { updated_users: unknown[]; updated_team_memberships: unknown[] };
      expect(added.members_with_roles).toHaveLength(11);
      expect(added.updated_users).toHaveLength(10);
      expect(added.updated_team_memberships).toHaveLength(10);
      const before = (await teamInfo('sc-2')).team_info;
      const updated = (await post('/team/update', { team_id: 'sc-2', team_alias: 'renamed' }).expect(200)).body as { data: TeamJson };
      expect(updated.data.team_alias).toBe('renamed');
      const after = (await teamInfo('sc-2')).team_info;
      expect({ ...after, team_alias: before.team_alias, updated_at: before.updated_at }).toEqual(before);
      const duplicate = await post('/team/member_add', { team_id: 'sc-2', member: { role: 'user', user_id: 'sc-2-user-0' } }).expect(400);
      expect(errorOf(duplicate).message).toMatch(/^User=sc-2-user-0 already in team\. Existing members=/);
      expect(errorOf(await post('/team/member_add', { team_id: 'sc-2', member: { role: 'owner', user_id: 'x' } }).expect(400)).param).toBe('member.role');
      expect(errorOf(await post('/team/member_add', { team_id: 'sc-2', member: { role: 'user' } }).expect(400)).message).toBe('Either user id or user email must be provided');
    });

    it('/team/update: null clears a budget, a team admin may not change budgets, bad values change nothing', async () => {
      await post('/team/new', { team_id: 'upd-team', max_budget: 5, rpm_limit: 5 }).expect(200);
      const cleared = (await post('/team/update', { team_id: 'upd-team', max_budget: null, team_alias: null }).expect(200)).body as { data: TeamJson };
      expect(cleared.data).toMatchObject({ max_budget: null, rpm_limit: 5 });
      await post('/team/update', { team_id: 'upd-team', rpm_limit: -1 }).expect(400);
      expect((await teamInfo('upd-team')).team_info.rpm_limit).toBe(5);
      const teamAdmin = ((await post('/key/generate', { team_id: 'upd-team', role: 'team_admin' }).expect(200)).body as { key: string }).key;
      expect(errorOf(await post('/team/update', { team_id: 'upd-team', max_budget: 100 }, bearer(teamAdmin)).expect(403)).param).toBe('max_budget');
      await post('/team/update', { team_id: 'upd-team', team_alias: 'mine' }, bearer(teamAdmin)).expect(200);
    });

    it('member_update sets the member’s budget in the team (test_users_in_team_budget’s shape); member_delete by id or email', async () => {
      await post('/team/new', { team_id: 'budget-team' }).expect(200);
      const user = await newUser({ user_email: 'member@example.com', team_id: 'budget-team', max_budget: 10, budget_duration: '5s' });
      const updated = (await post('/team/member_update', { team_id: 'budget-team', user_id: user.user_id, max_budget_in_team: 0.0000001, rpm_limit: 3 }).expect(200)).body as Record<string, unknown>;
      expect(updated).toMatchObject({ team_id: 'budget-team', user_id: user.user_id, user_email: 'member@example.com', max_budget_in_team: 0.0000001, rpm_limit: 3 });
      const info = (await gw.http().get('/user/info').query({ user_id: user.user_id }).set(admin()).expect(200)).body as UserInfo;
      expect(info.teams[0].team_memberships[0].litellm_budget_table?.max_budget).toBe(0.0000001);
      await post('/team/member_delete', { team_id: 'budget-team', user_email: 'MEMBER@example.com' }).expect(200);
      const gone = await post('/team/member_delete', { team_id: 'budget-team', user_id: user.user_id }).expect(400);
      expect(errorOf(gone).message).toBe('User not found in team');
      expect(await auditActions('team_members')).toEqual(expect.arrayContaining(['team_member_added', 'team_member_updated', 'team_member_deleted']));
    });

    it('member_add by email creates the user, whose /user/info then lists the team (test_team_member_add_email)', async () => {
      await post('/team/new', { team_id: 'email-team' }).expect(200);
      const user = await newUser({ user_email: 'by-email@example.com', auto_create_key: false });
      await post('/team/member_add', { team_id: 'email-team', member: [{ role: 'user', user_email: 'by-email@example.com' }] }).expect(200);
      const info = (await gw.http().get('/user/info').query({ user_id: user.user_id }).set(admin()).expect(200)).body as UserInfo;
      expect(info.teams.map((team) => team.team_id)).toEqual(['email-team']);
      await post('/team/member_add', { team_id: 'email-team', member: { role: 'user', user_email: 'brand-new@example.com' } }).expect(200);
      const [created] = await gw.dataSource.query<{ user_id: string }[]>(`SELECT user_id FROM users WHERE user_email = 'brand-new@example.com'`);
      expect(created.user_id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('/team/delete takes the memberships along: the user’s teams go from 1 to 0, /team/info is a 404 (test_team_delete)', async () => {
      await post('/team/new', { team_id: 'doomed-team', members_with_roles: [{ role: 'user', user_id: 'doomed-a' }, { role: 'user', user_id: 'doomed-b' }] }).expect(200);
      const teamsOf = async () => ((await gw.http().get('/user/info').query({ user_id: 'doomed-a' }).set(admin()).expect(200)).body as UserInfo).teams.length;
      expect(await teamsOf()).toBe(1);
      await post('/team/delete', { team_ids: ['doomed-team'] }).expect(200);
      expect(await teamsOf()).toBe(0);
      await gw.http().get('/team/info').query({ team_id: 'doomed-team' }).set(admin()).expect(404);
      expect(await auditActions('teams')).toEqual(expect.arrayContaining(['team_created', 'team_updated', 'team_deleted']));
    });

    it('/team/block refuses the team’s keys at once; /team/unblock lets them in again; proxy admin only', async () => {
      await post('/team/new', { team_id: 'block-team' }).expect(200);
      const key = ((await post('/key/generate', { team_id: 'block-team' }).expect(200)).body as { key: string }).key;
      const chat = () => post('/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: 'Hi' }] }, bearer(key));
      expect((await chat()).status).toBe(200);
      expect(((await post('/team/block', { team_id: 'block-team' }).expect(200)).body as TeamJson).blocked).toBe(true);
      expect(errorOf(await chat()).code).toBe('team_blocked');
      await post('/team/unblock', { team_id: 'block-team' }).expect(200);
      expect((await chat()).status).toBe(200);
      await post('/team/block', { team_id: 'block-team' }, bearer(key)).expect(403);
      await post('/team/block', { team_id: 'no-such-team' }).expect(404);
      expect(await auditActions('teams')).toEqual(expect.arrayContaining(['team_blocked', 'team_unblocked']));
    });

    it('/team/list filters by user_id and carries memberships and keys', async () => {
      const list = (await gw.http().get('/team/list').query({ user_id: 'lead@example.com' }).set(admin()).expect(200)).body as (TeamJson & { team_memberships: Membership[]; keys: unknown[] })[];
      expect(list.map((team) => team.team_id)).toEqual(['core-infra']);
      expect(list[0].team_memberships.length).toBe(2);
      expect(list[0].keys.length).toBe(1);
    });
  });

  describe('team admins by membership', () => {
    let lead: string;
    let outsider: string;

    beforeAll(async () => {
      await post('/team/new', { team_id: 'member-admin-team', members_with_roles: [{ role: 'admin', user_id: 'team-lead' }] }).expect(200);
      await post('/team/new', { team_id: 'other-team' }).expect(200);
      lead = ((await post('/key/generate', { user_id: 'team-lead' }).expect(200)).body as { key: string }).key;
      outsider = ((await post('/key/generate', { user_id: 'not-a-lead' }).expect(200)).body as { key: string }).key;
    });

    it('an admin member’s key manages its team: keys, members, logging; not another team; not the proxy admin’s routes', async () => {
      const minted = (await post('/key/generate', { team_id: 'member-admin-team', user_id: 'team-lead' }, bearer(lead)).expect(200)).body as { key: string; team_id: string };
      expect(minted.team_id).toBe('member-admin-team');
      await post('/team/member_add', { team_id: 'member-admin-team', member: { role: 'user', user_id: 'recruit' } }, bearer(lead)).expect(200);
      await post('/key/generate', { team_id: 'member-admin-team', user_id: 'recruit' }, bearer(lead)).expect(200);
      // Only for members of the team: a stranger is not the lead's to hand keys to.
      const stranger = await post('/key/generate', { team_id: 'member-admin-team', user_id: 'stranger' }, bearer(lead)).expect(403);
      expect(errorOf(stranger).message).toBe('User can only create keys for themselves. Got user_id=stranger, Your ID=team-lead');
      await gw.http().get('/team/member-admin-team/callback').set(bearer(lead)).expect(200);
      await post('/team/update', { team_id: 'member-admin-team', team_alias: 'led' }, bearer(lead)).expect(200);
      await post('/team/member_add', { team_id: 'other-team', member: { role: 'user', user_id: 'x' } }, bearer(lead)).expect(403);
      await post('/key/generate', { team_id: 'other-team' }, bearer(lead)).expect(403);
      await post('/team/new', {}, bearer(lead)).expect(403);
      await post('/team/member_add', { team_id: 'member-admin-team', member: { role: 'user', user_id: 'y' } }, bearer(outsider)).expect(403);
    });

    it('losing the admin role takes the rights away at once (cached principals of the user’s keys dropped)', async () => {
      await gw.http().get('/team/member-admin-team/callback').set(bearer(lead)).expect(200);
      await post('/team/member_update', { team_id: 'member-admin-team', user_id: 'team-lead', role: 'user' }).expect(200);
      await gw.http().get('/team/member-admin-team/callback').set(bearer(lead)).expect(403);
      await post('/team/member_update', { team_id: 'member-admin-team', user_id: 'team-lead', role: 'admin' }).expect(200);
      await gw.http().get('/team/member-admin-team/callback').set(bearer(lead)).expect(200);
      await post('/team/member_delete', { team_id: 'member-admin-team', user_id: 'team-lead' }).expect(200);
      await gw.http().get('/team/member-admin-team/callback').set(bearer(lead)).expect(403);
    });
  });

  describe('users', () => {
    it('/user/new returns a key for the user unless auto_create_key is false; duplicates are 409 (test_user_new)', async () => {
      const created = await newUser({ user_id: 'ana', user_email: 'Ana@Example.com', user_alias: 'Ana', max_budget: 10, models: ['gpt-4'], password: 'hunter22', guardrails: ['x'] });
      expect(created).toMatchObject({ user_id: 'ana', user_email: 'Ana@Example.com', user_role: 'internal_user', max_budget: 10 });
      expect(created.key).toMatch(/^sk-/);
      expect(created.warnings).toEqual(['guardrails is stored but not enforced by Gatehouse', 'password is not stored: Gatehouse has no user login']);
      // tags is a key field in LiteLLM, not a user one.
      expect(errorOf(await post('/user/new', { tags: ['x'] }).expect(400)).code).toBe('unrecognized_field');
      expect(JSON.stringify(await gw.dataSource.query('SELECT * FROM users'))).not.toContain('hunter22');
      const keyInfo = (await gw.http().get('/key/info').set(bearer(created.key)).expect(200)).body as { info: { user_id: string } };
      expect(keyInfo.info.user_id).toBe('ana');
      expect((await newUser({ user_id: 'no-key', auto_create_key: false })).key).toBe('');
      expect(errorOf(await post('/user/new', { user_id: 'ana' }).expect(409)).message).toBe('User with id ana already exists');
      expect(errorOf(await post('/user/new', { user_email: 'ana@example.COM' }).expect(409)).message).toBe('User with email ana@example.COM already exists');
      expect(errorOf(await post('/user/new', { user_role: 'god' }).expect(400)).param).toBe('user_role');
      expect(errorOf(await post('/user/new', { metadata: { logging: [] } }).expect(400)).param).toBe('metadata.logging');
      expect(errorOf(await post('/user/new', { max_budget: -1 }).expect(400)).param).toBe('max_budget');
      const answers = await Promise.all(Array.from({ length: 10 }, () => post('/user/new', {})));
      expect(answers.map((res) => res.status)).toEqual(Array(10).fill(200));
      expect(await auditActions('users')).toContain('user_created');
    });

    it('/user/info: the admin and the user itself, not another user (test_user_info); unknown → 404', async () => {
      const ana = await newUser({ user_id: 'info-ana' });
      const bob = await newUser({ user_id: 'info-bob' });
      for (const auth of [admin(), bearer(ana.key)]) {
        const info = (await gw.http().get('/user/info').query({ user_id: 'info-ana' }).set(auth).expect(200)).body as UserInfo;
        expect(info.user_id).toBe('info-ana');
        expect(info.user_info).toMatchObject({ user_id: 'info-ana', spend: 0 });
        expect(info.keys).toHaveLength(1);
        expect(info.keys[0].team_alias).toBe('None');
      }
      const own = (await gw.http().get('/user/info').set(bearer(ana.key)).expect(200)).body as UserInfo;
      expect(own.user_id).toBe('info-ana');
      await gw.http().get('/user/info').query({ user_id: 'info-ana' }).set(bearer(bob.key)).expect(403);
      expect(errorOf(await gw.http().get('/user/info').query({ user_id: 'nobody' }).set(admin()).expect(404)).message).toBe('User nobody not found');
    });

    it('/user/update: the admin changes anything; a user its alias and email, never its role, budget or spend', async () => {
      const user = await newUser({ user_id: 'upd-user', max_budget: 5 });
      const updated = (await post('/user/update', { user_id: 'upd-user', max_budget: 20, spend: 0, user_role: 'internal_user_viewer', budget_duration: '1mo' }).expect(200)).body as Record<string, unknown>;
      expect(updated).toMatchObject({ max_budget: 20, user_role: 'internal_user_viewer', budget_duration: '1mo' });
      await post('/user/update', { user_id: 'upd-user', user_alias: 'me' }, bearer(user.key)).expect(200);
      expect(errorOf(await post('/user/update', { user_id: 'upd-user', user_role: 'proxy_admin' }, bearer(user.key)).expect(403)).message).toBe('Only proxy admins can modify user roles.');
      expect(errorOf(await post('/user/update', { user_id: 'upd-user', max_budget: 1000 }, bearer(user.key)).expect(403)).param).toBe('max_budget');
      await post('/user/update', { user_id: 'ana', user_alias: 'not me' }, bearer(user.key)).expect(403);
      await post('/user/update', { user_id: 'ghost' }).expect(404);
      await post('/user/update', {}).expect(400);
      // LiteLLM creates the user an unknown email names.
      const byEmail = (await post('/user/update', { user_email: 'new-by-update@example.com', max_budget: 1 }).expect(200)).body as { user_id: string; max_budget: number };
      expect(byEmail.max_budget).toBe(1);
    });

    it('/user/list filters, pages and counts keys', async () => {
      await newUser({ user_id: 'list-zed', user_email: 'zed@list.example', user_role: 'internal_user_viewer' });
      await newUser({ user_id: 'list-amy', user_email: 'amy@list.example', auto_create_key: false });
      const byEmail = (await gw.http().get('/user/list').query({ user_email: 'LIST.example', sort_by: 'user_id' }).set(admin()).expect(200)).body as { users: { user_id: string; key_count: number }[]; total: number };
      expect(byEmail.users.map((user) => [user.user_id, user.key_count])).toEqual([['list-amy', 0], ['list-zed', 1]]);
      const byRole = (await gw.http().get('/user/list').query({ role: 'internal_user_viewer', user_ids: 'list-' }).set(admin()).expect(200)).body as { users: { user_id: string }[] };
      expect(byRole.users.map((user) => user.user_id)).toEqual(['list-zed']);
      const paged = (await gw.http().get('/user/list').query({ page: 2, page_size: 1, user_ids: 'list-zed,list-amy' }).set(admin()).expect(200)).body as { users: unknown[]; total: number; total_pages: number; page: number };
      expect(paged).toMatchObject({ total: 2, total_pages: 2, page: 2 });
      expect(paged.users).toHaveLength(1);
      await gw.http().get('/user/list').query({ page_size: 101 }).set(admin()).expect(400);
      const someone = await newUser({});
      await gw.http().get('/user/list').set(bearer(someone.key)).expect(403);
    });

    it('/user/delete takes the user’s keys along; unknown → 404', async () => {
      const user = await newUser({ user_id: 'del-user' });
      await gw.http().get('/key/info').set(bearer(user.key)).expect(200);
      await post('/user/delete', { user_ids: ['del-user'] }).expect(200, { deleted_users: ['del-user'] });
      await gw.http().get('/key/info').set(bearer(user.key)).expect(401);
      expect(errorOf(await post('/user/delete', { user_ids: ['del-user'] }).expect(404)).message).toBe('User not found, passed user_id=del-user');
    });

    it('a proxy_admin user’s key acts as the proxy admin: it deletes another user’s key (test_key_delete_ui)', async () => {
      const boss = await newUser({ user_id: 'boss', user_role: 'proxy_admin' });
      const victim = ((await post('/key/generate', { user_id: 'ishaan-smart' }).expect(200)).body as { key: string }).key;
      await post('/key/delete', { keys: [victim] }, bearer(boss.key)).expect(200);
      // A team admin cannot borrow those rights by handing a key to that user.
      await post('/team/new', { team_id: 'borrow-team', members_with_roles: [{ role: 'admin', user_id: 'borrower' }, { role: 'user', user_id: 'boss' }] }).expect(200);
      const borrower = ((await post('/key/generate', { user_id: 'borrower' }).expect(200)).body as { key: string }).key;
      await post('/key/generate', { team_id: 'borrow-team', user_id: 'boss' }, bearer(borrower)).expect(403);
    });
  });
});
