import { loadEnvironment } from './config/environment';
import { parseGatewayConfig } from './config/gateway-config';
import { GatewaySettings } from './config/gateway-settings';
import { describeDatabase, describeRedis } from './startup-summary';

function settings(env: Record<string, string>, yaml = ''): GatewaySettings {
  const { config } = parseGatewayConfig(yaml, null);
  return new GatewaySettings(loadEnvironment(env), config, 'sk-master', { url: 'postgres://x/y', poolSize: 1, embedded: false });
}

describe('the start-up summary', () => {
  it('names the embedded database by its data dir, and a PostgreSQL by host, port and database, never its credentials', () => {
    expect(describeDatabase({ url: 'postgres://u@/x', poolSize: 1, embedded: true }, '/var/lib/gatehouse')).toBe('embedded PGlite (data dir /var/lib/gatehouse)');
    const postgres = describeDatabase({ url: 'postgresql://gate:s3cret-pw@db.internal:6543/gatehouse?sslmode=require', poolSize: 10, embedded: false }, null);
    expect(postgres).toBe('PostgreSQL db.internal:6543/gatehouse');
    expect(describeDatabase({ url: 'postgres://gate:pw@db/gh', poolSize: 10, embedded: false }, null)).toBe('PostgreSQL db:5432/gh');
    expect(describeDatabase({ url: 'postgres:///gh?host=/var/run/postgresql', poolSize: 10, embedded: false }, null)).toBe('PostgreSQL /var/run/postgresql:5432/gh');
  });

  it('names each Redis the gateway talks to once, without user or password; "none" without one', () => {
    expect(describeRedis(settings({}), {})).toBe('none');
    expect(describeRedis(settings({ REDIS_URL: 'redis://default:r3dis-pw@cache.internal:6380/2' }), {})).toBe('cache.internal:6380/2');
    expect(describeRedis(settings({ REDIS_HOST: 'redis.internal', REDIS_PASSWORD: 'r3dis-pw', REDIS_SSL: 'true' }), {})).toBe('redis.internal:6379 (TLS)');
    // The cache's own server (cache_params) besides the environment's.
    const both = describeRedis(
      settings({ REDIS_URL: 'redis://shared:6379' }, 'litellm_settings:\n  cache: true\n  cache_params:\n    type: redis\n    host: cache-only\n    password: os.environ/CACHE_PW\n'),
      { CACHE_PW: 'pw-value' },
    );
    expect(both).toBe('cache-only:6379, shared:6379');
    expect(both).not.toContain('pw-value');
  });
});
