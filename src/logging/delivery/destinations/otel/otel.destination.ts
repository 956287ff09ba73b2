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
import type { StandardLoggingPayload } from '../../../standard-logging-payload';
import {
  AgentPool,
  DEFAULT_REQUEST_TIMEOUT_MS,
  httpCall,
  httpFailure,
  httpUrlError,
  isRetryableOtlpStatus,
  mapInSlices,
  networkFailure,
  responseMessage,
  safeModelParameters,
  snippet,
  stableHex,
  type EgressOptions,
  unreachableHealth,
} from '../destination-support';
import { encodeExportRequest, type JsonExportRequest, type JsonSpan } from '../../../../common/otlp-protobuf';
import { jsonOfValue } from '../../event-json';

/** LiteLLM's OpenTelemetry callback_vars. */
export const OTEL_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    otel_endpoint: VarKinds.url,
    otel_headers: VarKinds.secret,
    otel_service_name: VarKinds.plain,
  },
  required: [['otel_endpoint']],
  requiredForNonAdmin: [],
};

export interface OtelSettings {
  /** The OTLP/HTTP base URL as configured. */
  readonly endpoint: string;
  /** Where spans are POSTed: `<endpoint>/v1/traces` unless the endpoint already names the signal path. */
  readonly tracesUrl: string;
  /** Extra headers from `otel_headers` (usually authentication); secret. */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** Resource attributes a variant adds (Phoenix's project, Arize's model id). */
  readonly resourceAttributes?: Readonly<Record<string, string>>;
}

export interface OtelDestinationOptions {
  requestTimeoutMs?: number;
  egress?: EgressOptions;
  /** Reported as the instrumentation scope version. */
  version?: string;
  /** The destination kind a variant reports as (`arize`, `arize_phoenix`, `langfuse_otel`); `otel` by default. */
  kind?: string;
  /** Span attributes a variant adds to the GenAI ones (OpenInference for Arize and Phoenix). */
  extraSpanAttributes?: (item: DeliveryItem) => Record<string, AttributeInput>;
  /** OTLP/HTTP body encoding: `json` (the `otel` destination) or `protobuf` (what Phoenix requires). */
  encoding?: 'json' | 'protobuf';
}

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } };

interface KeyValue {
  key: string;
  value: AnyValue;
}

const SPAN_KIND_CLIENT = 3;
const STATUS_CODE_ERROR = 2;

// Headers the exporter owns; letting configuration override them would corrupt the request.
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * OTLP/HTTP JSON exporter, one span per event, GenAI semantic conventions. Hand-built on undici rather than the
 * OpenTelemetry SDK: the SDK's BatchSpanProcessor would add a second queue that drops silently and hides whether
 * a given export was accepted, and the delivery layer already batches and retries.
 */
export class OtelDestination implements LogDestination<OtelSettings> {
  readonly kind: string;
  private readonly agents: AgentPool;
  private readonly requestTimeoutMs: number;
  private readonly version: string;
  private readonly mapSpan: (item: DeliveryItem) => unknown;
  private readonly protobuf: boolean;

  constructor(options: OtelDestinationOptions = {}) {
    this.kind = options.kind ?? 'otel';
    this.agents = new AgentPool(options.egress);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.version = options.version ?? '0.1.0';
    const extra = options.extraSpanAttributes;
    this.mapSpan = extra ? (item) => toSpan(item, extra(item)) : toSpan;
    this.protobuf = options.encoding === 'protobuf';
  }

