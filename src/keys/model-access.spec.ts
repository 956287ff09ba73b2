import { ModelAccess, modelAccessDenied } from './model-access';

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
    expect(access.allows('smart', { alias: 'gpt-4o', accessGroups: [] })).toBe(true);
    expect(access.allows('smart', { alias: 'claude-x', accessGroups: [] })).toBe(false);
    expect(ModelAccess.of(['smart'], [])!.allows('smart', { alias: 'gpt-4o', accessGroups: [] })).toBe(true);
  });

  it("allows the models of an access group the list names, by the group's exact name only", () => {
    const beta = { accessGroups: ['beta-models', 'internal'] };
    expect(ModelAccess.of(['beta-models'], [])!.allows('gpt-5-preview', beta)).toBe(true);
    expect(ModelAccess.of(['beta-models'], [])!.allows('gpt-4o', { accessGroups: [] })).toBe(false);
    // A pattern grants models by their names, not groups by theirs.
    expect(ModelAccess.of(['beta-*'], [])!.allows('gpt-5-preview', beta)).toBe(false);
    // Key and team each by their own entry: the key by its group, the team by the model's name.
    expect(ModelAccess.of(['internal'], ['gpt-5-preview'])!.allows('gpt-5-preview', beta)).toBe(true);
    expect(ModelAccess.of(['internal'], ['gpt-4o'])!.allows('gpt-5-preview', beta)).toBe(false);
  });

  it('tells which list refused a model (key, then team, then user), for LiteLLM’s error types', () => {
    const access = ModelAccess.of(['gpt-4', 'claude-x'], ['gpt-4'], ['good-model'])!;
    expect(access.refusal('claude-x')).toEqual({ level: 'team', models: ['gpt-4'] });
    expect(access.refusal('mistral')).toEqual({ level: 'key', models: ['gpt-4', 'claude-x'] });
    expect(ModelAccess.of([], [], ['good-model', 'anthropic/*'])!.refusal('groq/llama')).toEqual({ level: 'user', models: ['good-model', 'anthropic/*'] });
    expect(ModelAccess.of([], [], ['good-model', 'anthropic/*'])!.refusal('anthropic/claude-3-5-haiku')).toBeNull();
  });

  it('answers LiteLLM’s 401 with its message', () => {
    const error = modelAccessDenied({ level: 'key', models: ['gpt-4'] }, 'gpt-3.5-turbo');
    expect([error.status, error.type, error.code, error.param]).toEqual([401, 'key_model_access_denied', 'key_model_access_denied', 'model']);
    expect(error.message).toBe("key not allowed to access model. This key can only access models=['gpt-4']. Tried to access gpt-3.5-turbo");
    expect(modelAccessDenied({ level: 'team', models: [] }, 'x', 'fallbacks')).toMatchObject({ code: 'team_model_access_denied', param: 'fallbacks' });
  });
});
