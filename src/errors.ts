/**
 * Every error the gateway answers with has a code from this catalogue. Services throw `AppException`;
 * the one global filter turns it into OpenAI's error envelope. Adding a code without a status and an
 * OpenAI `type` fails to compile.
 */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  // LiteLLM's own types, where scripts written for LiteLLM read them.
  | 'budget_exceeded'
  | 'key_model_access_denied'
  | 'team_model_access_denied'
  | 'user_model_access_denied';

export const ERROR_CATALOGUE = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  validation_failed: { status: 400, type: 'invalid_request_error' },
  /** The upstream's content filter refused the prompt (Azure OpenAI's `code: content_filter`), kept so clients can tell. */
  content_filter: { status: 400, type: 'invalid_request_error' },
  unrecognized_field: { status: 400, type: 'invalid_request_error' },
  model_not_found: { status: 400, type: 'invalid_request_error' },
  duplicate_callback: { status: 400, type: 'invalid_request_error' },
  // Refused at the request boundary, before a route sees the request (issue 23).
  json_too_deep: { status: 400, type: 'invalid_request_error' },
  json_too_many_members: { status: 400, type: 'invalid_request_error' },
  repeated_parameter: { status: 400, type: 'invalid_request_error' },
  invalid_content_encoding: { status: 400, type: 'invalid_request_error' },
  duplicate_api_key: { status: 400, type: 'invalid_request_error' },
  malformed_http_request: { status: 400, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'timeout_error' },
  headers_too_large: { status: 431, type: 'invalid_request_error' },
  missing_api_key: { status: 401, type: 'authentication_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  key_expired: { status: 401, type: 'authentication_error' },
  key_blocked: { status: 401, type: 'authentication_error' },
  team_blocked: { status: 401, type: 'authentication_error' },
  forbidden: { status: 403, type: 'permission_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error' },
  /** Over a key's, team's, user's or end user's budget (LiteLLM: 400, type `budget_exceeded`); nothing went upstream. */
  budget_exceeded: { status: 400, type: 'budget_exceeded' },
  /** A model the key (team, user) may not call: LiteLLM answers 401 with these types. */
  key_model_access_denied: { status: 401, type: 'key_model_access_denied' },
  team_model_access_denied: { status: 401, type: 'team_model_access_denied' },
  user_model_access_denied: { status: 401, type: 'user_model_access_denied' },
  conflict: { status: 409, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  upstream_error: { status: 502, type: 'api_error' },
  /** The upstream's answer is not the OpenAI wire format it claims (a broken event stream). */
  upstream_protocol_error: { status: 502, type: 'api_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
  service_unavailable: { status: 503, type: 'api_error' },
  internal_error: { status: 500, type: 'api_error' },
} as const satisfies Record<string, { status: number; type: OpenAiErrorType }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppExceptionOptions {
  /** The request field at fault, e.g. `team_id` or `callback_vars.langfuse_host`. */
  param?: string | null;
  /** Overrides the catalogue status, e.g. to pass an upstream 503 through unchanged. */
  status?: number;
  /** Extra response headers, e.g. `retry-after` from an upstream 429. */
  headers?: Readonly<Record<string, string>>;
}

export class AppException extends Error {
  readonly status: number;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppExceptionOptions = {},
  ) {
    super(message);
    this.name = 'AppException';
    const entry = ERROR_CATALOGUE[code];
    this.status = options.status ?? entry.status;
    this.type = entry.type;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }
}

/** The OpenAI-style body every non-2xx response carries. */
export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: string | null; code: string };
}

export function toErrorBody(error: AppException): OpenAiErrorBody {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}
