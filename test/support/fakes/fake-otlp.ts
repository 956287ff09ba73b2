import type { ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { FakeHttpServer, sendJson, type FailureSpec, type RecordedRequest } from './fake-http-server';
import { decodeExportTraceRequest } from './otlp-protobuf-decode';

/**
 * An OTLP/HTTP JSON trace receiver on loopback: POST /v1/traces (or a custom path). Optionally requires headers
 * (as a collector with an auth extension would, or as Arize, Phoenix and Langfuse do: see `otlpVendor`), decodes
 * the ExportTraceServiceRequest (a body that is not one is refused with 400, as a collector does), and can answer
 * with partial success; gzip bodies are inflated first. Proven with OpenTelemetry's own OTLP/HTTP exporter in
 * test/e2e/fake-otlp.e2e-spec.ts.
 */

/** What each OTLP product requires of a request: its path and authentication headers. */
export const otlpVendor = {
  /** Arize AX: `space_id` and `api_key` headers on /v1/traces. */
  arize: (spaceId: string, apiKey: string): FakeOtlpOptions => ({ requiredHeaders: { space_id: spaceId, api_key: apiKey } }),
  /** Phoenix (Cloud, or self-hosted with auth): a bearer API key on /v1/traces; protobuf only (JSON gets 415). */
  phoenix: (apiKey: string): FakeOtlpOptions => ({ requiredHeaders: { authorization: `Bearer ${apiKey}` }, encodings: ['protobuf'] }),
  /** Langfuse: Basic auth of public:secret key on /api/public/otel/v1/traces. */
  langfuse: (publicKey: string, secretKey: string): FakeOtlpOptions => ({
    path: '/api/public/otel/v1/traces',
    requiredHeaders: { authorization: `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString('base64')}` },
  }),
};

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values: OtlpAttribute['value'][] } };
}

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty (or absent) for a root span. */
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status?: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  scope: { name?: string; version?: string };
}

export interface FakeOtlpOptions {
  requiredHeaders?: Record<string, string>;
  path?: string;
  /** Body encodings accepted (default both): `application/json` and/or `application/x-protobuf`. */
  encodings?: ('json' | 'protobuf')[];
}

export class FakeOtlp {
  private partial: { rejectedSpans: number; errorMessage: string } | null = null;
  /** Requests answered 2xx by the receiver itself (not by an injected failure), with their decoded body. */
  private readonly accepted: { request: RecordedRequest; body: unknown }[] = [];

  private constructor(
    private readonly http: FakeHttpServer,
    private readonly options: FakeOtlpOptions,
  ) {}

  static async start(options: FakeOtlpOptions = {}): Promise<FakeOtlp> {
    let fake: FakeOtlp | null = null;
    const http = await FakeHttpServer.start((req, res) => fake!.handle(req, res));
    fake = new FakeOtlp(http, options);
    return fake;
  }

  get url(): string {
    return this.http.url;
  }

  get port(): number {
    return this.http.port;
  }

  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  setFailure(spec: FailureSpec | null): void {
    this.http.setFailure(spec);
  }

  setPartialSuccess(partial: { rejectedSpans: number; errorMessage: string } | null): void {
    this.partial = partial;
  }

  refuseConnections(): Promise<void> {
    return this.http.refuseConnections();
  }

  restart(): Promise<void> {
    return this.http.restart();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** Every span accepted, in arrival order (redeliveries included; refused and failed requests left out). */
  spans(): ReceivedSpan[] {
    const out: ReceivedSpan[] = [];
    for (const { body: decoded } of this.accepted) {
      const body = decoded as { resourceSpans?: RawResourceSpans[] } | undefined;
      for (const resourceSpans of body?.resourceSpans ?? []) {
        const resource = attributesToObject(resourceSpans.resource?.attributes);
        for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
          for (const span of scopeSpans.spans ?? []) {
            out.push({ ...span, attributes: attributesToObject(span.attributes), resource, scope: scopeSpans.scope ?? {} });
          }
        }
      }
    }
    return out;
  }

  /** Spans de-duplicated by (traceId, spanId), last write wins, as a backend that upserts would show them. */
  uniqueSpans(): ReceivedSpan[] {
    const byId = new Map<string, ReceivedSpan>();
    for (const span of this.spans()) {
      byId.set(`${span.traceId}/${span.spanId}`, span);
    }
    return [...byId.values()];
  }

