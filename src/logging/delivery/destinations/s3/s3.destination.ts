import { createHash } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  checkVarNames,
  COMMON_VARS,
  type DeliveryItem,
  type DeliveryResult,
  type DestinationVarsSpec,
  type HealthResult,
  type LogDestination,
  type SettingsErrors,
  VarKinds,
} from '../../../log-destination';
import type { StandardLoggingPayload } from '../../../standard-logging-payload';
import {
  AgentPool,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type EgressOptions,
  httpCall,
  type HttpCallResult,
  httpFailure,
  httpUrlError,
  isRetryableStatus,
  mapInSlices,
  networkFailure,
  safeModelParameters,
  snippet,
  stableHex,
  unreachableHealth,
} from '../destination-support';

/**
 * LiteLLM's S3 logger settings (`litellm_settings.s3_callback_params`), usable as `callback_vars` of a team or key
 * entry too. A team admin's entry must bring its own key pair: without one the gateway's own AWS identity would
 * write into a bucket the tenant picked.
 */
export const S3_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    s3_bucket_name: VarKinds.plain,
    s3_region_name: VarKinds.plain,
    s3_path: VarKinds.plain,
    s3_endpoint_url: VarKinds.url,
    s3_aws_access_key_id: VarKinds.secret,
    s3_aws_secret_access_key: VarKinds.secret,
    s3_aws_session_token: VarKinds.secret,
    s3_use_team_prefix: VarKinds.plain,
    s3_use_key_prefix: VarKinds.plain,
    s3_use_virtual_hosted_style: VarKinds.plain,
    s3_log_prompts_only: VarKinds.plain,
    s3_server_side_encryption: VarKinds.plain,
    s3_sse_kms_key_id: VarKinds.plain,
  },
  required: [['s3_bucket_name']],
  requiredForNonAdmin: [['s3_aws_access_key_id'], ['s3_aws_secret_access_key']],
};

/**
 * LiteLLM s3_callback_params Gatehouse reads but does not act on, with why (the config reader warns about them).
 * Any other name is not an S3 setting of LiteLLM's.
 */
export const S3_PARAMS_NOT_USED: Readonly<Record<string, string>> = {
  s3_api_version: 'the signer speaks the current S3 API',
  s3_use_ssl: 'the scheme of s3_endpoint_url decides (AWS itself is always https)',
  s3_verify: 'TLS certificates are always verified',
  s3_config: 'botocore configuration has no equivalent',
  s3_flush_interval: 'the delivery thread batches every destination',
  s3_batch_size: 'the delivery thread batches every destination',
  s3_strip_base64_files: 'not supported',
  s3_aws_session_name: 'Gatehouse does not assume roles',
  s3_aws_profile_name: 'Gatehouse does not read AWS profiles',
  s3_aws_role_name: 'Gatehouse does not assume roles',
  s3_aws_web_identity_token: 'Gatehouse does not assume roles',
  s3_aws_sts_endpoint: 'Gatehouse does not assume roles',
};

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3Settings {
  readonly bucket: string;
  readonly region: string;
  /** `s3_path` without surrounding slashes; may be empty. */
  readonly path: string;
  /** `s3_endpoint_url` (S3-compatible store), without trailing slash; null: AWS's endpoint for the region. */
  readonly endpoint: string | null;
  readonly virtualHosted: boolean;
  /** Null: the AWS environment (AWS_ACCESS_KEY_ID, ...), for entries of the proxy admin and config only. */
  readonly credentials: S3Credentials | null;
  readonly teamPrefix: boolean;
  readonly keyPrefix: boolean;
  readonly promptsOnly: boolean;
  readonly serverSideEncryption: string | null;
  readonly kmsKeyId: string | null;
}

export interface S3DestinationOptions {
  egress?: EgressOptions;
  requestTimeoutMs?: number;
  /**
   * Whether an entry without its own key pair signs with the AWS environment's (AWS_ACCESS_KEY_ID,
   * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). True for the trusted instance only.
   */
  ambientCredentials?: boolean;
  /** Where the AWS environment is read (tests pass one); default process.env. */
  env?: NodeJS.ProcessEnv;
  maxSigners?: number;
}

// S3 bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** S3 refuses keys longer than 1024 bytes. */
const MAX_KEY_BYTES = 1024;

/** node:crypto's SHA-256 behind the interface the signer takes (as the Bedrock provider signs). */
const Sha256 = Hash.bind(null, 'sha256');

