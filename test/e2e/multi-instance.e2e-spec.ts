import { Client } from 'pg';
import type { GeneratedKeyJson } from '../support/api-responses';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject, modelListYaml, tempDir } from '../support/logging/fixtures';
import { marker, waitFor } from '../support/logging/harness';

/**
 * Two gateway processes behind one PostgreSQL (the machine's server, a database of their own), once with
 * Redis pub/sub and once with PostgreSQL LISTEN/NOTIFY carrying the invalidations: a write on A holds on B
 * within a second (key revoked, blocked or regenerated; a team admin demoted), and outbox rows claimed by an
 * instance that dies are delivered by the other.
 */
const ADMIN_URL = process.env.MULTI_INSTANCE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.MULTI_INSTANCE_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MASTER_KEY = 'sk-multi-instance-test-0123456789abcdefghijklmnop';
/** Two runs on one server (worktrees side by side) need databases of their own. */
const DB_PREFIX = process.env.MULTI_INSTANCE_DB_PREFIX ?? 'gatehouse_multi';

describe.each([
  ['Redis pub/sub', `${DB_PREFIX}_redis`, { REDIS_URL }],
  ['PostgreSQL LISTEN/NOTIFY', `${DB_PREFIX}_notify`, {}],
])('several instances, invalidations over %s', (_transport, database, transportEnv) => {
  const dir = tempDir('gatehouse-multi-');
  const project = langfuseProject('multi');
  let langfuse: FakeLangfuse;
  let databaseUrl: string;
  let config: string;
  const running: GatewayProcess[] = [];

  async function start(extraEnv: Record<string, string> = {}): Promise<GatewayProcess> {
    const gateway = await spawnGateway({
      env: { DATABASE_URL: databaseUrl, MASTER_KEY, CONFIG_FILE: config, LOG_FLUSH_INTERVAL_MS: '100', ...transportEnv, ...extraEnv },
    });
    running.push(gateway);
    await gateway.waitForReady(30_000);
    return gateway;
  }

  /** The answer's JSON is cast to `T`, the answer the caller expects (see api-responses.ts). */
  async function call<T = unknown>(gateway: GatewayProcess, method: string, path: string, body?: unknown, key = MASTER_KEY): Promise<{ status: number; json: T }> {
    const res = await fetch(`${gateway.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
  }

  const chat = (gateway: GatewayProcess, key: string, mark: string) =>
    call(gateway, 'POST', '/v1/chat/completions', { model: 'gpt-4', messages: [{ role: 'user', content: mark }] }, key);
  const tracesWith = (mark: string) => langfuse.traces(project.publicKey).filter((trace) => JSON.stringify(trace.input).includes(mark));

  beforeAll(async () => {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
    langfuse = await FakeLangfuse.start({ keys: [project] });
    config = dir.write('config.yaml', `${modelListYaml()}general_settings:\n  allowed_logging_hosts: ["127.0.0.1"]\n`);
  });

  afterAll(async () => {
    for (const gateway of running) if (gateway.child.exitCode === null) gateway.kill('SIGKILL');
    await langfuse.close();
    dir.cleanup();
  });

  it('a write on A holds on B within one second: key revoked, callback added, logging disabled', async () => {
    const a = await start();
    const b = await start();
    expect(b.output()).toContain(`cross-instance invalidation over ${'REDIS_URL' in transportEnv ? 'Redis' : 'PostgreSQL'}`);

    await call(a, 'POST', '/team/new', { team_id: 'shared-team' });
    const key = (await call<GeneratedKeyJson>(a, 'POST', '/key/generate', { team_id: 'shared-team' })).json.key;
    const doomed = (await call<GeneratedKeyJson>(a, 'POST', '/key/generate', { team_id: 'shared-team' })).json.key;

    // B caches both keys' principals.
    expect((await chat(b, key, marker('warm'))).status).toBe(200);
    expect((await chat(b, doomed, marker('warm'))).status).toBe(200);

    // Revoked on A → refused by B within 1 s.
    expect((await call(a, 'POST', '/key/delete', { keys: [doomed] })).status).toBe(200);
    const revokedAt = Date.now();
    await waitFor('B to refuse the revoked key', async () => (await call(b, 'GET', '/key/info', undefined, doomed)).status === 401, 5_000);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);

    // A callback added on A routes B's next request there.
    const added = await call(a, 'POST', '/team/shared-team/callback', {
      callback_name: 'langfuse',
      callback_vars: { langfuse_public_key: project.publicKey, langfuse_secret_key: project.secretKey, langfuse_host: langfuse.url },
    });
    expect(added.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const routed = marker('routed-by-b');
    expect((await chat(b, key, routed)).status).toBe(200);
    await waitFor('B’s request in the callback added on A', () => tracesWith(routed).length === 1, 10_000);

    // disable_logging on A silences B.
    expect((await call(a, 'POST', '/team/shared-team/disable_logging')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const silenced = marker('silenced');
    expect((await chat(b, key, silenced)).status).toBe(200);
    // Positive control after the silenced request: re-enabled on B, sent through A.
    await call(b, 'POST', '/team/shared-team/callback', {
      callback_name: 'langfuse',
      callback_vars: { langfuse_public_key: project.publicKey, langfuse_secret_key: project.secretKey, langfuse_host: langfuse.url },
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const control = marker('control');
    expect((await chat(a, key, control)).status).toBe(200);
    await waitFor('the control request', () => tracesWith(control).length === 1, 10_000);
    expect(tracesWith(silenced)).toEqual([]);

    for (const gateway of [a, b]) {
      gateway.kill('SIGTERM');
      expect(await gateway.waitForExit()).toBe(0);
    }
  });

  it('a key blocked or regenerated on A, and a team admin demoted on A, are refused by B within one second', async () => {
    const a = await start();
    const b = await start();
    const within = async (what: string, check: () => Promise<boolean>) => {
      const since = Date.now();
      await waitFor(what, check, 5_000);
      expect(Date.now() - since).toBeLessThan(1_000);
    };

    const key = (await call<GeneratedKeyJson>(a, 'POST', '/key/generate', { key_alias: 'mi-blockable' })).json.key;
    expect((await chat(b, key, marker('warm'))).status).toBe(200);
    expect((await call(a, 'POST', '/key/block', { key })).status).toBe(200);
    await within('B to refuse the blocked key', async () => (await call(b, 'GET', '/key/info', undefined, key)).status === 401);
    expect((await call(a, 'POST', '/key/unblock', { key })).status).toBe(200);
    expect((await chat(b, key, marker('unblocked'))).status).toBe(200);

    const regenerated = await call<GeneratedKeyJson>(a, 'POST', '/key/regenerate', { key });
    expect(regenerated.status).toBe(200);
    await within('B to refuse the old secret', async () => (await call(b, 'GET', '/key/info', undefined, key)).status === 401);
    expect((await chat(b, regenerated.json.key, marker('new-secret'))).status).toBe(200);

    await call(a, 'POST', '/team/new', { team_id: 'mi-team', members_with_roles: [{ role: 'admin', user_id: 'mi-lead' }] });
    const lead = (await call<GeneratedKeyJson>(a, 'POST', '/key/generate', { user_id: 'mi-lead' })).json.key;
    expect((await call(b, 'GET', '/team/mi-team/callback', undefined, lead)).status).toBe(200);
    expect((await call(a, 'POST', '/team/member_update', { team_id: 'mi-team', user_id: 'mi-lead', role: 'user' })).status).toBe(200);
    await within('B to drop the demoted admin’s rights', async () => (await call(b, 'GET', '/team/mi-team/callback', undefined, lead)).status === 403);

    for (const gateway of [a, b]) {
      gateway.kill('SIGTERM');
      expect(await gateway.waitForExit()).toBe(0);
    }
  });

  it('outbox rows claimed by an instance that dies are delivered by another once the lease ran out', async () => {
    const leaseEnv = { LOG_SEND_TIMEOUT_MS: '2500', LOG_CLAIM_LEASE_MS: '5000' };
    const a = await start(leaseEnv);
    await call(a, 'POST', '/team/new', { team_id: 'orphan-team' });
    await call(a, 'POST', '/team/orphan-team/callback', {
      callback_name: 'langfuse',
      callback_vars: { langfuse_public_key: project.publicKey, langfuse_secret_key: project.secretKey, langfuse_host: langfuse.url },
    });
    const key = (await call<GeneratedKeyJson>(a, 'POST', '/key/generate', { team_id: 'orphan-team' })).json.key;
    langfuse.setFailure({ hang: true });
    const marks = [marker('orphan'), marker('orphan'), marker('orphan')];
    for (const mark of marks) expect((await chat(a, key, mark)).status).toBe(200);

    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      await waitFor('A to claim the rows', async () => {
        const { rows } = await db.query<{ claimed_by: string | null }>(`SELECT claimed_by FROM log_outbox WHERE team_id = 'orphan-team'`);
        return rows.length === marks.length && rows.every((row) => String(row.claimed_by ?? '').includes(`-${a.child.pid}-`));
      });
      a.kill('SIGKILL');
      await a.waitForExit();
      langfuse.setFailure(null);

      const killedAt = Date.now();
      const b = await start(leaseEnv);
      // A row leaves the outbox only when its destination acknowledged it: B did, after A's lease ran out.
      await waitFor(
        'B to deliver A’s orphaned events',
        async () => (await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM log_outbox WHERE team_id = 'orphan-team'`)).rows[0].count === 0,
        30_000,
      );
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2_000);
      for (const mark of marks) expect(tracesWith(mark)).toHaveLength(1);
      b.kill('SIGTERM');
      expect(await b.waitForExit()).toBe(0);
    } finally {
      await db.end();
    }
  });
});
