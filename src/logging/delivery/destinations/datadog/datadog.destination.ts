import { promisify } from 'node:util';
import { constants as zlibConstants, gzip } from 'node:zlib';
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
  httpFailure,
  httpUrlError,
  isRetryableStatus,
  mapInSlices,
  networkFailure,
  normalizeBaseUrl,
  snippet,
  unreachableHealth,
} from '../destination-support';

const gzipAsync = promisify(gzip);

/**
 * LiteLLM's Datadog callback_vars (its team handler reads `dd_api_key` and `dd_site`), plus `dd_base_url`: LiteLLM
 * reads the same override from the `DD_BASE_URL` environment variable only ("for testing or custom endpoints").
 */
export const DATADOG_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    dd_api_key: VarKinds.secret,
    dd_site: VarKinds.plain,
    dd_base_url: VarKinds.url,
  },
  required: [['dd_api_key']],
  requiredForNonAdmin: [],
};

/** Datadog's US1 site, the default of its own clients (LiteLLM has none: it refuses to start without DD_SITE). */
export const DATADOG_DEFAULT_SITE = 'datadoghq.com';

/** The logs intake's limits (docs.datadoghq.com/api/latest/logs): per request 5 MB uncompressed and 1000 entries. */
export const DATADOG_MAX_BATCH_BYTES = 5 * 1024 * 1024;
export const DATADOG_MAX_BATCH_ITEMS = 1000;

const SITE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;

/** The fields LiteLLM's Datadog logger sets on every log item, from the gateway's environment, as LiteLLM reads them. */
export interface DatadogIdentity {
  readonly source: string;
  readonly service: string;
  readonly hostname: string;
  /** `env:…,service:…,version:…,HOSTNAME:…,POD_NAME:…` */
  readonly baseTags: string;
}

export function datadogIdentity(env: NodeJS.ProcessEnv): DatadogIdentity {
  const service = env.DD_SERVICE || 'litellm-server';
  const hostname = env.HOSTNAME ?? '';
  const tags = [`env:${env.DD_ENV || 'unknown'}`, `service:${service}`, `version:${env.DD_VERSION || 'unknown'}`, `HOSTNAME:${hostname}`, `POD_NAME:${env.POD_NAME || 'unknown'}`];
  return { source: env.DD_SOURCE || 'litellm', service, hostname, baseTags: tags.join(',') };
}

export interface DatadogSettings {
  readonly intakeUrl: string;
  /** Where `/api/v1/validate` lives: `https://api.<site>` (or the base URL override). */
  readonly apiUrl: string;
  readonly apiKey: string;
}

export interface DatadogDestinationOptions {
  requestTimeoutMs?: number;
  egress?: EgressOptions;
  /** Source, service, hostname and tags; default: read from the process environment once. */
  identity?: DatadogIdentity;
  /** Split limits (tests make them small). */
  maxBatchBytes?: number;
  maxBatchItems?: number;
}

/** One log item per event, as LiteLLM's Datadog logger sends them: the payload JSON is the `message`. */
export class DatadogDestination implements LogDestination<DatadogSettings> {
  readonly kind = 'datadog' as const;
  private readonly agents: AgentPool;
  private readonly requestTimeoutMs: number;
  private readonly identity: DatadogIdentity;
  private readonly maxBatchBytes: number;
  private readonly maxBatchItems: number;

  constructor(options: DatadogDestinationOptions = {}) {
    this.agents = new AgentPool(options.egress);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.identity = options.identity ?? datadogIdentity(process.env);
    this.maxBatchBytes = options.maxBatchBytes ?? DATADOG_MAX_BATCH_BYTES;
    this.maxBatchItems = options.maxBatchItems ?? DATADOG_MAX_BATCH_ITEMS;
  }

  parseSettings(vars: Readonly<Record<string, string>>): { settings: DatadogSettings } | { errors: SettingsErrors } {
    const errors = checkVarNames('datadog', DATADOG_VARS, vars);
    const site = vars.dd_site?.trim() || DATADOG_DEFAULT_SITE;
    if (!SITE.test(site)) errors.push({ field: 'dd_site', message: 'dd_site must be a Datadog site such as datadoghq.com or us5.datadoghq.com' });
    const base = vars.dd_base_url?.trim() ? normalizeBaseUrl(vars.dd_base_url) : null;
    const urlError = base === null ? null : httpUrlError('dd_base_url', base);
    if (urlError) errors.push(urlError);
    if (errors.length > 0) return { errors };
    return {
      settings: {
        intakeUrl: base === null ? `https://http-intake.logs.${site}/api/v2/logs` : `${base}/api/v2/logs`,
        apiUrl: base ?? `https://api.${site}`,
        apiKey: vars.dd_api_key.trim(),
      },
    };
  }

