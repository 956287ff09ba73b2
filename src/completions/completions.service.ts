import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { CacheEndpoint } from '../cache/cache-key';
import { CachedAnswer } from '../cache/cached-answer';
import { ResponseCache } from '../cache/response-cache.service';
import { SecretRedactor } from '../common/secret-redactor';
import { AppException } from '../errors';
import type { Principal } from '../keys/principal';
import { CallTracker, CLIENT_GONE, type TrackedRequest } from './call-tracker';
import { DeploymentTable, withRequestDefaults, type CompiledDeployment, type ModelGroup } from './deployment-table';
import { ModelRouter } from './router/model-router';
import { mockChatCompletion, mockChatStream, mockEmbeddings } from './mock-provider';
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
import type { Endpoint, ProviderCall, UpstreamRequest } from './providers/provider';
import { SSE_HEADERS } from './sse-relay';
import { forwardOnce, type RememberAnswer } from './upstream-forwarder';
import { requestFailure, type UpstreamFailure } from './upstream-errors';

export interface ModelListResponse {
  object: 'list';
  data: Array<{ id: string; object: 'model'; created: number; owned_by: string }>;
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

  constructor(
    @Inject(DeploymentTable) private readonly table: DeploymentTable,
    @Inject(SecretRedactor) private readonly redactor: SecretRedactor,
    // Optional so the service can be built without a cache (unit specs); the app always provides one.
    @Optional() @Inject(ResponseCache) private readonly cache: ResponseCache | null = null,
    // Optional for the same reason: without one, a router with LiteLLM's defaults and in-process state.
    @Optional() @Inject(ModelRouter) router: ModelRouter | null = null,
  ) {
    this.router = router ?? new ModelRouter(table);
  }

  private readonly router: ModelRouter;

  async onModuleDestroy(): Promise<void> {
    await this.table.close();
  }

  async chat(req: TrackedRequest & { body?: unknown }, res: ServerResponse, route: string): Promise<void> {
    const call = new CallTracker(req, res, 'acompletion', route);
    try {
      const body = asRequestBody(req.body);
      call.body = body;
      const model = requireModel(body);
      const messages = requireMessages(body);
      call.stream = readStreamFlag(body);
      rejectCallerOverrides(body);
      const group = this.resolveGroup(model, req.principal);
      if (await this.answeredFromCache(call, req, res, 'chat')) {
        return;
      }
      await this.route(call, res, group, 'chat', messages);
    } catch (error) {
      const answer = call.failed(error);
      if (answer !== null) {
        throw answer; // for the global exception filter
      }
    }
  }

  async embeddings(req: TrackedRequest & { body?: unknown }, res: ServerResponse, route: string): Promise<void> {
    const call = new CallTracker(req, res, 'aembedding', route);
    try {
      const body = asRequestBody(req.body);
      call.body = body;
      const model = requireModel(body);
      requireEmbeddingInput(body);
      rejectCallerOverrides(body);
      const group = this.resolveGroup(model, req.principal);
      if (await this.answeredFromCache(call, req, res, 'embeddings')) {
        return;
      }
      await this.route(call, res, group, 'embeddings', null);
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
      if (allowed === null || mayUse(allowed, id)) {
        data.push({ id, object: 'model', created: this.createdAt, owned_by: 'gatehouse' });
      }
    }
    return { object: 'list', data };
  }

  retrieveModel(principal: Principal | undefined, model: string): ModelListResponse['data'][number] {
    const allowed = principal?.allowedModels ?? null;
    if (!this.table.group(model) || (allowed !== null && !mayUse(allowed, model))) {
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

  private resolveGroup(model: string, principal: Principal | undefined): ModelGroup {
    if (!principal) {
      // The guard always sets it on these routes; failing closed keeps a wiring mistake from opening them.
      throw new AppException('missing_api_key', 'Authentication is required for this route');
    }
    const allowed = principal.allowedModels;
    if (allowed !== null && !mayUse(allowed, model)) {
      throw new AppException('model_not_allowed', `This key is not allowed to use model '${clipModel(model)}'`, {
        param: 'model',
      });
    }
    const group = this.table.group(model);
    if (!group) {
      throw new AppException('model_not_found', `Model '${clipModel(model)}' is not configured on this gateway`, {
        param: 'model',
      });
    }
    return group;
  }

  /** The router (router/model-router.ts) picks deployments, retries and falls back; each attempt is `tryDeployment`. */
  private route(
    call: CallTracker,
    res: ServerResponse,
    group: ModelGroup,
    endpoint: Endpoint,
    messages: unknown[] | null,
  ): Promise<void> {
    return this.router.route({
      call,
      res,
      group,
      attempt: (deployment) => this.tryDeployment(call, res, deployment, endpoint, messages),
      resolveGroup: this.groupNamed,
      mayUse: (name) => {
        const allowed = call.principal?.allowedModels ?? null;
        return allowed === null || mayUse(allowed, name);
      },
    });
  }

  private readonly groupNamed = (name: string): ModelGroup | undefined => this.table.group(name);

  /**
   * One deployment: one try plus its `max_retries` on connection errors and 5xx. Null once the client was answered,
   * else the failure for the router. Once bytes went to the client nothing is retried.
   */
  private async tryDeployment(
    call: CallTracker,
    res: ServerResponse,
    deployment: CompiledDeployment,
    endpoint: Endpoint,
    messages: unknown[] | null,
  ): Promise<UpstreamFailure | null> {
    call.deployment = deployment;
    const target = deployment.target;
    if (target === null) {
      this.answerLocally(call, res, deployment, endpoint, messages);
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
      if (failure === null || !failure.retryable) {
        return failure;
      }
      last = failure;
    }
    return last;
  }

  private answerLocally(
    call: CallTracker,
    res: ServerResponse,
    deployment: CompiledDeployment,
    endpoint: Endpoint,
    messages: unknown[] | null,
  ): void {
    const body = call.body as RequestBody;
    call.dispatched();
    if (endpoint === 'embeddings') {
      const response = mockEmbeddings({ model: deployment.upstreamModel, input: body.input, dimensions: body.dimensions });
      call.answeredWithObject(response);
      const bytes = sendJson(res, response);
      this.remember(call, () => CachedAnswer.fromJson(bytes));
      return;
    }
    const completion = mockChatCompletion({
      callId: call.callId,
      model: deployment.upstreamModel,
      content: deployment.mockResponse ?? '',
      messages: messages ?? [],
    });
    if (!call.stream) {
      call.answeredWithObject(completion);
      const bytes = sendJson(res, completion);
      this.remember(call, () => CachedAnswer.fromJson(bytes));
      return;
    }
    call.streamStarted(null, completion);
    res.writeHead(200, SSE_HEADERS);
    res.end(mockChatStream(completion, callerWantsUsageChunk(body)));
    call.streamEnded(null);
    this.remember(call, () => CachedAnswer.fromJson(Buffer.from(JSON.stringify(completion))));
  }
}

function mayUse(allowed: ReadonlySet<string>, model: string): boolean {
  return allowed.has(model) || allowed.has('*') || allowed.has('all-proxy-models');
}

function clipModel(model: string): string {
  return model.length > MAX_ECHOED_MODEL_LENGTH ? `${model.slice(0, MAX_ECHOED_MODEL_LENGTH)}…` : model;
}

function sendJson(res: ServerResponse, value: unknown): Buffer {
  const bytes = Buffer.from(JSON.stringify(value));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
  res.end(bytes);
  return bytes;
}
