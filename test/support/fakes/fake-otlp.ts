import type { ServerResponse } from 'node:http';
import { FakeHttpServer, sendJson, type FailureSpec, type RecordedRequest } from './fake-http-server';

/**
 * An OTLP/HTTP JSON trace receiver on loopback: POST /v1/traces (or a custom path). Optionally requires headers
 * (as a collector with an auth extension would), and can answer with partial success.
 */

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values: OtlpAttribute['value'][] } };
}

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
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
}

export class FakeOtlp {
  private partial: { rejectedSpans: number; errorMessage: string } | null = null;

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

  /** Every span received, in arrival order (redeliveries included). */
  spans(): ReceivedSpan[] {
    const out: ReceivedSpan[] = [];
    for (const request of this.http.requests) {
      if (request.method !== 'POST' || request.path !== (this.options.path ?? '/v1/traces') || !this.authorized(request)) {
        continue;
      }
      const body = request.json as { resourceSpans?: RawResourceSpans[] } | undefined;
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
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json') || req.json === undefined) {
      sendJson(res, 400, { code: 3, message: 'expected an OTLP JSON body' });
      return;
    }
    sendJson(res, 200, this.partial ? { partialSuccess: this.partial } : {});
  }
}

interface RawResourceSpans {
  resource?: { attributes?: OtlpAttribute[] };
  scopeSpans?: { scope?: { name?: string; version?: string }; spans?: (Omit<ReceivedSpan, 'attributes' | 'resource' | 'scope'> & { attributes?: OtlpAttribute[] })[] }[];
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
