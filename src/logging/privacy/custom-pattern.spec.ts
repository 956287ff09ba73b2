import { compileCustomPattern, compileOutcome, customPatternProblem, MAX_PROGRAM_SIZE } from './custom-pattern';
import { compileOffThread } from './pattern-check-thread';

const REFUSED: ReadonlyArray<[pattern: string, reason: string]> = [
  ['(?<=id:)\\w+', 'uses a lookbehind (?<=…), which RE2 cannot run in linear time'],
  ['(?<!\\d)\\d{4}', 'uses a negative lookbehind (?<!…), which RE2 cannot run in linear time'],
  ['EMP-(?=\\d)\\d+', 'uses a lookahead (?=…), which RE2 cannot run in linear time'],
  ['\\d{4}(?!\\d)', 'uses a negative lookahead (?!…), which RE2 cannot run in linear time'],
  ['(a)\\1', 'uses a back-reference (\\1), which RE2 cannot run in linear time'],
  ['(?<q>a)\\k<q>', 'uses a named back-reference \\k<…>, which RE2 cannot run in linear time'],
  ['a++b', 'uses a possessive quantifier (++), which RE2 cannot run in linear time'],
  ['\\d{3}+x', 'uses a possessive quantifier ({3}+), which RE2 cannot run in linear time'],
  ['(?>ab|a)c', 'uses an atomic group (?>…), which RE2 cannot run in linear time'],
  ['caf\\u00e9', 'is not a valid RE2 regular expression: \\uXXXX is written \\x{XXXX} in RE2'],
  ['a[^]b', "is not a valid RE2 regular expression: JavaScript's [^] (any character) is written (?s:.) in RE2"],
  ['x{1001}', "is not a valid RE2 regular expression: a counted repetition {1001} over RE2's limit of 1000"],
  ['(?:a{100}){100}', "is not a valid RE2 regular expression: a counted repetition {100} over RE2's limit of 1000"],
  ['[unclosed', 'is not a valid RE2 regular expression: missing closing ]: `[unclosed`'],
  ['.{600}', `compiles to 602 RE2 instructions, more than ${MAX_PROGRAM_SIZE}`],
  ['', 'is empty'],
  ['x'.repeat(501), 'is longer than 500 characters'],
];

const ACCEPTED = [
  'EMP-\\d{6}',
  'CUST[0-9]{8}',
  '(?:foo|bar)-\\d+',
  '\\b[A-Z]{3}-\\d{4}\\b',
  '(?<id>ORD)-\\d+',
  '(?P<id>ORD)-\\d+',
  '(?i)customer[ _-]?id[:#]?\\s*\\d{6,10}',
  'sk_(?:live|test)_[A-Za-z0-9]{24,99}',
  // Catastrophic for a backtracking engine, linear for RE2 (timed below).
  '(a+)+$',
  '(a|aa)+$',
];

describe('custom masking patterns on RE2', () => {
  it.each(REFUSED)('refuses %s, naming why', (pattern, reason) => {
    expect(customPatternProblem(pattern)).toContain(reason);
  });

  it.each(ACCEPTED)('accepts %s', (pattern) => {
    expect(customPatternProblem(pattern)).toBeNull();
  });

  it('the pattern-check thread gives the same outcome as compiling here, for every case', async () => {
    const sources = [...REFUSED, ...ACCEPTED.map((pattern) => [pattern, ''] as const)].map(([pattern]) => pattern).filter((pattern) => pattern !== '');
    expect(await compileOffThread(sources)).toEqual(sources.map(compileOutcome));
  });

  it('answers concurrent checks each with its own outcomes', async () => {
    const [first, second] = await Promise.all([compileOffThread(['EMP-\\d{6}']), compileOffThread(['(?<=x)y', 'a'])]);
    expect(first).toEqual([{ programSize: 12 }]);
    expect(second.map((outcome) => 'programSize' in outcome)).toEqual([false, true]);
  });

  it('a pattern over the program budget is never compiled for masking either', () => {
    expect(() => compileCustomPattern('.{600}')).toThrow('602 RE2 instructions');
    expect(() => compileCustomPattern('(?<=id:)\\w+')).toThrow();
  });

  it.each(['(a+)+$', '(a|aa)+$', '^(\\w+\\s?)*$'])('%s masks in time linear in the text (40 kB vs 160 kB, matching or not)', (pattern) => {
    const regex = compileCustomPattern(pattern);
    const mask = (text: string) => (regex.test(text) ? regex.matcher(text).replaceAll('[X]') : text);
    const time = (text: string): number => {
      mask(text);
      let best = Infinity;
      for (let run = 0; run < 3; run++) {
        const start = process.hrtime.bigint();
        mask(text);
        best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
      }
      return best;
    };
    // Ending in `!` nothing matches (the DFA says so in one pass); without it the whole run is one match.
    for (const [unit, tail] of [['a', '!'], ['a', ''], ['ab ', '!'], ['ab ', '']]) {
      const small = time(unit.repeat(40_000 / unit.length) + tail);
      const large = time(unit.repeat(160_000 / unit.length) + tail);
      // 4× the text: linear is ~4× the time; a backtracking engine would not finish at all. Allow for noise.
      expect([unit, tail, large < Math.max(small, 1) * 12 && large < 1000]).toEqual([unit, tail, true]);
    }
    expect(mask('aaaa')).toBe('[X]');
  });
});
