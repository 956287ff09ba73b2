import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export type Verdict =
  | { ok: true; accessKeyId: string; signedHeaders: string[] }
  | { ok: false; status: number; errorType: string; message: string };

/** How far a request's X-Amz-Date may be from the fake's clock (AWS allows 5 minutes). */
const MAX_SKEW_MS = 5 * 60_000;

/**
 * Checks an AWS Signature Version 4 as AWS does, written out from AWS's documentation with node:crypto's SHA-256
 * and HMAC — on purpose not with the signer the gateway uses, so the two are independent. The canonical URI is
 * built from the path *as sent* (model id already percent-encoded), each segment URI-encoded once more: the
 * double encoding every AWS service but S3 expects. A wrong secret, path encoding, body hash, signed-header set,
 * scope or session token fails like AWS fails: 403 with `InvalidSignatureException` (or
 * `UnrecognizedClientException` for an unknown key or token), the message quoting the canonical request AWS
 * expected, as AWS's does.
 */
export function verifySigV4(params: {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  region: string;
  service: string;
  credentials: readonly AwsCredentials[];
  now?: number;
  /**
   * S3's rules instead of every other service's: the canonical URI is the path encoded once (each segment decoded,
   * then URI-encoded), `x-amz-content-sha256` is required and may be `UNSIGNED-PAYLOAD` (or a streaming mode).
   */
  s3?: boolean;
}): Verdict {
  const authorization = header(params.headers, 'authorization');
  const match = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(authorization ?? '');
  if (match === null) return refuse('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature.', 400);
  const [, accessKeyId, day, region, service, signedHeaderList, signature] = match;
  const credentials = params.credentials.find((c) => c.accessKeyId === accessKeyId);
  if (credentials === undefined) return refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  if ((credentials.sessionToken ?? null) !== (header(params.headers, 'x-amz-security-token') ?? null)) {
    return refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (region !== params.region || service !== params.service) {
    return refuse('InvalidSignatureException', `Credential should be scoped to a valid region and service: '${params.region}/${params.service}'.`);
  }
  const amzDate = header(params.headers, 'x-amz-date') ?? '';
  const signedAt = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!Number.isFinite(signedAt) || !amzDate.startsWith(day)) return refuse('IncompleteSignatureException', 'X-Amz-Date is missing or does not match the credential scope.', 400);
  if (Math.abs((params.now ?? Date.now()) - signedAt) > MAX_SKEW_MS) return refuse('InvalidSignatureException', 'Signature expired: the request time is too far from the server time.');

  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return refuse('InvalidSignatureException', "'Host' must be a signed header.");
  let payloadHash = sha256Hex(params.body);
  const claimedHash = header(params.headers, 'x-amz-content-sha256');
  if (params.s3 && claimedHash === undefined) return refuse('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400);
  if (params.s3 && claimedHash !== undefined && (claimedHash === 'UNSIGNED-PAYLOAD' || claimedHash.startsWith('STREAMING-'))) {
    payloadHash = claimedHash;
  } else if (claimedHash !== undefined && claimedHash !== payloadHash) {
    return refuse(params.s3 ? 'XAmzContentSHA256Mismatch' : 'InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.', 400);
  }

  const queryAt = params.url.indexOf('?');
  const rawPath = queryAt === -1 ? params.url : params.url.slice(0, queryAt);
  const canonicalRequest = [
    params.method,
    params.s3 ? canonicalS3Uri(rawPath) : canonicalUri(rawPath),
    canonicalQuery(queryAt === -1 ? '' : params.url.slice(queryAt + 1)),
    signedHeaders.map((name) => `${name}:${(header(params.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaderList,
    payloadHash,
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(Buffer.from(canonicalRequest))].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign).toString('hex');
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return refuse(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. ' +
        `Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${canonicalRequest}'\n\n` +
        `The String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return { ok: true, accessKeyId, signedHeaders };
}

/** Each segment of the path as sent, URI-encoded again (`%3A` → `%253A`). */
export function canonicalUri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
}

/** S3: each segment of the path encoded exactly once (what was sent, decoded, then URI-encoded). */
export function canonicalS3Uri(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((pair) => pair.split('=').map((part) => uriEncode(decodeURIComponent(part))))
    .sort((a, b) => (a[0] === b[0] ? (a[1] ?? '').localeCompare(b[1] ?? '') : a[0].localeCompare(b[0])))
    .map(([name, value]) => `${name}=${value ?? ''}`)
    .join('&');
}

/** RFC 3986 unreserved characters stay; every other byte becomes %XX (upper-case hex), as AWS specifies. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function refuse(errorType: string, message: string, status = 403): Verdict {
  return { ok: false, status, errorType, message };
}
