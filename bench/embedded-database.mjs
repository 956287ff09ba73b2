#!/usr/bin/env node
// What the embedded database's connection costs, without the gateway: start-up time of `startEmbeddedPostgres`,
// then round trips over the `pg` driver as TypeORM opens it (the URL the gateway uses).
//   node bench/embedded-database.mjs [path/to/dist] [rounds]     default ./dist, 5 rounds
// Per round: `SELECT 1` × 2000 and a key lookup shaped like the auth query × 2000, sequential (the gateway's pool is
// one connection). Reports the median over rounds of µs per query (wall) and of CPU µs per query (this process: the
// main thread and PGlite's worker thread both count). Used to compare the loopback TCP listener with the Unix socket
// (issue 23): run it on a copy of dist/ from each build.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import pg from 'pg';

const require = createRequire(import.meta.url);
const dist = resolve(process.argv[2] ?? 'dist');
const rounds = Number(process.argv[3] ?? 5);
const QUERIES = 2000;
const { startEmbeddedPostgres } = require(resolve(dist, 'src', 'database', 'embedded-postgres.js'));

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const cpuMicros = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

const startups = [];
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  const db = await startEmbeddedPostgres({ dataDir: null });
  startups.push(performance.now() - started);
  await db.stop();
}

const db = await startEmbeddedPostgres({ dataDir: null });
const client = new pg.Client({ connectionString: db.url });
await client.connect();
await client.query(`CREATE TABLE virtual_keys (token char(64) PRIMARY KEY, key_name varchar(32), metadata jsonb NOT NULL DEFAULT '{}')`);
await client.query(`INSERT INTO virtual_keys (token, key_name) SELECT md5(i::text) || md5((i + 1)::text), 'sk-...' || i FROM generate_series(1, 1000) AS i`);
const token = (await client.query(`SELECT token FROM virtual_keys LIMIT 1 OFFSET 500`)).rows[0].token;

const measure = async (run) => {
  const wall = [];
  const cpu = [];
  for (let round = 0; round < rounds; round++) {
    const cpuBefore = cpuMicros();
    const started = performance.now();
    for (let i = 0; i < QUERIES; i++) await run();
    wall.push(((performance.now() - started) * 1000) / QUERIES);
    cpu.push((cpuMicros() - cpuBefore) / QUERIES);
  }
  return { wall_us: +median(wall).toFixed(1), cpu_us: +median(cpu).toFixed(1) };
};

await measure(() => client.query('SELECT 1')); // warm-up
const select1 = await measure(() => client.query('SELECT 1'));
const lookup = await measure(() => client.query('SELECT token, key_name, metadata FROM virtual_keys WHERE token = $1', [token]));
await client.end();
await db.stop();

console.log(
  JSON.stringify(
    {
      dist,
      connection: new URL(db.url).searchParams.get('host') ? 'unix socket' : 'tcp loopback',
      startup_ms: { median: +median(startups).toFixed(0), runs: startups.map((ms) => +ms.toFixed(0)) },
      select_1: select1,
      key_lookup: lookup,
    },
    null,
    2,
  ),
);
