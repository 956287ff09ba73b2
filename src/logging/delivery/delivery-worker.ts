import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SecretRedactor } from '../../common/secret-redactor';
import { GatewaySettings } from '../../config/gateway-settings';
import { MetricsService } from '../../metrics/metrics.service';
import { DeliveryBatchSpans } from './delivery-batch-spans';
import { DestinationRegistry, type UsableSettings } from './destination-registry';
import type { DeliveryResult, DestinationKind, LogDestination } from '../log-destination';
import { BufferedEvent, LogBuffer, type OutboxConsumer, type SendOutcome } from './log-buffer';
import { OutboxStore, type DeliverableEvent } from './outbox.store';

/** The outbox claimant name of this gateway instance (see DeliveryThreadData.workerId). */
export const DELIVERY_WORKER_ID = Symbol('DELIVERY_WORKER_ID');

/**
 * Takes events from the outbox and delivers them, at least once.
 * - Bulkheads: every destination entry is delivered by its own task, and a kind never runs more than
 *   MAX_TASKS_PER_KIND at once. A claim skips entries that already have a task, so a destination that hangs
 *   holds up only its own events — never another team's, never a request.
 * - A row is deleted only after the destination acknowledged it (Langfuse's 207 per-event errors count).
 * - Failures are retried with exponential backoff and jitter, never sooner than the destination's
 *   Retry-After. Rejections that cannot succeed by retrying (400/401/403, bad settings) are dead-lettered
 *   after LOG_MAX_ATTEMPTS; anything older than LOG_DEAD_LETTER_AFTER_MS is dead-lettered too.
 * - Fresh events come from the LogBuffer and are sent from memory; the buffer writes to the outbox only
 *   those not acknowledged within a tick (claimed by this worker while it still sends them), so a healthy
 *   destination costs no database work. Claims are leases, so rows of an instance that died are picked up
 *   by the others.
 * - Circuit breaker: after a batch of an entry failed outright, the entry is left alone until its retry is
 *   due — its new events are written unclaimed and claims skip it — so a destination that is down costs one
 *   attempt per back-off period instead of one per event.
 */
@Injectable()
export class DeliveryWorker implements OnModuleInit, BeforeApplicationShutdown, OutboxConsumer {
  static readonly MAX_TASKS_PER_KIND = 16;
  static readonly CLAIM_LIMIT = 500;
  static readonly BASE_BACKOFF_MS = 1_000;

  private readonly logger = new Logger(DeliveryWorker.name);
  /** Entries with a task running, by kind (a kind's set is made when it is first used). */
  private readonly activeEntries = new Map<DestinationKind, Set<string>>();
  private readonly tasks = new Set<Promise<void>>();
  /** Claimed rows waiting for their entry's task (one task per entry at a time). */
  private readonly queued = new Map<string, { kind: DestinationKind; rows: DeliverableEvent[] }>();
  /** Entries whose last batch failed outright: when to try again (epoch ms) and how many failures in a row. */
  private readonly breakers = new Map<string, { until: number; failures: number }>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | null = null;
  private pollAgain = false;
  private stopping = false;

  constructor(
    private readonly store: OutboxStore,
    private readonly buffer: LogBuffer,
    private readonly destinations: DestinationRegistry,
    private readonly settings: GatewaySettings,
    private readonly metrics: MetricsService,
    @Inject(DELIVERY_WORKER_ID) readonly workerId: string,
    @Inject(SecretRedactor) private readonly redactor: SecretRedactor,
    private readonly batchSpans: DeliveryBatchSpans,
  ) {}

  private get env() {
    return this.settings.environment;
  }

  /** Never shorter than a send may take, or a slow send would be delivered twice by another instance. */
  get leaseMs(): number {
    return Math.max(this.env.LOG_CLAIM_LEASE_MS, this.env.LOG_SEND_TIMEOUT_MS * 2);
  }

  async onModuleInit(): Promise<void> {
    // A thread restarted after a crash takes over its predecessor's claims at once instead of waiting out their lease.
    await this.store.release(this.workerId).catch((error: Error) => this.logger.warn(`could not release earlier claims: ${error.message}`));
    this.timer = setInterval(() => void this.poll(), this.env.LOG_FLUSH_INTERVAL_MS);
    this.timer.unref();
    this.buffer.attach(this);
    // Rows left by a previous run (SIGTERM grace exceeded, crash) are delivered from the first tick on.
  }

