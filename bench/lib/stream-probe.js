'use strict';
// Streaming at concurrency 1: sequential `"stream": true` requests over one keep-alive connection, timing
// each from the request's start to the first content token (TTFT: the first body bytes that carry the first
// content delta, ` tok0`) and to the end of the stream. Runs in the benchmark's own process, which is idle
// otherwise while it runs.
const http = require('node:http');

const FIRST_TOKEN = Buffer.from(' tok0');

function oneStream(agent, url, headers, payload) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    let ttft = null;
    let seen = Buffer.alloc(0);
    let chunks = 0;
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': payload.length } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode}`)));
        return;
      }
      res.on('data', (chunk) => {
        chunks++;
        if (ttft === null) {
          seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
          if (seen.includes(FIRST_TOKEN)) {
            ttft = Number(process.hrtime.bigint() - start) / 1e6;
            seen = null;
          }
        }
      });
      res.on('end', () => {
        const total = Number(process.hrtime.bigint() - start) / 1e6;
        if (ttft === null) reject(new Error('stream ended without the first token'));
        else resolve({ ttft, total, reads: chunks });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Streams back to back for `seconds`; returns per-request arrays of ttft and total (ms) and the count. */
async function streamLoop({ url, headers, body, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const payload = Buffer.from(body);
  const allHeaders = { 'content-type': 'application/json', ...headers };
  const ttft = [];
  const total = [];
  let reads = 0;
  let errors = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();
  while (Date.now() < deadline) {
    try {
      const r = await oneStream(agent, url, allHeaders, payload);
      ttft.push(r.ttft);
      total.push(r.total);
      reads += r.reads;
    } catch {
      errors++;
      if (errors > 20 && ttft.length === 0) break;
    }
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { requests: ttft.length, seconds: elapsed, ttft, total, reads, errors };
}

module.exports = { streamLoop };
