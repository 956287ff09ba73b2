import { ModelAccess } from './model-access';

describe(ModelAccess.name, () => {
  it('is null when nothing restricts: empty lists, `*`, all-proxy-models', () => {
    expect(ModelAccess.of([], [])).toBeNull();
    expect(ModelAccess.of(['*'], [])).toBeNull();
    expect(ModelAccess.of([], ['all-proxy-models'])).toBeNull();
    expect(ModelAccess.of(['*'], ['all-proxy-models'])).toBeNull();
  });

  it('allows names and patterns, a bare name also by its inferred provider', () => {
    const access = ModelAccess.of(['anthropic/*', 'gpt-4o', 'claude-*'], [])!;
    expect(access.allows('anthropic/claude-x')).toBe(true);
    expect(access.allows('gpt-4o')).toBe(true);
    expect(access.allows('claude-3-haiku')).toBe(true);
    expect(access.allows('gpt-4')).toBe(false);
    expect(access.allows('openai/gpt-4o')).toBe(false);
    // LiteLLM reads a bare Claude name as Anthropic's, so `anthropic/*` covers it.
    expect(ModelAccess.of(['anthropic/*'], [])!.allows('claude-sonnet-4-5')).toBe(true);
    expect(ModelAccess.of(['openai/*'], [])!.allows('gpt-4o')).toBe(true);
    expect(ModelAccess.of(['openai/*'], [])!.allows('claude-sonnet-4-5')).toBe(false);
  });

  it('needs both the key and the team list when both restrict', () => {
    const access = ModelAccess.of(['claude-x', 'gpt-4o'], ['anthropic/*'])!;
    expect(access.allows('claude-x')).toBe(true);
    expect(access.allows('gpt-4o')).toBe(false);
    expect(ModelAccess.of(['*'], ['gpt-4o'])!.allows('gpt-4o')).toBe(true);
    expect(ModelAccess.of(['*'], ['gpt-4o'])!.allows('gpt-4')).toBe(false);
  });

  it('allows an alias when either the alias or its group is allowed', () => {
    const access = ModelAccess.of(['gpt-4o'], [])!;
    expect(access.allows('smart', 'gpt-4o')).toBe(true);
    expect(access.allows('smart', 'claude-x')).toBe(false);
    expect(ModelAccess.of(['smart'], [])!.allows('smart', 'gpt-4o')).toBe(true);
  });
});
