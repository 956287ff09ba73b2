import { FakeHttpServer, sendJson, type RecordedRequest } from './fake-http-server';

/** One StandardLoggingPayload the endpoint accepted, with the request it came in. */
export interface GenericApiEvent {
  payload: Record<string, unknown>;
  request: RecordedRequest;
}

export interface FakeGenericApiOptions {
  /** Headers every request must carry (a webhook's auth), compared exactly; missing or wrong → 401. */
  requiredHeaders?: Record<string, string>;
  /** The one path that receives logs; any other → 404. Default `/logs`. */
  path?: string;
}

/**
 * A loopback HTTP endpoint in the wire format of LiteLLM's generic API logger: `POST` with
 * `content-type: application/json` and a JSON array of StandardLoggingPayload objects (`log_format: json_array`),
 * or `application/x-ndjson`, one object per line. Required headers missing → 401; a body that is neither → 400;
 * accepted → 200 `{"status":"ok"}`. `OPTIONS` on the path answers 204 with `Allow: POST, OPTIONS` (after the same
 * header check, as an authenticating API gateway in front of a webhook would).
 */
export class FakeGenericApi {
  private constructor(
    readonly server: FakeHttpServer,
    private readonly path: string,
    private readonly accepted: ReadonlySet<RecordedRequest>,
  ) {}

  static async start(options: FakeGenericApiOptions = {}): Promise<FakeGenericApi> {
    const path = options.path ?? '/logs';
    const required = Object.fromEntries(Object.entries(options.requiredHeaders ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const authorized = (req: RecordedRequest) => Object.entries(required).every(([name, value]) => req.headers[name] === value);
    const accepted = new Set<RecordedRequest>();
    const server = await FakeHttpServer.start((req, res) => {
      if (req.path !== path) return sendJson(res, 404, { error: 'no such endpoint' });
      if (!authorized(req)) return sendJson(res, 401, { error: 'unauthorized' });
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { allow: 'POST, OPTIONS' });
        res.end();
        return;
      }
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST, OPTIONS' });
      const parsed = decodeBody(req);
      if ('error' in parsed) return sendJson(res, 400, { error: parsed.error });
      accepted.add(req);
      sendJson(res, 200, { status: 'ok' });
    });
    return new FakeGenericApi(server, path, accepted);
  }

  get url(): string {
    return this.server.url;
  }

  /** The full endpoint URL (base + path). */
  get endpoint(): string {
    return `${this.server.url}${this.path}`;
  }

  get port(): number {
    return this.server.port;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** Events of the POSTs that were accepted (200: right headers, a valid body, no injected failure). */
  events(): GenericApiEvent[] {
    return this.server.requests
      .filter((req) => this.accepted.has(req))
      .flatMap((request) => {
        const parsed = decodeBody(request);
        return 'error' in parsed ? [] : parsed.events.map((payload) => ({ payload, request }));
      });
  }

  eventsMentioning(mark: string): GenericApiEvent[] {
    return this.events().filter(({ payload }) => JSON.stringify(payload).includes(mark));
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

function decodeBody(req: RecordedRequest): { events: Record<string, unknown>[] } | { error: string } {
  const type = String(req.headers['content-type'] ?? '');
  let values: unknown[];
  try {
    if (type.startsWith('application/json')) {
      const body: unknown = JSON.parse(req.text);
      if (!Array.isArray(body)) return { error: 'expected a JSON array' };
      values = body;
    } else if (type.startsWith('application/x-ndjson')) {
      values = req.text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);
    } else {
      return { error: `unsupported content-type ${type}` };
    }
  } catch {
    return { error: 'body is not JSON' };
  }
  if (!values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) return { error: 'every event must be an object' };
  return { events: values as Record<string, unknown>[] };
}
