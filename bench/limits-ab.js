#!/usr/bin/env node
'use strict';
// Issue 26's speed target: "with budgets and rate limits set on the key and team, CPU per request ≤ 1.1× without, at
// concurrency 10 and 50; no database write on the request path".
//
//   node bench/limits-ab.js [--reps N] [--duration S] [--warmup S] [--concurrency 10,50] [--no-build]
//   npm run bench -- --limits [same options]
//
// Two gateways of the same build (dist/), each with its own database, run interleaved on the same mock upstream, one
// paused (SIGSTOP) while the other is measured: "plain" calls with a key in a team that set no limit, "limits" with a
// key and team that set every budget and rate limit, each far above what the run reaches (so no call is refused and
// both do the same work upstream). Logging is off for both keys: the difference is the limits alone.
// Limits are set through /key/generate and /team/new when the build accepts the fields, else by SQL on the rows
// they made (the columns exist from the issue-26 groundwork on).
// Reports per variant and concurrency: CPU µs/request of every thread (and of the request loop and the embedded
// database's thread), peak RSS, req/s, and the rows written to the database during the measured window (from
// pg_stat_user_tables) per request and per second; then the ratios limits/plain and met / MISSED.
// Env: DATABASE_URL (PostgreSQL instead of the embedded PGlite; both gateways share it), BENCH_REDIS_URL (give both
// gateways this REDIS_URL, so counters go through Redis).
const { execFileSync } = require('node:child_process');
const { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');
const { startGatehouse, MODEL, ROOT } = require('./lib/gatehouse');
const { startProcess, pause, resume, sleep, runMain } = require('./lib/processes');
const { runLoad, toolName } = require('./lib/load');
const { cpuSeconds, rssSampler } = require('./lib/procstat');
const { median, summary } = require('./lib/stats');

const TARGET_RATIO = 1.1;
/** Rows written per request above which writes are evidently per request, not batched off the request path. */
const MAX_ROWS_WRITTEN_PER_REQUEST = 0.01;
/** Far above anything a run reaches, so no call is refused; int4 columns. */
const HUGE = 1_000_000_000;
const KEY_LIMITS = {
  max_budget: 1e9,
  soft_budget: 1e9,
  budget_duration: '30d',
  rpm_limit: HUGE,
  tpm_limit: HUGE,
  max_parallel_requests: 1_000_000,
  model_rpm_limit: { [MODEL]: HUGE },
  model_tpm_limit: { [MODEL]: HUGE },
  model_max_budget: { [MODEL]: { budget_limit: 1e9, time_period: '30d' } },
};
const TEAM_LIMITS = {
  max_budget: 1e9,
  budget_duration: '30d',
  rpm_limit: HUGE,
  tpm_limit: HUGE,
  max_parallel_requests: 1_000_000,
  model_rpm_limit: { [MODEL]: HUGE },
  model_tpm_limit: { [MODEL]: HUGE },
};
const SQL_COLUMNS = ['max_budget', 'soft_budget', 'budget_duration', 'rpm_limit', 'tpm_limit', 'max_parallel_requests', 'model_rpm_limit', 'model_tpm_limit', 'model_max_budget'];
const JSON_COLUMNS = new Set(['model_rpm_limit', 'model_tpm_limit', 'model_max_budget']);

function parseArgs(argv) {
  const opts = { reps: 4, duration: 5, warmup: 1, concurrency: [10, 50], build: true, out: join(ROOT, 'bench', 'results') };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--limits':
        break;
      case '--reps':
        opts.reps = Number(value());
        break;
      case '--duration':
        opts.duration = Number(value());
        break;
      case '--warmup':
        opts.warmup = Number(value());
        break;
      case '--concurrency':
        opts.concurrency = String(value()).split(',').map(Number).filter((c) => c > 0);
        break;
      case '--quick':
        opts.reps = 1;
        opts.duration = 2;
        opts.warmup = 0.5;
        break;
      case '--no-build':
        opts.build = false;
        break;
      case '--out':
        opts.out = value();
        break;
      default:
        throw new Error(`unknown option ${argv[i]} (see the comment at the top of bench/limits-ab.js)`);
    }
  }
  // Each variant runs on each gateway equally often only with an even number of repetitions.
  if (opts.reps % 2 === 1) opts.reps += 1;
  return opts;
}

