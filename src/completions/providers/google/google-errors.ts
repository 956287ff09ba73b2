import type { ErrorReading, FailedAnswer } from '../provider';

/**
 * Google's error answer: `{"error": {"code", "message", "status", "details"}}` (an array of those from a stream
 * that was not asked for SSE). The status code is kept — 429 RESOURCE_EXHAUSTED is a rate limit, 503 UNAVAILABLE
 * is retried on the next deployment — except that an invalid API key, which Google answers with 400, is the
 * deployment's credential being refused (401), not the caller's request.
 */
export function readGoogleError(answer: FailedAnswer): ErrorReading {
  const error = errorObject(answer.body);
  if (error === null) return {};
  const message = typeof error.message === 'string' ? error.message : null;
  const status = typeof error.status === 'string' ? error.status : null;
  const text = message === null ? status : status === null ? message : `${status}: ${message}`;
  return { status: isInvalidKey(error) ? 401 : undefined, message: text };
}

function errorObject(body: string): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const first: unknown = Array.isArray(parsed) ? parsed[0] : parsed;
  const error = (first as Record<string, unknown> | null)?.error;
  return error !== null && typeof error === 'object' ? (error as Record<string, unknown>) : null;
}

function isInvalidKey(error: Record<string, unknown>): boolean {
  const details = error.details;
  return (
    Array.isArray(details) &&
    details.some((detail) => (detail as Record<string, unknown> | null)?.reason === 'API_KEY_INVALID')
  );
}
