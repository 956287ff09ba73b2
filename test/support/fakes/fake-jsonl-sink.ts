import { FakeHttpServer, sendJson, type RecordedRequest } from './fake-http-server';

/** One line a JSON-lines sink received, with the request it came in. */
export interface JsonlLine {
  line: Record<string, unknown>;
  request: RecordedRequest;
}

/**
 * A loopback log sink in the `http_jsonl` example destination's wire format (examples/http-jsonl): POST with
 * `content-type: application/x-ndjson`, one JSON object per line, `authorization: Bearer <token>` when a token is
 * required. Wrong or missing token → 401; anything that is not NDJSON → 400.
 */
export class FakeJsonlSink {
  private constructor(
    readonly server: FakeHttpServer,
    private readonly token: string | null,
  ) {}

  static async start(options: { token?: string } = {}): Promise<FakeJsonlSink> {
    const token = options.token ?? null;
    const server = await FakeHttpServer.start((req, res) => {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' });
      if (token !== null && req.headers.authorization !== `Bearer ${token}`) return sendJson(res, 401, { error: 'bad token' });
      if (!String(req.headers['content-type']).startsWith('application/x-ndjson')) return sendJson(res, 400, { error: 'not ndjson' });
      try {
        for (const line of req.text.split('\n')) if (line !== '') JSON.parse(line);
      } catch {
        return sendJson(res, 400, { error: 'a line is not JSON' });
      }
      sendJson(res, 200, { ok: true });
    });
    return new FakeJsonlSink(server, token);
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  /** Lines of the requests the sink accepted (a good token, NDJSON). */
  lines(): JsonlLine[] {
    return this.server.requests
      .filter((request) => this.token === null || request.headers.authorization === `Bearer ${this.token}`)
      .flatMap((request) =>
        request.text
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => ({ line: JSON.parse(line) as Record<string, unknown>, request })),
      );
  }

  linesMentioning(mark: string): JsonlLine[] {
    return this.lines().filter(({ line }) => JSON.stringify(line).includes(mark));
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