async function api(gateway, method, path, body) {
  const res = await fetch(`${gateway.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${gateway.masterKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, text };
}

/** The database a gateway uses: DATABASE_URL, or its embedded PGlite through the Unix socket in its DATA_DIR. */
function databaseUrlOf(gateway, dataDir) {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (!existsSync(join(dataDir, '.s.PGSQL.5432'))) throw new Error(`no embedded database socket in ${dataDir}: run with DATABASE_URL`);
  return `postgresql://postgres@localhost:5432/postgres?host=${encodeURIComponent(dataDir)}`;
}

/** Creates a team and a key in it (logging off), with `limits` on both or none; API first, SQL for fields the build does not take. */
async function makeKeyAndTeam(gateway, db, label, limits) {
  const notes = [];
  let team = await api(gateway, 'POST', '/team/new', { team_alias: `${label}-team`, ...(limits ? TEAM_LIMITS : {}) });
  let teamBySql = false;
  if (team.status === 400 && limits) {
    notes.push(`/team/new refused the limit fields (${team.text.slice(0, 120)}): set by SQL`);
    team = await api(gateway, 'POST', '/team/new', { team_alias: `${label}-team` });
    teamBySql = true;
  }
  if (team.status !== 200) throw new Error(`/team/new → ${team.status}: ${team.text.slice(0, 300)}`);
  const teamId = team.body.team_id;
  const keyBody = { team_id: teamId, key_alias: `${label}-key`, models: [MODEL], metadata: { logging: [] } };
  let key = await api(gateway, 'POST', '/key/generate', { ...keyBody, ...(limits ? KEY_LIMITS : {}) });
  let keyBySql = false;
  if (key.status === 400 && limits) {
    notes.push(`/key/generate refused the limit fields (${key.text.slice(0, 120)}): set by SQL`);
    key = await api(gateway, 'POST', '/key/generate', keyBody);
    keyBySql = true;
  }
  if (key.status !== 200) throw new Error(`/key/generate → ${key.status}: ${key.text.slice(0, 300)}`);
  // Set before the key's first call, so no cached principal without its limits exists anywhere.
  if (teamBySql) await setLimitsBySql(db, 'teams', 'team_id', teamId, TEAM_LIMITS);
  if (keyBySql) await setLimitsBySql(db, 'virtual_keys', 'token', key.body.token, KEY_LIMITS);
  if (limits) {
    // Whatever way they were set, read them back: the comparison means nothing if the limits are not there.
    const [row] = (await db.query(`SELECT k.rpm_limit AS key_rpm, k.max_budget AS key_budget, t.rpm_limit AS team_rpm, t.max_budget AS team_budget, k.model_rpm_limit AS key_model_rpm
      FROM virtual_keys k JOIN teams t ON t.team_id = k.team_id WHERE k.token = $1`, [key.body.token])).rows;
    if (!row || row.key_rpm === null || row.team_rpm === null || row.key_budget === null || row.team_budget === null || Object.keys(row.key_model_rpm).length === 0) {
      throw new Error(`the limits did not reach the database: ${JSON.stringify(row)}`);
    }
  }
  return { key: key.body.key, teamId, notes };
}

async function setLimitsBySql(db, table, idColumn, id, limits) {
  const columns = SQL_COLUMNS.filter((column) => limits[column] !== undefined);
  const values = columns.map((column) => (JSON_COLUMNS.has(column) ? JSON.stringify(limits[column]) : limits[column]));
  const assignments = columns.map((column, i) => `"${column}" = $${i + 1}${JSON_COLUMNS.has(column) ? '::jsonb' : ''}`);
  // LiteLLM sets the first reset when a budget_duration is given.
  assignments.push(`"budget_reset_at" = now() + interval '30 days'`);
  const result = await db.query(`UPDATE "${table}" SET ${assignments.join(', ')} WHERE "${idColumn}" = $${columns.length + 1}`, [...values, id]);
  if (result.rowCount !== 1) throw new Error(`UPDATE ${table} matched ${result.rowCount} rows`);
}

/** Rows inserted, updated and deleted so far, per table of the gateway's database (the statistics collector's counts). */
async function rowsWritten(db) {
  await db.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await db.query('SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS written FROM pg_stat_user_tables');
  return new Map(rows.map((row) => [row.relname, Number(row.written)]));
}

/** Whether writes made since `before` show in the statistics within a while (they are flushed ~1 s after, up to 10 s on an idle PostgreSQL backend). */
async function seesWrites(db, before) {
  for (let waited = 0; waited < 12_000; waited += 500) {
    if (writesBetween(before, await rowsWritten(db)).total > 0) return true;
    await sleep(500);
  }
  return false;
}

function writesBetween(before, after) {
  const byTable = {};
  let total = 0;
  for (const [table, count] of after) {
    const delta = count - (before.get(table) ?? 0);
    if (delta > 0) {
      byTable[table] = delta;
      total += delta;
    }
  }
  return { total, byTable };
}

/** CPU seconds per thread group of the gateway: all threads, the request loop, the embedded database's worker. */
function threadCpu(pid) {
  const all = cpuSeconds(pid);
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const statSeconds = (path) => {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  };
  let database = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().startsWith('gatehouse-pglit')) database += statSeconds(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      // the thread ended meanwhile
    }
  }
  return { all, main: statSeconds(`/proc/${pid}/task/${pid}/stat`), database };
}

