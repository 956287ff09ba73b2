import { fillWildcards, isModelPattern, ModelPattern } from './model-pattern';

describe(ModelPattern.name, () => {
  it('matches the whole name, each `*` taking any run of characters', () => {
    expect(new ModelPattern('*').match('gpt-4o')).toEqual(['gpt-4o']);
    expect(new ModelPattern('anthropic/*').match('anthropic/claude-x')).toEqual(['claude-x']);
    expect(new ModelPattern('anthropic/*').match('openai/gpt-4')).toBeNull();
    expect(new ModelPattern('gpt-4*').match('gpt-4o-mini')).toEqual(['o-mini']);
    expect(new ModelPattern('gpt-4*').match('gpt-4')).toEqual(['']);
    expect(new ModelPattern('gpt-4*').match('xgpt-4o')).toBeNull();
    expect(new ModelPattern('fo::*::static::*').match('fo::hi::static::there')).toEqual(['hi', 'there']);
  });

  it('takes the other characters literally', () => {
    expect(new ModelPattern('gpt-4.1*').matches('gpt-4x1-mini')).toBe(false);
    expect(new ModelPattern('a+b(*)').matches('a+b(c)')).toBe(true);
    expect(new ModelPattern('x*').matches('x\ny')).toBe(true);
  });

  it('counts the literal characters for specificity', () => {
    expect(new ModelPattern('*').literalLength).toBe(0);
    expect(new ModelPattern('claude-*').literalLength).toBe(7);
    expect(isModelPattern('claude-*')).toBe(true);
    expect(isModelPattern('claude-3')).toBe(false);
  });
});

describe(fillWildcards.name, () => {
  it('fills the template as LiteLLM does', () => {
    expect(fillWildcards('*', ['gpt-4o'], 'gpt-4o')).toBe('gpt-4o');
    expect(fillWildcards('gpt-4*', ['o'], 'gpt-4o')).toBe('gpt-4o');
    expect(fillWildcards('fo::*::static::*', ['a', 'b'], 'x')).toBe('fo::a::static::b');
    expect(fillWildcards('gpt-4o', ['anything'], 'gpt-4-turbo')).toBe('gpt-4o');
    expect(fillWildcards('meta.llama3*', ['hello-', '-70b'], 'hello-meta.llama3-70b')).toBe('hello-meta.llama3-70b');
  });
});

describe('ModelPattern against long names', () => {
  it('answers in linear time for a pattern with many `*`s', () => {
    const pattern = new ModelPattern('*a*a*a*a*a*a*a*a*b');
    const started = process.hrtime.bigint();
    expect(pattern.matches('a'.repeat(100_000))).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
  });

  it('lets each `*` take as much as it can, left first, as a greedy regex does', () => {
    expect(new ModelPattern('*-*').match('a-b-c')).toEqual(['a-b', 'c']);
    expect(new ModelPattern('x*y*z').match('xayby-z')).toEqual(['ayb', '-']);
    expect(new ModelPattern('ab*ba').match('aba')).toBeNull();
    expect(new ModelPattern('ab*ba').match('abba')).toEqual(['']);
  });
});

describe('ModelPattern literals that would overlap', () => {
  it('does not place two literals over each other', () => {
    expect(new ModelPattern('*ab*ba').match('aba')).toBeNull();
    expect(new ModelPattern('*abc*bcd').match('abcd')).toBeNull();
    expect(new ModelPattern('*abc*bcd').match('abcbcd')).toEqual(['', '']);
  });
});
