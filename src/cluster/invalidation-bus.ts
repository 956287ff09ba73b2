import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createRedisClient } from '../common/redis-client';
import { GatewaySettings } from '../config/gateway-settings';
import { APPLICATION_NAME } from '../database/data-source-options';
import { environmentRedis, type RedisConnection } from '../config/redis-environment';

/** A key (its token), a team (its id) or a user (its id: every key it owns, and its team-admin rights). */
export type InvalidationKind = 'key' | 'team' | 'user';

export interface Invalidation {
  kind: InvalidationKind;
  id: string;
}

interface Transport {
  readonly name: string;
  start(onMessage: (payload: string) => void): Promise<void>;
  publish(payload: string): Promise<void>;
  stop(): Promise<void>;
}

const CHANNEL = 'gatehouse_invalidation';

/**
 * Tells the other gateway instances that a key or a team changed, so their cached principals (and with
 * them resolved logging and cache settings) are dropped within a second. Redis pub/sub when the environment
 * names a Redis (REDIS_URL, or REDIS_HOST with REDIS_PORT, REDIS_PASSWORD...), else PostgreSQL LISTEN/NOTIFY on a real server. The embedded PGlite database is single-instance by
 * design: there is nobody to tell.
 */
@Injectable()
export class InvalidationBus implements OnModuleInit, OnApplicationShutdown {
  readonly instanceId = randomUUID();
  private readonly logger = new Logger(InvalidationBus.name);
  private readonly handlers: ((invalidation: Invalidation) => void)[] = [];
  private transport: Transport | null = null;

  constructor(
    private readonly settings: GatewaySettings,
    private readonly dataSource: DataSource,
  ) {}

  async onModuleInit(): Promise<void> {
    const redis = environmentRedis(this.settings.environment);
    if (redis) this.transport = new RedisTransport(redis, this.logger);
    else if (!this.settings.database.embedded) this.transport = new PostgresTransport(this.settings.database.url, this.dataSource, this.logger);
    if (!this.transport) return;
    await this.transport.start((payload) => this.receive(payload));
    this.logger.log(`cross-instance invalidation over ${this.transport.name}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.transport?.stop();
  }

  get transportName(): string {
    return this.transport?.name ?? 'none (single instance)';
  }

  subscribe(handler: (invalidation: Invalidation) => void): void {
    this.handlers.push(handler);
  }

  /** Fire and forget: a lost message is bounded by the principal cache's TTL. */
  publish(invalidation: Invalidation): void {
    if (!this.transport) return;
    const payload = JSON.stringify({ origin: this.instanceId, ...invalidation });
    this.transport.publish(payload).catch((error: Error) => this.logger.warn(`could not publish an invalidation: ${error.message}`));
  }

  private receive(payload: string): void {
    let message: { origin?: unknown; kind?: unknown; id?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    if (message.origin === this.instanceId || typeof message.id !== 'string') return;
    if (message.kind !== 'key' && message.kind !== 'team' && message.kind !== 'user') return;
    for (const handler of this.handlers) handler({ kind: message.kind, id: message.id });
  }
}

class RedisTransport implements Transport {
  readonly name = 'Redis pub/sub';
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  constructor(connection: RedisConnection, logger: Logger) {
    // disconnectTimeout: ioredis's default 2 s close timer would otherwise keep a stopping process alive.
    const options = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, disconnectTimeout: 100 };
    this.publisher = createRedisClient(connection, options);
    // The subscriber reconnects on its own and re-subscribes; it must queue its SUBSCRIBE while connecting.
    this.subscriber = createRedisClient(connection, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    for (const client of [this.publisher, this.subscriber]) client.on('error', (error: Error) => logger.warn(`Redis: ${error.message}`));
  }

  async start(onMessage: (payload: string) => void): Promise<void> {
    this.subscriber.on('message', (_channel: string, payload: string) => onMessage(payload));
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(CHANNEL);
  }

  async publish(payload: string): Promise<void> {
    await this.publisher.publish(CHANNEL, payload);
  }

  stop(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
    return Promise.resolve();
  }
}

/**
 * One dedicated connection (not from the pool) holds the LISTEN; it reconnects if the server restarts. NOTIFYs go
 * out through the main pool, whose connections serve any statement: the bus costs one connection, not two (README,
 * "Connections to PostgreSQL"), and a publish does not wait for, or fail with, the listener's reconnects. This
 * instance's own notifications come back to it and are ignored by their origin.
 */
class PostgresTransport implements Transport {
  readonly name = 'PostgreSQL LISTEN/NOTIFY';
  private listener: Client | null = null;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** A reconnect under way: shutdown waits for it (it closes what it opened once it sees the bus stopped). */
  private reconnecting: Promise<void> | null = null;
  private onMessage: (payload: string) => void = () => undefined;

  constructor(
    private readonly url: string,
    private readonly pool: DataSource,
    private readonly logger: Logger,
  ) {}

  async start(onMessage: (payload: string) => void): Promise<void> {
    this.onMessage = onMessage;
    await this.listen();
  }

  async publish(payload: string): Promise<void> {
    if (this.stopped) return;
    await this.pool.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // A reconnect due later would open a connection after shutdown.
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    await this.reconnecting;
    // Forgotten first, so its 'end' event is not taken for a lost connection.
    const { listener } = this;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.url, application_name: `${APPLICATION_NAME}-listen` });
    const lost = (reason: string) => {
      if (this.listener !== client) return;
      this.listener = null;
      this.logger.warn(`LISTEN connection lost (${reason}); reconnecting`);
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', (error: Error) => lost(error.message));
    client.on('end', () => lost('closed'));
    client.on('notification', (message) => {
      if (message.payload) this.onMessage(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      client.end().catch(() => undefined);
      throw error;
    }
    // Stopped while connecting: this connection is not wanted any more.
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      this.reconnecting = this.listen()
        .catch(() => this.scheduleReconnect())
        .finally(() => (this.reconnecting = null));
    }, 1000);
    this.reconnectTimer.unref();
  }
}
