import 'reflect-metadata';
import { Global, Module, type DynamicModule, type LoggerService, type Type } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { DataSource } from 'typeorm';
import { NEST_BOOT_CONTEXTS } from '../../common/nest-boot-listing';
import { SecretBox, secretBoxFor } from '../../common/secret-box';
import { SecretRedactor } from '../../common/secret-redactor';
import { GatewaySettings } from '../../config/gateway-settings';
import { APPLICATION_NAME, dataSourceOptions } from '../../database/data-source-options';
import { MetricsService } from '../../metrics/metrics.service';
import { DeliveryBatchSpans } from './delivery-batch-spans';
import { DestinationRegistry } from './destination-registry';
import { DELIVERY_WORKER_ID, DeliveryWorker } from './delivery-worker';
import { RELAYED_COUNTERS, type CounterIncrement, type DeliveryThreadData, type FromThread, type ThreadRequest, type ToThread } from './delivery-thread.protocol';
import { maskedRows } from '../privacy/mask-events';
import { PiiMaskerCache } from '../privacy/pii-masker';
import { LogBuffer } from './log-buffer';
import { OutboxSql, OutboxStore } from './outbox.store';

/**
 * Connections of the delivery thread's own pool on PostgreSQL (claims, writes and deletes of the outbox): one
 * tick's outbox write and a claim or a batch of deletes at a time (README, "Connections").
 */
const THREAD_POOL_SIZE = 2;

/**
 * The delivery side of logging, on a worker thread of its own: the same Nest-provided destination strategies,
 * LogBuffer, DeliveryWorker and OutboxStore that used to share the request loop. The main thread hands over each
 * finished call's events and keeps a copy of every event until this thread reports it acknowledged, purged or
 * written to the outbox, so a crash of this thread loses nothing (the main thread starts a new one and hands the
 * copies over again; redelivery is idempotent by event id).
 */
/** What the request thread's AppModule makes global and destination modules may inject: the same, here. */
@Global()
@Module({})
class ThreadSettingsModule {
  static forThread(settings: GatewaySettings): DynamicModule {
    return {
      module: ThreadSettingsModule,
      providers: [
        { provide: GatewaySettings, useValue: settings },
        { provide: SecretRedactor, useFactory: () => SecretRedactor.forGateway(settings, process.env) },
      ],
      exports: [GatewaySettings, SecretRedactor],
    };
  }
}

@Module({})
class DeliveryModule {
  /** `destinationModules`: the application's `@LogDestinationModule`s (built-in ones included), loaded by file. */
  static forThread(settings: GatewaySettings, workerId: string, sql: OutboxSql, destinationModules: Type[]): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [ThreadSettingsModule.forThread(settings), DiscoveryModule, ...destinationModules],
      providers: [
        { provide: DELIVERY_WORKER_ID, useValue: workerId },
        { provide: OutboxSql, useValue: sql },
        { provide: SecretBox, useFactory: () => secretBoxFor(settings) },
        DestinationRegistry,
        DeliveryBatchSpans,
        MetricsService,
        OutboxStore,
        // Before DeliveryWorker: its shutdown hook writes what is not acknowledged before the worker's grace period.
        LogBuffer,
        DeliveryWorker,
      ],
    };
  }
}

/** The destination modules the main thread registered, imported from their files (see `@LogDestinationModule`). */
async function loadDestinationModules(modules: DeliveryThreadData['destinationModules']): Promise<Type[]> {
  const loaded: Type[] = [];
  for (const { path, exportName } of modules) {
    const exported = ((await import(path)) as Record<string, unknown>)[exportName];
    if (typeof exported !== 'function') throw new Error(`${path} does not export a module named ${exportName}`);
    loaded.push(exported as Type);
  }
  return loaded;
}

/** The main thread's single embedded-database connection, reached by message (see FromThread 'sql'). */
class RelayedSql implements OutboxSql {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(private readonly port: MessagePort) {}

  query(sql: string, params: unknown[] = []): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      post(this.port, { type: 'sql', id, sql, params });
    });
  }

  answer(message: Extract<ToThread, { type: 'sqlResult' }>): void {
    const waiting = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    if (message.error !== undefined) waiting?.reject(new Error(message.error));
    else waiting?.resolve(message.result);
  }
}

/** Nest's and the delivery classes' log lines go to the main thread's logger: one stream, one redaction policy. */
class RelayedLogger implements LoggerService {
  constructor(private readonly port: MessagePort) {}
  log(message: unknown, context?: string) {
    // This thread's own Nest start ("Starting Nest application...", its modules) is a detail of the main thread's
    // start: at debug, and labelled, so the two Nest starts are told apart there.
    if (context !== undefined && NEST_BOOT_CONTEXTS.has(context)) this.relay('debug', message, `${context} (delivery thread)`);
    else this.relay('log', message, context);
  }
  error(message: unknown, _trace?: string, context?: string) {
    this.relay('error', message, context ?? _trace);
  }
  warn(message: unknown, context?: string) {
    this.relay('warn', message, context);
  }
  debug(message: unknown, context?: string) {
    this.relay('debug', message, context);
  }
  verbose(message: unknown, context?: string) {
    this.relay('verbose', message, context);
  }
  fatal(message: unknown, context?: string) {
    this.relay('fatal', message, context);
  }
  private relay(level: Extract<FromThread, { type: 'log' }>['level'], message: unknown, context?: string) {
    post(this.port, { type: 'log', level, message: message instanceof Error ? message.message : String(message), context });
  }
}

