#!/usr/bin/env node
'use strict';
// `npm run bench` — Gatehouse measured side by side with a direct call and a bare NestJS forwarder, on loopback.
// See bench/README.md for the method and the flags.
const { execFileSync, spawnSync } = require('node:child_process');
const { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { runLoad, toolName } = require('./lib/load');
const { cpuSeconds, memory, rssSampler, threadCpuSeconds } = require('./lib/procstat');
const { freePort, sleep, startProcess, findDescendant, pause, resume, stop, killAllNow } = require('./lib/processes');
const { startGatehouse, ROOT, MODEL, ANTHROPIC_MODEL } = require('./lib/gatehouse');
const { streamLoop } = require('./lib/stream-probe');
const { median, percentile, summary } = require('./lib/stats');
const { renderReport, renderSoak } = require('./lib/report');
const { summarizeProfile } = require('./lib/cpuprofile');
const { measureMasking } = require('./lib/masking-cost');
const { runFuzz, renderFuzz } = require('./lib/fuzz');

const PORTKEY_VERSION = '1.15.2';
const HELP = `npm run bench [-- options]

  --quick              1 repetition, 2 s runs, 0.5 s warm-up (a smoke run, ~1.5 min)
  --duration S         seconds per measured run (default 5)
  --warmup S           seconds of unrecorded warm-up before each run (default 1)
  --reps N             interleaved repetitions (default 5)
  --concurrency LIST   default 1,10,50
  --scenarios LIST     default 1,2,3,4,5,6,7,9,10,11,12 (+8 with BENCH_PEERS=portkey); 9 and 10 are yardsticks
                       served by the bare forwarder (a static-JSON Nest route; the forwarder + a no-op interceptor);
                       11 is PII masking per event on the built masker, in process
  --stream-seconds S   seconds per streaming measurement (default 2)
  --soak N             soak instead: N requests with logging on (scenario 4), RSS over time
  --soak-concurrency C default 10
  --soak-minutes M     stop a soak that has not sent N requests after M minutes (default 20) and report it
  --profile            instead: scenario 4 under node --cpu-prof at the highest concurrency, top self-time functions
  --fuzz [N]           instead: the suite's fuzz spec with N generated malformed requests per phase (default 10000),
                       in process and against the real process; counts by status (--fuzz-seed S, default 23)
  --out DIR            results directory (default bench/results)
  --no-build           use dist/ as it is
  --render FILE.json   only re-render FILE.md from a results JSON
  --memory             instead: issue 29's memory targets and the V8 settings' CPU cost (bench/memory.js: --duration S,
                       default 60; --after 30,60; --ab-reps N; --databases pglite,postgres)
  --limits             instead: issue 26's A/B, key and team without and with budgets and rate limits, c=10 and 50
                       (bench/limits-ab.js; takes --reps, --duration, --warmup, --concurrency, --quick, --no-build, --out)

  env DATABASE_URL     use this PostgreSQL instead of the embedded PGlite
  env BENCH_PEERS=portkey  also run Portkey ${PORTKEY_VERSION} (npm exec, bound to 127.0.0.1) as scenario 8`;

function parseArgs(argv) {
  const opts = {
    duration: 5,
    warmup: 1,
    reps: 5,
    concurrency: [1, 10, 50],
    scenarios: null,
    streamSeconds: 2,
    soak: 0,
    soakConcurrency: 10,
    soakMinutes: 20,
    profile: false,
    fuzz: 0,
    fuzzSeed: 23,
    out: join(ROOT, 'bench', 'results'),
    build: true,
  };
  const list = (v) => String(v).split(',').map((x) => Number(x.trim())).filter((x) => Number.isFinite(x) && x > 0);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--quick':
        opts.reps = 1;
        opts.duration = 2;
        opts.warmup = 0.5;
        opts.streamSeconds = 1;
        break;
      case '--duration':
        opts.duration = Number(value());
        break;
      case '--warmup':
        opts.warmup = Number(value());
        break;
      case '--reps':
        opts.reps = Number(value());
        break;
      case '--concurrency':
        opts.concurrency = list(value());
        break;
      case '--scenarios':
        opts.scenarios = list(value());
        break;
      case '--stream-seconds':
        opts.streamSeconds = Number(value());
        break;
      case '--soak':
        opts.soak = Number(value());
        break;
      case '--soak-concurrency':
        opts.soakConcurrency = Number(value());
        break;
      case '--soak-minutes':
        opts.soakMinutes = Number(value());
        break;
      case '--profile':
        opts.profile = true;
        break;
      case '--fuzz':
        // The count is optional: `--fuzz` alone runs 10,000.
        opts.fuzz = inline !== undefined ? Number(inline) : /^\d+$/.test(argv[i + 1] ?? '') ? Number(argv[++i]) : 10_000;
        break;
      case '--fuzz-seed':
        opts.fuzzSeed = Number(value());
        break;
      case '--out':
        opts.out = value();
        break;
      case '--no-build':
        opts.build = false;
        break;
      case '--render':
        opts.render = value();
        break;
      case '--help':
      case '-h':
        console.log(HELP);
        process.exit(0);
        break;
      default:
        console.error(`unknown option ${arg}\n\n${HELP}`);
        process.exit(2);
    }
  }
  for (const [name, v] of Object.entries({ duration: opts.duration, warmup: opts.warmup, reps: opts.reps, streamSeconds: opts.streamSeconds })) {
    if (!Number.isFinite(v) || v < 0 || (name !== 'warmup' && v === 0)) {
      console.error(`invalid --${name}: ${v}`);
      process.exit(2);
    }
  }
  // wrk takes whole seconds.
  opts.duration = Math.max(1, Math.round(opts.duration));
  opts.warmupWhole = Math.round(opts.warmup);
  return opts;
}

