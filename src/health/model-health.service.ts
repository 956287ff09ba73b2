import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { SecretRedactor } from '../common/secret-redactor';
import { GatewaySettings } from '../config/gateway-settings';
import { type CompiledDeployment, DeploymentTable, withRequestDefaults } from '../completions/deployment-table';
import type { Endpoint, ProviderDeployment } from '../completions/providers/provider';
import type { RequestBody } from '../completions/request-body';
import { askUpstream } from '../completions/upstream-forwarder';
import { AppException } from '../errors';

/** LiteLLM's probe texts (`DEFAULT_HEALTH_CHECK_PROMPT`), so an upstream's logs show the same as under LiteLLM. */
export const HEALTH_CHECK_PROMPT = 'test from litellm';
const HEALTH_CHECK_MESSAGE = "What's 1 + 1?";
/** LiteLLM's default `max_tokens` for a chat or completion probe: enough for any model to answer, cheap for all. */
export const HEALTH_CHECK_MAX_TOKENS = 16;
/** A probe waits at most this long (or the deployment's own timeout, if shorter; `model_info.health_check_timeout` overrides). */
export const HEALTH_CHECK_TIMEOUT_MS = 10_000;
/**
 * A deployment's result is reused for this long, and callers arriving while it is checked share that check: `/health`
 * then costs each upstream at most one small call per period however often (and by how many) it is asked.
 */
export const HEALTH_RESULT_TTL_MS = 30_000;
/** Probes in flight at once, over all callers: a long `model_list` is checked in waves, not all at once. */
export const HEALTH_CHECK_CONCURRENCY = 8;
/** A probe's answer is not read beyond this (it is only checked to be a 2xx). */
const MAX_ANSWER_BYTES = 1024 * 1024;

type HealthMode = 'chat' | 'embedding' | 'completion';
const ENDPOINT_OF_MODE: Readonly<Record<HealthMode, Endpoint>> = { chat: 'chat', embedding: 'embeddings', completion: 'completions' };

/**
 * One deployment as `/health` lists it: LiteLLM's allow-list of routing facts (never `api_key`, a header or any other
 * credential: the entry is built from the compiled deployment, not from `litellm_params`), plus the result.
 */
export interface HealthEndpoint {
  model: string;
  model_name: string;
  model_id: string;
  custom_llm_provider: string;
  mode: HealthMode;
  api_base?: string;
  tpm?: number;
  rpm?: number;
  /** Unhealthy only: what went wrong, with any credential the upstream echoed redacted. */
  error?: string;
  /** Unhealthy only: the HTTP status the gateway answers calls with for this failure (the upstream's is in `error`). */
  exception_status?: number;
}

export interface HealthReport {
  healthy_endpoints: HealthEndpoint[];
  unhealthy_endpoints: HealthEndpoint[];
  healthy_count: number;
  unhealthy_count: number;
}

interface Outcome {
  readonly error: string | null;
  readonly status: number | null;
}

interface CachedOutcome {
  readonly outcome: Promise<Outcome>;
  /** When the check settled (Clock ms); null while it runs. */
  settledAt: number | null;
}

/** What `model_info` may say about a deployment's check (LiteLLM's names); anything else there is ignored. */
interface CheckSettings {
  readonly mode: HealthMode | undefined;
  readonly model: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly maxTokens: number | undefined;
}

/**
 * LiteLLM's model health check (`GET /health`): one small real call per deployment, through the deployment's own
 * provider code and connection pool (what a completion would send, without the router, the cache, the call record,
 * logging or spend: it is the gateway's call, not a user's). Results are cached per deployment and probes are bounded,
 * so the route cannot be used to hammer the upstreams.
 */
@Injectable()
export class ModelHealthService {
  private readonly cache = new Map<string, CachedOutcome>();
  private readonly settingsById = new Map<string, CheckSettings>();
  private readonly limiter = new ConcurrencyLimit(HEALTH_CHECK_CONCURRENCY);

  constructor(
    @Inject(DeploymentTable) private readonly table: DeploymentTable,
    @Inject(GatewaySettings) settings: GatewaySettings,
    @Inject(SecretRedactor) private readonly redactor: SecretRedactor,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    for (const entry of settings.config.modelList) {
      const info = entry.model_info;
      if (typeof info.id === 'string') this.settingsById.set(info.id, readCheckSettings(info));
    }
  }

  /** Every deployment, or those of the model group `model`, or the one whose `model_info.id` is `modelId`. */
  async check(filter: { model?: string; modelId?: string } = {}): Promise<HealthReport> {
    const deployments = this.select(filter);
    const entries = await Promise.all(deployments.map(async (deployment) => ({ deployment, outcome: await this.outcomeOf(deployment) })));
    const report: HealthReport = { healthy_endpoints: [], unhealthy_endpoints: [], healthy_count: 0, unhealthy_count: 0 };
    for (const { deployment, outcome } of entries) {
      const entry = this.entryOf(deployment);
      if (outcome.error === null) {
        report.healthy_endpoints.push(entry);
      } else {
        entry.error = outcome.error;
        if (outcome.status !== null) entry.exception_status = outcome.status;
        report.unhealthy_endpoints.push(entry);
      }
    }
    report.healthy_count = report.healthy_endpoints.length;
    report.unhealthy_count = report.unhealthy_endpoints.length;
    return report;
  }