  parseSettings(vars: Readonly<Record<string, string>>): { settings: OtelSettings } | { errors: SettingsErrors } {
    const errors = checkVarNames('otel', OTEL_VARS, vars);
    const endpoint = (vars.otel_endpoint ?? '').trim().replace(/\/+$/, '');
    if (endpoint !== '') {
      const urlError = httpUrlError('otel_endpoint', endpoint);
      if (urlError) {
        errors.push(urlError);
      }
    }
    const headers = parseOtelHeaders(vars.otel_headers ?? '');
    if ('error' in headers) {
      errors.push({ field: 'otel_headers', message: headers.error });
    }
    if (errors.length > 0 || 'error' in headers) {
      return { errors };
    }
    const tracesUrl = /\/v1\/traces$/.test(endpoint) ? endpoint : `${endpoint}/v1/traces`;
    const serviceName = vars.otel_service_name?.trim() || 'gatehouse';
    return { settings: { endpoint, tracesUrl, headers: headers.headers, serviceName } };
  }

  async send(items: readonly DeliveryItem[], settings: OtelSettings): Promise<DeliveryResult> {
    if (items.length === 0) {
      return { ok: true };
    }
    const request = this.exportRequest(await mapInSlices(items, this.mapSpan), settings);
    const body = this.protobuf ? encodeExportRequest(request) : JSON.stringify(request);
    let response;
    try {
      response = await httpCall(this.agents, {
        method: 'POST',
        url: settings.tracesUrl,
        headers: this.requestHeaders(settings),
        body,
        timeoutMs: this.requestTimeoutMs,
      });
    } catch (err) {
      return networkFailure(err, settings.endpoint);
    }
    if (response.status < 200 || response.status >= 300) {
      const retryable = isRetryableOtlpStatus(response.status);
      return httpFailure(response.status, `OTLP endpoint ${settings.endpoint}`, retryable, response.headers['retry-after'], snippet(response.text));
    }
    const rejected = partialSuccessOf(response.text);
    if (rejected) {
      // The spec forbids retrying a partial success, and it does not say which spans were refused.
      return {
        ok: false,
        retryable: false,
        error: `OTLP endpoint ${settings.endpoint} rejected ${rejected.count} of ${items.length} spans${rejected.message ? `: ${snippet(rejected.message)}` : ''}`,
      };
    }
    return { ok: true };
  }

  async checkHealth(settings: OtelSettings): Promise<HealthResult> {
    try {
      // An export with no spans is a valid request that stores nothing.
      const response = await httpCall(this.agents, {
        method: 'POST',
        url: settings.tracesUrl,
        headers: this.requestHeaders(settings),
        body: this.protobuf ? Buffer.alloc(0) : '{"resourceSpans":[]}',
        timeoutMs: this.requestTimeoutMs,
      });
      if (response.status >= 200 && response.status < 300) {
        return { healthy: true, details: `OTLP endpoint ${settings.endpoint} accepted an empty export` };
      }
      return { healthy: false, details: `OTLP endpoint ${settings.endpoint} answered HTTP ${response.status}` };
    } catch (err) {
      return unreachableHealth(err, settings.endpoint);
    }
  }

  async close(): Promise<void> {
    await this.agents.close();
  }

  private requestHeaders(settings: OtelSettings): Record<string, string> {
    const contentType = this.protobuf ? 'application/x-protobuf' : 'application/json';
    return { ...settings.headers, 'content-type': contentType, 'user-agent': `gatehouse-otlp/${this.version}` };
  }

  private exportRequest(spans: readonly unknown[], settings: OtelSettings): JsonExportRequest {
    return {
      resourceSpans: [
        {
          resource: {
            attributes: attributes({
              'service.name': settings.serviceName,
              'telemetry.sdk.name': 'gatehouse',
              'telemetry.sdk.language': 'nodejs',
              'telemetry.sdk.version': this.version,
              ...settings.resourceAttributes,
            }),
          },
          scopeSpans: [{ scope: { name: 'gatehouse', version: this.version }, spans: spans as JsonSpan[] }],
        },
      ],
    };
  }
}

