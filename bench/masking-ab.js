'use strict';
// PII masking of two builds side by side, interleaved in one process (scenario 11's conversation), so a machine busy
// with other work slows both alike: `node bench/masking-ab.js A/dist B/dist [reps]`. Prints wall and CPU µs per event
// (medians, min–max) for scenario 11's configuration and for 2 and 20 custom patterns.
const { resolve, join } = require('node:path');
const { payload, scenarioConfig, timeMasking } = require('./lib/masking-cost');
const { summary } = require('./lib/stats');

const [distA, distB, repsArg] = process.argv.slice(2);
if (!distA || !distB) {
  console.error('usage: node bench/masking-ab.js A/dist B/dist [reps]');
  process.exit(2);
}
const reps = Number(repsArg ?? 7);
const builds = Object.fromEntries([distA, distB].map((dist) => [dist, require(join(resolve(dist), 'src', 'logging', 'privacy', 'pii-masker.js'))]));

const TWENTY = ['EMP-\\d{6}', 'CUST[0-9]{8}', '\\bORD-[A-Z]{2}\\d{7}\\b', 'TKT#\\d{5,8}', '\\b[A-Z]{3}-\\d{4}\\b', 'INV/\\d{4}/\\d{6}', 'acct_[a-z0-9]{12}', 'PN\\d{9}', '\\bSSN:? ?\\d{3}-\\d{2}-\\d{4}\\b', '(?:badge|BADGE)\\s?\\d{5}', 'U[0-9A-F]{10}', 'CLM-\\d{4}-\\d{5}', 'patient_id=\\w+', '\\bMRN\\d{7}\\b', 'VIN[A-HJ-NPR-Z0-9]{17}', 'LIC-[A-Z]\\d{7}', 'DL\\d{8}', '\\bPO-\\d{6}\\b', 'loyalty#\\d{10}', '(?:foo|bar)-\\d+'].map((regex, index) => ({ name: `p${index}`, regex }));
const CONFIGS = {
  'scenario 11: all detectors + EMP-\\d{6}': (build) => scenarioConfig(build.PII_DETECTORS),
  '2 custom patterns, no detector': () => ({ detectors: [], patterns: TWENTY.slice(0, 2) }),
  '20 custom patterns, no detector': () => ({ detectors: [], patterns: TWENTY }),
  'all detectors + 20 custom patterns': (build) => ({ detectors: build.PII_DETECTORS, patterns: TWENTY }),
};

const event = payload();
const shown = (values) => {
  const s = summary(values);
  return `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
};
for (const [label, config] of Object.entries(CONFIGS)) {
  const maskers = Object.entries(builds).map(([dist, build]) => ({ dist, masker: new build.PiiMasker(config(build)), runs: [] }));
  for (const entry of maskers) timeMasking(entry.masker, event, 300);
  for (let rep = 0; rep < reps; rep++) {
    for (const entry of rep % 2 === 0 ? maskers : [...maskers].reverse()) entry.runs.push(timeMasking(entry.masker, event, 700));
  }
  console.log(label);
  for (const { dist, runs } of maskers) console.log(`  ${dist}: wall ${shown(runs.map((run) => run.wall))} µs, CPU ${shown(runs.map((run) => run.cpu))} µs per event`);
}
