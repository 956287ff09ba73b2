import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption for short secrets at rest (callback credentials).
 *
 * Format: `gh1:` + base64(iv[12] | tag[16] | ciphertext), AES-256-GCM. The random IV makes equal plaintexts
 * produce different ciphertexts; the GCM tag makes any modified byte or wrong key fail decryption, and failures
 * throw instead of passing the stored text through, so a broken value is never used as a credential.
 */
export const SECRET_PREFIX = 'gh1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

// Distinct labels so a key derived from the master key can never equal one derived from a salt key with the same text.
const SALT_KEY_LABEL = 'gatehouse/secret-box/v1/salt-key';
const MASTER_KEY_LABEL = 'gatehouse/secret-box/v1/master-key';

export class SecretDecryptionError extends Error {
  constructor(message = 'stored secret cannot be decrypted (wrong key or tampered value)') {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

export interface SecretKeyMaterial {
  /** SALT_KEY: preferred, because it survives master-key rotation. */
  saltKey?: string | null;
  /** Used only when no salt key is set; the caller should warn that rotating the master key then orphans secrets. */
  masterKey?: string | null;
}

export class SecretBox {
  private constructor(
    private readonly key: Buffer,
    private readonly fallbackKeys: readonly Buffer[],
    readonly derivedFrom: 'salt_key' | 'master_key',
  ) {}

  /**
   * @param previous key material that was in use before a rotation; decrypt tries it after the current key so
   *   rows can be re-encrypted (`reencrypt`) without downtime.
   */
  static fromKeyMaterial(current: SecretKeyMaterial, previous: readonly SecretKeyMaterial[] = []): SecretBox {
    const primary = deriveKey(current);
    return new SecretBox(primary.key, previous.map((material) => deriveKey(material).key), primary.derivedFrom);
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return SECRET_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
  }

  decrypt(value: string): string {
    if (!isEncrypted(value)) {
      throw new SecretDecryptionError('value is not an encrypted secret');
    }
    const raw = Buffer.from(value.slice(SECRET_PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) {
      throw new SecretDecryptionError();
    }
    for (const key of [this.key, ...this.fallbackKeys]) {
      const plaintext = tryDecrypt(key, raw);
      if (plaintext !== null) {
        return plaintext;
      }
    }
    throw new SecretDecryptionError();
  }

  /** Decrypts with any known key and encrypts with the current one (key rotation). */
  reencrypt(value: string): string {
    return this.encrypt(this.decrypt(value));
  }
}

export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SECRET_PREFIX);
}

/**
 * Encrypts the values whose names `isSecret` selects. Already-encrypted values are kept as they are, so saving an
 * entry twice never double-encrypts (a LiteLLM bug that silently broke credentials).
 */
export function encryptSecretVars(
  box: SecretBox,
  vars: Readonly<Record<string, string>>,
  isSecret: (name: string) => boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    out[name] = isSecret(name) && !isEncrypted(value) ? box.encrypt(value) : value;
  }
  return out;
}

/**
 * Decrypts every encrypted value, whatever its name; plain values pass through. Throws `SecretDecryptionError`
 * naming the variable (never its value) when one cannot be decrypted: the caller marks the destination
 * `config_error` rather than sending with garbage.
 */
export function decryptSecretVars(box: SecretBox, vars: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (!isEncrypted(value)) {
      out[name] = value;
      continue;
    }
    try {
      out[name] = box.decrypt(value);
    } catch {
      throw new SecretDecryptionError(`callback variable ${name} cannot be decrypted (wrong key or tampered value)`);
    }
  }
  return out;
}

function deriveKey(material: SecretKeyMaterial): { key: Buffer; derivedFrom: 'salt_key' | 'master_key' } {
  if (material.saltKey) {
    return { key: hkdf(material.saltKey, SALT_KEY_LABEL), derivedFrom: 'salt_key' };
  }
  if (material.masterKey) {
    return { key: hkdf(material.masterKey, MASTER_KEY_LABEL), derivedFrom: 'master_key' };
  }
  throw new Error('SecretBox needs a salt key or a master key');
}

// HKDF, not a password KDF: both inputs are operator-chosen high-entropy keys, and derivation runs once at boot.
function hkdf(secret: string, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), Buffer.from(label, 'utf8'), KEY_BYTES));
}

function tryDecrypt(key: Buffer, raw: Buffer): string | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
