import type { Langfuse } from 'langfuse';
import type { DeliveryItem } from '../../../log-destination';
import type { StandardLoggingPayload } from '../../../standard-logging-payload';
import { shareJson } from '../../event-json';
import { epochSecondsToDate, responseMessage, routerAttempts, safeModelParameters, stableUuid } from '../destination-support';

/*
 * The mapping of a call record to Langfuse's events (a trace and a generation), apart from the client that sends them
 * (acknowledging-langfuse.ts) and the destination that batches and evaluates them (langfuse.destination.ts).
 */

export type GenerationBody = Parameters<Langfuse['generation']>[0];
export type TraceBody = NonNullable<Parameters<Langfuse['trace']>[0]>;

/** Maps one payload to a trace and a generation (LiteLLM's Langfuse mapping, minus anything credential-like). */
export function toLangfuseBodies(item: DeliveryItem): { trace: TraceBody; generation: GenerationBody } {
  const p = item.payload;
  const requester = p.metadata?.requester_metadata ?? {};
  const traceId = nonEmptyString(requester.trace_id) ?? p.litellm_call_id;
  const sessionId = nonEmptyString(requester.session_id);
  const failed = p.status === 'failure';
  const alias = p.metadata?.user_api_key_alias;
  const { modelParameters, tools } = splitModelParameters(p.model_parameters);
  const output = failed ? undefined : responseMessage(p.response);
  const metadata = safeMetadata(p);
  const startTime = epochSecondsToDate(p.startTime);
  const usageDetails = { input: p.prompt_tokens ?? 0, output: p.completion_tokens ?? 0, total: p.total_tokens ?? 0 };
  const costDetails = {
    input: p.cost_breakdown?.input_cost ?? 0,
    output: p.cost_breakdown?.output_cost ?? 0,
    total: p.cost_breakdown?.total_cost ?? p.response_cost ?? 0,
  };

  // One object per part, serialised once for both bodies and the call's other destinations (event-json.ts).
  const sharedInput = tools === undefined ? undefined : { messages: p.messages, tools };
  const longMessages = shareJson(p.messages);
  shareJson(output);
  const traceInput = sharedInput ?? { messages: p.messages };
  if (longMessages) shareJson(traceInput);

  const trace: TraceBody = {
    id: traceId,
    name: `litellm-${p.call_type}`,
    timestamp: startTime,
    userId: p.end_user ?? undefined,
    sessionId,
    tags: p.request_tags?.length ? [...p.request_tags] : undefined,
    input: traceInput,
    output,
    // The trace schema has no level/statusMessage; failures are marked in its metadata (and on the generation).
    metadata: failed ? { ...metadata, level: 'ERROR', status_message: p.error_str ?? 'failed' } : metadata,
  };
  const generation: GenerationBody = {
    id: stableUuid('gatehouse.langfuse.generation', item.eventId),
    traceId,
    name: alias ? `litellm:${alias}` : `litellm-${p.call_type}`,
    startTime,
    endTime: epochSecondsToDate(p.endTime),
    completionStartTime: epochSecondsToDate(p.completionStartTime),
    model: p.model,
    modelParameters,
    input: sharedInput ?? p.messages,
    output,
    usageDetails,
    costDetails,
    metadata,
    level: failed ? 'ERROR' : 'DEFAULT',
    statusMessage: failed ? (p.error_str ?? 'failed') : undefined,
  };
  return { trace, generation };
}

export function safeMetadata(p: StandardLoggingPayload): Record<string, unknown> {
  const m = p.metadata;
  const out: Record<string, unknown> = {
    litellm_call_id: p.litellm_call_id,
    gatehouse_trace_id: p.trace_id,
    response_id: p.id,
    user_api_key_alias: m?.user_api_key_alias ?? null,
    user_api_key_hash: m?.user_api_key_hash ?? null,
    user_api_key_team_id: m?.user_api_key_team_id ?? null,
    user_api_key_team_alias: m?.user_api_key_team_alias ?? null,
    team_id: m?.team_id ?? null,
    team_alias: m?.team_alias ?? null,
    model_group: p.model_group,
    model_id: p.model_id,
    custom_llm_provider: p.custom_llm_provider,
    api_base: p.api_base,
    cache_hit: p.cache_hit,
    stream: p.stream,
    status: p.status,
    response_cost: p.response_cost,
  };
  if (p.status === 'failure' && p.error_information) {
    out.error_code = p.error_information.error_code;
    out.error_class = p.error_information.error_class;
  }
  return { ...out, ...routerAttempts(p) };
}

export type MapValue = string | number | boolean | string[] | null;

export function splitModelParameters(params: Record<string, unknown> | undefined): { modelParameters: Record<string, MapValue>; tools: unknown } {
  const safe = safeModelParameters(params);
  const tools = safe.tools ?? safe.functions;
  const modelParameters: Record<string, MapValue> = {};
  for (const [name, value] of Object.entries(safe)) {
    if (name === 'tools' || name === 'functions' || value === undefined) {
      continue;
    }
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      modelParameters[name] = value;
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      modelParameters[name] = value;
    } else {
      modelParameters[name] = JSON.stringify(value);
    }
  }
  return { modelParameters, tools };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}
