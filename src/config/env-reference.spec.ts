import {
  ENV_REFERENCE_PREFIX,
  envReferenceName,
  isEnvReference,
  isValidEnvName,
  resolveEnvReference,
} from './env-reference';

describe('env-reference', () => {
  it('uses LiteLLM’s prefix', () => {
    expect(ENV_REFERENCE_PREFIX).toBe('os.environ/');
  });

  it.each([
    ['os.environ/LANGFUSE_PUB_KEY_1', true, 'LANGFUSE_PUB_KEY_1'],
    ['os.environ/_private', true, '_private'],
    ['os.environ/1BAD', true, null],
    ['os.environ/bad-name', true, null],
    ['os.environ/oidc/env_path/FILE', true, null],
    ['os.environ/', true, null],
    ['sk-1234', false, null],
    ['OS.ENVIRON/X', false, null],
    [' os.environ/X', false, null],
  ])('%j: reference=%s, name=%j', (value, reference, name) => {
    expect(isEnvReference(value)).toBe(reference);
    expect(envReferenceName(value)).toBe(name);
  });

  it.each([42, null, undefined, {}, ['os.environ/X']])('non-strings are never references: %j', (value) => {
    expect(isEnvReference(value)).toBe(false);
    expect(envReferenceName(value)).toBeNull();
  });

  it.each([
    ['A', true],
    ['_A1', true],
    ['a_b', true],
    ['1A', false],
    ['A-B', false],
    ['', false],
    ['A B', false],
  ])('isValidEnvName(%j) is %s', (name, valid) => {
    expect(isValidEnvName(name)).toBe(valid);
  });

  describe('resolveEnvReference', () => {
    const env = { SET: 'value', EMPTY: '' };

    it.each<[string | null | undefined, string | undefined]>([
      ['plain literal', 'plain literal'],
      ['os.environ/SET', 'value'],
      ['os.environ/EMPTY', ''],
      ['os.environ/UNSET', undefined],
      ['os.environ/bad-name', undefined],
      [null, undefined],
      [undefined, undefined],
    ])('%j resolves to %j', (value, expected) => {
      expect(resolveEnvReference(value, env)).toBe(expected);
    });

    it('never hands back the literal reference for an unset variable', () => {
      expect(resolveEnvReference('os.environ/MISSING', {})).not.toBe('os.environ/MISSING');
    });
  });
});