const log = (...args) => console.error(...args);
const fmt = (v, digits = 0) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

// ---------------------------------------------------------------------------------------------------------------
// Environment

function machineInfo() {
  const cpus = os.cpus();
  let commit = null;
  let dirty = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
  } catch {
    // not a git checkout
  }
  let wrkVersion = null;
  const wrk = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (wrk.status !== null) wrkVersion = (wrk.stdout || wrk.stderr).split('\n')[0].trim() || null;
  return {
    date: new Date().toISOString(),
    commit,
    src_modified_vs_commit: dirty,
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    load_average_at_start: os.loadavg().map((x) => Number(x.toFixed(2))),
    load_tool: toolName(),
    wrk: wrkVersion,
  };
}

function buildIfNeeded() {
  log('[bench] checking the build (scripts/build-if-needed.js) ...');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-if-needed.js')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
}

// ---------------------------------------------------------------------------------------------------------------
// The sink's counters: how far delivery has got

async function upstreamCount(env) {
  const res = await fetch(`${env.mockUrl}/__stats`);
  return (await res.json()).requests;
}

async function sinkStats(sinkUrl) {
  const res = await fetch(`${sinkUrl}/__stats`);
  return res.json();
}

/** Counters that mean "one request's event arrived" per destination. */
const DELIVERED = { langfuse: 'langfuse_generations', gcs: 'gcs_lines', otel: 'otlp_spans' };

/**
 * Waits until every live destination received `expected` more events than in `before`, then until the counters
 * stay still for 300 ms (requests the load generator abandoned at its end are logged too). Max `timeoutMs`.
 */
async function waitForDelivery(sinkUrl, before, live, expected, timeoutMs = 20_000) {
  const started = Date.now();
  let last = null;
  let stillSince = Date.now();
  let reached = false;
  for (;;) {
    const now = await sinkStats(sinkUrl);
    const delivered = Object.fromEntries(live.map((d) => [d, now[DELIVERED[d]] - before[DELIVERED[d]]]));
    if (!reached) reached = live.every((d) => delivered[d] >= expected);
    const key = JSON.stringify(delivered);
    if (key !== last) {
      last = key;
      stillSince = Date.now();
    }
    if (reached && Date.now() - stillSince >= 300) return { drained: true, ms: Date.now() - started, delivered };
    if (Date.now() - started > timeoutMs) return { drained: false, ms: Date.now() - started, delivered };
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

const CHAT_BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 16 });
/** The same request for the deployment behind the Anthropic provider (scenario 12). */
const CLAUDE_BODY = JSON.stringify({ model: ANTHROPIC_MODEL, messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 16 });

