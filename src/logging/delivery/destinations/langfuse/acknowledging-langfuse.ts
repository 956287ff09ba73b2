import { randomUUID } from 'node:crypto';
import { Langfuse } from 'langfuse';
import { fillPlaceholders, jsonReusing, placeholder } from '../../event-json';

/*
 * The Langfuse client as the destination uses it: the SDK's batching and media handling, with every ingestion
 * response seen on the wire, so a batch counts as delivered only when Langfuse acknowledged its events.
 */

export type FetchOptions = Parameters<Langfuse['fetch']>[1];
export type FetchResponse = Awaited<ReturnType<Langfuse['fetch']>>;
export type TransportResponse = FetchResponse & { retryAfter: string | null };
export type Transport = (url: string, options: FetchOptions) => Promise<TransportResponse>;
export type LangfuseQueueItem = Parameters<Langfuse['processQueueItems']>[0][number];
type LangfuseObject = Parameters<Langfuse['processEnqueueEvent']>[0];
type EventBody = Parameters<Langfuse['processEnqueueEvent']>[1];

/** The base class's private state `enqueue` and `processEnqueueEvent` use (private in the typings only). */
interface SdkInternals {
  enabled: boolean;
  sampleRate?: number;
  mask?: unknown;
  flushAt: number;
  flushInterval: number;
  pendingEventProcessingPromises: Record<string, Promise<unknown>>;
}

const QUEUE = 'queue' as Parameters<Langfuse['getPersistedProperty']>[0];
// The base class's per-event limit (the same environment override).
const MAX_EVENT_SIZE_BYTES = Number(process.env.LANGFUSE_MAX_EVENT_SIZE_BYTES) || 1_000_000;

/** A queued body as its JSON text; in the batch JSON it stands as a placeholder that `fetch` fills in. */
class SerializedBody {
  private static next = 0;
  readonly seq = SerializedBody.next++;

  constructor(
    readonly id: unknown,
    readonly text: string,
    readonly bytes: number,
  ) {}

  toJSON(): string {
    return placeholder(this.seq);
  }
}

/** The item's JSON length: its envelope's plus its body's kept length. */
function itemBytes(item: LangfuseQueueItem): number {
  const body = item.body as unknown;
  if (!(body instanceof SerializedBody)) return Buffer.byteLength(JSON.stringify(item));
  // JSON.stringify({ ...item, body: 0 }) is the item's JSON with the body's replaced by one character.
  return Buffer.byteLength(JSON.stringify({ ...item, body: 0 })) - 1 + body.bytes;
}

function carriesMaybeMedia(body: unknown): boolean {
  const fields = body as Record<string, unknown> | undefined;
  return !!fields && ['input', 'output', 'metadata'].some((field) => mayCarryMedia(fields[field], 1));
}

/** What the base class hands its media upload: where to PUT the bytes, and the headers' values. */
export interface MediaUpload {
  uploadUrl: string;
  contentBytes: Buffer;
  contentType: string;
  contentSha256Hash: string;
}

/** What one POST /api/public/ingestion really returned, as seen on the wire. */
export interface IngestionOutcome {
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
export class AcknowledgingLangfuse extends Langfuse {
  outcomes: IngestionOutcome[] | null = null;
  private nextBatch: { objectIds: Map<string, string>; texts: Map<number, string> } | null = null;
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

  /** `trace(body)` without the client object it returns (the destination never uses it). */
  createTrace(body: Parameters<Langfuse['trace']>[0] & object): void {
    this.traceStateless(body);
  }

  /** `generation(body)` without the client object it returns (a body without a trace id takes the SDK's path). */
  createGeneration(body: Parameters<Langfuse['generation']>[0]): void {
    if (body.traceId) this.generationStateless(body);
    else this.generation(body);
  }

  /**
   * The base class walks input, output and metadata of every event with an async recursion (a promise per
   * node) looking for media to upload. Most events carry none: a synchronous look first, and the walk only
   * when there may be some (same conditions, same depth), so nothing changes for events that do.
   */
  protected override async processMediaInEvent(type: Parameters<Langfuse['processMediaInEvent']>[0], body: Parameters<Langfuse['processMediaInEvent']>[1]): Promise<void> {
    if (!carriesMaybeMedia(body)) return;
    await super.processMediaInEvent(type, body);
  }

  /**
   * The base class's `enqueue` with its bookkeeping id from `crypto.randomUUID()` (its own `generateUUID` runs a
   * regex replace with a callback per hex digit). The SDK's own path is kept for what the destination never
   * configures (sampling, masking, a disabled client).
   */
  protected override enqueue(type: LangfuseObject, body: EventBody): void {
    const self = this as unknown as SdkInternals;
    if (!self.enabled || self.sampleRate !== undefined || self.mask) {
      super.enqueue(type, body);
      return;
    }
    const promise = this.processEnqueueEvent(type, body);
    const promiseId = randomUUID();
    self.pendingEventProcessingPromises[promiseId] = promise;
    promise
      .catch((e: unknown) => this._events.emit('error', e))
      .finally(() => {
        delete self.pendingEventProcessingPromises[promiseId];
      });
  }

