import { readFileSync } from 'node:fs';

/**
 * The gateway's own tracing, from OpenTelemetry's standard environment variables (the names and meanings of the
 * OpenTelemetry specification's "Environment Variable Specification" and OTLP exporter configuration). Read once
 * at boot by `loadEnvironment`; nothing here loads the OpenTelemetry SDK.
 */

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const TRACE_SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

export const DEFAULT_SERVICE_NAME = 'gatehouse';

export interface TracingSettings {
  /** The full URL spans are POSTed to (`…/v1/traces`). */
  readonly tracesUrl: string;
  readonly protocol: OtlpProtocol;
  /** Sent with every export; may hold credentials (never logged). */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, `service.name` left out (OTEL_SERVICE_NAME decides it). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: TraceSampler;
  /** The ratio of the `traceidratio` samplers (0–1); 1 for the others. */
  readonly samplerRatio: number;
  /** One POST's time limit (OTEL_EXPORTER_OTLP_TIMEOUT). */
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
  /** PEM contents of OTEL_EXPORTER_OTLP_CERTIFICATE / CLIENT_CERTIFICATE / CLIENT_KEY, read at boot. */
  readonly tls: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** The span batcher's OTEL_BSP_* settings. */
  readonly batch: SpanBatchSettings;
}

export interface SpanBatchSettings {
  /** Longest a span waits before its batch is sent (OTEL_BSP_SCHEDULE_DELAY). */
  readonly scheduledDelayMs: number;
  /** Spans held at most; past that new ones are dropped and counted (OTEL_BSP_MAX_QUEUE_SIZE). */
  readonly maxQueueSize: number;
  /** Spans per POST at most; a full batch is sent at once (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, ≤ the queue size). */
  readonly maxExportBatchSize: number;
  /** One batch's time limit, its retries included (OTEL_BSP_EXPORT_TIMEOUT). */
  readonly exportTimeoutMs: number;
}

