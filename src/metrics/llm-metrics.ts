import { Logger } from '@nestjs/common';
import type { LimitSet } from '../budgets/usage-limits';
import type { CallFailure, CallUsage } from '../completions/call-payload';
import { attemptErrorClass } from '../completions/call-payload';
import type { CompiledDeployment } from '../completions/deployment-table';
import type { RequestBody } from '../completions/request-body';
import type { RoutingRecord } from '../completions/router/routing-record';
import type { Principal } from '../keys/principal';
import { CounterFamily, GaugeFamily, HistogramFamily, observe, type HistogramSeries, type ValueSeries } from './series';

/** What a finished call tells the metrics; the CallTracker, once its response has closed. */
export interface SettledCall {
  readonly principal: Principal | undefined;
  readonly body: RequestBody | null;
  readonly stream: boolean;
  readonly deployment: CompiledDeployment | null;
  readonly routing: RoutingRecord | null;
  readonly fromCache: boolean;
  readonly requestSeconds: number;
  readonly upstreamSeconds: number;
  readonly firstTokenSeconds: number;
  usage(): CallUsage;
  failure(): CallFailure | null;
  whenSettled(listener: () => void): void;
}

/** Where the spend of budgeted keys and teams is read at scrape time (BudgetsService). */
export interface SpendReader {
  spendOf(kind: 'key' | 'team', set: LimitSet): { spend: number; budgetResetAt: number | null };
}

export interface LlmMetricsLimits {
  /** Distinct keys (and, separately, teams) with series of their own; later ones are counted as `other`. */
  readonly maxKeySeries: number;
  /** Distinct model names (requested, upstream) with series of their own; later ones are `other`. */
  readonly maxModelSeries: number;
}

/** The label value that stands for every key, team or model past the bound. */
export const OVERFLOW_LABEL = 'other';

/** LiteLLM's LATENCY_BUCKETS (seconds), so its dashboards' quantiles read the same. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10, 15, 20, 25, 30, 60,
  120, 180, 240, 300,
];

// LiteLLM's label sets (litellm/types/integrations/prometheus.py, as its proxy/prometheus docs list them), in its order.
const CALLER = ['end_user', 'hashed_api_key', 'api_key_alias'] as const;
const PROXY_LABELS = [...CALLER, 'requested_model', 'team', 'team_alias', 'user'];
const SPEND_LABELS = [...CALLER, 'model', 'team', 'team_alias', 'user'];
const TOKEN_LABELS = [...SPEND_LABELS, 'requested_model'];
const REQUEST_LATENCY_LABELS = [...CALLER, 'requested_model', 'team', 'team_alias', 'user', 'model'];
const API_LATENCY_LABELS = ['model', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias', 'requested_model', 'end_user', 'user'];
const TTFT_LABELS = ['model', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias'];
const DEPLOYMENT = ['requested_model', 'litellm_model_name', 'model_id', 'api_base', 'api_provider'];
const KEY_AND_TEAM = ['hashed_api_key', 'api_key_alias', 'team', 'team_alias'];

/** Admits up to `max` distinct values; every later one reads as `other`. */
class BoundedValues {
  private readonly admitted = new Set<string>();

  constructor(private readonly max: number) {}

  admit(value: string): string {
    if (value === '' || this.admitted.has(value)) return value;
    if (this.admitted.size >= this.max) return OVERFLOW_LABEL;
    this.admitted.add(value);
    return value;
  }

  get size(): number {
    return this.admitted.size;
  }
}

/** The series of one caller's successful calls on one route (requested model, model group, deployment). */
interface RouteSeries {
  readonly proxyTotal: ValueSeries;
  readonly spend: ValueSeries;
  readonly inputTokens: ValueSeries;
  readonly outputTokens: ValueSeries;
  readonly totalTokens: ValueSeries;
  readonly requestLatency: HistogramSeries;
  /** Null without a deployment (a cache hit). */
  readonly upstream: {
    readonly model: string;
    readonly apiLatency: HistogramSeries;
    /** Made by the route's first stream: other calls have no time to first token, and no series for it. */
    firstToken: HistogramSeries | null;
    readonly success: ValueSeries;
    readonly total: ValueSeries;
  } | null;
}

