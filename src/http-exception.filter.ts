import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { QueryFailedError } from 'typeorm';
import { unsupportedMediaType } from './common/json-body';
import type { JsonLimits } from './common/json-limits';
import { parseLenientJson } from './common/lenient-json';
import type { RequestWithId } from './common/request-context';
import { SecretRedactor } from './common/secret-redactor';
import { MESSAGES_ROUTES, toAnthropicErrorBody } from './completions/messages-api/anthropic-error-body';
import { AppException, toErrorBody } from './errors';

/**
 * The one place errors become HTTP: every non-2xx body is OpenAI's `{"error": {...}}`, except on Anthropic's Messages
 * route, whose clients read Anthropic's `{"type": "error", "error": {...}}`.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(@Inject(SecretRedactor) private readonly redactor: SecretRedactor) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    renderError(exception, http.getRequest<Request & RequestWithId>(), http.getResponse<Response>(), this.logger, this.redactor);
  }
}

/**
 * Errors raised by express middleware (the body parser, the query check) before Nest's pipeline: same
 * rendering. A body that failed strict JSON parsing gets one lenient retry (see `parseLenientJson`), under the
 * same depth and member limits, before it is a 400.
 */
export function bodyParserErrorMiddleware(logger: Logger, limits: JsonLimits, redactor: SecretRedactor) {
  return (error: unknown, request: Request & RequestWithId, response: Response, next: NextFunction): void => {
    const failed = error as BodyParserError | null;
    if (failed?.type === 'entity.parse.failed' && typeof failed.body === 'string') {
      try {
        request.body = parseLenientJson(failed.body, limits);
        next();
        return;
      } catch (retryError) {
        // Past the limits: that is the answer. Not JSON even leniently: report the original parse failure.
        if (retryError instanceof AppException) error = retryError;
      }
    } else if (isDecompressionError(failed)) {
      const encoding = String(request.headers['content-encoding']).slice(0, 32);
      error = new AppException('invalid_content_encoding', `The request body is not valid ${JSON.stringify(encoding)} data, as its Content-Encoding header says`);
    }
    renderError(error, request, response, logger, redactor);
  };
}

/** zlib's, brotli's and zstd's errors, as the body parser passes them on: a code and an errno, no body-parser type. */
function isDecompressionError(error: BodyParserError | null): boolean {
  return error !== null && error.type === undefined && typeof error.code === 'string' && typeof error.errno === 'number';
}

function renderError(exception: unknown, request: Request & RequestWithId, response: Response, logger: Logger, redactor: SecretRedactor): void {
  const error = toAppException(exception);
  const body = toErrorBody(error);
  if (error.status >= 500) {
    // A 5xx cause is an upstream's, a library's or the database's text, any of which may quote a credential.
    const cause = exception instanceof Error ? exception : new Error(String(exception));
    const line = `${error.code} on ${request.method} ${request.path.slice(0, 256)} [req ${request.id ?? '-'}]: ${cause.message}`;
    logger.error(redactor.redact(line), cause.stack === undefined ? undefined : redactor.redact(cause.stack));
    body.error.message = redactor.redact(body.error.message);
  }
  if (response.headersSent) {
    // A stream already started: nothing valid can be sent any more, only ended.
    response.end();
    return;
  }
  response.status(error.status);
  for (const [name, value] of Object.entries(error.headers)) response.setHeader(name, value);
  response.json(MESSAGES_ROUTES.has(request.path.replace(/\/$/, '')) ? toAnthropicErrorBody(error, body.error.message) : body);
}

interface BodyParserError {
  type?: string;
  status?: number;
  code?: unknown;
  errno?: unknown;
  /** The raw text of a body that failed to parse. */
  body?: unknown;
}

export function toAppException(exception: unknown): AppException {
  if (exception instanceof AppException) return exception;
  const parserType = (exception as BodyParserError | null)?.type;
  switch (parserType) {
    case 'entity.parse.failed':
      return new AppException('invalid_json', 'The request body is not valid JSON');
    case 'entity.too.large':
      return new AppException('payload_too_large', 'The request body is too large');
    case 'encoding.unsupported':
      return new AppException('unsupported_media_type', 'Unsupported Content-Encoding: send the body uncompressed, or as gzip, deflate, br or zstd');
    case 'charset.unsupported':
      return unsupportedMediaType();
    case 'request.aborted':
    case 'request.size.invalid':
      return new AppException('invalid_json', 'The request body was incomplete');
  }
  if (exception instanceof HttpException) return fromHttpException(exception);
  if (exception instanceof QueryFailedError) {
    const code = (exception.driverError as { code?: string } | undefined)?.code ?? '';
    if (code === '23505') return new AppException('conflict', 'The resource already exists');
    // The backstop for values the routes' own checks let through: class 22 is PostgreSQL's "data exception"
    // (a NUL in text or JSONB: 22021, 22P05; too long: 22001; malformed: 22P02, ...), class 54 "program limit
    // exceeded" (too large or too deeply nested to store). Caused by the request's values, not by the server.
    if (code.startsWith('22') || code.startsWith('54')) {
      return new AppException('validation_failed', 'A value in the request is not acceptable');
    }
  }
  if (isConnectionError(exception)) return new AppException('service_unavailable', 'The database is unavailable, try again shortly');
  return new AppException('internal_error', 'Internal server error');
}

function fromHttpException(exception: HttpException): AppException {
  const status = exception.getStatus();
  switch (status) {
    case 404:
      return new AppException('not_found', 'Not found');
    case 413:
      return new AppException('payload_too_large', 'The request body is too large');
    case 401:
      return new AppException('invalid_api_key', 'Authentication Error');
    case 403:
      return new AppException('forbidden', 'Forbidden');
    case 415:
      return new AppException('unsupported_media_type', 'Unsupported media type');
    default:
      return status >= 500
        ? new AppException('internal_error', 'Internal server error')
        : new AppException('validation_failed', exception.message, { status });
  }
}

function isConnectionError(exception: unknown): boolean {
  const code = (exception as { code?: string } | null)?.code;
  const message = exception instanceof Error ? exception.message : '';
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === '57P01' ||
    /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED/i.test(message)
  );
}