/** One span per event; ids derive from the event id so a redelivered span has the same identity. */
export function toSpan(item: DeliveryItem, extra?: Record<string, AttributeInput>): unknown {
  const p = item.payload;
  const operation = p.call_type === 'aembedding' ? 'embeddings' : p.call_type === 'atext_completion' ? 'text_completion' : 'chat';
  const failed = p.status === 'failure';
  const params = safeModelParameters(p.model_parameters);
  const response = p.response as { model?: unknown; choices?: { finish_reason?: unknown }[] } | null;
  const finishReasons = Array.isArray(response?.choices)
    ? response.choices.map((c) => c?.finish_reason).filter((r): r is string => typeof r === 'string')
    : [];
  const output = failed ? undefined : responseMessage(p.response);
  const m = p.metadata;
  return {
    traceId: stableHex(['gatehouse.otel.trace', item.eventId], 32),
    spanId: stableHex(['gatehouse.otel.span', item.eventId], 16),
    name: p.model ? `${operation} ${p.model}` : 'litellm_request',
    kind: SPAN_KIND_CLIENT,
    startTimeUnixNano: unixNanos(p.startTime),
    endTimeUnixNano: unixNanos(p.endTime),
    attributes: attributes({
      'gen_ai.operation.name': operation,
      'gen_ai.system': p.custom_llm_provider,
      'gen_ai.provider.name': p.custom_llm_provider,
      'gen_ai.request.model': p.model,
      'gen_ai.response.model': typeof response?.model === 'string' ? response.model : p.model,
      'gen_ai.response.id': p.id,
      'gen_ai.response.finish_reasons': finishReasons.length > 0 ? finishReasons : undefined,
      'gen_ai.usage.input_tokens': integer(p.prompt_tokens),
      'gen_ai.usage.output_tokens': integer(p.completion_tokens),
      'gen_ai.request.temperature': numberOrUndefined(params.temperature),
      'gen_ai.request.top_p': numberOrUndefined(params.top_p),
      'gen_ai.request.max_tokens': integer(params.max_tokens ?? params.max_completion_tokens),
      'gen_ai.request.frequency_penalty': numberOrUndefined(params.frequency_penalty),
      'gen_ai.request.presence_penalty': numberOrUndefined(params.presence_penalty),
      'gen_ai.request.seed': integer(params.seed),
      'gen_ai.request.choice.count': integer(params.n),
      'gen_ai.request.stop_sequences': stopSequences(params.stop),
      'gen_ai.input.messages': jsonString(p.messages),
      'gen_ai.output.messages': output === undefined || output === null ? undefined : jsonArrayOf(output),
      'error.type': failed ? (p.error_information?.error_class ?? 'error') : undefined,
      'gatehouse.call_id': p.litellm_call_id,
      'gatehouse.trace_id': p.trace_id,
      'gatehouse.team_id': m?.team_id ?? m?.user_api_key_team_id ?? undefined,
      'gatehouse.team_alias': m?.team_alias ?? m?.user_api_key_team_alias ?? undefined,
      'gatehouse.key_alias': m?.user_api_key_alias ?? undefined,
      'gatehouse.key_hash': m?.user_api_key_hash ?? undefined,
      'gatehouse.model_group': p.model_group,
      'gatehouse.model_id': p.model_id ?? undefined,
      'gatehouse.attempted_retries': integer(m?.attempted_retries),
      'gatehouse.attempted_fallbacks': integer(m?.attempted_fallbacks),
      'gatehouse.failed_attempts': m?.failed_attempts === undefined ? undefined : jsonString(m.failed_attempts),
      'gatehouse.api_base': p.api_base ?? undefined,
      'gatehouse.cost_usd': { double: p.response_cost ?? 0 },
      'gatehouse.cache_hit': p.cache_hit,
      'gatehouse.stream': p.stream,
      'gatehouse.end_user': p.end_user ?? undefined,
      'gatehouse.request_tags': p.request_tags?.length ? p.request_tags : undefined,
      'gatehouse.error_code': failed ? (p.error_information?.error_code ?? undefined) : undefined,
      ...extra,
    }),
    status: failed ? { code: STATUS_CODE_ERROR, message: p.error_str ?? 'failed' } : {},
  };
}

