#!/usr/bin/env node
'use strict';
// Issue 29's memory targets, and what the V8 settings Gatehouse starts with cost in CPU.
//
//   node bench/memory.js [--duration S] [--after 30,60] [--concurrency 50] [--ab-reps N] [--ab-seconds S] [--databases pglite,postgres]
//   npm run bench -- --memory [same options]
//
// For each database (the embedded PGlite in a fresh DATA_DIR; PostgreSQL when DATABASE_URL is set), two gateways of
// the same build (dist/) on the same mock upstream and log sink, three destinations on (Langfuse, GCS, OTel):
//   "gatehouse": as it starts by default (young generation capped: --max-semi-space-size=16, delivery thread 48 MB);
//   "node default": NODE_OPTIONS=--max-semi-space-size=64, Node 24's own limit (the operator's setting wins, so this
//     is the gateway without its V8 settings).
// Reported per gateway, in MB of resident set (/proc/<pid>/status): boot peak (VmHWM once ready: the first boot on a
// fresh data directory), idle (median over 5 s, 5 s after the keys were made), loaded (c=50 for --duration, default
// 60 s: the median of the samples of the second half, and the peak), and 30 / 60 s after the load. The two gateways
// are loaded one after the other (the other one idle), so each has the machine nearly to itself.
// Then the CPU A/B: CPU µs per request (all threads, the run's delivery included) of the two, interleaved,
// --ab-reps repetitions (default 4) of --ab-seconds (default 5) at the same concurrency, and the ratio per repetition.
// The issue's targets are printed met / MISSED. Results: bench/results/<date>-memory.json and .md.
const { mkdirSync, mkdtempSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { startGatehouse, MODEL, ROOT } = require('./lib/gatehouse');
const { startProcess, pause, resume, sleep, stop, runMain } = require('./lib/processes');
const { runLoad, toolName } = require('./lib/load');
const { cpuSeconds, memory } = require('./lib/procstat');
const { median } = require('./lib/stats');

const MB = 1024 * 1024;
/** VARIANT_ENV='NAME=VALUE ...' replaces the second gateway ("node default") with the default one plus that environment. */
const VARIANTS = [
  { name: 'gatehouse', env: {} },
  process.env.VARIANT_ENV
    ? { name: `gatehouse + ${process.env.VARIANT_ENV}`, env: Object.fromEntries(process.env.VARIANT_ENV.split(/\s+/).filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])) }
    : { name: 'node default', env: { NODE_OPTIONS: '--max-semi-space-size=64' } },
];

function parseArgs(argv) {
  const opts = { duration: 60, after: [30, 60], concurrency: 50, abReps: 4, abSeconds: 5, databases: null, out: join(__dirname, 'results') };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--memory' || flag === '--no-build') continue;
    else if (flag === '--duration') opts.duration = Number(value());
    else if (flag === '--after') opts.after = value().split(',').map(Number);
    else if (flag === '--concurrency') opts.concurrency = Number(value());
    else if (flag === '--ab-reps') opts.abReps = Number(value());
    else if (flag === '--ab-seconds') opts.abSeconds = Number(value());
    else if (flag === '--databases') opts.databases = value().split(',');
    else if (flag === '--out') opts.out = value();
    else throw new Error(`unknown option ${argv[i]} (see the head of bench/memory.js)`);
  }
  opts.databases ??= process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
  if (opts.databases.includes('postgres') && !process.env.DATABASE_URL) throw new Error('--databases postgres needs DATABASE_URL');
  return opts;
}

const rssMb = (pid) => (memory(pid)?.rss ?? 0) / MB;
const loadAverage = () => os.loadavg().map((value) => Number(value.toFixed(2)));

/** Samples RSS every 250 ms for `seconds`; resolves the median (MB). */
async function steadyRss(pid, seconds) {
  const samples = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    samples.push(rssMb(pid));
    await sleep(250);
  }
  return median(samples);
}

function target(text, value, limit) {
  const met = value !== null && value <= limit;
  return { text, value, limit, met };
}

