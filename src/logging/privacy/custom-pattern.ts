import { RE2JS, RE2JSSyntaxException } from 're2js';

/**
 * A team's or key's own masking patterns run on RE2 (the `re2js` port): matching takes time linear in the text,
 * whatever the pattern, so no pattern has to be tried out before it is accepted. RE2 refuses what it cannot run
 * that way (lookaround, back-references, possessive and atomic constructs) and this module says which one.
 */

export const MAX_PATTERN_LENGTH = 500;
/**
 * RE2's matching cost per character grows with the compiled program: `EMP-\d{6}` is 12 instructions,
 * `[A-Za-z0-9]{24,99}` about 190, `.{1000}` over 1000. Above this a pattern is refused (and not run).
 */
export const MAX_PROGRAM_SIZE = 500;

/** What compiling one pattern gave: its program size, or RE2's syntax error (`error` is its kind). */
export type CompileOutcome = { readonly programSize: number } | { readonly error: string; readonly fragment: string; readonly message: string };

/** Compiles a pattern for masking; throws on one that RE2 refuses or that is over the program budget. */
export function compileCustomPattern(source: string): RE2JS {
  const compiled = RE2JS.compile(source);
  const size = compiled.programSize();
  if (size > MAX_PROGRAM_SIZE) throw new Error(`pattern compiles to ${size} RE2 instructions, more than ${MAX_PROGRAM_SIZE}`);
  return compiled;
}

/** Compiles here, on the calling thread. The API does the same off the request loop (pattern-check-thread.ts). */
export function compileOutcome(source: string): CompileOutcome {
  try {
    return { programSize: RE2JS.compile(source).programSize() };
  } catch (error) {
    if (error instanceof RE2JSSyntaxException) return { error: error.error, fragment: error.input ?? '', message: error.message };
    return { error: '', fragment: '', message: (error as Error).message };
  }
}

/** Why a pattern is refused before it is compiled, or null. */
export function shapeProblem(source: string): string | null {
  if (source.length === 0) return 'is empty';
  if (source.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  return null;
}

/** Why a compiled pattern is refused, or null when it may run on every logged message. */
export function outcomeProblem(outcome: CompileOutcome): string | null {
  if ('programSize' in outcome) {
    if (outcome.programSize <= MAX_PROGRAM_SIZE) return null;
    return `compiles to ${outcome.programSize} RE2 instructions, more than ${MAX_PROGRAM_SIZE} (matching costs grow with it); use smaller counted repetitions like {1,64}`;
  }
  const construct = notLinear(outcome);
  if (construct !== null) return `uses ${construct}, which RE2 cannot run in linear time`;
  return `is not a valid RE2 regular expression: ${jsHint(outcome) ?? outcome.message.replace(/^error parsing regexp: /, '')}`;
}

/** Every check at once, on the calling thread: for config.yaml at boot, when no request is being served. */
export function customPatternProblem(source: string): string | null {
  return shapeProblem(source) ?? outcomeProblem(compileOutcome(source));
}

/** RE2 stops at the first construct it cannot run; `fragment` is where. */
const NOT_LINEAR: ReadonlyArray<readonly [kind: string, fragment: RegExp, name: string]> = [
  ['invalid named capture', /^\(\?<=/, 'a lookbehind (?<=…)'],
  ['invalid named capture', /^\(\?<!/, 'a negative lookbehind (?<!…)'],
  ['invalid or unsupported Perl syntax', /^\(\?=/, 'a lookahead (?=…)'],
  ['invalid or unsupported Perl syntax', /^\(\?!/, 'a negative lookahead (?!…)'],
  ['invalid or unsupported Perl syntax', /^\(\?>/, 'an atomic group (?>…)'],
  ['invalid escape sequence', /^\\[1-9]/, 'a back-reference'],
  ['invalid escape sequence', /^\\k/, 'a named back-reference \\k<…>'],
  ['invalid nested repetition operator', /^(?:[*+?]|\{\d+(?:,\d*)?\})\+$/, 'a possessive quantifier'],
];

function notLinear(outcome: { error: string; fragment: string }): string | null {
  const found = NOT_LINEAR.find(([kind, fragment]) => outcome.error === kind && fragment.test(outcome.fragment));
  if (found === undefined) return null;
  const [, , name] = found;
  return name.includes('…') ? name : `${name} (${outcome.fragment})`;
}

/** JavaScript spellings RE2 writes differently: say how, rather than only that the escape is invalid. */
function jsHint(outcome: { error: string; fragment: string }): string | null {
  if (outcome.error === 'invalid escape sequence' && outcome.fragment === '\\u') return '\\uXXXX is written \\x{XXXX} in RE2';
  if (outcome.error === 'invalid escape sequence' && outcome.fragment === '\\c') return 'control escapes \\cX are not supported; write \\x{01} … \\x{1A}';
  if (outcome.error === 'missing closing ]' && outcome.fragment.startsWith('[^]')) return "JavaScript's [^] (any character) is written (?s:.) in RE2";
  if (outcome.error === 'invalid repeat count') {
    const [min, max] = (outcome.fragment.match(/\d+/g) ?? []).map(Number);
    if (max !== undefined && min > max) return null;
    return `a counted repetition ${outcome.fragment} over RE2's limit of 1000 (nested ones count multiplied)`;
  }
  return null;
}
