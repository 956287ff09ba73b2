import {
  checkVarNames,
  COMMON_VARS,
  type DestinationVarsSpec,
  VarKinds,
  type DeliveryItem,
  type DeliveryResult,
  type HealthResult,
  type LogDestination,
  type SettingsErrors,
} from '../../../log-destination';
import {
  AgentPool,
  DEFAULT_REQUEST_TIMEOUT_MS,
  epochSecondsToDate,
  httpCall,
  httpFailure,
  httpUrlError,
  isRetryableStatus,
  networkFailure,
  normalizeBaseUrl,
  routerAttempts,
  safeModelParameters,
  snippet,
  stableUuid,
  type EgressOptions,
  unreachableHealth,
} from '../destination-support';

/** LiteLLM's LangSmith callback_vars. */
export const LANGSMITH_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    langsmith_api_key: VarKinds.secret,
    langsmith_project: VarKinds.plain,
    langsmith_base_url: VarKinds.url,
  },
  required: [['langsmith_api_key']],
  requiredForNonAdmin: [],
};

export const LANGSMITH_DEFAULT_BASE_URL = 'https://api.smith.langchain.com';

export interface LangsmithSettings {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly project: string;
}

export interface LangsmithDestinationOptions {
  requestTimeoutMs?: number;
  egress?: EgressOptions;
}

/** One `llm` run per event, posted with POST /runs/batch. */
export class LangsmithDestination implements LogDestination<LangsmithSettings> {
  readonly kind = 'langsmith' as const;
  private readonly agents: AgentPool;
  private readonly requestTimeoutMs: number;

  constructor(options: LangsmithDestinationOptions = {}) {
    this.agents = new AgentPool(options.egress);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  parseSettings(vars: Readonly<Record<string, string>>): { settings: LangsmithSettings } | { errors: SettingsErrors } {
    const errors = checkVarNames('langsmith', LANGSMITH_VARS, vars);
    const baseUrl = normalizeBaseUrl(vars.langsmith_base_url?.trim() || LANGSMITH_DEFAULT_BASE_URL);
    const urlError = httpUrlError('langsmith_base_url', baseUrl);
    if (urlError) {
      errors.push(urlError);
    }
    if (errors.length > 0) {
      return { errors };
    }
    return { settings: { baseUrl, apiKey: vars.langsmith_api_key.trim(), project: vars.langsmith_project?.trim() || 'default' } };
  }

  async send(items: readonly DeliveryItem[], settings: LangsmithSettings): Promise<DeliveryResult> {
    if (items.length === 0) {
      return { ok: true };
    }
    const result = await this.post(items, settings);
    if (result !== 'conflict') {
      return result;
    }
    if (items.length === 1) {
      // 409 for a single run means it was stored by an earlier delivery.
      return { ok: true };
    }
    // A batch is refused as a whole when one run already exists; resend one by one so the new runs still land.
    const results = [];
    for (const item of items) {
      const single = await this.post([item], settings);
      results.push({ item, result: single === 'conflict' ? ({ ok: true } as const) : single });
    }
    const failed = results.filter((r) => !r.result.ok);
    if (failed.length === 0) {
      return { ok: true };
    }
    const failures = failed.map((f) => f.result).filter((r): r is Extract<DeliveryResult, { ok: false }> => !r.ok);
    const retryable = failures.some((f) => f.retryable);
    const retryAfterMs = Math.max(...failures.map((f) => f.retryAfterMs ?? 0));
    return {
      ok: false,
      retryable,
      ...(retryable && retryAfterMs > 0 ? { retryAfterMs } : {}),
      error: failures[0].error,
      ...(failed.length < items.length ? { failedEventIds: failed.map((f) => f.item.eventId) } : {}),
    };
  }

  async checkHealth(settings: LangsmithSettings): Promise<HealthResult> {
    try {
      const response = await httpCall(this.agents, {
        method: 'GET',
        url: `${settings.baseUrl}/sessions?limit=1`,
        headers: { 'x-api-key': settings.apiKey, accept: 'application/json' },
        timeoutMs: this.requestTimeoutMs,
      });
      if (response.status >= 200 && response.status < 300) {
        return { healthy: true, details: `LangSmith accepted the API key at ${settings.baseUrl}` };
      }
      if (response.status === 401 || response.status === 403) {
        return { healthy: false, details: `LangSmith rejected the API key (HTTP ${response.status}) at ${settings.baseUrl}` };
      }
      return { healthy: false, details: `LangSmith at ${settings.baseUrl} answered HTTP ${response.status}` };
    } catch (err) {
      return unreachableHealth(err, settings.baseUrl);
    }
  }

  async close(): Promise<void> {
    await this.agents.close();
  }

  private async post(items: readonly DeliveryItem[], settings: LangsmithSettings): Promise<DeliveryResult | 'conflict'> {
    let response;
    try {
      response = await httpCall(this.agents, {
        method: 'POST',
        url: `${settings.baseUrl}/runs/batch`,
        headers: { 'x-api-key': settings.apiKey, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ post: items.map((item) => toRun(item, settings.project)), patch: [] }),
        timeoutMs: this.requestTimeoutMs,
      });
    } catch (err) {
      return networkFailure(err, settings.baseUrl);
    }
    if (response.status === 409) {
      return 'conflict';
    }
    if (response.status >= 200 && response.status < 300) {
      return { ok: true };
    }
    return httpFailure(response.status, `LangSmith at ${settings.baseUrl}`, isRetryableStatus(response.status), response.headers['retry-after'], snippet(response.text));
  }
}