  /**
   * Runs after LogBuffer's hook has written what was not acknowledged (it was registered first). Delivers for up to
   * LOG_SHUTDOWN_GRACE_MS, then gives back its claims: what is left stays in the outbox for the next start.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.buffer.write();
    const deadline = Date.now() + this.env.LOG_SHUTDOWN_GRACE_MS;
    while (Date.now() < deadline) {
      await this.poll();
      if (this.tasks.size === 0) break;
      await Promise.race([Promise.all([...this.tasks]), sleep(Math.max(0, deadline - Date.now()))]);
    }
    this.stopping = true;
    await this.store.release(this.workerId).catch((error: Error) => this.logger.warn(`could not release claims: ${error.message}`));
    await this.destinations.closeAll();
  }

  /** One claim round for every kind; overlapping calls collapse into one follow-up round. */
  poll(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.polling) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.pollAgain = false;
        for (const kind of this.destinations.kinds) await this.claimFor(kind);
      } while (this.pollAgain && !this.stopping);
    })()
      .catch((error: Error) => this.logger.warn(`outbox poll failed (${error.message}); will retry`))
      .finally(() => (this.polling = null));
    return this.polling;
  }

  /** Waits until every task started so far has finished (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.tasks.size > 0 || this.polling) await Promise.all([...this.tasks, this.polling]);
  }

  /** Fresh events from the buffer: sent from memory, except those of an entry whose circuit is open. */
  deliver(events: BufferedEvent[]): void {
    const taken = events.filter((event) => !this.isOpen(event.entryId));
    for (const event of taken) event.held = true;
    this.accept(taken);
  }

  /** Drops a team's rows waiting in memory (its outbox rows are deleted by the caller). */
  forgetTeam(teamId: string): void {
    for (const [entryId, queue] of this.queued) {
      queue.rows = queue.rows.filter((row) => row.teamId !== teamId);
      if (queue.rows.length === 0) this.queued.delete(entryId);
    }
  }

  private active(kind: DestinationKind): Set<string> {
    let active = this.activeEntries.get(kind);
    if (!active) this.activeEntries.set(kind, (active = new Set()));
    return active;
  }

  private async claimFor(kind: DestinationKind): Promise<void> {
    const active = this.active(kind);
    if (active.size >= DeliveryWorker.MAX_TASKS_PER_KIND) return;
    const open = [...this.breakers.keys()].filter((entryId) => this.isOpen(entryId));
    const rows = await this.store.claim({
      kind,
      worker: this.workerId,
      leaseMs: this.leaseMs,
      limit: DeliveryWorker.CLAIM_LIMIT,
      excludeEntryIds: [...active, ...open],
    });
    this.accept(rows);
  }

  private accept(rows: readonly DeliverableEvent[]): void {
    const kinds = new Set<DestinationKind>();
    for (const row of rows) {
      const kind = row.kind;
      const queue = this.queued.get(row.entryId);
      if (queue) queue.rows.push(row);
      else this.queued.set(row.entryId, { kind, rows: [row] });
      kinds.add(kind);
    }
    for (const kind of kinds) this.startTasks(kind);
  }

  /** Starts a task for each queued entry without one, up to MAX_TASKS_PER_KIND; each task takes one batch. */
  private startTasks(kind: DestinationKind): void {
    if (this.stopping) return;
    const active = this.active(kind);
    for (const [entryId, queue] of this.queued) {
      if (queue.kind !== kind || active.has(entryId)) continue;
      if (this.isOpen(entryId)) {
        // Taken before its entry failed: give the rows back untouched; claims skip the entry until it is due.
        this.queued.delete(entryId);
        this.settle(queue.rows, { type: 'released' }).catch((error: Error) => this.logger.warn(`could not release ${queue.rows.length} claim(s): ${error.message}`));
        continue;
      }
      if (active.size >= DeliveryWorker.MAX_TASKS_PER_KIND) return;
      const batch = queue.rows.splice(0, DeliveryWorker.CLAIM_LIMIT);
      if (queue.rows.length === 0) this.queued.delete(entryId);
      active.add(entryId);
      const task = this.send(kind, batch)
        .catch((error: Error) => this.logger.error(`delivery of ${kind} entry ${entryId} failed unexpectedly: ${this.redactor.redact(error.message)}`))
        .finally(() => {
          active.delete(entryId);
          this.tasks.delete(task);
          this.startTasks(kind);
        });
      this.tasks.add(task);
    }
  }

  private isOpen(entryId: string): boolean {
    const breaker = this.breakers.get(entryId);
    return breaker !== undefined && breaker.until > Date.now();
  }

  /** Each outright failure in a row doubles the pause (up to LOG_RETRY_MAX_BACKOFF_MS), at least `minMs`. */
  private trip(entryId: string, minMs: number): void {
    const failures = (this.breakers.get(entryId)?.failures ?? 0) + 1;
    const pause = Math.min(this.env.LOG_RETRY_MAX_BACKOFF_MS, DeliveryWorker.BASE_BACKOFF_MS * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
    this.breakers.set(entryId, { until: Date.now() + Math.max(minMs, pause), failures });
  }

  private async send(kind: DestinationKind, rows: DeliverableEvent[]): Promise<void> {
    const startedAt = this.batchSpans.enabled ? Date.now() : 0;
    const entry = rows[0].entry;
    const resolved = this.destinations.settingsFor(entry, rows[0].source, process.env);
    let result: DeliveryResult;
    let credentials: readonly string[] = [];
    let errorType: string;
    if ('error' in resolved) {
      result = { ok: false, retryable: false, error: `not configured correctly: ${resolved.error}` };
      errorType = 'not_configured';
    } else {
      credentials = resolved.secrets;
      const sent = await withTimeout(this.sendChecked(entry, resolved, rows), this.env.LOG_SEND_TIMEOUT_MS);
      result = sent.result;
      errorType = sent.timedOut ? 'timeout' : result.ok || result.retryable ? 'unavailable' : 'rejected';
    }
    const span = (delivered: number, retried: number, deadLettered: number): void => {
      if (!this.batchSpans.enabled) return;
      const outcome = delivered === rows.length ? 'delivered' : delivered === 0 ? 'failed' : 'partial';
      this.batchSpans.record({
        kind,
        source: rows[0].source,
        events: rows.length,
        delivered,
        retried,
        deadLettered,
        outcome,
        ...(outcome === 'delivered' ? {} : { errorType }),
        startedAt,
        endedAt: Date.now(),
      });
    };
    if (result.ok) {
      this.breakers.delete(rows[0].entryId);
      await this.settle(rows, { type: 'delivered' });
      this.count(this.metrics.logDelivered, rows);
      span(rows.length, 0, 0);
      return;
    }
    // A destination's own words can quote the credential it refused (a 401 body echoing the key): the text is
    // redacted once, here, before it reaches a dead letter, an outbox row or a log line.
    const error = this.redactor.redact(result.error, credentials);
    const failedIds = result.failedEventIds;
    const failed = failedIds ? rows.filter((row) => failedIds.includes(row.eventId)) : rows;
    const acknowledged = rows.filter((row) => !failed.includes(row));
    await this.settle(acknowledged, { type: 'delivered' });
    this.count(this.metrics.logDelivered, acknowledged);

    const now = Date.now();
    const dead = failed.filter(
      (row) => now - row.createdAt.getTime() >= this.env.LOG_DEAD_LETTER_AFTER_MS || (!result.retryable && row.attempts + 1 >= this.env.LOG_MAX_ATTEMPTS),
    );
    const retry = failed.filter((row) => !dead.includes(row));
    const label = `${kind} (${entry.trusted ? 'admin' : 'team admin'}-set ${rows[0].source} entry ${entry.entry_id})`;
    if (dead.length > 0) {
      await this.settle(dead, { type: 'dead', error });
      this.count(this.metrics.logDeadLettered, dead);
      this.logger.error(`${label}: ${dead.length} event(s) moved to dead letters: ${error}`);
    }
    if (retry.length > 0) {
      const attempts = Math.min(...retry.map((row) => row.attempts));
      const backoff = Math.min(this.env.LOG_RETRY_MAX_BACKOFF_MS, DeliveryWorker.BASE_BACKOFF_MS * 2 ** attempts) * (0.5 + Math.random() / 2);
      const delay = Math.max(result.retryAfterMs ?? 0, backoff);
      if (acknowledged.length === 0) this.trip(rows[0].entryId, delay);
      await this.settle(retry, { type: 'retry', delayMs: delay, error });
      this.count(this.metrics.logRetried, retry);
      this.logger.warn(`${label}: ${error}; ${retry.length} event(s) retried in ${Math.round(delay)} ms`);
    }
    span(acknowledged.length, retry.length, dead.length);
  }

  /** The batch to its destination, once the entry's URLs passed the connect-time check where the gateway makes it. */
  private async sendChecked(entry: DeliverableEvent['entry'], resolved: UsableSettings, rows: readonly DeliverableEvent[]): Promise<DeliveryResult> {
    const blocked = await this.destinations.egressProblem(entry, resolved);
    if (blocked !== null) return { ok: false, retryable: false, error: `blocked: ${blocked}` };
    const destination = this.destinations.destinationFor(entry) as LogDestination<unknown>;
    return destination.send(
      rows.map((row) => ({ eventId: row.eventId, payload: row.payload })),
      resolved.settings,
    );
  }

  /** Applies an outcome to the events still only in memory (the buffer writes them if needed) and to the outbox rows. */
  private async settle(rows: readonly DeliverableEvent[], outcome: SendOutcome): Promise<void> {
    const ids = await this.buffer.settle(rows, outcome);
    if (outcome.type === 'delivered') await this.store.delete(ids, this.workerId);
    else if (outcome.type === 'released') await this.store.unclaim(ids, this.workerId);
    else if (outcome.type === 'retry') await this.store.reschedule(ids, this.workerId, outcome);
    else await this.store.deadLetter(ids, this.workerId, outcome.error);
  }

  private count(counter: MetricsService['logDelivered'], rows: readonly DeliverableEvent[]): void {
    for (const row of rows) counter.inc({ kind: row.kind, team: row.teamId ?? 'none' });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A destination that neither answers nor fails is cut off; the batch is retried like any transient failure. */
async function withTimeout(send: Promise<DeliveryResult>, timeoutMs: number): Promise<{ result: DeliveryResult; timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ result: DeliveryResult; timedOut: boolean }>((resolve) => {
    timer = setTimeout(() => resolve({ result: { ok: false, retryable: true, error: `no answer within ${timeoutMs} ms` }, timedOut: true }), timeoutMs);
  });
  try {
    const answered = send.then(
      (result) => ({ result, timedOut: false }),
      (error: Error) => ({ result: { ok: false, retryable: true, error: error.message } satisfies DeliveryResult, timedOut: false }),
    );
    return await Promise.race([answered, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
