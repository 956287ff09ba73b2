'use strict';
// Scenario 11: what PII masking with every detector costs the delivery thread per event, in process on the built
// masker (dist/), for a 4 kB conversation that holds a few values of each kind among ordinary prose.
const { join } = require('node:path');
const { ROOT } = require('./gatehouse');

const PROSE =
  'Thanks for getting back to me so quickly. I went through the onboarding checklist again this morning and most of it ' +
  'works now, but the export to the finance dashboard still fails after the second step, with the same timeout as last week. ';

/** A chat of system + 8 turns, ~4 kB of text, with personal data of each detector in a few of the turns. */
function conversation() {
  const pii = [
    'You can reach me at jane.doe@example-corp.com or +1 415-555-0132.',
    'The refund should go to DE89 3704 0044 0532 0130 00, not to the card 4111 1111 1111 1111.',
    'Our VPN exit is 203.0.113.42 (and 2001:db8:85a3::8a2e:370:7334 for v6).',
    'I pasted sk-proj-4f9Qk2LmN8pR1sT6uV3wX7yZ0aB5cD and AKIAIOSFODNN7EXAMPLE by mistake, please rotate them.',
  ];
  const messages = [{ role: 'system', content: 'You are a helpful support assistant for Example Corp. Answer briefly and politely.' }];
  for (let turn = 0; turn < 8; turn++) {
    const role = turn % 2 === 0 ? 'user' : 'assistant';
    messages.push({ role, content: `${PROSE}${PROSE.slice(0, 190)}${turn % 2 === 0 ? ` ${pii[turn / 2]}` : ''}` });
  }
  return messages;
}

function payload() {
  const messages = conversation();
  return {
    litellm_call_id: 'bench-call',
    status: 'success',
    messages,
    response: { id: 'chatcmpl-bench', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: PROSE }, finish_reason: 'stop' }] },
    error_str: null,
    error_information: null,
    metadata: {},
  };
}

/** Scenario 11's configuration: every detector and one custom pattern. */
function scenarioConfig(PII_DETECTORS) {
  return { detectors: PII_DETECTORS, patterns: [{ name: 'employee_id', regex: 'EMP-\\d{6}' }] };
}

/**
 * One run of at least `ms` milliseconds: wall µs and CPU µs (utime + stime of this process) per masked payload.
 * On a machine busy with other work the wall figure also counts time the process waited for a core; CPU much less.
 */
function timeMasking(masker, event, ms) {
  let n = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < BigInt(ms) * 1_000_000n) {
    for (let i = 0; i < 200; i++) masker.maskPayload(event);
    n += 200;
    elapsed = process.hrtime.bigint() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: Number(elapsed) / 1000 / n, cpu: (cpu.user + cpu.system) / n };
}

/** µs per masked payload (wall and CPU) over `reps` one-second runs (after a warm-up), and the conversation's size. */
function measureMasking(reps) {
  const { PiiMasker, PII_DETECTORS } = require(join(ROOT, 'dist', 'src', 'logging', 'privacy', 'pii-masker.js'));
  const masker = new PiiMasker(scenarioConfig(PII_DETECTORS));
  const event = payload();
  const bytes = Buffer.byteLength(JSON.stringify(event.messages));
  const masked = JSON.stringify(masker.maskPayload(event));
  for (const original of ['jane.doe@example-corp.com', '4111 1111 1111 1111', 'AKIAIOSFODNN7EXAMPLE']) {
    if (masked.includes(original)) throw new Error(`masking sanity check failed: ${original} survived`);
  }
  for (let i = 0; i < 2000; i++) masker.maskPayload(event);
  const runs = Array.from({ length: reps }, () => timeMasking(masker, event, 1000));
  return {
    conversation_bytes: bytes,
    detectors: PII_DETECTORS.length,
    custom_patterns: 1,
    us_per_event: runs.map((run) => run.wall),
    cpu_us_per_event: runs.map((run) => run.cpu),
  };
}

module.exports = { measureMasking, payload, scenarioConfig, timeMasking };
