'use strict';
// CPU per request of the gateway's own tracing (issue 28), in process: the request middleware's server span, one
// upstream client span with its traceparent headers, the response's close, and the BatchSpanProcessor's export of
// those spans (serialisation and the POST) to the bench log sink — without the HTTP front of the gateway in the way.
// Interleaved with the same loop without tracing (fake request and response only), whose cost is subtracted.
// Needs a build (dist/).
//   node bench/tracing-cost.js [requests per round, 5000] [rounds, 10]
//   PROTOCOLS=http/protobuf,http/json CALLER=with,without   (defaults: both); RATE=10000 (requests a second);
//   OTEL_BSP_MAX_QUEUE_SIZE (default here 2 × RATE: no span may be dropped, or the run fails)
//   SDK_EXPORTER=no   leaves out the reference variant with OpenTelemetry's own BatchSpanProcessor and exporter
//   Where the time goes: node --cpu-prof --cpu-prof-dir=/tmp/prof bench/tracing-cost.js
const { EventEmitter } = require('node:events');
const { diag, DiagLogLevel } = require('@opentelemetry/api');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { join } = require('node:path');
const { ROOT } = require('./lib/gatehouse');
const { startProcess, runMain } = require('./lib/processes');
const { median } = require('./lib/stats');

const perRound = Number(process.argv[2] || 5000);
const rounds = Number(process.argv[3] || 10);
const protocols = (process.env.PROTOCOLS || 'http/protobuf,http/json').split(',');
const callers = (process.env.CALLER || 'with,without').split(',');
/** Requests a second: above what one gateway process serves on this machine (bench/results: 6–11k logging off). */
const RATE = Number(process.env.RATE || 10_000);
const { OtelTracing } = require(join(ROOT, 'dist', 'src', 'tracing', 'otel-tracing.js'));
const { REQUEST_TRACE } = require(join(ROOT, 'dist', 'src', 'tracing', 'tracing.js'));
const { OtlpSpanProcessor } = require(join(ROOT, 'dist', 'src', 'tracing', 'otlp-span-processor.js'));

