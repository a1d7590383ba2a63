import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.js';

/**
 * The key-encryption key (KEK): it wraps (encrypts) the data-encryption keys kept in the database,
 * and is never stored there. The local provider holds a 32-byte KEK from the configuration; a KMS
 * or HSM plugs in by implementing this interface (wrap = KMS Encrypt with `context` as the
 * encryption context, unwrap = Decrypt), the key material then never leaving the KMS.
 */
export interface KeyProvider {
  /**
   * Identifies the KEK (a fingerprint, or a KMS key id). Stored beside every key it wraps, so
   * starting with another KEK is named as such rather than failing on the first read.
   */
  readonly id: string;
  wrap(key: Buffer, context: string): Promise<string>;
  unwrap(wrapped: string, context: string): Promise<Buffer>;
}

/** The KEK is missing, malformed or not the one the database's keys are wrapped with. */
export class EncryptionKeyError extends ConfigError {
  override name = 'ConfigError';
}

const KEK_BYTES = 32;
const NONCE_BYTES = 12;

/** AES-256-GCM under a KEK held in memory. Wrapped form: `<nonce base64>:<key+tag base64>`. */
export class LocalKeyProvider implements KeyProvider {
  readonly id: string;

  constructor(private readonly kek: Buffer) {
    if (kek.length !== KEK_BYTES) throw new EncryptionKeyError(`The key-encryption key must be ${KEK_BYTES} bytes`);
    // A fingerprint, not the key: SHA-256 of a label and the key, first 16 hex digits.
    this.id = `local:${crypto.createHash('sha256').update('commonweal kek id\u0000').update(kek).digest('hex').slice(0, 16)}`;
  }

  async wrap(key: Buffer, context: string): Promise<string> {
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.kek, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
    return `${nonce.toString('base64')}:${body.toString('base64')}`;
  }

  async unwrap(wrapped: string, context: string): Promise<Buffer> {
    const [nonce, body] = wrapped.split(':').map((part) => Buffer.from(part, 'base64'));
    if (!nonce || !body || nonce.length !== NONCE_BYTES || body.length <= 16) throw new EncryptionKeyError(`A wrapped key (${context}) is malformed`);
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.kek, nonce);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    } catch {
      throw new EncryptionKeyError(`The key ${context} cannot be unwrapped with the configured key-encryption key (${this.id}): the KEK is wrong or the key table was altered`);
    }
  }
}

/** A KEK as configured: base64 (standard or URL-safe) of exactly 32 bytes. */
export function parseKek(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64') : Buffer.alloc(0);
  if (key.length !== KEK_BYTES) throw new EncryptionKeyError(`Invalid configuration: ${source}: must be ${KEK_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
  return key;
}

/** A new random KEK in its configured (base64) form. */
export function generateKekText(): string {
  return crypto.randomBytes(KEK_BYTES).toString('base64');
}

export interface KekSettings {
  encryptionKek?: string | undefined;
  encryptionKekFile?: string | undefined;
  dataDir: string;
}

export interface ResolvedKek {
  kek: Buffer;
  source: 'ENCRYPTION_KEK' | 'ENCRYPTION_KEK_FILE' | 'DATA_DIR';
  /** The file it was read from or generated into (not for ENCRYPTION_KEK). */
  file?: string;
  /** True when this start generated it (DATA_DIR only). */
  generated: boolean;
}

export const DEFAULT_KEK_FILE = 'kek.key';

/**
 * The KEK from ENCRYPTION_KEK, or the file ENCRYPTION_KEK_FILE names; with neither, the file
 * `DATA_DIR/kek.key`, generated (mode 0600) on first start. That default keeps the key beside the
 * data it protects, so it suits `npm start`, demos and tests only: production supplies its own.
 */
export function resolveKek(settings: KekSettings, logger?: { warn(obj: object, msg?: string): void }): ResolvedKek {
  if (settings.encryptionKek !== undefined) return { kek: parseKek(settings.encryptionKek, 'ENCRYPTION_KEK'), source: 'ENCRYPTION_KEK', generated: false };
  if (settings.encryptionKekFile !== undefined) {
    const file = settings.encryptionKekFile;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new EncryptionKeyError(`Invalid configuration: ENCRYPTION_KEK_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return { kek: parseKek(text, `ENCRYPTION_KEK_FILE (${file})`), source: 'ENCRYPTION_KEK_FILE', file, generated: false };
  }
  const file = path.join(settings.dataDir, DEFAULT_KEK_FILE);
  let generated = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(settings.dataDir, { recursive: true });
    // Written whole under another name, then linked into place: a process starting at the same
    // moment never reads a half-written key, and if it linked first, its key is the one used.
    const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(temporary, `${generateKekText()}\n`, { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(temporary, file);
      generated = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
  }
  const kek = parseKek(fs.readFileSync(file, 'utf8'), file);
  logger?.warn(
    { kekFile: file, generated },
    generated
      ? `Generated a key-encryption key in ${file} (mode 0600). It protects the encrypted personal data and lies beside it: fine for a demo or tests; production must supply its own (ENCRYPTION_KEK or ENCRYPTION_KEK_FILE, kept apart from the data) and keep a copy.`
      : `The key-encryption key comes from ${file}, beside the data it protects: production must supply its own (ENCRYPTION_KEK or ENCRYPTION_KEK_FILE).`,
  );
  return { kek, source: 'DATA_DIR', file, generated };
}
