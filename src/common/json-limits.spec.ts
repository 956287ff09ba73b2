import fc from 'fast-check';
import { AppException } from '../errors';
import { assertJsonWithinLimits, findJsonLimitViolation, type JsonLimits } from './json-limits';

const LIMITS: JsonLimits = { maxDepth: 4, maxMembers: 3 };

function scan(text: string, limits: JsonLimits = LIMITS) {
  return findJsonLimitViolation(Buffer.from(text, 'utf8'), limits);
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

describe(findJsonLimitViolation.name, () => {
  it.each([
    ['empty body', ''],
    ['a scalar', '42'],
    ['exactly the depth limit', '{"a":{"b":[[1]]}}'],
    ['exactly the member limit', '{"a":1,"b":[1,2,3],"c":{"x":1,"y":2,"z":3}}'],
    ['siblings at the limit, one after another', '[[[[1]]],[[[2]]],[[[3]]]]'],
  ])('accepts %s', (_name, text) => {
    expect(scan(text)).toBeNull();
  });

  it('counts depth across arrays and objects alike', () => {
    expect(scan('{"a":{"b":[[[1]]]}}')).toEqual({ kind: 'depth', offset: 12 });
    expect(scan(nested(5))).toEqual({ kind: 'depth', offset: 4 });
  });

  it('counts members per container, not per body', () => {
    expect(scan('[1,2,3,4]')).toEqual({ kind: 'members', offset: 6 });
    expect(scan('{"a":1,"b":2,"c":3,"d":4}')).toEqual({ kind: 'members', offset: 18 });
    // Three containers of three members each: each container is within the limit.
    expect(scan('[[1,2,3],[1,2,3],[1,2,3]]')).toBeNull();
    // A container's count restarts when a new one opens at the same depth.
    expect(scan('[[1,2,3],[4,5,6,7]]')).toEqual({ kind: 'members', offset: 15 });
  });

  it('ignores brackets, commas and escaped quotes inside strings', () => {
    expect(scan(JSON.stringify({ text: `${nested(50)},,,,,,` }))).toBeNull();
    expect(scan(JSON.stringify({ text: 'say \\"[[[[[[[[\\" and \\\\', next: 'ok' }))).toBeNull();
    expect(scan(JSON.stringify([['a\\'], ['b"[[[[[['], ['c']]))).toBeNull();
    // After a string that ends in an escaped backslash, the next bracket counts again.
    expect(scan(`["\\\\",${nested(4)}]`)).toEqual({ kind: 'depth', offset: 9 });
  });

  it('is not fooled by multi-byte UTF-8 characters', () => {
    expect(scan(JSON.stringify({ text: '日本語 ✓ 😀 [[[[[[', other: ['é', 'ß', '€'] }))).toBeNull();
  });

  it('skips # comments as the lenient retry does', () => {
    expect(scan('{\n  # a comment with [[[[[[ and , , , and a " quote\n  "a": 1\n}')).toBeNull();
  });

  it('gives a bound for malformed input instead of failing', () => {
    expect(scan('"unterminated [[[[[[[')).toBeNull();
    expect(scan(']]]]]]' + nested(4))).toBeNull();
    expect(scan(nested(10).slice(0, 7))).toEqual({ kind: 'depth', offset: 4 });
  });

  it('skips long strings (past the byte-by-byte stretch) with escapes on either side of it', () => {
    for (const at of [60, 62, 63, 64, 65, 66, 127, 128, 129]) {
      const text = `${'a'.repeat(at)}\\"[[[[[[\\\\${'b'.repeat(70)}\\"]]]`;
      expect([at, scan(JSON.stringify({ text, next: [[1]] }))]).toEqual([at, null]);
      expect([at, scan(`${JSON.stringify([text])}`.replace(/]$/, `,${nested(4)}]`))]).toEqual([at, expect.objectContaining({ kind: 'depth' })]);
    }
  });

  it('agrees with the parsed value on any JSON (property: generated values, fixed seed)', () => {
    const measured = (value: unknown, depth = 0): { depth: number; members: number } => {
      if (value === null || typeof value !== 'object') return { depth, members: 0 };
      const children = Object.values(value as Record<string, unknown>);
      return children.map((child) => measured(child, depth + 1)).reduce((a, b) => ({ depth: Math.max(a.depth, b.depth), members: Math.max(a.members, b.members) }), { depth: depth + 1, members: children.length });
    };
    const text = fc.string({ unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', '#', 'a', ' ', 'é', '\n'), maxLength: 140 });
    const value = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof({ depthSize: 'medium' }, fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null)), fc.array(tie('value'), { maxLength: 6 }), fc.dictionary(text, tie('value'), { maxKeys: 6 })),
    })).value;
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 7 }), (generated, maxDepth, maxMembers) => {
        const { depth, members } = measured(generated);
        const violation = findJsonLimitViolation(Buffer.from(JSON.stringify(generated)), { maxDepth, maxMembers });
        expect(violation === null).toBe(depth <= maxDepth && members <= maxMembers);
        if (violation?.kind === 'depth') expect(depth).toBeGreaterThan(maxDepth);
      }),
      { seed: 23, numRuns: 2000 },
    );
  });

  it('finds 5,000 levels in the first bytes of a 100 kB body', () => {
    const body = `{"model":"gpt-4","messages":[{"role":"user","content":"hi"}],"deep":${nested(5000)}}`;
    const violation = findJsonLimitViolation(Buffer.from(body), { maxDepth: 128, maxMembers: 100_000 });
    expect(violation).toEqual({ kind: 'depth', offset: body.indexOf('[[') + 127 });
  });

  it('accepts a realistic chat body under the default limits', () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let level = 0; level < 20; level++) schema = { type: 'array', items: { type: 'object', properties: { child: schema } } };
    const body = {
      model: 'gpt-4o',
      messages: Array.from({ length: 5_000 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: `turn ${i}, [with brackets]` }] })),
      tools: [{ type: 'function', function: { name: 'deep', parameters: schema } }],
    };
    expect(findJsonLimitViolation(Buffer.from(JSON.stringify(body)), { maxDepth: 128, maxMembers: 100_000 })).toBeNull();
  });
});

describe(assertJsonWithinLimits.name, () => {
  it('throws a 400 invalid_request_error with its own code for each limit', () => {
    const deep = () => assertJsonWithinLimits(Buffer.from(nested(5)), LIMITS);
    expect(deep).toThrow(AppException);
    expect(deep).toThrow('more than 4 levels deep (at byte 4)');
    try {
      deep();
    } catch (error) {
      expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'json_too_deep' });
    }
    try {
      assertJsonWithinLimits(Buffer.from('[1,2,3,4]'), LIMITS);
      throw new Error('not thrown');
    } catch (error) {
      expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'json_too_many_members' });
      expect((error as Error).message).toBe('An object or array in the request body has more than 3 members (at byte 6)');
    }
  });

  it('passes a body within the limits', () => {
    expect(() => assertJsonWithinLimits(Buffer.from('{"a":[1,2]}'), LIMITS)).not.toThrow();
  });
});
