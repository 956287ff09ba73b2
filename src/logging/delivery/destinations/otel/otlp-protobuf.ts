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

// Every field number used here is below 16, so each tag is one byte: (field << 3) | wire type.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const tag = (field: number, wireType: number) => (field << 3) | wireType;

/** Bytes of a varint for a non-negative number below 2^53. */
function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function varint64Size(v: bigint): number {
  let u = BigInt.asUintN(64, v);
  let size = 1;
  while (u > 0x7fn) {
    u >>= 7n;
    size++;
  }
  return size;
}

const lenField = (body: number) => 1 + varintSize(body) + body;
const stringField = (value: string | undefined) => (value === undefined || value === '' ? 0 : lenField(Buffer.byteLength(value, 'utf8')));

/**
 * Two passes over the request: the first computes every nested message's length, in the order the second writes
 * them (pre-order), so the second writes once into one buffer of the exact size.
 */
class Encoder {
  private readonly lengths: number[] = [];
  private next = 0;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  encode(request: JsonExportRequest): Buffer {
    let total = 0;
    for (const rs of request.resourceSpans) total += lenField(this.sizeResourceSpans(rs));
    this.buf = Buffer.allocUnsafe(total);
    for (const rs of request.resourceSpans) this.writeResourceSpans(rs);
    if (this.pos !== total || this.next !== this.lengths.length) throw new Error('OTLP protobuf encoder: size and write passes disagree');
    return this.buf;
  }

  // ---- sizes (each reserves its slot before its children, as the writer reads them)

  private reserve(): number {
    this.lengths.push(0);
    return this.lengths.length - 1;
  }

  private sizeResourceSpans(rs: JsonExportRequest['resourceSpans'][number]): number {
    const slot = this.reserve();
    let body = lenField(this.sizeKeyValues(rs.resource?.attributes));
    for (const ss of rs.scopeSpans ?? []) body += lenField(this.sizeScopeSpans(ss));
    return (this.lengths[slot] = body);
  }

  /** The Resource message (its attributes). */
  private sizeKeyValues(attributes: JsonKeyValue[] | undefined): number {
    const slot = this.reserve();
    let body = 0;
    for (const kv of attributes ?? []) body += lenField(this.sizeKeyValue(kv));
    return (this.lengths[slot] = body);
  }

  private sizeScopeSpans(ss: NonNullable<JsonExportRequest['resourceSpans'][number]['scopeSpans']>[number]): number {
    const slot = this.reserve();
    const scopeSlot = this.reserve();
    const scope = (this.lengths[scopeSlot] = stringField(ss.scope?.name) + stringField(ss.scope?.version));
    let body = lenField(scope);
    for (const span of ss.spans ?? []) body += lenField(this.sizeSpan(span));
    return (this.lengths[slot] = body);
  }

  private sizeSpan(s: JsonSpan): number {
    const slot = this.reserve();
    let body = lenField(16) + lenField(8) + stringField(s.name);
    if (s.kind) body += 1 + varintSize(s.kind);
    if (s.startTimeUnixNano !== '0') body += 9;
    if (s.endTimeUnixNano !== '0') body += 9;
    for (const kv of s.attributes ?? []) body += lenField(this.sizeKeyValue(kv));
    const statusSlot = this.reserve();
    const code = s.status?.code ?? 0;
    const status = (this.lengths[statusSlot] = stringField(s.status?.message) + (code ? 1 + varintSize(code) : 0));
    body += lenField(status);
    return (this.lengths[slot] = body);
  }

  private sizeKeyValue(kv: JsonKeyValue): number {
    const slot = this.reserve();
    return (this.lengths[slot] = stringField(kv.key) + lenField(this.sizeAnyValue(kv.value)));
  }

  private sizeAnyValue(v: JsonAnyValue): number {
    const slot = this.reserve();
    let body = 0;
    if (v.stringValue !== undefined) body = lenField(Buffer.byteLength(v.stringValue, 'utf8'));
    else if (v.boolValue !== undefined) body = 2;
    else if (v.intValue !== undefined) body = 1 + varint64Size(BigInt(v.intValue));
    else if (v.doubleValue !== undefined) body = 9;
    else if (v.arrayValue !== undefined) {
      const arraySlot = this.reserve();
      let array = 0;
      for (const item of v.arrayValue.values) array += lenField(this.sizeAnyValue(item));
      body = lenField((this.lengths[arraySlot] = array));
    }
    return (this.lengths[slot] = body);
  }

