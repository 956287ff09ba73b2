'use strict';
// Turns the raw runs into medians, ranges, ratios and the issue's targets, and renders them as markdown.
const { summary } = require('./stats');

const f = (v, d = 0) => (v === Infinity ? '∞' : v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const range = (s, d = 0) => (s.n === 0 ? '—' : s.n === 1 ? f(s.median, d) : `${f(s.median, d)} (${f(s.min, d)}–${f(s.max, d)})`);
const signed = (v, d = 2) => (v === Infinity ? '+∞' : v === null || v === undefined || !Number.isFinite(v) ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(d)}`);
const srange = (s, d = 2) => (s.n === 0 ? '—' : s.n === 1 ? signed(s.median, d) : `${signed(s.median, d)} (${signed(s.min, d)}…${signed(s.max, d)})`);

/** Per (rep, c) pairs of two scenarios → values of fn(a, b), summarised (+Infinity kept: it sorts last). */
function paired(runs, c, idA, idB, fn) {
  const values = [];
  for (const a of runs.filter((r) => r.c === c && r.scenario === idA)) {
    const b = runs.find((r) => r.c === c && r.scenario === idB && r.rep === a.rep);
    if (b) {
      const v = fn(a, b);
      // A missing value (a stalled run has no percentiles) makes no pair; Infinity is kept on purpose.
      if (v === Infinity || Number.isFinite(v)) values.push(v);
    }
  }
  return summaryWithInfinity(values);
}

function summaryWithInfinity(values) {
  const infinite = values.filter((v) => v === Infinity).length;
  const s = summary(values.filter((v) => v !== Infinity));
  if (infinite === 0) return s;
  const n = s.n + infinite;
  const all = [...values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b), ...new Array(infinite).fill(Infinity)];
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? all[mid] : (all[mid - 1] + all[mid]) / 2;
  return { median, min: all[0], max: Infinity, n, infinite };
}

function buildSummary(result) {
  const { runs } = result;
  const rows = [];
  const concurrencies = [...new Set(runs.map((r) => r.c))].sort((a, b) => a - b);
  for (const s of [...result.scenarios].sort((a, b) => a.id - b.id)) {
    for (const c of concurrencies) {
      const mine = runs.filter((r) => r.scenario === s.id && r.c === c);
      if (mine.length === 0) continue;
      rows.push({
        scenario: s.id,
        name: s.name,
        c,
        runs: mine.length,
        rps: summary(mine.map((r) => r.rps)),
        p50: summary(mine.map((r) => r.p50)),
        p99: summary(mine.map((r) => r.p99)),
        added_p50: s.id === 1 ? null : paired(runs, c, s.id, 1, (a, b) => (a.p50 === null || b.p50 === null ? NaN : a.p50 - b.p50)),
        added_p99: s.id === 1 ? null : paired(runs, c, s.id, 1, (a, b) => (a.p99 === null || b.p99 === null ? NaN : a.p99 - b.p99)),
        vs_direct: s.id === 1 ? null : paired(runs, c, s.id, 1, (a, b) => a.rps / b.rps),
        cpu_us_per_req: summary(mine.map((r) => r.cpu_us_per_req)),
        cpu_us_per_req_during_load: summary(mine.map((r) => r.cpu_us_per_req_during_load)),
        cpu_main_us_per_req: summary(mine.map((r) => r.cpu_main_us_per_req ?? null)),
        cpu_delivery_us_per_req: summary(mine.map((r) => r.cpu_delivery_us_per_req ?? null)),
        rss_peak_mb: summary(mine.map((r) => r.rss_peak_mb)),
        errors: mine.reduce((n, r) => n + r.errors + r.non2xx, 0),
        undrained: mine.filter((r) => r.delivery && !r.delivery.drained).length,
        stalled: mine.filter((r) => r.stalled).length,
        upstream_share: mine.every((r) => typeof r.upstream_requests === 'number')
          ? mine.reduce((n, r) => n + r.upstream_requests, 0) / Math.max(1, mine.reduce((n, r) => n + r.requests, 0))
          : null,
      });
    }
  }
  const ratios = {};
  for (const c of concurrencies) {
    ratios[c] = {
      cpu_4_over_2: paired(runs, c, 4, 2, (a, b) => a.cpu_us_per_req / b.cpu_us_per_req),
      cpu_3_over_2: paired(runs, c, 3, 2, (a, b) => a.cpu_us_per_req / b.cpu_us_per_req),
      throughput_cost_4_vs_3_pct: paired(runs, c, 4, 3, (a, b) => (1 - a.rps / b.rps) * 100),
      // A run in which no request completed has no p99: it counts as unbounded growth.
      p99_growth_5_vs_4_pct: paired(runs, c, 5, 4, (a, b) => (a.stalled ? Infinity : b.p99 === null ? NaN : (a.p99 / b.p99 - 1) * 100)),
      throughput_4_over_portkey: paired(runs, c, 4, 8, (a, b) => a.rps / b.rps),
      throughput_4_over_2: paired(runs, c, 4, 2, (a, b) => a.rps / b.rps),
      cpu_6_over_3: paired(runs, c, 6, 3, (a, b) => a.cpu_us_per_req / b.cpu_us_per_req),
      // Issue 6: cache hits (6) vs misses (3) on the same gateway, and a hit vs a bare NestJS route (9).
      throughput_6_over_3: paired(runs, c, 6, 3, (a, b) => a.rps / b.rps),
      added_p50_6_over_9: paired(runs, c, 6, 9, (a, b) => (a.p50 === null || b.p50 === null ? NaN : a.p50 - b.p50)),
      // Nest's interceptor pipeline: the forwarder with one no-op interceptor (10) vs without (2), and the gateway
      // (logging off) vs that forwarder.
      cpu_10_over_2: paired(runs, c, 10, 2, (a, b) => a.cpu_us_per_req / b.cpu_us_per_req),
      cpu_3_over_10: paired(runs, c, 3, 10, (a, b) => a.cpu_us_per_req / b.cpu_us_per_req),
      // Issue 13: the request loop's (main thread's) CPU with three destinations vs logging off, and throughput.
      main_cpu_4_over_3: paired(runs, c, 4, 3, (a, b) => a.cpu_main_us_per_req / b.cpu_main_us_per_req),
      throughput_4_over_3: paired(runs, c, 4, 3, (a, b) => a.rps / b.rps),
      // Issue 24: the same call through the Anthropic provider (request built, answer translated) vs the OpenAI path.
      cpu_12_over_3: paired(runs, c, 12, 3, (a, b) => a.cpu_us_per_req / b.cpu_us_per_req),
    };
  }
  return { rows, ratios, concurrencies };
}

function streamSummary(stream) {
  if (!stream || stream.per_rep.length === 0) return null;
  const [lo, hi] = stream.chunk_counts;
  const by = (target, chunks, field) => summary(stream.runs.filter((r) => r.target === target && r.chunks === chunks).map((r) => r[field]));
  const gateways = stream.gateways.map((gw) => {
    const reps = stream.per_rep.filter((r) => r.gateway === gw);
    return {
      gateway: gw,
      // Runs before issue 24 had one baseline and only issue 13's targets.
      baseline: stream.baselines?.[gw] ?? 'direct',
      issue: stream.issues?.[gw] ?? 'issue 13',
      added_ttft_p50: { [lo]: summary(reps.map((r) => r.added_ttft_p50_ms[lo])), [hi]: summary(reps.map((r) => r.added_ttft_p50_ms[hi])) },
      added_ttft_p99: { [lo]: summary(reps.map((r) => r.added_ttft_p99_ms[lo])), [hi]: summary(reps.map((r) => r.added_ttft_p99_ms[hi])) },
      per_chunk_added_us: summary(reps.map((r) => r.per_chunk_added_us)),
      per_chunk_cpu_us: summary(reps.map((r) => r.per_chunk_cpu_us)),
    };
  });
  return {
    lo,
    hi,
    gateways,
    table: [lo, hi].flatMap((chunks) =>
      [...(stream.directs ?? ['direct']), ...stream.gateways].map((target) => ({
        target,
        chunks,
        rps: by(target, chunks, 'rps'),
        ttft_p50: by(target, chunks, 'ttft_p50'),
        ttft_p99: by(target, chunks, 'ttft_p99'),
        total_p50: by(target, chunks, 'total_p50'),
        cpu: by(target, chunks, 'cpu_us_per_stream'),
      })),
    ),
  };
}

function evaluateTargets(sum, stream, masking) {
  const targets = [];
  const verdict = (s, ok) => (s.n === 0 ? 'not measured' : ok(s.median) ? 'met' : 'MISSED');
  const row = (name, source, s, shown, ok) => targets.push({ target: name, source, measured: shown, median: s.median, verdict: verdict(s, ok) });
  const rowOf = (id, c) => sum.rows.find((r) => r.scenario === id && r.c === c);
  const loaded = sum.concurrencies.filter((x) => x >= 10);
  {
    const r = rowOf(3, 1);
    if (r) row('added p50 at c=1 ≤ 0.4 ms (scenario 3, logging off)', 'issue 13', r.added_p50, `${srange(r.added_p50, 3)} ms`, (v) => v <= 0.4);
  }
  for (const c of sum.concurrencies) {
    const s = sum.ratios[c].cpu_3_over_10;
    row(`CPU/request, logging off (3) ≤ 1.15× forwarder + no-op interceptor (10), c=${c}`, 'issue 13', s, `${range(s, 2)}×`, (v) => v <= 1.15);
  }
  for (const c of sum.concurrencies) {
    const s = sum.ratios[c].main_cpu_4_over_3;
    row(`request-loop CPU/request, 3 destinations (4) ≤ 1.2× logging off (3), c=${c}`, 'issue 13', s, `${range(s, 2)}×`, (v) => v <= 1.2);
  }
  for (const c of loaded) {
    const s = sum.ratios[c].throughput_4_over_3;
    row(`throughput, 3 destinations (4) ≥ 0.8× logging off (3), c=${c}`, 'issue 13', s, `${range(s, 2)}×`, (v) => v >= 0.8);
  }
  for (const c of sum.concurrencies) {
    const r = rowOf(4, c);
    if (r) row(`delivery thread CPU/request (4) ≤ 145 µs, c=${c}`, 'issue 13', r.cpu_delivery_us_per_req, `${range(r.cpu_delivery_us_per_req)} µs`, (v) => v <= 145);
  }
  for (const c of sum.concurrencies) {
    const s = sum.ratios[c].p99_growth_5_vs_4_pct;
    row(`p99 with one destination down (5 vs 4) ≤ +10 %, c=${c}`, 'issue 13', s, `${srange(s, 1)} %`, (v) => v <= 10);
  }
  for (const c of loaded) {
    const s = sum.ratios[c].throughput_4_over_portkey;
    row(`scenario 4 ≥ 3× Portkey throughput, c=${c}`, 'issue 13', s, `${range(s, 2)}×`, (v) => v >= 3);
  }
  for (const c of loaded) {
    const s = sum.ratios[c].throughput_6_over_3;
    row(`cache hits ≥ 1.3× throughput of misses, c=${c}`, 'issue 13', s, `${range(s, 2)}×`, (v) => v >= 1.3);
  }
  for (const c of sum.concurrencies) {
    const s = sum.ratios[c].cpu_12_over_3;
    if (s.n > 0) row(`CPU/request, Anthropic upstream (12) ≤ 1.25× the OpenAI-compatible path (3), c=${c}`, 'issue 24', s, `${range(s, 2)}×`, (v) => v <= 1.25);
  }
  if (stream) {
    for (const g of stream.gateways) {
      for (const chunks of [stream.lo, stream.hi]) {
        const s = g.added_ttft_p50[chunks];
        row(`streaming adds ≤ 0.5 ms to TTFT (p50, ${g.gateway} vs ${g.baseline}, ${chunks} chunks)`, g.issue, s, `${srange(s, 3)} ms`, (v) => v <= 0.5);
      }
    }
  }
  if (masking) {
    const s = summary(masking.us_per_event);
    // Runs before the CPU figure existed have none.
    const cpu = masking.cpu_us_per_event ? ` (CPU ${range(summary(masking.cpu_us_per_event), 1)} µs)` : '';
    row(`PII masking, all ${masking.detectors} detectors + ${masking.custom_patterns} pattern, ${f(masking.conversation_bytes / 1024, 1)} kB conversation ≤ 50 µs per event (delivery thread)`, 'issue 14', s, `${range(s, 1)} µs${cpu}`, (v) => v <= 50);
  }
  return targets;
}

function renderReport(result) {
  const sum = buildSummary(result);
  const stream = streamSummary(result.stream);
  const targets = evaluateTargets(sum, stream, result.masking ?? null);
  const m = result.machine;
  const o = result.options;
  const lines = [];
  lines.push(`# Gatehouse benchmark — ${m.date}`);
  lines.push('');
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Linux ${m.kernel}, Node ${m.node}. Load: ${m.load_tool}${m.wrk ? ` (${m.wrk.split(' Copyright')[0]})` : ''}, -t1. ` +
      `Commit ${m.commit ? m.commit.slice(0, 10) : 'unknown'}${m.src_modified_vs_commit ? ' (src/ had uncommitted changes)' : ''}. ` +
      `Load average at start ${m.load_average_at_start.join(' ')}${m.load_average_at_end ? `, at end ${m.load_average_at_end.join(' ')}` : ''}.`,
  );
  lines.push(
    `Method: ${o.reps} interleaved repetition(s) × ${o.duration_s} s per run (${o.warmup_s} s warm-up each), concurrency ${o.concurrency.join('/')}, ` +
      `database ${o.database}. Values are medians with (min–max) over repetitions; "added" = scenario − direct in the same repetition; ` +
      `CPU = utime+stime of the process under test from /proc ÷ requests (for logging scenarios including the delivery of the run's events); ` +
      `processes not under test are paused (SIGSTOP).`,
  );
  if (result.scenarios.some((s) => s.id === 9 || s.id === 10)) {
    lines.push(
      'Yardsticks in the bare forwarder\'s process: scenario 9 (the same Nest route style answering a constant JSON the size of the ' +
        'mock\'s, no upstream) is what a cache hit is measured against (issue 6); scenario 10 (the forwarder plus one no-op Nest ' +
        'interceptor) shows what Nest\'s interceptor pipeline alone costs per request (CPU/req 10 ÷ 2).',
    );
  }
  lines.push('');
  lines.push('| # | scenario | c | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | vs direct | CPU µs/req | of which request loop | of which delivery thread | peak RSS MB |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of sum.rows) {
    lines.push(
      `| ${r.scenario} | ${r.name}${r.errors ? ` (**${r.errors} errors**)` : ''}${r.stalled ? ` (**${r.stalled} of ${r.runs} runs stalled: no request completed**)` : ''}${r.undrained ? ` (${r.undrained} run(s) not drained)` : ''}${r.scenario === 6 && r.upstream_share !== null ? ` (${f(r.upstream_share * 100, 1)} % reached the upstream)` : ''} | ${r.c} | ${range(r.rps)} | ${f(r.p50.median, 2)} | ${f(r.p99.median, 2)} | ` +
        `${r.added_p50 ? signed(r.added_p50.median, 2) : '—'} | ${r.added_p99 ? signed(r.added_p99.median, 2) : '—'} | ${r.vs_direct ? `${f(r.vs_direct.median * 100, 1)} %` : '—'} | ` +
        `${range(r.cpu_us_per_req)} | ${r.cpu_main_us_per_req.n ? f(r.cpu_main_us_per_req.median) : '—'} | ${r.cpu_delivery_us_per_req.n && r.cpu_delivery_us_per_req.median > 0 ? f(r.cpu_delivery_us_per_req.median) : '—'} | ${f(r.rss_peak_mb.median, 0)} |`,
    );
  }
  if (!result.scenarios.some((s) => s.id === 6) && result.notes.some((n) => n.startsWith('Scenario 6'))) {
    lines.push('| 6 | cache hits | — | not available (caching not implemented) | | | | | | | | | |');
  }
  lines.push('');
  if (stream) {
    lines.push(`## Streaming (scenario 7): c=1, ${stream.lo} and ${stream.hi} content chunks`);
    lines.push('');
    lines.push('| target | chunks | streams/s | TTFT p50 ms | TTFT p99 ms | total p50 ms | CPU µs/stream |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const t of stream.table) {
      lines.push(`| ${t.target} | ${t.chunks} | ${range(t.rps)} | ${f(t.ttft_p50.median, 3)} | ${f(t.ttft_p99.median, 3)} | ${f(t.total_p50.median, 3)} | ${range(t.cpu)} |`);
    }
    lines.push('');
    lines.push('| gateway | added TTFT p50 ms | added TTFT p99 ms | per extra chunk: added stream time µs | per extra chunk: gateway CPU µs |');
    lines.push('|---|---|---|---:|---:|');
    for (const g of stream.gateways) {
      lines.push(
        `| ${g.gateway} | ${srange(g.added_ttft_p50[stream.lo], 3)} (${stream.lo} ch.), ${srange(g.added_ttft_p50[stream.hi], 3)} (${stream.hi} ch.) | ` +
          `${srange(g.added_ttft_p99[stream.lo], 3)} (${stream.lo} ch.), ${srange(g.added_ttft_p99[stream.hi], 3)} (${stream.hi} ch.) | ${srange(g.per_chunk_added_us, 1)} | ${range(g.per_chunk_cpu_us, 1)} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Ratios (medians of per-repetition ratios)');
  lines.push('');
  lines.push(
    '| c | CPU/req 4 ÷ 2 | CPU/req 3 ÷ 2 | throughput cost 4 vs 3 | p99 5 vs 4 | req/s 4 ÷ 2 | req/s 4 ÷ Portkey | CPU/req 6 ÷ 3 (cache hit vs miss) | ' +
      'req/s 6 ÷ 3 (cache hit vs miss) | p50 6 − 9 ms (cache hit over bare Nest route) | CPU/req 10 ÷ 2 (no-op interceptor) | CPU/req 3 ÷ 10 | request-loop CPU/req 4 ÷ 3 | req/s 4 ÷ 3 | CPU/req 12 ÷ 3 (Anthropic vs OpenAI upstream) |',
  );
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of sum.concurrencies) {
    const r = sum.ratios[c];
    lines.push(
      `| ${c} | ${range(r.cpu_4_over_2, 2)} | ${range(r.cpu_3_over_2, 2)} | ${srange(r.throughput_cost_4_vs_3_pct, 1)} % | ${srange(r.p99_growth_5_vs_4_pct, 1)} % | ` +
        `${range(r.throughput_4_over_2, 2)} | ${r.throughput_4_over_portkey.n ? range(r.throughput_4_over_portkey, 2) : '—'} | ${r.cpu_6_over_3?.n ? range(r.cpu_6_over_3, 2) : '—'} | ` +
        `${range(r.throughput_6_over_3, 2)} | ${srange(r.added_p50_6_over_9, 3)} | ${range(r.cpu_10_over_2, 2)} | ${range(r.cpu_3_over_10, 2)} | ${r.main_cpu_4_over_3?.n ? range(r.main_cpu_4_over_3, 2) : '—'} | ${r.throughput_4_over_3?.n ? range(r.throughput_4_over_3, 2) : '—'} | ${r.cpu_12_over_3?.n ? range(r.cpu_12_over_3, 2) : '—'} |`,
    );
  }
  lines.push('');
  lines.push('## Targets');
  lines.push('');
  lines.push('| target | from | measured | verdict |');
  lines.push('|---|---|---|---|');
  for (const t of targets) lines.push(`| ${t.target} | ${t.source} | ${t.measured} | ${t.verdict} |`);
  lines.push('');
  if (result.notes.length > 0) {
    lines.push('Notes:');
    for (const note of result.notes) lines.push(`- ${note}`);
    lines.push('');
  }
  return { markdown: `${lines.join('\n')}\n`, summary: { rows: sum.rows, ratios: sum.ratios, stream }, targets };
}

function renderSoak(result) {
  const m = result.machine;
  const r = result.rss_mb;
  const lines = [];
  lines.push(`# Gatehouse soak — ${m.date}`);
  lines.push('');
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, load tool ${m.load_tool}. Commit ${m.commit ? m.commit.slice(0, 10) : 'unknown'}. ` +
      `${result.requests} requests at c=${result.options.concurrency}, scenario 4 (3 destinations, durable delivery), ${result.options.database}.`,
  );
  lines.push('');
  lines.push('| point | requests | RSS MB |');
  lines.push('|---|---:|---:|');
  lines.push(`| before any load | 0 | ${f(r.before_load, 1)} |`);
  lines.push(`| start (after warm-up) | 0 | ${f(r.start, 1)} |`);
  lines.push(`| ~20 % | ${r.at_20pct_requests} | ${f(r.at_20pct, 1)} |`);
  lines.push(`| middle (~50 %) | ${r.middle_requests} | ${f(r.middle, 1)} |`);
  lines.push(`| end (100 %) | ${r.end_requests} | ${f(r.end, 1)} |`);
  lines.push(`| end, after delivery drained | ${r.end_requests} | ${f(r.end_after_drain, 1)} |`);
  lines.push(`| peak (VmHWM) | | ${f(r.peak_hwm, 1)} |`);
  lines.push('');
  if (result.complete === false) {
    lines.push(
      `**Incomplete: stopped after ${f(result.minutes, 1)} min with ${result.requests} of ${result.options.requests} requests sent** ` +
        `(the last segments ran at ${result.last_segments_rps.map((x) => f(x)).join(', ')} req/s). ` +
        `RSS growth from ~20 % of N to the last sample: ${signed(result.growth_20_to_100_pct, 1)} %; the target (20 k → 100 k) was not reached.`,
    );
  } else {
    const verdict = result.growth_20_to_100_pct < 10 ? 'met' : 'MISSED';
    lines.push(`RSS growth between ~20 % and 100 % of the requests: **${signed(result.growth_20_to_100_pct, 1)} %** (target < 10 %: ${verdict}).`);
  }
  lines.push(
    `Errors: ${result.errors}. CPU ${f(result.cpu_us_per_req)} µs/request. Delivery ${result.delivery.drained ? 'drained' : 'NOT drained'} ` +
      `(${JSON.stringify(result.delivery.delivered)} events per destination).`,
  );
  lines.push('');
  lines.push('| s | requests | req/s | p50 ms | p99 ms | RSS MB | delivered (min over destinations) | not yet delivered |');
  lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of result.samples) {
    lines.push(
      `| ${f(s.at_s)} | ${s.requests}${s.after_drain ? ' (after drain)' : ''} | ${f(s.rps)} | ${f(s.p50, 2)} | ${f(s.p99, 2)} | ${f(s.rss_mb, 1)} | ${s.delivered} | ${s.requests - s.delivered} |`,
    );
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

module.exports = { renderReport, renderSoak };
