/**
 * OTLP/HTTP protobuf encoding of an ExportTraceServiceRequest, from the OTLP/JSON shape the otel destination builds
 * (opentelemetry-proto `collector/trace/v1` and `trace/v1`): Phoenix accepts only `application/x-protobuf`, and
 * LiteLLM's Arize, Phoenix and Langfuse exporters send protobuf. Only the fields that destination sets are encoded.
 */

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values: JsonAnyValue[] };
}
interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}
export interface JsonSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: JsonKeyValue[];
  status?: { code?: number; message?: string };
}
export interface JsonExportRequest {
  resourceSpans: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { scope?: { name?: string; version?: string }; spans?: JsonSpan[] }[];
  }[];
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;

/** A protobuf message being written: fields appended in order, nested messages length-prefixed. */
class Writer {
  private readonly parts: Buffer[] = [];
  private size = 0;

  private push(part: Buffer): void {
    this.parts.push(part);
    this.size += part.length;
  }

  private tag(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  private varint(value: bigint): void {
    // Negative int64 values are written as their two's-complement 64-bit form (10 bytes), as protobuf does.
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    while (v > 0x7fn) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.push(Buffer.from(bytes));
  }

  uint(field: number, value: number | bigint): void {
    if (value === 0 || value === 0n) return;
    this.tag(field, VARINT);
    this.varint(BigInt(value));
  }

  /** Written even when zero (a oneof member). */
  int64(field: number, value: bigint): void {
    this.tag(field, VARINT);
    this.varint(value);
  }

  bool(field: number, value: boolean): void {
    this.tag(field, VARINT);
    this.varint(value ? 1n : 0n);
  }

  fixed64(field: number, value: bigint): void {
    if (value === 0n) return;
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, value));
    this.tag(field, FIXED64);
    this.push(b);
  }

  double(field: number, value: number): void {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    this.tag(field, FIXED64);
    this.push(b);
  }

  bytes(field: number, value: Buffer): void {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(BigInt(value.length));
    this.push(value);
  }

  string(field: number, value: string | undefined): void {
    if (value === undefined || value === '') return;
    this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.bytes(field, inner.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

/** AnyValue is a oneof: the set member is written even when it is zero, empty or false. */
function anyValue(w: Writer, v: JsonAnyValue): void {
  if (v.stringValue !== undefined) w.bytes(1, Buffer.from(v.stringValue, 'utf8'));
  else if (v.boolValue !== undefined) w.bool(2, v.boolValue);
  else if (v.intValue !== undefined) w.int64(3, BigInt(v.intValue));
  else if (v.doubleValue !== undefined) w.double(4, v.doubleValue);
  else if (v.arrayValue !== undefined) {
    const values = v.arrayValue.values;
    w.message(5, (array) => values.forEach((item) => array.message(1, (x) => anyValue(x, item))));
  }
}

function keyValues(w: Writer, field: number, attributes: JsonKeyValue[] | undefined): void {
  for (const kv of attributes ?? []) {
    w.message(field, (m) => {
      m.string(1, kv.key);
      m.message(2, (value) => anyValue(value, kv.value));
    });
  }
}

function span(w: Writer, s: JsonSpan): void {
  w.bytes(1, Buffer.from(s.traceId, 'hex'));
  w.bytes(2, Buffer.from(s.spanId, 'hex'));
  w.string(5, s.name);
  w.uint(6, s.kind ?? 0);
  w.fixed64(7, BigInt(s.startTimeUnixNano));
  w.fixed64(8, BigInt(s.endTimeUnixNano));
  keyValues(w, 9, s.attributes);
  const status = s.status ?? {};
  w.message(15, (st) => {
    st.string(2, status.message);
    st.uint(3, status.code ?? 0);
  });
}

/** The request as `application/x-protobuf` bytes. An empty request (no resource spans) is zero bytes. */
export function encodeExportRequest(request: JsonExportRequest): Buffer {
  const w = new Writer();
  for (const rs of request.resourceSpans) {
    w.message(1, (r) => {
      r.message(1, (resource) => keyValues(resource, 1, rs.resource?.attributes));
      for (const ss of rs.scopeSpans ?? []) {
        r.message(2, (scopeSpans) => {
          scopeSpans.message(1, (scope) => {
            scope.string(1, ss.scope?.name);
            scope.string(2, ss.scope?.version);
          });
          for (const s of ss.spans ?? []) scopeSpans.message(2, (m) => span(m, s));
        });
      }
    });
  }
  return w.finish();
}
