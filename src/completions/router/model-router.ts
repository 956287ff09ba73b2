import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RouterSettings } from '../../config/gateway-config.types';
import { GatewaySettings } from '../../config/gateway-settings';
import { emptyRouterSettings } from '../../config/config-file/router-settings';
import { AppException } from '../../errors';
import { CLIENT_GONE, type CallTracker } from '../call-tracker';
import { DeploymentTable, type CompiledDeployment, type ModelGroup } from '../deployment-table';
import type { UpstreamFailure } from '../upstream-errors';
import { DeploymentChooser } from './deployment-chooser';
import { countsTowardsCooldown, type FailureKind } from './failure-kind';
import { readRequestRouting, type RequestRouting } from './request-routing';
import { LocalRouterState, RedisRouterState, type CooldownPolicy, type RouterState } from './router-state';
import type { RoutingRecord } from './routing-record';

/** LiteLLM's defaults: three failures a minute are allowed, the fourth cools the deployment down for 5 s. */
export const DEFAULT_ALLOWED_FAILS = 3;
export const DEFAULT_COOLDOWN_SECONDS = 5;
const DEFAULT_LATENCY_TTL_SECONDS = 3600;
const LATENCY_SAMPLES = 10;

/** One attempt on one deployment of `group`, made by the caller (the service): null once the client has been answered. */
export type AttemptDeployment = (deployment: CompiledDeployment, group: ModelGroup) => Promise<UpstreamFailure | null>;

export interface RouteParams {
  readonly call: CallTracker;
  readonly res: ServerResponse;
  readonly group: ModelGroup;
  readonly attempt: AttemptDeployment;
  /** The model group of a fallback name; undefined when there is none. */
  readonly resolveGroup: (name: string) => ModelGroup | undefined;
  /** Null when the caller's key may use a model it named itself (request `fallbacks`), else the refusal to answer. */
  readonly accessError: (name: string) => AppException | null;
}

/**
 * LiteLLM's Router for one call: picks a deployment of the model group by the routing strategy, retries within the
 * group (`num_retries`) on rate limits, 5xx and unreachable upstreams, then tries the group's fallbacks
 * (`context_window_fallbacks` and `content_policy_fallbacks` for those errors, `fallbacks` / `default_fallbacks` for
 * the others; a caller's 4xx gets neither). A deployment that fails more than `allowed_fails` times in a minute
 * cools down for `cooldown_time`. Once the client got a byte nothing is retried. Failed attempts are kept on the
 * call's tracker, so its one log event lists them.
 */
@Injectable()
export class ModelRouter implements OnModuleInit, OnApplicationShutdown {
  readonly settings: RouterSettings;
  private readonly state: RouterState;
  private readonly chooser: DeploymentChooser;
  private readonly policy: CooldownPolicy;
  private readonly tracksInFlight: boolean;
  private readonly tracksLatency: boolean;
  private readonly tracksUsage: boolean;

  constructor(
    @Inject(DeploymentTable) private readonly table: DeploymentTable,
    @Optional() @Inject(GatewaySettings) gateway: GatewaySettings | null = null,
    @Optional() @Inject('ROUTER_STATE') state: RouterState | null = null,
  ) {
    this.settings = gateway?.config.routerSettings ?? emptyRouterSettings();
    const redisUrl = gateway?.environment.REDIS_URL;
    this.state = state ?? (redisUrl ? new RedisRouterState(redisUrl, new Logger(ModelRouter.name)) : new LocalRouterState());
    const args = this.settings.routing_strategy_args;
    this.chooser = new DeploymentChooser(
      {
        strategy: this.settings.routing_strategy,
        latencyBuffer: args.lowest_latency_buffer ?? 0,
        latencyTtlMs: (args.ttl ?? DEFAULT_LATENCY_TTL_SECONDS) * 1000,
        latencySamples: LATENCY_SAMPLES,
      },
      this.state,
    );
    this.policy = {
      allowedFails: this.settings.allowed_fails ?? DEFAULT_ALLOWED_FAILS,
      cooldownMs: (this.settings.cooldown_time ?? DEFAULT_COOLDOWN_SECONDS) * 1000,
    };
    const strategy = this.settings.routing_strategy;
    this.tracksInFlight = strategy === 'least-busy';
    this.tracksLatency = strategy === 'latency-based-routing';
    this.tracksUsage = strategy === 'usage-based-routing-v2';
  }

