import { Langfuse } from 'langfuse';
import { request, type Dispatcher } from 'undici';
import {
  checkVarNames,
  type DeliveryItem,
  type DeliveryResult,
  type HealthResult,
  type LogDestination,
  type SettingsErrors,
} from '../../log-destination';
import type { StandardLoggingPayload } from '../../standard-logging-payload';
import {
  AgentPool,
  DEFAULT_REQUEST_TIMEOUT_MS,
  epochSecondsToDate,
  httpUrlError,
  isRetryableStatus,
  isSsrfBlocked,
  mapInSlices,
  networkErrorCode,
  normalizeBaseUrl,
  parseRetryAfter,
  responseMessage,
  safeModelParameters,
  sha256Hex,
  snippet,
  ssrfMessage,
  stableUuid,
  type EgressOptions,
  unreachableHealth,
} from '../destination-support';

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

type FetchOptions = Parameters<Langfuse['fetch']>[1];
type FetchResponse = Awaited<ReturnType<Langfuse['fetch']>>;
type TransportResponse = FetchResponse & { retryAfter: string | null };
type Transport = (url: string, options: FetchOptions) => Promise<TransportResponse>;
type GenerationBody = Parameters<Langfuse['generation']>[0];
type TraceBody = NonNullable<Parameters<Langfuse['trace']>[0]>;
type LangfuseQueueItem = Parameters<Langfuse['processQueueItems']>[0][number];

/** What the base class hands its media upload: where to PUT the bytes, and the headers' values. */
interface MediaUpload {
  uploadUrl: string;
  contentBytes: Buffer;
  contentType: string;
  contentSha256Hash: string;
}

/** What one POST /api/public/ingestion really returned, as seen on the wire. */
interface IngestionOutcome {
  /** Langfuse object id (trace or observation id) of each envelope in the request, by envelope id. */
  objectIdByEnvelope: Map<string, string>;
  status?: number;
  networkError?: unknown;
  retryAfter?: string | null;
  /** Envelope-level errors of a 207 (or of an error body carrying the same shape). */
  envelopeErrors: { id: string; status?: number; message?: string }[];
  bodyText: string;
}

/**
 * The v3 client with its transport replaced so every ingestion request and response is observed.
 *
 * Why: `flushAsync()` resolves whether or not the server accepted anything, and after its retries the client drops
 * a failed batch with only a console message. By disabling its retries and timer (the delivery layer retries)
 * and reading each response ourselves, an item counts as delivered only when a 2xx response for a request that
 * carried it listed no error for its envelope.
 */
class AcknowledgingLangfuse extends Langfuse {
  outcomes: IngestionOutcome[] | null = null;
  private nextBatch: Map<string, string> | null = null;
  private readonly bodyBytes = new WeakMap<object, number>();
  // Assigned lazily: the base constructor may read persisted properties before field initialisers run.
  private persisted?: Map<string, unknown>;

  constructor(
    params: ConstructorParameters<typeof Langfuse>[0],
    private readonly transport: Transport,
  ) {
    super(params);
    // The base class retries a refused media upload three times with 1, 2 and 4 s sleeps inside the send, which can
    // outlast LOG_SEND_TIMEOUT_MS: a media store that refuses uploads would time out, and resend, every batch
    // carrying an image. One attempt, handled like the base class's last one (its status is reported to
    // Langfuse, the event is sent). The method is private in the typings, hence the assignment.
    (this as unknown as { uploadMediaWithBackoff: (upload: MediaUpload) => Promise<FetchResponse> }).uploadMediaWithBackoff = (upload) =>
      this.fetch(upload.uploadUrl, {
        method: 'PUT',
        body: upload.contentBytes,
        headers: { 'Content-Type': upload.contentType, 'x-amz-checksum-sha256': upload.contentSha256Hash, 'x-ms-blob-type': 'BlockBlob' },
      });
  }