  /**
   * The base class serialises each body three times: for its size (`truncateEventBody`), to check it can be, and
   * in the batch. Here it is serialised once (splicing in the texts other bodies of the same call already made,
   * event-json.ts), and the queue holds that text: the batch JSON carries a placeholder per body, replaced by the
   * text in `fetch`. A body over the per-event limit is truncated by the base class, as before.
   */
  protected override async processEnqueueEvent(type: LangfuseObject, body: EventBody): Promise<void> {
    const self = this as unknown as SdkInternals;
    if (self.mask) return super.processEnqueueEvent(type, body);
    const media = carriesMaybeMedia(body);
    if (media) await super.processMediaInEvent(type, body);
    let finalBody: EventBody = body;
    let text: string;
    try {
      // After a media walk the fields are new objects; they are serialised as they are.
      text = media ? JSON.stringify(body) : jsonReusing(body);
      let bytes = Buffer.byteLength(text);
      if (bytes > MAX_EVENT_SIZE_BYTES) {
        finalBody = super.truncateEventBody(body, MAX_EVENT_SIZE_BYTES);
        text = JSON.stringify(finalBody);
        bytes = Buffer.byteLength(text);
      }
      const queue = this.getPersistedProperty<LangfuseQueueItem[]>(QUEUE) ?? [];
      queue.push({
        id: randomUUID(),
        type,
        timestamp: new Date().toISOString(),
        body: new SerializedBody((body as { id?: unknown }).id, text, bytes) as unknown as EventBody,
        metadata: undefined,
      } as LangfuseQueueItem);
      this.setPersistedProperty(QUEUE, queue);
      this._events.emit(type, finalBody);
      if (queue.length >= self.flushAt) this.flush();
      if (self.flushInterval && !this._flushTimer) {
        this._flushTimer = setTimeout(() => this.flush(), self.flushInterval);
        (this._flushTimer as NodeJS.Timeout).unref();
      }
    } catch (e) {
      this._events.emit('error', `Event Body for ${type} is not JSON-serializable: ${String(e)}`);
    }
  }

  /**
   * The base class's batch selection, with each item sized from its kept body text (the same UTF-8 length its
   * `new Blob([json]).size` computes, without serialising the body again), and the batch remembered (envelope id →
   * object id, and the body texts in order) so `fetch` can fill in the bodies and need not parse the request back
   * to know what it carries: `flush()` calls this and then `fetch` for that batch. Items over the per-event limit
   * are dropped as the base class drops them; the send then reports them as not sent.
   */
  override processQueueItems(queue: LangfuseQueueItem[], maxEventBytes: number, maxBatchBytes: number): ReturnType<Langfuse['processQueueItems']> {
    const processedItems: LangfuseQueueItem[] = [];
    const remainingItems: LangfuseQueueItem[] = [];
    const objectIds = new Map<string, string>();
    const texts = new Map<number, string>();
    let totalBytes = 0;
    for (let i = 0; i < queue.length; i++) {
      const bytes = itemBytes(queue[i]);
      if (bytes > maxEventBytes) continue;
      if (totalBytes + bytes >= maxBatchBytes) {
        remainingItems.push(...queue.slice(i));
        break;
      }
      totalBytes += bytes;
      processedItems.push(queue[i]);
      const body = queue[i].body as unknown;
      if (body instanceof SerializedBody) texts.set(body.seq, body.text);
      const objectId = (body as { id?: unknown } | undefined)?.id;
      if (typeof objectId === 'string') objectIds.set(queue[i].id, objectId);
    }
    this.nextBatch = { objectIds, texts };
    return { processedItems, remainingItems };
  }

  override async fetch(url: string, options: FetchOptions): Promise<FetchResponse> {
    const isIngestion = options.method === 'POST' && url.endsWith('/api/public/ingestion');
    const batch = isIngestion ? this.nextBatch : null;
    if (isIngestion) this.nextBatch = null;
    if (batch && batch.texts.size > 0 && typeof options.body === 'string') {
      const texts = batch.texts;
      options = { ...options, body: fillPlaceholders(options.body, (n) => texts.get(n)) };
    }
    if (!isIngestion || !this.outcomes) {
      return this.transport(url, options);
    }
    // Parsed back only if the SDK ever sends a batch it did not select through processQueueItems.
    const objectIdByEnvelope = batch?.objectIds ?? envelopesOf(options.body);
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

/** What the SDK's media walk reacts to: data URIs, OpenAI audio objects, LangfuseMedia; it stops below depth 10. */
export function mayCarryMedia(value: unknown, level: number): boolean {
  if (typeof value === 'string') return value.startsWith('data:');
  if (typeof value !== 'object' || value === null || level > 10) return false;
  if (Array.isArray(value)) return value.some((item) => mayCarryMedia(item, level + 1));
  if (Object.prototype.toString.call(value) === '[object LangfuseMedia]' || value.constructor?.name === 'LangfuseMedia') return true;
  if ('input_audio' in value || 'audio' in value) return true;
  for (const key in value) if (mayCarryMedia((value as Record<string, unknown>)[key], level + 1)) return true;
  return false;
}

export function envelopesOf(body: FetchOptions['body']): Map<string, string> {
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

export function envelopeErrorsOf(text: string): IngestionOutcome['envelopeErrors'] {
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

export function bufferedResponse(status: number, text: string): FetchResponse {
  return {
    status,
    text: () => Promise.resolve(text),
    // The executor turns a parse error into a rejection, as an async function would.
    json: () => new Promise<unknown>((resolve) => resolve(JSON.parse(text))),
    arrayBuffer: () => {
      const bytes = Buffer.from(text, 'utf8');
      return Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    },
  };
}
