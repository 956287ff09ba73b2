import type { SecretRedactor } from '../common/secret-redactor';
import { AppException } from '../errors';
import { UpstreamErrorEvent, UpstreamProtocolError } from './providers/provider';
import { kindOfStatus, type FailureKind } from './router/failure-kind';
import { MAX_EVENT_CHARS, type StreamFault } from './sse-relay';

/**
 * Turns what an upstream did wrong into the gateway's OpenAI-shaped errors. `retryable` means another attempt
 * (same deployment's retries, then the group's next deployment) may succeed: connection failures and 5xx.
 */
export interface UpstreamFailure {
  readonly exception: AppException;
  readonly retryable: boolean;
  /** How the router treats it (router/failure-kind.ts); absent: `server` when retryable, else `caller`. */
  readonly kind?: FailureKind;
}

const MAX_MESSAGE_LENGTH = 2000;
const SNIPPET_LENGTH = 200;

export function failureFromStatus(params: {
  status: number;
  retryAfter: string | undefined;
  contentType: string | undefined;
  body: string;
  /** The message as the provider's own reading of the body found it (see ProviderDeployment.readError). */
  message?: string | null;
  provider: string;
  /** The upstream's text may quote a credential (OpenAI's 401 does): it is redacted before it goes anywhere. */
  redactor: SecretRedactor;
}): UpstreamFailure {
  const { status, provider, redactor } = params;
  const parsed = parseErrorBody(params.body);
  const raw = params.message ?? parsed.message ?? nonJsonSnippet(params.body, params.contentType);
  const detail = raw === null ? null : redactor.redact(raw);
  const param = parsed.param === null ? null : redactor.redact(parsed.param);
  const message = clip(
    detail ? `${provider} upstream error (HTTP ${status}): ${detail}` : `${provider} upstream returned HTTP ${status}`,
  );
  const kind = kindOfStatus(status, parsed.code, raw);

  if (status === 429) {
    const headers = params.retryAfter ? { 'retry-after': params.retryAfter } : undefined;
    return { exception: new AppException('rate_limited', message, { status: 429, headers }), retryable: false, kind };
  }
  if (status >= 500) {
    return { exception: new AppException('upstream_error', message, { status }), retryable: true, kind };
  }
  if (status === 401 || status === 403) {
    // The caller's own key was fine; the deployment's credentials were not. A 401 would send the caller
    // chasing its virtual key, so this is a gateway-side (502) failure.
    return {
      exception: new AppException('upstream_error', `${message} (the deployment's upstream credentials were rejected)`),
      retryable: false,
      kind,
    };
  }
  if (status === 408) {
    return { exception: new AppException('upstream_timeout', message), retryable: false, kind };
  }
  if (status === 413) {
    return { exception: new AppException('payload_too_large', message), retryable: false, kind };
  }
  if (status === 400 && parsed.code === 'content_filter') {
    return { exception: new AppException('content_filter', message, { param }), retryable: false, kind };
  }
  if (status === 400 || status === 422) {
    return {
      exception: new AppException('validation_failed', message, { status, param }),
      retryable: false,
      kind,
    };
  }
  return { exception: new AppException('upstream_error', message, { status }), retryable: false, kind };
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

export function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') {
    return undefined;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    return code;
  }
  // Happy-eyeballs connects fail with an AggregateError whose members carry the code.
  const inner = (error as { errors?: unknown }).errors;
  return Array.isArray(inner) && inner.length > 0 ? errorCode(inner[0]) : undefined;
}

export function isAbortError(error: unknown): boolean {
  return errorCode(error) === 'UND_ERR_ABORTED' || (error instanceof Error && error.name === 'AbortError');
}

export function failureFromTransport(params: { error: unknown; provider: string; timeoutMs: number }): UpstreamFailure {
  const code = errorCode(params.error) ?? 'unknown';
  if (TIMEOUT_CODES.has(code)) {
    return {
      exception: new AppException(
        'upstream_timeout',
        `${params.provider} upstream did not answer within ${params.timeoutMs / 1000}s`,
      ),
      retryable: false,
      kind: 'timeout',
    };
  }
  const retryable = CONNECTION_CODES.has(code);
  // The message names the failure class only: transport errors can carry the upstream URL.
  const message = retryable
    ? `Could not reach the ${params.provider} upstream (${code})`
    : `The ${params.provider} upstream call failed (${code})`;
  return { exception: new AppException('upstream_error', message), retryable, kind: retryable ? 'connection' : 'server' };
}

