import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { MESSAGES_ROUTES, toAnthropicErrorBody } from '../completions/messages-api/anthropic-error-body';
import { AppException, toErrorBody, type ErrorCode } from '../errors';

/** Node's parser codes with their own status (its defaults); every other parse error is a 400. */
const BY_PARSER_CODE: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  HPE_HEADER_OVERFLOW: { code: 'headers_too_large', message: 'The request line and headers are larger than the server accepts (16 kB)' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { code: 'payload_too_large', message: 'The chunk extensions of the request body are too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', message: 'The request was not received in time' },
};
const MALFORMED = { code: 'malformed_http_request', message: 'The request is not valid HTTP/1.1 (request line, a header name or a header value)' } as const;
/** The path of a request line (`POST /v1/messages?x=1 HTTP/1.1`), without its query. */
const REQUEST_LINE_PATH = /^[A-Z]+ ([^ ?]+)/;

/**
 * Requests Node's HTTP parser refuses (a raw control character in a header value, headers over 16 kB, a
 * broken request line) never reach express: Node answers them itself with an empty body. This answers them
 * in the OpenAI envelope like everything else (Anthropic's on its Messages routes, when the request line was
 * read), with the status Node would have used.
 */
export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const { code, message } = BY_PARSER_CODE[error.code ?? ''] ?? MALFORMED;
    const exception = new AppException(code, message);
    const body = JSON.stringify(isMessagesRoute(error) ? toAnthropicErrorBody(exception) : toErrorBody(exception));
    socket.end(
      `HTTP/1.1 ${exception.status} ${STATUS_TEXT[exception.status] ?? 'Bad Request'}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

function isMessagesRoute(error: NodeJS.ErrnoException & { rawPacket?: unknown }): boolean {
  const packet = error.rawPacket;
  if (!Buffer.isBuffer(packet)) return false;
  const path = REQUEST_LINE_PATH.exec(packet.subarray(0, 256).toString('latin1'))?.[1];
  return path !== undefined && MESSAGES_ROUTES.has(path.replace(/\/$/, ''));
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large' };
