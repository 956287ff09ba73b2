import type { NextFunction, Request, Response } from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MetricsService } from '../metrics/metrics.service';
import { roundMs } from './log-numbers';

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestWithId {
  id?: string;
}

/**
 * What every log line written while serving a request carries. One object per request, never changed (the logger
 * copies it into a line rather than into it, see `createRootLogger`).
 */
export interface RequestLogFields {
  readonly req_id: string;
}

/**
 * The request being served, for log lines written anywhere below the middleware (a service's Nest Logger, pino
 * directly) without passing the request down. On Node 24 the store rides on AsyncContextFrame: entering it is one
 * frame per request, reading it a lookup.
 */
const requestLogContext = new AsyncLocalStorage<RequestLogFields>();

/** The fields of the request this code runs for; undefined outside one (start-up, timers, the delivery thread's relayed lines). */
export function currentRequestLogFields(): RequestLogFields | undefined {
  return requestLogContext.getStore();
}

/** Runs `work` as part of serving the request `reqId` (for tests and code that serves requests outside Express). */
export function runInRequestLogContext<T>(reqId: string, work: () => T): T {
  return requestLogContext.run({ req_id: reqId }, work);
}

/**
 * Gives every request an id (the caller's `x-request-id` when it is safe to echo, else a uuid), returns it
 * as a header, makes it the request's log context and writes one access line when the response ends. Only
 * method, path, status, timing and ids are logged: never bodies, query strings, headers or keys.
 */
export function requestContextMiddleware(logger: Logger, metrics?: MetricsService) {
  return (request: Request & RequestWithId, response: Response, next: NextFunction): void => {
    const incoming = request.headers[REQUEST_ID_HEADER];
    const id = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    request.id = id;
    response.setHeader(REQUEST_ID_HEADER, id);
    const started = process.hrtime.bigint();
    response.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (metrics) {
        // The matched route pattern (not the raw URL) keeps the label set small.
        const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
        metrics.recordHttpRequest(request.method, typeof route === 'string' ? route : 'unmatched', response.statusCode, seconds);
      }
      // Skipped entirely below info level: building the line costs more than the check.
      if (!logger.isLevelEnabled('info')) return;
      logger.info(
        {
          req_id: id,
          method: request.method,
          path: request.path.slice(0, 256),
          status: response.statusCode,
          duration_ms: roundMs(seconds * 1000),
          completed: response.writableFinished,
        },
        'request',
      );
    });
    // Everything downstream (guards, services, upstream calls, the response's end) runs in this request's context.
    requestLogContext.run({ req_id: id }, next);
  };
}
