import { loadEnvironment } from './environment';
import { environmentRedis, redisEnvironmentWarnings } from './redis-environment';

describe('environmentRedis', () => {
  it('is null when neither REDIS_URL nor REDIS_HOST names a server', () => {
    expect(environmentRedis(loadEnvironment({}))).toBeNull();
    expect(environmentRedis(loadEnvironment({ REDIS_PORT: '6380', REDIS_PASSWORD: 'pw' }))).toBeNull();
  });

  it('reads REDIS_HOST with its port, credentials and TLS; the port defaults to 6379', () => {
    expect(environmentRedis(loadEnvironment({ REDIS_HOST: 'cache' }))).toEqual({
      url: null,
      host: 'cache',
      port: 6379,
      username: undefined,
      password: undefined,
      db: 0,
      tls: false,
    });
    const env = { REDIS_HOST: 'cache', REDIS_PORT: '6380', REDIS_USERNAME: 'gw', REDIS_PASSWORD: 'pw', REDIS_SSL: 'True' };
    expect(environmentRedis(loadEnvironment(env))).toMatchObject({ url: null, host: 'cache', port: 6380, username: 'gw', password: 'pw', tls: true });
  });

  it('REDIS_URL wins over the separate variables, as in LiteLLM: the URL is the whole connection', () => {
    const redis = environmentRedis(loadEnvironment({ REDIS_URL: 'redis://:url-pw@a:1', REDIS_HOST: 'b', REDIS_PASSWORD: 'other' }));
    expect(redis).toMatchObject({ url: 'redis://:url-pw@a:1', host: null, password: undefined, username: undefined, tls: false });
  });
});

describe('redisEnvironmentWarnings', () => {
  it('says nothing without REDIS_URL, or when the separate variables agree with it', () => {
    expect(redisEnvironmentWarnings(loadEnvironment({ REDIS_HOST: 'a', REDIS_PASSWORD: 'pw' }))).toEqual([]);
    const agreeing = { REDIS_URL: 'rediss://gw:p%40ss@a:6379', REDIS_HOST: 'a', REDIS_PORT: '6379', REDIS_USERNAME: 'gw', REDIS_PASSWORD: 'p@ss', REDIS_SSL: 'true' };
    expect(redisEnvironmentWarnings(loadEnvironment(agreeing))).toEqual([]);
    expect(redisEnvironmentWarnings(loadEnvironment({ REDIS_URL: 'redis://[::1]:6379', REDIS_HOST: '::1' }))).toEqual([]);
  });

  it('names each variable REDIS_URL overrides that disagrees, without showing a password or user name', () => {
    const warnings = redisEnvironmentWarnings(
      loadEnvironment({
        REDIS_URL: 'redis://url-user:url-pw-1@a.internal:6379',
        REDIS_HOST: 'b.internal',
        REDIS_PORT: '6380',
        REDIS_USERNAME: 'env-user',
        REDIS_PASSWORD: 'env-pw-2',
        REDIS_SSL: 'true',
      }),
    );
    expect(warnings).toEqual([
      expect.stringMatching(/^REDIS_HOST is ignored: REDIS_URL is set and wins .*\(b\.internal, the URL a\.internal\)/),
      expect.stringMatching(/^REDIS_PORT is ignored: .*\(6380, the URL 6379\)/),
      expect.stringMatching(/^REDIS_PASSWORD is ignored: .*put the password in the URL/),
      expect.stringMatching(/^REDIS_USERNAME is ignored/),
      expect.stringMatching(/^REDIS_SSL is ignored: .*no TLS \(redis:\/\/; use rediss:\/\/ for TLS\)/),
    ]);
    for (const secret of ['url-pw-1', 'env-pw-2', 'url-user', 'env-user']) expect(warnings.join('\n')).not.toContain(secret);
  });
});
