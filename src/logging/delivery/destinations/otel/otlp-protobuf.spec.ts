import { decodeExportTraceRequest } from '../../../../../test/support/fakes/otlp-protobuf-decode';
import { encodeExportRequest, type JsonExportRequest } from './otlp-protobuf';

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
              ],
            },
          ],
        },
      ],
    });
  });

  it('an empty request is zero bytes', () => {
    expect(encodeExportRequest({ resourceSpans: [] })).toHaveLength(0);
  });
});
