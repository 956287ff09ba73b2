import { request, type Dispatcher } from 'undici';
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
import {
  AgentPool,
  DEFAULT_REQUEST_TIMEOUT_MS,
  httpUrlError,
  isRetryableStatus,
  isSsrfBlocked,
  mapInSlices,
  networkErrorCode,
  normalizeBaseUrl,
  parseRetryAfter,
  sha256Hex,
  snippet,
  ssrfMessage,
  type EgressOptions,
  unreachableHealth,
} from '../destination-support';
import { AcknowledgingLangfuse, bufferedResponse, type FetchOptions, type IngestionOutcome, type TransportResponse } from './acknowledging-langfuse';
import { toLangfuseBodies } from './langfuse-mapping';

/** LiteLLM's Langfuse callback_vars. */
export const LANGFUSE_VARS: DestinationVarsSpec = {
  vars: {
    ...COMMON_VARS,
    langfuse_public_key: VarKinds.secret,
    langfuse_secret_key: VarKinds.secret,
    langfuse_secret: { ...VarKinds.secret, aliasOf: 'langfuse_secret_key' },
    langfuse_host: VarKinds.url,
  },
  required: [['langfuse_public_key'], ['langfuse_secret_key', 'langfuse_secret']],
  requiredForNonAdmin: [],
};

export const LANGFUSE_CLOUD_HOST = 'https://cloud.langfuse.com';

export interface LangfuseSettings {
  readonly host: string;
  readonly publicKey: string;
  readonly secretKey: string;
}

export interface LangfuseDestinationOptions {
  /** Used when an entry has no `langfuse_host`: the caller passes env LANGFUSE_HOST, else Langfuse Cloud. */
  defaultHost?: string;
  /** Distinct credential sets kept open at once; the least recently used is flushed and closed beyond it. */
  maxClients?: number;
  requestTimeoutMs?: number;
  egress?: EgressOptions;
}

interface PooledClient {
  client: AcknowledgingLangfuse;
  /** Sends on one client run one after another so each send sees only its own requests. */
  tail: Promise<void>;
}

// Bounded so a batch never waits on an endless loop of 2.5 MB slices; far above any sane batch size.
const MAX_FLUSHES_PER_SEND = 200;

export class LangfuseDestination implements LogDestination<LangfuseSettings> {
  readonly kind = 'langfuse' as const;
  private readonly clients = new Map<string, PooledClient>();
  private readonly agents: AgentPool;
  private readonly defaultHost: string;
  private readonly maxClients: number;
  private readonly requestTimeoutMs: number;
  private readonly closing = new Set<Promise<void>>();

  constructor(options: LangfuseDestinationOptions = {}) {
    this.defaultHost = normalizeBaseUrl(options.defaultHost || LANGFUSE_CLOUD_HOST);
    this.maxClients = Math.max(1, options.maxClients ?? 500);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.agents = new AgentPool(options.egress);
  }

  parseSettings(vars: Readonly<Record<string, string>>): { settings: LangfuseSettings } | { errors: SettingsErrors } {
    const errors = checkVarNames('langfuse', LANGFUSE_VARS, vars);
    const secretKey = vars.langfuse_secret_key?.trim() || vars.langfuse_secret?.trim() || '';
    if (vars.langfuse_secret_key && vars.langfuse_secret && vars.langfuse_secret_key.trim() !== vars.langfuse_secret.trim()) {
      errors.push({ field: 'langfuse_secret', message: 'langfuse_secret and langfuse_secret_key are aliases and must not differ' });
    }
    const host = normalizeBaseUrl(vars.langfuse_host?.trim() || this.defaultHost);
    const hostError = httpUrlError('langfuse_host', host);
    if (hostError) {
      errors.push(hostError);
    }
    if (errors.length > 0) {
      return { errors };
    }
    return { settings: { host, publicKey: vars.langfuse_public_key.trim(), secretKey } };
  }

