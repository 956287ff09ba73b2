import {
  decryptSecretVars,
  encryptSecretVars,
  isEncrypted,
  LEGACY_SECRET_PREFIX,
  SECRET_PREFIX,
  SecretBox,
  SecretDecryptionError,
  secretBoxFor,
  type SecretBinding,
} from './secret-box';

const HERE: SecretBinding = { table: 'teams', rowId: 'team-a', entryId: 'entry-1', field: 'langfuse_secret_key' };

function errorOf(run: () => unknown): Error | null {
  try {
    run();
    return null;
  } catch (error) {
    return error as Error;
  }
}

describe('SecretBox', () => {
  const box = SecretBox.fromKeyMaterial({ saltKey: 'salt-key-for-tests-0123456789' });

  it('round-trips and marks the value as encrypted', () => {
    const ciphertext = box.encrypt('sk-lf-canary-secret', HERE);
    expect(ciphertext.startsWith(SECRET_PREFIX)).toBe(true);
    expect(isEncrypted(ciphertext)).toBe(true);
    expect(ciphertext).not.toContain('canary');
    expect(box.decrypt(ciphertext, HERE)).toBe('sk-lf-canary-secret');
  });

  it('round-trips empty and non-ASCII strings', () => {
    expect(box.decrypt(box.encrypt('', HERE), HERE)).toBe('');
    expect(box.decrypt(box.encrypt('clé-秘密-🔑', HERE), HERE)).toBe('clé-秘密-🔑');
  });

  it('produces different ciphertexts for the same plaintext (random IV)', () => {
    expect(box.encrypt('same', HERE)).not.toBe(box.encrypt('same', HERE));
  });

  it('fails closed when any byte of the ciphertext is flipped', () => {
    const ciphertext = box.encrypt('sk-lf-canary-secret', HERE);
    const raw = Buffer.from(ciphertext.slice(SECRET_PREFIX.length), 'base64');
    for (const index of [0, 12, 28, raw.length - 1]) {
      const tampered = Buffer.from(raw);
      tampered[index] ^= 0x01;
      expect(() => box.decrypt(SECRET_PREFIX + tampered.toString('base64'), HERE)).toThrow(SecretDecryptionError);
    }
  });

  it('fails closed with the wrong key, on truncated values and on unprefixed values', () => {
    const other = SecretBox.fromKeyMaterial({ saltKey: 'another-salt-key' });
    const ciphertext = box.encrypt('secret', HERE);
    expect(() => other.decrypt(ciphertext, HERE)).toThrow(SecretDecryptionError);
    expect(() => box.decrypt(`${SECRET_PREFIX}AAAA`, HERE)).toThrow(SecretDecryptionError);
    expect(() => box.decrypt('plaintext', HERE)).toThrow(SecretDecryptionError);
  });

  it.each([
    ['another table', { table: 'virtual_keys' }],
    ['another row', { rowId: 'team-b' }],
    ['another entry of the row', { entryId: 'entry-2' }],
    ['another field of the entry', { field: 'langfuse_public_key' }],
  ])('refuses a value moved to %s (the binding is associated data)', (_label, moved) => {
    const ciphertext = box.encrypt('sk-lf-canary-secret', HERE);
    expect(() => box.decrypt(ciphertext, { ...HERE, ...moved })).toThrow(SecretDecryptionError);
  });

  it('keeps the binding unambiguous whatever characters ids hold', () => {
    const ciphertext = box.encrypt('x', { table: 'teams', rowId: 'a","b', entryId: 'c', field: 'd' });
    expect(() => box.decrypt(ciphertext, { table: 'teams', rowId: 'a', entryId: 'b","c', field: 'd' })).toThrow(SecretDecryptionError);
  });

  it('refuses the legacy unbound format in decrypt, naming the way out', () => {
    const legacy = box.toLegacyFormat(box.encrypt('secret', HERE), HERE);
    expect(legacy.startsWith(LEGACY_SECRET_PREFIX)).toBe(true);
    expect(isEncrypted(legacy)).toBe(true);
    expect(errorOf(() => box.decrypt(legacy, HERE))?.message).toMatch(/legacy format.*POST \/secrets\/reencrypt/);
  });

  it('derives different keys from a master key and from a salt key with the same text', () => {
    const fromSalt = SecretBox.fromKeyMaterial({ saltKey: 'shared-text' });
    const fromMaster = SecretBox.fromKeyMaterial({ masterKey: 'shared-text' });
    expect(fromSalt.derivedFrom).toBe('salt_key');
    expect(fromMaster.derivedFrom).toBe('master_key');
    expect(() => fromMaster.decrypt(fromSalt.encrypt('x', HERE), HERE)).toThrow(SecretDecryptionError);
  });

  it('prefers the salt key over the master key, and refuses to work without either', () => {
    const both = SecretBox.fromKeyMaterial({ saltKey: 'salt', masterKey: 'master' });
    expect(both.derivedFrom).toBe('salt_key');
    expect(SecretBox.fromKeyMaterial({ saltKey: 'salt' }).decrypt(both.encrypt('x', HERE), HERE)).toBe('x');
    expect(() => SecretBox.fromKeyMaterial({})).toThrow(/salt key or a master key/);
  });

  describe('rotation', () => {
    const old = SecretBox.fromKeyMaterial({ saltKey: 'old-salt' });
    const rotated = SecretBox.fromKeyMaterial({ saltKey: 'new-salt' }, ['old-salt']);
    const newOnly = SecretBox.fromKeyMaterial({ saltKey: 'new-salt' });

    it('decrypts values sealed with a previous salt key and reseals them with the current one', () => {
      const sealedOld = old.encrypt('secret', HERE);
      expect(rotated.decrypt(sealedOld, HERE)).toBe('secret');
      const resealed = rotated.reseal(sealedOld, HERE);
      expect(resealed.resealed).toBe(true);
      expect(newOnly.decrypt(resealed.value, HERE)).toBe('secret');
      expect(() => old.decrypt(resealed.value, HERE)).toThrow(SecretDecryptionError);
      expect(() => newOnly.decrypt(sealedOld, HERE)).toThrow(SecretDecryptionError);
    });

    it('leaves a value already under the current key as it is', () => {
      const current = rotated.encrypt('secret', HERE);
      expect(rotated.reseal(current, HERE)).toEqual({ value: current, resealed: false });
    });

    it('binds a legacy value to the place it is found in', () => {
      const legacy = old.toLegacyFormat(old.encrypt('secret', HERE), HERE);
      const bound = rotated.reseal(legacy, HERE);
      expect(bound.value.startsWith(SECRET_PREFIX)).toBe(true);
      expect(newOnly.decrypt(bound.value, HERE)).toBe('secret');
      expect(() => newOnly.decrypt(bound.value, { ...HERE, rowId: 'team-b' })).toThrow(SecretDecryptionError);
    });

    it('does not reseal what no key opens, nor a value moved to another place', () => {
      const foreign = SecretBox.fromKeyMaterial({ saltKey: 'unknown' }).encrypt('secret', HERE);
      expect(() => rotated.reseal(foreign, HERE)).toThrow(SecretDecryptionError);
      expect(() => rotated.reseal(old.encrypt('secret', HERE), { ...HERE, field: 'other' })).toThrow(SecretDecryptionError);
    });

    it('takes an old master key as previous key material (a gateway that ran without SALT_KEY)', () => {
      const sealedByMaster = SecretBox.fromKeyMaterial({ masterKey: 'sk-old-master' }).encrypt('secret', HERE);
      const fromSalt = SecretBox.fromKeyMaterial({ saltKey: 'new-salt', masterKey: 'sk-new-master' }, ['sk-old-master']);
      expect(fromSalt.decrypt(sealedByMaster, HERE)).toBe('secret');
    });

    it('with a salt key, still opens what the current master key sealed before SALT_KEY was set', () => {
      const sealedByMaster = SecretBox.fromKeyMaterial({ masterKey: 'sk-master' }).encrypt('secret', HERE);
      const withSalt = SecretBox.fromKeyMaterial({ saltKey: 'first-salt', masterKey: 'sk-master' });
      expect(withSalt.fallbackKeyCount).toBe(1);
      expect(withSalt.decrypt(sealedByMaster, HERE)).toBe('secret');
      expect(SecretBox.fromKeyMaterial({ saltKey: 'first-salt' }).decrypt(withSalt.reseal(sealedByMaster, HERE).value, HERE)).toBe('secret');
    });

    it('secretBoxFor reads SALT_KEY, SALT_KEY_PREVIOUS and the master key from the settings', () => {
      const box2 = secretBoxFor({ environment: { SALT_KEY: 'new-salt', SALT_KEY_PREVIOUS: ['old-salt'] }, masterKey: 'sk-master' });
      expect(box2.derivedFrom).toBe('salt_key');
      expect(box2.fallbackKeyCount).toBe(3);
      expect(box2.decrypt(old.encrypt('secret', HERE), HERE)).toBe('secret');
    });
  });
});

