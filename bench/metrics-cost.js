'use strict';
// CPU time the LLM metrics (src/metrics/llm-metrics.ts) add to a finished call, in process, on the built code (dist/):
// LlmMetrics.track + record for an answered call, a stream, a call that failed after one failed attempt, and for
// comparison the same dozen updates made through prom-client's label children (what the series objects replace).
// The usage is given (the spend ledger reads it for every call anyway). Process CPU time, interleaved repetitions, median.
//   npm run build && node bench/metrics-cost.js
// Env: CALLS (per run, default 200000), REPS (default 7).
const { join } = require('node:path');
const { Counter, Histogram, Registry } = require('prom-client');
const { dist, reportCpu } = require('./lib/cpu-cost');

const { LlmMetrics, LATENCY_BUCKETS } = require(join(dist, '..', 'metrics', 'llm-metrics.js'));
const { DeploymentTable } = require(join(dist, 'deployment-table.js'));
const { AppException } = require(join(dist, '..', 'errors.js'));
const { NO_LIMITS } = require(join(dist, '..', 'budgets', 'usage-limits.js'));

const CALLS = Number(process.env.CALLS || 200000);
const REPS = Number(process.env.REPS || 7);

const table = new DeploymentTable([{ model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o-mini', api_base: 'http://127.0.0.1:1/v1' }, model_info: { id: 'dep-1' } }], { env: {}, pools: false });
const deployment = table.group('gpt-4o').deployments[0];
// A cached principal: the same object for every call of its key (30 s), as the guard hands it over.
const principal = {
  kind: 'key', isProxyAdmin: false, role: null, keyHash: 'a'.repeat(64), keyAlias: 'bench-key', teamId: 'team-1', teamAlias: 'Bench Team',
  allowedModels: null, keyMetadata: {}, teamMetadata: {}, teamLoggingDisabled: false, userId: 'user-1', adminTeamIds: [], limits: NO_LIMITS,
};
const usage = { prompt_tokens: 180, completion_tokens: 90, total_tokens: 270, response_cost: 0.00081, model_group: 'gpt-4o', end_user: null, cache_hit: false };
const body = { model: 'gpt-4o', messages: [] };

function settledCall(overrides = {}) {
  let listener = null;
  return {
    principal, body, stream: false, deployment, routing: null, fromCache: false,
    requestSeconds: 0.0021, upstreamSeconds: 0.0017, firstTokenSeconds: -1,
    usage: () => usage, failure: () => null,
    whenSettled: (l) => (listener = l),
    settle: () => listener(),
    ...overrides,
  };
}

function measureRecord(makeCall) {
  const metrics = new LlmMetrics({ maxKeySeries: 1000, maxModelSeries: 200 });
  return {
    per: 'call',
    run: (n) => {
      for (let i = 0; i < n; i++) {
        // A fresh call each time, as each request has its own tracker: track() registers, the close settles.
        const call = makeCall();
        metrics.track(call);
        call.settle();
      }
    },
  };
}

const failedAttempt = { modelGroup: 'gpt-4o', deployment, exception: new AppException('upstream_error', 'boom', { status: 500 }), kind: 'server', durationMs: 3 };

/** The answered call's updates through prom-client children, cached per label set as its docs suggest. */
function promClientChildren() {
  const registry = new Registry();
  const caller = ['', principal.keyHash, principal.keyAlias, 'gpt-4o', principal.teamId, principal.teamAlias, principal.userId];
  const counter = (name, extra) => new Counter({ name, help: name, labelNames: [...'abcdefg'.split(''), ...extra.map((_, i) => `x${i}`)], registers: [registry] }).labels(...caller, ...extra);
  const histogram = (name) => new Histogram({ name, help: name, labelNames: 'abcdefgh'.split(''), buckets: LATENCY_BUCKETS, registers: [registry] }).labels(...caller, 'gpt-4o-mini');
  const c = {
    total: counter('t', ['200']), spend: counter('s', []), input: counter('i', ['m']), output: counter('o', ['m']), all: counter('a', ['m']),
    success: counter('ds', ['d', 'e']), deployments: counter('dt', ['d', 'e']), request: histogram('r'), api: histogram('api'),
  };
  return {
    per: 'call',
    run: (n) => {
      for (let i = 0; i < n; i++) {
        c.total.inc(); c.spend.inc(usage.response_cost); c.input.inc(180); c.output.inc(90); c.all.inc(270);
        c.success.inc(); c.deployments.inc(); c.request.observe(0.0021); c.api.observe(0.0017);
      }
    },
  };
}

void reportCpu(
  {
    'answered call (track + record)': measureRecord(() => settledCall()),
    'answered stream, with time to first token': measureRecord(() => settledCall({ stream: true, firstTokenSeconds: 0.0004 })),
    'failed call, one failed attempt': measureRecord(() =>
      settledCall({ failure: () => ({ code: '500', errorClass: 'APIError', midStream: false }), routing: { failedAttempts: [failedAttempt], attemptedRetries: 0, attemptedFallbacks: 0, modelGroup: 'gpt-4o' }, usage: () => ({ ...usage, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, response_cost: 0 }) }),
    ),
    'same updates via prom-client children': promClientChildren(),
  },
  { calls: CALLS, reps: REPS, title: `${CALLS} calls per run` },
).finally(() => table.close());
