import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { DataSource } from 'typeorm';
import { GatewaySettings } from '../../config/gateway-settings';
import { MetricsService } from '../../metrics/metrics.service';
import { Tracing } from '../../tracing/tracing';
import type { DeliveryThreadData, FromThread, HandedOverEvent, ThreadRequest, ToThread } from '../delivery/delivery-thread.protocol';
import { DestinationRegistry } from '../delivery/destination-registry';
import type { ThreadImport } from '../delivery/destination-module';
import { LogBuffer } from '../delivery/log-buffer';
import { OutboxStore } from '../delivery/outbox.store';
import { maskedRows } from '../privacy/mask-events';
import { PiiMaskerCache } from '../privacy/pii-masker';
import { handOverRows } from './clone-safe-handover';
import { workerHeapLimits } from '../../runtime/heap-flags';

/** Rows per message when a restarted thread gets the held events again. */
const ROWS_PER_MESSAGE = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
/** How long a /metrics scrape waits for the thread's latest counters. */
const SCRAPE_WAIT_MS = 1_000;

/**
 * The request loop's side of delivery: takes each finished call's events and hands them to the delivery thread
 * (`../delivery/delivery-thread.ts`), which serialises, sends, retries and writes the outbox. Per event the request
 * loop does one Map insert; the events of one event-loop turn go over in one message, after the responses of
 * that turn are written.
 *
 * Until the thread reports an event acknowledged, purged or written to the outbox, a copy stays here: a thread
 * that crashes is started again and gets those copies (at-least-once; event ids make redelivery idempotent).
 * On the embedded database, which serves one connection, the thread's SQL runs on this thread's connection.
 */
