import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { CacheEndpoint } from '../cache/cache-key';
import { CachedAnswer } from '../cache/cached-answer';
import { ResponseCache } from '../cache/response-cache.service';
import { SecretRedactor } from '../common/secret-redactor';
import { AppException } from '../errors';
import { modelAccessDenied } from '../keys/model-access';
import type { Principal } from '../keys/principal';
import { CallTracker, CLIENT_GONE, type TrackedRequest } from './call-tracker';
import { DeploymentTable, withRequestDefaults, type CompiledDeployment, type ModelGroup, type RoutedModel } from './deployment-table';
import { applyAzureStyleTarget, type AzureStyleTarget } from './azure-style-route';
import { answerOffline } from './offline-answer';
import { ModelRouter } from './router/model-router';
import { BudgetsService } from '../budgets/budgets.service';
import { LlmMetrics } from '../metrics/llm-metrics';
import { RateLimitService, type RateLimitTicket } from '../rate-limits/rate-limits.service';
import {
  asRequestBody,
  callerWantsUsageChunk,
  readStreamFlag,
  rejectCallerOverrides,
  requireEmbeddingInput,
  requireMessages,
  requireModel,
  type RequestBody,
} from './request-body';
import { countWithUpstream, estimateInputTokens, requireCountBody } from './messages-api/count-tokens';
import { forwardedHeaders, MessagesResponse, withoutGatewayFields } from './messages-api/messages-response';
import type { CallType } from './call-payload';
import type { Endpoint, NativeCall, ProviderCall, UpstreamRequest } from './providers/provider';
import { SSE_HEADERS } from './sse-relay';
import { deploymentForTextCompletions, requirePrompt } from './text-completion';
import { forwardOnce, type RememberAnswer } from './upstream-forwarder';
import { requestFailure, type UpstreamFailure } from './upstream-errors';
import { deploymentFor } from './wildcard-deployment';

export interface ModelListResponse {
  object: 'list';
  data: Array<{ id: string; object: 'model'; created: number; owned_by: string }>;
}

/** Reads a body in another API's format as a chat body (see `chat`). */
export type ForeignFormat = (body: RequestBody, headers: IncomingHttpHeaders) => ForeignRead | Promise<ForeignRead>;

export interface ForeignRead {
  readonly chatBody: RequestBody;
  readonly native: NativeCall;
  /** False when the chat body does not hold the whole request for this group: the cache is neither read nor written. */
  cacheable?(group: ModelGroup): boolean;
  /** The deployment every attempt goes to (the one keeping the state the request refers to). */
  readonly pinned?: CompiledDeployment | null;
  /** Told once the call was answered (not when it failed before that). */
  answered?(call: CallTracker): void;
}

const MAX_ECHOED_MODEL_LENGTH = 200;

/**
 * The gateway's main path: validate the few fields it needs, check the key may use the model, answer from the
 * cache or pick a deployment and forward (upstream-forwarder.ts). How the call ended goes to its CallTracker,
 * the one owner of the call's record.
 */
@Injectable()
export class CompletionsService implements OnModuleDestroy {
  private readonly createdAt = Math.floor(Date.now() / 1000);
  private readonly logger = new Logger(CompletionsService.name);

  constructor(
    @Inject(DeploymentTable) private readonly table: DeploymentTable,
    @Inject(SecretRedactor) private readonly redactor: SecretRedactor,
    // Optional so the service can be built without a cache (unit specs); the app always provides one.
    @Optional() @Inject(ResponseCache) private readonly cache: ResponseCache | null = null,
    // Optional for the same reason: without one, a router with LiteLLM's defaults and in-process state.
    @Optional() @Inject(ModelRouter) router: ModelRouter | null = null,
    // Optional for unit specs; the app always has both (budgets/, rate-limits/).
    @Optional() @Inject(BudgetsService) private readonly budgets: BudgetsService | null = null,
    @Optional() @Inject(RateLimitService) private readonly rateLimits: RateLimitService | null = null,
    @Optional() @Inject(LlmMetrics) private readonly metrics: LlmMetrics | null = null,
  ) {
    this.router = router ?? new ModelRouter(table);
  }

