import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { GatewaySettings } from '../../config/gateway-settings';
import { MetricsService } from '../../metrics/metrics.service';
import { OutboxStore, type ClaimedRow, type NewOutboxRow, type Preclaim } from './outbox.store';

/** Who delivers what this buffer writes (the DeliveryWorker): its rows are written already claimed by it. */
export interface OutboxConsumer {
  readonly preclaim: Preclaim;
  /** Called after each successful write with the rows written claimed by the consumer, to deliver from memory. */
  written(claimed: ClaimedRow[]): void;
}

/**
 * The only thing the request side touches: an in-memory list that a timer writes to the outbox in one
 * multi-row INSERT every `OUTBOX_WRITE_INTERVAL_MS` — so no database write ever sits on a request, and a
 * SIGKILL loses at most one interval of events. If the database is down, rows wait here (bounded) and the
 * write is retried; past the bound new events are dropped, counted and reported, never silently.
 */
@Injectable()
export class LogBuffer implements OnModuleInit, BeforeApplicationShutdown {
  static readonly MAX_BUFFERED = 20_000;
  static readonly MAX_ROWS_PER_INSERT = 500;

  private readonly logger = new Logger(LogBuffer.name);
  private pending: NewOutboxRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | null = null;
  private consumer: OutboxConsumer | null = null;
  private lastWarning = 0;

  constructor(
    private readonly store: OutboxStore,
    private readonly settings: GatewaySettings,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.write(), this.settings.environment.OUTBOX_WRITE_INTERVAL_MS);
    this.timer.unref();
  }

  /** After the HTTP server has closed: everything still buffered goes to the outbox before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 0; attempt < 3 && this.pending.length > 0; attempt++) await this.write();
    if (this.pending.length > 0) this.logger.error(`${this.pending.length} log event(s) could not be written to the outbox at shutdown`);
  }

  enqueue(row: NewOutboxRow): void {
    const labels = { kind: row.entry.callback_name, team: row.teamId ?? 'none' };
    if (this.pending.length >= LogBuffer.MAX_BUFFERED) {
      this.metrics.logDropped.inc({ ...labels, reason: 'buffer_full' });
      this.warnThrottled(`log buffer full (${LogBuffer.MAX_BUFFERED} events, the outbox is not keeping up): dropping new events`);
      return;
    }
    this.metrics.logEnqueued.inc(labels);
    this.pending.push(row);
  }

  /** The consumer gets each write's rows at once, so delivery starts without a claim or a timer. */
  attach(consumer: OutboxConsumer): void {
    this.consumer = consumer;
  }

  /** Drops a team's events that are not written yet (see `LoggingService.purgeTeam`). */
  purgeTeam(teamId: string): number {
    const before = this.pending.length;
    this.pending = this.pending.filter((row) => row.teamId !== teamId);
    return before - this.pending.length;
  }

  get size(): number {
    return this.pending.length;
  }

  /** Writes what is buffered now; concurrent callers share one write. */
  write(): Promise<void> {
    this.writing ??= this.writeAll().finally(() => (this.writing = null));
    return this.writing;
  }

  private async writeAll(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, LogBuffer.MAX_ROWS_PER_INSERT);
      let claimed: ClaimedRow[];
      try {
        claimed = await this.store.insert(batch, this.consumer?.preclaim);
      } catch (error) {
        this.warnThrottled(`cannot write log events to the outbox (${(error as Error).message}); ${this.pending.length} waiting, will retry`);
        break;
      }
      this.pending = this.pending.slice(batch.length);
      this.consumer?.written(claimed);
    }
    this.metrics.bufferedEvents.set(this.pending.length);
  }

  private warnThrottled(message: string): void {
    if (Date.now() - this.lastWarning < 10_000) return;
    this.lastWarning = Date.now();
    this.logger.warn(message);
  }
}
