/**
 * Test-only decoder of an OTLP/HTTP protobuf ExportTraceServiceRequest into the OTLP/JSON shape (ids as hex, times
 * and int64 values as decimal strings), written from opentelemetry-proto's field numbers, independently of the
 * gateway's encoder; proven against OpenTelemetry's own ProtobufTraceSerializer in fake-otlp.e2e-spec.ts.
 */

interface Field {
  field: number;
  wireType: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const byte = buf[pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wireType = key & 7;
    if (field === 0) throw new Error('field number 0');
    if (wireType === 0) fields.push({ field, wireType, varint: varint() });
    else if (wireType === 1) {
      if (pos + 8 > buf.length) throw new Error('truncated fixed64');
      fields.push({ field, wireType, bytes: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wireType === 2) {
      const length = Number(varint());
      if (pos + length > buf.length) throw new Error('truncated length-delimited field');
      fields.push({ field, wireType, bytes: buf.subarray(pos, pos + length) });
      pos += length;
    } else if (wireType === 5) {
      fields.push({ field, wireType, bytes: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else throw new Error(`unsupported wire type ${wireType}`);
  }
  return fields;
}

const all = (fields: Field[], n: number) => fields.filter((f) => f.field === n);
const first = (fields: Field[], n: number) => fields.find((f) => f.field === n);
const str = (f: Field | undefined) => f?.bytes?.toString('utf8');

function anyValue(buf: Buffer): Record<string, unknown> {
  const fields = readFields(buf);
  const f = fields[fields.length - 1];
  if (!f) return {};
  switch (f.field) {
    case 1:
      return { stringValue: str(f) };
    case 2:
      return { boolValue: f.varint === 1n };
    case 3:
      return { intValue: BigInt.asIntN(64, f.varint ?? 0n).toString() };
    case 4:
      return { doubleValue: f.bytes!.readDoubleLE(0) };
    case 5:
      return { arrayValue: { values: all(readFields(f.bytes!), 1).map((v) => anyValue(v.bytes!)) } };
    default:
      return {};
  }
}

function keyValues(fields: Field[], n: number): { key: string; value: Record<string, unknown> }[] {
  return all(fields, n).map((kv) => {
    const inner = readFields(kv.bytes!);
    return { key: str(first(inner, 1)) ?? '', value: anyValue(first(inner, 2)?.bytes ?? Buffer.alloc(0)) };
  });
}

const fixed64 = (f: Field | undefined) => (f?.bytes ? f.bytes.readBigUInt64LE(0).toString() : '0');

/** Throws on a body that is not a well-formed protobuf message. */
export function decodeExportTraceRequest(body: Buffer): { resourceSpans: unknown[] } {
  return {
    resourceSpans: all(readFields(body), 1).map((rsField) => {
      const rs = readFields(rsField.bytes!);
      const resource = first(rs, 1);
      return {
        resource: { attributes: resource ? keyValues(readFields(resource.bytes!), 1) : [] },
        scopeSpans: all(rs, 2).map((ssField) => {
          const ss = readFields(ssField.bytes!);
          const scope = first(ss, 1) ? readFields(first(ss, 1)!.bytes!) : [];
          return {
            scope: { name: str(first(scope, 1)) ?? '', version: str(first(scope, 2)) ?? '' },
            spans: all(ss, 2).map((spanField) => {
              const span = readFields(spanField.bytes!);
              const status = first(span, 15) ? readFields(first(span, 15)!.bytes!) : [];
              return {
                traceId: first(span, 1)?.bytes?.toString('hex') ?? '',
                spanId: first(span, 2)?.bytes?.toString('hex') ?? '',
                // Only when sent (a root span has no parent; most spans no trace state), as the JSON encoding leaves them out.
                ...(first(span, 3) ? { traceState: str(first(span, 3)) } : {}),
                ...(first(span, 4) ? { parentSpanId: first(span, 4)?.bytes?.toString('hex') } : {}),
                name: str(first(span, 5)) ?? '',
                kind: Number(first(span, 6)?.varint ?? 0n),
                startTimeUnixNano: fixed64(first(span, 7)),
                endTimeUnixNano: fixed64(first(span, 8)),
                attributes: keyValues(span, 9),
                status: { code: Number(first(status, 3)?.varint ?? 0n), message: str(first(status, 2)) ?? '' },
              };
            }),
          };
        }),
      };
    }),
  };
}
