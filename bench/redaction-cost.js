'use strict';
// What the redaction of error text costs, in process, on the built code (dist/): µs per call of
//  - SecretRedactor.redact on an OpenAI-style 401 message (~200 chars) and on a clipped 2,000-char error,
//  - failureFromStatus (the whole upstream-error mapping) with the gateway's redactor, shape rules only, and none,
//  - the relay's per-event shape check (faultOf) on a typical chat chunk: the only part that runs on success.
// The redactor is built from a config of N deployments (env N, default 20), each with its own api_key, plus the
// master key, salt key and database password, as SecretRedactor.forGateway builds it at boot.
//   node bench/redaction-cost.js            (after npm run build)
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { randomBytes } = require('node:crypto');

const DIST = join(__dirname, '..', 'dist', 'src');
const { SecretRedactor } = require(join(DIST, 'common', 'secret-redactor'));
const { failureFromStatus } = require(join(DIST, 'completions', 'upstream-errors'));
const { faultOf } = require(join(DIST, 'completions', 'sse-relay'));
const { loadEnvironment } = require(join(DIST, 'config', 'environment'));
const { parseGatewayConfig } = require(join(DIST, 'config', 'gateway-config'));
const { GatewaySettings } = require(join(DIST, 'config', 'gateway-settings'));

const N = Number(process.env.N || 20);
const env = {};
const lines = ['model_list:'];
for (let i = 0; i < N; i++) {
  env[`BENCH_PROVIDER_KEY_${i}`] = `sk-proj-${randomBytes(24).toString('base64url')}`;
  lines.push(`  - model_name: m${i}`, '    litellm_params:', '      model: openai/gpt-4o', `      api_key: os.environ/BENCH_PROVIDER_KEY_${i}`);
}
const { config } = parseGatewayConfig(`${lines.join('\n')}\n`, null);
const settings = new GatewaySettings(loadEnvironment({ SALT_KEY: randomBytes(32).toString('base64url') }), config, `sk-${randomBytes(32).toString('base64url')}`, {
  url: `postgres://gw:${randomBytes(12).toString('hex')}@127.0.0.1:5432/gw`,
  poolSize: 1,
  embedded: false,
});
const redactor = SecretRedactor.forGateway(settings, env);
const shapesOnly = new SecretRedactor([]);

const key = env.BENCH_PROVIDER_KEY_7;
const short = `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`;
const long = `${short} ${'The upstream reported a long diagnostic with request ids req_0123456789abcdef and prose. '.repeat(20)}`.slice(0, 2000);
const body401 = JSON.stringify({ error: { message: short, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
const chunk = JSON.stringify({
  id: 'chatcmpl-0123456789',
  object: 'chat.completion.chunk',
  created: 1700000000,
  model: 'gpt-4o-mini',
  system_fingerprint: 'fp_0123',
  choices: [{ index: 0, delta: { content: ' token' }, logprobs: null, finish_reason: null }],
});

function measure(label, fn, iterations) {
  for (let i = 0; i < Math.min(iterations, 2000); i++) fn();
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    runs.push(((performance.now() - start) * 1000) / iterations);
  }
  runs.sort((a, b) => a - b);
  console.log(`${label.padEnd(64)} ${runs[2].toFixed(3)} µs/call (min ${runs[0].toFixed(3)}, max ${runs[4].toFixed(3)})`);
}

if (redactor.redact(short).includes(key)) throw new Error('the configured key was not redacted');
console.log(`node ${process.version}; ${N} deployments with their own keys + master key, salt key, database password`);
measure(`redact: OpenAI 401 message (${short.length} chars)`, () => redactor.redact(short), 20000);
measure(`redact: clipped error text (${long.length} chars)`, () => redactor.redact(long), 5000);
measure('redact: the same 401 message, shape rules only (no literals)', () => shapesOnly.redact(short), 20000);
measure('failureFromStatus(401 JSON body) with redaction', () => failureFromStatus({ status: 401, retryAfter: undefined, contentType: 'application/json', body: body401, provider: 'openai', redactor }), 20000);
measure('failureFromStatus(401 JSON body), shape rules only', () => failureFromStatus({ status: 401, retryAfter: undefined, contentType: 'application/json', body: body401, provider: 'openai', redactor: shapesOnly }), 20000);
measure('failureFromStatus(401 JSON body), no redaction (identity: the cost before)', () => failureFromStatus({ status: 401, retryAfter: undefined, contentType: 'application/json', body: body401, provider: 'openai', redactor: { redact: (text) => text } }), 20000);
measure(`faultOf: a typical chat chunk (${chunk.length} chars), every streamed event`, () => faultOf(chunk), 1000000);
