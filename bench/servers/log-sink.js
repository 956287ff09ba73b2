'use strict';
// A log sink for the benchmark that acknowledges at once (loopback only). Two ports:
// - the "up" port serves
//   - Langfuse  POST /api/public/ingestion            → 207 {successes: [every event], errors: []}
//   - GCS       POST /upload/storage/v1/b/<bucket>/o  → 200 object resource with the md5Hash and crc32c of the
//               uploaded data (the client verifies them), for multipart and media uploads
//   - OTLP/HTTP POST /v1/traces (JSON)                → 200 {}
//   - OTLP/HTTP POST /self/v1/traces (protobuf or JSON) → 200: the gateway's own traces (OTEL_EXPORTER_OTLP_ENDPOINT),
//               counted apart so they never count as delivered log events
//   - S3        PUT /<bucket>/<key> (path-style)      → 200 with the ETag (signature not checked: the bench measures the sender)
//   - Datadog   POST /api/v2/logs (gzip JSON array)    → 202 {}
//   - generic   POST /generic (JSON array)             → 200 {}
//   - GET /__stats → counters (what arrived), for the benchmark to know when delivery has drained
// - the "down" port answers 503 to everything (a Langfuse that is down), and counts what it refused.
// Prints `READY <upPort> <downPort>` on stdout once both listen.
const http = require('node:http');
const { createHash } = require('node:crypto');
const { CRC32C } = require('@google-cloud/storage');

const stats = {
  langfuse_requests: 0,
  langfuse_events: 0,
  langfuse_generations: 0,
  gcs_uploads: 0,
  gcs_lines: 0,
  otlp_requests: 0,
  otlp_spans: 0,
  self_trace_requests: 0,
  self_trace_bytes: 0,
  s3_puts: 0,
  s3_lines: 0,
  datadog_requests: 0,
  generic_requests: 0,
  down_requests: 0,
  other_requests: 0,
};
let generation = 1000;

function readBody(req, onBody) {
  const parts = [];
  req.on('data', (chunk) => parts.push(chunk));
  req.on('end', () => onBody(parts.length === 1 ? parts[0] : Buffer.concat(parts)));
}

function send(res, status, text, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function countOf(buffer, needle) {
  let count = 0;
  let at = buffer.indexOf(needle);
  while (at !== -1) {
    count++;
    at = buffer.indexOf(needle, at + needle.length);
  }
  return count;
}

/** The data part of a multipart/related upload (metadata part first, media part second). */
function multipartParts(body, contentType) {
  const match = /boundary="?([^";]+)"?/i.exec(contentType || '');
  if (!match) return null;
  const delimiter = Buffer.from(`--${match[1]}`);
  const parts = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing "--"
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf('\r\n\r\n');
    let content = headerEnd === -1 ? part : part.subarray(headerEnd + 4);
    if (content.length >= 2 && content[content.length - 2] === 0x0d && content[content.length - 1] === 0x0a) {
      content = content.subarray(0, content.length - 2);
    }
    parts.push(content);
    at = next;
  }
  return parts;
}

function gcsUpload(req, res, bucket, url) {
  readBody(req, (body) => {
    let meta = {};
    let data = body;
    const type = url.searchParams.get('uploadType');
    if (type === 'multipart') {
      const parts = multipartParts(body, req.headers['content-type']);
      if (!parts || parts.length < 2) return send(res, 400, '{"error":{"code":400,"message":"bad multipart"}}');
      try {
        meta = JSON.parse(parts[0].toString('utf8'));
      } catch {
        meta = {};
      }
      data = parts[1];
    } else if (type !== 'media') {
      return send(res, 400, `{"error":{"code":400,"message":"unsupported uploadType ${type}"}}`);
    }
    const crc = new CRC32C();
    crc.update(data);
    stats.gcs_uploads++;
    stats.gcs_lines += countOf(data, '\n');
    const now = new Date().toISOString();
    const name = meta.name || url.searchParams.get('name') || 'object';
    generation++;
    send(
      res,
      200,
      JSON.stringify({
        kind: 'storage#object',
        id: `${bucket}/${name}/${generation}`,
        name,
        bucket,
        generation: String(generation),
        metageneration: '1',
        contentType: meta.contentType || 'application/octet-stream',
        size: String(data.length),
        md5Hash: createHash('md5').update(data).digest('base64'),
        crc32c: crc.toString(),
        timeCreated: now,
        updated: now,
        metadata: meta.metadata || {},
      }),
    );
  });
}

const up = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const path = url.pathname;
  if (req.method === 'GET' && path === '/__stats') {
    req.resume();
    return send(res, 200, JSON.stringify(stats));
  }
  if (req.method === 'POST' && path.endsWith('/api/public/ingestion')) {
    return readBody(req, (body) => {
      let batch = [];
      try {
        batch = JSON.parse(body.toString('utf8')).batch || [];
      } catch {
        return send(res, 400, '{"message":"invalid json"}');
      }
      stats.langfuse_requests++;
      stats.langfuse_events += batch.length;
      const successes = new Array(batch.length);
      for (let i = 0; i < batch.length; i++) {
        if (batch[i].type === 'generation-create') stats.langfuse_generations++;
        successes[i] = { id: batch[i].id, status: 201 };
      }
      send(res, 207, JSON.stringify({ successes, errors: [] }));
    });
  }
  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
  if (req.method === 'POST' && upload) return gcsUpload(req, res, decodeURIComponent(upload[1]), url);
  if (req.method === 'POST' && path === '/self/v1/traces') {
    return readBody(req, (body) => {
      stats.self_trace_requests++;
      stats.self_trace_bytes += body.length;
      // An ExportTraceServiceResponse without partial success: the empty message, or `{}` in JSON.
      if (String(req.headers['content-type']).startsWith('application/x-protobuf')) {
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
        res.end();
      } else send(res, 200, '{}');
    });
  }
  if (req.method === 'POST' && path.endsWith('/v1/traces')) {
    return readBody(req, (body) => {
      stats.otlp_requests++;
      stats.otlp_spans += countOf(body, '"spanId"');
      send(res, 200, '{}');
    });
  }
  if (req.method === 'PUT' && /^\/[^/]+\/.+/.test(path)) {
    return readBody(req, (body) => {
      stats.s3_puts++;
      stats.s3_lines += countOf(body, '\n');
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"`, 'content-length': 0 });
      res.end();
    });
  }
  if (req.method === 'POST' && path.endsWith('/api/v2/logs')) {
    return readBody(req, () => {
      stats.datadog_requests++;
      send(res, 202, '{}');
    });
  }
  if (req.method === 'POST' && path === '/generic') {
    return readBody(req, () => {
      stats.generic_requests++;
      send(res, 200, '{}');
    });
  }
  stats.other_requests++;
  req.resume();
  send(res, 404, JSON.stringify({ error: { code: 404, message: `no route ${req.method} ${path}` } }));
});

const down = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    stats.down_requests++;
    send(res, 503, '{"message":"service unavailable (benchmark: destination down)"}');
  });
});

for (const server of [up, down]) {
  server.keepAliveTimeout = 600_000;
  server.headersTimeout = 605_000;
}
up.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  down.listen(Number(process.env.DOWN_PORT || 0), '127.0.0.1', () => {
    process.stdout.write(`READY ${up.address().port} ${down.address().port}\n`);
  });
});
process.on('SIGTERM', () => process.exit(0));
