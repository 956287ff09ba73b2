import type { AppException } from '../../errors';

/** The routes that answer in Anthropic's format, errors included. */
export const MESSAGES_ROUTES: ReadonlySet<string> = new Set(['/v1/messages', '/messages', '/v1/messages/count_tokens', '/messages/count_tokens']);

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** A status as Anthropic's error type (the names its SDKs and Claude Code know). */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** Anthropic's error envelope: `{"type": "error", "error": {"type", "message"}}`; `message` when it was redacted. */
export function toAnthropicErrorBody(error: AppException, message = error.message): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorType(error.status), message } };
}
