'use strict';
// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per package/area.

function area(url) {
  if (!url) return '(native / V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = url.indexOf('/dist/src/');
  if (src !== -1) return `gatehouse ${url.slice(src + '/dist/'.length)}`;
  return url.replace(/^file:\/\//, '');
}

/** `window`: [fromUs, toUs] on the profile's clock (CLOCK_MONOTONIC µs): only samples inside count. */
function summarizeProfile(profile, { top = 30, window = null } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas || [];
  let total = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = deltas[i] ?? 0;
    t += dt;
    if (window && (t < window[0] || t > window[1])) continue;
    total += dt;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
  }
  const fn = new Map();
  const areas = new Map();
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const label = `${cf.functionName || '(anonymous)'} ${cf.url ? `${area(cf.url)}:${cf.lineNumber + 1}` : ''}`.trim();
    fn.set(label, (fn.get(label) ?? 0) + us);
    const a = cf.url ? area(cf.url) : cf.functionName.startsWith('(') ? cf.functionName : '(native / V8)';
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us) => ((us / busy) * 100).toFixed(1);
  const topFns = [...fn.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const topAreas = [...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
  const lines = [];
  lines.push(`Profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(0)} %). Shares are of busy time.`);
  lines.push('');
  lines.push('| self % | function (file:line) |');
  lines.push('|---:|---|');
  for (const [label, us] of topFns) lines.push(`| ${pct(us)} | \`${label}\` |`);
  lines.push('');
  lines.push('| self % | package / area |');
  lines.push('|---:|---|');
  for (const [label, us] of topAreas) lines.push(`| ${pct(us)} | ${label} |`);
  lines.push('');
  return {
    busy_us: busy,
    idle_us: idle,
    functions: topFns.map(([label, us]) => ({ label, self_pct: Number(pct(us)) })),
    areas: topAreas.map(([label, us]) => ({ label, self_pct: Number(pct(us)) })),
    text: `${lines.join('\n')}\n`,
  };
}

module.exports = { summarizeProfile };

if (require.main === module) {
  const { readFileSync } = require('node:fs');
  process.stdout.write(summarizeProfile(JSON.parse(readFileSync(process.argv[2], 'utf8')), { top: Number(process.argv[3]) || 30 }).text);
}