/**
 * LiteLLM's S3 logger: PUTs the standard logging payload as JSON under `<s3_path>/<YYYY-MM-DD>/time-<HH-MM-SS-ffffff>_<id>.json`,
 * signed with AWS Signature Version 4 (the AWS SDK's own signer). LiteLLM writes one object per event; this writes one
 * object per delivered batch (per date and prefix folder in it), one JSON document per line, so a batch of one is
 * exactly LiteLLM's object and a larger one reads with the same JSON-lines readers (Athena, Glue, Spark).
 */
export class S3Destination implements LogDestination<S3Settings> {
  readonly kind = 's3' as const;
  private readonly agents: AgentPool;
  private readonly requestTimeoutMs: number;
  private readonly ambientCredentials: boolean;
  private readonly env: NodeJS.ProcessEnv;
  private readonly maxSigners: number;
  private readonly signers = new Map<string, SignatureV4>();

  constructor(options: S3DestinationOptions = {}) {
    this.agents = new AgentPool(options.egress);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.ambientCredentials = options.ambientCredentials ?? false;
    this.env = options.env ?? process.env;
    this.maxSigners = Math.max(1, options.maxSigners ?? 200);
  }

  parseSettings(vars: Readonly<Record<string, string>>): { settings: S3Settings } | { errors: SettingsErrors } {
    const errors = checkVarNames('s3', S3_VARS, vars);
    const text = (name: string): string => (vars[name] ?? '').trim();
    const bucket = text('s3_bucket_name').replace(/^s3:\/\//, '').replace(/\/+$/, '');
    if (bucket !== '' && !isValidBucketName(bucket)) {
      errors.push({ field: 's3_bucket_name', message: `${bucket} is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)` });
    }
    const region = text('s3_region_name') || this.env.AWS_REGION_NAME?.trim() || this.env.AWS_REGION?.trim() || this.env.AWS_DEFAULT_REGION?.trim() || 'us-east-1';
    if (!REGION_NAME.test(region)) {
      errors.push({ field: 's3_region_name', message: `${region} is not an AWS region name (e.g. us-east-1)` });
    }
    const path = text('s3_path').replace(/^\/+|\/+$/g, '');
    if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
      errors.push({ field: 's3_path', message: 's3_path must not contain . or .. segments' });
    }
    let endpoint: string | null = null;
    if (text('s3_endpoint_url') !== '') {
      endpoint = text('s3_endpoint_url').replace(/\/+$/, '');
      const urlError = httpUrlError('s3_endpoint_url', endpoint);
      if (urlError) errors.push(urlError);
      else if (new URL(endpoint).search !== '' || new URL(endpoint).hash !== '') {
        errors.push({ field: 's3_endpoint_url', message: 's3_endpoint_url must not carry a query or fragment' });
      }
    }
    const accessKeyId = text('s3_aws_access_key_id');
    const secretAccessKey = text('s3_aws_secret_access_key');
    const sessionToken = text('s3_aws_session_token');
    let credentials: S3Credentials | null = null;
    if (accessKeyId !== '' || secretAccessKey !== '') {
      if (accessKeyId === '') errors.push({ field: 's3_aws_access_key_id', message: 's3_aws_access_key_id is required with s3_aws_secret_access_key' });
      else if (secretAccessKey === '') errors.push({ field: 's3_aws_secret_access_key', message: 's3_aws_secret_access_key is required with s3_aws_access_key_id' });
      else credentials = sessionToken === '' ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
    } else if (sessionToken !== '') {
      errors.push({ field: 's3_aws_session_token', message: 's3_aws_session_token needs s3_aws_access_key_id and s3_aws_secret_access_key' });
    }
    const flag = (name: string): boolean => {
      const value = text(name).toLowerCase();
      if (value === '' || value === 'false' || value === '0' || value === 'no') return false;
      if (value === 'true' || value === '1' || value === 'yes') return true;
      errors.push({ field: name, message: `${name} must be true or false` });
      return false;
    };
    const teamPrefix = flag('s3_use_team_prefix');
    const keyPrefix = flag('s3_use_key_prefix');
    const virtualHosted = flag('s3_use_virtual_hosted_style');
    const promptsOnly = flag('s3_log_prompts_only');
    const kmsKeyId = text('s3_sse_kms_key_id') || null;
    // As LiteLLM: a KMS key alone means aws:kms; a KMS key with another algorithm is an error here (LiteLLM drops the key).
    const serverSideEncryption = text('s3_server_side_encryption') || (kmsKeyId ? 'aws:kms' : null);
    if (serverSideEncryption !== null && !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(serverSideEncryption)) {
      errors.push({ field: 's3_server_side_encryption', message: 's3_server_side_encryption must be AES256, aws:kms or aws:kms:dsse' });
    } else if (kmsKeyId !== null && !serverSideEncryption?.startsWith('aws:kms')) {
      errors.push({ field: 's3_sse_kms_key_id', message: 's3_sse_kms_key_id needs s3_server_side_encryption aws:kms' });
    }
    if (errors.length > 0) return { errors };
    return {
      settings: { bucket, region, path, endpoint, virtualHosted, credentials, teamPrefix, keyPrefix, promptsOnly, serverSideEncryption, kmsKeyId },
    };
  }

