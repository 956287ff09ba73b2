/**
 * OTLP/HTTP protobuf encoding of an ExportTraceServiceRequest, from its OTLP/JSON shape (opentelemetry-proto
 * `collector/trace/v1` and `trace/v1`). Two users: the otel log destination (Phoenix accepts only
 * `application/x-protobuf`, and LiteLLM's Arize, Phoenix and Langfuse exporters send protobuf) and the gateway's own
 * tracing exporter. Only the fields those two set are encoded.
 */

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values: JsonAnyValue[] };
}
export interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}
export type UnixNanos = string | readonly [seconds: number, nanoseconds: number];

export interface JsonSpan {
  traceId: string;
  spanId: string;
  /** W3C tracestate, as its header carries it. */
  traceState?: string;
  /** Absent or empty for a root span. */
  parentSpanId?: string;
  name: string;
  kind?: number;
  /** Decimal nanoseconds (OTLP/JSON's form), or OpenTelemetry's [seconds, nanoseconds] (protobuf only: no string made). */
  startTimeUnixNano: UnixNanos;
  endTimeUnixNano: UnixNanos;
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
/**
 * UTF-8 length. Most strings here are short and ASCII (attribute keys, ids, model names): counted in JavaScript,
 * which costs a fraction of a call into `Buffer.byteLength` (measured: the encoder was ~3.5 µs a span before).
 */
function utf8Length(text: string): number {
  const length = text.length;
  if (length > 64) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  return length;
}

const stringField = (value: string | undefined) => (value === undefined || value === '' ? 0 : lenField(utf8Length(value)));

/** A non-negative safe integer takes the number path; anything else (negative, beyond 2^53, a string) the BigInt one. */
const isSmallUint = (value: string | number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

const TWO_32 = 0x1_0000_0000;
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const hexDigit = (text: string, i: number) => {
  const code = text.charCodeAt(i);
  return code < 128 ? HEX_VALUE[code] : -1;
};

/**
 * A decimal string of up to 19 digits as its two 32-bit halves, in exact double arithmetic (no BigInt, which costs
 * more than the rest of a timestamp's encoding); null for anything else, which takes the BigInt path.
 */
function splitDecimalUint64(text: string): { low: number; high: number } | null {
  const length = text.length;
  if (length === 0 || length > 19) return null;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return null;
  }
  if (length <= 15) {
    const value = Number(text);
    return { low: value % TWO_32, high: Math.floor(value / TWO_32) };
  }
  return splitSecondsNanos(Number(text.slice(0, length - 9)), Number(text.slice(length - 9)));
}

const isZeroTime = (nanos: UnixNanos) => (typeof nanos === 'string' ? nanos === '0' : nanos[0] === 0 && nanos[1] === 0);

/** seconds × 1e9 + nanos (seconds below 2^34) as two 32-bit halves: seconds = a × 2^16 + b keeps every product under 2^53. */
function splitSecondsNanos(seconds: number, nanos: number): { low: number; high: number } {
  const a = Math.floor(seconds / 0x10000);
  const b = seconds % 0x10000;
  const q = a * 1e9; // × 2^16 still to apply
  const p = b * 1e9 + nanos;
  const lowSum = (p % TWO_32) + (q % 0x10000) * 0x10000;
  return { low: lowSum % TWO_32, high: Math.floor(p / TWO_32) + Math.floor(q / 0x10000) + Math.floor(lowSum / TWO_32) };
}

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
    this.check(total);
    return this.buf;
  }

  /** One span as a ScopeSpans `spans` field (tag, length, Span message): the pieces `encodeEnvelope` joins. */
  encodeSpanField(span: JsonSpan): Buffer {
    this.reset();
    const total = lenField(this.sizeSpan(span));
    this.buf = Buffer.allocUnsafe(total);
    this.writeSpan(span);
    this.check(total);
    return this.buf;
  }

  /** A request of one resource and one scope around spans already encoded by `encodeSpanField`, copied as they are. */
  encodeEnvelope(resource: readonly JsonKeyValue[], scope: { name?: string; version?: string }, spanFields: readonly Buffer[]): Buffer {
    let spanBytes = 0;
    for (const field of spanFields) spanBytes += field.length;
    const resourceSpansSlot = this.reserve();
    const resourceBody = this.sizeKeyValues(resource);
    const scopeSpansSlot = this.reserve();
    const scopeSlot = this.reserve();
    const scopeBody = (this.lengths[scopeSlot] = stringField(scope.name) + stringField(scope.version));
    const scopeSpansBody = (this.lengths[scopeSpansSlot] = lenField(scopeBody) + spanBytes);
    const total = lenField((this.lengths[resourceSpansSlot] = lenField(resourceBody) + lenField(scopeSpansBody)));
    this.buf = Buffer.allocUnsafe(total);
    this.open(1);
    this.open(1);
    for (const kv of resource) this.writeKeyValue(1, kv);
    this.open(2);
    this.open(1);
    this.string(1, scope.name);
    this.string(2, scope.version);
    for (const field of spanFields) this.pos += field.copy(this.buf, this.pos);
    this.check(total);
    return this.buf;
  }

  /** Ready for another message (one encoder serves every span: no allocation but the output). */
  private reset(): void {
    this.lengths.length = 0;
    this.next = 0;
    this.pos = 0;
  }

  private check(total: number): void {
    if (this.pos !== total || this.next !== this.lengths.length) throw new Error('OTLP protobuf encoder: size and write passes disagree');
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
  private sizeKeyValues(attributes: readonly JsonKeyValue[] | undefined): number {
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
    let body = lenField(16) + lenField(8) + stringField(s.traceState) + stringField(s.name);
    if (s.parentSpanId) body += lenField(8);
    if (s.kind) body += 1 + varintSize(s.kind);
    if (!isZeroTime(s.startTimeUnixNano)) body += 9;
    if (!isZeroTime(s.endTimeUnixNano)) body += 9;
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
    if (v.stringValue !== undefined) body = lenField(utf8Length(v.stringValue));
    else if (v.boolValue !== undefined) body = 2;
    else if (v.intValue !== undefined) body = 1 + (isSmallUint(v.intValue) ? varintSize(v.intValue) : varint64Size(BigInt(v.intValue)));
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
    const length = utf8Length(text);
    this.byte(tag(field, LEN));
    this.varint(length);
    if (length === text.length) {
      for (let i = 0; i < length; i++) this.buf[this.pos++] = text.charCodeAt(i);
    } else {
      this.pos += this.buf.write(text, this.pos, 'utf8');
    }
  }

  private hex(field: number, value: string, bytes: number): void {
    this.byte(tag(field, LEN));
    this.varint(bytes);
    let i = 0;
    for (; i < bytes && 2 * i + 1 < value.length; i++) {
      const high = hexDigit(value, 2 * i);
      const low = hexDigit(value, 2 * i + 1);
      if (high < 0 || low < 0) break;
      this.buf[this.pos + i] = (high << 4) | low;
    }
    // A malformed id is padded with zeros rather than shifting every later byte.
    this.buf.fill(0, this.pos + i, this.pos + bytes);
    this.pos += bytes;
  }

  /** Nanoseconds since the epoch as a little-endian fixed64 (absent when zero, as protobuf leaves defaults out). */
  private fixed64(field: number, nanos: UnixNanos): void {
    if (isZeroTime(nanos)) return;
    this.byte(tag(field, FIXED64));
    const split = typeof nanos === 'string' ? splitDecimalUint64(nanos) : splitSecondsNanos(nanos[0], nanos[1]);
    if (split === null) {
      this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(nanos as string)), this.pos);
    } else {
      this.buf.writeUInt32LE(split.low, this.pos);
      this.buf.writeUInt32LE(split.high, this.pos + 4);
    }
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
    this.string(3, s.traceState);
    if (s.parentSpanId) this.hex(4, s.parentSpanId, 8);
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
      if (isSmallUint(v.intValue)) this.varint(v.intValue);
      else this.varint64(BigInt(v.intValue));
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

const spanEncoder = new Encoder();

/** One span, encoded as it ends, so that a batch holds bytes rather than span objects (see OtlpSpanProcessor). */
export function encodeSpanField(span: JsonSpan): Buffer {
  return spanEncoder.encodeSpanField(span);
}

/** The ExportTraceServiceRequest of one resource and one scope around spans from `encodeSpanField`. */
export function encodeSpanEnvelope(resource: readonly JsonKeyValue[], scope: { name?: string; version?: string }, spanFields: readonly Buffer[]): Buffer {
  return new Encoder().encodeEnvelope(resource, scope, spanFields);
}