/** A principal's label values (bounded), and its routes' series, kept as long as the cached principal lives. */
interface Caller {
  readonly hashedKey: string;
  readonly keyAlias: string;
  readonly team: string;
  readonly teamAlias: string;
  readonly user: string;
  /** Its own key: neither the master key nor past the bound (gauges are kept for those only). */
  readonly ownKey: boolean;
  readonly routes: Map<CompiledDeployment | null, Map<string, RouteSeries>>;
  /** By requested model, status and class: the proxy's total and failed counters of failed calls. */
  failures: Map<string, { total: ValueSeries; failed: ValueSeries }> | null;
  /** By model group, status and class: a deployment's failure and total counters. */
  deploymentFailures: Map<CompiledDeployment, Map<string, { failure: ValueSeries; total: ValueSeries }>> | null;
  rateLimits: Map<string, { requests: ValueSeries; tokens: ValueSeries }> | null;
}

/** Routes remembered per caller; past it the memory starts again (requested names of wildcard groups are the caller's). */
const MAX_CACHED_ROUTES = 256;
const NO_END_USER = '';

/**
 * LiteLLM's Prometheus metrics (names, labels and buckets of litellm/integrations/prometheus.py), fed by every
 * finished LLM call from what the call already measured: the usage and cost its spend is filed with, its timings,
 * its failure and its router's failed attempts. No answer is parsed again and no record is built for it.
 *
 * Cheap on the request path: a call's series are found once per cached principal and route (object lookups), then
 * a call adds to about ten numbers. Cardinality is bounded: `maxKeySeries` keys and as many teams get series of their
 * own, `maxModelSeries` model names; past those the label reads `other`. `end_user` stays empty, LiteLLM's default.
 */
export class LlmMetrics {
  private readonly logger = new Logger('Metrics');
  private readonly keys: BoundedValues;
  private readonly teams: BoundedValues;
  private readonly models: BoundedValues;
  private readonly callers = new WeakMap<Principal, Caller>();
  private readonly budgetedKeys = new Map<string, { alias: string; set: LimitSet }>();
  private readonly budgetedTeams = new Map<string, { alias: string; set: LimitSet }>();
  private spendReader: SpendReader | null = null;
  private lastError = 0;

