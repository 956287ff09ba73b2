import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import {
  checkVarNames,
  COMMON_VARS,
  type DestinationVarsSpec,
  VarKinds,
  type DeliveryItem,
  type DeliveryResult,
  type HealthResult,
  type LogDestination,
  type SettingsErrors,
} from '../../../log-destination';
import { isInlineJson } from '../../../host-file-path';
import type { StandardLoggingPayload } from '../../../standard-logging-payload';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  mapInSlices,
  networkErrorCode,
  parseRetryAfter,
  safeModelParameters,
  sha256Hex,
  snippet,
  stableHex,
} from '../destination-support';
import { jsonReusing, shareJson } from '../../event-json';

/** LiteLLM's GCS bucket callback_vars. A team admin's entry must bring its own service account. */
export const GCS_BUCKET_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    gcs_bucket_name: VarKinds.plain,
    gcs_path_service_account: { secret: true, url: false, adminOnly: true, hostFile: true },
    gcs_service_account_json: VarKinds.secret,
  },
  required: [['gcs_bucket_name']],
  requiredForNonAdmin: [['gcs_service_account_json']],
};

export interface GcsServiceAccount {
  readonly client_email: string;
  readonly private_key: string;
  readonly project_id?: string;
}

export interface GcsBucketSettings {
  readonly bucket: string;
  /** Folder inside the bucket (from `gcs_bucket_name: "bucket/a/b"`), without surrounding slashes; may be empty. */
  readonly prefix: string;
  /** Null: the gateway's ambient credentials (ADC), or none at all against an emulator. */
  readonly serviceAccount: GcsServiceAccount | null;
}

export interface GcsBucketDestinationOptions {
  /** Storage JSON API base (emulator or fake); without it the library honours STORAGE_EMULATOR_HOST, else Google. */
  apiEndpoint?: string;
  /** Used when neither the service account nor ADC says which project. */
  projectId?: string;
  requestTimeoutMs?: number;
  /** Distinct credential sets kept as Storage clients at once. */
  maxClients?: number;
  /** Reads `gcs_path_service_account` files (tests inject one); the default is `readServiceAccountFile`. */
  readFile?: (path: string) => string;
}

// GCS bucket naming rules (lowercase, digits, -, _, .; 3-63 chars per dot-separated part, 222 in total).
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/**
 * Writes each delivered batch as one NDJSON object (LiteLLM's batched GCS layout), uploaded in a single
 * non-resumable request so an object exists completely or not at all.
 */
export class GcsBucketDestination implements LogDestination<GcsBucketSettings> {
  readonly kind = 'gcs_bucket' as const;
  private readonly clients = new Map<string, Storage>();
  private readonly requestTimeoutMs: number;
  private readonly maxClients: number;
  private readonly readFile: (path: string) => string;

  constructor(private readonly options: GcsBucketDestinationOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxClients = Math.max(1, options.maxClients ?? 200);
    this.readFile = options.readFile ?? readServiceAccountFile;
  }

