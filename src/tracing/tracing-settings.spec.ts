import { loadEnvironment } from '../config/environment';
import { readTracingSettings } from './tracing-settings';

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

function settingsOf(env: NodeJS.ProcessEnv) {
  const { settings, problems } = readTracingSettings(env);
  expect(problems).toEqual([]);
  return settings;
}

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  const { settings, problems } = readTracingSettings(env);
  expect(settings).toBeNull();
  return problems;
}

describe('readTracingSettings', () => {
  it('is off without an endpoint, whatever else is set (those variables may be meant for other processes)', () => {
    expect(readTracingSettings({})).toEqual({ settings: null, problems: [] });
    expect(readTracingSettings({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'nonsense', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toEqual({
      settings: null,
      problems: [],
    });
  });

  it('has the specification defaults: http/protobuf, service "gatehouse", parentbased_always_on', () => {
    expect(settingsOf(ENDPOINT)).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      serviceName: 'gatehouse',
      resourceAttributes: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      timeoutMs: 10_000,
      compression: 'none',
      tls: {},
      batch: { scheduledDelayMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512, exportTimeoutMs: 30_000 },
    });
  });

  it('reads the exporter and batch variables, the traces ones winning; a batch larger than the queue is cut to it', () => {
    const settings = settingsOf({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
      OTEL_BSP_EXPORT_TIMEOUT: '7000',
    });
    expect([settings?.timeoutMs, settings?.compression, settings?.batch]).toEqual([2500, 'gzip', { scheduledDelayMs: 200, maxQueueSize: 100, maxExportBatchSize: 100, exportTimeoutMs: 7000 }]);
    expect(settingsOf({ ...ENDPOINT, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none' })?.compression).toBe('none');
  });

  it('refuses bad numbers, an unknown compression and unreadable or non-PEM TLS files, naming each variable', () => {
    expect(
      problemsOf({
        ...ENDPOINT,
        OTEL_EXPORTER_OTLP_TIMEOUT: '10s',
        OTEL_BSP_MAX_QUEUE_SIZE: '0',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd',
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/nonexistent/ca.pem',
        OTEL_EXPORTER_OTLP_CLIENT_KEY: __filename,
      }),
    ).toEqual([
      '  OTEL_EXPORTER_OTLP_TIMEOUT: must be a whole number above 0 (got "10s")',
      '  OTEL_EXPORTER_OTLP_COMPRESSION: must be gzip or none (got "zstd")',
      '  OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read /nonexistent/ca.pem (ENOENT)',
      `  OTEL_EXPORTER_OTLP_CLIENT_KEY: ${__filename} is not a PEM file`,
      '  OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY: set both or neither',
      '  OTEL_BSP_MAX_QUEUE_SIZE: must be a whole number above 0 (got "0")',
    ]);
  });

  it('appends /v1/traces to the general endpoint, and takes the traces endpoint as it is (it wins)', () => {
    expect(settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com/base/' })?.tracesUrl).toBe('https://otel.example.com/base/v1/traces');
    expect(settingsOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/custom' })?.tracesUrl).toBe('https://traces.example.com/custom');
    expect(settingsOf({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/x' })?.tracesUrl).toBe('http://other:4318/x');
  });

  it('turns off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none', () => {
    expect(readTracingSettings({ ...ENDPOINT, OTEL_SDK_DISABLED: 'TRUE' }).settings).toBeNull();
    expect(readTracingSettings({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }).settings).toBeNull();
    expect(settingsOf({ ...ENDPOINT, OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' })).not.toBeNull();
    expect(problemsOf({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual(['  OTEL_TRACES_EXPORTER: must be otlp or none (got "zipkin")']);
  });

  it('reads headers percent-decoded, the traces ones added to and winning over the general ones', () => {
    const settings = settingsOf({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20general, x-scope-orgid=tenant-1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20traces-only',
    });
    expect(settings?.headers).toEqual({ authorization: 'Bearer traces-only', 'x-scope-orgid': 'tenant-1' });
  });

  it('names a bad header item by its position, never quoting a value', () => {
    const secret = 'sk-collector-secret-123456';
    const problems = problemsOf({ ...ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS: `api-key=${secret},${secret},bad name=1,x=%E0%A4%A${secret}` });
    expect(problems).toEqual([
      '  OTEL_EXPORTER_OTLP_HEADERS: item 2 is not key=value',
      '  OTEL_EXPORTER_OTLP_HEADERS: item 3 does not start with a valid header name',
      '  OTEL_EXPORTER_OTLP_HEADERS: the value of "x" is not valid percent-encoding',
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('takes http/json; refuses grpc with the way out, and anything else', () => {
    expect(settingsOf({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })?.protocol).toBe('http/json');
    expect(settingsOf({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'HTTP/JSON' })?.protocol).toBe('http/json');
    expect(problemsOf({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toEqual([
      '  OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported; use http/protobuf (a collector\'s OTLP/HTTP port, 4318) or http/json',
    ]);
    expect(problemsOf({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' })).toEqual([
      '  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: must be http/protobuf or http/json (got "thrift")',
    ]);
  });

  it('refuses an endpoint that is not an http(s) URL, or that carries credentials (without echoing it)', () => {
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([
      '  OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL such as http://otel-collector:4318 (OTLP/gRPC is not supported)',
    ]);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toEqual(['  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an http(s) URL such as http://otel-collector:4318']);
    const problems = problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:hunter2-secret@collector:4318' });
    expect(problems).toEqual(['  OTEL_EXPORTER_OTLP_ENDPOINT: must not carry credentials; put them in OTEL_EXPORTER_OTLP_HEADERS (e.g. authorization=Bearer%20…)']);
  });

  it('names the service from OTEL_SERVICE_NAME, else service.name of OTEL_RESOURCE_ATTRIBUTES, else "gatehouse"', () => {
    const attributes = 'service.name=from-attributes,deployment.environment=prod,team=a%2Cb';
    expect(settingsOf({ ...ENDPOINT, OTEL_RESOURCE_ATTRIBUTES: attributes })).toMatchObject({
      serviceName: 'from-attributes',
      resourceAttributes: { 'deployment.environment': 'prod', team: 'a,b' },
    });
    expect(settingsOf({ ...ENDPOINT, OTEL_RESOURCE_ATTRIBUTES: attributes, OTEL_SERVICE_NAME: 'gw-eu' })?.serviceName).toBe('gw-eu');
  });

  it('reads the sampler and the ratio of the traceidratio samplers', () => {
    expect(settingsOf({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toMatchObject({ sampler: 'traceidratio', samplerRatio: 0.25 });
    expect(settingsOf({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' })).toMatchObject({ sampler: 'parentbased_traceidratio', samplerRatio: 1 });
    expect(settingsOf({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'Always_Off', OTEL_TRACES_SAMPLER_ARG: 'ignored' })).toMatchObject({ sampler: 'always_off', samplerRatio: 1 });
    for (const arg of ['1.5', '-0.1', 'half', '0x1']) {
      expect(problemsOf({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg })).toEqual([
        `  OTEL_TRACES_SAMPLER_ARG: must be a number between 0 and 1 (got ${JSON.stringify(arg)})`,
      ]);
    }
    expect(problemsOf({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'jaeger_remote' })[0]).toMatch(/^ {2}OTEL_TRACES_SAMPLER: must be one of always_on, always_off, traceidratio/);
  });
});

describe('loadEnvironment with tracing variables', () => {
  it('carries the tracing settings, null when off', () => {
    expect(loadEnvironment({}).tracing).toBeNull();
    expect(loadEnvironment({ ...ENDPOINT, OTEL_SERVICE_NAME: 'gw' }).tracing).toMatchObject({ tracesUrl: 'http://collector:4318/v1/traces', serviceName: 'gw' });
  });

  it('stops start-up listing tracing problems with the other bad variables, never echoing a header value', () => {
    const secret = 'sk-collector-secret-abcdef';
    let message = '';
    try {
      loadEnvironment({ PORT: 'eighty', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_HEADERS: `api-key=${secret},${secret}` });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('PORT: PORT must be an integer');
    expect(message).toContain('OTEL_EXPORTER_OTLP_HEADERS: item 2 is not key=value');
    expect(message).not.toContain(secret);
  });
});