  private select(filter: { model?: string; modelId?: string }): CompiledDeployment[] {
    const all: CompiledDeployment[] = [];
    for (const name of this.table.modelNames) all.push(...(this.table.group(name)?.deployments ?? []));
    if (filter.modelId !== undefined) {
      const found = all.filter((deployment) => deployment.modelId === filter.modelId);
      if (found.length === 0) throw new AppException('not_found', `Model with ID ${filter.modelId} not found`, { param: 'model_id' });
      return found;
    }
    if (filter.model !== undefined) {
      const routed = this.table.route(filter.model);
      if (routed === undefined) throw new AppException('not_found', `Model ${filter.model} not found`, { param: 'model' });
      return [...routed.group.deployments];
    }
    return all;
  }

  /** The deployment's fresh result, the check already running for it, or a new check. */
  private outcomeOf(deployment: CompiledDeployment): Promise<Outcome> {
    const cached = this.cache.get(deployment.modelId);
    if (cached !== undefined && (cached.settledAt === null || this.clock.now() - cached.settledAt < HEALTH_RESULT_TTL_MS)) return cached.outcome;
    const entry: CachedOutcome = {
      outcome: this.limiter.run(() => this.probe(deployment)).then((outcome) => {
        entry.settledAt = this.clock.now();
        return outcome;
      }),
      settledAt: null,
    };
    this.cache.set(deployment.modelId, entry);
    return entry.outcome;
  }

  /** One small call as a completion would make it; never throws. */
  private async probe(deployment: CompiledDeployment): Promise<Outcome> {
    const target = deployment.target;
    // The offline (mock) provider is answered by the gateway itself: nothing to reach.
    if (target === null) return { error: null, status: null };
    const settings = this.settingsById.get(deployment.modelId);
    const mode = modeFor(target, settings?.mode);
    const upstreamModel = modelFor(deployment, settings?.model);
    if (upstreamModel === null) {
      return { error: 'A wildcard deployment names no model to call: set model_info.health_check_model to check it', status: null };
    }
    const timeoutMs = Math.min(settings?.timeoutMs ?? HEALTH_CHECK_TIMEOUT_MS, deployment.timeoutMs);
    try {
      const body = withRequestDefaults(probeBody(mode, upstreamModel, settings?.maxTokens ?? HEALTH_CHECK_MAX_TOKENS), deployment.requestDefaults);
      const request = await target.request({ endpoint: ENDPOINT_OF_MODE[mode], stream: false, body, upstreamModel, callId: `health-${randomUUID()}` });
      await askUpstream(deployment, { method: 'POST', path: request.path, headers: request.headers, body: request.body }, this.redactor, MAX_ANSWER_BYTES, timeoutMs);
      return { error: null, status: null };
    } catch (error) {
      // AppException messages are redacted where they are made; the second pass covers what a provider threw itself.
      if (error instanceof AppException) return { error: this.redactor.redact(error.message), status: error.status };
      return { error: this.redactor.redact(`health check failed: ${error instanceof Error ? error.message : String(error)}`), status: null };
    }
  }

  private entryOf(deployment: CompiledDeployment): HealthEndpoint {
    const target = deployment.target;
    const entry: HealthEndpoint = {
      model: `${deployment.providerLabel}/${deployment.upstreamModel}`,
      model_name: deployment.modelName,
      model_id: deployment.modelId,
      custom_llm_provider: deployment.providerLabel,
      mode: target === null ? 'chat' : modeFor(target, this.settingsById.get(deployment.modelId)?.mode),
    };
    if (deployment.apiBaseForLog !== null) entry.api_base = deployment.apiBaseForLog;
    if (deployment.tpm !== null) entry.tpm = deployment.tpm;
    if (deployment.rpm !== null) entry.rpm = deployment.rpm;
    return entry;
  }
}

/** `model_info.mode` when the deployment serves it, else what it serves first (chat, then embeddings, then completions). */
function modeFor(target: ProviderDeployment, configured: HealthMode | undefined): HealthMode {
  if (configured !== undefined && target.endpoints.has(ENDPOINT_OF_MODE[configured])) return configured;
  if (target.endpoints.has('chat')) return 'chat';
  return target.endpoints.has('embeddings') ? 'embedding' : 'completion';
}

/** The model the probe names: `model_info.health_check_model` (its provider prefix off), else the deployment's; null for an unfilled wildcard. */
function modelFor(deployment: CompiledDeployment, configured: string | undefined): string | null {
  if (configured !== undefined) {
    const prefix = `${deployment.providerLabel}/`;
    return configured.startsWith(prefix) ? configured.slice(prefix.length) : configured;
  }
  return deployment.wildcard === null ? deployment.upstreamModel : null;
}

function probeBody(mode: HealthMode, model: string, maxTokens: number): RequestBody {
  switch (mode) {
    case 'embedding':
      return { model, input: [HEALTH_CHECK_PROMPT] };
    case 'completion':
      return { model, prompt: HEALTH_CHECK_PROMPT, max_tokens: maxTokens };
    default:
      return { model, messages: [{ role: 'user', content: HEALTH_CHECK_MESSAGE }], max_tokens: maxTokens };
  }
}

function readCheckSettings(info: Readonly<Record<string, unknown>>): CheckSettings {
  const mode = info.mode === 'chat' || info.mode === 'embedding' || info.mode === 'completion' ? info.mode : undefined;
  const model = typeof info.health_check_model === 'string' && info.health_check_model !== '' ? info.health_check_model : undefined;
  const timeout = positiveNumber(info.health_check_timeout);
  const maxTokens = positiveNumber(info.health_check_max_tokens);
  return {
    mode,
    model,
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    maxTokens: maxTokens === undefined ? undefined : Math.floor(maxTokens),
  };
}

function positiveNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number > 0 ? number : undefined;
}

/** At most `limit` tasks at once; the rest wait in arrival order. */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next task, so `running` never dips below the number of tasks in flight.
      if (next !== undefined) next();
      else this.running -= 1;
    }
  }
}
