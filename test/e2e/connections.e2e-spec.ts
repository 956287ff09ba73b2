import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { runPool, setupTeamLogging } from '../support/delivery/delivery-support';
import { FakeLangfuse } from '../support/fakes/fake-langfuse';
import { spawnGateway, type GatewayProcess } from '../support/gateway-process';
import { langfuseProject, modelListYaml, tempDir } from '../support/logging/fixtures';
import { chat, marker, secret } from '../support/logging/harness';

/**
 * Issue 29, "Scale": one gateway on PostgreSQL, with default settings, holds at most 6 connections while it serves
 * 50 concurrent calls that log to Langfuse, while its destination is slow (the outbox is written, claimed and
 * deleted) and while admin writes are broadcast over LISTEN/NOTIFY — so 16 instances fit PostgreSQL's default
 * max_connections of 100. Counted from pg_stat_activity on a database of its own (the machine's server, whichever
 * database the suite otherwise runs on).
 */
/** The suite's server when it runs on PostgreSQL (on PGlite, DATABASE_URL is the suite's embedded database): else the machine's. */
const adminUrl = (): string =>
  process.env.CONNECTIONS_ADMIN_URL ?? (process.env.TEST_DATABASE_KIND === 'postgres' && process.env.DATABASE_URL ? process.env.DATABASE_URL : 'postgres://postgres@127.0.0.1:5432/postgres');
const MAX_CONNECTIONS = 6;
const CONCURRENCY = 50;

interface Census {
  total: number;
  byName: Record<string, number>;
}

describe('PostgreSQL connections of one instance under load', () => {
  const dir = tempDir('gatehouse-connections-');
  const masterKey = `sk-${secret('connections-master-key')}`;
  const project = langfuseProject('connections');
  const database = `gatehouse_connections_${randomBytes(4).toString('hex')}`;
  let admin: Client;
  let langfuse: FakeLangfuse;
  let gateway: GatewayProcess;

  async function census(): Promise<Census> {
    const { rows } = await admin.query<{ name: string; count: string }>(
      'SELECT application_name AS name, count(*) AS count FROM pg_stat_activity WHERE datname = $1 GROUP BY application_name',
      [database],
    );
    const byName = Object.fromEntries(rows.map((row) => [row.name, Number(row.count)]));
    return { total: Object.values(byName).reduce((sum, count) => sum + count, 0), byName };
  }

  beforeAll(async () => {
    admin = new Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(adminUrl());
    url.pathname = `/${database}`;
    langfuse = await FakeLangfuse.start({ keys: [project] });
    const config = dir.write('config.yaml', `${modelListYaml()}general_settings:\n  allowed_logging_hosts: ["127.0.0.1"]\n`);
    // Only what the test needs: DB_POOL_SIZE and the delivery settings stay at their defaults.
    gateway = await spawnGateway({ env: { DATABASE_URL: url.toString(), DATA_DIR: undefined, MASTER_KEY: masterKey, CONFIG_FILE: config } });
    await gateway.waitForReady(60_000);
  }, 90_000);

  afterAll(async () => {
    if (gateway && gateway.child.exitCode === null) {
      gateway.kill('SIGTERM');
      await gateway.waitForExit(30_000).catch(() => gateway.kill('SIGKILL'));
    }
    await langfuse?.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin?.end();
    dir.cleanup();
  });

  it(`holds at most ${MAX_CONNECTIONS} connections with ${CONCURRENCY} calls in flight, a slow destination and broadcast writes`, async () => {
    const team = await setupTeamLogging(gateway.baseUrl, masterKey, { teamId: 'connections-team', pair: project, host: langfuse.url });

    let peak: Census = { total: 0, byName: {} };
    const peakByName: Record<string, number> = {};
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = await census();
        if (now.total > peak.total) peak = now;
        for (const [name, count] of Object.entries(now.byName)) peakByName[name] = Math.max(peakByName[name] ?? 0, count);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const statuses: number[] = [];
    const load = (label: string, count: number) =>
      runPool(count, CONCURRENCY, async (index) => {
        const result = await chat(gateway.baseUrl, team.key, { marker: marker(`${label}-${index}`) });
        statuses.push(result.status);
      });
    // A healthy destination: events are sent from memory.
    await load('healthy', 1_500);
    // A slow one: unacknowledged events go to the outbox, are claimed and deleted once it answers.
    langfuse.setFailure({ delayMs: 1_500 });
    // Admin writes during the load, 10 at a time: each one takes a pooled connection and is a NOTIFY to the other
    // instances.
    const admin = (path: string, body: unknown) =>
      fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${masterKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const writes = runPool(200, 10, async () => {
      const generated = await admin('/key/generate', { team_id: team.teamId });
      statuses.push(generated.status);
      const blocked = await admin('/key/block', { key: ((await generated.json()) as { key: string }).key });
      statuses.push(blocked.status);
    });
    await Promise.all([load('slow', 1_500), writes]);
    langfuse.setFailure(null);
    // The outbox drains: claims and deletes on the delivery thread's pool.
    await load('after', 500);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    sampling = false;
    await sampler;

    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    // The sampler saw the instance at work: its request pool, its delivery thread and its LISTEN connection.
    expect(peakByName['gatehouse']).toBeGreaterThanOrEqual(1);
    expect(peakByName['gatehouse-delivery']).toBeGreaterThanOrEqual(1);
    expect(peakByName['gatehouse-listen']).toBe(1);
    // The breakdown of the busiest moment, in the failure message when the bound is exceeded.
    expect({ total: peak.total, byName: peak.byName, withinBound: peak.total <= MAX_CONNECTIONS }).toEqual({ total: peak.total, byName: peak.byName, withinBound: true });
  }, 240_000);
});