  parseSettings(vars: Readonly<Record<string, string>>): { settings: GcsBucketSettings } | { errors: SettingsErrors } {
    const errors = checkVarNames('gcs_bucket', GCS_BUCKET_VARS, vars);
    const raw = (vars.gcs_bucket_name ?? '').trim().replace(/^gs:\/\//, '');
    const [bucket, ...folders] = raw.split('/');
    const prefix = folders.filter((segment) => segment !== '').join('/');
    if (raw !== '' && !isValidBucketName(bucket)) {
      errors.push({ field: 'gcs_bucket_name', message: `${bucket} is not a valid GCS bucket name` });
    }
    if (folders.some((segment) => segment === '.' || segment === '..')) {
      errors.push({ field: 'gcs_bucket_name', message: 'the folder part must not contain . or .. segments' });
    }
    const json = vars.gcs_service_account_json?.trim();
    const path = vars.gcs_path_service_account?.trim();
    let serviceAccount: GcsServiceAccount | null = null;
    if (json && path) {
      errors.push({ field: 'gcs_service_account_json', message: 'set gcs_service_account_json or gcs_path_service_account, not both' });
    } else if (json) {
      const parsed = parseServiceAccount(json);
      if ('error' in parsed) {
        errors.push({ field: 'gcs_service_account_json', message: parsed.error });
      } else {
        serviceAccount = parsed.account;
      }
    } else if (path && isInlineJson(path)) {
      // The seed's `os.environ/NAME` may hold the JSON itself rather than a path to it.
      const parsed = parseServiceAccount(path);
      if ('error' in parsed) {
        errors.push({ field: 'gcs_path_service_account', message: parsed.error });
      } else {
        serviceAccount = parsed.account;
      }
    } else if (path) {
      let content: string | null = null;
      try {
        content = this.readFile(path);
      } catch (err) {
        // Neither the path nor any file content is echoed: the path is admin-only and content may be anything.
        errors.push({ field: 'gcs_path_service_account', message: `cannot read the service account file (${networkErrorCode(err)})` });
      }
      if (content !== null) {
        const parsed = parseServiceAccount(content);
        if ('error' in parsed) {
          errors.push({ field: 'gcs_path_service_account', message: `the file ${parsed.error.replace(/^the value /, '')}` });
        } else {
          serviceAccount = parsed.account;
        }
      }
    }
    if (errors.length > 0) {
      return { errors };
    }
    return { settings: { bucket, prefix, serviceAccount } };
  }

  async send(items: readonly DeliveryItem[], settings: GcsBucketSettings): Promise<DeliveryResult> {
    if (items.length === 0) {
      return { ok: true };
    }
    const name = objectNameFor(items, settings.prefix);
    const body = (await mapInSlices(items, (item) => ndjsonLine(item.payload))).join('\n') + '\n';
    try {
      await this.storageFor(settings)
        .bucket(settings.bucket)
        .file(name)
        .save(body, {
          resumable: false,
          // The upload is still verified against the hash GCS reports, but with MD5 (native) rather than the
          // library's default CRC32C, which it computes in JavaScript: that cost 25 % of this send's CPU.
          validation: 'md5',
          // LiteLLM uploads NDJSON as application/json; readers of LiteLLM buckets expect that.
          contentType: 'application/json',
          metadata: { metadata: { gatehouse_event_count: String(items.length) } },
          timeout: this.requestTimeoutMs,
        });
      return { ok: true };
    } catch (err) {
      return classifyError(err, settings);
    }
  }

  async checkHealth(settings: GcsBucketSettings): Promise<HealthResult> {
    try {
      // testIamPermissions needs no permission of its own and writes nothing: it answers exactly "may these
      // credentials create objects here?", which bucket metadata or listing would not for a write-only account.
      const [granted] = await this.storageFor(settings)
        .bucket(settings.bucket)
        .iam.testPermissions(['storage.objects.create'], { timeout: this.requestTimeoutMs } as never);
      if (granted['storage.objects.create']) {
        return { healthy: true, details: `service account can create objects in bucket ${settings.bucket}` };
      }
      return { healthy: false, details: `service account lacks storage.objects.create on bucket ${settings.bucket}` };
    } catch (err) {
      const failure = classifyError(err, settings);
      return { healthy: false, details: failure.ok ? 'unknown error' : failure.error };
    }
  }

  close(): Promise<void> {
    // Storage clients hold no queue or timer; dropping them is enough.
    this.clients.clear();
    return Promise.resolve();
  }

  private storageFor(settings: GcsBucketSettings): Storage {
    const account = settings.serviceAccount;
    const key = account ? sha256Hex(account.client_email, account.private_key, account.project_id ?? '') : 'ambient';
    const cached = this.clients.get(key);
    if (cached) {
      this.clients.delete(key);
      this.clients.set(key, cached);
      return cached;
    }
    const options: StorageOptions = {
      // The delivery layer owns retries; the library's own would hide failures and stack delays.
      retryOptions: { autoRetry: false },
      timeout: this.requestTimeoutMs,
    };
    if (this.options.apiEndpoint) {
      options.apiEndpoint = this.options.apiEndpoint;
    }
    const projectId = account?.project_id ?? this.options.projectId;
    if (projectId) {
      options.projectId = projectId;
    }
    if (account) {
      options.credentials = { client_email: account.client_email, private_key: account.private_key };
    }
    const storage = new Storage(options);
    this.clients.set(key, storage);
    while (this.clients.size > this.maxClients) {
      this.clients.delete(this.clients.keys().next().value as string);
    }
    return storage;
  }
}

/**
 * `<prefix>/<YYYY-MM-DD>/batch-<epoch_ms>-<hash8>.ndjson`, LiteLLM's batched layout, but derived from the batch
 * itself (date and epoch of its earliest event, hash of its sorted event ids) instead of the flush time and a random
 * uuid: a batch redelivered after a lost acknowledgement overwrites its own object instead of duplicating every event.
 */
export function objectNameFor(items: readonly DeliveryItem[], prefix: string): string {
  const starts = items.map((item) => item.payload.startTime).filter((t) => typeof t === 'number' && Number.isFinite(t));
  const epochMs = starts.length > 0 ? Math.floor(Math.min(...starts) * 1000) : 0;
  const date = new Date(epochMs).toISOString().slice(0, 10);
  const hash = stableHex([...items.map((item) => item.eventId)].sort(), 8);
  const name = `${date}/batch-${epochMs}-${hash}.ndjson`;
  return prefix ? `${prefix}/${name}` : name;
}

/** Service-account keys are about 2.4 kB; anything much larger is not one, and is not read whole. */
const MAX_SERVICE_ACCOUNT_BYTES = 64 * 1024;

/**
 * Reads a service-account file: a regular file (a FIFO or a device would block or never end) of at most 64 KiB.
 * Errors carry a code only, never the path's content.
 */
export function readServiceAccountFile(path: string): string {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    if (stat.size > MAX_SERVICE_ACCOUNT_BYTES) throw Object.assign(new Error('file too large'), { code: 'EFBIG' });
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function parseServiceAccount(text: string): { account: GcsServiceAccount } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the input, which could be a secret or an arbitrary file.
    return { error: 'the value is not valid JSON' };
  }
  const sa = parsed as Record<string, unknown> | null;
  if (!sa || typeof sa !== 'object' || Array.isArray(sa)) {
    return { error: 'the value is not a JSON object' };
  }
  if (sa.type !== 'service_account') {
    return { error: 'the value is not a service account key (type must be "service_account")' };
  }
  if (typeof sa.client_email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(sa.client_email)) {
    return { error: 'the value has no valid client_email' };
  }
  if (typeof sa.private_key !== 'string' || !/-----BEGIN (RSA )?PRIVATE KEY-----[\s\S]+-----END (RSA )?PRIVATE KEY-----/.test(sa.private_key)) {
    return { error: 'the value has no PEM private_key' };
  }
  return {
    account: {
      client_email: sa.client_email,
      private_key: sa.private_key,
      ...(typeof sa.project_id === 'string' && sa.project_id !== '' ? { project_id: sa.project_id } : {}),
    },
  };
}

