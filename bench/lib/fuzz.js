'use strict';
// `npm run bench -- --fuzz [N]`: the suite's fuzz spec (test/e2e/fuzz.e2e-spec.ts) at N requests per phase: in process
// (every refused request checked to change no row) and against the real process (checked to stay up). Jest runs it,
// so the generators and the checks are the ones CI runs; only the count and the report file differ.
const { spawnSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { ROOT } = require('./gatehouse');

function runFuzz({ requests, seed, reportFile }) {
  const jest = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
  const env = { ...process.env, FUZZ_REQUESTS: String(requests), FUZZ_SEED: String(seed), FUZZ_REPORT: reportFile };
  const started = Date.now();
  const run = spawnSync(process.execPath, [jest, '--runInBand', '--selectProjects', 'e2e', '--', 'test/e2e/fuzz.e2e-spec.ts'], { cwd: ROOT, env, stdio: 'inherit' });
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  return { kind: 'fuzz', passed: run.status === 0, seconds: (Date.now() - started) / 1000, database: process.env.DATABASE_URL ? 'postgres' : 'pglite', ...report };
}

function renderFuzz(result) {
  const statuses = [...new Set(Object.values(result.phases).flatMap((phase) => Object.keys(phase.byStatus)))].sort();
  const rows = Object.entries(result.phases).map(
    ([name, phase]) => `| ${name} | ${phase.requests} | ${statuses.map((status) => phase.byStatus[status] ?? 0).join(' | ')} | ${phase.seconds.toFixed(1)} |`,
  );
  return [
    `# Gatehouse fuzz — ${result.machine.date}`,
    '',
    `Seed ${result.seed}, ${result.runsPerPhase} generated requests per phase (test/e2e/fuzz.e2e-spec.ts), database ${result.database}: ` +
      `${result.passed ? 'passed' : 'FAILED'} (no answer ≥ 500, every 4xx in the OpenAI envelope, no row changed by a 4xx, the process alive).`,
    '',
    `| phase | requests | ${statuses.join(' | ')} | seconds |`,
    `|---|---:|${statuses.map(() => '---:').join('|')}|---:|`,
    ...rows,
    '',
  ].join('\n');
}

module.exports = { runFuzz, renderFuzz };