const DEPLOYMENT = { modelName: 'bench-gpt', modelId: 'bench-deployment', providerLabel: 'openai', upstreamModel: 'gpt-4o-mini', target: { origin: 'http://127.0.0.1:18080' } };
const UPSTREAM_HEADERS = { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer sk-bench-upstream' };
const CALLER_HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench', 'user-agent': 'bench', host: '127.0.0.1:4000' };
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** One request as the gateway sees it, through `middleware` (null: tracing off) and one upstream attempt. */
function request(middleware, withCaller, i) {
  const headers = withCaller ? { ...CALLER_HEADERS, traceparent: TRACEPARENT } : { ...CALLER_HEADERS };
  const req = { method: 'POST', headers, id: `req-${i}` };
  const res = new EventEmitter();
  res.statusCode = 200;
  res.writableFinished = true;
  res.getHeader = (name) => (name === 'x-litellm-call-id' ? 'call-0123456789' : undefined);
  if (middleware !== null) middleware(req, res, () => undefined);
  const trace = req[REQUEST_TRACE];
  let sent = UPSTREAM_HEADERS;
  if (trace !== undefined) {
    const span = trace.upstreamCall({ endpoint: 'chat', stream: false, deployment: DEPLOYMENT });
    sent = span.headers(UPSTREAM_HEADERS);
    span.answered(200);
    span.end();
  }
  req.route = { path: '/v1/chat/completions' };
  res.emit('close');
  return sent;
}

async function cpuPerRequest(tracing, withCaller) {
  const middleware = tracing === null ? null : tracing.requestMiddleware();
  const start = process.cpuUsage();
  const began = performance.now();
  // Paced at RATE requests a second in turns of 50, as requests reach a busy gateway: the processor exports between
  // turns (its queue holds 2048 spans; unpaced, this loop outruns any gateway and the processor drops spans, which
  // costs less than exporting them). The pauses are idle time: they cost no CPU.
  for (let i = 0; i < perRound; i++) {
    request(middleware, withCaller, i);
    if (i % 50 === 49) {
      const due = began + ((i + 1) * 1000) / RATE;
      await new Promise((resolve) => (performance.now() < due ? setTimeout(resolve, due - performance.now()) : setImmediate(resolve)));
    }
  }
  // The export of this round's spans counts too (it happens on the same thread in the gateway).
  if (tracing !== null) await tracing.provider.forceFlush();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / perRound;
}

// A queue for a second of spans at RATE: on a busy machine an export can take longer than the default queue (2048
// spans, 0.1 s at 10k requests a second) lasts, and a dropped span costs less than an exported one.
process.env.OTEL_BSP_MAX_QUEUE_SIZE ??= String(2 * RATE);

runMain(async () => {
  const sink = startProcess('log sink', process.execPath, [join(__dirname, 'servers', 'log-sink.js')], { readyLine: /READY (\d+) (\d+)/, cwd: ROOT });
  const [, sinkPort] = await sink.ready;
  const settings = (protocol) => ({
    tracesUrl: `http://127.0.0.1:${sinkPort}/self/v1/traces`,
    protocol,
    headers: {},
    serviceName: 'gatehouse-bench',
    resourceAttributes: {},
    sampler: 'parentbased_always_on',
    samplerRatio: 1,
    timeoutMs: 10_000,
    compression: 'none',
    tls: {},
    batch: { scheduledDelayMs: 5000, maxQueueSize: Number(process.env.OTEL_BSP_MAX_QUEUE_SIZE), maxExportBatchSize: 512, exportTimeoutMs: 30_000 },
  });
  const variants = [{ name: 'off', tracing: null, withCaller: true }];
  // Where the cost is: the wiring alone (every span unsampled: nothing recorded or exported), then spans recorded and
  // batched but exported nowhere, then the real export.
  variants.push({ name: 'on, sampler always_off', tracing: new OtelTracing({ ...settings('http/protobuf'), sampler: 'always_off' }), withCaller: false });
  const nowhere = { send: () => Promise.resolve({ ok: true }), close: () => Promise.resolve() };
  const batchedOnly = new OtlpSpanProcessor([], { name: 'gatehouse' }, nowhere, settings('http/protobuf').batch, true, (message) => log(message));
  variants.push({ name: 'on, spans encoded and batched, not sent', tracing: new OtelTracing(settings('http/protobuf'), batchedOnly), withCaller: false });
  // What the gateway did before (issue 28's first version): OpenTelemetry's BatchSpanProcessor and OTLP exporters.
  if (process.env.SDK_EXPORTER !== 'no') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
    const sdk = new BatchSpanProcessor(new OTLPTraceExporter({ url: settings('http/protobuf').tracesUrl }));
    variants.push({ name: "http/protobuf, OpenTelemetry's BatchSpanProcessor and exporter", tracing: new OtelTracing(settings('http/protobuf'), sdk), withCaller: false });
  }
  variants.push({ name: 'on, parentbased_traceidratio 0.1', tracing: new OtelTracing({ ...settings('http/protobuf'), sampler: 'parentbased_traceidratio', samplerRatio: 0.1 }), withCaller: false });
  for (const protocol of protocols) {
    const tracing = new OtelTracing(settings(protocol));
    for (const caller of callers) variants.push({ name: `${protocol}, ${caller} caller traceparent`, tracing, withCaller: caller === 'with' });
  }
  // A dropped span would make tracing look cheaper than it is: any drop fails the run.
  let dropped = 0;
  const log = (message) => {
    if (/[Dd]ropped/.test(message)) dropped++;
    console.error(`OpenTelemetry: ${message}`);
  };
  diag.setLogger({ error: log, warn: log, info: () => undefined, debug: () => undefined, verbose: () => undefined }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  // Warm-up: every variant once, unrecorded (JIT, connections).
  for (const v of variants) await cpuPerRequest(v.tracing, v.withCaller);
  const results = new Map(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(k + round) % variants.length];
      results.get(v.name).push(await cpuPerRequest(v.tracing, v.withCaller));
    }
  }
  const off = median(results.get('off'));
  console.log(`${perRound} requests per round, ${rounds} rounds; CPU µs per request (median, min–max)`);
  for (const [name, values] of results) {
    const sorted = [...values].sort((a, b) => a - b);
    const added = name === 'off' ? '' : `, tracing adds ${(median(values) - off).toFixed(1)} µs`;
    console.log(`  ${name}: ${median(values).toFixed(1)} (${sorted[0].toFixed(1)}–${sorted.at(-1).toFixed(1)})${added}`);
  }
  const stats = await (await fetch(`http://127.0.0.1:${sinkPort}/__stats`)).json();
  console.log(`sink: ${stats.self_trace_requests} exports, ${stats.self_trace_bytes} bytes`);
  if (dropped > 0) throw new Error(`${dropped} warning(s) about dropped spans: the numbers above undercount`);
  for (const v of variants) if (v.tracing) await v.tracing.onApplicationShutdown();
});
