import { decodeExportTraceRequest } from '../../test/support/fakes/otlp-protobuf-decode';
import { encodeExportRequest, type JsonExportRequest, type JsonSpan } from './otlp-protobuf';

/** The spans of a decoded one-resource, one-scope request. */
const spansOf = (body: Buffer) => (decodeExportTraceRequest(body) as JsonExportRequest).resourceSpans[0].scopeSpans![0].spans as JsonSpan[];

describe('encodeExportRequest (OTLP protobuf)', () => {
  it('round-trips through an independent decoder: every AnyValue kind, zero/empty/negative/unicode values, long strings', () => {
    const long = 'x'.repeat(70_000);
    const request: JsonExportRequest = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gatehouse' } }] },
          scopeSpans: [
            {
              scope: { name: 'gatehouse', version: '0.1.0' },
              spans: [
                {
                  traceId: '0123456789abcdef0123456789abcdef',
                  spanId: '0123456789abcdef',
                  name: 'chat gpt-4 — ünïcødé 🚀',
                  kind: 3,
                  startTimeUnixNano: '1767225600250000000',
                  endTimeUnixNano: '18446744073709551615',
                  attributes: [
                    { key: 's', value: { stringValue: '' } },
                    { key: 'long', value: { stringValue: long } },
                    { key: 'b', value: { boolValue: false } },
                    { key: 'i0', value: { intValue: '0' } },
                    { key: 'neg', value: { intValue: '-42' } },
                    { key: 'big', value: { intValue: '9007199254740993' } },
                    { key: 'd', value: { doubleValue: 0.125 } },
                    { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'ü' }] } } },
                  ],
                  status: { code: 2, message: 'boom' },
                },
                { traceId: 'ffffffffffffffffffffffffffffffff', spanId: 'ffffffffffffffff', name: 'ok', startTimeUnixNano: '1', endTimeUnixNano: '2', status: {} },
                { traceId: '0123456789abcdef0123456789abcdef', spanId: '1111111111111111', parentSpanId: '0123456789abcdef', traceState: 'vendor=a,other=b', name: 'child', kind: 2, startTimeUnixNano: '3', endTimeUnixNano: '4' },
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeExportTraceRequest(encodeExportRequest(request));
    expect(decoded).toEqual({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gatehouse' } }] },
          scopeSpans: [
            {
              scope: { name: 'gatehouse', version: '0.1.0' },
              spans: [
                { ...request.resourceSpans[0].scopeSpans![0].spans![0] },
                { traceId: 'ffffffffffffffffffffffffffffffff', spanId: 'ffffffffffffffff', name: 'ok', kind: 0, startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [], status: { code: 0, message: '' } },
                {
                  traceId: '0123456789abcdef0123456789abcdef',
                  spanId: '1111111111111111',
                  parentSpanId: '0123456789abcdef',
                  traceState: 'vendor=a,other=b',
                  name: 'child',
                  kind: 2,
                  startTimeUnixNano: '3',
                  endTimeUnixNano: '4',
                  attributes: [],
                  status: { code: 0, message: '' },
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('writes every timestamp exactly, whatever its number of digits (fast path and BigInt path agree)', () => {
    const times = ['1', '999999999999999', '1000000000000000', '1767225600250000001', '9999999999999999999', '18446744073709551615'];
    for (let i = 0; i < 200; i++) {
      const digits = 16 + (i % 4);
      let text = String(1 + Math.floor(Math.random() * 9));
      while (text.length < digits) text += String(Math.floor(Math.random() * 10));
      times.push(text);
    }
    const spans = times.map((time, i) => ({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: `s${i}`, startTimeUnixNano: time, endTimeUnixNano: time }));
    const decoded = spansOf(encodeExportRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    expect(decoded.map((span) => span.startTimeUnixNano)).toEqual(times);
    expect(decoded.map((span) => span.endTimeUnixNano)).toEqual(times);
  });

  it("takes OpenTelemetry's [seconds, nanoseconds] times as they are, written as the same fixed64", () => {
    const times: [number, number][] = [[0, 5], [1767225600, 250000001], [1767225600, 0], [9999999999, 999999999], [65535, 999999999], [65536, 0]];
    const spans = times.map((time, i) => ({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: `s${i}`, startTimeUnixNano: time, endTimeUnixNano: time }));
    const expected = times.map(([seconds, nanos]) => (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString());
    expect(spansOf(encodeExportRequest({ resourceSpans: [{ scopeSpans: [{ spans }] }] })).map((span) => span.startTimeUnixNano)).toEqual(expected);
  });

  it('a malformed id is zero-padded in place: the fields after it stay readable', () => {
    const [span] = spansOf(
      encodeExportRequest({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0123zz', spanId: 'ABCDEF', name: 'after', startTimeUnixNano: '5', endTimeUnixNano: '6' }] }] }] }),
    );
    expect([span.traceId, span.spanId, span.name, span.startTimeUnixNano]).toEqual(['0123' + '0'.repeat(28), 'abcdef0000000000', 'after', '5']);
  });

  it('an empty request is zero bytes', () => {
    expect(encodeExportRequest({ resourceSpans: [] })).toHaveLength(0);
  });
});
