/**
 * What kind of failure an upstream answer was, the way LiteLLM's exception mapping sorts them: the router decides
 * from the kind alone whether to retry, which fallbacks apply, and whether the failure counts towards a cooldown.
 */
export type FailureKind =
  /** The prompt does not fit the model: `context_window_fallbacks`. */
  | 'context_window'
  /** The upstream's content filter refused it: `content_policy_fallbacks`. */
  | 'content_policy'
  | 'rate_limit'
  /** A 5xx, or an answer the gateway could not use. */
  | 'server'
  | 'timeout'
  /** The upstream could not be reached at all. */
  | 'connection'
  /** The deployment's own credentials were refused. */
  | 'auth'
  | 'not_found'
  /** The caller's request is at fault: neither retried nor sent to a fallback. */
  | 'caller';

/**
 * The providers' context-window errors: OpenAI and Azure (`context_length_exceeded`, "maximum context length"),
 * Anthropic ("prompt is too long"), Gemini and Vertex ("input token count ... exceeds the maximum number of tokens"),
 * Bedrock ("Input is too long for requested model", "too many input tokens", Claude's "exceed context limit"),
 * Ollama and vLLM ("context length").
 */
const CONTEXT_WINDOW_TEXT = /context[ _]length|context window|prompt is too long|input is too long|exceeds? the maximum number of tokens|too many (input )?tokens|exceeds? (the )?context limit|exceed context limit/i;

/** OpenAI's `content_policy_violation`, Azure's `content_filter` and its "content management policy" message. */
const CONTENT_POLICY_CODES = new Set(['content_filter', 'content_policy_violation']);
const CONTENT_POLICY_TEXT = /content management policy|content_policy_violation|content policy/i;

export function kindOfStatus(status: number, code: string | undefined, message: string | null): FailureKind {
  if (status === 429) return 'rate_limit';
  if (status >= 500) return 'server';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (code === 'context_length_exceeded' || (message !== null && CONTEXT_WINDOW_TEXT.test(message))) return 'context_window';
  if ((code !== undefined && CONTENT_POLICY_CODES.has(code)) || (message !== null && CONTENT_POLICY_TEXT.test(message))) return 'content_policy';
  return 'caller';
}

/**
 * Counts towards `allowed_fails` (LiteLLM's `_is_cooldown_required`): 429, 401, 404, 408 and every 5xx. Other 4xx
 * are the request's fault, and LiteLLM leaves connection errors out too.
 */
export function countsTowardsCooldown(kind: FailureKind): boolean {
  return kind === 'rate_limit' || kind === 'server' || kind === 'timeout' || kind === 'auth' || kind === 'not_found';
}