runMain(async () => {
  const opts = parseArgs(process.argv.slice(2));
  const tmpDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-memory-'));
  const startedAt = new Date();
  const loadAtStart = loadAverage();
  console.log(`[memory] ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}, load ${toolName()}; load average ${loadAtStart.join(' ')}`);
  const mock = startProcess('mock upstream', process.execPath, [join(__dirname, 'servers', 'mock-upstream.js')], { readyLine: /READY (\d+)/ });
  const sink = startProcess('log sink', process.execPath, [join(__dirname, 'servers', 'log-sink.js')], { readyLine: /READY (\d+) (\d+)/, cwd: ROOT });
  const [, mockPort] = await mock.ready;
  const [, sinkPort, sinkDownPort] = await sink.ready;
  const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hello, how are you today?' }] });
  const results = [];

  for (const database of opts.databases) {
    const gateways = [];
    for (const variant of VARIANTS) {
      // Unique per run: a reused PostgreSQL database keeps the key aliases of earlier runs.
      const label = `mem-${database}-${variant.name.replace(/\W+/g, '-')}-${startedAt.getTime().toString(36)}`;
      const gateway = await startGatehouse({
        label,
        tmpDir,
        mockPort,
        sinkPort,
        sinkDownPort,
        databaseUrl: database === 'postgres' ? process.env.DATABASE_URL : undefined,
        extraEnv: variant.env,
      });
      const pid = gateway.proc.measuredPid;
      const bootPeak = (memory(pid)?.hwm ?? 0) / MB;
      // Start-up done (keys made): what a quiet instance settles at.
      await sleep(5000);
      const idle = await steadyRss(pid, 5);
      console.log(`[memory] ${database}, ${variant.name}: boot peak ${bootPeak.toFixed(0)} MB, idle ${idle.toFixed(0)} MB`);
      gateways.push({ database, variant: variant.name, gateway, pid, bootPeak, idle, after: {} });
    }

    // Loaded: one at a time (the other idle, not paused: a paused process gives nothing back). The after-load
    // samples of one run on while the next one is loaded (RSS, not CPU, is what they read).
    const afterTimers = [];
    for (const entry of gateways) {
      const target = { url: `${entry.gateway.baseUrl}/v1/chat/completions`, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${entry.gateway.keys.loggingOn}` } };
      const samples = [];
      let peak = 0;
      const startedLoad = Date.now();
      const sampler = setInterval(() => {
        const now = rssMb(entry.pid);
        samples.push({ t: Date.now() - startedLoad, rss: now });
        if (now > peak) peak = now;
      }, 250);
      const cpuBefore = cpuSeconds(entry.pid);
      const run = await runLoad({ target, connections: opts.concurrency, seconds: opts.duration, tmpDir });
      clearInterval(sampler);
      entry.loadedPeak = Math.max(peak, rssMb(entry.pid));
      entry.loaded = median(samples.filter((s) => s.t >= (opts.duration * 1000) / 2).map((s) => s.rss));
      entry.loadedRun = { requests: run.requests, rps: run.rps, p99: run.p99, errors: run.errors, non2xx: run.non2xx };
      const loadEnded = Date.now();
      afterTimers.push(
        (async () => {
          await sleep(1500);
          entry.loadCpuUsPerRequest = ((cpuSeconds(entry.pid) - cpuBefore) / run.requests) * 1e6;
          for (const seconds of opts.after) {
            await sleep(Math.max(0, loadEnded + seconds * 1000 - Date.now()));
            entry.after[seconds] = rssMb(entry.pid);
          }
        })(),
      );
      console.log(
        `[memory] ${database}, ${entry.variant}: loaded ${entry.loaded.toFixed(0)} MB (peak ${entry.loadedPeak.toFixed(0)}), ${run.rps.toFixed(0)} req/s at c=${opts.concurrency}` +
          `${run.errors || run.non2xx ? `, ${run.errors} errors, ${run.non2xx} non-2xx` : ''}`,
      );
    }
    await Promise.all(afterTimers);

    // CPU A/B, interleaved, the other paused.
    const ab = gateways.map(() => []);
    for (let rep = 0; rep < opts.abReps; rep++) {
      for (let k = 0; k < gateways.length; k++) {
        const i = (k + rep) % gateways.length;
        const entry = gateways[i];
        for (const other of gateways) (other === entry ? resume : pause)(other.gateway.proc);
        const target = { url: `${entry.gateway.baseUrl}/v1/chat/completions`, body, headers: { 'content-type': 'application/json', authorization: `Bearer ${entry.gateway.keys.loggingOn}` } };
        await runLoad({ target, connections: opts.concurrency, seconds: 1, tmpDir });
        await sleep(1500);
        const before = cpuSeconds(entry.pid);
        const run = await runLoad({ target, connections: opts.concurrency, seconds: opts.abSeconds, tmpDir });
        await sleep(1500); // the run's events delivered count
        ab[i].push({ cpu: ((cpuSeconds(entry.pid) - before) / run.requests) * 1e6, rps: run.rps, rss: rssMb(entry.pid) });
        console.log(`[memory] ${database} A/B rep ${rep} ${entry.variant}: ${ab[i].at(-1).cpu.toFixed(0)} µs/request, ${run.rps.toFixed(0)} req/s, RSS ${ab[i].at(-1).rss.toFixed(0)} MB`);
      }
    }
    const ratios = ab[0].map((run, rep) => run.cpu / ab[1][rep].cpu);
    for (const [i, entry] of gateways.entries()) {
      entry.abCpu = median(ab[i].map((run) => run.cpu));
      entry.abRss = median(ab[i].map((run) => run.rss));
    }
    results.push({ database, gateways: gateways.map(({ gateway, ...rest }) => rest), cpuRatio: median(ratios), cpuRatios: ratios });
    for (const entry of gateways) await stop(entry.gateway.proc);
  }

  const loadAtEnd = loadAverage();
  const lines = [];
  lines.push(`# Memory (issue 29): ${startedAt.toISOString()}`, '');
  lines.push(
    `${os.cpus().length} cores, Node ${process.version}, load ${toolName()}, c=${opts.concurrency}, three destinations, ${opts.duration} s loaded; ` +
      `load average at start ${loadAtStart.join(' ')}, at end ${loadAtEnd.join(' ')}.`,
    '',
    '| database | V8 young generation | boot peak | idle | loaded (median, 2nd half) | loaded peak | ' + opts.after.map((s) => `${s} s after`).join(' | ') + ' | CPU µs/request (A/B median) |',
    '|---|---|---:|---:|---:|---:|' + opts.after.map(() => '---:|').join('') + '---:|',
  );
  for (const { database, gateways } of results) {
    for (const entry of gateways) {
      lines.push(
        `| ${database} | ${entry.variant === 'gatehouse' ? 'capped (semi-space 16 MB, thread 48 MB)' : entry.variant === 'node default' ? 'Node default (NODE_OPTIONS=--max-semi-space-size=64)' : entry.variant} | ${entry.bootPeak.toFixed(0)} | ${entry.idle.toFixed(0)} | ${entry.loaded.toFixed(0)} | ${entry.loadedPeak.toFixed(0)} | ` +
          opts.after.map((s) => (entry.after[s] ?? NaN).toFixed(0)).join(' | ') +
          ` | ${entry.abCpu.toFixed(0)} |`,
      );
    }
  }
  lines.push('');
  for (const { database, cpuRatio, cpuRatios } of results) {
    lines.push(`- ${database}: CPU per request, ${VARIANTS[0].name} ÷ ${VARIANTS[1].name}, per repetition ${cpuRatios.map((r) => r.toFixed(3)).join(' ')} → median **${cpuRatio.toFixed(3)}**`);
  }
  lines.push('', '## Targets (the gateway as it starts by default)', '');
  const targets = [];
  for (const { database, gateways } of results) {
    const ours = gateways.find((entry) => entry.variant === 'gatehouse');
    const lastAfter = opts.after[opts.after.length - 1];
    if (database === 'postgres') targets.push(target('loaded RSS on PostgreSQL ≤ 300 MB (peak)', ours.loadedPeak, 300));
    if (database === 'pglite') {
      targets.push(target('loaded RSS on PGlite ≤ 550 MB (peak)', ours.loadedPeak, 550));
      targets.push(target('PGlite boot peak ≤ 500 MB', ours.bootPeak, 500));
      targets.push(target('idle on PGlite ≤ 300 MB', ours.idle, 300));
    }
    targets.push(target(`${database}: RSS ${lastAfter} s after the load ≤ 1.1 × idle + 50 MB (${(1.1 * ours.idle + 50).toFixed(0)})`, ours.after[lastAfter] ?? null, 1.1 * ours.idle + 50));
  }
  for (const t of targets) lines.push(`- ${t.met ? 'met' : '**MISSED**'}: ${t.text}: ${t.value === null ? 'n/a' : t.value.toFixed(0)} MB`);
  const markdown = `${lines.join('\n')}\n`;
  console.log(`\n${markdown}`);
  mkdirSync(opts.out, { recursive: true });
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  writeFileSync(join(opts.out, `${stamp}-memory.json`), `${JSON.stringify({ kind: 'memory', startedAt, loadAtStart, loadAtEnd, opts, results, targets }, null, 2)}\n`);
  writeFileSync(join(opts.out, `${stamp}-memory.md`), markdown);
  console.log(`[memory] results: ${join(opts.out, `${stamp}-memory.md`)}`);
});