  private readonly router: ModelRouter;

  async onModuleDestroy(): Promise<void> {
    await this.table.close();
  }

  /**
   * `foreign` reads a body in another API's format (Anthropic's Messages, OpenAI's Responses) as a chat body, with
   * the call as a deployment speaking that format natively gets it; the answer's translation back is the caller's
   * writer's.
   * `azure`: the Azure-style route's deployment and api-version (azure-style-route.ts).
   */
  async chat(
    req: TrackedRequest & { body?: unknown },
    res: ServerResponse,
    route: string,
    foreign?: ForeignFormat,
    azure?: AzureStyleTarget,
    callType: CallType = 'acompletion',
  ): Promise<void> {
    const call = new CallTracker(req, res, callType, route);
    this.metrics?.track(call);
    try {
      let body = asRequestBody(req.body);
      let native: NativeCall | null = null;
      let read: ForeignRead | null = null;
      if (foreign !== undefined) {
        read = await foreign(body, req.headers);
        ({ chatBody: body, native } = read);
      }
      call.body = body;
      if (azure) applyAzureStyleTarget(body, azure);
      const model = requireModel(body);
      const messages = requireMessages(body);
      call.stream = readStreamFlag(body);
      rejectCallerOverrides(body);
      const routed = this.resolveGroup(model, req.principal);
      const admitted = this.admit(call, model, body);
      if (admitted !== undefined) await admitted;
      if ((read?.cacheable?.(routed.group) ?? true) && (await this.answeredFromCache(call, req, res, 'chat'))) {
        return;
      }
      await this.route(call, res, routed, 'chat', messages, native, read?.pinned ?? null);
      read?.answered?.(call);
    } catch (error) {
      const answer = call.failed(error);
      if (answer !== null) {
        throw answer; // for the global exception filter
      }
    }
  }

  /** Anthropic's Messages API: the chat path, its body read and its answers written by MessagesResponse. */
  messages(req: TrackedRequest & { body?: unknown }, res: ServerResponse, route: string): Promise<void> {
    const writer = MessagesResponse.install(res);
    return this.chat(req, res, route, (body, headers) => writer.read(body, headers));
  }

  /**
   * `POST /v1/messages/count_tokens`: the model's group is resolved as for a call (the key must be allowed it), then
   * its first deployment with a counter of its own (Anthropic's) counts exactly; any other gets an estimate.
   */
  async countTokens(req: TrackedRequest & { body?: unknown }): Promise<Record<string, unknown>> {
    const body = asRequestBody(req.body);
    rejectCallerOverrides(body);
    requireCountBody(body);
    const routed = this.resolveGroup(body.model as string, req.principal);
    for (const configured of routed.group.deployments) {
      const deployment = deploymentFor(configured, routed.segments, routed.name);
      const request = deployment.target?.countTokens?.({ body: withoutGatewayFields({ ...body }), upstreamModel: deployment.upstreamModel, headers: forwardedHeaders(req.headers) });
      if (request !== undefined) return countWithUpstream(deployment, request, this.redactor);
    }
    return estimateInputTokens(body);
  }

  embeddings(req: TrackedRequest & { body?: unknown }, res: ServerResponse, route: string, azure?: AzureStyleTarget): Promise<void> {
    return this.serve(new CallTracker(req, res, 'aembedding', route), req, res, 'embeddings', azure, (body) => requireEmbeddingInput(body));
  }

  /** Legacy text completions (`prompt` in, `text_completion` out): relayed, or answered through chat (text-completion.ts). */
  textCompletions(req: TrackedRequest & { body?: unknown }, res: ServerResponse, route: string, azure?: AzureStyleTarget): Promise<void> {
    return this.serve(new CallTracker(req, res, 'atext_completion', route), req, res, 'completions', azure, (body, call) => {
      requirePrompt(body);
      call.stream = readStreamFlag(body);
    });
  }