  readonly proxyTotal = new CounterFamily(
    'litellm_proxy_total_requests_metric_total',
    'Requests to the gateway LLM routes, by caller, requested model and answer status',
    [...PROXY_LABELS, 'status_code'],
  );
  readonly proxyFailed = new CounterFamily(
    'litellm_proxy_failed_requests_metric_total',
    'Requests to the gateway LLM routes that the caller did not get a successful answer to',
    [...PROXY_LABELS, 'exception_status', 'exception_class'],
  );
  readonly spend = new CounterFamily('litellm_spend_metric_total', 'Spend (USD) of LLM calls, as filed in the spend ledger', SPEND_LABELS);
  readonly inputTokens = new CounterFamily('litellm_input_tokens_metric_total', 'Input (prompt) tokens of LLM calls', TOKEN_LABELS);
  readonly outputTokens = new CounterFamily('litellm_output_tokens_metric_total', 'Output (completion) tokens of LLM calls', TOKEN_LABELS);
  readonly totalTokens = new CounterFamily('litellm_total_tokens_metric_total', 'Input plus output tokens of LLM calls', TOKEN_LABELS);
  readonly requestLatency = new HistogramFamily(
    'litellm_request_total_latency_metric',
    'Seconds from a request reaching the gateway to the end of its answer',
    REQUEST_LATENCY_LABELS,
    LATENCY_BUCKETS,
  );
  readonly apiLatency = new HistogramFamily('litellm_llm_api_latency_metric', 'Seconds from the upstream call that answered to the end of its answer', API_LATENCY_LABELS, LATENCY_BUCKETS);
  readonly firstToken = new HistogramFamily(
    'litellm_llm_api_time_to_first_token_metric',
    'Seconds from the upstream call to its first token (streams only)',
    TTFT_LABELS,
    LATENCY_BUCKETS,
  );
  readonly deploymentSuccess = new CounterFamily(
    'litellm_deployment_success_responses_total',
    'Upstream calls a deployment answered',
    [...DEPLOYMENT, ...KEY_AND_TEAM],
  );
  readonly deploymentFailure = new CounterFamily(
    'litellm_deployment_failure_responses_total',
    'Upstream calls to a deployment that failed (each attempt), by status and exception class',
    [...DEPLOYMENT, 'exception_status', 'exception_class', ...KEY_AND_TEAM],
  );
  readonly deploymentTotal = new CounterFamily(
    'litellm_deployment_total_requests_total',
    'Upstream calls to a deployment, answered or failed',
    [...DEPLOYMENT, ...KEY_AND_TEAM],
  );
  readonly remainingKeyRequests = new GaugeFamily(
    'litellm_remaining_api_key_requests_for_model',
    'Requests left in the current window of a key model-specific rpm limit',
    ['hashed_api_key', 'api_key_alias', 'model'],
  );
  readonly remainingKeyTokens = new GaugeFamily(
    'litellm_remaining_api_key_tokens_for_model',
    'Tokens left in the current window of a key model-specific tpm limit',
    ['hashed_api_key', 'api_key_alias', 'model'],
  );
  // Budget gauges: computed at scrape time from the spend the budgets already keep.
  private readonly teamRemaining = new GaugeFamily('litellm_remaining_team_budget_metric', 'max_budget minus spend of a team', ['team', 'team_alias']);
  private readonly teamMax = new GaugeFamily('litellm_team_max_budget_metric', 'max_budget of a team', ['team', 'team_alias']);
  private readonly teamHours = new GaugeFamily('litellm_team_budget_remaining_hours_metric', 'Hours until the budget period of a team ends', ['team', 'team_alias']);
  private readonly keyRemaining = new GaugeFamily('litellm_remaining_api_key_budget_metric', 'max_budget minus spend of a key', ['hashed_api_key', 'api_key_alias']);
  private readonly keyMax = new GaugeFamily('litellm_api_key_max_budget_metric', 'max_budget of a key', ['hashed_api_key', 'api_key_alias']);
  private readonly keyHours = new GaugeFamily(
    'litellm_api_key_budget_remaining_hours_metric',
    'Hours until the budget period of a key ends',
    ['hashed_api_key', 'api_key_alias'],
  );

  private readonly families = [
    this.proxyTotal,
    this.proxyFailed,
    this.spend,
    this.inputTokens,
    this.outputTokens,
    this.totalTokens,
    this.requestLatency,
    this.apiLatency,
    this.firstToken,
    this.deploymentSuccess,
    this.deploymentFailure,
    this.deploymentTotal,
    this.remainingKeyRequests,
    this.remainingKeyTokens,
    this.teamRemaining,
    this.teamMax,
    this.teamHours,
    this.keyRemaining,
    this.keyMax,
    this.keyHours,
  ];

  constructor(
    limits: LlmMetricsLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = new BoundedValues(limits.maxKeySeries);
    this.teams = new BoundedValues(limits.maxKeySeries);
    this.models = new BoundedValues(limits.maxModelSeries);
  }

  /** Counts the call once its response has closed. */
  track(call: SettledCall): void {
    call.whenSettled(() => this.record(call));
  }

  /** The budgets module reads spend for the budget gauges. */
  readSpendFrom(reader: SpendReader): void {
    this.spendReader = reader;
  }

  record(call: SettledCall): void {
    try {
      this.count(call);
    } catch (error) {
      // Metrics must never fail a call; one line a minute says they are wrong.
      const now = this.now();
      if (now - this.lastError > 60_000) {
        this.lastError = now;
        this.logger.error(`a call could not be counted in the metrics: ${(error as Error).stack ?? String(error)}`);
      }
    }
  }

