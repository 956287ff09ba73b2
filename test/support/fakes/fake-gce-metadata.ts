import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeHttpServer, type FailureSpec, type RecordedRequest } from './fake-http-server';

const BASE = '/computeMetadata/v1';
const TOKEN_PATH = /^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)\/token$/;

/**
 * Google's metadata server (GCE, GKE, Cloud Run) on loopback, in its real wire format, for
 * GCE_METADATA_HOST=127.0.0.1:port:
 * - every request must carry `Metadata-Flavor: Google` and no `X-Forwarded-For`, else 403; only GET;
 * - every answer carries `Metadata-Flavor: Google` (google-auth-library's gcp-metadata refuses answers without it);
 * - `GET /computeMetadata/v1/instance/service-accounts/{default|email}/token[?scopes=a,b]` answers
 *   `{"access_token","expires_in","token_type":"Bearer"}`;
 * - `GET /computeMetadata/v1/project/project-id` answers the project id as text;
 * - `GET /computeMetadata/v1/instance/` (and without the slash: the client's availability probe) lists the folder.
 * Every token it gives out is remembered (`hasIssued`), so the Vertex fake can be told to accept it.
 */
export class FakeGceMetadata {
  /** Seconds a token lives (`expires_in`). */
  tokenLifetimeSeconds = 3600;
  private readonly issued: string[] = [];

  private constructor(
    private readonly http: FakeHttpServer,
    readonly projectId: string,
    readonly serviceAccountEmail: string,
  ) {}

  static async start(options: { projectId?: string; serviceAccountEmail?: string } = {}): Promise<FakeGceMetadata> {
    const projectId = options.projectId ?? 'gatehouse-metadata';
    let fake: FakeGceMetadata | null = null;
    const http = await FakeHttpServer.start((req, res) => (fake as FakeGceMetadata).handle(req, res));
    fake = new FakeGceMetadata(http, projectId, options.serviceAccountEmail ?? `1234567890-compute@developer.gserviceaccount.com`);
    return fake;
  }

  /** `host:port`, the form GCE_METADATA_HOST takes. */
  get host(): string {
    return new URL(this.http.url).host;
  }

  get url(): string {
    return this.http.url;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  get tokenRequests(): RecordedRequest[] {
    return this.http.requests.filter((request) => TOKEN_PATH.test(request.path));
  }

  /** The tokens given out, oldest first. */
  get issuedTokens(): readonly string[] {
    return this.issued;
  }

  hasIssued(token: string): boolean {
    return this.issued.includes(token);
  }

  /** Injects an HTTP-level failure (see FakeHttpServer): a 403 for an instance without scopes, a hang, ... */
  setFailure(spec: FailureSpec | null): void {
    this.http.setFailure(spec);
  }

  reset(): void {
    this.http.clearRequests();
    this.http.setFailure(null);
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    if (req.headers['metadata-flavor'] !== 'Google' || req.headers['x-forwarded-for'] !== undefined) {
      return text(res, 403, 'Missing required header "Metadata-Flavor": "Google"\n', 'text/plain; charset=utf-8');
    }
    if (req.method !== 'GET') return text(res, 405, 'Method not allowed\n', 'text/plain; charset=utf-8');
    const account = TOKEN_PATH.exec(req.path)?.[1];
    if (account !== undefined) {
      if (account !== 'default' && decodeURIComponent(account) !== this.serviceAccountEmail) return text(res, 404, 'Not Found\n', 'text/html; charset=UTF-8');
      const token = `ya29.c.metadata-${randomBytes(24).toString('base64url')}`;
      this.issued.push(token);
      return text(res, 200, JSON.stringify({ access_token: token, expires_in: this.tokenLifetimeSeconds, token_type: 'Bearer' }), 'application/json');
    }
    switch (req.path) {
      case `${BASE}/project/project-id`:
        return text(res, 200, this.projectId, 'application/text');
      case `${BASE}/instance`:
      case `${BASE}/instance/`:
        return text(res, 200, 'attributes/\nhostname\nid\nservice-accounts/\nzone\n', 'application/text');
      default:
        return text(res, 404, 'Not Found\n', 'text/html; charset=UTF-8');
    }
  }
}

function text(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'metadata-flavor': 'Google', 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