  async send(items: readonly DeliveryItem[], settings: S3Settings): Promise<DeliveryResult> {
    if (items.length === 0) return { ok: true };
    const credentials = this.credentialsFor(settings);
    if ('error' in credentials) return { ok: false, retryable: false, error: credentials.error };
    const groups = objectsFor(items, settings);
    const results = await Promise.all(groups.map(async (group) => ({ group, result: await this.put(group, settings, credentials.credentials) })));
    const failed = results.filter((r) => !r.result.ok);
    if (failed.length === 0) return { ok: true };
    const failures = failed.map((f) => f.result).filter((r): r is Extract<DeliveryResult, { ok: false }> => !r.ok);
    const retryable = failures.some((f) => f.retryable);
    const retryAfterMs = Math.max(...failures.map((f) => f.retryAfterMs ?? 0));
    return {
      ok: false,
      retryable,
      ...(retryable && retryAfterMs > 0 ? { retryAfterMs } : {}),
      error: failures[0].error,
      ...(failed.length < groups.length ? { failedEventIds: failed.flatMap((f) => f.group.items.map((item) => item.eventId)) } : {}),
    };
  }

  /** HeadBucket: the credentials reach the bucket (it needs s3:ListBucket); nothing is written. */
  async checkHealth(settings: S3Settings): Promise<HealthResult> {
    const credentials = this.credentialsFor(settings);
    if ('error' in credentials) return { healthy: false, details: credentials.error };
    const url = bucketUrl(settings, '');
    const target = `bucket ${settings.bucket}`;
    let response: HttpCallResult;
    try {
      const headers = await this.sign('HEAD', url, {}, '', settings, credentials.credentials);
      response = await httpCall(this.agents, { method: 'HEAD', url: url.href, headers, timeoutMs: this.requestTimeoutMs });
    } catch (err) {
      return unreachableHealth(err, `S3 for ${target}`);
    }
    if (response.status >= 200 && response.status < 300) {
      return { healthy: true, details: `S3 credentials can access ${target} in ${settings.region}` };
    }
    const actualRegion = headerValue(response, 'x-amz-bucket-region');
    if (actualRegion && actualRegion !== settings.region) {
      return { healthy: false, details: `${target} is in region ${actualRegion}, not ${settings.region}: set s3_region_name` };
    }
    if (response.status === 404) return { healthy: false, details: `${target} not found` };
    if (response.status === 403) {
      return { healthy: false, details: `S3 refused access to ${target} (HTTP 403): check the credentials and that they may s3:ListBucket on it` };
    }
    return { healthy: false, details: `S3 answered HTTP ${response.status} for ${target}` };
  }

  async close(): Promise<void> {
    this.signers.clear();
    await this.agents.close();
  }

