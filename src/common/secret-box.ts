import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption for short secrets at rest (callback credentials).
 *
 * Format: `gh2:` + base64(iv[12] | tag[16] | ciphertext), AES-256-GCM, with associated data naming where the value
 * is stored (table, row, logging entry, variable). The random IV makes equal plaintexts produce different
 * ciphertexts; the GCM tag makes any modified byte, a wrong key or a value moved to another row or field fail
 * decryption, and failures throw instead of passing the stored text through, so a broken value is never used as a
 * credential.
 *
 * `gh1:` is the earlier format without associated data. `decrypt` refuses it (such a value could have been moved);
 * the `BindSecretsToOwners` migration and `reseal` turn it into `gh2:` bound to the place it is found in.
 */
export const SECRET_PREFIX = 'gh2:';
export const LEGACY_SECRET_PREFIX = 'gh1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const BINDING_LABEL = 'gatehouse/secret-box/v2';

// Distinct labels so a key derived from the master key can never equal one derived from a salt key with the same text.
const SALT_KEY_LABEL = 'gatehouse/secret-box/v1/salt-key';
const MASTER_KEY_LABEL = 'gatehouse/secret-box/v1/master-key';

export class SecretDecryptionError extends Error {
  constructor(message = 'stored secret cannot be decrypted (wrong key, tampered value, or moved from another row or field)') {
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

/** Where a secret is stored: the associated data its ciphertext is bound to. */
export interface SecretBinding {
  /** `teams` or `virtual_keys`. */
  readonly table: string;
  /** The row's primary key: a team id, or a key's token. */
  readonly rowId: string;
  /** The logging entry's `entry_id`. */
  readonly entryId: string;
  /** The callback variable's name. */
  readonly field: string;
}

/** The binding of every variable of one entry. */
export type SecretPlace = Omit<SecretBinding, 'field'>;

export class SecretBox {
  private constructor(
    private readonly key: Buffer,
    /** Tried after `key`, in order; a value opened with one of them is resealed by `reseal`. */
    private readonly fallbackKeys: readonly Buffer[],
    readonly derivedFrom: 'salt_key' | 'master_key',
  ) {}

  /**
   * @param previousKeys keys in use before a rotation (SALT_KEY_PREVIOUS): each is tried both as an old salt key and
   *   as an old master key (what sealed the secrets of a gateway that ran without SALT_KEY). With a salt key, the
   *   current master key is tried too: it sealed everything stored before SALT_KEY was first set.
   */
  static fromKeyMaterial(current: SecretKeyMaterial, previousKeys: readonly string[] = []): SecretBox {
    const primary = deriveKey(current);
    const fallbacks: Buffer[] = [];
    const add = (key: Buffer) => {
      if (!key.equals(primary.key) && !fallbacks.some((known) => known.equals(key))) fallbacks.push(key);
    };
    for (const previous of previousKeys) {
      add(hkdf(previous, SALT_KEY_LABEL));
      add(hkdf(previous, MASTER_KEY_LABEL));
    }
    if (primary.derivedFrom === 'salt_key' && current.masterKey) add(hkdf(current.masterKey, MASTER_KEY_LABEL));
    return new SecretBox(primary.key, fallbacks, primary.derivedFrom);
  }

  /** How many older keys decryption falls back to. */
  get fallbackKeyCount(): number {
    return this.fallbackKeys.length;
  }

  encrypt(plaintext: string, binding: SecretBinding): string {
    return SECRET_PREFIX + seal(this.key, plaintext, associatedData(binding));
  }

  /** A `gh2:` value stored at `binding`, opened with the current or an older key. */
  decrypt(value: string, binding: SecretBinding): string {
    if (value.startsWith(LEGACY_SECRET_PREFIX)) {
      throw new SecretDecryptionError('stored secret is in the legacy format without binding: re-encrypt it (POST /secrets/reencrypt)');
    }
    if (!value.startsWith(SECRET_PREFIX)) throw new SecretDecryptionError('value is not an encrypted secret');
    const opened = this.open(value.slice(SECRET_PREFIX.length), associatedData(binding));
    if (opened === null) throw new SecretDecryptionError();
    return opened.plaintext;
  }

  /**
   * Key rotation and format upgrade: a value stored at `binding` under an older key, or in the legacy `gh1:` format
   * (which carries no binding and is bound here to the place it is found in), comes back encrypted with the current
   * key; a `gh2:` value already under the current key comes back as it is. Throws when no known key opens it.
   */
  reseal(value: string, binding: SecretBinding): { value: string; resealed: boolean } {
    let opened: { plaintext: string; keyIndex: number } | null = null;
    if (value.startsWith(SECRET_PREFIX)) opened = this.open(value.slice(SECRET_PREFIX.length), associatedData(binding));
    else if (value.startsWith(LEGACY_SECRET_PREFIX)) opened = this.open(value.slice(LEGACY_SECRET_PREFIX.length), null);
    else throw new SecretDecryptionError('value is not an encrypted secret');
    if (opened === null) throw new SecretDecryptionError();
    if (opened.keyIndex === 0 && value.startsWith(SECRET_PREFIX)) return { value, resealed: false };
    return { value: this.encrypt(opened.plaintext, binding), resealed: true };
  }

  /** Only for reverting the migration that introduced bindings: a `gh2:` value back to `gh1:` (current key). */
  toLegacyFormat(value: string, binding: SecretBinding): string {
    return LEGACY_SECRET_PREFIX + seal(this.key, this.decrypt(value, binding), null);
  }

  private open(encoded: string, aad: Buffer | null): { plaintext: string; keyIndex: number } | null {
    const raw = Buffer.from(encoded, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) return null;
    const keys = [this.key, ...this.fallbackKeys];
    for (const [keyIndex, key] of keys.entries()) {
      const plaintext = tryDecrypt(key, raw, aad);
      if (plaintext !== null) return { plaintext, keyIndex };
    }
    return null;
  }
}

/** The gateway's box: SALT_KEY (else the master key) encrypts; SALT_KEY_PREVIOUS and the master key also decrypt. */
export function secretBoxFor(settings: {
  readonly environment: { readonly SALT_KEY?: string; readonly SALT_KEY_PREVIOUS: readonly string[] };
  readonly masterKey: string;
}): SecretBox {
  return SecretBox.fromKeyMaterial({ saltKey: settings.environment.SALT_KEY, masterKey: settings.masterKey }, settings.environment.SALT_KEY_PREVIOUS);
}

export function isEncrypted(value: unknown): value is string {
  return typeof value === 'string' && (value.startsWith(SECRET_PREFIX) || value.startsWith(LEGACY_SECRET_PREFIX));
}

/**
 * Encrypts the values whose names `isSecret` selects, each bound to `place` and its own name. Already-encrypted values
 * are kept as they are, so saving an entry twice never double-encrypts (a LiteLLM bug that silently broke credentials).
 */
export function encryptSecretVars(
  box: SecretBox,
  vars: Readonly<Record<string, string>>,
  isSecret: (name: string) => boolean,
  place: SecretPlace,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    out[name] = isSecret(name) && !isEncrypted(value) ? box.encrypt(value, { ...place, field: name }) : value;
  }
  return out;
}

/**
 * Decrypts every encrypted value, whatever its name; plain values pass through. `place` is where the entry is stored
 * (null: config or global entries, which hold no ciphertext). Throws `SecretDecryptionError` naming the variable
 * (never its value) when one cannot be decrypted: the caller marks the destination `config_error` rather than
 * sending with garbage.
 */
export function decryptSecretVars(box: SecretBox, vars: Readonly<Record<string, string>>, place: SecretPlace | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (!isEncrypted(value)) {
      out[name] = value;
      continue;
    }
    if (place === null) throw new SecretDecryptionError(`callback variable ${name} is encrypted but belongs to no team or key`);
    try {
      out[name] = box.decrypt(value, { ...place, field: name });
    } catch (error) {
      const reason = value.startsWith(LEGACY_SECRET_PREFIX) ? (error as Error).message : 'wrong key, tampered value, or moved from another row or field';
      throw new SecretDecryptionError(`callback variable ${name} cannot be decrypted (${reason})`);
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

/** A JSON array: unambiguous whatever characters the ids hold. */
function associatedData(binding: SecretBinding): Buffer {
  return Buffer.from(JSON.stringify([BINDING_LABEL, binding.table, binding.rowId, binding.entryId, binding.field]), 'utf8');
}

function seal(key: Buffer, plaintext: string, aad: Buffer | null): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad) cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

function tryDecrypt(key: Buffer, raw: Buffer, aad: Buffer | null): string | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    if (aad) decipher.setAAD(aad);
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
