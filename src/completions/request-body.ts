import { AppException } from '../errors';
import { ROUTER_BODY_FIELDS } from './router/request-routing';

/**
 * Hand-written checks for the few fields the gateway reads. The body stays the plain object the JSON
 * parser produced: no DTO, no copy, so unknown OpenAI parameters reach the upstream unchanged.
 */
export type RequestBody = Record<string, unknown>;

export function asRequestBody(value: unknown): RequestBody {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppException('validation_failed', 'The request body must be a JSON object', { param: null });
  }
  return value as RequestBody;
}

export function requireModel(body: RequestBody): string {
  const model = body.model;
  if (typeof model !== 'string' || model === '') {
    throw new AppException('validation_failed', '`model` is required and must be a non-empty string', { param: 'model' });
  }
  return model;
}

export function requireMessages(body: RequestBody): unknown[] {
  const messages = body.messages;
  if (!Array.isArray(messages)) {
    throw new AppException('validation_failed', '`messages` is required and must be an array', { param: 'messages' });
  }
  return messages;
}

export function requireEmbeddingInput(body: RequestBody): void {
  const input = body.input;
  if (typeof input !== 'string' && !Array.isArray(input)) {
    throw new AppException('validation_failed', '`input` is required and must be a string or an array', {
      param: 'input',
    });
  }
}

/** `stream` must be a boolean when present; anything else is a client bug worth reporting, not guessing. */
export function readStreamFlag(body: RequestBody): boolean {
  const stream = body.stream;
  if (stream === undefined || stream === null || stream === false) {
    return false;
  }
  if (stream === true) {
    return true;
  }
  throw new AppException('validation_failed', '`stream` must be a boolean', { param: 'stream' });
}

export function callerWantsUsageChunk(body: RequestBody): boolean {
  const options = body.stream_options;
  return (
    options !== null &&
    typeof options === 'object' &&
    (options as Record<string, unknown>).include_usage === true
  );
}

/**
 * Body fields that would let a caller redirect the upstream call, borrow credentials or reroute logs
 * (security notes B10; LiteLLM #26996 was the nested variant). Rejected rather than silently stripped, so
 * a client relying on them learns it at once.
 */
const FORBIDDEN_KEYS = new Set([
  'api_base',
  'base_url',
  'api_key',
  'api_version',
  'organization',
  'callbacks',
  'success_callback',
  'failure_callback',
  'service_callback',
  'callback_vars',
  'logging',
  'turn_off_message_logging',
]);
const FORBIDDEN_PREFIXES = ['langfuse_', 'gcs_', 'otel_', 'otlp_', 'langsmith_'];

function isForbiddenKey(key: string): boolean {
  if (FORBIDDEN_KEYS.has(key)) {
    return true;
  }
  for (const prefix of FORBIDDEN_PREFIXES) {
    if (key.startsWith(prefix)) {
      return true;
    }
  }
  return false;
}

/** Checks top-level keys and the keys of top-level objects (`metadata`, `extra_body`, ...): one level down. */
export function rejectCallerOverrides(body: RequestBody): void {
  for (const key in body) {
    if (isForbiddenKey(key)) {
      throw forbiddenField(key);
    }
    const value = body[key];
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && key !== 'logit_bias') {
      for (const inner in value as Record<string, unknown>) {
        if (isForbiddenKey(inner)) {
          throw forbiddenField(`${key}.${inner}`);
        }
      }
    }
  }
}

function forbiddenField(param: string): AppException {
  return new AppException(
    'validation_failed',
    `\`${param}\` cannot be set by the caller: upstream endpoints, credentials and logging come from the gateway's configuration`,
    { param },
  );
}

/**
 * Gateway-only fields that never reach the upstream: LiteLLM consumes them itself too (`cache` holds the
 * request's cache controls, which an OpenAI upstream would reject as an unknown parameter).
 */
export const GATEWAY_ONLY_FIELDS: ReadonlySet<string> = new Set(['metadata', 'no-log', 'cache', ...ROUTER_BODY_FIELDS]);

/**
 * The upstream body: a shallow copy with the deployment's model name, without gateway-only fields, and with
 * usage requested on streams (the caller's other `stream_options` are kept).
 */
export function upstreamBody(body: RequestBody, upstreamModel: string, stream: boolean): string {
  const out: Record<string, unknown> = {};
  for (const key in body) {
    if (!GATEWAY_ONLY_FIELDS.has(key)) {
      out[key] = body[key];
    }
  }
  out.model = upstreamModel;
  if (stream) {
    const options = body.stream_options;
    out.stream_options =
      options !== null && typeof options === 'object' && !Array.isArray(options)
        ? { ...(options as Record<string, unknown>), include_usage: true }
        : { include_usage: true };
  }
  return JSON.stringify(out);
}

const NOT_MODEL_PARAMETERS = new Set(['model', 'messages', 'input', 'stream', 'metadata', 'no-log']);

export function modelParameters(body: RequestBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in body) {
    if (!NOT_MODEL_PARAMETERS.has(key)) {
      out[key] = body[key];
    }
  }
  return out;
}

/** The client's own metadata, minus `user_api_key*` keys a client could use to impersonate gateway fields. */
export function requesterMetadata(body: RequestBody | null): Record<string, unknown> {
  const metadata = body?.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const key in metadata as Record<string, unknown>) {
    if (!key.startsWith('user_api_key')) {
      out[key] = (metadata as Record<string, unknown>)[key];
    }
  }
  return out;
}

export function requestTags(metadata: Record<string, unknown>): string[] {
  const tags = metadata.tags;
  return Array.isArray(tags) && tags.every((tag) => typeof tag === 'string') ? tags : [];
}