  /**
   * LiteLLM's remaining requests and tokens of a key's model-specific rpm / tpm limit, as the rate limiter saw them
   * when it admitted (or refused) a call. Keys past the bound get no gauge.
   */
  rateLimitRemaining(principal: Principal, model: string, requests: number | null, tokens: number | null): void {
    const caller = this.callerOf(principal);
    if (!caller.ownKey) return;
    caller.rateLimits ??= new Map();
    let series = caller.rateLimits.get(model);
    if (series === undefined) {
      const values = [caller.hashedKey, caller.keyAlias, this.models.admit(model)];
      series = { requests: this.remainingKeyRequests.seriesOf(values), tokens: this.remainingKeyTokens.seriesOf(values) };
      if (caller.rateLimits.size >= MAX_CACHED_ROUTES) caller.rateLimits.clear();
      caller.rateLimits.set(model, series);
    }
    if (requests !== null) series.requests.value = requests;
    if (tokens !== null) series.tokens.value = tokens;
  }

  /** The text of every family that has a series (the budget gauges computed now). */
  render(lines: string[]): void {
    this.refreshBudgets();
    for (const family of this.families) family.render(lines);
  }

  private count(call: SettledCall): void {
    const principal = call.principal;
    // The guard sets a principal on every LLM route; a call without one never reached a model.
    if (principal === undefined) return;
    const caller = this.callerOf(principal);
    const usage = call.usage();
    const failure = call.failure();
    const model = call.body?.model;
    const requested = typeof model === 'string' ? model : '';
    if (failure === null) {
      this.countAnswered(call, caller, requested, usage);
    } else {
      this.countFailed(call, caller, requested, usage, failure);
    }
    const routing = call.routing;
    if (routing !== null) {
      for (const attempt of routing.failedAttempts) {
        this.countDeploymentFailure(caller, attempt.modelGroup, attempt.deployment, String(attempt.exception.status), attemptErrorClass(attempt));
      }
    }
  }

  private countAnswered(call: SettledCall, caller: Caller, requested: string, usage: CallUsage): void {
    const deployment = call.fromCache ? null : call.deployment;
    const route = this.routeOf(caller, requested, usage.model_group, deployment);
    route.proxyTotal.value++;
    addUsage(route.spend, route.inputTokens, route.outputTokens, route.totalTokens, usage);
    observe(route.requestLatency, LATENCY_BUCKETS, call.requestSeconds);
    const upstream = route.upstream;
    if (upstream === null) return;
    upstream.success.value++;
    upstream.total.value++;
    const apiSeconds = call.upstreamSeconds;
    if (apiSeconds >= 0) observe(upstream.apiLatency, LATENCY_BUCKETS, apiSeconds);
    // LiteLLM records the time to first token of streams only.
    const firstToken = call.firstTokenSeconds;
    if (firstToken >= 0) {
      upstream.firstToken ??= this.firstToken.seriesOf([upstream.model, caller.hashedKey, caller.keyAlias, caller.team, caller.teamAlias]);
      observe(upstream.firstToken, LATENCY_BUCKETS, firstToken);
    }
  }

  private countFailed(call: SettledCall, caller: Caller, requested: string, usage: CallUsage, failure: CallFailure): void {
    // Kept per caller too: a failing upstream makes failures as frequent as answers.
    caller.failures ??= new Map();
    const name = `${requested}\u0000${failure.code}\u0000${failure.errorClass}`;
    let series = caller.failures.get(name);
    if (series === undefined) {
      const proxy = [NO_END_USER, caller.hashedKey, caller.keyAlias, this.models.admit(requested), caller.team, caller.teamAlias, caller.user];
      series = { total: this.proxyTotal.seriesOf([...proxy, failure.code]), failed: this.proxyFailed.seriesOf([...proxy, failure.code, failure.errorClass]) };
      if (caller.failures.size >= MAX_CACHED_ROUTES) caller.failures.clear();
      caller.failures.set(name, series);
    }
    series.total.value++;
    series.failed.value++;
    const deployment = call.fromCache ? null : call.deployment;
    // An abandoned or broken stream still used (and is billed) tokens: spend and tokens follow the spend ledger. Rare
    // enough for their series to be looked up by label values.
    if (usage.total_tokens > 0 || usage.response_cost > 0) {
      const model = this.models.admit(deployment?.upstreamModel ?? '');
      const spend = [NO_END_USER, caller.hashedKey, caller.keyAlias, model, caller.team, caller.teamAlias, caller.user];
      const tokens = [...spend, this.models.admit(usage.model_group)];
      addUsage(this.spend.seriesOf(spend), this.inputTokens.seriesOf(tokens), this.outputTokens.seriesOf(tokens), this.totalTokens.seriesOf(tokens), usage);
    }
    // A stream the upstream broke off: a failure of the deployment that was answering (the router's attempts are counted apart).
    if (failure.midStream && deployment !== null) this.countDeploymentFailure(caller, usage.model_group, deployment, failure.code, failure.errorClass);
  }