  private authorized(req: RecordedRequest): boolean {
    return Object.entries(this.options.requiredHeaders ?? {}).every(([name, value]) => req.headers[name.toLowerCase()] === value);
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    if (req.method !== 'POST' || req.path !== (this.options.path ?? '/v1/traces')) {
      sendJson(res, 404, { code: 5, message: `no route ${req.method} ${req.path}` });
      return;
    }
    if (!this.authorized(req)) {
      sendJson(res, 401, { code: 16, message: 'missing or wrong authentication header' });
      return;
    }
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0].trim();
    const encodings = this.options.encodings ?? ['json', 'protobuf'];
    const encoding = contentType === 'application/json' ? 'json' : contentType === 'application/x-protobuf' ? 'protobuf' : null;
    if (encoding === null || !encodings.includes(encoding)) {
      sendJson(res, 415, { code: 3, message: `Unsupported content type: ${contentType}` });
      return;
    }
    const contentEncoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (contentEncoding !== 'identity' && contentEncoding !== 'gzip') {
      sendJson(res, 415, { code: 3, message: `Unsupported content encoding: ${contentEncoding}` });
      return;
    }
    let body: unknown;
    try {
      // A collector's OTLP/HTTP receiver takes gzip bodies (OTEL_EXPORTER_OTLP_COMPRESSION=gzip).
      const raw = contentEncoding === 'gzip' ? gunzipSync(req.body) : req.body;
      body = encoding === 'json' ? JSON.parse(raw.toString('utf8')) : decodeExportTraceRequest(raw);
    } catch {
      sendJson(res, 400, { code: 3, message: `body is not an OTLP ${encoding} ExportTraceServiceRequest` });
      return;
    }
    const problem = exportRequestProblem(body);
    if (problem) {
      sendJson(res, 400, { code: 3, message: problem });
      return;
    }
    this.accepted.push({ request: req, body });
    if (encoding === 'protobuf') {
      // An ExportTraceServiceResponse with no partial success is the empty message.
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      res.end();
      return;
    }
    sendJson(res, 200, this.partial ? { partialSuccess: this.partial } : {});
  }
}

interface RawResourceSpans {
  resource?: { attributes?: OtlpAttribute[] };
  scopeSpans?: { scope?: { name?: string; version?: string }; spans?: (Omit<ReceivedSpan, 'attributes' | 'resource' | 'scope'> & { attributes?: OtlpAttribute[] })[] }[];
}

const HEX = (length: number) => new RegExp(`^[0-9a-f]{${length}}$`);
const TRACE_ID = HEX(32);
const SPAN_ID = HEX(16);
const NANOS = /^\d+$/;

/** Why `body` is not an OTLP/JSON ExportTraceServiceRequest, or null (an empty `resourceSpans` is valid). */
export function exportRequestProblem(body: unknown): string | null {
  const resourceSpans = (body as { resourceSpans?: unknown } | null)?.resourceSpans;
  if (resourceSpans !== undefined && !Array.isArray(resourceSpans)) return 'resourceSpans must be an array';
  for (const rs of (resourceSpans ?? []) as RawResourceSpans[]) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        if (typeof span.traceId !== 'string' || !TRACE_ID.test(span.traceId)) return 'span traceId must be 32 lowercase hex digits';
        if (typeof span.spanId !== 'string' || !SPAN_ID.test(span.spanId)) return 'span spanId must be 16 lowercase hex digits';
        if (typeof span.name !== 'string') return 'span name must be a string';
        for (const t of [span.startTimeUnixNano, span.endTimeUnixNano]) {
          if (!(typeof t === 'number' || (typeof t === 'string' && NANOS.test(t)))) return 'span times must be unsigned nanoseconds';
        }
      }
    }
  }
  return null;
}

function attributeValue(value: OtlpAttribute['value']): unknown {
  if (value.stringValue !== undefined) {
    return value.stringValue;
  }
  if (value.intValue !== undefined) {
    return Number(value.intValue);
  }
  if (value.doubleValue !== undefined) {
    return value.doubleValue;
  }
  if (value.boolValue !== undefined) {
    return value.boolValue;
  }
  if (value.arrayValue !== undefined) {
    return value.arrayValue.values.map(attributeValue);
  }
  return undefined;
}

function attributesToObject(attributes: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map((a) => [a.key, attributeValue(a.value)]));
}

export function start(options: FakeOtlpOptions = {}): Promise<FakeOtlp> {
  return FakeOtlp.start(options);
}
