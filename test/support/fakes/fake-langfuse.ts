import { createHash } from 'node:crypto';
import { basicAuth, FakeHttpServer, sendJson, type FailureSpec, type RecordedRequest } from './fake-http-server';

/**
 * A Langfuse server on loopback that the real `langfuse` v3 client can talk to.
 * - POST /api/public/ingestion: Basic auth against the configured key pairs, answers 207 {successes, errors}
 *   like Langfuse does, and merges events by object id (the client sends updates before creates, and
 *   redeliveries repeat ids) so tests can ask for "traces of project pk-X" or "generations of trace T".
 * - GET /api/public/projects: the key-validation call used by health checks.
 * - Media, as the client uploads a base64 data URI found in an event: POST /api/public/media asks for an upload
 *   URL (here the fake's own PUT /media-upload/:id, which checks the bytes against the announced SHA-256), and
 *   PATCH /api/public/media/:id reports how the upload went.
 */

/** Langfuse's answer to wrong or missing Basic credentials. */
const INVALID_CREDENTIALS = { message: 'Invalid credentials. Confirm that you have used the correct host.' };

export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

export interface IngestionItem {
  id: string;
  type: string;
  timestamp?: string;
  body: Record<string, unknown> & { id?: string; traceId?: string };
}

export type StoredObject = Record<string, unknown> & { id: string };

/** One media object the client announced, and what it uploaded and reported for it. */
export interface StoredMedia {
  mediaId: string;
  publicKey: string;
  /** What POST /api/public/media was told: traceId, observationId, field, contentType, contentLength, sha256Hash. */
  announced: Record<string, unknown>;
  bytes: Buffer | null;
  /** The PATCH body: uploadedAt, uploadHttpStatus, uploadHttpError, uploadTimeMs. */
  reported: Record<string, unknown> | null;
}

interface Project {
  traces: Map<string, StoredObject>;
  observations: Map<string, StoredObject & { type: string }>;
  items: IngestionItem[];
}

export interface PartialFailure {
  match: (item: IngestionItem) => boolean;
  status?: number;
  message?: string;
}

export class FakeLangfuse {
  private readonly keys = new Map<string, string>();
  private readonly projects = new Map<string, Project>();
  private partial: PartialFailure | null = null;
  private readonly mediaById = new Map<string, StoredMedia>();
  /** When set, every media upload (PUT) is answered with this status and its bytes are not kept. */
  mediaUploadStatus: number | null = null;
  /** PUT attempts received, per media id. */
  readonly mediaUploadAttempts = new Map<string, number>();

  private constructor(private readonly http: FakeHttpServer) {}