function defineScenarios(env) {
  const json = { 'content-type': 'application/json' };
  const s = [
    { id: 1, name: 'direct to the mock', short: 'direct', proc: env.mock, url: `${env.mockUrl}/v1/chat/completions`, headers: { ...json, authorization: 'Bearer sk-bench-upstream' } },
    { id: 2, name: 'bare NestJS-express forwarder', short: 'bare Nest', proc: env.forwarder, url: `${env.forwarderUrl}/v1/chat/completions`, headers: json },
    { id: 3, name: 'gateway: auth + routing, logging off', short: 'gw no log', proc: env.gw[3]?.proc, url: `${env.gw[3]?.baseUrl}/v1/chat/completions`, headers: { ...json, authorization: `Bearer ${env.gw[3]?.keys.loggingOff}` } },
    {
      id: 4,
      name: 'gateway: 3 destinations, durable delivery',
      short: 'gw 3 dest',
      proc: env.gw[4]?.proc,
      url: `${env.gw[4]?.baseUrl}/v1/chat/completions`,
      headers: { ...json, authorization: `Bearer ${env.gw[4]?.keys.loggingOn}` },
      live: ['langfuse', 'gcs', 'otel'],
    },
    {
      id: 6,
      name: 'gateway: cache hits, logging off',
      short: 'gw cached',
      proc: env.gw[3]?.keys.cacheOn ? env.gw[3].proc : undefined,
      url: `${env.gw[3]?.baseUrl}/v1/chat/completions`,
      headers: { ...json, authorization: `Bearer ${env.gw[3]?.keys.cacheOn}` },
      cached: true,
    },
    // Yardsticks served by the bare forwarder's process (no process of their own).
    {
      id: 9,
      name: 'bare NestJS route (static JSON, no upstream)',
      short: 'bare JSON',
      proc: env.forwarder,
      url: `${env.forwarderUrl}/v1/static/chat/completions`,
      headers: json,
      noUpstream: true,
    },
    {
      id: 12,
      name: 'gateway: Anthropic upstream (Messages API), logging off',
      short: 'gw claude',
      proc: env.gw[3]?.anthropic ? env.gw[3].proc : undefined,
      url: `${env.gw[3]?.baseUrl}/v1/chat/completions`,
      headers: { ...json, authorization: `Bearer ${env.gw[3]?.keys.loggingOff}` },
      body: CLAUDE_BODY,
    },
    { id: 10, name: 'bare forwarder + one no-op Nest interceptor', short: 'bare+intc', proc: env.forwarder, url: `${env.forwarderUrl}/v1/intercepted/chat/completions`, headers: json },
    {
      id: 5,
      name: 'gateway: 3 destinations, Langfuse down (503)',
      short: 'gw 1 down',
      proc: env.gw[5]?.proc,
      url: `${env.gw[5]?.baseUrl}/v1/chat/completions`,
      headers: { ...json, authorization: `Bearer ${env.gw[5]?.keys.loggingOn}` },
      live: ['gcs', 'otel'],
    },
  ];
  if (env.portkey) {
    s.push({
      id: 8,
      name: `Portkey ${PORTKEY_VERSION} (peer)`,
      short: 'Portkey',
      proc: env.portkey,
      url: `${env.portkeyUrl}/v1/chat/completions`,
      headers: { ...json, authorization: 'Bearer sk-bench-upstream', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${env.mockUrl}/v1` },
    });
  }
  return s;
}

/** Only the process under test runs; every other target is paused (the mock and the sink always run). */
function isolate(env, proc) {
  for (const p of env.targets) if (p !== proc) pause(p);
  if (proc) resume(proc);
}

/** One measured run of a scenario at concurrency c: warm-up, (drain), load, (drain), numbers. */
async function measure(env, scenario, c, opts) {
  try {
    return await measureOnce(env, scenario, c, opts);
  } catch (error) {
    // Most often the process under test died: say which, and what it last printed.
    const proc = scenario.proc;
    const gone = proc.child.exitCode !== null || proc.child.signalCode !== null;
    const state = gone ? `${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode})` : `${proc.name} still running`;
    throw new Error(`scenario ${scenario.id} at c=${c}: ${error.message.trim()}; ${state}; its last output:\n${proc.output().slice(-3000)}`);
  }
}

async function measureOnce(env, scenario, c, opts) {
  isolate(env, scenario.proc);
  await sleep(100);
  const target = { url: scenario.url, method: 'POST', headers: scenario.headers, body: scenario.body ?? CHAT_BODY };
  if (opts.warmup > 0) {
    const beforeWarm = scenario.live ? await sinkStats(env.sinkUrl) : null;
    const warm = await runLoad({ target, connections: c, seconds: Math.max(1, opts.warmupWhole), tmpDir: env.tmpDir });
    // Let the warm-up's log events drain so their delivery does not land in the measured window.
    if (scenario.live) await waitForDelivery(env.sinkUrl, beforeWarm, scenario.live, warm.requests, 60_000);
  }
  const pid = scenario.proc.measuredPid;
  const before = scenario.live ? await sinkStats(env.sinkUrl) : null;
  const upstream0 = await upstreamCount(env);
  const cpu0 = cpuSeconds(pid);
  const threads0 = threadCpuSeconds(pid);
  const sampler = rssSampler(pid);
  const windowStartUs = Number(process.hrtime.bigint() / 1000n);
  const r = await runLoad({ target, connections: c, seconds: opts.duration, tmpDir: env.tmpDir });
  const cpuLoad = cpuSeconds(pid) - cpu0;
  const upstreamRequests = (await upstreamCount(env)) - upstream0;
  let delivery = null;
  // A gateway whose delivery cannot keep up gets a minute; what is left then is reported ("not drained").
  if (scenario.live) delivery = await waitForDelivery(env.sinkUrl, before, scenario.live, r.requests, 60_000);
  const cpuAll = cpuSeconds(pid) - cpu0;
  const threads1 = threadCpuSeconds(pid);
  const windowEndUs = Number(process.hrtime.bigint() / 1000n);
  const peak = sampler.stop();
  const mem = memory(pid);
  // No request completed within the run: latency percentiles do not exist (wrk would print 0).
  const stalled = r.requests === 0;
  return {
    scenario: scenario.id,
    c,
    rps: r.rps,
    requests: r.requests,
    seconds: r.seconds,
    stalled,
    p50: stalled ? null : r.p50,
    p90: stalled ? null : r.p90,
    p99: stalled ? null : r.p99,
    max: stalled ? null : r.max,
    errors: r.errors,
    non2xx: r.non2xx,
    cpu_us_per_req: r.requests > 0 ? (cpuAll * 1e6) / r.requests : null,
    cpu_us_per_req_during_load: r.requests > 0 ? (cpuLoad * 1e6) / r.requests : null,
    cpu_util_during_load: cpuLoad / r.seconds,
    // The request loop alone, and the log delivery thread alone (0 for processes without one), over the same window as cpu_us_per_req.
    cpu_main_us_per_req: r.requests > 0 && threads0 && threads1 ? ((threads1.main - threads0.main) * 1e6) / r.requests : null,
    cpu_delivery_us_per_req: r.requests > 0 && threads0 && threads1 ? ((threads1.delivery - threads0.delivery) * 1e6) / r.requests : null,
    rss_peak_mb: peak / 2 ** 20,
    rss_hwm_mb: mem ? mem.hwm / 2 ** 20 : null,
    // How many of the run's requests reached the mock upstream (cache hits do not).
    upstream_requests: upstreamRequests,
    delivery,
    // CLOCK_MONOTONIC µs, the clock of V8's CPU profiles: lets --profile keep only the measured window.
    window_us: [windowStartUs, windowEndUs],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming (scenario 7): TTFT and per-chunk cost, c=1, direct vs gateway (3 destinations on)

async function measureStreams(env, opts) {
  const chunkCounts = [8, 64];
  const openAi = (chunks) => JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello' }], stream: true, bench_chunks: chunks });
  // Anthropic's stream length is picked by max_tokens (the provider passes it on; it drops unknown fields).
  const claude = (model) => (chunks) => JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello' }], stream: true, max_tokens: chunks });
  const targets = [
    { id: 'direct', proc: env.mock, url: `${env.mockUrl}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench-upstream' }, body: openAi },
    { id: 'gateway, logging off', baseline: 'direct', proc: env.gw[3].proc, url: `${env.gw[3].baseUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${env.gw[3].keys.loggingOff}` }, body: openAi },
    { id: 'gateway, 3 destinations', baseline: 'direct', proc: env.gw[4].proc, url: `${env.gw[4].baseUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${env.gw[4].keys.loggingOn}` }, live: ['langfuse', 'gcs', 'otel'], body: openAi },
  ];
  if (env.gw[3].anthropic) {
    // Issue 24: the Anthropic provider's stream translation, against the same mock speaking the Messages API.
    targets.push(
      { id: 'direct, Messages API', proc: env.mock, url: `${env.mockUrl}/v1/messages`, headers: { 'x-api-key': 'sk-bench-upstream', 'anthropic-version': '2023-06-01' }, body: claude('claude-sonnet-4-5') },
      { id: 'gateway, Anthropic upstream, logging off', baseline: 'direct, Messages API', issue: 'issue 24', proc: env.gw[3].proc, url: `${env.gw[3].baseUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${env.gw[3].keys.loggingOff}` }, body: claude(ANTHROPIC_MODEL) },
    );
  }
  const gateways = targets.filter((t) => t.baseline);
  const runs = [];
  for (let rep = 1; rep <= opts.reps; rep++) {
    for (const chunks of chunkCounts) {
      const shift = (rep - 1) % targets.length;
      const order = [...targets.slice(shift), ...targets.slice(0, shift)];
      for (const t of order) {
        isolate(env, t.proc);
        await sleep(100);
        const body = t.body(chunks);
        const beforeWarm = t.live ? await sinkStats(env.sinkUrl) : null;
        const warm = await streamLoop({ url: t.url, headers: t.headers, body, seconds: Math.min(1, opts.streamSeconds / 2) });
        if (t.live) await waitForDelivery(env.sinkUrl, beforeWarm, t.live, warm.requests);
        const before = t.live ? await sinkStats(env.sinkUrl) : null;
        const pid = t.proc.measuredPid;
        const cpu0 = cpuSeconds(pid);
        const r = await streamLoop({ url: t.url, headers: t.headers, body, seconds: opts.streamSeconds });
        if (t.live) await waitForDelivery(env.sinkUrl, before, t.live, r.requests);
        const cpu = cpuSeconds(pid) - cpu0;
        const run = {
          rep,
          chunks,
          target: t.id,
          requests: r.requests,
          errors: r.errors,
          rps: r.requests / r.seconds,
          ttft_p50: median(r.ttft),
          ttft_p99: percentile(r.ttft, 99),
          total_p50: median(r.total),
          total_p99: percentile(r.total, 99),
          cpu_us_per_stream: r.requests > 0 ? (cpu * 1e6) / r.requests : null,
        };
        runs.push(run);
        log(
          `[stream rep ${rep} chunks=${chunks}] ${t.id.padEnd(23)} ${fmt(run.rps)} streams/s  TTFT p50 ${fmt(run.ttft_p50, 3)} ms p99 ${fmt(run.ttft_p99, 3)} ms  ` +
            `total p50 ${fmt(run.total_p50, 3)} ms  cpu ${fmt(run.cpu_us_per_stream)} µs/stream${run.errors ? `  ERRORS ${run.errors}` : ''}`,
        );
      }
    }
  }
  // Per repetition and gateway target: added TTFT (gateway − direct) and the per-chunk cost from 8 → 64 chunks.
  const perRep = [];
  const [lo, hi] = chunkCounts;
  const extra = hi - lo;
  for (let rep = 1; rep <= opts.reps; rep++) {
    const get = (chunks, target) => runs.find((r) => r.rep === rep && r.chunks === chunks && r.target === target);
    for (const { id: gw, baseline } of gateways) {
      const d8 = get(lo, baseline);
      const g8 = get(lo, gw);
      const d64 = get(hi, baseline);
      const g64 = get(hi, gw);
      if (!d8 || !g8 || !d64 || !g64) continue;
      perRep.push({
        rep,
        gateway: gw,
        added_ttft_p50_ms: { [lo]: g8.ttft_p50 - d8.ttft_p50, [hi]: g64.ttft_p50 - d64.ttft_p50 },
        added_ttft_p99_ms: { [lo]: g8.ttft_p99 - d8.ttft_p99, [hi]: g64.ttft_p99 - d64.ttft_p99 },
        added_total_p50_ms: { [lo]: g8.total_p50 - d8.total_p50, [hi]: g64.total_p50 - d64.total_p50 },
        per_chunk_added_us: ((g64.total_p50 - d64.total_p50 - (g8.total_p50 - d8.total_p50)) * 1000) / extra,
        per_chunk_cpu_us: (g64.cpu_us_per_stream - g8.cpu_us_per_stream) / extra,
      });
    }
  }
  return {
    chunk_counts: chunkCounts,
    gateways: gateways.map((t) => t.id),
    baselines: Object.fromEntries(gateways.map((t) => [t.id, t.baseline])),
    issues: Object.fromEntries(gateways.map((t) => [t.id, t.issue ?? 'issue 13'])),
    directs: targets.filter((t) => !t.baseline).map((t) => t.id),
    runs,
    per_rep: perRep,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Portkey (scenario 8, optional)

async function startPortkey(env) {
  const port = await freePort();
  const preload = join(ROOT, 'bench', 'servers', 'loopback-preload.js');
  const npmCli = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
  const [cmd, pre] = npmCli;
  const proc = startProcess(
    `Portkey ${PORTKEY_VERSION}`,
    cmd,
    [...pre, 'exec', '--yes', `--package=@portkey-ai/gateway@${PORTKEY_VERSION}`, '--', 'gateway', '--headless', `--port=${port}`],
    {
      env: { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: `--require ${preload}` },
      cwd: env.tmpDir,
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench-upstream', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${env.mockUrl}/v1` },
        body: CHAT_BODY,
        signal: AbortSignal.timeout(5000),
      });
      const text = await res.text();
      if (res.status === 200 && text.includes('chat.completion')) break;
      throw new Error(`answered ${res.status}: ${text.slice(0, 300)}`);
    } catch (error) {
      if (proc.child.exitCode !== null) throw new Error(`npm exec exited (${proc.child.exitCode}): ${proc.output().slice(-2000)}`);
      if (Date.now() > deadline) {
        await stop(proc);
        throw new Error(`did not answer within 180 s (${error.message}): ${proc.output().slice(-2000)}`);
      }
      await sleep(500);
    }
  }
  const pid = findDescendant(proc, /^\S*node\S*\s.*(start-server|\/gateway\s)/);
  if (pid) proc.measuredPid = pid;
  return { proc, url };
}

