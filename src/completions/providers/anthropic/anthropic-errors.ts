import type { ErrorReading, FailedAnswer } from '../provider';
import { errorText } from './messages-stream';

/**
 * Anthropic's error answer: `{"type": "error", "error": {"type", "message"}, "request_id"}`. The message is read as
 * `type: message`; the status is kept (429 rate_limit_error, 400, 401/403 — the deployment's key refused —, 404, 500)
 * except for 529 `overloaded_error`, answered as 503: OpenAI clients retry any 5xx, but 529 is Anthropic's own code,
 * which proxies and HTTP libraries may not know as a server error, while 503 Service Unavailable says what it is —
 * try again shortly — and the gateway retries it on the deployment's retries and the group's next deployment.
 */
export function readAnthropicError(answer: FailedAnswer): ErrorReading {
  const error = errorObject(answer.body);
  const overloaded = answer.status === 529 || error?.type === 'overloaded_error';
  return { status: overloaded ? 503 : undefined, message: error === null ? null : errorText(error) };
}

function errorObject(body: string): Record<string, unknown> | null {
  if (!body.trimStart().startsWith('{')) return null;
  try {
    const error = (JSON.parse(body) as Record<string, unknown> | null)?.error;
    return error !== null && typeof error === 'object' && !Array.isArray(error) ? (error as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
