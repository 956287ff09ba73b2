import { createHash, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { CRC32C } from '@google-cloud/storage';
import { FakeHttpServer, sendJson, type FailureSpec, type RecordedRequest } from './fake-http-server';

/**
 * A Google Cloud Storage JSON API on loopback, enough for `@google-cloud/storage` 7.x (stack.md §7):
 * - uploads: POST /upload/storage/v1/b/B/o with uploadType=multipart | media | resumable (then PUT to the session);
 *   responses carry md5Hash and crc32c, which the client verifies;
 * - objects: GET metadata, GET ?alt=media (with x-goog-hash), list with prefix, DELETE;
 * - buckets: GET metadata, GET iam/testPermissions;
 * - JSON API paths with and without `/storage/v1` (STORAGE_EMULATOR_HOST drops it).
 * Buckets must be created first; a bucket can be switched to answer 403 or 404 for everything.
 */

export interface StoredObject {
  bucket: string;
  name: string;
  data: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  generation: number;
  md5Hash: string;
  crc32c: string;
  updated: string;
}

const ALL_PERMISSIONS = ['storage.objects.create', 'storage.objects.get', 'storage.objects.list', 'storage.objects.delete', 'storage.buckets.get'];

interface ResumableSession {
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string>;
  done?: StoredObject;
}

export class FakeGcs {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private readonly bucketStatus = new Map<string, 403 | 404>();
  private readonly permissions = new Map<string, Set<string>>();
  private readonly sessions = new Map<string, ResumableSession>();
  private generation = 1_000;
  /** Answer uploads with the hashes of other data, as a corrupted upload would look to the client. */
  reportWrongHashes = false;

  private constructor(private readonly http: FakeHttpServer) {}

  static async start(options: { buckets?: string[] } = {}): Promise<FakeGcs> {
    let fake: FakeGcs | null = null;
    const http = await FakeHttpServer.start((req, res) => fake!.handle(req, res));
    fake = new FakeGcs(http);
    for (const bucket of options.buckets ?? []) {
      fake.createBucket(bucket);
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

  /** Upload requests only (POST/PUT under /upload/). */
  get uploadRequests(): RecordedRequest[] {
    return this.http.requests.filter((r) => r.path.startsWith('/upload/'));
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) {
      this.buckets.set(name, new Map());
    }
  }

  /** Every request touching the bucket answers with this status (null restores normal behaviour). */
  setBucketStatus(bucket: string, status: 403 | 404 | null): void {
    if (status === null) {
      this.bucketStatus.delete(bucket);
    } else {
      this.bucketStatus.set(bucket, status);
    }
  }

  /** Permissions the caller holds on the bucket, as reported by testIamPermissions (default: all). */
  setPermissions(bucket: string, permissions: string[]): void {
    this.permissions.set(bucket, new Set(permissions));
  }

  setFailure(spec: FailureSpec | null): void {
    this.http.setFailure(spec);
  }

  refuseConnections(): Promise<void> {
    return this.http.refuseConnections();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  objects(bucket: string): StoredObject[] {
    return [...(this.buckets.get(bucket)?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  }

  object(bucket: string, name: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(name);
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const upload = req.path.match(/^\/upload\/storage\/v1\/b\/([^/]+)\/o$/);
    if (upload) {
      this.handleUpload(decodeURIComponent(upload[1]), req, res);
      return;
    }
    const jsonPath = req.path.replace(/^\/storage\/v1(?=\/b\/)/, '');
    const objectMatch = jsonPath.match(/^\/b\/([^/]+)\/o\/(.+)$/);
    const listMatch = jsonPath.match(/^\/b\/([^/]+)\/o\/?$/);
    const iamMatch = jsonPath.match(/^\/b\/([^/]+)\/iam\/testPermissions$/);
    const bucketMatch = jsonPath.match(/^\/b\/([^/]+)\/?$/);
    const bucket = decodeURIComponent((objectMatch ?? listMatch ?? iamMatch ?? bucketMatch)?.[1] ?? '');
    if (!bucket) {
      this.error(res, 404, `no route ${req.method} ${req.path}`, 'notFound');
      return;
    }
    if (!this.bucketAvailable(bucket, res)) {
      return;
    }
    if (iamMatch && req.method === 'GET') {
      const asked = req.query.getAll('permissions');
      const held = this.permissions.get(bucket) ?? new Set(ALL_PERMISSIONS);
      sendJson(res, 200, { kind: 'storage#testIamPermissionsResponse', permissions: asked.filter((p) => held.has(p)) });
      return;
    }
    if (bucketMatch && req.method === 'GET') {
      sendJson(res, 200, { kind: 'storage#bucket', id: bucket, name: bucket, location: 'US', storageClass: 'STANDARD' });
      return;
    }
    if (listMatch && req.method === 'GET') {
      const prefix = req.query.get('prefix') ?? '';
      const max = Number(req.query.get('maxResults') ?? '1000');
      const items = this.objects(bucket)
        .filter((o) => o.name.startsWith(prefix))
        .slice(0, max)
        .map((o) => this.resource(o));
      sendJson(res, 200, { kind: 'storage#objects', items });
      return;
    }
    if (objectMatch) {
      const name = decodeURIComponent(objectMatch[2]);
      const stored = this.buckets.get(bucket)!.get(name);
      if (req.method === 'DELETE') {
        this.buckets.get(bucket)!.delete(name);
        res.writeHead(204).end();
        return;
      }
      if (!stored) {
        this.error(res, 404, `No such object: ${bucket}/${name}`, 'notFound');
        return;
      }
      if (req.query.get('alt') === 'media') {
        res.writeHead(200, {
          'content-type': stored.contentType,
          'content-length': stored.data.length,
          'x-goog-hash': `crc32c=${stored.crc32c},md5=${stored.md5Hash}`,
          'x-goog-generation': String(stored.generation),
        });
        res.end(stored.data);
        return;
      }
      sendJson(res, 200, this.resource(stored));
      return;
    }
    this.error(res, 404, `no route ${req.method} ${req.path}`, 'notFound');
  }

  private handleUpload(bucket: string, req: RecordedRequest, res: ServerResponse): void {
    if (!this.bucketAvailable(bucket, res)) {
      return;
    }
    const type = req.query.get('uploadType');
    if (req.method === 'POST' && type === 'multipart') {
      const parts = parseMultipart(req.body, String(req.headers['content-type'] ?? ''));
      if (!parts || parts.length < 2) {
        this.error(res, 400, 'malformed multipart body', 'invalid');
        return;
      }
      const meta = JSON.parse(parts[0].body.toString('utf8')) as { name?: string; contentType?: string; metadata?: Record<string, string> };
      const name = meta.name ?? req.query.get('name');
      if (!name) {
        this.error(res, 400, 'object name required', 'required');
        return;
      }
      const stored = this.store(bucket, name, parts[1].body, meta.contentType ?? parts[1].contentType ?? 'application/octet-stream', meta.metadata ?? {});
      sendJson(res, 200, this.resource(stored));
      return;
    }
    if (req.method === 'POST' && type === 'media') {
      const name = req.query.get('name');
      if (!name) {
        this.error(res, 400, 'object name required', 'required');
        return;
      }
      const stored = this.store(bucket, name, req.body, String(req.headers['content-type'] ?? 'application/octet-stream'), {});
      sendJson(res, 200, this.resource(stored));
      return;
    }
    if (req.method === 'POST' && type === 'resumable') {
      const meta = (req.json ?? {}) as { name?: string; contentType?: string; metadata?: Record<string, string> };
      const name = meta.name ?? req.query.get('name');
      if (!name) {
        this.error(res, 400, 'object name required', 'required');
        return;
      }
      const id = randomUUID();
      this.sessions.set(id, {
        bucket,
        name,
        contentType: meta.contentType ?? String(req.headers['x-upload-content-type'] ?? 'application/octet-stream'),
        metadata: meta.metadata ?? {},
      });
      const location = `${this.url}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&upload_id=${id}`;
      res.writeHead(200, { location, 'content-length': 0 });
      res.end();
      return;
    }
    if (req.method === 'PUT' && type === 'resumable') {
      const session = this.sessions.get(req.query.get('upload_id') ?? '');
      if (!session) {
        this.error(res, 404, 'unknown upload session', 'notFound');
        return;
      }
      const range = String(req.headers['content-range'] ?? '');
      if (req.body.length === 0 && /^bytes \*\//.test(range)) {
        // Status query: finished sessions answer with the object, open ones with "nothing persisted yet".
        if (session.done) {
          sendJson(res, 200, this.resource(session.done));
        } else {
          res.writeHead(308, { 'content-length': 0 });
          res.end();
        }
        return;
      }
      session.done = this.store(session.bucket, session.name, req.body, session.contentType, session.metadata);
      sendJson(res, 200, this.resource(session.done));
      return;
    }
    this.error(res, 400, `unsupported upload ${req.method} ${type ?? ''}`, 'invalid');
  }

  private bucketAvailable(bucket: string, res: ServerResponse): boolean {
    const status = this.bucketStatus.get(bucket) ?? (this.buckets.has(bucket) ? undefined : 404);
    if (status === 403) {
      this.error(res, 403, 'caller does not have storage.objects.create access to the Google Cloud Storage bucket', 'forbidden');
      return false;
    }
    if (status === 404) {
      this.error(res, 404, 'The specified bucket does not exist.', 'notFound');
      return false;
    }
    return true;
  }

  private store(bucket: string, name: string, data: Buffer, contentType: string, metadata: Record<string, string>): StoredObject {
    const stored: StoredObject = {
      bucket,
      name,
      data: Buffer.from(data),
      contentType,
      metadata,
      generation: ++this.generation,
      md5Hash: createHash('md5').update(this.reportWrongHashes ? 'other data' : data).digest('base64'),
      crc32c: crc32cOf(this.reportWrongHashes ? Buffer.from('other data') : data),
      updated: new Date().toISOString(),
    };
    this.buckets.get(bucket)!.set(name, stored);
    return stored;
  }

  private resource(o: StoredObject): Record<string, unknown> {
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      name: o.name,
      bucket: o.bucket,
      generation: String(o.generation),
      metageneration: '1',
      contentType: o.contentType,
      size: String(o.data.length),
      md5Hash: o.md5Hash,
      crc32c: o.crc32c,
      timeCreated: o.updated,
      updated: o.updated,
      metadata: o.metadata,
    };
  }

  private error(res: ServerResponse, status: number, message: string, reason: string): void {
    sendJson(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
  }
}

function crc32cOf(data: Buffer): string {
  const crc = new CRC32C();
  crc.update(data);
  return crc.toString();
}

interface Part {
  headers: Record<string, string>;
  contentType?: string;
  body: Buffer;
}

function parseMultipart(body: Buffer, contentType: string): Part[] | null {
  const boundary = contentType.match(/boundary="?([^";]+)"?/)?.[1];
  if (!boundary) {
    return null;
  }
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let index = body.indexOf(delimiter);
  while (index >= 0) {
    let start = index + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') {
      break;
    }
    if (body.subarray(start, start + 2).toString() === '\r\n') {
      start += 2;
    }
    const next = body.indexOf(delimiter, start);
    if (next < 0) {
      break;
    }
    let chunk = body.subarray(start, next);
    if (chunk.subarray(chunk.length - 2).toString() === '\r\n') {
      chunk = chunk.subarray(0, chunk.length - 2);
    }
    const headerEnd = chunk.indexOf('\r\n\r\n');
    const headerText = headerEnd >= 0 ? chunk.subarray(0, headerEnd).toString('utf8') : '';
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) {
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
    }
    parts.push({ headers, contentType: headers['content-type'], body: headerEnd >= 0 ? chunk.subarray(headerEnd + 4) : chunk });
    index = next;
  }
  return parts;
}

export function start(options: { buckets?: string[] } = {}): Promise<FakeGcs> {
  return FakeGcs.start(options);
}
