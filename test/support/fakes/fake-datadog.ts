import { gunzipSync, inflateSync } from 'node:zlib';
import { FakeHttpServer, sendJson, type RecordedRequest } from './fake-http-server';

/** One log item the intake accepted, with the request it came in. */
export interface DatadogLog {
  item: Record<string, unknown>;
  /** `message` parsed when it is JSON (LiteLLM's logger puts the StandardLoggingPayload there), else undefined. */
  message: unknown;
  request: RecordedRequest;
}

export interface FakeDatadogOptions {
  /** API keys the fake accepts in `DD-API-KEY`. */
  apiKeys: readonly string[];
}

const MAX_BYTES = 5 * 1024 * 1024;
const MAX_ITEMS = 1000;

/**
 * Datadog's logs intake and API key validation on loopback, in their wire format (docs.datadoghq.com/api/latest/logs,
 * /api/latest/authentication):
 * - `POST /api/v2/logs`: `DD-API-KEY` must be a known key (else 403 `{"errors":["Forbidden"]}`); the body is JSON —
 *   an array of log items or a single item — uncompressed or with `Content-Encoding: gzip`/`deflate`; more than
 *   1000 items or 5 MB uncompressed → 413; an item that is not an object, or one whose fields are not strings
 *   (`ddsource`, `ddtags`, `hostname`, `message`, `service`, `status`) → 400; accepted → 202 `{}`.
 * - `GET /api/v1/validate`: 200 `{"valid":true}` for a known key, 403 `{"errors":["Forbidden"]}` otherwise.
 * Both hosts (http-intake.logs.<site> and api.<site>) are this one server.
 */
export class FakeDatadog {
  private constructor(
    readonly server: FakeHttpServer,
    private readonly accepted: ReadonlySet<RecordedRequest>,
  ) {}

  static async start(options: FakeDatadogOptions): Promise<FakeDatadog> {
    const apiKeys = new Set(options.apiKeys);
    const accepted = new Set<RecordedRequest>();
    const server = await FakeHttpServer.start((req, res) => {
      const key = req.headers['dd-api-key'];
      const known = typeof key === 'string' && apiKeys.has(key);
      if (req.method === 'GET' && req.path === '/api/v1/validate') {
        return known ? sendJson(res, 200, { valid: true }) : sendJson(res, 403, { errors: ['Forbidden'] });
      }
      if (req.method === 'POST' && req.path === '/api/v2/logs') {
        if (!known) return sendJson(res, 403, { errors: ['Forbidden'] });
        const parsed = decodeIntakeBody(req);
        if ('error' in parsed) return sendJson(res, parsed.status, { errors: [{ status: String(parsed.status), title: parsed.error }] });
        accepted.add(req);
        return sendJson(res, 202, {});
      }
      sendJson(res, 404, { errors: ['Not found'] });
    });
    return new FakeDatadog(server, accepted);
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** Items of the intake requests that were accepted (202: a known key, a valid body, no injected failure). */
  logs(): DatadogLog[] {
    return this.server.requests
      .filter((request) => this.accepted.has(request))
      .flatMap((request) => {
        const parsed = decodeIntakeBody(request);
        if ('error' in parsed) return [];
        return parsed.items.map((item) => ({ item, message: parseMessage(item.message), request }));
      });
  }

  logsMentioning(mark: string): DatadogLog[] {
    return this.logs().filter(({ item }) => JSON.stringify(item).includes(mark));
  }

  /** Intake POSTs received (accepted or not). */
  intakeRequests(): RecordedRequest[] {
    return this.server.requests.filter((request) => request.method === 'POST' && request.path === '/api/v2/logs');
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

const STRING_FIELDS = ['ddsource', 'ddtags', 'hostname', 'message', 'service', 'status'];

/** The intake body as Datadog reads it: decompressed, JSON, within the limits, every item an object of string fields. */
export function decodeIntakeBody(req: RecordedRequest): { items: Record<string, unknown>[] } | { status: number; error: string } {
  let raw: Buffer;
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  try {
    raw = encoding === 'gzip' ? gunzipSync(req.body) : encoding === 'deflate' ? inflateSync(req.body) : req.body;
  } catch {
    return { status: 400, error: `body is not valid ${encoding}` };
  }
  if (encoding !== 'gzip' && encoding !== 'deflate' && encoding !== 'identity') return { status: 415, error: `unsupported content-encoding ${encoding}` };
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return { status: 415, error: 'content-type must be application/json' };
  if (raw.length > MAX_BYTES) return { status: 413, error: 'payload too large' };
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return { status: 400, error: 'body is not JSON' };
  }
  const items = Array.isArray(body) ? body : [body];
  if (items.length > MAX_ITEMS) return { status: 413, error: `more than ${MAX_ITEMS} log items` };
  for (const item of items) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return { status: 400, error: 'a log item is not an object' };
    for (const field of STRING_FIELDS) {
      const value = (item as Record<string, unknown>)[field];
      if (value !== undefined && typeof value !== 'string') return { status: 400, error: `${field} must be a string` };
    }
  }
  return { items: items as Record<string, unknown>[] };
}

function parseMessage(message: unknown): unknown {
  if (typeof message !== 'string') return undefined;
  try {
    return JSON.parse(message);
  } catch {
    return undefined;
  }
}