describe('encryptSecretVars / decryptSecretVars', () => {
  const box = SecretBox.fromKeyMaterial({ masterKey: 'sk-master' });
  const isSecret = (name: string): boolean => name.endsWith('_key');
  const place = { table: 'virtual_keys', rowId: 'f'.repeat(64), entryId: 'entry-1' };

  it('encrypts only secret vars and is idempotent', () => {
    const vars = { langfuse_public_key: 'pk-1', langfuse_secret_key: 'sk-1', langfuse_host: 'https://cloud.langfuse.com' };
    const once = encryptSecretVars(box, vars, isSecret, place);
    expect(isEncrypted(once.langfuse_public_key)).toBe(true);
    expect(isEncrypted(once.langfuse_secret_key)).toBe(true);
    expect(once.langfuse_host).toBe('https://cloud.langfuse.com');
    const twice = encryptSecretVars(box, once, isSecret, place);
    expect(twice).toEqual(once);
    expect(decryptSecretVars(box, twice, place)).toEqual(vars);
  });

  it('binds each var to its own name: swapping two values of an entry fails closed', () => {
    const once = encryptSecretVars(box, { langfuse_public_key: 'pk-1', langfuse_secret_key: 'sk-1' }, isSecret, place);
    const swapped = { langfuse_public_key: once.langfuse_secret_key, langfuse_secret_key: once.langfuse_public_key };
    expect(() => decryptSecretVars(box, swapped, place)).toThrow(SecretDecryptionError);
  });

  it('refuses encrypted values of an entry that belongs to no row (config and global entries)', () => {
    const stored = encryptSecretVars(box, { langfuse_secret_key: 'sk-1' }, isSecret, place);
    expect(errorOf(() => decryptSecretVars(box, stored, null))?.message).toContain('belongs to no team or key');
    expect(decryptSecretVars(box, { langfuse_host: 'https://x' }, null)).toEqual({ langfuse_host: 'https://x' });
  });

  it('names the variable, never the value, when one cannot be decrypted', () => {
    const stored = { langfuse_secret_key: SecretBox.fromKeyMaterial({ saltKey: 'rotated-away' }).encrypt('sk-canary', { ...place, field: 'langfuse_secret_key' }) };
    const error = errorOf(() => decryptSecretVars(box, stored, place));
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect(error?.message).toContain('langfuse_secret_key');
    expect(error?.message).not.toContain('canary');
    expect(error?.message).not.toContain(SECRET_PREFIX);
  });
});
