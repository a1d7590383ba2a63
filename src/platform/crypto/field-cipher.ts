import crypto from 'node:crypto';

/**
 * Where a ciphertext belongs. It is bound into the ciphertext as additional authenticated data
 * (AAD), so a value copied to another table, column or record fails to decrypt instead of
 * showing up as someone else's data.
 */
export interface CipherContext {
  table: string;
  column: string;
  /** The record's stable identity (a UUID, or a parent id plus a type). */
  record: string | number;
}

/** The data-encryption keys a cipher writes with and reads with (see KeyRing). */
export interface DataKeySource {
  /** The newest key: every new ciphertext is written with it. */
  current(): { version: number; key: Buffer };
  /** A key by version; undefined when this process does not know it (yet). */
  get(version: number): Buffer | undefined;
}

const FORMAT = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/** A ciphertext written with a key version this process has not loaded (see KeyRing.ensureVersions). */
export class UnknownKeyVersionError extends Error {
  override name = 'UnknownKeyVersionError';
  constructor(readonly version: number) {
    super(`No data-encryption key of version ${version} is known`);
  }
}

/** The ciphertext is malformed, or was altered, or belongs to another table, column or record. */
export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

function aadOf(context: CipherContext): Buffer {
  return Buffer.from(`commonweal:${FORMAT}:${context.table}:${context.column}:${context.record}`, 'utf8');
}

/**
 * AES-256-GCM for single column values. Each value gets a fresh random 12-byte nonce; the text
 * form `v1:<key version>:<nonce base64>:<ciphertext+tag base64>` names the key it was written with,
 * so old ciphertexts stay readable after a key rotation and can be rewritten later.
 */
export class FieldCipher {
  constructor(private readonly keys: DataKeySource) {}

  encrypt(plaintext: string, context: CipherContext): string {
    const { version, key } = this.keys.current();
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aadOf(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}:${version}:${nonce.toString('base64')}:${body.toString('base64')}`;
  }

  decrypt(ciphertext: string, context: CipherContext): string {
    const parts = ciphertext.split(':');
    if (parts.length !== 4 || parts[0] !== FORMAT) throw new DecryptionError(`Not a ${FORMAT} ciphertext (${context.table}.${context.column})`);
    const version = Number(parts[1]);
    const key = this.keys.get(version);
    if (!key) throw new UnknownKeyVersionError(version);
    const nonce = Buffer.from(parts[2]!, 'base64');
    const body = Buffer.from(parts[3]!, 'base64');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new DecryptionError(`Malformed ciphertext (${context.table}.${context.column})`);
    try {
      const decipher = crypto.createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aadOf(context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError(`A ciphertext of ${context.table}.${context.column} does not authenticate: altered, or moved from another record`);
    }
  }

  encryptJson(value: unknown, context: CipherContext): string {
    return this.encrypt(JSON.stringify(value), context);
  }

  decryptJson<T>(ciphertext: string, context: CipherContext): T {
    return JSON.parse(this.decrypt(ciphertext, context)) as T;
  }
}

/** The key version a ciphertext was written with, or undefined when it is not one. */
export function keyVersionOf(ciphertext: string): number | undefined {
  if (!ciphertext.startsWith(`${FORMAT}:`)) return undefined;
  const end = ciphertext.indexOf(':', FORMAT.length + 1);
  const version = Number(ciphertext.slice(FORMAT.length + 1, end));
  return end > 0 && Number.isInteger(version) ? version : undefined;
}

/** The prefix every ciphertext written with `version` starts with (to find older ones in SQL). */
export function ciphertextPrefix(version: number): string {
  return `${FORMAT}:${version}:`;
}
