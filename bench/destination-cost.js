'use strict';
// CPU per event of one destination's send(), in process, against the bench log sink: what a destination costs
// the gateway for each event it delivers, without the HTTP front of the gateway in the way. Needs a build (dist/).
//   node bench/destination-cost.js langfuse|gcs|otel|s3|datadog|generic_api|arize|arize_phoenix|langfuse_otel [events per batch, 300] [batches, 40]
//   PROFILE=dir node bench/destination-cost.js langfuse     also writes a CPU profile of the measured batches
//   node bench/destination-cost.js langfuse,gcs,otel          several destinations sending the same events (one call's
//                                                            events share their payload object in the delivery thread)
//   DIST=/other/checkout/dist node bench/destination-cost.js …  measures another build's destinations
//   MESSAGE_CHARS=20000 node bench/destination-cost.js …      a conversation of about that many characters per event
const { join } = require('node:path');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { Session } = require('node:inspector');
const { randomBytes } = require('node:crypto');
const { ROOT, serviceAccountJson } = require('./lib/gatehouse');
const { startProcess, runMain } = require('./lib/processes');

const kinds = (process.argv[2] || 'langfuse').split(',');
const kind = kinds.join('+');
const perBatch = Number(process.argv[3] || 300);
const batches = Number(process.argv[4] || 40);
const destinations = join(process.env.DIST || join(ROOT, 'dist'), 'src', 'logging', 'delivery', 'destinations');

/** The destination specs' realistic payload (test/support/fakes/sample-payload.ts), compiled on the fly. */
function loadSamplePayload() {
  const ts = require('typescript');
  const file = join(ROOT, 'test', 'support', 'fakes', 'sample-payload.ts');
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const loaded = new Module(file);
  loaded.filename = file;
  loaded._compile(outputText, file);
  return loaded.exports.samplePayload;
}
const samplePayload = loadSamplePayload();

/** Alternating user and assistant turns of ~500 characters each, about `chars` in all (none when 0). */
function conversation(chars) {
  if (!chars) return null;
  const turns = [];
  for (let i = 0; i * 500 < chars; i++) turns.push({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}: ${'lorem ipsum dolor sit amet, '.repeat(18)}` });
  return turns;
}

function destinationFor(kind, host) {
  if (kind === 'langfuse') {
    const { LangfuseDestination } = require(join(destinations, 'langfuse', 'langfuse.destination.js'));
    return [new LangfuseDestination(), { langfuse_public_key: 'pk-lf-bench', langfuse_secret_key: 'sk-lf-bench', langfuse_host: host }];
  }
  if (kind === 'gcs') {
    const { GcsBucketDestination } = require(join(destinations, 'gcs-bucket', 'gcs-bucket.destination.js'));
    return [new GcsBucketDestination({ apiEndpoint: host }), { gcs_bucket_name: 'bench-logs/cost', gcs_service_account_json: serviceAccountJson() }];
  }
  if (kind === 'otel') {
    const { OtelDestination } = require(join(destinations, 'otel', 'otel.destination.js'));
    return [new OtelDestination(), { otel_endpoint: host, otel_service_name: 'gatehouse-bench' }];
  }
  if (kind === 's3') {
    const { S3Destination } = require(join(destinations, 's3', 's3.destination.js'));
    return [
      new S3Destination({ env: {} }),
      { s3_bucket_name: 'bench-logs', s3_region_name: 'us-east-1', s3_endpoint_url: host, s3_path: 'cost', s3_aws_access_key_id: 'AKIABENCH0000000000A', s3_aws_secret_access_key: 'bench-secret' },
    ];
  }
  if (kind === 'datadog') {
    const { DatadogDestination } = require(join(destinations, 'datadog', 'datadog.destination.js'));
    return [new DatadogDestination(), { dd_api_key: 'dd-bench', dd_base_url: host }];
  }
  if (kind === 'generic_api') {
    const { GenericApiDestination } = require(join(destinations, 'generic-api', 'generic-api.destination.js'));
    return [new GenericApiDestination(), { generic_logger_endpoint: `${host}/generic`, generic_logger_headers: 'Authorization=Bearer bench' }];
  }
  if (kind === 'arize') {
    const { arizeDestination } = require(join(destinations, 'arize', 'arize.destination.js'));
    return [arizeDestination({ endpoint: host }), { arize_space_key: 'bench-space', arize_api_key: 'bench-key', arize_project_name: 'bench' }];
  }
  if (kind === 'arize_phoenix') {
    const { arizePhoenixDestination } = require(join(destinations, 'arize-phoenix', 'arize-phoenix.destination.js'));
    return [arizePhoenixDestination({ endpoint: host }), { phoenix_api_key: 'bench-key', phoenix_project_name: 'bench' }];
  }
  if (kind === 'langfuse_otel') {
    const { langfuseOtelDestination } = require(join(destinations, 'langfuse-otel', 'langfuse-otel.destination.js'));
    return [langfuseOtelDestination({ host }), { langfuse_public_key: 'pk-lf-bench', langfuse_secret_key: 'sk-lf-bench' }];
  }
  throw new Error(`unknown destination ${kind}: langfuse, gcs, otel, s3, datadog, generic_api, arize, arize_phoenix or langfuse_otel`);
}

runMain(async () => {
  const sink = startProcess('log sink', process.execPath, [join(__dirname, 'servers', 'log-sink.js')], { readyLine: /READY (\d+) (\d+)/, cwd: ROOT });
  const [, sinkPort] = await sink.ready;
  const targets = kinds.map((name) => {
    const [destination, vars] = destinationFor(name, `http://127.0.0.1:${sinkPort}`);
    const parsed = destination.parseSettings(vars);
    if (!parsed.settings) throw new Error(JSON.stringify(parsed.errors));
    return { destination, settings: parsed.settings };
  });
  const batch = () =>
    Array.from({ length: perBatch }, () => {
      const callId = randomBytes(8).toString('hex');
      const messages = conversation(Number(process.env.MESSAGE_CHARS || 0));
      return { eventId: `${callId}:entry`, payload: samplePayload({ litellm_call_id: callId, trace_id: callId, ...(messages ? { messages } : {}) }) };
    });
  const send = async (items) => {
    const results = await Promise.all(targets.map(({ destination, settings }) => destination.send(items, settings)));
    for (const result of results) if (!result.ok) throw new Error(JSON.stringify(result));
  };
  for (let i = 0; i < 5; i++) await send(batch()); // JIT warm-up
  const work = Array.from({ length: batches }, batch);

  const session = new Session();
  session.connect();
  const post = (method) => new Promise((resolve, reject) => session.post(method, (error, result) => (error ? reject(error) : resolve(result))));
  if (process.env.PROFILE) {
    await post('Profiler.enable');
    await post('Profiler.start');
  }
  const before = process.cpuUsage();
  for (const items of work) await send(items);
  const used = process.cpuUsage(before);
  if (process.env.PROFILE) {
    const { profile } = await post('Profiler.stop');
    mkdirSync(process.env.PROFILE, { recursive: true });
    writeFileSync(join(process.env.PROFILE, `${kind}.cpuprofile`), JSON.stringify(profile));
  }
  console.log(`${kind}: ${((used.user + used.system) / (perBatch * batches)).toFixed(1)} µs CPU per event (${batches} batches of ${perBatch})`);
  for (const { destination } of targets) await destination.close();
});
