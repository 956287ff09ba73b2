import type { StandardLoggingPayload } from './standard-logging-payload';

/** Wire names are LiteLLM's `callback_name` values, so configs written for LiteLLM keep working. */
export const DESTINATION_KINDS = ['langfuse', 'gcs_bucket', 'otel', 'langsmith'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

export function isDestinationKind(value: unknown): value is DestinationKind {
  return typeof value === 'string' && (DESTINATION_KINDS as readonly string[]).includes(value);
}

/** One event to deliver, with the stable id used for idempotency downstream (callId + entry id). */
export interface DeliveryItem {
  eventId: string;
  payload: StandardLoggingPayload;
}

export type DeliveryResult =
  | { ok: true }
  | {
      ok: false;
      /** True when sending the same batch again later can succeed (429, 5xx, network). */
      retryable: boolean;
      /** The destination's own back-off request (Retry-After), when it gave one. */
      retryAfterMs?: number;
      /** Human-readable, never contains a secret. */
      error: string;
      /**
       * Ids that failed when the destination reports per-event errors (Langfuse 207). Absent means the whole
       * batch failed; present means every other item of the batch was acknowledged.
       */
      failedEventIds?: string[];
    };

/** `details` never contains a secret. */
export interface HealthResult {
  healthy: boolean;
  details: string;
}

export type SettingsErrors = { field: string; message: string }[];

/**
 * A logging destination (one per kind). Instances are long-lived singletons; everything tenant-specific arrives
 * as `settings` on each call, so one instance serves every team and key.
 */
export interface LogDestination<S> {
  readonly kind: DestinationKind;
  /** Parse + validate callback_vars (already decrypted, env refs already resolved) into typed settings, or return field errors. */
  parseSettings(vars: Readonly<Record<string, string>>): { settings: S } | { errors: SettingsErrors };
  /** Deliver one batch; must report acknowledgement truthfully (an SDK call that always resolves is not an ack). */
  send(items: readonly DeliveryItem[], settings: S): Promise<DeliveryResult>;
  /** Check credentials/reachability without writing any data (no test trace). */
  checkHealth(settings: S): Promise<HealthResult>;
  /** Flush/close any clients held for these settings (called on shutdown). */
  close(): Promise<void>;
}

/** How one `callback_vars` name is treated by the admin API, storage and delivery. */
export interface DestinationVarSpec {
  /** Encrypted at rest, masked on read, never logged or sent anywhere but its own destination's auth. */
  readonly secret: boolean;
  /** A URL or host the gateway connects to: non-admin values pass the SSRF guard at save and connect time. */
  readonly url: boolean;
  /** Only the proxy admin (master key) or config.yaml may set it, because it names something on the gateway host. */
  readonly adminOnly: boolean;
  /** Set when this name is an alias kept for LiteLLM compatibility; the value is the canonical name. */
  readonly aliasOf?: string;
  /** A file on the gateway host (or the file's JSON itself): a path from the API must lie in GCS_SERVICE_ACCOUNT_DIR. */
  readonly hostFile?: boolean;
}

export interface DestinationVarsSpec {
  readonly vars: Readonly<Record<string, DestinationVarSpec>>;
  /** Each group lists alternatives: at least one name of every group must be set. */
  readonly required: readonly (readonly string[])[];
  /**
   * Groups that are additionally required when a non-admin saves the entry. A GCS entry without its own service
   * account would otherwise write with the gateway's ambient identity into a bucket the tenant picked.
   */
  readonly requiredForNonAdmin: readonly (readonly string[])[];
}

const plain: DestinationVarSpec = { secret: false, url: false, adminOnly: false };
const secret: DestinationVarSpec = { secret: true, url: false, adminOnly: false };
const url: DestinationVarSpec = { secret: false, url: true, adminOnly: false };

/** Accepted on every kind (LiteLLM allows it on any entry); destinations ignore it, the logging service reads it. */
const COMMON_VARS: Readonly<Record<string, DestinationVarSpec>> = { turn_off_message_logging: plain };

/** The single source of truth for callback_vars; typed by kind so a new kind without an entry fails to compile. */
export const DESTINATION_VARS: { readonly [K in DestinationKind]: DestinationVarsSpec } = {
  langfuse: {
    vars: {
      ...COMMON_VARS,
      langfuse_public_key: secret,
      langfuse_secret_key: secret,
      langfuse_secret: { ...secret, aliasOf: 'langfuse_secret_key' },
      langfuse_host: url,
    },
    required: [['langfuse_public_key'], ['langfuse_secret_key', 'langfuse_secret']],
    requiredForNonAdmin: [],
  },
  gcs_bucket: {
    vars: {
      ...COMMON_VARS,
      gcs_bucket_name: plain,
      gcs_path_service_account: { secret: true, url: false, adminOnly: true, hostFile: true },
      gcs_service_account_json: secret,
    },
    required: [['gcs_bucket_name']],
    requiredForNonAdmin: [['gcs_service_account_json']],
  },
  otel: {
    vars: {
      ...COMMON_VARS,
      otel_endpoint: url,
      otel_headers: secret,
      otel_service_name: plain,
    },
    required: [['otel_endpoint']],
    requiredForNonAdmin: [],
  },
  langsmith: {
    vars: {
      ...COMMON_VARS,
      langsmith_api_key: secret,
      langsmith_project: plain,
      langsmith_base_url: url,
    },
    required: [['langsmith_api_key']],
    requiredForNonAdmin: [],
  },
};

export function varSpec(kind: DestinationKind, name: string): DestinationVarSpec | undefined {
  return Object.prototype.hasOwnProperty.call(DESTINATION_VARS[kind].vars, name) ? DESTINATION_VARS[kind].vars[name] : undefined;
}

export function isSecretVar(kind: DestinationKind, name: string): boolean {
  return varSpec(kind, name)?.secret ?? false;
}

export function isUrlVar(kind: DestinationKind, name: string): boolean {
  return varSpec(kind, name)?.url ?? false;
}

export function isHostFileVar(kind: DestinationKind, name: string): boolean {
  return varSpec(kind, name)?.hostFile ?? false;
}

export function isAdminOnlyVar(kind: DestinationKind, name: string): boolean {
  return varSpec(kind, name)?.adminOnly ?? false;
}

/**
 * Unknown names and missing required groups, as field errors. Destinations call it first in `parseSettings`; the
 * admin API can call it with `nonAdmin: true` to apply the stricter rules (adminOnly vars, requiredForNonAdmin).
 */
export function checkVarNames(
  kind: DestinationKind,
  vars: Readonly<Record<string, string>>,
  options: { nonAdmin?: boolean } = {},
): SettingsErrors {
  const spec = DESTINATION_VARS[kind];
  const errors: SettingsErrors = [];
  for (const name of Object.keys(vars)) {
    const entry = varSpec(kind, name);
    if (!entry) {
      errors.push({ field: name, message: `Invalid callback variable: ${name}. Must be one of ${Object.keys(spec.vars).join(', ')}` });
    } else if (options.nonAdmin && entry.adminOnly) {
      errors.push({ field: name, message: `${name} can only be set by the proxy admin or in config.yaml` });
    }
  }
  const groups = options.nonAdmin ? [...spec.required, ...spec.requiredForNonAdmin] : spec.required;
  for (const group of groups) {
    if (!group.some((name) => isPresent(vars[name]))) {
      errors.push({ field: group[0], message: `${group.join(' or ')} is required for ${kind}` });
    }
  }
  return errors;
}

function isPresent(value: string | undefined): boolean {
  return typeof value === 'string' && value.trim() !== '';
}
