import {
  decryptSecretVars,
  encryptSecretVars,
  isEncrypted,
  SECRET_PREFIX,
  SecretBox,
  SecretDecryptionError,
} from './secret-box';

describe('SecretBox', () => {
  const box = SecretBox.fromKeyMaterial({ saltKey: 'salt-key-for-tests-0123456789' });

  it('round-trips and marks the value as encrypted', () => {
    const ciphertext = box.encrypt('sk-lf-canary-secret');
    expect(ciphertext.startsWith(SECRET_PREFIX)).toBe(true);
    expect(isEncrypted(ciphertext)).toBe(true);
    expect(ciphertext).not.toContain('canary');
    expect(box.decrypt(ciphertext)).toBe('sk-lf-canary-secret');
  });

  it('round-trips empty and non-ASCII strings', () => {
    expect(box.decrypt(box.encrypt(''))).toBe('');
    expect(box.decrypt(box.encrypt('clé-秘密-🔑'))).toBe('clé-秘密-🔑');
  });

  it('produces different ciphertexts for the same plaintext (random IV)', () => {
    expect(box.encrypt('same')).not.toBe(box.encrypt('same'));
  });

  it('fails closed when any byte of the ciphertext is flipped', () => {
    const ciphertext = box.encrypt('sk-lf-canary-secret');
    const raw = Buffer.from(ciphertext.slice(SECRET_PREFIX.length), 'base64');
    for (const index of [0, 12, 28, raw.length - 1]) {
      const tampered = Buffer.from(raw);
      tampered[index] ^= 0x01;
      expect(() => box.decrypt(SECRET_PREFIX + tampered.toString('base64'))).toThrow(SecretDecryptionError);
    }
  });

  it('fails closed with the wrong key, on truncated values and on unprefixed values', () => {
    const other = SecretBox.fromKeyMaterial({ saltKey: 'another-salt-key' });
    const ciphertext = box.encrypt('secret');
    expect(() => other.decrypt(ciphertext)).toThrow(SecretDecryptionError);
    expect(() => box.decrypt(`${SECRET_PREFIX}AAAA`)).toThrow(SecretDecryptionError);
    expect(() => box.decrypt('plaintext')).toThrow(SecretDecryptionError);
  });

  it('derives different keys from a master key and from a salt key with the same text', () => {
    const fromSalt = SecretBox.fromKeyMaterial({ saltKey: 'shared-text' });
    const fromMaster = SecretBox.fromKeyMaterial({ masterKey: 'shared-text' });
    expect(fromSalt.derivedFrom).toBe('salt_key');
    expect(fromMaster.derivedFrom).toBe('master_key');
    expect(() => fromMaster.decrypt(fromSalt.encrypt('x'))).toThrow(SecretDecryptionError);
  });

  it('prefers the salt key over the master key, and refuses to work without either', () => {
    const both = SecretBox.fromKeyMaterial({ saltKey: 'salt', masterKey: 'master' });
    expect(both.derivedFrom).toBe('salt_key');
    expect(SecretBox.fromKeyMaterial({ saltKey: 'salt' }).decrypt(both.encrypt('x'))).toBe('x');
    expect(() => SecretBox.fromKeyMaterial({})).toThrow(/salt key or a master key/);
  });

  it('decrypts values written under a previous key and re-encrypts them under the current one', () => {
    const old = SecretBox.fromKeyMaterial({ saltKey: 'old-salt' });
    const rotated = SecretBox.fromKeyMaterial({ saltKey: 'new-salt' }, [{ saltKey: 'old-salt' }]);
    const legacy = old.encrypt('secret');
    expect(rotated.decrypt(legacy)).toBe('secret');
    const fresh = rotated.reencrypt(legacy);
    expect(SecretBox.fromKeyMaterial({ saltKey: 'new-salt' }).decrypt(fresh)).toBe('secret');
    expect(() => old.decrypt(fresh)).toThrow(SecretDecryptionError);
  });
});

describe('encryptSecretVars / decryptSecretVars', () => {
  const box = SecretBox.fromKeyMaterial({ masterKey: 'sk-master' });
  const isSecret = (name: string): boolean => name.endsWith('_key');

  it('encrypts only secret vars and is idempotent', () => {
    const vars = { langfuse_public_key: 'pk-1', langfuse_secret_key: 'sk-1', langfuse_host: 'https://cloud.langfuse.com' };
    const once = encryptSecretVars(box, vars, isSecret);
    expect(isEncrypted(once.langfuse_public_key)).toBe(true);
    expect(isEncrypted(once.langfuse_secret_key)).toBe(true);
    expect(once.langfuse_host).toBe('https://cloud.langfuse.com');
    const twice = encryptSecretVars(box, once, isSecret);
    expect(twice).toEqual(once);
    expect(decryptSecretVars(box, twice)).toEqual(vars);
  });

  it('decrypts encrypted values stored under non-secret names and passes plain ones through', () => {
    const stored = { langsmith_project: box.encrypt('tenant-project'), langsmith_base_url: 'https://api.smith.langchain.com' };
    expect(decryptSecretVars(box, stored)).toEqual({ langsmith_project: 'tenant-project', langsmith_base_url: 'https://api.smith.langchain.com' });
  });

  it('names the variable, never the value, when one cannot be decrypted', () => {
    const stored = { langfuse_secret_key: SecretBox.fromKeyMaterial({ saltKey: 'rotated-away' }).encrypt('sk-canary') };
    const error = (() => {
      try {
        decryptSecretVars(box, stored);
        return null;
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect(error?.message).toContain('langfuse_secret_key');
    expect(error?.message).not.toContain('canary');
    expect(error?.message).not.toContain(SECRET_PREFIX);
  });
});
