import { Logger } from '@nestjs/common';
import { NO_LIMITS, type LimitSet } from '../budgets/usage-limits';
import type { CallFailure, CallUsage } from '../completions/call-payload';
import { DeploymentTable } from '../completions/deployment-table';
import type { RoutingRecord } from '../completions/router/routing-record';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { LlmMetrics, type SettledCall, type SpendReader } from './llm-metrics';

const table = new DeploymentTable(
  [
    { model_name: 'gpt-4o', litellm_params: { model: 'openai/gpt-4o-real', api_base: 'http://127.0.0.1:1/v1' }, model_info: { id: 'dep-a' } },
    { model_name: 'gpt-4o', litellm_params: { model: 'azure/gpt-4o-eu', api_base: 'https://eu.example.com', api_version: '2024-10-21', api_key: 'azure-test-key' }, model_info: { id: 'dep-b' } },
  ],
  { env: {}, pools: false },
);
const [deploymentA, deploymentB] = table.group('gpt-4o')!.deployments;

function principal(overrides: Partial<Principal> = {}): Principal {
  return {
    kind: 'key',
    isProxyAdmin: false,
    role: null,
    keyHash: 'hash-1',
    keyAlias: 'alias-1',
    teamId: 'team-1',
    teamAlias: 'Team One',
    allowedModels: null,
    keyMetadata: {},
    teamMetadata: {},
    teamLoggingDisabled: false,
    userId: 'user-1',
    adminTeamIds: [],
    limits: NO_LIMITS,
    ...overrides,
  };
}

const USAGE: CallUsage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, response_cost: 0.25, model_group: 'gpt-4o', end_user: 'customer-9', cache_hit: false };

function call(overrides: Partial<Omit<SettledCall, 'usage' | 'failure'>> & { usage?: CallUsage; failure?: CallFailure | null } = {}): SettledCall {
  const { usage = USAGE, failure = null, ...rest } = overrides;
  return {
    principal: principal(),
    body: { model: 'gpt-4o', messages: [], user: 'customer-9' },
    stream: false,
    deployment: deploymentA,
    routing: null,
    fromCache: false,
    requestSeconds: 0.2,
    upstreamSeconds: 0.15,
    firstTokenSeconds: -1,
    whenSettled: () => undefined,
    usage: () => usage,
    failure: () => failure,
    ...rest,
  };
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples(text, name).filter((s) => Object.entries(labels).every(([label, value]) => s.labels[label] === value));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, label, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label] = value;
    out.push({ labels, value: match[3] === '+Inf' ? Infinity : Number(match[3]) });
  }
  return out;
}

function text(metrics: LlmMetrics): string {
  const lines: string[] = [];
  metrics.render(lines);
  return lines.join('\n');
}

afterAll(() => table.close());