  /** The path of the routes without messages: read the body (`check`: the route's own fields), model access, cache, router. */
  private async serve(
    call: CallTracker,
    req: TrackedRequest & { body?: unknown },
    res: ServerResponse,
    endpoint: Endpoint,
    azure: AzureStyleTarget | undefined,
    check: (body: RequestBody, call: CallTracker) => void,
  ): Promise<void> {
    this.metrics?.track(call);
    try {
      const body = asRequestBody(req.body);
      call.body = body;
      if (azure) applyAzureStyleTarget(body, azure);
      const model = requireModel(body);
      check(body, call);
      rejectCallerOverrides(body);
      const routed = this.resolveGroup(model, req.principal);
      const admitted = this.admit(call, model, body);
      if (admitted !== undefined) await admitted;
      if (await this.answeredFromCache(call, req, res, endpoint)) {
        return;
      }
      await this.route(call, res, routed, endpoint, null);
    } catch (error) {
      const answer = call.failed(error);
      if (answer !== null) {
        throw answer; // for the global exception filter
      }
    }
  }

  listModels(principal: Principal | undefined): ModelListResponse {
    const allowed = principal?.allowedModels ?? null;
    const data: ModelListResponse['data'] = [];
    for (const id of this.table.modelNames) {
      if (allowed === null || allowed.allows(id, this.table.grantsFor(id))) {
        data.push({ id, object: 'model', created: this.createdAt, owned_by: 'gatehouse' });
      }
    }
    return { object: 'list', data };
  }

  retrieveModel(principal: Principal | undefined, model: string): ModelListResponse['data'][number] {
    const allowed = principal?.allowedModels ?? null;
    if (!this.table.route(model) || (allowed !== null && !allowed.allows(model, this.table.grantsFor(model)))) {
      // Same answer for "missing" and "not yours", so a restricted key cannot enumerate other models.
      throw new AppException('model_not_found', `Model '${clipModel(model)}' does not exist`, { param: 'model' });
    }
    return { id: model, object: 'model', created: this.createdAt, owned_by: 'gatehouse' };
  }

  /**
   * Runs after the model access check, so a key can never read a cached answer of a model it may not use.
   * Sets the call's cache plan (for storing the fresh answer later) and answers a hit. A local hit is
   * synchronous; only a Redis lookup awaits.
   */
  private async answeredFromCache(
    call: CallTracker,
    req: TrackedRequest,
    res: ServerResponse,
    endpoint: CacheEndpoint,
  ): Promise<boolean> {
    if (this.cache === null) {
      return false;
    }
    const plan = this.cache.plan(req.principal as Principal, call.body as RequestBody, req.headers, endpoint);
    call.cachePlan = plan;
    if (plan === null || !plan.read) {
      return false;
    }
    const found = this.cache.lookup(plan);
    const answer = found !== null && 'then' in found ? await found : found;
    // Text completions are replayed only in the form they were stored in (the conversions know chat's shapes only).
    if (answer !== null && endpoint === 'completions' && (answer.kind === 'sse') !== call.stream) {
      return false;
    }
    return answer !== null && this.replay(call, res, answer, plan.key);
  }