const fmt = (value, digits = 0) => (value === null || value === undefined ? '—' : value.toFixed(digits));
const range = (s, digits = 0) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

runMain(async () => {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.build) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-needed.js')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const tmpDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-limits-'));
  const mock = startProcess('mock upstream', process.execPath, [join(__dirname, 'servers', 'mock-upstream.js')], { readyLine: /READY (\d+)/ });
  const sink = startProcess('log sink', process.execPath, [join(__dirname, 'servers', 'log-sink.js')], { readyLine: /READY (\d+) (\d+)/, cwd: ROOT });
  const [, mockPort] = await mock.ready;
  const [, sinkPort, sinkDownPort] = await sink.ready;
  const extraEnv = process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {};
  // Each gateway has both keys, and the variants swap gateways every repetition (the order every two): a difference
  // between the two processes (heap layout, where the kernel runs them) then falls on both variants alike.
  const gateways = [];
  for (const index of [0, 1]) {
    const label = `limits-ab-${index}`;
    const gateway = await startGatehouse({ label, tmpDir, mockPort, sinkPort, sinkDownPort, databaseUrl: process.env.DATABASE_URL, extraEnv });
    const db = new Client({ connectionString: databaseUrlOf(gateway, join(tmpDir, label, 'data')) });
    await db.connect();
    const writesBefore = await rowsWritten(db);
    const keys = {};
    for (const [name, limits] of [['plain', false], ['limits', true]]) {
      const made = await makeKeyAndTeam(gateway, db, `${label}-${name}`, limits);
      for (const note of made.notes) console.log(`[gateway ${index} ${name}] ${note}`);
      keys[name] = made.key;
    }
    // The writes that made the keys and teams must show, or a zero during the runs would prove nothing.
    const countsWrites = await seesWrites(db, writesBefore);
    if (!countsWrites) console.log(`[gateway ${index}] pg_stat_user_tables did not count the setup's writes: rows written are not reported`);
    gateways.push({ index, gateway, db, keys, countsWrites });
  }
  const VARIANTS = ['plain', 'limits'];
  const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hello, how are you today?' }] });
  const targetFor = (host, variant) => ({
    url: `${host.gateway.baseUrl}/v1/chat/completions`,
    body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${host.keys[variant]}` },
  });
  const only = (host) => {
    for (const other of gateways) (other === host ? resume : pause)(other.gateway.proc);
  };
  console.log(`load: ${toolName()}; ${opts.reps} reps × c=${opts.concurrency.join(',')} × ${opts.duration} s; database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}${extraEnv.REDIS_URL ? ', Redis' : ''}`);

  // Both gateways past their JIT warm-up on both paths before anything is measured, or the first window pays for compiling.
  const primeSeconds = Math.max(2, opts.warmup);
  for (const host of gateways) {
    only(host);
    for (const variant of VARIANTS) await runLoad({ target: targetFor(host, variant), connections: Math.max(...opts.concurrency), seconds: primeSeconds, tmpDir });
  }

  const runs = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    for (const connections of opts.concurrency) {
      const order = Math.floor(rep / 2) % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const host = gateways[(VARIANTS.indexOf(variant) + rep) % 2];
        only(host);
        const target = targetFor(host, variant);
        await runLoad({ target, connections, seconds: opts.warmup, tmpDir });
        // Statistics reach pg_stat_user_tables when a backend has been idle ~1 s: let the warm-up's land first.
        await sleep(1500);
        const writesBefore = await rowsWritten(host.db);
        const pid = host.gateway.proc.measuredPid;
        const cpuBefore = threadCpu(pid);
        const rss = rssSampler(pid);
        const run = await runLoad({ target, connections, seconds: opts.duration, tmpDir });
        const cpuAfter = threadCpu(pid);
        const peakRss = rss.stop();
        await sleep(1500);
        const writes = host.countsWrites ? writesBetween(writesBefore, await rowsWritten(host.db)) : { total: null, byTable: {} };
        const perRequest = (field) => ((cpuAfter[field] - cpuBefore[field]) / run.requests) * 1e6;
        const result = {
          rep,
          connections,
          variant,
          gateway: host.index,
          requests: run.requests,
          rps: run.rps,
          p99_ms: run.p99,
          failed: run.errors + run.non2xx,
          cpu_us_per_req: perRequest('all'),
          cpu_main_us_per_req: perRequest('main'),
          // PostgreSQL's CPU is another process's: only the embedded database's thread is counted here.
          cpu_database_us_per_req: process.env.DATABASE_URL ? null : perRequest('database'),
          peak_rss_mb: peakRss / 1024 / 1024,
          rows_written: writes.total,
          rows_written_by_table: writes.byTable,
          rows_written_per_s: writes.total === null ? null : writes.total / run.seconds,
        };
        runs.push(result);
        console.log(
          `rep ${rep} c=${connections} ${variant.padEnd(6)} (gateway ${host.index}): ${run.rps.toFixed(0)} req/s, ${result.cpu_us_per_req.toFixed(0)} µs/req (main ${fmt(result.cpu_main_us_per_req)}, embedded db ${fmt(result.cpu_database_us_per_req)}), ` +
            `RSS ${result.peak_rss_mb.toFixed(0)} MB, failed ${result.failed}, rows written ${writes.total ?? 'n/a'} ${JSON.stringify(writes.byTable)}`,
        );
      }
    }
  }
  // A paused gateway would never answer its client's goodbye.
  for (const host of gateways) resume(host.gateway.proc);
  for (const host of gateways) await host.db.end();

  const lines = [];
  const out = (line = '') => {
    lines.push(line);
    console.log(line);
  };
  out(`# Budgets and rate limits: CPU per request with limits vs without (issue 26)`);
  out();
  out(`${new Date().toISOString()}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${toolName()}, ${opts.reps} reps × ${opts.duration} s, ` +
    `${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}${extraEnv.REDIS_URL ? ' + Redis' : ''}. Medians (min–max) over repetitions; the ratio is the geometric mean over the two gateways of each one's median limits ÷ median plain.`);
  out();
  out('| c | variant | req/s | CPU µs/req (all threads) | request loop µs/req | embedded database thread µs/req | peak RSS MB | rows written / s | rows written / 1000 req | failed |');
  out('|---|---|---|---|---|---|---|---|---|---|');
  const targets = [];
  for (const connections of opts.concurrency) {
    for (const variant of VARIANTS) {
      const mine = runs.filter((run) => run.connections === connections && run.variant === variant);
      const pick = (field) => summary(mine.map((run) => run[field]));
      out(`| ${connections} | ${variant} | ${range(pick('rps'))} | ${range(pick('cpu_us_per_req'))} | ${range(pick('cpu_main_us_per_req'))} | ${range(pick('cpu_database_us_per_req'))} | ` +
        `${range(pick('peak_rss_mb'))} | ${range(pick('rows_written_per_s'), 1)} | ${range(summary(mine.map((run) => (run.rows_written === null ? null : (run.rows_written / run.requests) * 1000))), 2)} | ${mine.reduce((sum, run) => sum + run.failed, 0)} |`);
    }
    // Each gateway runs both variants (they swap every repetition), and two processes of one build differ by several
    // per cent on this machine: the ratio is taken within each gateway (median limits ÷ median plain), then the
    // geometric mean of the two, so the difference between the processes cancels instead of landing on one variant.
    const cpuOf = (gateway, variant) =>
      median(runs.filter((run) => run.connections === connections && run.gateway === gateway && run.variant === variant).map((run) => run.cpu_us_per_req));
    const perGateway = [0, 1].map((gateway) => {
      const plain = cpuOf(gateway, 'plain');
      const limited = cpuOf(gateway, 'limits');
      return plain && limited ? limited / plain : null;
    });
    const limitedRuns = runs.filter((run) => run.connections === connections && run.variant === 'limits');
    const failed = limitedRuns.reduce((sum, run) => sum + run.failed, 0) + runs.filter((run) => run.connections === connections && run.variant === 'plain').reduce((sum, run) => sum + run.failed, 0);
    const ratio = perGateway.every((value) => value !== null) ? Math.sqrt(perGateway[0] * perGateway[1]) : null;
    targets.push({
      name: `CPU/request with limits ÷ without, c=${connections}`,
      measured: `${fmt(ratio, 3)}× (gateway 0: ${fmt(perGateway[0], 3)}, gateway 1: ${fmt(perGateway[1], 3)})`,
      met: failed === 0 && ratio !== null && ratio <= TARGET_RATIO,
      target: `≤ ${TARGET_RATIO}×${failed > 0 ? ` (${failed} failed requests: not comparable)` : ''}`,
    });
    const writesPerRequest = median(limitedRuns.map((run) => (run.rows_written === null ? null : run.rows_written / run.requests)));
    targets.push({
      name: `rows written per request with limits, c=${connections} (batched spend, not per call)`,
      measured: `${fmt(writesPerRequest, 4)} (${fmt(median(limitedRuns.map((run) => run.rows_written_per_s)), 1)} rows/s at ${fmt(median(limitedRuns.map((run) => run.rps)))} req/s)`,
      met: writesPerRequest !== null && writesPerRequest <= MAX_ROWS_WRITTEN_PER_REQUEST,
      target: `≤ ${MAX_ROWS_WRITTEN_PER_REQUEST}`,
    });
  }
  out();
  out('| target | measured | goal | |');
  out('|---|---|---|---|');
  for (const target of targets) out(`| ${target.name} | ${target.measured} | ${target.target} | ${target.met ? 'met' : '**MISSED**'} |`);
  out();
  out('Rows written: inserts + updates + deletes of every table during the measured window (pg_stat_user_tables), so a per-request');
  out('write shows as ≥ 1 row per request; batched spend shows as a few rows per flush, whatever the load.');

  mkdirSync(opts.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const base = join(opts.out, `${stamp}-limits`);
  writeFileSync(`${base}.json`, JSON.stringify({ opts, runs, targets }, null, 2));
  writeFileSync(`${base}.md`, `${lines.join('\n')}\n`);
  console.log(`\nwritten: ${base}.md, ${base}.json`);
});
