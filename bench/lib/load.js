'use strict';
// Drives closed-loop HTTP load: wrk (-t1, Lua script for the POST) when it is installed, else autocannon in its
// own process. Both answer the same shape:
//   { tool, requests, seconds, rps, p50, p90, p99, max (ms), errors, non2xx }
const { spawn, spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

let wrkPath;
function hasWrk() {
  if (wrkPath === undefined) {
    if (process.env.BENCH_LOAD === 'autocannon') {
      wrkPath = null;
      return false;
    }
    const found = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
    wrkPath = found.status === 0 ? found.stdout.trim() : null;
  }
  return wrkPath !== null;
}

function toolName() {
  return hasWrk() ? 'wrk' : 'autocannon';
}

let scriptCounter = 0;
function luaString(value) {
  // A Lua long string cannot contain its own closing bracket; pick a level that does not occur.
  let level = '';
  while (value.includes(`]${level}]`) || value.endsWith(`]${level}`)) level += '=';
  return `[${level}[${value}]${level}]`;
}

function wrkScript(dir, { method, body, headers }) {
  const lines = [`wrk.method = ${luaString(method)}`];
  if (body !== undefined) lines.push(`wrk.body = ${luaString(body)}`);
  for (const [name, value] of Object.entries(headers)) lines.push(`wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`);
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'BENCHJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' +
      '"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f}\\n\',',
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))',
    'end',
  );
  const file = join(dir, `load-${process.pid}-${++scriptCounter}.lua`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function collect(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * One load run. `target`: { url, method, body, headers }. `connections`, `seconds`. `tmpDir` for the wrk script.
 */
async function runLoad({ target, connections, seconds, tmpDir }) {
  const method = target.method || 'POST';
  const headers = target.headers || {};
  if (hasWrk()) {
    const script = wrkScript(tmpDir, { method, body: target.body, headers });
    const child = spawn(wrkPath, ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, target.url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { code, out, err } = await collect(child);
    const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '));
    if (!line) throw new Error(`wrk failed (exit ${code}): ${err || out}`);
    const r = JSON.parse(line.slice('BENCHJSON '.length));
    const secondsRun = r.duration_us / 1e6;
    return {
      tool: 'wrk',
      requests: r.requests,
      seconds: secondsRun,
      rps: r.requests / secondsRun,
      p50: r.p50 / 1000,
      p90: r.p90 / 1000,
      p99: r.p99 / 1000,
      max: r.max / 1000,
      errors: r.connect + r.read + r.write + r.timeout,
      non2xx: r.status,
    };
  }
  const child = spawn(
    process.execPath,
    [join(__dirname, 'autocannon-child.js'), JSON.stringify({ url: target.url, method, headers, body: target.body, connections, duration: seconds })],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { code, out, err } = await collect(child);
  const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '));
  if (!line) throw new Error(`autocannon failed (exit ${code}): ${err || out}`);
  return { tool: 'autocannon', ...JSON.parse(line.slice('BENCHJSON '.length)) };
}

module.exports = { runLoad, hasWrk, toolName };
