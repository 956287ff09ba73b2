'use strict';

function sorted(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
}

function median(values) {
  const s = sorted(values);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of a list. */
function percentile(values, p) {
  const s = sorted(values);
  if (s.length === 0) return null;
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

/** { median, min, max, n } of a list (nulls ignored). */
function summary(values) {
  const s = sorted(values);
  if (s.length === 0) return { median: null, min: null, max: null, n: 0 };
  return { median: median(s), min: s[0], max: s[s.length - 1], n: s.length };
}

module.exports = { median, percentile, summary };