  /**
   * The base class keeps its queue in a string store and re-serialises the whole queue on every enqueue,
   * which is quadratic in the batch size (35 % of the gateway's CPU under load in the benchmark). A plain
   * in-memory map keeps the same semantics without the JSON round trips.
   */
  override getPersistedProperty<T>(key: Parameters<Langfuse['getPersistedProperty']>[0]): T | undefined {
    return this.persisted?.get(key) as T | undefined;
  }

  override setPersistedProperty<T>(key: Parameters<Langfuse['setPersistedProperty']>[0], value: T | null): void {
    this.persisted ??= new Map();
    if (value === null) this.persisted.delete(key);
    else this.persisted.set(key, value);
  }

  /**
   * The base class walks input, output and metadata of every event with an async recursion (a promise per
   * node) looking for media to upload. Most events carry none: a synchronous look first, and the walk only
   * when there may be some (same conditions, same depth), so nothing changes for events that do.
   */
  protected override async processMediaInEvent(type: Parameters<Langfuse['processMediaInEvent']>[0], body: Parameters<Langfuse['processMediaInEvent']>[1]): Promise<void> {
    const fields = body as Record<string, unknown> | undefined;
    if (!fields || !['input', 'output', 'metadata'].some((field) => mayCarryMedia(fields[field], 1))) return;
    await super.processMediaInEvent(type, body);
  }

  /**
   * The base class sizes each event with a TextEncoder copy of its JSON; its length is all it needs, and it
   * is kept for `processQueueItems`, which would otherwise serialise the same body again.
   */
  protected override truncateEventBody(body: Parameters<Langfuse['truncateEventBody']>[0], maxByteSize: number): ReturnType<Langfuse['truncateEventBody']> {
    const bytes = Buffer.byteLength(JSON.stringify(body));
    if (bytes > maxByteSize) return super.truncateEventBody(body, maxByteSize);
    this.bodyBytes.set(body as object, bytes);
    return body;
  }

  /**
   * The base class's batch selection, with each item sized by `Buffer.byteLength` of its JSON (the same UTF-8
   * length its `new Blob([json]).size` computes, without a Blob per event), and the batch remembered
   * (envelope id → object id) so the ingestion request need not be parsed back to know what it carries:
   * `flush()` calls this and then `fetch` for that batch. Items over the per-event limit are dropped as
   * the base class drops them; the send then reports them as not sent.
   */
  override processQueueItems(queue: LangfuseQueueItem[], maxEventBytes: number, maxBatchBytes: number): ReturnType<Langfuse['processQueueItems']> {
    const processedItems: LangfuseQueueItem[] = [];
    const remainingItems: LangfuseQueueItem[] = [];
    this.nextBatch = new Map();
    let totalBytes = 0;
    for (let i = 0; i < queue.length; i++) {
      const bytes = this.itemBytes(queue[i]);
      if (bytes > maxEventBytes) continue;
      if (totalBytes + bytes >= maxBatchBytes) {
        remainingItems.push(...queue.slice(i));
        break;
      }
      totalBytes += bytes;
      processedItems.push(queue[i]);
      const objectId = (queue[i].body as { id?: unknown } | undefined)?.id;
      if (typeof objectId === 'string') this.nextBatch.set(queue[i].id, objectId);
    }
    return { processedItems, remainingItems };
  }

  /** The item's JSON length: its envelope's plus its body's, when `truncateEventBody` measured the body. */
  private itemBytes(item: LangfuseQueueItem): number {
    const bodyBytes = item.body ? this.bodyBytes.get(item.body as object) : undefined;
    if (bodyBytes === undefined) return Buffer.byteLength(JSON.stringify(item));
    // JSON.stringify({ ...item, body: 0 }) is the item's JSON with the body's replaced by one character.
    return Buffer.byteLength(JSON.stringify({ ...item, body: 0 })) - 1 + bodyBytes;
  }