/** A root `llm` run; its id (and so its trace id) derives from the event id, so redelivery cannot duplicate it. */
export function toRun(item: DeliveryItem, project: string): Record<string, unknown> {
  const p = item.payload;
  const id = stableUuid('gatehouse.langsmith.run', item.eventId);
  const start = epochSecondsToDate(p.startTime) ?? new Date(0);
  const end = epochSecondsToDate(p.endTime) ?? start;
  const failed = p.status === 'failure';
  const m = p.metadata;
  const params = safeModelParameters(p.model_parameters);
  return {
    id,
    trace_id: id,
    dotted_order: `${dottedTimestamp(start)}${id}`,
    name: `litellm-${p.call_type}`,
    run_type: 'llm',
    start_time: start.toISOString(),
    end_time: end.toISOString(),
    session_name: project,
    inputs: { messages: p.messages, ...(params.tools !== undefined ? { tools: params.tools } : {}) },
    outputs: failed
      ? {}
      : {
          ...(p.response && typeof p.response === 'object' ? p.response : { output: p.response }),
          usage_metadata: { input_tokens: p.prompt_tokens ?? 0, output_tokens: p.completion_tokens ?? 0, total_tokens: p.total_tokens ?? 0 },
        },
    ...(failed ? { error: p.error_str ?? 'failed' } : {}),
    tags: p.request_tags ?? [],
    extra: {
      invocation_params: { model: p.model, ...withoutTools(params) },
      metadata: {
        ls_provider: p.custom_llm_provider,
        ls_model_name: p.model,
        ls_model_type: p.call_type === 'aembedding' ? 'embedding' : p.call_type === 'atext_completion' ? 'llm' : 'chat',
        litellm_call_id: p.litellm_call_id,
        gatehouse_trace_id: p.trace_id,
        model_group: p.model_group,
        model_id: p.model_id,
        api_base: p.api_base,
        response_cost: p.response_cost,
        cache_hit: p.cache_hit,
        team_id: m?.team_id ?? m?.user_api_key_team_id ?? null,
        team_alias: m?.team_alias ?? m?.user_api_key_team_alias ?? null,
        user_api_key_alias: m?.user_api_key_alias ?? null,
        user_api_key_hash: m?.user_api_key_hash ?? null,
        end_user: p.end_user,
        ...(failed && p.error_information ? { error_code: p.error_information.error_code, error_class: p.error_information.error_class } : {}),
        ...routerAttempts(p),
      },
    },
  };
}

function withoutTools(params: Record<string, unknown>): Record<string, unknown> {
  const rest = { ...params };
  delete rest.tools;
  delete rest.functions;
  return rest;
}

/** LangSmith's dotted-order time part: `YYYYMMDDTHHMMSSffffffZ` (UTC, microseconds). */
function dottedTimestamp(date: Date): string {
  const iso = date.toISOString(); // 2026-01-01T00:00:00.250Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}000Z`;
}