// ---------------------------------------------------------------------------------------------------------------
// Set-up and tear-down

/**
 * `gateways`: scenario ids (3, 4, 5) that get a gateway process of their own, so that one scenario's delivery
 * backlog or retries never run inside another scenario's measured window. Scenario 5's Langfuse is the 503 port.
 */
async function startServers(opts, { gateways = [3, 4, 5], forwarder = true, nodeArgs = [] } = {}) {
  const tmpDir = mkdtempSync(join(os.tmpdir(), 'gatehouse-bench-'));
  const env = { tmpDir, targets: [], gw: {} };
  global.__benchEnv = env;
  env.mock = startProcess('mock upstream', process.execPath, [join(__dirname, 'servers', 'mock-upstream.js')], { readyLine: /READY (\d+)/ });
  env.sink = startProcess('log sink', process.execPath, [join(__dirname, 'servers', 'log-sink.js')], { readyLine: /READY (\d+) (\d+)/, cwd: ROOT });
  const [, mockPort] = await env.mock.ready;
  const [, sinkPort, sinkDownPort] = await env.sink.ready;
  env.mockUrl = `http://127.0.0.1:${mockPort}`;
  env.sinkUrl = `http://127.0.0.1:${sinkPort}`;
  if (forwarder) {
    env.forwarder = startProcess('bare forwarder', process.execPath, [join(__dirname, 'servers', 'bare-forwarder.js')], {
      readyLine: /READY (\d+)/,
      env: { PATH: process.env.PATH, UPSTREAM: env.mockUrl, NODE_ENV: 'production' },
      cwd: ROOT,
    });
    env.forwarderUrl = `http://127.0.0.1:${(await env.forwarder.ready)[1]}`;
    env.targets.push(env.forwarder);
  }
  const common = { tmpDir, mockPort, sinkPort, sinkDownPort, databaseUrl: process.env.DATABASE_URL, nodeArgs };
  for (const id of gateways) {
    log(`[bench] starting the gateway for scenario ${id}${id === 5 ? ' (its Langfuse answers 503)' : ''} ...`);
    env.gw[id] = await startGatehouse({ label: `g${id}`, ...common, langfuseDown: id === 5 });
    env.targets.push(env.gw[id].proc);
    // Idle until its first run.
    pause(env.gw[id].proc);
  }
  return env;
}

