import { json, type RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import { AppException } from '../errors';
import { assertJsonWithinLimits, type JsonLimits } from './json-limits';

/** `application/json` and the structured-syntax types built on it (`application/merge-patch+json`, ...). */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.!#$&^-]+\+)?json$/;

export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(';');
  return JSON_MEDIA_TYPE.test((semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase());
}

export function unsupportedMediaType(): AppException {
  return new AppException('unsupported_media_type', 'Send the request body as UTF-8 JSON with the header Content-Type: application/json');
}

/**
 * The one body parser. Every body is read, whatever its Content-Type says: a non-empty body that is not
 * declared JSON is refused (415) rather than skipped, because a skipped body reached the routes as "no
 * fields" and `/key/generate` answered with an unrestricted key. An empty body is `{}`, with or without a
 * type, as before. Between reading and parsing, the raw bytes are checked against the depth and member
 * limits, so nothing past them is ever parsed.
 */
export function jsonBodyParser(options: { maxBodyBytes: number; limits: JsonLimits }): RequestHandler {
  return json({
    limit: options.maxBodyBytes,
    type: () => true,
    verify: (request: IncomingMessage, _response, body: Buffer, encoding: string) => {
      if (body.length === 0) return;
      // RFC 8259 §8.1: JSON between systems is UTF-8; the byte scan below relies on it.
      if (!isJsonContentType(request.headers['content-type']) || encoding !== 'utf-8') throw unsupportedMediaType();
      assertJsonWithinLimits(body, options.limits);
    },
  });
}
