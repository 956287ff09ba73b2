'use strict';
/**
 * Test-only, run with plain Node (not inside Jest's VM, where the exporter's dynamic `import('http')` is refused):
 * records one span with OpenTelemetry's SDK, exports it (or an empty batch) with @opentelemetry/exporter-trace-otlp-http
 * to argv[2] with the JSON headers of argv[3], and prints the exporter's verdict and the span's identity as JSON.
 * `protobuf`: the span serialised by OpenTelemetry's ProtobufTraceSerializer (what exporter-trace-otlp-proto sends),
 * POSTed as application/x-protobuf; the verdict is the HTTP status. `gzip`: as `one`, with the exporter's gzip compression.
 * Usage: node export-with-sdk.js URL HEADERS_JSON one|empty|protobuf|protobuf-empty|gzip
 */
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const [url, headersJson, scenario = 'one'] = process.argv.slice(2);

function recordSpan() {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'proof', 'openinference.project.name': 'proj-x' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const span = provider.getTracer('proof-scope', '1.2.3').startSpan('chat gpt-4', {
    attributes: { 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4', 'llm.token_count.prompt': 12, 'tag.tags': ['a', 'b'], 'gatehouse.stream': false },
  });
  span.setStatus({ code: 2, message: 'boom' });
  span.end();
  return memory.getFinishedSpans();
}

const nanos = (t) => (BigInt(t[0]) * 1000000000n + BigInt(t[1])).toString();

async function main() {
  if (scenario === 'protobuf' || scenario === 'protobuf-empty') {
    const spans = scenario === 'protobuf' ? recordSpan() : [];
    const body = ProtobufTraceSerializer.serializeRequest(spans);
    const res = await fetch(url, { method: 'POST', headers: { ...JSON.parse(headersJson || '{}'), 'content-type': 'application/x-protobuf' }, body });
    const s = spans[0];
    process.stdout.write(
      JSON.stringify({
        results: [{ status: res.status, bytes: body.length }],
        span: s && { traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, start: nanos(s.startTime), end: nanos(s.endTime) },
      }),
    );
    return;
  }
  const exporter = new OTLPTraceExporter({ url, headers: JSON.parse(headersJson || '{}'), timeoutMillis: 3000, ...(scenario === 'gzip' ? { compression: 'gzip' } : {}) });
  const exportOnce = (spans) => new Promise((resolve) => exporter.export(spans, (r) => resolve({ code: r.code, error: r.error ? String(r.error.message) : undefined })));
  const spans = scenario === 'empty' ? [] : recordSpan();
  const results = [await exportOnce(spans)];
  await exporter.shutdown();
  const s = spans[0];
  process.stdout.write(
    JSON.stringify({
      results,
      span: s && { traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, start: nanos(s.startTime), end: nanos(s.endTime) },
    }),
  );
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack));
  process.exit(1);
});
