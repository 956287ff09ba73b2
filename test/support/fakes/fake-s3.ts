import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeHttpServer, type FailureSpec, type RecordedRequest } from './fake-http-server';
import { verifySigV4, type AwsCredentials } from './sigv4-verifier';

export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly body: Buffer;
  readonly text: string;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The access key id that signed the PUT. */
  readonly signedBy: string;
}

export interface FakeS3Options {
  readonly credentials: readonly AwsCredentials[];
  /** Bucket name → its region (default us-east-1). */
  readonly buckets: Readonly<Record<string, string>> | readonly string[];
}

/** S3's error answer: XML with Code and Message (and, for a bad signature, the canonical request in its own element). */
function sendS3Error(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): void {
  const elements = Object.entries(extra)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${elements}<RequestId>FAKE0000</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', ...headers, ...(res.req.method === 'HEAD' ? {} : { 'content-length': Buffer.byteLength(text) }) });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** The verifier's error types as S3 names them. */
const S3_ERROR_CODES: Record<string, string> = {
  InvalidSignatureException: 'SignatureDoesNotMatch',
  UnrecognizedClientException: 'InvalidAccessKeyId',
  IncompleteSignatureException: 'AuthorizationHeaderMalformed',
};

/**
 * Amazon S3 on loopback, path-style (`/<bucket>/<key>`; virtual-hosted names need DNS for `<bucket>.<host>`, which
 * loopback has not): PutObject, GetObject, HeadBucket and ListObjectsV2. Every request's SigV4 signature is verified
 * with S3's rules (sigv4-verifier.ts, `s3: true`) against the known secrets, and refused as S3 refuses it: 403
 * `SignatureDoesNotMatch` / `InvalidAccessKeyId` in S3's XML error format. A request signed for another region than
 * the bucket's gets 400 `AuthorizationHeaderMalformed` (301 for HeadBucket) with `x-amz-bucket-region`, as S3 answers.
 * Content-MD5 is checked (400 `BadDigest`). Failures are injected with `setFailure`, access denied per bucket with
 * `denyAccess`.
 */
export class FakeS3 {
  private readonly buckets = new Map<string, { region: string; objects: Map<string, StoredObject> }>();
  private readonly denied = new Set<string>();

  private constructor(
    private readonly http: FakeHttpServer,
    private readonly options: FakeS3Options,
  ) {
    const entries = Array.isArray(options.buckets)
      ? (options.buckets as readonly string[]).map((name) => [name, 'us-east-1'] as const)
      : Object.entries(options.buckets as Record<string, string>);
    for (const [name, region] of entries) this.buckets.set(name, { region, objects: new Map() });
  }

  static async start(options: FakeS3Options): Promise<FakeS3> {
    let fake: FakeS3 | null = null;
    const http = await FakeHttpServer.start((req, res) => fake!.handle(req, res));
    fake = new FakeS3(http, options);
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

  /** The PutObject requests that reached the store (signature verified). */
  get puts(): RecordedRequest[] {
    return this.http.requests.filter((r) => r.method === 'PUT');
  }

  objects(bucket: string): StoredObject[] {
    return [...(this.buckets.get(bucket)?.objects.values() ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Every JSON line of every object of the bucket. */
  lines(bucket: string): Record<string, unknown>[] {
    return this.objects(bucket).flatMap((o) =>
      o.text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
  }

  denyAccess(bucket: string, denied = true): void {
    if (denied) this.denied.add(bucket);
    else this.denied.delete(bucket);
  }

  /** S3's overload answer by default: 503 SlowDown. */
  setFailure(spec: FailureSpec | null): void {
    this.http.setFailure(
      spec && {
        ...spec,
        headers: { 'content-type': 'application/xml', ...(spec.headers ?? {}) },
        body: spec.body ?? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`,
      },
    );
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

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const [, bucketName = '', ...keyParts] = req.path.split('/');
    const bucket = this.buckets.get(bucketName);
    if (bucketName === '') {
      sendS3Error(res, 400, 'InvalidRequest', 'This fake serves path-style bucket requests only');
      return;
    }
    if (!bucket) {
      sendS3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucketName });
      return;
    }
    const scopeRegion = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    if (scopeRegion !== undefined && scopeRegion !== bucket.region) {
      const status = req.method === 'HEAD' ? 301 : 400;
      sendS3Error(
        res,
        status,
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${scopeRegion}' is wrong; expecting '${bucket.region}'`,
        { Region: bucket.region },
        { 'x-amz-bucket-region': bucket.region },
      );
      return;
    }
    const verdict = verifySigV4({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body,
      region: bucket.region,
      service: 's3',
      credentials: this.options.credentials,
      s3: true,
    });
    if (!verdict.ok) {
      const [message, ...rest] = verdict.message.split('\n');
      const canonical = /should have been\n'([\s\S]*?)'\n/.exec(rest.join('\n'))?.[1];
      sendS3Error(res, verdict.status, S3_ERROR_CODES[verdict.errorType] ?? verdict.errorType, message, canonical ? { CanonicalRequest: canonical } : {});
      return;
    }
    if (this.denied.has(bucketName)) {
      sendS3Error(res, 403, 'AccessDenied', 'Access Denied', {}, { 'x-amz-bucket-region': bucket.region });
      return;
    }
    const key = keyParts.map((part) => decodeURIComponent(part)).join('/');
    if (req.method === 'HEAD' && key === '') {
      res.writeHead(200, { 'x-amz-bucket-region': bucket.region, 'x-amz-access-point-alias': 'false' });
      res.end();
      return;
    }
    if (req.method === 'GET' && key === '' && req.query.get('list-type') === '2') {
      this.list(req, res, bucketName, bucket.objects);
      return;
    }
    if (req.method === 'PUT' && key !== '') {
      const md5 = header(req, 'content-md5');
      const digest = createHash('md5').update(req.body).digest();
      if (md5 !== undefined && md5 !== digest.toString('base64')) {
        sendS3Error(res, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
        return;
      }
      bucket.objects.set(key, {
        bucket: bucketName,
        key,
        body: req.body,
        text: req.body.toString('utf8'),
        contentType: header(req, 'content-type'),
        headers: Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value])),
        signedBy: verdict.accessKeyId,
      });
      res.writeHead(200, { etag: `"${digest.toString('hex')}"`, 'content-length': 0 });
      res.end();
      return;
    }
    if (req.method === 'GET' && key !== '') {
      const object = bucket.objects.get(key);
      if (!object) {
        sendS3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        return;
      }
      res.writeHead(200, { 'content-type': object.contentType ?? 'binary/octet-stream', 'content-length': object.body.length });
      res.end(object.body);
      return;
    }
    sendS3Error(res, 405, 'MethodNotAllowed', `The fake does not serve ${req.method} ${req.path}`);
  }

  private list(req: RecordedRequest, res: ServerResponse, bucketName: string, objects: Map<string, StoredObject>): void {
    const prefix = req.query.get('prefix') ?? '';
    const maxKeys = Number(req.query.get('max-keys') ?? 1000);
    const matching = [...objects.values()].filter((o) => o.key.startsWith(prefix)).sort((a, b) => a.key.localeCompare(b.key));
    const listed = matching.slice(0, maxKeys);
    const contents = listed
      .map(
        (o) =>
          `<Contents><Key>${escapeXml(o.key)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>` +
          `<ETag>&quot;${createHash('md5').update(o.body).digest('hex')}&quot;</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      )
      .join('');
    const text =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${escapeXml(bucketName)}</Name>` +
      `<Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${listed.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
      `<IsTruncated>${listed.length < matching.length}</IsTruncated>${contents}</ListBucketResult>`;
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function header(req: RecordedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