  override async fetch(url: string, options: FetchOptions): Promise<FetchResponse> {
    const isIngestion = options.method === 'POST' && url.endsWith('/api/public/ingestion');
    const batch = isIngestion ? this.nextBatch : null;
    if (isIngestion) this.nextBatch = null;
    if (!isIngestion || !this.outcomes) {
      return this.transport(url, options);
    }
    // Parsed back only if the SDK ever sends a batch it did not select through processQueueItems.
    const objectIdByEnvelope = batch ?? envelopesOf(options.body);
    const outcome: IngestionOutcome = { objectIdByEnvelope, envelopeErrors: [], bodyText: '' };
    this.outcomes.push(outcome);
    let response: TransportResponse;
    try {
      response = await this.transport(url, options);
    } catch (err) {
      outcome.networkError = err;
      throw err;
    }
    outcome.status = response.status;
    outcome.bodyText = await response.text();
    outcome.retryAfter = response.retryAfter;
    outcome.envelopeErrors = envelopeErrorsOf(outcome.bodyText);
    return bufferedResponse(response.status, outcome.bodyText);
  }

  /**
   * `flushAsync()` without its console output: failures are reported through the delivery result instead.
   * The pending-processing map is private in the typings but is what `flushAsync()` awaits first.
   */
  async drainOnce(): Promise<void> {
    const pending = (this as unknown as { pendingEventProcessingPromises?: Record<string, Promise<unknown>> }).pendingEventProcessingPromises;
    await Promise.allSettled(Object.values(pending ?? {}));
    await new Promise<void>((resolve) => {
      try {
        this.flush(() => resolve());
      } catch {
        resolve();
      }
    });
  }
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
    const errors = checkVarNames('langfuse', vars);
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
        client.trace(trace);
        client.generation(generation);
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

/** Maps one payload to a trace and a generation (LiteLLM's Langfuse mapping, minus anything credential-like). */
export function toLangfuseBodies(item: DeliveryItem): { trace: TraceBody; generation: GenerationBody } {
  const p = item.payload;
  const requester = (p.metadata?.requester_metadata ?? {}) as Record<string, unknown>;
  const traceId = nonEmptyString(requester.trace_id) ?? p.litellm_call_id;
  const sessionId = nonEmptyString(requester.session_id);
  const failed = p.status === 'failure';
  const alias = p.metadata?.user_api_key_alias;
  const { modelParameters, tools } = splitModelParameters(p.model_parameters);
  const output = failed ? undefined : responseMessage(p.response);
  const metadata = safeMetadata(p);
  const startTime = epochSecondsToDate(p.startTime);
  const usageDetails = { input: p.prompt_tokens ?? 0, output: p.completion_tokens ?? 0, total: p.total_tokens ?? 0 };
  const costDetails = {
    input: p.cost_breakdown?.input_cost ?? 0,
    output: p.cost_breakdown?.output_cost ?? 0,
    total: p.cost_breakdown?.total_cost ?? p.response_cost ?? 0,
  };

  const trace: TraceBody = {
    id: traceId,
    name: `litellm-${p.call_type}`,
    timestamp: startTime,
    userId: p.end_user ?? undefined,
    sessionId,
    tags: p.request_tags?.length ? [...p.request_tags] : undefined,
    input: tools === undefined ? { messages: p.messages } : { messages: p.messages, tools },
    output,
    // The trace schema has no level/statusMessage; failures are marked in its metadata (and on the generation).
    metadata: failed ? { ...metadata, level: 'ERROR', status_message: p.error_str ?? 'failed' } : metadata,
  };
  const generation: GenerationBody = {
    id: stableUuid('gatehouse.langfuse.generation', item.eventId),
    traceId,
    name: alias ? `litellm:${alias}` : `litellm-${p.call_type}`,
    startTime,
    endTime: epochSecondsToDate(p.endTime),
    completionStartTime: epochSecondsToDate(p.completionStartTime),
    model: p.model,
    modelParameters,
    input: tools === undefined ? p.messages : { messages: p.messages, tools },
    output,
    usageDetails,
    costDetails,
    metadata,
    level: failed ? 'ERROR' : 'DEFAULT',
    statusMessage: failed ? (p.error_str ?? 'failed') : undefined,
  };
  return { trace, generation };
}

function safeMetadata(p: StandardLoggingPayload): Record<string, unknown> {
  const m = p.metadata;
  const out: Record<string, unknown> = {
    litellm_call_id: p.litellm_call_id,
    gatehouse_trace_id: p.trace_id,
    response_id: p.id,
    user_api_key_alias: m?.user_api_key_alias ?? null,
    user_api_key_hash: m?.user_api_key_hash ?? null,
    user_api_key_team_id: m?.user_api_key_team_id ?? null,
    user_api_key_team_alias: m?.user_api_key_team_alias ?? null,
    team_id: m?.team_id ?? null,
    team_alias: m?.team_alias ?? null,
    model_group: p.model_group,
    model_id: p.model_id,
    custom_llm_provider: p.custom_llm_provider,
    api_base: p.api_base,
    cache_hit: p.cache_hit,
    stream: p.stream,
    status: p.status,
    response_cost: p.response_cost,
  };
  if (p.status === 'failure' && p.error_information) {
    out.error_code = p.error_information.error_code;
    out.error_class = p.error_information.error_class;
  }
  return out;
}

type MapValue = string | number | boolean | string[] | null;

function splitModelParameters(params: Record<string, unknown> | undefined): { modelParameters: Record<string, MapValue>; tools: unknown } {
  const safe = safeModelParameters(params);
  const tools = safe.tools ?? safe.functions;
  const modelParameters: Record<string, MapValue> = {};
  for (const [name, value] of Object.entries(safe)) {
    if (name === 'tools' || name === 'functions' || value === undefined) {
      continue;
    }
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      modelParameters[name] = value;
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      modelParameters[name] = value as string[];
    } else {
      modelParameters[name] = JSON.stringify(value);
    }
  }
  return { modelParameters, tools };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function basicAuthorization(settings: LangfuseSettings): string {
  return `Basic ${Buffer.from(`${settings.publicKey}:${settings.secretKey}`).toString('base64')}`;
}

/** What the SDK's media walk reacts to: data URIs, OpenAI audio objects, LangfuseMedia; it stops below depth 10. */
function mayCarryMedia(value: unknown, level: number): boolean {
  if (typeof value === 'string') return value.startsWith('data:');
  if (typeof value !== 'object' || value === null || level > 10) return false;
  if (Array.isArray(value)) return value.some((item) => mayCarryMedia(item, level + 1));
  if (Object.prototype.toString.call(value) === '[object LangfuseMedia]' || value.constructor?.name === 'LangfuseMedia') return true;
  if ('input_audio' in value || 'audio' in value) return true;
  for (const key in value) if (mayCarryMedia((value as Record<string, unknown>)[key], level + 1)) return true;
  return false;
}

function envelopesOf(body: FetchOptions['body']): Map<string, string> {
  const map = new Map<string, string>();
  try {
    const parsed = JSON.parse(typeof body === 'string' ? body : (body?.toString('utf8') ?? '')) as {
      batch?: { id?: unknown; body?: { id?: unknown } }[];
    };
    for (const envelope of parsed.batch ?? []) {
      if (typeof envelope.id === 'string' && typeof envelope.body?.id === 'string') {
        map.set(envelope.id, envelope.body.id);
      }
    }
  } catch {
    // An unparsable body carries nothing we can account for; its items are reported as not sent.
  }
  return map;
}

function envelopeErrorsOf(text: string): IngestionOutcome['envelopeErrors'] {
  try {
    const parsed = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) {
      return [];
    }
    return parsed.errors
      .filter((e): e is { id: string; status?: unknown; message?: unknown } => typeof (e as { id?: unknown })?.id === 'string')
      .map((e) => ({
        id: e.id,
        status: typeof e.status === 'number' ? e.status : undefined,
        message: typeof e.message === 'string' ? e.message : undefined,
      }));
  } catch {
    return [];
  }
}

function bufferedResponse(status: number, text: string): FetchResponse {
  return {
    status,
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => {
      const bytes = Buffer.from(text, 'utf8');
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}