  private countDeploymentFailure(caller: Caller, modelGroup: string, deployment: CompiledDeployment, status: string, errorClass: string): void {
    caller.deploymentFailures ??= new Map();
    let byName = caller.deploymentFailures.get(deployment);
    if (byName === undefined) {
      if (caller.deploymentFailures.size >= MAX_CACHED_ROUTES) caller.deploymentFailures.clear();
      byName = new Map();
      caller.deploymentFailures.set(deployment, byName);
    }
    const name = `${modelGroup}\u0000${status}\u0000${errorClass}`;
    let series = byName.get(name);
    if (series === undefined) {
      series = {
        failure: this.deploymentFailure.seriesOf(this.deploymentLabels(caller, modelGroup, deployment, [status, errorClass])),
        total: this.deploymentTotal.seriesOf(this.deploymentLabels(caller, modelGroup, deployment, [])),
      };
      if (byName.size >= MAX_CACHED_ROUTES) byName.clear();
      byName.set(name, series);
    }
    series.failure.value++;
    series.total.value++;
  }

  private deploymentLabels(caller: Caller, modelGroup: string, deployment: CompiledDeployment, exception: readonly string[]): string[] {
    return [
      this.models.admit(modelGroup),
      this.models.admit(deployment.upstreamModel),
      deployment.modelId,
      deployment.apiBaseForLog ?? '',
      deployment.providerLabel,
      ...exception,
      caller.hashedKey,
      caller.keyAlias,
      caller.team,
      caller.teamAlias,
    ];
  }

  private callerOf(principal: Principal): Caller {
    const known = this.callers.get(principal);
    if (known !== undefined) return known;
    const keyHash = principal.keyHash === null ? '' : this.keys.admit(principal.keyHash);
    const ownKey = keyHash !== '' && keyHash !== OVERFLOW_LABEL;
    const team = principal.teamId === null ? '' : this.teams.admit(principal.teamId);
    const caller: Caller = {
      hashedKey: keyHash,
      keyAlias: keyHash === OVERFLOW_LABEL ? OVERFLOW_LABEL : (principal.keyAlias ?? ''),
      team,
      teamAlias: team === OVERFLOW_LABEL ? OVERFLOW_LABEL : (principal.teamAlias ?? ''),
      user: keyHash === OVERFLOW_LABEL ? OVERFLOW_LABEL : (principal.userId ?? ''),
      ownKey,
      routes: new Map(),
      failures: null,
      deploymentFailures: null,
      rateLimits: null,
    };
    this.callers.set(principal, caller);
    // The principal's limits as last loaded: the budget gauges read them (and the spend) at scrape time.
    const { key, team: teamLimits } = principal.limits;
    if (ownKey) track(this.budgetedKeys, keyHash, caller.keyAlias, key);
    if (team !== '' && team !== OVERFLOW_LABEL) track(this.budgetedTeams, team, caller.teamAlias, teamLimits);
    return caller;
  }

  private routeOf(caller: Caller, requested: string, modelGroup: string, deployment: CompiledDeployment | null): RouteSeries {
    let byName = caller.routes.get(deployment);
    if (byName === undefined) {
      byName = new Map();
      caller.routes.set(deployment, byName);
    }
    // The model group differs from the requested name only after a fallback (or for an alias).
    const name = modelGroup === requested ? requested : `${requested}\u0000${modelGroup}`;
    let route = byName.get(name);
    if (route === undefined) {
      route = this.newRoute(caller, requested, modelGroup, deployment);
      if (byName.size >= MAX_CACHED_ROUTES) byName.clear();
      byName.set(name, route);
    }
    return route;
  }