/** The payload as LiteLLM writes it, with the same credential-shaped-parameter lock the other destinations apply. */
/** The payload's JSON line, with the messages' text shared with the call's other destinations (event-json.ts). */
function ndjsonLine(payload: StandardLoggingPayload): string {
  shareJson(payload.messages);
  return jsonReusing(scrubbed(payload));
}

function scrubbed(payload: StandardLoggingPayload): StandardLoggingPayload {
  return { ...payload, model_parameters: safeModelParameters(payload.model_parameters) };
}

function isValidBucketName(name: string): boolean {
  if (!BUCKET_NAME.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith('goog')) {
    return false;
  }
  return name.split('.').every((part) => part.length >= 1 && part.length <= 63);
}

function httpStatusOf(err: unknown): number | undefined {
  const candidate = err as { code?: unknown; status?: unknown; response?: { status?: unknown; statusCode?: unknown } } | null;
  for (const value of [candidate?.code, candidate?.status, candidate?.response?.status, candidate?.response?.statusCode]) {
    if (typeof value === 'number' && value >= 100 && value < 600) {
      return value;
    }
  }
  return undefined;
}

function retryAfterOf(err: unknown): string | undefined {
  const headers = (err as { response?: { headers?: unknown } } | null)?.response?.headers;
  if (!headers || typeof headers !== 'object') {
    return undefined;
  }
  const getter = (headers as { get?: unknown }).get;
  if (typeof getter === 'function') {
    const value = (getter as (name: string) => unknown).call(headers, 'retry-after');
    return typeof value === 'string' ? value : undefined;
  }
  const value = (headers as Record<string, unknown>)['retry-after'];
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ESOCKETTIMEDOUT']);

function classifyError(err: unknown, settings: GcsBucketSettings): Extract<DeliveryResult, { ok: false }> {
  const status = httpStatusOf(err);
  const bucket = settings.bucket;
  if (status === 403) {
    return { ok: false, retryable: false, error: `service account cannot access bucket ${bucket} (HTTP 403)` };
  }
  if (status === 404) {
    return { ok: false, retryable: false, error: `bucket ${bucket} not found` };
  }
  if (status === 401) {
    return { ok: false, retryable: false, error: `GCS rejected the credentials for bucket ${bucket} (HTTP 401)` };
  }
  if (status !== undefined) {
    const retryable = status === 408 || status === 429 || status >= 500;
    const retryAfterMs = retryable ? parseRetryAfter(retryAfterOf(err)) : undefined;
    return {
      ok: false,
      retryable,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      error: `GCS answered HTTP ${status} for bucket ${bucket}: ${snippet(messageOf(err))}`,
    };
  }
  const code = networkErrorCode(err);
  if (TRANSIENT_CODES.has(code) || code.startsWith('UND_ERR_')) {
    return { ok: false, retryable: true, error: `cannot reach GCS for bucket ${bucket}: ${code}` };
  }
  if (/did not match|FILE_NO_UPLOAD|CONTENT_DOWNLOAD_MISMATCH|checksum/i.test(`${code} ${messageOf(err)}`)) {
    return { ok: false, retryable: true, error: `GCS upload to bucket ${bucket} failed its integrity check` };
  }
  // Typically a malformed key or a token exchange that failed before any HTTP status was seen.
  return { ok: false, retryable: false, error: `GCS credentials problem for bucket ${bucket}: ${snippet(credentialSafe(messageOf(err)))}` };
}

function messageOf(err: unknown): string {
  return typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : String(err);
}

/** Keeps only the first line and drops anything PEM-like, in case a library quotes the key it failed to parse. */
function credentialSafe(message: string): string {
  return message.split('\n')[0].replace(/-----BEGIN[\s\S]*/g, '[redacted]');
}
