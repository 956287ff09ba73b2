import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { GatewaySettings } from '../config/gateway-settings';
import { DestinationRegistry } from './destination-registry';
import type { DeliveryItem, DestinationKind } from './log-destination';
import type { ResolvedEntry } from './logging-entry';

interface Batch {
  readonly entry: ResolvedEntry;
  readonly items: DeliveryItem[];
}

export interface DeliveryCounters {
  enqueued: number;
  delivered: number;
  retried: number;
  failed: number;
  dropped: number;
}

/**
 * In-memory batching per logging entry, flushed every `LOG_FLUSH_INTERVAL_MS` and on shutdown.
 * - Bounded: past MAX_BUFFERED events new ones are dropped, counted and reported (never silently).
 * - Bulkheads: each destination kind has its own small pool of concurrent sends, so a hanging Langfuse
 *   holds up only Langfuse batches, and nothing here is ever awaited by a request.
 * - Retryable failures (429, 5xx, network) are retried with exponential backoff and jitter, honouring
 *   Retry-After, a bounded number of times; other failures are reported and dropped.
 */
@Injectable()
export class DeliveryQueue implements OnModuleInit, OnApplicationShutdown {
  static readonly MAX_BUFFERED = 100_000;
  static readonly MAX_BATCH = 250;
  static readonly MAX_ATTEMPTS = 5;
  static readonly CONCURRENCY_PER_KIND = 4;

  private readonly logger = new Logger(DeliveryQueue.name);
  private readonly buffers = new Map<string, Batch>();
  private readonly waiting = new Map<DestinationKind, (() => void)[]>();
  private readonly active = new Map<DestinationKind, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly pendingRetries = new Map<NodeJS.Timeout, () => void>();
  private readonly counters = new Map<DestinationKind, DeliveryCounters>();
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDropWarning = 0;

  constructor(
    private readonly destinations: DestinationRegistry,
    private readonly settings: GatewaySettings,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.settings.environment.LOG_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    // Batches waiting for a retry get their last chance now rather than being lost with the process.
    for (const [timer, retry] of this.pendingRetries) {
      clearTimeout(timer);
      this.pendingRetries.delete(timer);
      retry();
    }
    await this.flush();
    await this.settle();
    await this.destinations.closeAll();
  }

  enqueue(entry: ResolvedEntry, item: DeliveryItem): void {
    const stats = this.statsFor(entry.callback_name);
    if (this.buffered >= DeliveryQueue.MAX_BUFFERED) {
      stats.dropped++;
      if (Date.now() - this.lastDropWarning > 10_000) {
        this.lastDropWarning = Date.now();
        this.logger.warn(`log buffer full (${DeliveryQueue.MAX_BUFFERED} events): dropping new events; see the dropped counters`);
      }
      return;
    }
    stats.enqueued++;
    this.buffered++;
    const batch = this.buffers.get(entry.entry_id);
    if (batch) batch.items.push(item);
    else this.buffers.set(entry.entry_id, { entry, items: [item] });
  }

  /** Sends everything buffered now; resolves when those sends (not later retries) are done. */
  async flush(): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const [id, batch] of this.buffers) {
      this.buffers.delete(id);
      for (let start = 0; start < batch.items.length; start += DeliveryQueue.MAX_BATCH) {
        const items = batch.items.slice(start, start + DeliveryQueue.MAX_BATCH);
        sends.push(this.track(this.send(batch.entry, items, 1)));
      }
    }
    await Promise.all(sends);
  }

  /** Waits for every send in flight, including retries already due. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  stats(): ReadonlyMap<DestinationKind, DeliveryCounters> {
    return this.counters;
  }

  private async send(entry: ResolvedEntry, items: DeliveryItem[], attempt: number): Promise<void> {
    const kind = entry.callback_name;
    const stats = this.statsFor(kind);
    const resolved = this.destinations.settingsFor(entry, process.env);
    if ('error' in resolved) {
      this.finish(items.length);
      stats.failed += items.length;
      this.logger.error(`${kind} (${entry.source} entry ${entry.entry_id}): not configured correctly, ${items.length} event(s) not sent: ${resolved.error}`);
      return;
    }
    await this.acquire(kind);
    let result;
    try {
      result = await this.destinations.destinationFor(entry).send(items, resolved.settings);
    } catch (error) {
      result = { ok: false as const, retryable: true, error: error instanceof Error ? error.message : String(error) };
    } finally {
      this.release(kind);
    }
    if (result.ok) {
      this.finish(items.length);
      stats.delivered += items.length;
      return;
    }
    const failed = result.failedEventIds ? items.filter((item) => result.failedEventIds?.includes(item.eventId)) : items;
    const acknowledged = items.length - failed.length;
    stats.delivered += acknowledged;
    this.finish(acknowledged);
    if (result.retryable && attempt < DeliveryQueue.MAX_ATTEMPTS) {
      stats.retried += failed.length;
      const backoff = Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random());
      const delay = Math.max(result.retryAfterMs ?? 0, backoff);
      this.logger.warn(`${kind} (${entry.source} entry ${entry.entry_id}): ${result.error}; retrying ${failed.length} event(s) in ${Math.round(delay)} ms`);
      const retry = () => void this.track(this.send(entry, failed, attempt + 1));
      const timer = setTimeout(() => {
        this.pendingRetries.delete(timer);
        retry();
      }, delay);
      timer.unref();
      this.pendingRetries.set(timer, retry);
      return;
    }
    this.finish(failed.length);
    stats.failed += failed.length;
    this.logger.error(`${kind} (${entry.source} entry ${entry.entry_id}): ${failed.length} event(s) not delivered after ${attempt} attempt(s): ${result.error}`);
  }

  private finish(count: number): void {
    this.buffered -= count;
  }

  private track(promise: Promise<void>): Promise<void> {
    const tracked = promise.catch((error: unknown) => this.logger.error(`delivery failed unexpectedly: ${String(error)}`));
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return tracked;
  }

  private async acquire(kind: DestinationKind): Promise<void> {
    const active = this.active.get(kind) ?? 0;
    if (active < DeliveryQueue.CONCURRENCY_PER_KIND) {
      this.active.set(kind, active + 1);
      return;
    }
    await new Promise<void>((resolve) => {
      const queue = this.waiting.get(kind) ?? [];
      queue.push(resolve);
      this.waiting.set(kind, queue);
    });
  }

  private release(kind: DestinationKind): void {
    const next = this.waiting.get(kind)?.shift();
    if (next) next();
    else this.active.set(kind, (this.active.get(kind) ?? 1) - 1);
  }

  private statsFor(kind: DestinationKind): DeliveryCounters {
    let stats = this.counters.get(kind);
    if (!stats) {
      stats = { enqueued: 0, delivered: 0, retried: 0, failed: 0, dropped: 0 };
      this.counters.set(kind, stats);
    }
    return stats;
  }
}