@Injectable()
export class DeliveryHandover implements OnModuleInit, BeforeApplicationShutdown {
  readonly workerId = `${hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly logger = new Logger('DeliveryThread');
  private thread: Worker | null = null;
  private ready = false;
  private stopping = false;
  private restartDelayMs = 500;
  /** Enqueued this turn, not yet handed over. */
  private fresh: HandedOverEvent[] = [];
  private flushScheduled = false;
  /** Handed over (or waiting for a thread to be ready) and not yet settled by the thread, by event id. */
  private readonly held = new Map<string, HandedOverEvent>();
  private nextRequestId = 1;
  private readonly requests = new Map<number, { request: ThreadRequest; resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private closed: (() => void) | null = null;

  constructor(
    private readonly settings: GatewaySettings,
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: MetricsService,
    private readonly store: OutboxStore,
    private readonly destinations: DestinationRegistry,
    private readonly tracing: Tracing,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.start();
    this.metrics.addCollector(async () => {
      const depth = await this.store.depth().catch(() => null);
      // Then the thread's counters as of now (a thread being restarted is not waited for). In this order, an
      // outbox row seen deleted has its delivery counted: the thread counts it before it reads the next message.
      await Promise.race([this.request({ name: 'report' }), sleep(SCRAPE_WAIT_MS)]);
      this.metrics.bufferedEvents.set(this.fresh.length + this.held.size);
      if (depth === null) return; // the database is unreachable: the outbox gauges are left out, not zeroed
      this.metrics.outboxDepth.reset();
      this.metrics.outboxOldestAge.reset();
      for (const row of depth) {
        this.metrics.outboxDepth.set({ kind: row.kind, status: row.status }, row.count);
        this.metrics.outboxOldestAge.set({ kind: row.kind, status: row.status }, row.oldestSeconds);
      }
    });
  }

  /** Past LogBuffer.MAX_BUFFERED events held in memory (the thread is not keeping up), new ones are dropped and counted. */
  enqueue(row: HandedOverEvent): void {
    const labels = { kind: row.entry.callback_name, team: row.teamId ?? 'none' };
    if (this.fresh.length + this.held.size >= LogBuffer.MAX_BUFFERED) {
      this.metrics.logDropped.inc({ ...labels, reason: 'buffer_full' });
      return;
    }
    this.metrics.logEnqueued.inc(labels);
    this.fresh.push(row);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Drops a team's events not handed over yet, and has the thread drop its own and the team's outbox rows. */
  async purgeTeam(teamId: string): Promise<number> {
    const before = this.fresh.length;
    this.fresh = this.fresh.filter((row) => row.teamId !== teamId);
    for (const [eventId, row] of this.held) if (row.teamId === teamId) this.held.delete(eventId);
    return before - this.fresh.length + ((await this.request({ name: 'purgeTeam', teamId })) as number);
  }

  /** An outbox claim round now (dead letters were replayed). */
  poll(): void {
    void this.request({ name: 'poll' }).catch(() => undefined);
  }

  /** The thread currently delivering, for the test that crashes it; never needed in production code. */
  get currentThread(): Worker | null {
    return this.thread;
  }

  /**
   * After the HTTP server closed, before the database closes: the thread writes what is not acknowledged and
   * delivers for LOG_SHUTDOWN_GRACE_MS. Whatever a thread that died on the way still held is written from here.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.flush();
    this.stopping = true;
    const thread = this.thread;
    if (thread && this.ready) {
      const closed = new Promise<void>((resolveClosed) => {
        this.closed = resolveClosed;
        thread.once('exit', () => resolveClosed());
      });
      this.post({ type: 'shutdown' });
      await closed;
    }
    await thread?.terminate();
    this.thread = null;
    for (const { reject } of this.requests.values()) reject(new Error('the gateway is shutting down'));
    this.requests.clear();
    if (this.held.size > 0) await this.writeHeld();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.fresh.length === 0) return;
    const rows = this.fresh;
    this.fresh = [];
    for (const row of rows) this.held.set(row.eventId, row);
    if (this.ready) this.postRows(rows);
  }

  /**
   * Runs in a setImmediate or a thread's 'message' handler, where a throw would end the process: rows that
   * cannot be copied to the thread are sent with their content replaced, or dropped, logged and counted.
   */
  private postRows(rows: HandedOverEvent[]): void {
    const thread = this.thread;
    if (thread === null) return;
    const { replaced, dropped, error } = handOverRows(rows, (batch) => thread.postMessage({ type: 'events', rows: batch } satisfies ToThread));
    if (error === null) return;
    for (const row of replaced) {
      this.held.set(row.eventId, row);
      this.metrics.logHandoverFailures.inc({ kind: row.entry.callback_name, team: row.teamId ?? 'none', outcome: 'content_replaced' });
    }
    for (const row of dropped) {
      this.held.delete(row.eventId);
      const labels = { kind: row.entry.callback_name, team: row.teamId ?? 'none' };
      this.metrics.logHandoverFailures.inc({ ...labels, outcome: 'dropped' });
      this.metrics.logDropped.inc({ ...labels, reason: 'not_copyable' });
    }
    this.logger.error(
      `${replaced.length + dropped.length} of ${rows.length} log event(s) could not be copied to the delivery thread (${error.name}: ${error.message}): ` +
        `${replaced.length} sent with their content replaced, ${dropped.length} dropped (${replaced.map((row) => row.eventId).concat(dropped.map((row) => row.eventId)).slice(0, 5).join(', ')})`,
    );
  }

  private request(request: ThreadRequest): Promise<unknown> {
    const id = this.nextRequestId++;
    return new Promise((resolveRequest, reject) => {
      this.requests.set(id, { request, resolve: resolveRequest, reject });
      if (this.ready && !this.post({ type: 'request', id, request })) {
        this.requests.delete(id);
        reject(new Error('the request could not be sent to the delivery thread'));
      }
    });
  }

  /** Messages other than events (requests, SQL results, shutdown): a failure is logged and reported to the caller. */
  private post(message: Exclude<ToThread, { type: 'events' }>): boolean {
    try {
      this.thread?.postMessage(message);
      return true;
    } catch (error) {
      this.logger.error(`a ${message.type} message could not be sent to the delivery thread: ${(error as Error).message}`);
      return false;
    }
  }

  private start(): Promise<void> {
    const { environment, config, masterKey, database } = this.settings;
    const destinationModules = this.destinations.threadImports.map((module) => ({ path: builtFile(module), exportName: module.exportName }));
    const data: DeliveryThreadData = { environment, config, masterKey, database, workerId: this.workerId, destinationModules };
    // SHARE_ENV: `os.environ/NAME` references are read at every attempt, as on the main thread.
    // The name is the OS thread's name too, so `npm run bench` can count this thread's CPU apart from the request loop's.
    // resourceLimits: the young generation capped like the main isolate's (src/runtime/heap-flags.ts).
    const thread = new Worker(threadScript(), { workerData: data, env: SHARE_ENV, name: 'gatehouse-delivery', resourceLimits: workerHeapLimits() });
    this.thread = thread;
    this.ready = false;
    return new Promise((resolveStarted, rejectStarted) => {
      thread.on('message', (message: FromThread) => {
        // A throw in a 'message' handler is uncaught: it would end the process.
        try {
          if (message.type === 'ready') {
            this.onReady();
            resolveStarted();
          } else if (message.type === 'failed') {
            rejectStarted(new Error(`the delivery thread did not start: ${message.error}`));
            void thread.terminate();
          } else {
            this.onMessage(message);
          }
        } catch (error) {
          this.logger.error(`a ${message.type} message from the delivery thread could not be handled: ${(error as Error).stack ?? String(error)}`);
        }
      });
      thread.on('error', (error: Error) => this.logger.error(`delivery thread failed: ${error.stack ?? error.message}`));
      thread.on('exit', (code) => {
        rejectStarted(new Error(`the delivery thread exited while starting (code ${code})`));
        if (this.thread !== thread || this.stopping) return;
        this.thread = null;
        this.ready = false;
        this.metrics.deliveryThreadRestarts.inc();
        this.logger.error(`delivery thread exited (code ${code}); starting a new one with the ${this.held.size} event(s) it held`);
        setTimeout(() => this.restart(), this.restartDelayMs).unref();
      });
    });
  }

  /** Runs in a timer: a thread that cannot even be created (new Worker throws) is tried again later, not thrown. */
  private restart(): void {
    if (this.stopping) return;
    let started: Promise<void>;
    try {
      started = this.start();
    } catch (error) {
      this.logger.error(`the delivery thread could not be created: ${(error as Error).message}`);
      this.restartDelayMs = Math.min(MAX_RESTART_DELAY_MS, this.restartDelayMs * 2);
      setTimeout(() => this.restart(), this.restartDelayMs).unref();
      return;
    }
    started.then(
      () => (this.restartDelayMs = 500),
      (error: Error) => {
        this.logger.error(error.message);
        this.restartDelayMs = Math.min(MAX_RESTART_DELAY_MS, this.restartDelayMs * 2);
      },
    );
  }

  /** A new thread gets every event still held and every request still unanswered. */
  private onReady(): void {
    this.ready = true;
    const limits = this.thread?.resourceLimits;
    this.logger.debug(`delivery thread ready; its V8 young generation grows to ${limits?.maxYoungGenerationSizeMb ?? '?'} MB at most`);
    const rows = [...this.held.values()];
    for (let start = 0; start < rows.length; start += ROWS_PER_MESSAGE) this.postRows(rows.slice(start, start + ROWS_PER_MESSAGE));
    for (const [id, { request }] of this.requests) this.post({ type: 'request', id, request });
  }

  private onMessage(message: Exclude<FromThread, { type: 'ready' | 'failed' }>): void {
    switch (message.type) {
      case 'report':
        for (const eventId of message.settled) this.held.delete(eventId);
        for (const { counter, labels, value } of message.counters) this.metrics[counter].inc(labels, value);
        if (message.batches.length > 0) this.tracing.recordDeliveryBatches(message.batches);
        return;
      case 'reply': {
        const waiting = this.requests.get(message.id);
        this.requests.delete(message.id);
        if (message.error !== undefined) waiting?.reject(new Error(message.error));
        else waiting?.resolve(message.result);
        return;
      }
      case 'sql':
        this.db.query(message.sql, message.params).then(
          (result: unknown) => {
            if (!this.post({ type: 'sqlResult', id: message.id, result })) this.post({ type: 'sqlResult', id: message.id, error: 'the result could not be copied to the delivery thread' });
          },
          (error: Error) => this.post({ type: 'sqlResult', id: message.id, error: error.message }),
        );
        return;
      case 'log':
        this.logger[message.level](message.message, message.context ?? 'DeliveryThread');
        return;
      case 'closed':
        this.closed?.();
        return;
    }
  }

  /** Last resort at shutdown: events a dead thread still held go to the outbox unclaimed (an existing row wins). */
  private async writeHeld(): Promise<void> {
    // No request is served any more, so masking here costs the request loop nothing.
    const rows = maskedRows([...this.held.values()], new PiiMaskerCache());
    try {
      for (let start = 0; start < rows.length; start += 500) {
        const batch = rows.slice(start, start + 500).map((row) => ({ ...row, createdAt: new Date(), claimedBy: null, status: 'pending' as const, attempts: 0, delayMs: 0, lastError: null }));
        await this.store.insert(batch, 0);
      }
      this.held.clear();
    } catch (error) {
      this.logger.error(`${rows.length} log event(s) could not be written to the outbox at shutdown: ${(error as Error).message}`);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms).unref());
}

/**
 * A destination module's file as the thread can load it: the file itself when it is JavaScript; under ts-jest (a `.ts`
 * file), the `.js` beside it or the one the build put in `dist/` (`npm test` builds first, examples/ included).
 */
function builtFile({ path, exportName }: ThreadImport): string {
  if (!path.endsWith('.ts')) return path;
  const js = path.replace(/\.ts$/, '.js');
  if (existsSync(js)) return js;
  const root = resolve(__dirname, '..', '..', '..');
  const built = join(root, 'dist', relative(root, js));
  if (existsSync(built)) return built;
  throw new Error(`the delivery thread cannot load ${exportName}: neither ${js} nor ${built} exists (run npm run build)`);
}

/**
 * The thread runs JavaScript: in the build's logging/delivery folder. Under ts-jest, which runs the TypeScript sources,
 * the same file of the build that `npm test` makes first (test/support/global-setup.ts makes sure it is current).
 */
function threadScript(): string {
  const logging = resolve(__dirname, '..');
  const built = join(logging, 'delivery', 'delivery-thread.js');
  if (existsSync(built)) return built;
  const root = resolve(logging, '..', '..');
  return join(root, 'dist', relative(root, logging), 'delivery', 'delivery-thread.js');
}
