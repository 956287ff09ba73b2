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
  snippet,
  unreachableHealth,
} from '../destination-support';

/**
 * callback_vars of `generic_api`. LiteLLM's generic API logger takes `endpoint`, `headers` and `log_format` in
 * `callback_settings` and reads GENERIC_LOGGER_ENDPOINT / GENERIC_LOGGER_HEADERS from its environment; it has no
 * per-team names, so these are its environment variables' names in lower case (as `langsmith_base_url` is
 * LANGSMITH_BASE_URL's). Every header value may be a credential, so the whole header list is a secret.
 */
export const GENERIC_API_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    generic_logger_endpoint: VarKinds.url,
    generic_logger_headers: VarKinds.secret,
    generic_logger_log_format: VarKinds.plain,
  },
  required: [['generic_logger_endpoint']],
  requiredForNonAdmin: [],
};

export type GenericApiLogFormat = 'json_array' | 'ndjson';

export interface GenericApiSettings {
  readonly endpoint: string;
  /** Configured headers (names lower-cased), sent on every request. */
  readonly headers: Readonly<Record<string, string>>;
  readonly logFormat: GenericApiLogFormat;
}

export interface GenericApiDestinationOptions {
  requestTimeoutMs?: number;
  egress?: EgressOptions;
}

/** Headers the gateway sets itself from the body it sends; a configured one would contradict it. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive', 'upgrade', 'te', 'trailer']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `GENERIC_LOGGER_HEADERS`'s form, `Name=value,Name2=value2` (LiteLLM's), or a JSON object of names to values
 * (for values with commas). Names are lower-cased; an error names no value.
 */
export function parseHeaderList(text: string): { headers: Record<string, string> } | { error: string } {
  const trimmed = text.trim();
  const pairs: [string, unknown][] = [];
  if (trimmed === '') return { headers: {} };
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return { error: 'generic_logger_headers is not valid JSON' };
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: 'generic_logger_headers must be a JSON object of header names to values' };
    pairs.push(...Object.entries(parsed as Record<string, unknown>));
  } else {
    for (const item of trimmed.split(',')) {
      if (item.trim() === '') continue;
      const equals = item.indexOf('=');
      if (equals <= 0) return { error: 'generic_logger_headers must be Name=value pairs separated by commas, or a JSON object' };
      pairs.push([item.slice(0, equals).trim(), item.slice(equals + 1).trim()]);
    }
  }
  const headers: Record<string, string> = {};
  for (const [rawName, value] of pairs) {
    const name = rawName.trim().toLowerCase();
    if (!TOKEN.test(name)) return { error: `generic_logger_headers: "${rawName.slice(0, 64)}" is not a valid header name` };
    if (RESERVED_HEADERS.has(name)) return { error: `generic_logger_headers: ${name} is set by the gateway` };
    if (typeof value !== 'string') return { error: `generic_logger_headers: the value of ${name} must be a string` };
    if (/[\r\n\0]/.test(value)) return { error: `generic_logger_headers: the value of ${name} contains a line break` };
    headers[name] = value;
  }
  return { headers };
}

/** LiteLLM's generic API logger: each batch POSTed as a JSON array of StandardLoggingPayload (or as NDJSON). */
export class GenericApiDestination implements LogDestination<GenericApiSettings> {
  readonly kind = 'generic_api' as const;
  private readonly agents: AgentPool;
  private readonly requestTimeoutMs: number;

  constructor(options: GenericApiDestinationOptions = {}) {
    this.agents = new AgentPool(options.egress);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  parseSettings(vars: Readonly<Record<string, string>>): { settings: GenericApiSettings } | { errors: SettingsErrors } {
    const errors = checkVarNames('generic_api', GENERIC_API_VARS, vars);
    const endpoint = vars.generic_logger_endpoint?.trim() ?? '';
    if (endpoint !== '') {
      const urlError = httpUrlError('generic_logger_endpoint', endpoint);
      if (urlError) errors.push(urlError);
    }
    const parsedHeaders = parseHeaderList(vars.generic_logger_headers ?? '');
    if ('error' in parsedHeaders) errors.push({ field: 'generic_logger_headers', message: parsedHeaders.error });
    const logFormat = vars.generic_logger_log_format?.trim() || 'json_array';
    if (logFormat !== 'json_array' && logFormat !== 'ndjson') {
      errors.push({ field: 'generic_logger_log_format', message: 'generic_logger_log_format must be json_array or ndjson' });
    }
    if (errors.length > 0 || 'error' in parsedHeaders) return { errors };
    return { settings: { endpoint, headers: parsedHeaders.headers, logFormat: logFormat as GenericApiLogFormat } };
  }

  /** One POST per batch; acknowledged when the endpoint answers 2xx. */
  async send(items: readonly DeliveryItem[], settings: GenericApiSettings): Promise<DeliveryResult> {
    if (items.length === 0) return { ok: true };
    const lines = await mapInSlices(items, (item) => JSON.stringify(item.payload));
    const ndjson = settings.logFormat === 'ndjson';
    let response;
    try {
      response = await httpCall(this.agents, {
        method: 'POST',
        url: settings.endpoint,
        headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json', ...settings.headers },
        body: ndjson ? `${lines.join('\n')}\n` : `[${lines.join(',')}]`,
        timeoutMs: this.requestTimeoutMs,
      });
    } catch (err) {
      return networkFailure(err, settings.endpoint);
    }
    if (response.status >= 200 && response.status < 300) return { ok: true };
    return httpFailure(response.status, settings.endpoint, isRetryableStatus(response.status), response.headers['retry-after'], snippet(response.text));
  }

  /**
   * A generic endpoint has no "validate" call, and a test POST would write a record. The probe is an OPTIONS request
   * with the configured headers — a safe method, which writes nothing: healthy when the endpoint answers it (2xx,
   * 3xx, or 405 "method not allowed", which still proves a server is there); unhealthy on 401/403 (the headers were
   * refused), 404, 5xx or no answer. It cannot prove a POST would be accepted, and the details say so.
   */
  async checkHealth(settings: GenericApiSettings): Promise<HealthResult> {
    try {
      const response = await httpCall(this.agents, { method: 'OPTIONS', url: settings.endpoint, headers: { ...settings.headers }, timeoutMs: this.requestTimeoutMs });
      const status = response.status;
      if (status === 401 || status === 403) return { healthy: false, details: `${settings.endpoint} refused the configured headers (OPTIONS answered HTTP ${status})` };
      if ((status >= 200 && status < 400) || status === 405) {
        return { healthy: true, details: `${settings.endpoint} is reachable (OPTIONS answered HTTP ${status}; nothing was posted, so acceptance of a batch is not proven)` };
      }
      return { healthy: false, details: `${settings.endpoint} answered OPTIONS with HTTP ${status}` };
    } catch (err) {
      return unreachableHealth(err, settings.endpoint);
    }
  }

  async close(): Promise<void> {
    await this.agents.close();
  }
}
