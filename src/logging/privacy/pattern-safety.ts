import { Worker } from 'node:worker_threads';

export const MAX_PATTERN_LENGTH = 500;
/** What one pattern may take over all probe texts (~5 kB each) before it is refused as too slow. */
const PROBE_BUDGET_MS = 100;
const PROBE_STARTUP_MS = 5000;

/**
 * Why a custom masking pattern is refused, or null when it is safe to run on every logged message. Patterns run
 * on the delivery thread over text the callers choose, so one with catastrophic backtracking would stall every
 * team's delivery: refused are patterns that do not compile, back-references, a repeated group that itself
 * repeats (`(a+)+`, star height above one) and, measured, any pattern that takes too long on probe texts built
 * from its own characters (which catches `(a|a)*` and friends).
 */
export function unsafePatternReason(source: string): string | null {
  if (source.length === 0) return 'is empty';
  if (source.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  const compiled = compileProblem(source);
  if (compiled !== null) return compiled;
  const structural = structuralProblem(source);
  if (structural !== null) return structural;
  return probeProblem(source);
}

export function compileProblem(source: string): string | null {
  try {
    new RegExp(source, 'g');
    return null;
  } catch (error) {
    return `is not a valid regular expression: ${(error as Error).message}`;
  }
}

interface Group {
  repeatsInside: boolean;
}

/** One pass over the pattern's syntax: escapes, character classes, groups and quantifiers. */
function structuralProblem(source: string): string | null {
  const stack: Group[] = [{ repeatsInside: false }];
  let i = 0;
  const quantifierAt = (at: number): { length: number; repeats: boolean } | null => {
    const char = source[at];
    if (char === '*' || char === '+') return { length: 1, repeats: true };
    if (char === '?') return { length: 1, repeats: false };
    if (char === '{') {
      const counted = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at));
      if (counted === null) return null;
      const max = counted[2] === undefined ? Number(counted[1]) : counted[3] === '' ? Infinity : Number(counted[3]);
      return { length: counted[0].length, repeats: max > 1 };
    }
    return null;
  };
  const afterAtom = (at: number, atomRepeatsInside: boolean): string | null => {
    const quantifier = quantifierAt(at);
    if (quantifier === null) {
      if (atomRepeatsInside) stack[stack.length - 1].repeatsInside = true;
      i = at;
      return null;
    }
    if (quantifier.repeats && atomRepeatsInside) return 'repeats a group that itself repeats (like `(a+)+`): catastrophic backtracking';
    if (quantifier.repeats || atomRepeatsInside) stack[stack.length - 1].repeatsInside = true;
    i = at + quantifier.length;
    if (source[i] === '?' || source[i] === '+') i++; // lazy (or possessive-looking) suffix
    return null;
  };
  while (i < source.length) {
    const char = source[i];
    let problem: string | null = null;
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'uses a back-reference, which can backtrack without bound';
      problem = afterAtom(i + 2, false);
    } else if (char === '[') {
      let end = i + 1;
      if (source[end] === '^') end++;
      if (source[end] === ']') end++;
      while (end < source.length && source[end] !== ']') end += source[end] === '\\' ? 2 : 1;
      problem = afterAtom(end + 1, false);
    } else if (char === '(') {
      stack.push({ repeatsInside: false });
      i++;
      if (source[i] === '?') {
        // (?: (?= (?! (?<= (?<! (?<name>
        i++;
        if (source[i] === '<' && source[i + 1] !== '=' && source[i + 1] !== '!') {
          while (i < source.length && source[i] !== '>') i++;
        }
        i++;
      }
    } else if (char === ')') {
      const group = stack.length > 1 ? (stack.pop() as Group) : { repeatsInside: false };
      problem = afterAtom(i + 1, group.repeatsInside);
    } else {
      problem = afterAtom(i + 1, false);
    }
    if (problem !== null) return problem;
  }
  return null;
}

/** The probe runs in a throw-away thread, so a pattern that never finishes is cut off rather than waited for. */
const PROBE_SOURCE = `
const { workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
const regex = new RegExp(workerData.source, 'g');
const literal = workerData.source.replace(/\\\\[dDwWsSbB]|[\\\\^$.*+?()[\\]{}|]/g, '') || 'a';
const probes = [];
for (const unit of [literal, 'a', '0', ' ', 'aA0_-.@', literal + ' ']) probes.push(unit.repeat(Math.ceil(5000 / unit.length)) + '\\u0000!');
Atomics.store(state, 0, 1);
Atomics.notify(state, 0);
for (const text of probes) { regex.lastIndex = 0; text.replace(regex, ''); }
Atomics.store(state, 0, 2);
Atomics.notify(state, 0);
`;

function probeProblem(source: string): string | null {
  const shared = new SharedArrayBuffer(4);
  const state = new Int32Array(shared);
  const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: { source, state: shared } });
  try {
    // Blocking on purpose: config is read synchronously at boot, and the API caller waits for its 400 either way.
    if (Atomics.wait(state, 0, 0, PROBE_STARTUP_MS) === 'timed-out') return 'could not be checked (the probe thread did not start); try again';
    if (Atomics.load(state, 0) === 2 || Atomics.wait(state, 0, 1, PROBE_BUDGET_MS) !== 'timed-out') return null;
    return `takes more than ${PROBE_BUDGET_MS} ms on a 5 kB probe text (catastrophic backtracking); simplify it`;
  } finally {
    void worker.terminate();
  }
}