  private newRoute(caller: Caller, requested: string, modelGroup: string, deployment: CompiledDeployment | null): RouteSeries {
    const { hashedKey, keyAlias, team, teamAlias, user } = caller;
    const requestedModel = this.models.admit(requested);
    const group = this.models.admit(modelGroup);
    const model = this.models.admit(deployment?.upstreamModel ?? '');
    const spend = [NO_END_USER, hashedKey, keyAlias, model, team, teamAlias, user];
    const tokens = [...spend, group];
    return {
      proxyTotal: this.proxyTotal.seriesOf([NO_END_USER, hashedKey, keyAlias, requestedModel, team, teamAlias, user, '200']),
      spend: this.spend.seriesOf(spend),
      inputTokens: this.inputTokens.seriesOf(tokens),
      outputTokens: this.outputTokens.seriesOf(tokens),
      totalTokens: this.totalTokens.seriesOf(tokens),
      requestLatency: this.requestLatency.seriesOf([NO_END_USER, hashedKey, keyAlias, group, team, teamAlias, user, model]),
      upstream:
        deployment === null
          ? null
          : {
              model,
              apiLatency: this.apiLatency.seriesOf([model, hashedKey, keyAlias, team, teamAlias, group, NO_END_USER, user]),
              firstToken: null,
              success: this.deploymentSuccess.seriesOf(this.deploymentLabels(caller, modelGroup, deployment, [])),
              total: this.deploymentTotal.seriesOf(this.deploymentLabels(caller, modelGroup, deployment, [])),
            },
    };
  }

  private refreshBudgets(): void {
    const reader = this.spendReader;
    if (reader === null) return;
    const now = this.now();
    // Rebuilt at every scrape, so a budget removed since (or a key past its period) leaves no stale series.
    for (const family of [this.teamRemaining, this.teamMax, this.teamHours, this.keyRemaining, this.keyMax, this.keyHours]) family.clear();
    for (const [team, { alias, set }] of this.budgetedTeams) {
      setBudgetGauges([this.teamRemaining, this.teamMax, this.teamHours], [team, alias], set, reader.spendOf('team', set), now);
    }
    for (const [key, { alias, set }] of this.budgetedKeys) {
      setBudgetGauges([this.keyRemaining, this.keyMax, this.keyHours], [key, alias], set, reader.spendOf('key', set), now);
    }
  }
}

/** Keeps (or forgets, when it has none any more) the max_budget of a key or team for the budget gauges. */
function track(budgeted: Map<string, { alias: string; set: LimitSet }>, id: string, alias: string, set: LimitSet | null): void {
  if (set !== null && set.maxBudget !== null) budgeted.set(id, { alias, set });
  else budgeted.delete(id);
}

function addUsage(spend: ValueSeries, input: ValueSeries, output: ValueSeries, total: ValueSeries, usage: CallUsage): void {
  // A counter only goes up: an odd upstream's negative or non-numeric count is left out.
  if (usage.response_cost > 0 && Number.isFinite(usage.response_cost)) spend.value += usage.response_cost;
  if (usage.prompt_tokens > 0) input.value += usage.prompt_tokens;
  if (usage.completion_tokens > 0) output.value += usage.completion_tokens;
  if (usage.total_tokens > 0) total.value += usage.total_tokens;
}

function setBudgetGauges(
  [remaining, max, hours]: readonly GaugeFamily[],
  labels: readonly string[],
  set: LimitSet,
  { spend, budgetResetAt }: { spend: number; budgetResetAt: number | null },
  now: number,
): void {
  const maxBudget = set.maxBudget as number;
  remaining.set(labels, maxBudget - spend);
  max.set(labels, maxBudget);
  if (budgetResetAt !== null) hours.set(labels, Math.max(0, budgetResetAt - now) / 3_600_000);
}