  private async put(group: S3Object, settings: S3Settings, credentials: S3Credentials): Promise<DeliveryResult> {
    const body = (await mapInSlices(group.items, (item) => JSON.stringify(lineFor(item.payload, settings)))).join('\n') + '\n';
    const url = bucketUrl(settings, group.key);
    const target = `S3 bucket ${settings.bucket}`;
    let response: HttpCallResult;
    try {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'content-md5': createHash('md5').update(body).digest('base64'),
        'content-language': 'en',
        'content-disposition': `inline; filename="${group.fileName}"`,
        'cache-control': 'private, immutable, max-age=31536000, s-maxage=0',
      };
      if (settings.serverSideEncryption) headers['x-amz-server-side-encryption'] = settings.serverSideEncryption;
      if (settings.kmsKeyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = settings.kmsKeyId;
      const signed = await this.sign('PUT', url, headers, body, settings, credentials);
      response = await httpCall(this.agents, { method: 'PUT', url: url.href, headers: signed, body, timeoutMs: this.requestTimeoutMs });
    } catch (err) {
      return networkFailure(err, target);
    }
    if (response.status >= 200 && response.status < 300) return { ok: true };
    const code = xmlElement(response.text, 'Code');
    const message = xmlElement(response.text, 'Message');
    const detail = code ? `${code}${message ? ` (${snippet(message, 160)})` : ''}` : snippet(response.text);
    const actualRegion = headerValue(response, 'x-amz-bucket-region');
    if (response.status === 301 && actualRegion) {
      return { ok: false, retryable: false, error: `${target} is in region ${actualRegion}, not ${settings.region}: set s3_region_name` };
    }
    return httpFailure(response.status, target, isRetryableStatus(response.status), response.headers['retry-after'], detail);
  }

  private credentialsFor(settings: S3Settings): { credentials: S3Credentials } | { error: string } {
    if (settings.credentials) return { credentials: settings.credentials };
    if (!this.ambientCredentials) {
      return { error: 's3_aws_access_key_id and s3_aws_secret_access_key are required for an entry set through the API' };
    }
    const accessKeyId = this.env.AWS_ACCESS_KEY_ID?.trim();
    const secretAccessKey = this.env.AWS_SECRET_ACCESS_KEY?.trim();
    const sessionToken = this.env.AWS_SESSION_TOKEN?.trim();
    if (!accessKeyId || !secretAccessKey) {
      return {
        error:
          'no AWS credentials: set s3_aws_access_key_id and s3_aws_secret_access_key, or the environment variables AWS_ACCESS_KEY_ID and ' +
          'AWS_SECRET_ACCESS_KEY (profiles, role assumption and instance roles are not supported)',
      };
    }
    return { credentials: sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey } };
  }

  private async sign(
    method: 'PUT' | 'HEAD',
    url: URL,
    headers: Record<string, string>,
    body: string,
    settings: S3Settings,
    credentials: S3Credentials,
  ): Promise<Record<string, string>> {
    const signed = await this.signerFor(settings.region, credentials).sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port !== '' ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { ...headers, host: url.host },
      body,
    });
    return signed.headers;
  }

  /** One signer per identity and region: it caches the day's signing key, so a PUT costs a few hashes. */
  private signerFor(region: string, credentials: S3Credentials): SignatureV4 {
    const key = stableHex([region, credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken ?? ''], 32);
    const cached = this.signers.get(key);
    if (cached) {
      this.signers.delete(key);
      this.signers.set(key, cached);
      return cached;
    }
    // S3 is the one service whose canonical URI is the path as sent (encoded once, not twice): uriEscapePath false.
    const signer = new SignatureV4({ service: 's3', region, credentials, sha256: Sha256, uriEscapePath: false, applyChecksum: true });
    this.signers.set(key, signer);
    while (this.signers.size > this.maxSigners) this.signers.delete(this.signers.keys().next().value as string);
    return signer;
  }
}

/** One object to PUT: the events of a batch that share its folder. */
export interface S3Object {
  readonly key: string;
  readonly fileName: string;
  readonly items: readonly DeliveryItem[];
}

/**
 * A batch as S3 objects, one per folder (`<s3_path>/<team alias>/<key alias>/<YYYY-MM-DD>/`, the prefixes when
 * enabled, the UTC date of each event's start). An object of one event is named as LiteLLM names it,
 * `time-<HH-MM-SS-ffffff>_<id>.json`; one of several `time-<HH-MM-SS-ffffff>_batch-<n>-<hash16>.json`, from its
 * earliest event and the hash of its event ids. Both derive from the events only: a batch delivered again (after a
 * lost acknowledgement) overwrites its own object instead of duplicating its events.
 */