  // ---- writing

  private byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  private varint(n: number): void {
    while (n > 0x7f) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  private varint64(v: bigint): void {
    // Negative int64 values are their two's-complement 64-bit form (10 bytes), as protobuf writes them.
    let u = BigInt.asUintN(64, v);
    while (u > 0x7fn) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  /** Opens a nested message: its tag and its length, taken from the size pass. */
  private open(field: number): void {
    this.byte(tag(field, LEN));
    this.varint(this.lengths[this.next++]);
  }

  private string(field: number, value: string | undefined, always = false): void {
    if (!always && (value === undefined || value === '')) return;
    const text = value ?? '';
    this.byte(tag(field, LEN));
    this.varint(Buffer.byteLength(text, 'utf8'));
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  private hex(field: number, value: string, bytes: number): void {
    this.byte(tag(field, LEN));
    this.varint(bytes);
    const written = this.buf.write(value, this.pos, bytes, 'hex');
    // A malformed id is padded with zeros rather than shifting every later byte.
    this.buf.fill(0, this.pos + written, this.pos + bytes);
    this.pos += bytes;
  }

  private fixed64(field: number, nanos: string): void {
    if (nanos === '0') return;
    this.byte(tag(field, FIXED64));
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(nanos)), this.pos);
    this.pos += 8;
  }

  private writeResourceSpans(rs: JsonExportRequest['resourceSpans'][number]): void {
    this.open(1);
    this.open(1);
    for (const kv of rs.resource?.attributes ?? []) this.writeKeyValue(1, kv);
    for (const ss of rs.scopeSpans ?? []) {
      this.open(2);
      this.open(1);
      this.string(1, ss.scope?.name);
      this.string(2, ss.scope?.version);
      for (const span of ss.spans ?? []) this.writeSpan(span);
    }
  }

  private writeSpan(s: JsonSpan): void {
    this.open(2);
    this.hex(1, s.traceId, 16);
    this.hex(2, s.spanId, 8);
    this.string(5, s.name);
    if (s.kind) {
      this.byte(tag(6, VARINT));
      this.varint(s.kind);
    }
    this.fixed64(7, s.startTimeUnixNano);
    this.fixed64(8, s.endTimeUnixNano);
    for (const kv of s.attributes ?? []) this.writeKeyValue(9, kv);
    this.open(15);
    this.string(2, s.status?.message);
    const code = s.status?.code ?? 0;
    if (code) {
      this.byte(tag(3, VARINT));
      this.varint(code);
    }
  }

  private writeKeyValue(field: number, kv: JsonKeyValue): void {
    this.open(field);
    this.string(1, kv.key);
    this.writeAnyValue(2, kv.value);
  }

  /** AnyValue is a oneof: the set member is written even when it is zero, empty or false. */
  private writeAnyValue(field: number, v: JsonAnyValue): void {
    this.open(field);
    if (v.stringValue !== undefined) this.string(1, v.stringValue, true);
    else if (v.boolValue !== undefined) {
      this.byte(tag(2, VARINT));
      this.byte(v.boolValue ? 1 : 0);
    } else if (v.intValue !== undefined) {
      this.byte(tag(3, VARINT));
      this.varint64(BigInt(v.intValue));
    } else if (v.doubleValue !== undefined) {
      this.byte(tag(4, FIXED64));
      this.pos = this.buf.writeDoubleLE(v.doubleValue, this.pos);
    } else if (v.arrayValue !== undefined) {
      this.open(5);
      for (const item of v.arrayValue.values) this.writeAnyValue(1, item);
    }
  }
}

/** The request as `application/x-protobuf` bytes. An empty request (no resource spans) is zero bytes. */
export function encodeExportRequest(request: JsonExportRequest): Buffer {
  return new Encoder().encode(request);
}
