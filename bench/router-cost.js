'use strict';
// CPU time the router (src/completions/router/) adds to a call that its first deployment answers, in process, on the
// built code (dist/): ModelRouter.route with an attempt that answers at once, without router_settings and with
// fallbacks of every kind, retries and cooldowns configured (unused), and per routing strategy. Process CPU time,
// interleaved repetitions, median. The whole request's CPU (bench scenario 3) is what these microseconds add to.
//   npm run build && node bench/router-cost.js
// Env: CALLS (per run, default 200000), REPS (default 7).
const { join } = require('node:path');
const { dist, reportCpu } = require('./lib/cpu-cost');

const { DeploymentTable } = require(join(dist, 'deployment-table.js'));
const { ModelRouter } = require(join(dist, 'router', 'model-router.js'));
const { emptyRouterSettings } = require(join(dist, '..', 'config', 'config-file', 'router-settings.js'));

const CALLS = Number(process.env.CALLS || 200000);
const REPS = Number(process.env.REPS || 7);

const table = new DeploymentTable(
  [
    { model_name: 'gpt-4o', litellm_params: { model: 'mock/gpt-4o' }, model_info: {} },
    { model_name: 'gpt-4o', litellm_params: { model: 'mock/gpt-4o-b' }, model_info: {} },
    { model_name: 'claude', litellm_params: { model: 'mock/claude' }, model_info: {} },
  ],
  { env: {}, pools: false },
);
const fallbacks = { 'gpt-4o': ['claude'] };
const withFallbacks = {
  ...emptyRouterSettings(),
  num_retries: 2,
  allowed_fails: 3,
  cooldown_time: 5,
  fallbacks,
  context_window_fallbacks: fallbacks,
  content_policy_fallbacks: fallbacks,
  default_fallbacks: ['claude'],
};
const routerWith = (routerSettings) => new ModelRouter(table, { config: { routerSettings }, environment: {} });
const routers = {
  'no router_settings': routerWith(emptyRouterSettings()),
  'fallbacks, retries, cooldowns configured': routerWith(withFallbacks),
  'least-busy': routerWith({ ...withFallbacks, routing_strategy: 'least-busy' }),
  'latency-based-routing': routerWith({ ...withFallbacks, routing_strategy: 'latency-based-routing' }),
};

const group = table.group('gpt-4o');
const answered = () => Promise.resolve(null);
const res = { headersSent: false, setHeader() {} };
const resolveGroup = (name) => table.group(name);
const mayUse = () => true;

function measure(router) {
  return {
    per: 'call',
    run: async (n) => {
      for (let i = 0; i < n; i++) {
        // What the service passes per call: a fresh call (body, routing slot) and its attempt closure.
        const call = { body: { model: 'gpt-4o', messages: [] }, routing: null, clientGone: false, deployment: null };
        await router.route({ call, res, group, attempt: answered, resolveGroup, mayUse });
      }
    },
  };
}

const measures = Object.fromEntries(Object.entries(routers).map(([name, router]) => [`route: ${name}`, measure(router)]));
void reportCpu(measures, { calls: CALLS, reps: REPS, title: `${CALLS} calls per run, answered by the first deployment` });
