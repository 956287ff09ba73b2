/**
 * The ONE normalized log event, built by the completions module for every LLM call and handed to the
 * logging module after the response is sent. Field names follow LiteLLM's `StandardLoggingPayload`
 * (snake_case, with LiteLLM's camelCase times) so destinations and LiteLLM users' tooling map it directly.
 *
 * Secrets never enter it: no raw virtual key, no upstream api_key, no callback credentials, no key/team
 * metadata beyond the allow-listed fields below.
 */
export interface StandardLoggingPayload {
  /** Upstream response id when there is one, else the call id. */
  id: string;
  /** Groups retries of one logical call; `metadata.trace_id` from the request wins. */
  trace_id: string;
  /** Unique per request; also returned as the `x-litellm-call-id` response header. */
  litellm_call_id: string;
  call_type: 'acompletion' | 'aembedding' | 'atext_completion' | 'aresponses';
  stream: boolean;
  status: 'success' | 'failure';
  /** `openai`, `mock`, ... */
  custom_llm_provider: string;
  /** The upstream model name (without provider prefix). */
  model: string;
  /** The `model_name` the caller asked for. */
  model_group: string;
  /** Deployment id within the model group. */
  model_id: string | null;
  /** Upstream base URL without trailing slash; never carries credentials. */
  api_base: string | null;
  /** USD, 0 when the deployment has no `model_info` prices. */
  response_cost: number;
  cost_breakdown: { input_cost: number; output_cost: number; total_cost: number };
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Epoch seconds (float). */
  startTime: number;
  endTime: number;
  /** Time of the first token (streams) or of the response (non-streams). */
  completionStartTime: number;
  /** Seconds between start and end. */
  response_time: number;
  metadata: StandardLoggingMetadata;
  cache_hit: boolean;
  cache_key: string | null;
  request_tags: string[];
  /** `user` from the request body. */
  end_user: string | null;
  requester_ip_address: string | null;
  user_agent: string | null;
  /** Request `messages` (chat) or `input` (embeddings). */
  messages: unknown;
  /** The response object; for streams the assembled message (content + tool calls). Null on failure. */
  response: unknown;
  /** Request parameters other than model/messages/stream (temperature, max_tokens, user, tools, ...). */
  model_parameters: Record<string, unknown>;
  error_str: string | null;
  error_information: ErrorInformation | null;
  hidden_params: { model_id: string | null; api_base: string | null; response_cost: number; litellm_overhead_time_ms: number | null };
}

export interface StandardLoggingMetadata {
  user_api_key_hash: string | null;
  user_api_key_alias: string | null;
  user_api_key_team_id: string | null;
  user_api_key_team_alias: string | null;
  user_api_key_end_user_id: string | null;
  user_api_key_request_route: string | null;
  /** The client's own `metadata` object from the request body (`trace_id`, `session_id`, `tags`, ...). */
  requester_metadata: Record<string, unknown>;
  team_id: string | null;
  team_alias: string | null;
  /** Set only when the router needed more than one attempt (LiteLLM's names for the two counts). */
  attempted_retries?: number;
  attempted_fallbacks?: number;
  /** The attempts that failed before the answer (or before the final failure), oldest first. */
  failed_attempts?: FailedAttemptInformation[];
}

/** One failed attempt of a call, as its log event lists it. */
export interface FailedAttemptInformation {
  model_group: string;
  model_id: string;
  /** The upstream model name. */
  model: string;
  custom_llm_provider: string;
  api_base: string | null;
  /** LiteLLM's exception class (`RateLimitError`, `ContextWindowExceededError`, `InternalServerError`, ...). */
  error_class: string;
  /** The HTTP status the attempt's error maps to, as a string. */
  error_code: string;
  duration_ms: number;
}

export interface ErrorInformation {
  /** HTTP status as a string (`"500"`, `"429"`), or a gateway code such as `client_disconnected`. */
  error_code: string;
  error_class: string;
  llm_provider: string;
  error_message: string;
}
