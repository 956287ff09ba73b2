import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { GatewaySettings } from '../../config/gateway-settings';
import { MetricsService } from '../../metrics/metrics.service';
import { OutboxStore, type DeliverableEvent, type NewOutboxRow, type OutboxInsert } from './outbox.store';

/** Who delivers the events this buffer hands out (the DeliveryWorker). */
export interface OutboxConsumer {
  readonly workerId: string;
  readonly leaseMs: number;
  /** Fresh events to send from memory; the consumer `hold`s those it takes. */
  deliver(events: BufferedEvent[]): void;
}

/** How a send of in-memory events ended, as far as the outbox is concerned. */
export type SendOutcome =
  | { type: 'delivered' }
  | { type: 'released' }
  | { type: 'retry'; delayMs: number; error: string }
  | { type: 'dead'; error: string };

/** An event that lives in memory until it is acknowledged, or written to the outbox because it was not. */
export class BufferedEvent implements DeliverableEvent {
  id: string | null = null;
  readonly entryId: string;
  readonly kind: string;
  readonly attempts = 0;
  readonly createdAt = new Date();
  /** The write tick that handed it to the consumer. */
  generation = Number.POSITIVE_INFINITY;
  /** Queued or being sent by the consumer: written claimed by it, so no other instance sends it meanwhile. */
  held = false;
  /** Acknowledged, purged, or written by an earlier attempt: never written (again). Set only by `markDone`/`settle`. */
  done = false;
  /** A failed send, written with the row. */
  failure: Pick<OutboxInsert, 'status' | 'attempts' | 'delayMs' | 'lastError'> | null = null;
  /** The INSERT carrying it, while that is under way. */
  writing: Promise<unknown> | null = null;

  constructor(readonly row: NewOutboxRow) {
    this.entryId = row.entry.entry_id;
    this.kind = row.entry.callback_name;
  }

  get eventId() {
    return this.row.eventId;
  }
  get entry() {
    return this.row.entry;
  }
  get source() {
    return this.row.source;
  }
  get teamId() {
    return this.row.teamId;
  }
  get payload() {
    return this.row.payload;
  }
}

function settleInMemory(event: BufferedEvent, outcome: SendOutcome): boolean {
  event.held = false;
  if (outcome.type === 'delivered') return (event.done = true);
  if (outcome.type === 'retry') event.failure = { status: 'pending', attempts: 1, delayMs: outcome.delayMs, lastError: outcome.error };
  else if (outcome.type === 'dead') event.failure = { status: 'dead', attempts: 1, delayMs: 0, lastError: outcome.error };
  return false;
}

/**
 * In the delivery thread: the events the request loop handed over (DeliveryHandover), in memory. Every
 * `OUTBOX_WRITE_INTERVAL_MS` a tick hands the new events to the delivery worker, which sends them from memory, and writes to the outbox, in one
 * multi-row INSERT, the events of the previous tick that are still not acknowledged (their destination is
 * slow, down or rejecting, or its circuit is open). A healthy destination therefore costs no database
 * write at all, no database write ever sits on a request, and a SIGKILL loses at most the events of the last
 * two intervals that were not delivered yet. If the database is down, events wait here (bounded) and the
 * write is retried; past the bound new events are dropped, counted and reported, never silently.
 */
@Injectable()
export class LogBuffer implements OnModuleInit, BeforeApplicationShutdown {
  static readonly MAX_BUFFERED = 20_000;
  static readonly MAX_ROWS_PER_INSERT = 500;

  private readonly logger = new Logger(LogBuffer.name);
  /** Enqueued since the last tick. */
  private pending: BufferedEvent[] = [];
  /** Handed out and neither acknowledged nor written yet. */
  private unwritten: BufferedEvent[] = [];
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | null = null;
  private consumer: OutboxConsumer | null = null;
  private lastWarning = 0;
  /** Event ids done since the last `takeSettled`: the main thread drops its copies of them. */
  private settled: string[] = [];