  /** Writes a cached answer in the form this request wants; false when it cannot be converted (then: a miss). */
  private replay(call: CallTracker, res: ServerResponse, answer: CachedAnswer, key: string): boolean {
    if (call.clientGone) {
      throw CLIENT_GONE;
    }
    if (call.stream) {
      const text = answer.sseBody(callerWantsUsageChunk(call.body as RequestBody));
      if (text === null) {
        return false;
      }
      const events = answer.dataEvents;
      call.answeredFromCache(events !== null ? { events } : { bytes: answer.jsonBody() as Buffer });
      res.writeHead(200, { ...SSE_HEADERS, 'x-litellm-cache-key': key });
      res.end(text);
      return true;
    }
    const bytes = answer.jsonBody();
    if (bytes === null) {
      return false;
    }
    call.answeredFromCache({ bytes });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length, 'x-litellm-cache-key': key });
    res.end(bytes);
    return true;
  }

  /** Stores a fresh 200 answer when the call's plan allows it (an arrow: the forwarder calls it too). */
  private readonly remember: RememberAnswer = (call, answer) => {
    const plan = call.cachePlan;
    if (plan !== null && plan.write && this.cache !== null && !call.clientGone) {
      const made = answer();
      if (made !== null) {
        this.cache.remember(plan, made);
      }
    }
  };

  private resolveGroup(model: string, principal: Principal | undefined): RoutedModel {
    if (!principal) {
      // The guard always sets it on these routes; failing closed keeps a wiring mistake from opening them.
      throw new AppException('missing_api_key', 'Authentication is required for this route');
    }
    // Routed once, for the access check (a group's access groups) and the call; refused in this order either way.
    const routed = this.table.route(model);
    const refusal = principal.allowedModels?.refusal(model, this.table.grantsFor(model, routed)) ?? null;
    if (refusal !== null) throw modelAccessDenied(refusal, model);
    if (!routed) {
      throw new AppException('model_not_found', `Model '${clipModel(model)}' is not configured on this gateway`, {
        param: 'model',
      });
    }
    return routed;
  }

  /**
   * Budgets, then rate limits (LiteLLM's order: its auth checks, then its limiter): a refused call reaches no
   * upstream. Once the call is over its cost goes to the spend ledger and its tokens to the limiter, read without
   * building the call's record (a caller that logs nowhere never pays for one).
   */
  private admit(call: CallTracker, model: string, body: RequestBody): void | Promise<void> {
    const principal = call.principal;
    const budgets = this.budgets;
    const rateLimits = this.rateLimits;
    if (!principal || budgets === null || rateLimits === null) return;
    // Synchronous (no promise, no tick) unless a row must be read or the counters are in Redis.
    const checked = budgets.check(principal, model, typeof body.user === 'string' ? body.user : null);
    const held = (ticket: RateLimitTicket | null): void =>
      call.whenSettled(() => {
        const used = call.usage();
        budgets.record(principal, used);
        ticket?.release(used.total_tokens);
      });
    if (checked !== undefined) {
      return checked.then(async () => {
        const acquired = rateLimits.acquire(principal, model, call.response);
        held(acquired !== null && 'then' in acquired ? await acquired : acquired);
      });
    }
    const acquired = rateLimits.acquire(principal, model, call.response);
    if (acquired !== null && 'then' in acquired) return acquired.then(held);
    held(acquired);
  }

  /**
   * The router (router/model-router.ts) picks deployments, retries and falls back; each attempt is `tryDeployment`.
   * A fallback group is routed by its name like a request's (an alias or a `model_name` pattern may serve it).
   */
  private route(
    call: CallTracker,
    res: ServerResponse,
    routed: RoutedModel,
    endpoint: Endpoint,
    messages: unknown[] | null,
    native: NativeCall | null = null,
    pinned: CompiledDeployment | null = null,
  ): Promise<void> {
    let fallbacks: Map<ModelGroup, RoutedModel> | null = null;
    return this.router.route({
      call,
      res,
      group: routed.group,
      attempt: (deployment, group) => {
        // The upstream keeping the previous response is the only one that can continue it.
        if (pinned !== null && group === routed.group) return this.tryDeployment(call, res, pinned, endpoint, messages, native);
        const { segments, name } = group === routed.group ? routed : (fallbacks?.get(group) ?? { segments: [], name: deployment.modelName });
        return this.tryDeployment(call, res, deploymentFor(deployment, segments, name), endpoint, messages, native);
      },
      resolveGroup: (name) => {
        const fallback = this.table.route(name);
        if (fallback !== undefined) (fallbacks ??= new Map()).set(fallback.group, fallback);
        return fallback?.group;
      },
      accessError: (name) => {
        const refusal = call.principal?.allowedModels?.refusal(name, this.table.grantsFor(name)) ?? null;
        return refusal === null ? null : modelAccessDenied(refusal, name, 'fallbacks');
      },
    });
  }

  /**
   * One deployment: one try plus its `max_retries` on connection errors and 5xx. Null once the client was answered,
   * else the failure for the router. Once bytes went to the client nothing is retried.
   */
  private async tryDeployment(
    call: CallTracker,
    res: ServerResponse,
    configured: CompiledDeployment,
    endpoint: Endpoint,
    messages: unknown[] | null,
    native: NativeCall | null,
  ): Promise<UpstreamFailure | null> {
    call.deployment = configured;
    // A chat-only deployment answers text completions through its chat route; the record names it as configured.
    const deployment = endpoint === 'completions' ? (deploymentForTextCompletions(configured) ?? configured) : configured;
    const target = deployment.target;
    const chatProblem = native?.chatProblem ?? null;
    if (chatProblem !== null && (target === null || target.native !== native?.format)) {
      // Only a deployment speaking the caller's format can serve this body; for this one it is the caller's 400.
      return { exception: chatProblem, retryable: true, kind: 'caller' };
    }
    if (target === null) {
      answerOffline(call, res, deployment, endpoint, messages, this.remember);
      return null;
    }
    if (!target.endpoints.has(endpoint)) {
      return {
        exception: new AppException('validation_failed', `Model '${deployment.modelName}' (${deployment.providerLabel}) does not offer ${endpoint}`, { param: 'model' }),
        retryable: true,
        kind: 'caller',
      };
    }
    const providerCall: ProviderCall = {
      endpoint,
      stream: call.stream,
      body: withRequestDefaults(call.body as RequestBody, deployment.requestDefaults),
      upstreamModel: deployment.upstreamModel,
      callId: call.callId,
      ...(native !== null && target.native === native.format ? { native } : {}),
    };
    let last: UpstreamFailure | null = null;
    // Each attempt gets its own request: a signed one (Bedrock's SigV4) carries its time and would go stale.
    for (let attempt = 0; attempt <= deployment.maxRetries; attempt++) {
      let request: UpstreamRequest;
      try {
        const prepared = target.request(providerCall);
        request = prepared instanceof Promise ? await prepared : prepared;
      } catch (error) {
        // A token refused, or a request this provider cannot express (a 4xx for the caller, unless another deployment can).
        return requestFailure(error, deployment.providerLabel, this.redactor);
      }
      const failure = await forwardOnce(call, res, deployment, providerCall, request, this.remember, this.redactor);
      if (failure !== null) this.warnUpstreamFailure(deployment, failure, attempt, failure.retryable && attempt < deployment.maxRetries);
      if (failure === null || !failure.retryable) {
        return failure;
      }
      last = failure;
    }
    return last;
  }

  /**
   * An upstream's failure is the operator's to know of even when a retry or a fallback saves the call: one line per
   * failed attempt, with what failed and how, never the upstream's words (they may quote the prompt). A failure the
   * caller caused (a bad parameter the upstream refused) is the caller's answer, not a warning.
   */
  private warnUpstreamFailure(deployment: CompiledDeployment, failure: UpstreamFailure, attempt: number, retrying: boolean): void {
    const kind = failure.kind ?? (failure.retryable ? 'server' : 'caller');
    if (kind === 'caller') return;
    const { status, code } = failure.exception;
    this.logger.warn(
      `upstream ${deployment.providerLabel} deployment ${deployment.modelId} of ${clipModel(deployment.modelName)} failed: ${status} ${code} (${kind}), ` +
        `attempt ${attempt + 1} of ${deployment.maxRetries + 1}${retrying ? '; retrying it' : ''}`,
    );
  }
}

/** A caller's name as an error message may quote it. */
export function clipModel(model: string): string {
  return model.length > MAX_ECHOED_MODEL_LENGTH ? `${model.slice(0, MAX_ECHOED_MODEL_LENGTH)}…` : model;
}