  static async start(options: { keys?: KeyPair[] } = {}): Promise<FakeLangfuse> {
    let fake: FakeLangfuse | null = null;
    const http = await FakeHttpServer.start((req, res) => fake!.handle(req, res));
    fake = new FakeLangfuse(http);
    for (const pair of options.keys ?? []) {
      fake.addKeyPair(pair);
    }
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  get port(): number {
    return this.http.port;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  /** The POST /api/public/ingestion requests only. */
  get ingestionRequests(): RecordedRequest[] {
    return this.http.requests.filter((r) => r.method === 'POST' && r.path === '/api/public/ingestion');
  }

  addKeyPair(pair: KeyPair): void {
    this.keys.set(pair.publicKey, pair.secretKey);
  }

  setFailure(spec: FailureSpec | null): void {
    this.http.setFailure(spec);
  }

  addFailure(spec: FailureSpec): void {
    this.http.addFailure(spec);
  }

  /** Items matching `match` are answered as errors inside a 207 and not stored. */
  setPartialFailure(partial: PartialFailure | null): void {
    this.partial = partial;
  }

  refuseConnections(): Promise<void> {
    return this.http.refuseConnections();
  }

  restart(): Promise<void> {
    return this.http.restart();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  traces(publicKey: string): StoredObject[] {
    return [...(this.projects.get(publicKey)?.traces.values() ?? [])];
  }

  trace(publicKey: string, traceId: string): StoredObject | undefined {
    return this.projects.get(publicKey)?.traces.get(traceId);
  }

  generations(publicKey: string, traceId?: string): (StoredObject & { type: string })[] {
    const all = [...(this.projects.get(publicKey)?.observations.values() ?? [])].filter((o) => o.type === 'generation');
    return traceId === undefined ? all : all.filter((o) => o.traceId === traceId);
  }

  /** Media objects announced with this project's keys. */
  media(publicKey: string): StoredMedia[] {
    return [...this.mediaById.values()].filter((media) => media.publicKey === publicKey);
  }

  /** Every accepted ingestion item of a project, in arrival order (redeliveries included). */
  items(publicKey: string): IngestionItem[] {
    return [...(this.projects.get(publicKey)?.items ?? [])];
  }

  private handle(req: RecordedRequest, res: import('node:http').ServerResponse): void {
    const publicKey = this.authenticate(req);
    if (req.path === '/api/public/projects' && req.method === 'GET') {
      if (!publicKey) {
        sendJson(res, 401, INVALID_CREDENTIALS);
        return;
      }
      sendJson(res, 200, { data: [{ id: `project-${publicKey}`, name: `Project ${publicKey}`, metadata: {} }] });
      return;
    }
    if (req.path === '/api/public/ingestion' && req.method === 'POST') {
      if (!publicKey) {
        sendJson(res, 401, INVALID_CREDENTIALS);
        return;
      }
      const batch = (req.json as { batch?: IngestionItem[] } | undefined)?.batch;
      if (!Array.isArray(batch)) {
        sendJson(res, 400, { message: 'Invalid request data', error: 'batch must be an array' });
        return;
      }
      const successes: { id: string; status: number }[] = [];
      const errors: { id: string; status: number; message: string; error: string }[] = [];
      for (const item of batch) {
        if (this.partial?.match(item)) {
          const status = this.partial.status ?? 400;
          errors.push({ id: item.id, status, message: this.partial.message ?? 'Invalid request data', error: 'rejected by fake' });
          continue;
        }
        this.merge(publicKey, item);
        successes.push({ id: item.id, status: 201 });
      }
      sendJson(res, 207, { successes, errors });
      return;
    }
    if (req.path.startsWith('/media-upload/') && req.method === 'PUT') {
      const media = this.mediaById.get(req.path.slice('/media-upload/'.length));
      if (media) this.mediaUploadAttempts.set(media.mediaId, (this.mediaUploadAttempts.get(media.mediaId) ?? 0) + 1);
      if (this.mediaUploadStatus !== null) {
        sendJson(res, this.mediaUploadStatus, { message: 'upload refused by fake' });
        return;
      }
      const sha256 = createHash('sha256').update(req.body).digest('base64');
      if (!media || media.announced.sha256Hash !== sha256 || req.headers['x-amz-checksum-sha256'] !== sha256) {
        sendJson(res, 400, { message: 'unknown upload or checksum mismatch' });
        return;
      }
      media.bytes = req.body;
      sendJson(res, 200, {});
      return;
    }
    if (req.path.startsWith('/api/public/media')) {
      if (!publicKey) {
        sendJson(res, 401, INVALID_CREDENTIALS);
        return;
      }
      const body = (req.json ?? {}) as Record<string, unknown>;
      if (req.path === '/api/public/media' && req.method === 'POST') {
        const mediaId = `media-${this.mediaById.size + 1}`;
        this.mediaById.set(mediaId, { mediaId, publicKey, announced: body, bytes: null, reported: null });
        sendJson(res, 201, { mediaId, uploadUrl: `${this.url}/media-upload/${mediaId}` });
        return;
      }
      const media = this.mediaById.get(req.path.slice('/api/public/media/'.length));
      if (media && media.publicKey === publicKey && req.method === 'PATCH') {
        media.reported = body;
        sendJson(res, 200, {});
        return;
      }
    }
    sendJson(res, 404, { message: `no route ${req.method} ${req.path}` });
  }

  private authenticate(req: RecordedRequest): string | null {
    const credentials = basicAuth(req.headers);
    if (!credentials || this.keys.get(credentials.user) !== credentials.password) {
      return null;
    }
    return credentials.user;
  }

  private merge(publicKey: string, item: IngestionItem): void {
    let project = this.projects.get(publicKey);
    if (!project) {
      project = { traces: new Map(), observations: new Map(), items: [] };
      this.projects.set(publicKey, project);
    }
    project.items.push(item);
    const id = item.body.id;
    if (typeof id !== 'string') {
      return;
    }
    if (item.type === 'trace-create') {
      project.traces.set(id, { ...(project.traces.get(id) ?? {}), ...definedFields(item.body), id });
      return;
    }
    const observationType = item.type.replace(/-(create|update)$/, '');
    const previous = project.observations.get(id);
    project.observations.set(id, { ...(previous ?? {}), ...definedFields(item.body), id, type: observationType });
  }
}

function definedFields(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined && value !== null));
}

export function start(options: { keys?: KeyPair[] } = {}): Promise<FakeLangfuse> {
  return FakeLangfuse.start(options);
}
