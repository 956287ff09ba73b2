import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { InvalidationBus, type Invalidation } from '../../src/cluster/invalidation-bus';
import { loadEnvironment } from '../../src/config/environment';
import { parseGatewayConfig } from '../../src/config/gateway-config';
import { GatewaySettings } from '../../src/config/gateway-settings';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { waitFor } from '../support/logging/harness';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres';

/**
 * The PostgreSQL LISTEN/NOTIFY transport against a cluster of its own (never the machine's shared server), so
 * pg_stat_activity counts only this spec's connections.
 */
describe('InvalidationBus over PostgreSQL LISTEN/NOTIFY', () => {
  let pg: ThrowawayPostgres;

  beforeAll(async () => {
    pg = await startThrowawayPostgres();
  }, 120_000);
  afterAll(async () => {
    await pg?.destroy();
  });

  /** An instance's bus and the one-connection pool its NOTIFYs go through. */
  async function bus(): Promise<{ bus: InvalidationBus; pool: DataSource }> {
    const { config } = parseGatewayConfig('', null);
    const pool = await new DataSource(dataSourceOptions({ url: pg.url, poolSize: 1 })).initialize();
    return { bus: new InvalidationBus(new GatewaySettings(loadEnvironment({}), config, 'sk-bus-test', { url: pg.url, poolSize: 1, embedded: false }), pool), pool };
  }

  async function adminQuery<T extends object>(sql: string): Promise<T[]> {
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    try {
      return (await admin.query<T>(sql)).rows;
    } finally {
      await admin.end();
    }
  }

  /** Client connections by application_name (the pools are `gatehouse`, the LISTEN connections `gatehouse-listen`). */
  async function connectionsByName(): Promise<Record<string, number>> {
    const rows = await adminQuery<{ name: string; count: number }>(
      `SELECT application_name AS name, count(*)::int AS count FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.count]));
  }

  /** Two started instances (the sender's LISTEN connection opened first); `stop` shuts both down and closes their pools. */
  async function senderAndReceiver() {
    const sender = await bus();
    const receiver = await bus();
    const received: Invalidation[] = [];
    receiver.bus.subscribe((invalidation) => received.push(invalidation));
    await sender.bus.onModuleInit();
    await receiver.bus.onModuleInit();
    const stop = async () => {
      await receiver.bus.onApplicationShutdown();
      await sender.bus.onApplicationShutdown();
      await Promise.all([sender.pool.destroy(), receiver.pool.destroy()]);
    };
    return { sender, received, stop };
  }

  it('NOTIFYs go out through the pool: the bus holds one connection of its own per instance (its LISTEN), and shutdown closes it', async () => {
    const { sender, received, stop } = await senderAndReceiver();
    sender.bus.publish({ kind: 'key', id: 'first' });
    sender.bus.publish({ kind: 'team', id: 'second' });
    await waitFor('both invalidations at the receiver', () => received.length === 2, 10_000);
    expect(received.map((invalidation) => invalidation.id).sort()).toEqual(['first', 'second']);
    // Two pools of one connection and two LISTEN connections: a publisher connection of its own would be a fifth.
    expect(await connectionsByName()).toEqual({ gatehouse: 2, 'gatehouse-listen': 2 });

    await stop();
    await waitFor('no connection', async () => Object.keys(await connectionsByName()).length === 0, 5_000).catch(() => undefined);
    expect(await connectionsByName()).toEqual({});
  });

  it("a publish does not depend on the sender's LISTEN connection: sent while it is reconnecting, it arrives", async () => {
    const { sender, received, stop } = await senderAndReceiver();
    try {
      // The receiver's LISTEN stays; the sender's is cut, as a proxy's idle timeout would.
      const [listener] = await adminQuery<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'gatehouse-listen' ORDER BY backend_start LIMIT 1`);
      await adminQuery(`SELECT pg_terminate_backend(${Number(listener.pid)})`);
      sender.bus.publish({ kind: 'key', id: 'while-reconnecting' });
      await waitFor('the invalidation at the receiver', () => received.some((invalidation) => invalidation.id === 'while-reconnecting'), 10_000);
    } finally {
      await stop();
    }
    // The sender's reconnect, due 1 s after the cut, does not happen once the bus is stopped.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await connectionsByName()).toEqual({});
  });
});
