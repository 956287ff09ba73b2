'use strict';
// CPU of the request body's depth and member check (src/common/json-limits.ts, issue 23) per body, in process,
// next to what JSON.parse of the same body costs: the scan runs once per request, before parsing. Needs a build (dist/).
//   node bench/json-limits-cost.js [CPU milliseconds per measurement, 1000; taken as 5 rounds of a fifth]
const { join } = require('node:path');
const { ROOT } = require('./lib/gatehouse');

const { findJsonLimitViolation } = require(join(ROOT, 'dist', 'src', 'common', 'json-limits.js'));
const LIMITS = { maxDepth: 128, maxMembers: 100_000 };
const windowMs = Number(process.argv[2] || 1000);

function chatBody(targetBytes) {
  const messages = [];
  let body = '';
  for (let i = 0; body.length < targetBytes; i++) {
    messages.push({ role: i % 2 ? 'assistant' : 'user', content: `Turn ${i}: please summarise the "quarterly report" [draft 3], {section 2}, with the numbers 1,234.56 and 7,890.12 — thanks!` });
    body = JSON.stringify({ model: 'gpt-4o', temperature: 0.2, messages });
  }
  return body;
}

function longChatBody(targetBytes) {
  const messages = [];
  let body = '';
  while (body.length < targetBytes) {
    messages.push({ role: 'user', content: 'Lorem ipsum dolor sit amet, "consectetur" [adipiscing] elit. '.repeat(50) });
    body = JSON.stringify({ model: 'gpt-4o', messages });
  }
  return body;
}

function toolBody(targetBytes) {
  let schema = { type: 'string', description: 'leaf' };
  for (let level = 0; level < 20; level++) schema = { type: 'array', items: { type: 'object', properties: { child: schema, note: { type: 'string' } }, required: ['child'] } };
  const tools = [];
  let body = '';
  for (let i = 0; body.length < targetBytes; i++) {
    tools.push({ type: 'function', function: { name: `tool_${i}`, description: 'a tool', parameters: schema } });
    body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], tools });
  }
  return body;
}

function tokenBody(targetBytes) {
  const input = [];
  let body = '';
  while (body.length < targetBytes) {
    for (let i = 0; i < 500; i++) input.push(Math.floor(Math.random() * 100_000));
    body = JSON.stringify({ model: 'text-embedding-3-small', input: [input] });
  }
  return body;
}

/** CPU µs per call of `fn` (process CPU time, not wall time: on a busy machine the wall clock also counts waiting), best of 5. */
function measure(fn) {
  for (let i = 0; i < 300; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    let calls = 0;
    const start = process.cpuUsage();
    let used = 0;
    while (used < windowMs * 200) {
      for (let i = 0; i < 20; i++) fn();
      calls += 20;
      const spent = process.cpuUsage(start);
      used = spent.user + spent.system;
    }
    best = Math.min(best, used / calls);
  }
  return best;
}

const cases = [
  ['chat, 100 bytes (the bench body)', JSON.stringify({ model: 'bench-gpt', messages: [{ role: 'user', content: 'Hello, how are you today?' }] })],
  ['chat, 1 kB', chatBody(1024)],
  ['chat, 100 kB', chatBody(100 * 1024)],
  ['chat, 100 kB of long messages (3 kB each)', longChatBody(100 * 1024)],
  ['chat + tool schemas nested 60 deep, 100 kB', toolBody(100 * 1024)],
  ['embedding token ids (no strings: the worst case), 100 kB', tokenBody(100 * 1024)],
];
console.log(`| body | bytes | scan µs | JSON.parse µs | scan / parse |`);
console.log(`|---|---:|---:|---:|---:|`);
for (const [name, text] of cases) {
  const bytes = Buffer.from(text);
  if (findJsonLimitViolation(bytes, LIMITS) !== null) throw new Error(`${name} is past the limits`);
  const scan = measure(() => findJsonLimitViolation(bytes, LIMITS));
  const parse = measure(() => JSON.parse(text));
  console.log(`| ${name} | ${bytes.length} | ${scan.toFixed(2)} | ${parse.toFixed(2)} | ${((scan / parse) * 100).toFixed(0)} % |`);
}