  async onModuleInit(): Promise<void> {
    const ids = this.table.modelNames.flatMap((name) => this.table.group(name)?.deployments.map((d) => d.modelId) ?? []);
    await this.state.start(ids);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.state.close();
  }

  /** Whether this instance skips the deployment now (health and tests). */
  isCoolingDown(modelId: string): boolean {
    return this.state.isCoolingDown(modelId, Date.now());
  }

  async route(params: RouteParams): Promise<void> {
    const { call, group } = params;
    const request = readRequestRouting(call.body ?? {}, call.headers);
    if (request?.fallbacks) checkRequestFallbacks(request.fallbacks, params);
    call.timeouts = request?.timeouts ?? null;
    const first = await this.tryGroup(params, group, request, request?.mockFailure ?? null);
    if (first === null) return;
    const kind = first.kind ?? (first.retryable ? 'server' : 'caller');
    let fallbacksTried = 0;
    for (const name of this.fallbacksFor(group.name, kind, request)) {
      if (fallbacksTried >= this.settings.max_fallbacks) break;
      const fallback = params.resolveGroup(name);
      if (fallback === undefined || fallback === group) continue;
      if (params.res.headersSent) break;
      if (call.clientGone) throw CLIENT_GONE;
      fallbacksTried++;
      const routing = routingOf(call, group.name);
      routing.attemptedFallbacks++;
      routing.modelGroup = fallback.name;
      if ((await this.tryGroup(params, fallback, request, null)) === null) return;
    }
    // As LiteLLM does: when the fallbacks failed too, the caller gets the first group's error.
    throw first.exception;
  }

  /** The fallback groups for a failure of `kind` in `model`: LiteLLM's rules, the request's own lists first. */
  fallbacksFor(model: string, kind: FailureKind, request: RequestRouting | null): readonly string[] {
    const s = this.settings;
    switch (kind) {
      case 'caller':
        return NONE;
      case 'context_window':
        return request?.contextWindowFallbacks ?? s.context_window_fallbacks[model] ?? s.context_window_fallbacks['*'] ?? NONE;
      case 'content_policy':
        return s.content_policy_fallbacks[model] ?? s.content_policy_fallbacks['*'] ?? NONE;
      default:
        return request?.fallbacks ?? s.fallbacks[model] ?? s.fallbacks['*'] ?? s.default_fallbacks;
    }
  }

  /** The group's attempts: null once answered, else the failure the router goes on with. */
  private async tryGroup(
    params: RouteParams,
    group: ModelGroup,
    request: RequestRouting | null,
    mockFailure: RequestRouting['mockFailure'],
  ): Promise<UpstreamFailure | null> {
    const { call } = params;
    // Unset: every deployment of the group once, as Gatehouse did before router_settings.
    const retries = request?.numRetries ?? this.settings.num_retries ?? group.deployments.length - 1;
    let tried: CompiledDeployment[] | null = null;
    let last: UpstreamFailure | null = null;
    for (let attempt = 0; attempt <= retries; attempt++) {
      let deployment = await this.chooser.choose(group, tried);
      if (deployment === null && tried !== null) {
        // Every deployment was tried: a further retry may go to one of them again, after `retry_after`.
        if (this.settings.retry_after > 0) await sleep(this.settings.retry_after * 1000);
        if (call.clientGone) throw CLIENT_GONE;
        tried = null;
        deployment = await this.chooser.choose(group, null);
      }
      if (deployment === null) return last ?? noDeployment(group, this.tracksUsage);
      if (attempt > 0) routingOf(call, group.name).attemptedRetries++;
      if (mockFailure !== null) {
        const mocked = mockedFailure(mockFailure, group.name);
        call.deployment = deployment;
        this.recordAttempt(call, group, deployment, mocked, 0);
        return mocked;
      }
      const failure = await this.attempt(params, group, deployment);
      if (failure === null) return null;
      last = failure;
      if (!(failure.retryable || failure.kind === 'rate_limit') || params.res.headersSent) return failure;
      (tried ??= []).push(deployment);
    }
    return last;
  }