describe(LlmMetrics.name, () => {
  it("counts an answered call under LiteLLM's names and labels: requests, spend, tokens, latencies, the deployment", () => {
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    metrics.record(call());
    metrics.record(call({ requestSeconds: 2, upstreamSeconds: 1.9 }));
    const out = text(metrics);
    const caller = { hashed_api_key: 'hash-1', api_key_alias: 'alias-1', team: 'team-1', team_alias: 'Team One', user: 'user-1' };
    expect(samples(out, 'litellm_proxy_total_requests_metric_total')).toEqual([
      { labels: { end_user: '', ...caller, requested_model: 'gpt-4o', status_code: '200' }, value: 2 },
    ]);
    expect(samples(out, 'litellm_spend_metric_total')).toEqual([{ labels: { end_user: '', ...caller, model: 'gpt-4o-real' }, value: 0.5 }]);
    const tokenLabels = { end_user: '', ...caller, model: 'gpt-4o-real', requested_model: 'gpt-4o' };
    expect(samples(out, 'litellm_input_tokens_metric_total')).toEqual([{ labels: tokenLabels, value: 22 }]);
    expect(samples(out, 'litellm_output_tokens_metric_total')).toEqual([{ labels: tokenLabels, value: 14 }]);
    expect(samples(out, 'litellm_total_tokens_metric_total')).toEqual([{ labels: tokenLabels, value: 36 }]);
    expect(sample(out, 'litellm_request_total_latency_metric_count', { model: 'gpt-4o-real', requested_model: 'gpt-4o' })).toBe(2);
    expect(sample(out, 'litellm_request_total_latency_metric_sum')).toBeCloseTo(2.2);
    expect(sample(out, 'litellm_request_total_latency_metric_bucket', { le: '0.5' })).toBe(1);
    expect(sample(out, 'litellm_request_total_latency_metric_bucket', { le: '+Inf' })).toBe(2);
    expect(sample(out, 'litellm_llm_api_latency_metric_sum', { model: 'gpt-4o-real' })).toBeCloseTo(2.05);
    // Not a stream: no time to first token, as in LiteLLM.
    expect(samples(out, 'litellm_llm_api_time_to_first_token_metric_count')).toEqual([]);
    const deployment = {
      requested_model: 'gpt-4o',
      litellm_model_name: 'gpt-4o-real',
      model_id: 'dep-a',
      api_base: 'http://127.0.0.1:1/v1',
      api_provider: 'openai',
      hashed_api_key: 'hash-1',
      api_key_alias: 'alias-1',
      team: 'team-1',
      team_alias: 'Team One',
    };
    expect(samples(out, 'litellm_deployment_success_responses_total')).toEqual([{ labels: deployment, value: 2 }]);
    expect(samples(out, 'litellm_deployment_total_requests_total')).toEqual([{ labels: deployment, value: 2 }]);
    expect(out).not.toContain('litellm_proxy_failed_requests_metric_total{');
    expect(out).not.toContain('customer-9');
  });

  it('observes the time to first token of a stream', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    metrics.record(call({ stream: true, firstTokenSeconds: 0.04 }));
    const out = text(metrics);
    const labels = { model: 'gpt-4o-real', hashed_api_key: 'hash-1', api_key_alias: 'alias-1', team: 'team-1', team_alias: 'Team One' };
    expect(samples(out, 'litellm_llm_api_time_to_first_token_metric_count')).toEqual([{ labels, value: 1 }]);
    expect(sample(out, 'litellm_llm_api_time_to_first_token_metric_bucket', { le: '0.025' })).toBe(0);
    expect(sample(out, 'litellm_llm_api_time_to_first_token_metric_bucket', { le: '0.05' })).toBe(1);
  });

  it('counts a failed call with its status and class, and every failed attempt of the router against its deployment', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    const routing: RoutingRecord = {
      failedAttempts: [
        { modelGroup: 'gpt-4o', deployment: deploymentA, exception: new AppException('upstream_error', 'boom', { status: 500 }), kind: 'server', durationMs: 3 },
        { modelGroup: 'gpt-4o', deployment: deploymentB, exception: new AppException('upstream_timeout', 'slow', { status: 408 }), kind: 'timeout', durationMs: 9 },
        { modelGroup: 'gpt-4o', deployment: deploymentA, exception: new AppException('upstream_error', 'boom', { status: 500 }), kind: 'server', durationMs: 2 },
      ],
      attemptedRetries: 2,
      attemptedFallbacks: 0,
      modelGroup: 'gpt-4o',
    };
    const failed = { code: '500', errorClass: 'InternalServerError', midStream: false };
    metrics.record(call({ routing, failure: failed, usage: { ...USAGE, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, response_cost: 0 } }));
    const out = text(metrics);
    expect(sample(out, 'litellm_proxy_total_requests_metric_total', { status_code: '500', requested_model: 'gpt-4o' })).toBe(1);
    expect(sample(out, 'litellm_proxy_failed_requests_metric_total', { exception_status: '500', exception_class: 'InternalServerError', hashed_api_key: 'hash-1' })).toBe(1);
    expect(sample(out, 'litellm_deployment_failure_responses_total', { model_id: 'dep-a', exception_status: '500', exception_class: 'InternalServerError' })).toBe(2);
    expect(sample(out, 'litellm_deployment_failure_responses_total', { model_id: 'dep-b', exception_status: '408', exception_class: 'Timeout', api_provider: 'azure' })).toBe(1);
    expect(sample(out, 'litellm_deployment_total_requests_total', { model_id: 'dep-a' })).toBe(2);
    expect(sample(out, 'litellm_deployment_total_requests_total', { model_id: 'dep-b' })).toBe(1);
    // Nothing answered: no success, no latency, no tokens.
    expect(samples(out, 'litellm_deployment_success_responses_total')).toEqual([]);
    expect(samples(out, 'litellm_request_total_latency_metric_count')).toEqual([]);
    expect(samples(out, 'litellm_input_tokens_metric_total')).toEqual([]);
  });

  it('counts a stream the upstream broke off as a failure of its deployment, with the tokens it used', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    metrics.record(call({ stream: true, firstTokenSeconds: 0.01, failure: { code: '502', errorClass: 'APIConnectionError', midStream: true } }));
    const out = text(metrics);
    expect(sample(out, 'litellm_deployment_failure_responses_total', { model_id: 'dep-a', exception_status: '502' })).toBe(1);
    expect(sample(out, 'litellm_deployment_total_requests_total', { model_id: 'dep-a' })).toBe(1);
    expect(sample(out, 'litellm_spend_metric_total', { model: 'gpt-4o-real' })).toBe(0.25);
    expect(sample(out, 'litellm_total_tokens_metric_total', { model: 'gpt-4o-real' })).toBe(18);
  });

  it('counts a cache hit as a request with its tokens, without a deployment or an upstream latency', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    metrics.record(call({ fromCache: true, usage: { ...USAGE, response_cost: 0, cache_hit: true } }));
    const out = text(metrics);
    expect(sample(out, 'litellm_proxy_total_requests_metric_total', { status_code: '200' })).toBe(1);
    expect(sample(out, 'litellm_total_tokens_metric_total', { model: '' })).toBe(18);
    expect(sample(out, 'litellm_spend_metric_total')).toBe(0);
    expect(samples(out, 'litellm_deployment_success_responses_total')).toEqual([]);
    expect(samples(out, 'litellm_llm_api_latency_metric_count')).toEqual([]);
  });

  it('labels the master key with empty key labels, never a hash of it', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    metrics.record(call({ principal: principal({ kind: 'master', isProxyAdmin: true, keyHash: null, keyAlias: null, teamId: null, teamAlias: null, userId: null }) }));
    expect(sample(text(metrics), 'litellm_proxy_total_requests_metric_total', { hashed_api_key: '', api_key_alias: '', team: '' })).toBe(1);
  });

  it('bounds the series: keys, teams and model names past their bound are counted as "other"', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 2, maxModelSeries: 3 });
    for (let i = 1; i <= 5; i++) {
      const caller = principal({ keyHash: `hash-${i}`, keyAlias: `alias-${i}`, teamId: `team-${i}`, teamAlias: `Team ${i}`, userId: `user-${i}` });
      metrics.record(call({ principal: caller, body: { model: `model-${i}` }, usage: { ...USAGE, model_group: `model-${i}` }, deployment: null }));
      // A principal seen again (or reloaded) keeps its series.
      metrics.record(call({ principal: { ...caller }, body: { model: `model-${i}` }, usage: { ...USAGE, model_group: `model-${i}` }, deployment: null }));
    }
    const out = text(metrics);
    const requests = samples(out, 'litellm_proxy_total_requests_metric_total');
    expect(requests.map((s) => [s.labels.hashed_api_key, s.labels.api_key_alias, s.labels.team, s.labels.user, s.labels.requested_model, s.value])).toEqual([
      ['hash-1', 'alias-1', 'team-1', 'user-1', 'model-1', 2],
      ['hash-2', 'alias-2', 'team-2', 'user-2', 'model-2', 2],
      // model-3 is the third model name, the last one with a label of its own.
      ['other', 'other', 'other', 'other', 'model-3', 2],
      ['other', 'other', 'other', 'other', 'other', 4],
    ]);
    // The totals are all there.
    expect(requests.reduce((sum, s) => sum + s.value, 0)).toBe(10);
    expect(samples(out, 'litellm_input_tokens_metric_total').reduce((sum, s) => sum + s.value, 0)).toBe(110);
  });

  it('a team keeps its labels for a key past the bound, while the team bound has room', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 1, maxModelSeries: 10 });
    metrics.record(call({ principal: principal({ keyHash: 'a', teamId: 'team-x', teamAlias: 'X' }) }));
    metrics.record(call({ principal: principal({ keyHash: 'b', teamId: 'team-x', teamAlias: 'X' }) }));
    const out = text(metrics);
    expect(sample(out, 'litellm_proxy_total_requests_metric_total', { hashed_api_key: 'a', team: 'team-x' })).toBe(1);
    expect(sample(out, 'litellm_proxy_total_requests_metric_total', { hashed_api_key: 'other', team: 'team-x', team_alias: 'X' })).toBe(1);
  });

  it('shows the remaining budget, max budget and hours to reset of budgeted keys and teams, read at scrape time', () => {
    const now = Date.UTC(2026, 0, 1);
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 }, () => now);
    const limitSet = (id: string, maxBudget: number | null, resetInHours: number | null): LimitSet => ({
      id,
      maxBudget,
      softBudget: null,
      rpmLimit: null,
      tpmLimit: null,
      maxParallelRequests: null,
      modelMaxBudget: null,
      modelRpmLimit: null,
      modelTpmLimit: null,
      spend: 1,
      modelSpend: {},
      budgetResetAt: resetInHours === null ? null : new Date(now + resetInHours * 3_600_000),
    });
    const spent: Record<string, number> = { 'hash-1': 4, 'team-1': 7.5 };
    const reader: SpendReader = {
      spendOf: (_kind, set) => ({ spend: spent[set.id], budgetResetAt: set.budgetResetAt?.getTime() ?? null }),
    };
    metrics.readSpendFrom(reader);
    const limits = { key: limitSet('hash-1', 10, 36), team: limitSet('team-1', 100, null), user: null };
    metrics.record(call({ principal: principal({ limits }) }));
    // A key without a budget has no budget series.
    metrics.record(call({ principal: principal({ keyHash: 'hash-2', teamId: null, teamAlias: null }) }));
    let out = text(metrics);
    expect(samples(out, 'litellm_remaining_api_key_budget_metric')).toEqual([{ labels: { hashed_api_key: 'hash-1', api_key_alias: 'alias-1' }, value: 6 }]);
    expect(sample(out, 'litellm_api_key_max_budget_metric', { hashed_api_key: 'hash-1' })).toBe(10);
    expect(sample(out, 'litellm_api_key_budget_remaining_hours_metric', { hashed_api_key: 'hash-1' })).toBe(36);
    expect(samples(out, 'litellm_remaining_team_budget_metric')).toEqual([{ labels: { team: 'team-1', team_alias: 'Team One' }, value: 92.5 }]);
    expect(sample(out, 'litellm_team_max_budget_metric', { team: 'team-1' })).toBe(100);
    expect(samples(out, 'litellm_team_budget_remaining_hours_metric')).toEqual([]);

    spent['hash-1'] = 9.5;
    expect(sample(text(metrics), 'litellm_remaining_api_key_budget_metric', { hashed_api_key: 'hash-1' })).toBe(0.5);
    // The budget removed: the key's reloaded principal drops its gauges.
    metrics.record(call({ principal: principal({ limits: { ...limits, key: limitSet('hash-1', null, null) } }) }));
    out = text(metrics);
    expect(samples(out, 'litellm_remaining_api_key_budget_metric')).toEqual([]);
    expect(sample(out, 'litellm_remaining_team_budget_metric', { team: 'team-1' })).toBe(92.5);
  });

  it("sets the remaining requests and tokens of a key's model limit; none for keys past the bound or the master key", () => {
    const metrics = new LlmMetrics({ maxKeySeries: 1, maxModelSeries: 10 });
    const own = principal();
    metrics.rateLimitRemaining(own, 'gpt-4o', 9, null);
    metrics.rateLimitRemaining(own, 'gpt-4o', 8, 950);
    metrics.rateLimitRemaining(principal({ keyHash: 'hash-2' }), 'gpt-4o', 1, 1);
    metrics.rateLimitRemaining(principal({ kind: 'master', keyHash: null }), 'gpt-4o', 1, 1);
    const out = text(metrics);
    expect(samples(out, 'litellm_remaining_api_key_requests_for_model')).toEqual([{ labels: { hashed_api_key: 'hash-1', api_key_alias: 'alias-1', model: 'gpt-4o' }, value: 8 }]);
    expect(samples(out, 'litellm_remaining_api_key_tokens_for_model')).toEqual([{ labels: { hashed_api_key: 'hash-1', api_key_alias: 'alias-1', model: 'gpt-4o' }, value: 950 }]);
  });

  it('never throws into the call: a broken call is logged, not raised', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    const broken = call();
    broken.usage = () => {
      throw new Error('no usage');
    };
    expect(() => metrics.record(broken)).not.toThrow();
    expect(() => metrics.record(broken)).not.toThrow();
    expect(error).toHaveBeenCalledTimes(1);
    error.mockRestore();
  });

  it('counts nothing for a call without a principal', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    metrics.record(call({ principal: undefined }));
    expect(text(metrics)).toBe('');
  });

  it('tracks a call by waiting for it to settle', () => {
    const metrics = new LlmMetrics({ maxKeySeries: 10, maxModelSeries: 10 });
    let settle: () => void = () => undefined;
    metrics.track(call({ whenSettled: (listener) => (settle = listener) }));
    expect(text(metrics)).toBe('');
    settle();
    expect(sample(text(metrics), 'litellm_proxy_total_requests_metric_total')).toBe(1);
  });
});