  /**
   * The batch goes out in as few requests as the intake's limits allow (1000 items, 5 MB before compression), one
   * after another, gzip-compressed as Datadog recommends. Acknowledged is what the intake answered 2xx (202) for.
   */
  async send(items: readonly DeliveryItem[], settings: DatadogSettings): Promise<DeliveryResult> {
    if (items.length === 0) return { ok: true };
    const logs = await mapInSlices(items, (item) => JSON.stringify(toDatadogLog(item.payload, this.identity)));
    const { chunks, oversized } = splitForIntake(logs, this.maxBatchBytes, this.maxBatchItems);
    let acknowledged = 0;
    for (let c = 0; c < chunks.length; c++) {
      const result = await this.post(chunks[c].map((i) => logs[i]), settings);
      if (result.ok) {
        acknowledged += chunks[c].length;
        continue;
      }
      if (acknowledged === 0 && oversized.length === 0) return result; // nothing of the batch landed
      const failed = [...chunks.slice(c).flat(), ...oversized].map((i) => items[i].eventId);
      return { ...result, failedEventIds: failed };
    }
    if (oversized.length === 0) return { ok: true };
    const error = `${oversized.length} event(s) larger than the Datadog intake's ${this.maxBatchBytes} bytes per request; not sent`;
    return acknowledged === 0
      ? { ok: false, retryable: false, error }
      : { ok: false, retryable: false, error, failedEventIds: oversized.map((i) => items[i].eventId) };
  }

  /** `GET /api/v1/validate` on the API host: checks the API key, writes nothing. */
  async checkHealth(settings: DatadogSettings): Promise<HealthResult> {
    const target = `${settings.apiUrl}/api/v1/validate`;
    try {
      const response = await httpCall(this.agents, {
        method: 'GET',
        url: target,
        headers: { 'DD-API-KEY': settings.apiKey, accept: 'application/json' },
        timeoutMs: this.requestTimeoutMs,
      });
      if (response.status === 200 && /"valid"\s*:\s*true/.test(response.text)) {
        return { healthy: true, details: `Datadog accepted the API key at ${settings.apiUrl}` };
      }
      if (response.status === 401 || response.status === 403 || response.status === 200) {
        return { healthy: false, details: `Datadog rejected the API key (HTTP ${response.status}) at ${settings.apiUrl}` };
      }
      return { healthy: false, details: `Datadog at ${settings.apiUrl} answered HTTP ${response.status}` };
    } catch (err) {
      return unreachableHealth(err, settings.apiUrl);
    }
  }

  async close(): Promise<void> {
    await this.agents.close();
  }

  private async post(logs: readonly string[], settings: DatadogSettings): Promise<DeliveryResult> {
    let response;
    try {
      const body = await gzipAsync(`[${logs.join(',')}]`, { level: zlibConstants.Z_BEST_SPEED });
      response = await httpCall(this.agents, {
        method: 'POST',
        url: settings.intakeUrl,
        headers: { 'DD-API-KEY': settings.apiKey, 'content-type': 'application/json', 'content-encoding': 'gzip', accept: 'application/json' },
        body,
        timeoutMs: this.requestTimeoutMs,
      });
    } catch (err) {
      return networkFailure(err, settings.intakeUrl);
    }
    if (response.status >= 200 && response.status < 300) return { ok: true };
    return httpFailure(response.status, `Datadog at ${settings.intakeUrl}`, isRetryableStatus(response.status), response.headers['retry-after'], snippet(response.text));
  }
}

/** The Datadog log item LiteLLM sends for a payload: its fields, its tags, `status` error for a failed call. */
export function toDatadogLog(payload: StandardLoggingPayload, identity: DatadogIdentity): Record<string, string> {
  return {
    ddsource: identity.source,
    ddtags: datadogTags(payload, identity),
    hostname: identity.hostname,
    message: JSON.stringify(payload),
    service: identity.service,
    status: payload.status === 'failure' ? 'error' : 'info',
  };
}

function datadogTags(payload: StandardLoggingPayload, identity: DatadogIdentity): string {
  let tags = identity.baseTags;
  for (const tag of payload.request_tags ?? []) tags += `,request_tag:${tag}`;
  const m = payload.metadata;
  const team = m?.user_api_key_team_alias || m?.team_alias || m?.user_api_key_team_id || m?.team_id;
  if (team) tags += `,team:${team}`;
  return tags;
}

/**
 * Indexes of `logs` grouped into requests of at most `maxItems` items and `maxBytes` bytes of JSON array; a log
 * that alone exceeds `maxBytes` cannot be sent at all (the intake answers 413) and is listed apart.
 */
export function splitForIntake(logs: readonly string[], maxBytes: number, maxItems: number): { chunks: number[][]; oversized: number[] } {
  const chunks: number[][] = [];
  const oversized: number[] = [];
  let current: number[] = [];
  let bytes = 2; // []
  for (let i = 0; i < logs.length; i++) {
    const size = Buffer.byteLength(logs[i]);
    if (size + 2 > maxBytes) {
      oversized.push(i);
      continue;
    }
    const added = size + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= maxItems || bytes + added > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 2;
    }
    bytes += size + (current.length > 0 ? 1 : 0);
    current.push(i);
  }
  if (current.length > 0) chunks.push(current);
  return { chunks, oversized };
}