export type AttributeInput = string | number | boolean | string[] | { int: number } | { double: number } | undefined | null;

export function attributes(values: Record<string, AttributeInput>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, value] of Object.entries(values)) {
    const encoded = encode(value);
    if (encoded) {
      out.push({ key, value: encoded });
    }
  }
  return out;
}

function encode(value: AttributeInput): AnyValue | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value === 'string') {
    return { stringValue: value };
  }
  if (typeof value === 'boolean') {
    return { boolValue: value };
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { doubleValue: value } : undefined;
  }
  if (Array.isArray(value)) {
    return { arrayValue: { values: value.map((v) => ({ stringValue: v })) } };
  }
  if ('int' in value) {
    // OTLP/JSON encodes int64 as a decimal string.
    return { intValue: String(Math.trunc(value.int)) };
  }
  return Number.isFinite(value.double) ? { doubleValue: value.double } : undefined;
}

export function integer(value: unknown): { int: number } | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? { int: value } : undefined;
}

function numberOrUndefined(value: unknown): { double: number } | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? { double: value } : undefined;
}

function stopSequences(value: unknown): string[] | undefined {
  if (typeof value === 'string') {
    return [value];
  }
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
}

/** The value's JSON, kept with the event for its other destinations (event-json.ts); undefined if it has none. */
export function jsonString(value: unknown): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  try {
    return jsonOfValue(value);
  } catch {
    return undefined;
  }
}

/** `jsonString([value])`, reusing the value's kept JSON. */
function jsonArrayOf(value: unknown): string | undefined {
  const text = jsonString(value);
  return text === undefined ? undefined : `[${text}]`;
}

/** Epoch seconds (float) to a decimal nanosecond string without losing precision past 2^53. */
export function unixNanos(seconds: StandardLoggingPayload['startTime']): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    return '0';
  }
  const whole = Math.floor(seconds);
  const micros = Math.round((seconds - whole) * 1e6);
  return (BigInt(whole) * 1_000_000_000n + BigInt(micros) * 1_000n).toString();
}

/** `k=v,k2=v2` (OTEL_EXPORTER_OTLP_HEADERS format, values percent-decoded). Errors never echo values. */
export function parseOtelHeaders(text: string): { headers: Record<string, string> } | { error: string } {
  const headers: Record<string, string> = {};
  if (text.trim() === '') {
    return { headers };
  }
  for (const [index, pair] of text.split(',').entries()) {
    if (pair.trim() === '') {
      continue;
    }
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      return { error: `otel_headers entry ${index + 1} must look like name=value` };
    }
    const name = pair.slice(0, eq).trim();
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return { error: `otel_headers entry ${index + 1} (${headerNameForError(name)}) has an invalid percent-encoding` };
    }
    if (!HEADER_NAME.test(name)) {
      return { error: `otel_headers entry ${index + 1} has an invalid header name` };
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      return { error: `otel_headers must not set ${name.toLowerCase()}` };
    }
    if (/[\r\n\0]/.test(value)) {
      return { error: `otel_headers value of ${name} contains a control character` };
    }
    headers[name.toLowerCase()] = value;
  }
  return { headers };
}

function headerNameForError(name: string): string {
  return HEADER_NAME.test(name) ? name : 'invalid name';
}

function partialSuccessOf(text: string): { count: number; message: string } | null {
  try {
    const parsed = JSON.parse(text) as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: unknown } };
    const count = Number(parsed.partialSuccess?.rejectedSpans ?? 0);
    if (Number.isFinite(count) && count > 0) {
      const message = parsed.partialSuccess?.errorMessage;
      return { count, message: typeof message === 'string' ? message : '' };
    }
  } catch {
    // A non-JSON 2xx body is still an acceptance.
  }
  return null;
}