export function objectsFor(items: readonly DeliveryItem[], settings: Pick<S3Settings, 'path' | 'teamPrefix' | 'keyPrefix'>): S3Object[] {
  const folders = new Map<string, DeliveryItem[]>();
  for (const item of items) {
    const folder = folderOf(item.payload, settings);
    const list = folders.get(folder);
    if (list) list.push(item);
    else folders.set(folder, [item]);
  }
  return [...folders].map(([folder, grouped]) => {
    const earliest = grouped.reduce((a, b) => (startOf(b.payload) < startOf(a.payload) ? b : a));
    const time = `time-${clockOf(startOf(earliest.payload))}`;
    if (grouped.length === 1) {
      const fileName = `${time}_${String(earliest.payload.id ?? earliest.payload.litellm_call_id).replace(/\//g, '_')}.json`;
      const key = `${folder}${fileName}`;
      if (Buffer.byteLength(key) <= MAX_KEY_BYTES) return { key, fileName: safeFileName(fileName), items: grouped };
    }
    const fileName = `${time}_batch-${grouped.length}-${stableHex([...grouped.map((item) => item.eventId)].sort(), 16)}.json`;
    return { key: `${folder}${fileName}`, fileName, items: grouped };
  });
}

function folderOf(payload: StandardLoggingPayload, settings: Pick<S3Settings, 'path' | 'teamPrefix' | 'keyPrefix'>): string {
  const parts: string[] = [];
  if (settings.path) parts.push(settings.path);
  if (settings.teamPrefix && payload.metadata?.user_api_key_team_alias) parts.push(String(payload.metadata.user_api_key_team_alias));
  if (settings.keyPrefix && payload.metadata?.user_api_key_alias) parts.push(String(payload.metadata.user_api_key_alias));
  parts.push(new Date(Math.floor(startOf(payload) * 1000)).toISOString().slice(0, 10));
  return `${parts.join('/')}/`;
}

function startOf(payload: StandardLoggingPayload): number {
  return typeof payload.startTime === 'number' && Number.isFinite(payload.startTime) ? payload.startTime : 0;
}

/** `HH-MM-SS-ffffff` (UTC, microseconds), LiteLLM's time part of an object name. */
function clockOf(epochSeconds: number): string {
  const micros = Math.round(epochSeconds * 1e6);
  const seconds = Math.floor(micros / 1e6);
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(11, 13)}-${iso.slice(14, 16)}-${iso.slice(17, 19)}-${String(micros - seconds * 1e6).padStart(6, '0')}`;
}

function safeFileName(name: string): string {
  // Quotes, backslashes and non-ASCII cannot go into a quoted Content-Disposition filename.
  return name.replace(/["\\]/g, '_').replace(/[^\x20-\x7e]/g, '_');
}

/** What LiteLLM writes: the standard logging payload, minus credential-shaped parameters; no response when prompts only. */
function lineFor(payload: StandardLoggingPayload, settings: S3Settings): StandardLoggingPayload {
  return { ...payload, model_parameters: safeModelParameters(payload.model_parameters), ...(settings.promptsOnly ? { response: null } : {}) };
}

/**
 * The object's URL, as LiteLLM builds it: AWS's virtual-hosted endpoint for the region (path-style when the bucket
 * name has dots, which no wildcard certificate covers); with `s3_endpoint_url`, path-style `<endpoint>/<bucket>/<key>`
 * unless `s3_use_virtual_hosted_style`. Each key segment is percent-encoded once, as S3 canonicalises it.
 */
export function bucketUrl(settings: Pick<S3Settings, 'bucket' | 'region' | 'endpoint' | 'virtualHosted'>, key: string): URL {
  const encodedKey = key.split('/').map(uriEncode).join('/');
  // Path-style, the bucket itself (HeadBucket) is `/<bucket>`, as the AWS SDK sends it.
  const objectPath = key === '' ? '' : `/${encodedKey}`;
  if (settings.endpoint) {
    const endpoint = new URL(settings.endpoint);
    const base = endpoint.pathname.replace(/\/+$/, '');
    if (settings.virtualHosted) return new URL(`${endpoint.protocol}//${settings.bucket}.${endpoint.host}${base}/${encodedKey}`);
    return new URL(`${endpoint.origin}${base}/${settings.bucket}${objectPath}`);
  }
  const suffix = settings.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  if (settings.bucket.includes('.')) return new URL(`https://s3.${settings.region}.${suffix}/${settings.bucket}${objectPath}`);
  return new URL(`https://${settings.bucket}.s3.${settings.region}.${suffix}/${encodedKey}`);
}

/** RFC 3986 unreserved characters stay; every other byte becomes %XX, as AWS's SigV4 specifies. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name) && !name.startsWith('xn--');
}

/** The text of S3's `<Name>…</Name>` error element (Code, Message); never the others, which may echo the key id or the canonical request. */
function xmlElement(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]{0,500})</${name}>`).exec(xml);
  return match ? match[1] : undefined;
}

function headerValue(response: HttpCallResult, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