/** Error for a stream the upstream broke after the gateway had started answering. */
export function midStreamFailure(error: unknown, provider: string, timeoutMs: number): AppException {
  const code = errorCode(error);
  if (code && TIMEOUT_CODES.has(code)) {
    return new AppException('upstream_timeout', `${provider} upstream stalled for more than ${timeoutMs / 1000}s mid-stream`);
  }
  return new AppException('upstream_error', `The ${provider} upstream closed the stream early (${code ?? 'unknown'})`);
}

/**
 * The error of a stream the relay stopped (see StreamFault): the upstream's own error event, its message
 * redacted, or the protocol violation. Either way the stream ends with this error and the call is a failure.
 */
export function streamFaultFailure(fault: StreamFault, provider: string, redactor: SecretRedactor): AppException {
  if (fault.kind === 'malformed') {
    // The event itself is not quoted: it could hold anything, a credential included.
    return new AppException('upstream_protocol_error', `The ${provider} upstream sent a stream event that is not a JSON object`);
  }
  if (fault.kind === 'oversized') {
    return new AppException('upstream_protocol_error', `The ${provider} upstream sent a stream event that never ended (over ${MAX_EVENT_CHARS} characters)`);
  }
  const raw = parseErrorBody(fault.data).message;
  const detail = raw === null ? 'no message' : redactor.redact(raw);
  return new AppException('upstream_error', clip(`${provider} upstream error in the stream: ${detail}`));
}

/** A streamed 2xx in another format than the provider streams in: nothing was sent yet, so another deployment may still answer. */
export function notAStream(provider: string, contentType: string, expected: readonly string[]): UpstreamFailure {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  const shown = /^[a-z0-9.+-]{1,64}\/[a-z0-9.+-]{1,64}$/.test(mediaType) ? mediaType : 'another content type';
  return {
    exception: new AppException('upstream_protocol_error', `The ${provider} upstream answered a streaming request with ${shown}, not ${expected.join(' or ')}`),
    retryable: true,
  };
}

/**
 * What a provider's translation threw: the provider's own error event (its message redacted) or an answer that is
 * not in the provider's format. The format error's text is the gateway's own (it never quotes the upstream's bytes).
 */
export function translationFailure(error: unknown, provider: string, redactor: SecretRedactor): AppException {
  if (error instanceof UpstreamErrorEvent) {
    return new AppException('upstream_error', clip(`${provider} upstream error in the stream: ${redactor.redact(error.message)}`));
  }
  const reason = error instanceof UpstreamProtocolError ? error.message : 'its answer could not be read';
  return new AppException('upstream_protocol_error', clip(`The ${provider} upstream answered in an unexpected format: ${reason}`));
}

/** The deployment could not even build its request (an Entra ID or OAuth token refused, say): the next deployment may. */
export function requestFailure(error: unknown, provider: string, redactor: SecretRedactor): UpstreamFailure {
  // The provider cannot express this request (an image URL where it takes data only, say): the caller's 4xx, unless
  // another deployment of the group can.
  if (error instanceof AppException) {
    return { exception: error, retryable: true };
  }
  const reason = error instanceof Error ? error.message : String(error);
  return {
    exception: new AppException('upstream_error', clip(`The ${provider} upstream call could not be prepared: ${redactor.redact(reason)}`)),
    retryable: true,
  };
}

function parseErrorBody(body: string): { message: string | null; param: string | null; code?: string } {
  const first = body.trimStart().charCodeAt(0);
  if (first !== 123 /* { */) {
    return { message: null, param: null };
  }
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const error = parsed.error;
    if (typeof error === 'string') {
      return { message: error, param: null };
    }
    if (error !== null && typeof error === 'object') {
      const e = error as Record<string, unknown>;
      return {
        message: typeof e.message === 'string' ? e.message : null,
        param: typeof e.param === 'string' ? e.param : null,
        code: typeof e.code === 'string' ? e.code : undefined,
      };
    }
    if (typeof parsed.message === 'string') {
      return { message: parsed.message, param: null };
    }
    if (typeof parsed.detail === 'string') {
      return { message: parsed.detail, param: null };
    }
  } catch {
    // Not JSON after all: handled as text below.
  }
  return { message: null, param: null };
}

/** Plain-text bodies are short and useful; HTML error pages are neither, so only their status is kept. */
function nonJsonSnippet(body: string, contentType: string | undefined): string | null {
  if (body === '' || (contentType !== undefined && contentType.includes('html')) || /^\s*</.test(body)) {
    return null;
  }
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > SNIPPET_LENGTH ? `${text.slice(0, SNIPPET_LENGTH)}…` : text;
}

function clip(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
}
