import type { StandardLoggingPayload } from './standard-logging-payload';

/**
 * A destination's wire name: LiteLLM's `callback_name` (`langfuse`, `gcs_bucket`, ...), so configs written for LiteLLM
 * keep working. The set is open: every destination registered with `@LogDestinationModule` (see
 * `delivery/destination-module.ts`) adds its own, the four built-in ones included.
 */
export type DestinationKind = string;

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
  readonly kind: string;
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

/** The usual kinds of variable, for writing a `DestinationVarsSpec`. */
export const VarKinds = { plain, secret, url } as const;

/** Accepted on every kind (LiteLLM allows it on any entry); destinations ignore it, the logging service reads it. */
export const COMMON_VARS: Readonly<Record<string, DestinationVarSpec>> = { turn_off_message_logging: plain };

/**
 * What a module registers for one `callback_name` (see `@LogDestinationModule`): a Nest provider, so it may inject
 * what it needs (GatewaySettings, its own module's providers), on the request thread and on the delivery thread.
 * Everything else — validation of `callback_vars`, encryption and masking of secrets, SSRF checks of URLs, env
 * references, host files, the team callback API, key logging, config teams, global callbacks, the outbox, retries,
 * dead letters, metrics, privacy and PII masking — is the gateway's, and applies to every registered destination.
 */
export interface LogDestinationDefinition<S = unknown> {
  /** LiteLLM's `callback_name`: lowercase letters, digits and `_`. */
  readonly callbackName: string;
  /** The `callback_vars` it accepts: which are required, secret, URLs, admin-only, host files. */
  readonly vars: DestinationVarsSpec;
  /**
   * The environment variable each var is read from when the destination is named in the global callbacks (or in a
   * config team entry that lacks the var), as LiteLLM falls back to its environment: `{ langfuse_host: 'LANGFUSE_HOST' }`.
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * True when every connection the destination opens goes through an `AgentPool` built from the `egress` it was
   * created with (the pool re-checks each socket's address against the SSRF rules). Otherwise the gateway checks the
   * addresses of the entry's URL vars itself right before each send and health probe of a team admin's entry.
   */
  readonly guardsItsConnections?: boolean;
  /**
   * Builds the destination. Called twice at start-up: once for entries of the proxy admin and config.yaml
   * (`egress` undefined: internal hosts allowed) and once for team admins' entries (`egress.allowedHosts`: only
   * public addresses and the operator's `general_settings.allowed_logging_hosts`).
   */
  create(egress: EgressPolicy | undefined): LogDestination<S>;
}

/** Connect-time egress policy handed to `LogDestinationDefinition.create` (the shape `AgentPool` takes). */
export interface EgressPolicy {
  /** Hosts (`host` or `host:port`) that may be non-public; every other connection must reach a public address. */
  readonly allowedHosts: readonly string[];
}

/** What the admin API, storage and delivery know of a destination kind: its vars and where globals read them. */
export interface DestinationSpec {
  readonly vars: DestinationVarsSpec;
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Every destination kind registered in this process, filled by the DestinationRegistry when the application starts.
 * Only the helpers below read it: plain functions (masking a stored entry for a response) that run without Nest.
 */
const registered = new Map<string, DestinationSpec>();

/** Called by the registry for each registered definition. */
export function catalogueDestination(kind: string, spec: DestinationSpec): void {
  registered.set(kind, spec);
}

/** The kinds registered in this process, in registration order. */
export function registeredKinds(): DestinationKind[] {
  return [...registered.keys()];
}

export function isDestinationKind(value: unknown): value is DestinationKind {
  return typeof value === 'string' && registered.has(value);
}

export function varSpec(kind: DestinationKind, name: string): DestinationVarSpec | undefined {
  const spec = registered.get(kind)?.vars;
  return spec && Object.prototype.hasOwnProperty.call(spec.vars, name) ? spec.vars[name] : undefined;
}

/** A var of a kind this process does not know (its module was removed, say) counts as secret: it is masked. */
export function isSecretVar(kind: DestinationKind, name: string): boolean {
  if (!registered.has(kind)) return name !== 'turn_off_message_logging';
  return varSpec(kind, name)?.secret ?? false;
}

/**
 * Unknown names and missing required groups of `kind`'s `spec`, as field errors. The gateway applies it to every
 * entry (with `nonAdmin: true` for team admins: adminOnly vars, requiredForNonAdmin); destinations may call it first
 * in `parseSettings` too.
 */
export function checkVarNames(
  kind: DestinationKind,
  spec: DestinationVarsSpec,
  vars: Readonly<Record<string, string>>,
  options: { nonAdmin?: boolean } = {},
): SettingsErrors {
  const errors: SettingsErrors = [];
  const entryOf = (name: string) => (Object.prototype.hasOwnProperty.call(spec.vars, name) ? spec.vars[name] : undefined);
  for (const name of Object.keys(vars)) {
    const entry = entryOf(name);
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
