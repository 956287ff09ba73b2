import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request as the fake saw it, body included, so tests can assert on the wire (and sweep it for secrets). */
export interface RecordedRequest {
  method: string;
  /** Path plus query, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** Parsed body when it was JSON, else undefined. */
  json: unknown;
}

/** What to do instead of (or before) the normal answer. */
export interface FailureSpec {
  /** Answer with this status; the normal handler does not run. */
  status?: number;
  /** JSON-encoded unless it is a string. */
  body?: unknown;
  retryAfter?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (with the failure status, or normally when `status` is unset). */
  delayMs?: number;
  /** Never answer; the socket stays open until the client gives up or the fake closes. */
  hang?: boolean;
  /** Apply to this many matching requests, then clear. Unset: until `setFailure(null)`. */
  times?: number;
  /** Which requests the failure applies to; default all. */
  match?: (req: RecordedRequest) => boolean;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A loopback HTTP server that records every request and can be told to fail, hang or refuse connections. */
export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  private failures: FailureSpec[] = [];
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  private boundPort = 0;

  private constructor(private readonly handler: Handler) {}

  static async start(handler: Handler, port = 0): Promise<FakeHttpServer> {
    const fake = new FakeHttpServer(handler);
    await fake.listen(port);
    return fake;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Replaces all failures with this one (or clears them). */
  setFailure(spec: FailureSpec | null): void {
    this.failures = spec ? [{ ...spec }] : [];
  }

  /** Adds a failure after the existing ones; the first matching failure wins. */
  addFailure(spec: FailureSpec): void {
    this.failures.push({ ...spec });
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Stops listening and drops every open connection, so new connections get ECONNREFUSED. */
  async refuseConnections(): Promise<void> {
    const server = this.server;
    if (!server) {
      return;
    }
    this.server = null;
    for (const res of this.hanging) {
      res.destroy();
    }
    this.hanging.clear();
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port after `refuseConnections()`. */
  async restart(): Promise<void> {
    if (!this.server) {
      await this.listen(this.boundPort);
    }
  }

  async close(): Promise<void> {
    await this.refuseConnections();
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = req.url ?? '/';
        const parsed = new URL(url, 'http://fake.invalid');
        const text = body.toString('utf8');
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          url,
          path: parsed.pathname,
          query: parsed.searchParams,
          headers: req.headers,
          body,
          text,
          json: parseJson(text),
        };
        this.requests.push(recorded);
        void this.respond(recorded, res);
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
  }

  private async respond(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const failure = this.takeFailure(req);
    try {
      if (failure?.hang) {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      if (failure?.delayMs) {
        await new Promise((resolve) => setTimeout(resolve, failure.delayMs));
      }
      if (failure?.status !== undefined) {
        const headers = { ...(failure.headers ?? {}), ...(failure.retryAfter !== undefined ? { 'retry-after': failure.retryAfter } : {}) };
        sendJson(res, failure.status, failure.body ?? { error: `injected failure ${failure.status}` }, headers);
        return;
      }
      await this.handler(req, res);
    } catch (err) {
      if (!res.headersSent) {
        sendJson(res, 500, { error: `fake handler crashed: ${(err as Error).message}` });
      }
    }
  }

  private takeFailure(req: RecordedRequest): FailureSpec | undefined {
    const index = this.failures.findIndex((f) => !f.match || f.match(req));
    if (index < 0) {
      return undefined;
    }
    const failure = this.failures[index];
    if (failure.times !== undefined) {
      failure.times -= 1;
      if (failure.times <= 0) {
        this.failures.splice(index, 1);
      }
    }
    return failure;
  }
}

function parseJson(text: string): unknown {
  if (text === '') {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `Authorization: Basic` decoded, or null. */
export function basicAuth(headers: IncomingHttpHeaders): { user: string; password: string } | null {
  const header = headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Basic ')) {
    return null;
  }
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