/** Tracing settings, null when off; or the problems, each naming its variable (never a header's value). */
export function readTracingSettings(env: NodeJS.ProcessEnv): { settings: TracingSettings | null; problems: string[] } {
  const problems: string[] = [];
  const signalEndpoint = read(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = read(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  // Without an endpoint nothing else is read: the same variables may be set for other processes of the host.
  if (signalEndpoint === undefined && baseEndpoint === undefined) return { settings: null, problems };
  if (read(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { settings: null, problems };
  const exporter = read(env, 'OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (exporter === 'none') return { settings: null, problems };
  if (exporter !== undefined && exporter !== 'otlp') problems.push(`  OTEL_TRACES_EXPORTER: must be otlp or none (got ${JSON.stringify(exporter)})`);

  // The signal's own variable is the URL as it is; the general one is a base that gets the signal's path.
  const tracesUrl =
    signalEndpoint !== undefined
      ? checkedUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', signalEndpoint, problems)
      : checkedUrl('OTEL_EXPORTER_OTLP_ENDPOINT', `${(baseEndpoint as string).replace(/\/+$/, '')}/v1/traces`, problems);

  const protocolVariable = read(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocolText = read(env, protocolVariable)?.trim().toLowerCase() ?? 'http/protobuf';
  const protocol = protocolText as OtlpProtocol;
  if (!OTLP_PROTOCOLS.includes(protocol)) {
    problems.push(
      protocolText === 'grpc'
        ? `  ${protocolVariable}: grpc is not supported; use http/protobuf (a collector's OTLP/HTTP port, 4318) or http/json`
        : `  ${protocolVariable}: must be http/protobuf or http/json (got ${JSON.stringify(protocolText)})`,
    );
  }

  // The signal's headers are added to (and win over) the general ones, as OpenTelemetry's exporters do.
  const headers = {
    ...keyValueList('OTEL_EXPORTER_OTLP_HEADERS', read(env, 'OTEL_EXPORTER_OTLP_HEADERS'), problems, HEADER_LIST),
    ...keyValueList('OTEL_EXPORTER_OTLP_TRACES_HEADERS', read(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'), problems, HEADER_LIST),
  };

  const { 'service.name': serviceNameAttribute, ...resourceAttributes } = keyValueList('OTEL_RESOURCE_ATTRIBUTES', read(env, 'OTEL_RESOURCE_ATTRIBUTES'), problems, ATTRIBUTE_LIST);
  const serviceName = read(env, 'OTEL_SERVICE_NAME')?.trim() ?? serviceNameAttribute ?? DEFAULT_SERVICE_NAME;

  const sampler = (read(env, 'OTEL_TRACES_SAMPLER')?.trim().toLowerCase() ?? 'parentbased_always_on') as TraceSampler;
  if (!TRACE_SAMPLERS.includes(sampler)) problems.push(`  OTEL_TRACES_SAMPLER: must be one of ${TRACE_SAMPLERS.join(', ')} (got ${JSON.stringify(sampler)})`);
  let samplerRatio = 1;
  const ratioText = read(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (sampler.endsWith('traceidratio') && ratioText !== undefined) {
    samplerRatio = Number(ratioText.trim());
    if (!/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(ratioText) || samplerRatio > 1) {
      problems.push(`  OTEL_TRACES_SAMPLER_ARG: must be a number between 0 and 1 (got ${JSON.stringify(ratioText)})`);
    }
  }

  // The signal's own variable wins over the general one, as for the endpoint and the protocol.
  const exporterVariable = (name: string) => (read(env, `OTEL_EXPORTER_OTLP_TRACES_${name}`) !== undefined ? `OTEL_EXPORTER_OTLP_TRACES_${name}` : `OTEL_EXPORTER_OTLP_${name}`);
  const timeoutMs = positiveInteger(env, exporterVariable('TIMEOUT'), 10_000, problems);
  const compressionVariable = exporterVariable('COMPRESSION');
  const compression = (read(env, compressionVariable)?.trim().toLowerCase() ?? 'none') as TracingSettings['compression'];
  if (compression !== 'gzip' && compression !== 'none') problems.push(`  ${compressionVariable}: must be gzip or none (got ${JSON.stringify(compression)})`);
  const tls = {
    ca: pemFile(env, exporterVariable('CERTIFICATE'), problems),
    cert: pemFile(env, exporterVariable('CLIENT_CERTIFICATE'), problems),
    key: pemFile(env, exporterVariable('CLIENT_KEY'), problems),
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) problems.push('  OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY: set both or neither');

  const maxQueueSize = positiveInteger(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, problems);
  const batch: SpanBatchSettings = {
    scheduledDelayMs: positiveInteger(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, problems),
    maxQueueSize,
    // The specification: a batch larger than the queue is cut to the queue's size.
    maxExportBatchSize: Math.min(positiveInteger(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, problems), maxQueueSize),
    exportTimeoutMs: positiveInteger(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000, problems),
  };

  if (problems.length > 0) return { settings: null, problems };
  return {
    settings: { tracesUrl: tracesUrl as string, protocol, headers, serviceName, resourceAttributes, sampler, samplerRatio, timeoutMs, compression, tls, batch },
    problems,
  };
}

function positiveInteger(env: NodeJS.ProcessEnv, variable: string, fallback: number, problems: string[]): number {
  const text = read(env, variable);
  if (text === undefined) return fallback;
  const value = Number(text.trim());
  if (!/^\s*\d+\s*$/.test(text) || value < 1 || !Number.isSafeInteger(value)) {
    problems.push(`  ${variable}: must be a whole number above 0 (got ${JSON.stringify(text.slice(0, 64))})`);
    return fallback;
  }
  return value;
}

/** A PEM file named by `variable`, read now so that a wrong path stops start-up rather than every export. */
function pemFile(env: NodeJS.ProcessEnv, variable: string, problems: string[]): string | undefined {
  const path = read(env, variable)?.trim();
  if (path === undefined) return undefined;
  try {
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN ')) problems.push(`  ${variable}: ${path} is not a PEM file`);
    return text;
  } catch (error) {
    problems.push(`  ${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** The endpoint without what could be a credential, for a start-up line. */
export function describeEndpoint(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

interface ListKind {
  /** Header values can be credentials: they never appear in a message. */
  readonly secretValues: boolean;
  readonly keysAreHeaderNames: boolean;
}
const HEADER_LIST: ListKind = { secretValues: true, keysAreHeaderNames: true };
const ATTRIBUTE_LIST: ListKind = { secretValues: false, keysAreHeaderNames: false };

/** docker-compose's `FOO=` means "not set". */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/** An http(s) URL without user info (credentials go in the headers, which are never logged); its value is not echoed. */
function checkedUrl(variable: string, value: string, problems: string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    problems.push(`  ${variable}: must be an http(s) URL such as http://otel-collector:4318`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`  ${variable}: must be an http(s) URL such as http://otel-collector:4318 (OTLP/gRPC is not supported)`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    problems.push(`  ${variable}: must not carry credentials; put them in OTEL_EXPORTER_OTLP_HEADERS (e.g. authorization=Bearer%20…)`);
    return undefined;
  }
  return url.href;
}

/**
 * `key1=value1,key2=value2` with percent-encoded values (the W3C Baggage format these variables use). A bad member
 * is named by its position; a header's value never appears in a message.
 */
function keyValueList(variable: string, text: string | undefined, problems: string[], kind: ListKind): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  text.split(',').forEach((member, index) => {
    if (member.trim() === '') return;
    const equals = member.indexOf('=');
    const key = equals < 0 ? '' : member.slice(0, equals).trim();
    if (key === '') {
      problems.push(`  ${variable}: item ${index + 1} is not key=value`);
      return;
    }
    if (kind.keysAreHeaderNames && !HTTP_TOKEN.test(key)) {
      problems.push(`  ${variable}: item ${index + 1} does not start with a valid header name`);
      return;
    }
    try {
      out[key] = decodeURIComponent(member.slice(equals + 1).trim());
    } catch {
      const shown = kind.secretValues ? '' : ` (${JSON.stringify(member.slice(equals + 1).trim().slice(0, 64))})`;
      problems.push(`  ${variable}: the value of ${JSON.stringify(key.slice(0, 64))} is not valid percent-encoding${shown}`);
    }
  });
  return out;
}
