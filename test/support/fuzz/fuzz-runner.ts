import fc from 'fast-check';
import { MESSAGES_ROUTES } from '../../../src/completions/messages-api/anthropic-error-body';
import { anthropicEnvelopeOf, envelopeOf, rawRequest, type RawAnswer } from '../raw-http';
import { malformedRequests, type FuzzContext, type FuzzRequest } from './malformed-requests';

export interface FuzzOptions {
  readonly baseUrl: string;
  readonly context: FuzzContext;
  readonly numRuns: number;
  readonly seed: number;
  /** The database's rows, fingerprinted: a refused (4xx) request must leave it unchanged. Omitted: not checked. */
  readonly fingerprint?: () => Promise<string>;
  /** Whether the gateway is still up (a process that has not exited). */
  readonly alive?: () => boolean;
}

export interface FuzzSummary {
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly byRoute: Record<string, Record<string, number>>;
  readonly seconds: number;
}

/**
 * Sends `numRuns` generated requests one after another (so each database change belongs to one request) and
 * holds every answer to the boundary's promises: below 500, a 4xx in the route's error envelope (OpenAI's, or
 * Anthropic's on the Messages API), no row changed by a 4xx, the gateway alive. The first broken promise fails the run with the request that broke it.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const byStatus: Record<string, number> = {};
  const byRoute: Record<string, Record<string, number>> = {};
  const started = Date.now();
  let requests = 0;
  await fc.assert(
    fc.asyncProperty(malformedRequests(options.context), async (request) => {
      const before = await options.fingerprint?.();
      let answer: RawAnswer;
      try {
        answer = await rawRequest(options.baseUrl, { method: request.method, path: request.path, headers: request.headers, body: request.body });
      } catch (error) {
        throw new Error(`no answer (${(error as Error).message}) to ${describe(request)}`);
      }
      requests++;
      const status = String(answer.status);
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      (byRoute[request.route] ??= {})[status] = (byRoute[request.route][status] ?? 0) + 1;
      if (options.alive && !options.alive()) throw new Error(`the gateway exited after ${describe(request)}`);
      if (answer.status >= 500) throw new Error(`${answer.status} ${answer.text.slice(0, 300)} for ${describe(request)}`);
      if (answer.status >= 400 && errorEnvelopeOf(request, answer) === null) throw new Error(`${answer.status} without the error envelope (${answer.text.slice(0, 200)}) for ${describe(request)}`);
      if (answer.status >= 400 && before !== undefined) {
        const after = await options.fingerprint?.();
        if (after !== before) throw new Error(`a ${answer.status} changed rows (${before} → ${after}) for ${describe(request)}`);
      }
    }),
    { seed: options.seed, numRuns: options.numRuns, endOnFailure: true },
  );
  return { requests, byStatus, byRoute, seconds: (Date.now() - started) / 1000 };
}

/** The error envelope the route promises: Anthropic's on the Messages API routes, OpenAI's everywhere else. */
function errorEnvelopeOf(request: FuzzRequest, answer: RawAnswer): object | null {
  const path = request.path.split('?')[0];
  return MESSAGES_ROUTES.has(path) ? anthropicEnvelopeOf(answer) : envelopeOf(answer);
}

function describe(request: FuzzRequest): string {
  const text = request.body?.subarray(0, 300).toString('latin1');
  const printable = text !== undefined && [...text].every((char) => char === '\t' || char === '\n' || char === '\r' || (char >= ' ' && char <= '~'));
  const body = text === undefined ? '(none)' : printable ? text : `base64:${request.body?.subarray(0, 300).toString('base64')}`;
  return `${request.method} ${request.path.slice(0, 300)} [${request.shape}] headers=${JSON.stringify(request.headers.map(([name, value]) => [name, value.slice(0, 80)]))} body=${body}`;
}

/** Counts and a content hash of every row of every table, in one round trip. */
export async function tableFingerprint(query: (sql: string) => Promise<Record<string, string>[]>, tables: readonly string[]): Promise<string> {
  const columns = tables.map((table) => `(SELECT count(*)::text || ':' || coalesce(sum(hashtext(t::text)::bigint), 0)::text FROM "${table}" t) AS "${table}"`);
  const [row] = await query(`SELECT ${columns.join(', ')}`);
  return JSON.stringify(row);
}
