import type { ErrorReading, FailedAnswer } from '../provider';

/**
 * Bedrock's error types (the `x-amzn-errortype` header, else the body's `__type`) as the status the caller should
 * see. Throttling and quota are rate limits; a model that is loading, overloaded or slow is worth another
 * attempt (5xx, so the router retries); the rest keep AWS's own status (403 → the gateway's "credentials
 * rejected", 404, 400).
 */
const STATUS_BY_TYPE: Readonly<Record<string, number>> = {
  ThrottlingException: 429,
  ServiceQuotaExceededException: 429,
  ValidationException: 400,
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  ExpiredTokenException: 403,
  ModelNotReadyException: 503,
  ServiceUnavailableException: 503,
  InternalServerException: 500,
  ModelErrorException: 502,
  ModelTimeoutException: 504,
};

export function readBedrockError(answer: FailedAnswer): ErrorReading {
  const type = errorType(answer);
  const status = type === null ? undefined : STATUS_BY_TYPE[type];
  const message = errorMessage(answer.body);
  return {
    status,
    message: message === null ? (type ?? null) : type === null ? message : `${type}: ${message}`,
  };
}

/** `ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/` → `ThrottlingException`. */
function errorType(answer: FailedAnswer): string | null {
  const header = answer.headers['x-amzn-errortype'];
  const raw = (Array.isArray(header) ? header[0] : header) ?? bodyType(answer.body);
  if (raw === undefined) return null;
  const name = raw.split(':')[0].split('#').pop() ?? '';
  return /^[A-Za-z]{1,64}$/.test(name) ? name : null;
}

function bodyType(body: string): string | undefined {
  const parsed = parse(body);
  return typeof parsed?.__type === 'string' ? parsed.__type : undefined;
}

/**
 * The body's `message` (or `Message`), first paragraph only: AWS's InvalidSignatureException goes on with the
 * canonical request it expected, whose signed headers include the session token.
 */
function errorMessage(body: string): string | null {
  const parsed = parse(body);
  const message = parsed?.message ?? parsed?.Message;
  if (typeof message !== 'string' || message.trim() === '') return null;
  return message.split(/\r?\n\s*\r?\n/)[0].trim();
}

function parse(body: string): Record<string, unknown> | null {
  if (!body.trimStart().startsWith('{')) return null;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