async function stopServers(env, graceMs = 8000) {
  if (!env) return;
  const procs = [env.portkey, ...Object.values(env.gw).map((g) => g.proc), env.forwarder, env.sink, env.mock].filter(Boolean);
  await Promise.all(procs.map((p) => stop(p, graceMs)));
  try {
    rmSync(env.tmpDir, { recursive: true, force: true });
  } catch {
    // best effort
  }
}

/** One request per target, answers checked; for logging targets, the events must reach the sink. */
async function sanityCheck(env, scenarios) {
  for (const s of scenarios) {
    isolate(env, s.proc);
    const before = s.live ? await sinkStats(env.sinkUrl) : null;
    const upstreamBefore = s.noUpstream ? await upstreamCount(env) : null;
    const res = await fetch(s.url, { method: 'POST', headers: s.headers, body: s.body ?? CHAT_BODY });
    const text = await res.text();
    if (res.status !== 200 || !text.includes('chat.completion')) throw new Error(`scenario ${s.id} (${s.name}) answered ${res.status}: ${text.slice(0, 500)}`);
    if (s.noUpstream && (await upstreamCount(env)) !== upstreamBefore) throw new Error(`scenario ${s.id} (${s.name}): the request reached the upstream`);
    if (s.cached) {
      const before = await upstreamCount(env);
      for (let i = 0; i < 3; i++) await (await fetch(s.url, { method: 'POST', headers: s.headers, body: CHAT_BODY })).text();
      if ((await upstreamCount(env)) !== before) throw new Error(`scenario ${s.id}: repeated requests still reach the upstream (the response cache is not answering)`);
    }
    if (s.live) {
      const d = await waitForDelivery(env.sinkUrl, before, s.live, 1, 15_000);
      if (!d.drained) throw new Error(`scenario ${s.id}: the log events did not reach the sink (${JSON.stringify(d.delivered)}):\n${s.proc.output().slice(-3000)}`);
    }
  }
  if (env.gw[5]) {
    // Give the down destination a moment to be tried at least once.
    const deadline = Date.now() + 5000;
    while ((await sinkStats(env.sinkUrl)).down_requests === 0 && Date.now() < deadline) await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Main modes

async function mainBench(opts, machine) {
  const wanted = new Set(opts.scenarios ?? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const peers = String(process.env.BENCH_PEERS || '').split(',').map((s) => s.trim()).filter(Boolean);
  const env = await startServers(opts, {
    gateways: [3, 4, 5].filter((id) => wanted.has(id) || (id !== 5 && wanted.has(7)) || (id === 3 && wanted.has(6))),
    // Scenarios 9 and 10 are routes of the forwarder's process.
    forwarder: wanted.has(2) || wanted.has(9) || wanted.has(10),
  });
  const notes = [];
  if (peers.includes('portkey') && wanted.has(8)) {
    log(`[bench] starting Portkey ${PORTKEY_VERSION} through npm exec (bound to 127.0.0.1) ...`);
    try {
      const pk = await startPortkey(env);
      env.portkey = pk.proc;
      env.portkeyUrl = pk.url;
      env.targets.push(pk.proc);
    } catch (error) {
      const note = `Portkey ${PORTKEY_VERSION} could not be started, scenario 8 skipped: ${error.message.split('\n')[0]}`;
      notes.push(note);
      log(`[bench] ${note}`);
    }
  } else if (wanted.has(8)) {
    notes.push('Scenario 8 (Portkey peer) not run: it runs only with BENCH_PEERS=portkey.');
  }
  if (wanted.has(6) && env.gw[3] && !env.gw[3].keys.cacheOn) {
    notes.push(`Scenario 6 (cache hits): not available (caching not implemented in this build: ${env.gw[3].cacheError})`);
  }

  const scenarios = defineScenarios(env).filter((s) => wanted.has(s.id) && s.proc);
  // Scenario 1 is the reference for "added latency"; keep it even when not asked for explicitly.
  if (!scenarios.some((s) => s.id === 1)) scenarios.unshift(defineScenarios(env)[0]);
  log('[bench] sanity check: one request per target, log delivery to the sink ...');
  await sanityCheck(env, scenarios);

  const runs = [];
  const total = opts.reps * opts.concurrency.length * scenarios.length;
  let done = 0;
  const t0 = Date.now();
  for (let rep = 1; rep <= opts.reps; rep++) {
    for (const c of opts.concurrency) {
      // Interleaved: every scenario once per (repetition, concurrency), the starting one rotating per repetition.
      const shift = (rep - 1) % scenarios.length;
      const order = [...scenarios.slice(shift), ...scenarios.slice(0, shift)];
      for (const s of order) {
        const run = { rep, ...(await measure(env, s, c, opts)) };
        runs.push(run);
        done++;
        log(
          `[${String(done).padStart(3)}/${total} rep ${rep} c=${String(c).padEnd(2)}] ${String(s.id)} ${s.short.padEnd(10)} ${fmt(run.rps).padStart(6)} req/s  ` +
            `p50 ${fmt(run.p50, 2).padStart(6)} ms  p99 ${fmt(run.p99, 2).padStart(7)} ms  cpu ${fmt(run.cpu_us_per_req).padStart(5)} µs/req  ` +
            `rss ${fmt(run.rss_peak_mb)} MB${run.delivery ? `  delivered ${JSON.stringify(run.delivery.delivered)} in ${run.delivery.ms} ms${run.delivery.drained ? '' : ' (NOT DRAINED)'}` : ''}` +
            `${run.errors || run.non2xx ? `  ERRORS ${run.errors} non-2xx ${run.non2xx}` : ''}${run.stalled ? '  STALLED: no request completed' : ''}`,
        );
      }
    }
  }
  log(`[bench] load runs took ${Math.round((Date.now() - t0) / 1000)} s`);

  let stream = null;
  if (wanted.has(7) && env.gw[3] && env.gw[4]) {
    log('[bench] streaming (scenario 7): c=1, 8 and 64 content chunks, direct vs gateway (logging off / 3 destinations) ...');
    stream = await measureStreams(env, opts);
  }
  let masking = null;
  if (wanted.has(11)) {
    log('[bench] PII masking on the delivery path (scenario 11): all detectors, a 4 kB conversation, in process ...');
    isolate(env, null);
    masking = measureMasking(opts.reps);
  }
  const downRequests = env.gw[5] ? (await sinkStats(env.sinkUrl)).down_requests : null;
  const finalMemory = Object.fromEntries(
    [
      ['mock', env.mock],
      ['bare forwarder', env.forwarder],
      ['gateway (scenario 3)', env.gw[3]?.proc],
      ['gateway (scenario 4)', env.gw[4]?.proc],
      ['gateway (scenario 5)', env.gw[5]?.proc],
      ['portkey', env.portkey],
    ]
      .filter(([, p]) => p)
      .map(([name, p]) => [name, memory(p.measuredPid)]),
  );
  isolate(env, null);
  await stopServers(env);
  global.__benchEnv = null;
  if (downRequests !== null) notes.push(`The down Langfuse (503) was called ${downRequests} times during the run (retries with back-off).`);
  return {
    kind: 'bench',
    machine,
    options: { duration_s: opts.duration, warmup_s: opts.warmup, reps: opts.reps, concurrency: opts.concurrency, stream_seconds: opts.streamSeconds, database: process.env.DATABASE_URL ? 'postgresql (DATABASE_URL)' : 'embedded PGlite' },
    scenarios: scenarios.map((s) => ({ id: s.id, name: s.name })),
    notes,
    runs,
    stream,
    masking,
    final_memory: finalMemory,
  };
}

async function mainSoak(opts, machine) {
  const n = opts.soak;
  const c = opts.soakConcurrency;
  const env = await startServers(opts, { gateways: [4], forwarder: false });
  const [s4] = defineScenarios(env).filter((s) => s.id === 4);
  await sanityCheck(env, [s4]);
  const pid = env.gw[4].proc.measuredPid;
  const mem0 = memory(pid);
  const target = { url: s4.url, method: 'POST', headers: s4.headers, body: CHAT_BODY };
  log(`[soak] warm-up, then ${n} requests at c=${c} with 3 destinations ...`);
  const beforeWarm = await sinkStats(env.sinkUrl);
  const warm = await runLoad({ target, connections: c, seconds: 3, tmpDir: env.tmpDir });
  await waitForDelivery(env.sinkUrl, beforeWarm, s4.live, warm.requests);
  const memStart = memory(pid);
  // About 20 segments (a sample every 5 % of N), each between 2 and 15 s.
  const segmentSeconds = Math.max(2, Math.min(15, Math.round(n / 20 / Math.max(1, warm.rps))));
  const samples = [{ requests: 0, rss_mb: memStart.rss / 2 ** 20, rps: null, p99: null, delivered: 0, at_s: 0 }];
  const sink0 = await sinkStats(env.sinkUrl);
  const cpu0 = cpuSeconds(pid);
  const t0 = Date.now();
  let sent = 0;
  let errors = 0;
  const deadline = Date.now() + opts.soakMinutes * 60_000;
  let timedOut = false;
  while (sent < n) {
    if (Date.now() > deadline) {
      timedOut = true;
      log(`[soak] stopped after ${opts.soakMinutes} min with ${sent} of ${n} requests sent`);
      break;
    }
    const r = await runLoad({ target, connections: c, seconds: segmentSeconds, tmpDir: env.tmpDir });
    sent += r.requests;
    errors += r.errors + r.non2xx;
    const m = memory(pid);
    const sink = await sinkStats(env.sinkUrl);
    samples.push({
      requests: sent,
      rss_mb: m.rss / 2 ** 20,
      rps: r.rps,
      p50: r.p50,
      p99: r.p99,
      delivered: Math.min(sink.langfuse_generations - sink0.langfuse_generations, sink.gcs_lines - sink0.gcs_lines, sink.otlp_spans - sink0.otlp_spans),
      at_s: (Date.now() - t0) / 1000,
      cpu_util: null,
    });
    log(`[soak] ${sent}/${n} requests  ${fmt(r.rps)} req/s  p99 ${fmt(r.p99, 1)} ms  rss ${fmt(m.rss / 2 ** 20, 1)} MB  delivered ${samples.at(-1).delivered}`);
  }
  const delivery = await waitForDelivery(env.sinkUrl, sink0, s4.live, sent, 60_000);
  const cpu = cpuSeconds(pid) - cpu0;
  const memEnd = memory(pid);
  samples.push({ requests: sent, rss_mb: memEnd.rss / 2 ** 20, after_drain: true, delivered: Math.min(...Object.values(delivery.delivered)), at_s: (Date.now() - t0) / 1000 });
  isolate(env, null);
  await stopServers(env);
  global.__benchEnv = null;
  const at = (fraction) => samples.find((s) => !s.after_drain && s.requests >= fraction * n) ?? samples.at(-1);
  const s20 = at(0.2);
  const s50 = at(0.5);
  const s100 = samples.filter((s) => !s.after_drain).at(-1);
  const tail = samples.filter((s) => !s.after_drain).slice(-3);
  return {
    kind: 'soak',
    machine,
    options: { requests: n, concurrency: c, segment_seconds: segmentSeconds, max_minutes: opts.soakMinutes, database: process.env.DATABASE_URL ? 'postgresql (DATABASE_URL)' : 'embedded PGlite' },
    rss_mb: {
      before_load: mem0.rss / 2 ** 20,
      start: memStart.rss / 2 ** 20,
      at_20pct: s20.rss_mb,
      at_20pct_requests: s20.requests,
      middle: s50.rss_mb,
      middle_requests: s50.requests,
      end: s100.rss_mb,
      end_requests: s100.requests,
      end_after_drain: memEnd.rss / 2 ** 20,
      peak_hwm: memEnd.hwm / 2 ** 20,
    },
    growth_20_to_100_pct: ((s100.rss_mb - s20.rss_mb) / s20.rss_mb) * 100,
    complete: !timedOut,
    minutes: (Date.now() - t0) / 60_000,
    last_segments_rps: tail.map((x) => x.rps),
    requests: sent,
    errors,
    cpu_us_per_req: (cpu * 1e6) / sent,
    delivery,
    samples,
  };
}

async function mainProfile(opts, machine) {
  const profDir = join(opts.out, 'profiles');
  mkdirSync(profDir, { recursive: true });
  const c = Math.max(...opts.concurrency);
  const ids = opts.scenarios ?? [4];
  const gateways = [3, 4, 5].filter((id) => ids.includes(id) || (id === 3 && (ids.includes(7) || ids.includes(6))));
  const env = await startServers(opts, { gateways, forwarder: false, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const picked = defineScenarios(env).filter((s) => ids.includes(s.id) && (gateways.includes(s.id) || (s.id === 6 && gateways.includes(3))));
  await sanityCheck(env, picked);
  const results = [];
  const seconds = Math.max(opts.duration, 8);
  for (const s of picked) {
    const run = await measure(env, s, c, { ...opts, duration: seconds });
    results.push({ scenario: s.id, pid: s.proc.measuredPid, ...run });
    log(`[profile] scenario ${s.id} c=${c}: ${fmt(run.rps)} req/s, ${fmt(run.cpu_us_per_req)} µs/req (under the profiler)`);
  }
  if (ids.includes(7)) {
    // Streams at c=1 with the logging-off key: the streaming path itself.
    const g = env.gw[3];
    const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello' }], stream: true, bench_chunks: 8 });
    const headers = { authorization: `Bearer ${g.keys.loggingOff}` };
    const url = `${g.baseUrl}/v1/chat/completions`;
    isolate(env, g.proc);
    await streamLoop({ url, headers, body, seconds: 1 });
    const cpu0 = cpuSeconds(g.proc.measuredPid);
    const from = Number(process.hrtime.bigint() / 1000n);
    const r = await streamLoop({ url, headers, body, seconds });
    const to = Number(process.hrtime.bigint() / 1000n);
    const cpu = cpuSeconds(g.proc.measuredPid) - cpu0;
    const run = { scenario: 7, pid: g.proc.measuredPid, c: 1, rps: r.requests / r.seconds, cpu_us_per_req: (cpu * 1e6) / r.requests, ttft_p50: median(r.ttft), window_us: [from, to] };
    results.push(run);
    log(`[profile] scenario 7 (streams, 8 chunks, logging off) c=1: ${fmt(run.rps)} streams/s, ${fmt(run.cpu_us_per_req)} µs/stream, TTFT p50 ${fmt(run.ttft_p50, 2)} ms`);
  }
  isolate(env, null);
  // A profile is written when the process exits by itself: give a busy gateway time to finish.
  await stopServers(env, 60_000);
  global.__benchEnv = null;
  const { readdirSync } = require('node:fs');
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  const cache = new Map();
  const profiles = results.map((run) => {
    // node names its profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
    const file = files.find((f) => f.split('.')[3] === String(run.pid));
    if (!file) return { scenario: run.scenario, text: `(no .cpuprofile of pid ${run.pid} in ${profDir}: the process did not exit by itself)\n` };
    if (!cache.has(file)) cache.set(file, JSON.parse(readFileSync(join(profDir, file), 'utf8')));
    return { scenario: run.scenario, file: join(profDir, file), ...summarizeProfile(cache.get(file), { window: run.window_us }) };
  });
  const text = profiles
    .map((p, i) => {
      const run = results[i];
      return (
        `## Scenario ${p.scenario} at c=${run.c}, ${seconds} s under \`node --cpu-prof\` (measured window only)\n\n` +
        `${fmt(run.rps)} req/s, ${fmt(run.cpu_us_per_req)} µs CPU per request (profiler overhead included).\n\n${p.text}`
      );
    })
    .join('\n');
  return { kind: 'profile', machine, concurrency: c, scenarios: ids, runs: results, profiles, text: `# Gatehouse CPU profile — ${machine.date}\n\n${text}` };
}

async function main() {
  // Issue 26's budgets-and-rate-limits A/B is a script of its own; `npm run bench -- --limits [...]` runs it.
  if (process.argv.includes('--limits')) {
    const child = spawnSync(process.execPath, [join(__dirname, 'limits-ab.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(child.status ?? 1);
  }
  // Issue 29's memory targets and the V8 settings' CPU cost: bench/memory.js; `npm run bench -- --memory [...]` runs it.
  if (process.argv.includes('--memory')) {
    if (!process.argv.includes('--no-build')) buildIfNeeded();
    const child = spawnSync(process.execPath, [join(__dirname, 'memory.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(child.status ?? 1);
  }
  const opts = parseArgs(process.argv.slice(2));
  if (opts.render) {
    // Re-render the markdown of an earlier run from its JSON (after a change to the report).
    const result = JSON.parse(readFileSync(opts.render, 'utf8'));
    const rendered = result.kind === 'soak' ? { markdown: renderSoak(result) } : renderReport(result);
    if (rendered.summary) {
      result.summary = rendered.summary;
      result.targets = rendered.targets;
      writeFileSync(opts.render, `${JSON.stringify(result, null, 2)}\n`);
    }
    writeFileSync(opts.render.replace(/\.json$/, '.md'), rendered.markdown);
    console.log(rendered.markdown);
    return;
  }
  if (opts.build) buildIfNeeded();
  const machine = machineInfo();
  log(
    `[bench] ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load tool ${machine.load_tool}; load average ${machine.load_average_at_start.join(' ')}` +
      (machine.load_average_at_start[0] > machine.cores * 0.5 ? '  (the machine is busy: expect noise)' : ''),
  );
  mkdirSync(opts.out, { recursive: true });
  const stamp = machine.date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  let result;
  let markdown;
  let suffix = '';
  if (opts.fuzz > 0) {
    result = { machine, ...runFuzz({ requests: opts.fuzz, seed: opts.fuzzSeed, reportFile: join(opts.out, `${stamp}-fuzz.raw.json`) }) };
    rmSync(join(opts.out, `${stamp}-fuzz.raw.json`), { force: true });
    markdown = renderFuzz(result);
    suffix = '-fuzz';
  } else if (opts.soak > 0) {
    result = await mainSoak(opts, machine);
    markdown = renderSoak(result);
    suffix = '-soak';
  } else if (opts.profile) {
    result = await mainProfile(opts, machine);
    markdown = result.text;
    suffix = '-profile';
  } else {
    result = await mainBench(opts, machine);
    const rendered = renderReport(result);
    result.summary = rendered.summary;
    result.targets = rendered.targets;
    markdown = rendered.markdown;
  }
  result.machine.load_average_at_end = os.loadavg().map((x) => Number(x.toFixed(2)));
  const base = join(opts.out, `${stamp}${suffix}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown);
  console.log(markdown);
  log(`[bench] wrote ${base}.json and ${base}.md`);
}

let exiting = false;
async function cleanupAndExit(code) {
  if (exiting) return;
  exiting = true;
  try {
    if (global.__benchEnv) await stopServers(global.__benchEnv);
  } finally {
    killAllNow();
    process.exit(code);
  }
}
process.on('SIGINT', () => void cleanupAndExit(130));
process.on('SIGTERM', () => void cleanupAndExit(143));
process.on('SIGHUP', () => void cleanupAndExit(129));
process.on('exit', killAllNow);

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[bench] failed: ${error.stack || error.message}`);
    void cleanupAndExit(1);
  },
);