  constructor(
    private readonly store: OutboxStore,
    private readonly settings: GatewaySettings,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.tick(), this.settings.environment.OUTBOX_WRITE_INTERVAL_MS);
    this.timer.unref();
  }

  /** After the HTTP server has closed: everything not acknowledged goes to the outbox before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 3 && this.size > 0; attempt++) await this.write();
    if (this.size > 0) this.logger.error(`${this.size} log event(s) could not be written to the outbox at shutdown`);
  }

  enqueue(row: NewOutboxRow): void {
    const labels = { kind: row.entry.callback_name, team: row.teamId ?? 'none' };
    if (this.size >= LogBuffer.MAX_BUFFERED) {
      this.metrics.logDropped.inc({ ...labels, reason: 'buffer_full' });
      this.settled.push(row.eventId); // nothing more will happen to it: the main thread need not keep it
      this.warnThrottled(`log buffer full (${LogBuffer.MAX_BUFFERED} events, the outbox is not keeping up): dropping new events`);
      return;
    }
    this.pending.push(new BufferedEvent(row));
  }

  /** Ids of the events acknowledged, purged or written since the last call. */
  takeSettled(): string[] {
    const settled = this.settled;
    this.settled = [];
    return settled;
  }

  attach(consumer: OutboxConsumer): void {
    this.consumer = consumer;
  }

  /** Drops a team's events that are not written yet (see `LoggingService.purgeTeam`). */
  purgeTeam(teamId: string): number {
    let purged = 0;
    const keep = (event: BufferedEvent): boolean => {
      if (event.teamId === teamId && !event.done) {
        this.markDone(event);
        purged++;
      }
      return !event.done;
    };
    this.pending = this.pending.filter(keep);
    this.unwritten = this.unwritten.filter(keep);
    return purged;
  }

  /** Events in memory that may still need a write (an upper bound: acknowledged ones leave at the next write). */
  get size(): number {
    return this.pending.length + this.unwritten.length;
  }

  /**
   * How a send ended. Waits until no INSERT carrying any of these events is under way, then records the
   * outcome on the events that have no row (failures are written at the next tick) and returns the row ids
   * of the others, for the caller to update. The wait and the split are one step: an event cannot get a row
   * in between.
   */
  async settle(events: readonly DeliverableEvent[], outcome: SendOutcome): Promise<string[]> {
    for (;;) {
      const writes = new Set<Promise<unknown>>();
      for (const event of events) if (event instanceof BufferedEvent && event.writing) writes.add(event.writing);
      if (writes.size === 0) break;
      await Promise.allSettled(writes);
    }
    const ids: string[] = [];
    for (const event of events) {
      if (event.id !== null) ids.push(event.id);
      else if (event instanceof BufferedEvent && settleInMemory(event, outcome)) this.settled.push(event.eventId);
    }
    return ids;
  }

  /** Writes every event not acknowledged yet, fresh ones included (shutdown). */
  write(): Promise<void> {
    this.takePending();
    return this.writeUpTo(Number.POSITIVE_INFINITY);
  }

  /** Runs in a timer, where a throw would end the delivery thread: failures are logged, and the events written to the outbox. */
  private tick(): void {
    this.generation++;
    const fresh = this.takePending();
    try {
      if (fresh.length > 0) this.consumer?.deliver(fresh);
    } catch (error) {
      this.logger.error(`${fresh.length} log event(s) could not be handed to delivery, the outbox keeps them: ${(error as Error).message}`);
    }
    this.writeUpTo(this.generation - 1).catch((error: Error) => this.warnThrottled(`writing to the outbox failed (${error.message}); will retry`));
  }

  /** Moves the events enqueued since the last tick to `unwritten`, stamped with the current generation. */
  private takePending(): BufferedEvent[] {
    const taken = this.pending;
    this.pending = [];
    for (const event of taken) {
      event.generation = this.generation;
      this.unwritten.push(event);
    }
    return taken;
  }

  /** Writes the unacknowledged events handed out at `generation` or before; concurrent callers share one write. */
  private writeUpTo(generation: number): Promise<void> {
    this.writing ??= this.writeAll(generation).finally(() => (this.writing = null));
    return this.writing;
  }

  private async writeAll(generation: number): Promise<void> {
    for (;;) {
      this.unwritten = this.unwritten.filter((event) => !event.done);
      const batch: BufferedEvent[] = [];
      for (const event of this.unwritten) {
        if (event.generation > generation) continue;
        batch.push(event);
        if (batch.length === LogBuffer.MAX_ROWS_PER_INSERT) break;
      }
      if (batch.length === 0) break;
      const insert = this.store.insert(batch.map((event) => this.toInsert(event)), this.consumer?.leaseMs ?? 0);
      for (const event of batch) event.writing = insert;
      let ids: Map<string, string>;
      try {
        ids = await insert;
      } catch (error) {
        this.warnThrottled(`cannot write log events to the outbox (${(error as Error).message}); ${this.size} waiting, will retry`);
        break;
      } finally {
        for (const event of batch) event.writing = null;
      }
      for (const event of batch) {
        // No id: the row was already there (an earlier write whose answer was lost) and is claimable from it.
        event.id = ids.get(event.eventId) ?? null;
        this.markDone(event);
      }
    }
  }

  private markDone(event: BufferedEvent): void {
    event.done = true;
    this.settled.push(event.eventId);
  }

  private toInsert(event: BufferedEvent): OutboxInsert {
    const claimedBy = event.held ? (this.consumer?.workerId ?? null) : null;
    return { ...event.row, createdAt: event.createdAt, claimedBy, status: 'pending', attempts: 0, delayMs: 0, lastError: null, ...event.failure };
  }

  private warnThrottled(message: string): void {
    if (Date.now() - this.lastWarning < 10_000) return;
    this.lastWarning = Date.now();
    this.logger.warn(message);
  }
}
