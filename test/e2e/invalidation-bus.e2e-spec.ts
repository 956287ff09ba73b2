import { Client } from 'pg';
import { InvalidationBus, type Invalidation } from '../../src/cluster/invalidation-bus';
import { loadEnvironment } from '../../src/config/environment';
import { parseGatewayConfig } from '../../src/config/gateway-config';
import { GatewaySettings } from '../../src/config/gateway-settings';
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

  function bus(): InvalidationBus {
    const { config } = parseGatewayConfig('', null);
    return new InvalidationBus(new GatewaySettings(loadEnvironment({}), config, 'sk-bus-test', { url: pg.url, poolSize: 1, embedded: false }));
  }

  async function clientConnections(): Promise<number> {
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      return rows[0].count;
    } finally {
      await admin.end();
    }
  }

  it('publishes go out on the LISTEN connection: one connection per instance, and shutdown closes it', async () => {
    const sender = bus();
    const receiver = bus();
    const received: Invalidation[] = [];
    receiver.subscribe((invalidation) => received.push(invalidation));
    await sender.onModuleInit();
    await receiver.onModuleInit();

    sender.publish({ kind: 'key', id: 'first' });
    sender.publish({ kind: 'team', id: 'second' });
    await waitFor('both invalidations at the receiver', () => received.length === 2, 10_000);
    expect(received.map((invalidation) => invalidation.id).sort()).toEqual(['first', 'second']);

    await receiver.onApplicationShutdown();
    // The sender's LISTEN connection, which also sent both NOTIFYs: any other would be a publisher connection the
    // instance holds on top of its pools (README, "Connections to PostgreSQL").
    await waitFor('one connection', async () => (await clientConnections()) === 1, 5_000).catch(() => undefined);
    expect(await clientConnections()).toBe(1);

    await sender.onApplicationShutdown();
    await waitFor('no connection', async () => (await clientConnections()) === 0, 5_000).catch(() => undefined);
    expect(await clientConnections()).toBe(0);
  });
});
