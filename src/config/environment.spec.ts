import { configFileFromArgv, DEFAULT_CONFIG_FILE, Environment, loadEnvironment } from './environment';

describe('loadEnvironment', () => {
  it('fills every default from an empty environment', () => {
    const environment = loadEnvironment({});
    expect(environment).toBeInstanceOf(Environment);
    expect(environment).toMatchObject({
      PORT: 4000,
      DATA_DIR: './.data',
      DB_POOL_SIZE: 3,
      CONFIG_FILE: DEFAULT_CONFIG_FILE,
      configFileExplicit: false,
      LOG_LEVEL: 'info',
      MAX_REQUEST_BODY_BYTES: 10 * 1024 * 1024,
      MAX_REQUEST_JSON_DEPTH: 128,
      MAX_REQUEST_JSON_MEMBERS: 100_000,
      SHUTDOWN_GRACE_MS: 10000,
    });
    // No default host: where to listen depends on the master key's strength (bootstrap's listenHost).
    expect(environment.HOST).toBeUndefined();
    expect(environment.DATABASE_URL).toBeUndefined();
    expect(environment.MASTER_KEY).toBeUndefined();
    expect(environment.SALT_KEY).toBeUndefined();
    expect(environment.LANGFUSE_HOST).toBeUndefined();
    // Unset: chosen at start-up from whether stdout is a terminal (resolveLogFormat).
    expect(environment.LOG_FORMAT).toBeUndefined();
  });

  it('reads and converts set variables', () => {
    const environment = loadEnvironment({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/gatehouse',
      DATABASE_URL: 'postgresql://u:p@db:5432/gatehouse',
      DB_POOL_SIZE: '20',
      MASTER_KEY: 'sk-master',
      SALT_KEY: 'salt',
      LOG_LEVEL: 'DEBUG',
      LOG_FORMAT: ' Pretty ',
      MAX_REQUEST_BODY_BYTES: '1024',
      MAX_REQUEST_JSON_DEPTH: '64',
      MAX_REQUEST_JSON_MEMBERS: '5000',
      SHUTDOWN_GRACE_MS: '0',
      LANGFUSE_HOST: 'http://langfuse:3000',
    });
    expect(environment).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/gatehouse',
      DATABASE_URL: 'postgresql://u:p@db:5432/gatehouse',
      DB_POOL_SIZE: 20,
      MASTER_KEY: 'sk-master',
      SALT_KEY: 'salt',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
      MAX_REQUEST_BODY_BYTES: 1024,
      MAX_REQUEST_JSON_DEPTH: 64,
      MAX_REQUEST_JSON_MEMBERS: 5000,
      SHUTDOWN_GRACE_MS: 0,
      LANGFUSE_HOST: 'http://langfuse:3000',
    });
  });

  it.each([
    ['MASTER_KEY', { LITELLM_MASTER_KEY: 'sk-litellm' }, 'sk-litellm'],
    ['MASTER_KEY', { MASTER_KEY: 'sk-own', LITELLM_MASTER_KEY: 'sk-litellm' }, 'sk-own'],
    ['MASTER_KEY', { MASTER_KEY: '', LITELLM_MASTER_KEY: 'sk-litellm' }, 'sk-litellm'],
    ['SALT_KEY', { LITELLM_SALT_KEY: 'salt-litellm' }, 'salt-litellm'],
    ['SALT_KEY', { SALT_KEY: 'salt-own', LITELLM_SALT_KEY: 'salt-litellm' }, 'salt-own'],
  ] as const)('%s falls back to the LiteLLM name: %j', (field, env, expected) => {
    expect(loadEnvironment(env)[field]).toBe(expected);
  });

  it('reads SALT_KEY_PREVIOUS (or LiteLLM\'s LITELLM_SALT_KEY_PREVIOUS) as a comma-separated list, empty when unset', () => {
    expect(loadEnvironment({}).SALT_KEY_PREVIOUS).toEqual([]);
    expect(loadEnvironment({ SALT_KEY_PREVIOUS: 'old-salt-1, old-salt-2' }).SALT_KEY_PREVIOUS).toEqual(['old-salt-1', 'old-salt-2']);
    expect(loadEnvironment({ LITELLM_SALT_KEY_PREVIOUS: 'litellm-old' }).SALT_KEY_PREVIOUS).toEqual(['litellm-old']);
    expect(loadEnvironment({ SALT_KEY_PREVIOUS: 'own', LITELLM_SALT_KEY_PREVIOUS: 'litellm-old' }).SALT_KEY_PREVIOUS).toEqual(['own']);
  });

  it.each([['old-salt,,other'], ['old-salt,'], [' , ']])('refuses SALT_KEY_PREVIOUS %j with an empty item, without echoing the keys', (value) => {
    let message = '';
    try {
      loadEnvironment({ SALT_KEY_PREVIOUS: value });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('SALT_KEY_PREVIOUS must be a comma-separated list of keys without empty items');
    expect(message).not.toContain('old-salt');
  });

  it('treats empty variables as unset, as docker-compose writes them', () => {
    const environment = loadEnvironment({ PORT: '', MASTER_KEY: '  ', LOG_LEVEL: '' });
    expect(environment.PORT).toBe(4000);
    expect(environment.MASTER_KEY).toBeUndefined();
    expect(environment.LOG_LEVEL).toBe('info');
  });

  it.each([
    [{ PORT: 'abc' }, /PORT must be an integer between 0 and 65535 \(got "abc"\)/],
    [{ PORT: '70000' }, /PORT must be an integer/],
    [{ PORT: '40.5' }, /PORT must be an integer/],
    [{ PORT: '0x10' }, /PORT must be an integer/],
    [{ DB_POOL_SIZE: '0' }, /DB_POOL_SIZE must be an integer between 1 and 1000/],
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ LOG_FORMAT: 'text' }, /LOG_FORMAT must be one of pretty, json \(got "text"\)/],
    [{ MAX_REQUEST_BODY_BYTES: '-1' }, /MAX_REQUEST_BODY_BYTES must be a positive integer/],
    [{ MAX_REQUEST_JSON_DEPTH: '5000' }, /MAX_REQUEST_JSON_DEPTH must be an integer between 16 and 1000 \(got "5000"\)/],
    [{ MAX_REQUEST_JSON_DEPTH: '8' }, /MAX_REQUEST_JSON_DEPTH must be an integer between 16 and 1000/],
    [{ MAX_REQUEST_JSON_MEMBERS: 'many' }, /MAX_REQUEST_JSON_MEMBERS must be an integer between 100 and 10000000/],
    [{ MAX_REQUEST_JSON_MEMBERS: '10' }, /MAX_REQUEST_JSON_MEMBERS must be an integer between 100 and 10000000/],
    [{ SHUTDOWN_GRACE_MS: 'soon' }, /SHUTDOWN_GRACE_MS must be a non-negative integer/],
    [{ LANGFUSE_HOST: 'langfuse:3000' }, /LANGFUSE_HOST must be an http\(s\) URL/],
    [{ DATABASE_URL: 'mysql://db/x' }, /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/],
  ])('rejects %j', (env, message) => {
    expect(() => loadEnvironment(env)).toThrow(message);
  });

  it("reads LiteLLM's separate Redis variables: REDIS_HOST, REDIS_PORT, REDIS_USERNAME, REDIS_PASSWORD, REDIS_SSL", () => {
    const environment = loadEnvironment({
      REDIS_HOST: 'cache.internal',
      REDIS_PORT: '6380',
      REDIS_USERNAME: 'gatehouse',
      REDIS_PASSWORD: 'pw-9d8s',
      REDIS_SSL: 'True',
    });
    expect(environment).toMatchObject({ REDIS_HOST: 'cache.internal', REDIS_PORT: 6380, REDIS_USERNAME: 'gatehouse', REDIS_PASSWORD: 'pw-9d8s', REDIS_SSL: true });
    expect(loadEnvironment({ REDIS_SSL: 'false' }).REDIS_SSL).toBe(false);
    expect(loadEnvironment({ REDIS_SSL: '0' }).REDIS_SSL).toBe(false);
    expect(loadEnvironment({}).REDIS_PORT).toBeUndefined();
  });

  it.each([
    [{ REDIS_PORT: 'abc' }, /REDIS_PORT must be an integer between 1 and 65535 \(got "abc"\)/],
    [{ REDIS_PORT: '0' }, /REDIS_PORT must be an integer between 1 and 65535/],
    [{ REDIS_PORT: '70000' }, /REDIS_PORT must be an integer between 1 and 65535/],
    [{ REDIS_SSL: 'maybe' }, /REDIS_SSL must be true or false \(got "maybe"\)/],
    [{ REDIS_HOST: 'redis://cache:6379' }, /REDIS_HOST must be a host name or IP address \(a redis:\/\/ URL goes in REDIS_URL\)/],
    [{ REDIS_HOST: 'two words' }, /REDIS_HOST must be a host name/],
  ])('rejects %j', (env, message) => {
    expect(() => loadEnvironment(env)).toThrow(message);
  });

  it('reads the metrics settings: METRICS_PUBLIC off and 1000 keys / 200 models by default, checked when set', () => {
    expect(loadEnvironment({})).toMatchObject({ METRICS_PUBLIC: false, METRICS_MAX_KEY_SERIES: 1000, METRICS_MAX_MODEL_SERIES: 200 });
    expect(loadEnvironment({ METRICS_PUBLIC: 'true', METRICS_MAX_KEY_SERIES: '50', METRICS_MAX_MODEL_SERIES: '5' })).toMatchObject({
      METRICS_PUBLIC: true,
      METRICS_MAX_KEY_SERIES: 50,
      METRICS_MAX_MODEL_SERIES: 5,
    });
    expect(loadEnvironment({ METRICS_PUBLIC: 'no' }).METRICS_PUBLIC).toBe(false);
    expect(() => loadEnvironment({ METRICS_PUBLIC: 'open', METRICS_MAX_KEY_SERIES: '0', METRICS_MAX_MODEL_SERIES: 'lots' })).toThrow(
      /METRICS_PUBLIC must be true or false \(got "open"\)[\s\S]*METRICS_MAX_KEY_SERIES must be an integer between 1 and 1000000[\s\S]*METRICS_MAX_MODEL_SERIES must be an integer between 1 and 100000 \(got "lots"\)/,
    );
  });

  it('never echoes REDIS_PASSWORD or a REDIS_URL password', () => {
    let message = '';
    try {
      loadEnvironment({ REDIS_PASSWORD: 'redis-pw-x7', REDIS_URL: 'http://u:url-pw-y8@cache', REDIS_PORT: 'abc' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('REDIS_URL must be a redis:// or rediss:// URL');
    expect(message).toContain('REDIS_PORT');
    expect(message).not.toContain('url-pw-y8');
    expect(message).not.toContain('redis-pw-x7');
  });

  it('lists every bad variable in one error', () => {
    expect(() => loadEnvironment({ PORT: 'abc', LOG_LEVEL: 'loud' })).toThrow(/Invalid environment:\n.*PORT.*\n.*LOG_LEVEL/);
  });

  it('never echoes a secret value', () => {
    let message = '';
    try {
      loadEnvironment({ DATABASE_URL: 'mysql://admin:hunter2@db/x', MASTER_KEY: 'sk-secret', PORT: 'abc' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DATABASE_URL');
    expect(message).not.toContain('hunter2');
  });

  describe('config file', () => {
    it.each([
      [{}, [], DEFAULT_CONFIG_FILE, false],
      [{ CONFIG_FILE: '/etc/gatehouse.yaml' }, [], '/etc/gatehouse.yaml', true],
      [{}, ['--config', 'litellm.yaml'], 'litellm.yaml', true],
      [{}, ['--config=litellm.yaml'], 'litellm.yaml', true],
      [{ CONFIG_FILE: '/etc/gatehouse.yaml' }, ['--config', 'cli.yaml'], 'cli.yaml', true],
      [{}, ['--port', '4000', '--config=a.yaml', '--config', 'b.yaml'], 'b.yaml', true],
    ])('env %j with argv %j uses %s (explicit: %s)', (env, argv, file, explicit) => {
      const environment = loadEnvironment(env, argv);
      expect(environment.CONFIG_FILE).toBe(file);
      expect(environment.configFileExplicit).toBe(explicit);
    });

    it.each([[['--config']], [['--config', '--debug']], [['--config=']]])('rejects %j without a path', (argv) => {
      expect(() => configFileFromArgv(argv)).toThrow(/--config/);
    });
  });
});

describe('loadEnvironment: CORS', () => {
  it('allows every origin without credentials by default, as LiteLLM does', () => {
    const environment = loadEnvironment({});
    expect(environment.CORS_ORIGINS).toEqual(['*']);
    expect(environment.corsAllowCredentials).toBe(false);
  });

  it('reads a comma-separated list (CORS_ORIGINS, else LiteLLM\'s LITELLM_CORS_ORIGINS), lower-cased, blanks skipped; credentials on', () => {
    const environment = loadEnvironment({ CORS_ORIGINS: ' https://App.example.com , http://localhost:3000,, ' });
    expect(environment.CORS_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(environment.corsAllowCredentials).toBe(true);
    expect(loadEnvironment({ LITELLM_CORS_ORIGINS: 'https://ui.example.com' }).CORS_ORIGINS).toEqual(['https://ui.example.com']);
    expect(loadEnvironment({ CORS_ORIGINS: 'https://own.example.com', LITELLM_CORS_ORIGINS: 'https://ui.example.com' }).CORS_ORIGINS).toEqual([
      'https://own.example.com',
    ]);
    expect(loadEnvironment({ CORS_ORIGINS: 'app://gatehouse-desktop' }).CORS_ORIGINS).toEqual(['app://gatehouse-desktop']);
  });

  it('lets CORS_ALLOW_CREDENTIALS (or LITELLM_CORS_ALLOW_CREDENTIALS) turn credentials off for a list', () => {
    expect(loadEnvironment({ CORS_ORIGINS: 'https://app.example.com', CORS_ALLOW_CREDENTIALS: 'false' }).corsAllowCredentials).toBe(false);
    expect(loadEnvironment({ CORS_ORIGINS: 'https://app.example.com', LITELLM_CORS_ALLOW_CREDENTIALS: 'FALSE' }).corsAllowCredentials).toBe(false);
    expect(loadEnvironment({ CORS_ALLOW_CREDENTIALS: 'false' }).corsAllowCredentials).toBe(false);
  });

  it.each([
    [{ CORS_ORIGINS: 'https://app.example.com/' }, /CORS_ORIGINS: "https:\/\/app.example.com\/" is not an origin as a browser sends it: write "https:\/\/app.example.com"/],
    [{ CORS_ORIGINS: 'https://app.example.com/chat' }, /CORS_ORIGINS: "https:\/\/app.example.com\/chat" is not an origin: write scheme:\/\/host\[:port\]/],
    [{ CORS_ORIGINS: 'app.example.com' }, /"app.example.com" is not an origin/],
    [{ CORS_ORIGINS: 'https://app.example.com:443' }, /is not an origin as a browser sends it: write "https:\/\/app.example.com"/],
    [{ CORS_ORIGINS: '*,https://app.example.com' }, /"\*" allows every origin and cannot be combined with a list/],
    [{ CORS_ALLOW_CREDENTIALS: 'true' }, /CORS_ALLOW_CREDENTIALS: true needs CORS_ORIGINS to list the origins/],
    [{ LITELLM_CORS_ALLOW_CREDENTIALS: 'true', CORS_ORIGINS: '*' }, /CORS_ALLOW_CREDENTIALS: true needs CORS_ORIGINS/],
    [{ CORS_ALLOW_CREDENTIALS: 'sometimes' }, /CORS_ALLOW_CREDENTIALS must be true or false/],
  ])('refuses %j', (env, message) => {
    expect(() => loadEnvironment(env)).toThrow(message);
  });
});