/** Counter increments since the last call, from the thread's own registry. */
class CounterRelay {
  private readonly sent = new Map<string, number>();

  constructor(private readonly metrics: MetricsService) {}

  async increments(): Promise<CounterIncrement[]> {
    const increments: CounterIncrement[] = [];
    for (const counter of RELAYED_COUNTERS) {
      for (const { labels, value } of (await this.metrics[counter].get()).values) {
        const key = `${counter}${JSON.stringify(labels)}`;
        const delta = value - (this.sent.get(key) ?? 0);
        if (delta === 0) continue;
        this.sent.set(key, value);
        increments.push({ counter, labels: labels as Record<string, string>, value: delta });
      }
    }
    return increments;
  }
}

function post(port: MessagePort, message: FromThread): void {
  port.postMessage(message);
}

async function runThread(port: MessagePort, data: DeliveryThreadData): Promise<void> {
  const relayedSql = data.database.embedded ? new RelayedSql(port) : null;
  const early: ToThread[] = [];
  let handle: ((message: ToThread) => void) | null = null;
  // Listening before Nest starts: the DeliveryWorker's first SQL runs during start-up.
  port.on('message', (message: ToThread) => {
    // A throw here is uncaught and ends the thread; the main thread would restart it and hand the same events
    // over again, so one bad message would crash it over and over.
    try {
      if (message.type === 'sqlResult') relayedSql?.answer(message);
      else if (handle) handle(message);
      else early.push(message);
    } catch (error) {
      post(port, { type: 'log', level: 'error', message: `a ${message.type} message could not be handled: ${(error as Error).stack ?? String(error)}`, context: 'DeliveryThread' });
    }
  });

  let dataSource: DataSource | null = null;
  if (!relayedSql) {
    // The main thread ran the migrations; this pool only runs the outbox's SQL.
    dataSource = new DataSource(dataSourceOptions({ url: data.database.url, poolSize: THREAD_POOL_SIZE, applicationName: `${APPLICATION_NAME}-delivery` }));
    await dataSource.initialize();
  }
  const settings = new GatewaySettings(data.environment, data.config, data.masterKey, data.database);
  const destinationModules = await loadDestinationModules(data.destinationModules);
  const app = await NestFactory.createApplicationContext(DeliveryModule.forThread(settings, data.workerId, relayedSql ?? (dataSource as DataSource), destinationModules), {
    logger: new RelayedLogger(port),
  });
  const buffer = app.get(LogBuffer);
  const worker = app.get(DeliveryWorker);
  const store = app.get(OutboxStore);
  const counters = new CounterRelay(app.get(MetricsService));
  const maskers = new PiiMaskerCache();

  const batchSpans = app.get(DeliveryBatchSpans);
  const report = async (): Promise<void> => {
    const settled = buffer.takeSettled();
    const increments = await counters.increments();
    const batches = batchSpans.take();
    if (settled.length > 0 || increments.length > 0 || batches.length > 0) post(port, { type: 'report', settled, counters: increments, batches });
  };
  const logFailure = (what: string) => (error: unknown) =>
    post(port, { type: 'log', level: 'error', message: `${what} failed: ${(error as Error).stack ?? String(error)}`, context: 'DeliveryThread' });
  const reporter = setInterval(() => void report().catch(logFailure('a report to the main thread')), Math.min(100, settings.environment.OUTBOX_WRITE_INTERVAL_MS));

  const answer = async (request: ThreadRequest): Promise<unknown> => {
    if (request.name === 'poll') {
      void worker.poll();
      return null;
    }
    if (request.name === 'report') return report();
    worker.forgetTeam(request.teamId);
    return buffer.purgeTeam(request.teamId) + (await store.purgeTeam(request.teamId));
  };

  handle = (message) => {
    if (message.type === 'events') {
      for (const row of maskedRows(message.rows, maskers)) buffer.enqueue(row);
    } else if (message.type === 'request') {
      answer(message.request).then(
        (result) => post(port, { type: 'reply', id: message.id, result }),
        (error: Error) => post(port, { type: 'reply', id: message.id, error: error.message }),
      );
    } else if (message.type === 'shutdown') {
      clearInterval(reporter);
      void (async () => {
        await app.close().catch(logFailure('closing the delivery module'));
        await report().catch(logFailure('the last report'));
        await dataSource?.destroy().catch(logFailure('closing the database pool'));
        post(port, { type: 'closed' });
      })();
    }
  };
  for (const message of early.splice(0)) handle(message);
  post(port, { type: 'ready' });
}

if (parentPort) {
  const port = parentPort;
  runThread(port, workerData as DeliveryThreadData).catch((error: Error) => post(port, { type: 'failed', error: error.stack ?? error.message }));
}