  async send(items: readonly DeliveryItem[], settings: LangfuseSettings): Promise<DeliveryResult> {
    if (items.length === 0) {
      return { ok: true };
    }
    const pooled = this.clientFor(settings);
    const run = pooled.tail.then(() => this.sendExclusive(pooled.client, items, settings.host));
    pooled.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async checkHealth(settings: LangfuseSettings): Promise<HealthResult> {
    const url = `${settings.host}/api/public/projects`;
    try {
      const response = await request(url, {
        method: 'GET',
        headers: { authorization: basicAuthorization(settings), accept: 'application/json' },
        dispatcher: this.agents.forUrl(url),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) {
        return { healthy: true, details: `Langfuse accepted the credentials at ${settings.host}` };
      }
      if (response.statusCode === 401 || response.statusCode === 403) {
        return { healthy: false, details: `Langfuse rejected the credentials (HTTP ${response.statusCode}) at ${settings.host}` };
      }
      return { healthy: false, details: `Langfuse at ${settings.host} answered HTTP ${response.statusCode}` };
    } catch (err) {
      return unreachableHealth(err, settings.host);
    }
  }

  async close(): Promise<void> {
    const pooled = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled([...pooled.map((entry) => this.shutdownClient(entry)), ...this.closing]);
    await this.agents.close();
  }

  /** Number of open clients (tests, metrics). */
  get openClients(): number {
    return this.clients.size;
  }

  private clientFor(settings: LangfuseSettings): PooledClient {
    const key = sha256Hex(settings.host, settings.publicKey, settings.secretKey);
    const existing = this.clients.get(key);
    if (existing) {
      // Map insertion order is the LRU order: move to the end on use.
      this.clients.delete(key);
      this.clients.set(key, existing);
      return existing;
    }
    const client = new AcknowledgingLangfuse(
      {
        publicKey: settings.publicKey,
        secretKey: settings.secretKey,
        baseUrl: settings.host,
        // The delivery layer owns batching, retries and back-off; the client must only send when told to.
        flushAt: Number.MAX_SAFE_INTEGER,
        flushInterval: 0,
        fetchRetryCount: 0,
        requestTimeout: this.requestTimeoutMs,
        sdkIntegration: 'gatehouse',
      },
      (url, options) => this.transport(url, options),
    );
    const pooled: PooledClient = { client, tail: Promise.resolve() };
    this.clients.set(key, pooled);
    while (this.clients.size > this.maxClients) {
      const [oldestKey, oldest] = this.clients.entries().next().value as [string, PooledClient];
      this.clients.delete(oldestKey);
      const shutdown = this.shutdownClient(oldest);
      this.closing.add(shutdown);
      void shutdown.finally(() => this.closing.delete(shutdown));
    }
    return pooled;
  }

  /** Waits for the client's in-flight send, then lets it flush anything left before it is dropped. */
  private async shutdownClient(pooled: PooledClient): Promise<void> {
    await pooled.tail;
    await pooled.client.shutdownAsync().catch(() => undefined);
  }

  /**
   * `undici.request` rather than `fetch`: the WHATWG body handling copied every ingestion body once more.
   * It does not follow redirects, so one (which could lead the Basic credentials to another host) comes back
   * as a failure.
   */
  private async transport(url: string, options: FetchOptions): Promise<TransportResponse> {
    const response = await request(url, {
      method: options.method as Dispatcher.HttpMethod,
      headers: options.headers,
      body: options.body,
      signal: options.signal ?? AbortSignal.timeout(this.requestTimeoutMs),
      dispatcher: this.agents.forUrl(url),
    });
    const text = await response.body.text();
    const retryAfter = response.headers['retry-after'];
    return Object.assign(bufferedResponse(response.statusCode, text), { retryAfter: typeof retryAfter === 'string' ? retryAfter : null });
  }

  private async sendExclusive(client: AcknowledgingLangfuse, items: readonly DeliveryItem[], host: string): Promise<DeliveryResult> {
    const outcomes: IngestionOutcome[] = [];
    const eventsByObject = new Map<string, Set<string>>();
    const note = (objectId: string, eventId: string): void => {
      const set = eventsByObject.get(objectId) ?? new Set<string>();
      set.add(eventId);
      eventsByObject.set(objectId, set);
    };
    client.outcomes = outcomes;
    try {
      // In slices: the SDK's per-event work runs in the microtasks each slice queues, before the next one.
      await mapInSlices(items, (item) => {
        const { trace, generation } = toLangfuseBodies(item);
        note(trace.id as string, item.eventId);
        note(generation.id as string, item.eventId);
        client.createTrace(trace);
        client.createGeneration(generation);
      });
      const expected = new Set(eventsByObject.keys());
      const sent = new Set<string>();
      for (let i = 0; i < MAX_FLUSHES_PER_SEND; i++) {
        const before = outcomes.length;
        await client.drainOnce();
        if (outcomes.length === before) {
          break;
        }
        for (const outcome of outcomes.slice(before)) {
          outcome.objectIdByEnvelope.forEach((objectId) => sent.add(objectId));
        }
        if ([...expected].every((id) => sent.has(id))) {
          break;
        }
      }
    } finally {
      client.outcomes = null;
    }
    return evaluate(items, eventsByObject, outcomes, host);
  }
}

interface ObjectFailure {
  retryable: boolean;
  message: string;
}

function evaluate(
  items: readonly DeliveryItem[],
  eventsByObject: Map<string, Set<string>>,
  outcomes: IngestionOutcome[],
  host: string,
): DeliveryResult {
  const acknowledged = new Set<string>();
  const failures = new Map<string, ObjectFailure>();
  let retryAfterMs: number | undefined;
  const fail = (objectId: string, failure: ObjectFailure): void => {
    const previous = failures.get(objectId);
    // A non-retryable failure wins: retrying would not help that object.
    if (!previous || (previous.retryable && !failure.retryable)) {
      failures.set(objectId, failure);
    }
  };

  for (const outcome of outcomes) {
    const objectIds = [...outcome.objectIdByEnvelope.values()];
    if (outcome.status === undefined) {
      const blocked = isSsrfBlocked(outcome.networkError);
      const message = blocked ? `blocked: ${ssrfMessage(outcome.networkError)}` : `cannot reach ${host}: ${networkErrorCode(outcome.networkError)}`;
      objectIds.forEach((id) => fail(id, { retryable: !blocked, message }));
      continue;
    }
    const status = outcome.status;
    if (status < 200 || status >= 300) {
      const retryable = isRetryableStatus(status);
      if (retryable) {
        const after = parseRetryAfter(outcome.retryAfter);
        retryAfterMs = after === undefined ? retryAfterMs : Math.max(retryAfterMs ?? 0, after);
      }
      const message =
        status >= 300 && status < 400
          ? `Langfuse at ${host} answered with a redirect (HTTP ${status}); redirects are not followed`
          : `Langfuse at ${host} answered HTTP ${status}${outcome.bodyText ? `: ${snippet(outcome.bodyText)}` : ''}`;
      objectIds.forEach((id) => fail(id, { retryable, message }));
      continue;
    }
    const failedEnvelopes = new Map(outcome.envelopeErrors.map((e) => [e.id, e]));
    outcome.objectIdByEnvelope.forEach((objectId, envelopeId) => {
      const error = failedEnvelopes.get(envelopeId);
      if (!error) {
        acknowledged.add(objectId);
        return;
      }
      const itemStatus = error.status ?? 500;
      fail(objectId, {
        retryable: isRetryableStatus(itemStatus),
        message: `Langfuse at ${host} rejected an event (HTTP ${itemStatus})${error.message ? `: ${snippet(error.message)}` : ''}`,
      });
    });
  }

  const failedEvents = new Map<string, ObjectFailure>();
  for (const [objectId, eventIds] of eventsByObject) {
    const failure =
      failures.get(objectId) ??
      (acknowledged.has(objectId)
        ? undefined
        : { retryable: false, message: 'the Langfuse client did not send the event (too large or not serializable)' });
    if (failure) {
      eventIds.forEach((eventId) => {
        const previous = failedEvents.get(eventId);
        if (!previous || (previous.retryable && !failure.retryable)) {
          failedEvents.set(eventId, failure);
        }
      });
    }
  }
  if (failedEvents.size === 0) {
    return { ok: true };
  }
  const failuresList = [...failedEvents.values()];
  const retryable = failuresList.some((f) => f.retryable);
  const partial = failedEvents.size < items.length;
  return {
    ok: false,
    retryable,
    ...(retryable && retryAfterMs !== undefined ? { retryAfterMs } : {}),
    error: (failuresList.find((f) => f.retryable === retryable) ?? failuresList[0]).message,
    ...(partial ? { failedEventIds: items.map((i) => i.eventId).filter((id) => failedEvents.has(id)) } : {}),
  };
}

function basicAuthorization(settings: LangfuseSettings): string {
  return `Basic ${Buffer.from(`${settings.publicKey}:${settings.secretKey}`).toString('base64')}`;
}