  private async attempt(params: RouteParams, group: ModelGroup, deployment: CompiledDeployment): Promise<UpstreamFailure | null> {
    const routing = params.call.routing;
    if (routing !== null && !params.res.headersSent) {
      // LiteLLM's answer headers, sent only by calls that needed more than one attempt.
      params.res.setHeader('x-litellm-attempted-retries', String(routing.attemptedRetries));
      params.res.setHeader('x-litellm-attempted-fallbacks', String(routing.attemptedFallbacks));
    }
    const startedAt = performance.now();
    const stats = this.tracksInFlight ? this.chooser.statsOf(deployment) : null;
    if (stats !== null) stats.inFlight++;
    if (this.tracksUsage) this.state.recordUsage(deployment.modelId, 0, 1);
    let failure: UpstreamFailure | null;
    try {
      failure = await params.attempt(deployment, group);
    } finally {
      if (stats !== null) stats.inFlight--;
    }
    const durationMs = performance.now() - startedAt;
    if (failure === null) {
      if (this.tracksLatency) this.chooser.recordLatency(deployment, durationMs);
      if (this.tracksUsage) {
        params.call.whenSettled((build) => this.state.recordUsage(deployment.modelId, build().total_tokens, 0));
      }
      return null;
    }
    // A timed-out attempt took at least the timeout: counting it steers latency-based routing away.
    if (this.tracksLatency && failure.kind === 'timeout') this.chooser.recordLatency(deployment, durationMs);
    this.recordAttempt(params.call, group, deployment, failure, durationMs);
    // A lone deployment is never cooled down: there is nothing to route to instead.
    if (!this.settings.disable_cooldowns && failure.kind !== undefined && countsTowardsCooldown(failure.kind) && group.deployments.length > 1) {
      await this.state.recordFailure(deployment.modelId, this.policy);
    }
    return failure;
  }

  private recordAttempt(call: CallTracker, group: ModelGroup, deployment: CompiledDeployment, failure: UpstreamFailure, durationMs: number): void {
    const routing = routingOf(call, group.name);
    routing.failedAttempts.push({
      modelGroup: routing.modelGroup,
      deployment,
      exception: failure.exception,
      kind: failure.kind ?? null,
      durationMs: Math.round(durationMs * 1000) / 1000,
    });
  }
}

const NONE: readonly string[] = [];

function routingOf(call: CallTracker, modelGroup: string): RoutingRecord {
  call.routing ??= { failedAttempts: [], attemptedRetries: 0, attemptedFallbacks: 0, modelGroup };
  return call.routing;
}

/** A request's own fallbacks are models it calls: the key must be allowed to use each, and each must exist. */
function checkRequestFallbacks(names: readonly string[], params: RouteParams): void {
  for (const name of names) {
    const refused = params.accessError(name);
    if (refused !== null) throw refused;
    if (params.resolveGroup(name) === undefined) {
      throw new AppException('model_not_found', `Fallback model '${name.slice(0, 200)}' is not configured on this gateway`, { param: 'fallbacks' });
    }
  }
}

/** LiteLLM answers 429 when every deployment of a group is cooling down (or, usage-based, at its limits). */
function noDeployment(group: ModelGroup, usageBased: boolean): UpstreamFailure {
  const why = usageBased ? 'every deployment is cooling down or at its tpm/rpm limit' : 'every deployment is cooling down';
  return {
    exception: new AppException('rate_limited', `No deployments available for model '${group.name}': ${why}`),
    retryable: false,
    kind: 'rate_limit',
  };
}

/** `mock_testing_fallbacks` and its siblings: the failure LiteLLM raises for them, without calling anyone. */
function mockedFailure(kind: NonNullable<RequestRouting['mockFailure']>, model: string): UpstreamFailure {
  switch (kind) {
    case 'server':
      return { exception: new AppException('upstream_error', `Mock failure of model '${model}' (mock_testing_fallbacks)`, { status: 500 }), retryable: false, kind };
    case 'context_window':
      return { exception: new AppException('validation_failed', `Mock context window error of model '${model}' (mock_testing_context_fallbacks)`), retryable: false, kind };
    case 'content_policy':
      return { exception: new AppException('content_filter', `Mock content policy violation of model '${model}' (mock_testing_content_policy_fallbacks)`), retryable: false, kind };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
