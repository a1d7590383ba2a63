import type { KeyObject } from 'node:crypto';
import { FlattenedEncrypt, flattenedDecrypt, type CryptoKey, type JWK, importJWK } from 'jose';
import type { EncryptedMessage } from './envelope.js';

/**
 * Optional message encryption (`header.is_msg_encrypted`). The spec's `EncryptedMessage`
 * (`header{alg,enc,kid}`, `encrypted_key`, `iv`, `ciphertext`, `tag`) is exactly a flattened JWE
 * (RFC 7516 §7.2.2) whose per-recipient unprotected header is `header`: we write and read it as
 * such with jose. The envelope signature covers the encrypted form, so the header cannot be altered.
 */

export const DEFAULT_KEY_MANAGEMENT = 'ECDH-ES+A256KW';
export const DEFAULT_CONTENT_ENCRYPTION = 'A256GCM';
export const KEY_MANAGEMENT_ALGORITHMS = ['ECDH-ES+A256KW', 'RSA-OAEP-256'];
export const CONTENT_ENCRYPTION_ALGORITHMS = ['A256GCM', 'A128GCM'];

/** Encrypts a message to the recipient's public key (a JWK with kid, or a key plus its kid). */
export async function encryptMessage(
  message: unknown,
  recipient: { key: KeyObject | CryptoKey | JWK; kid: string; alg?: string; enc?: string },
): Promise<EncryptedMessage> {
  const alg = recipient.alg ?? (isJwk(recipient.key) && typeof recipient.key.alg === 'string' ? recipient.key.alg : DEFAULT_KEY_MANAGEMENT);
  const enc = recipient.enc ?? DEFAULT_CONTENT_ENCRYPTION;
  const key = isJwk(recipient.key) ? await importJWK(recipient.key, alg) : recipient.key;
  const jwe = await new FlattenedEncrypt(Buffer.from(JSON.stringify(message), 'utf8'))
    .setUnprotectedHeader({ alg, enc, kid: recipient.kid })
    .encrypt(key as KeyObject);
  return {
    header: { alg, enc, kid: recipient.kid },
    // ECDH-ES puts its ephemeral key (epk) in a protected header: carried as `protected`, an
    // extension of the spec's shape (RSA-OAEP-256 needs none). See docs/DCI.md.
    ...(jwe.protected ? { protected: jwe.protected } : {}),
    encrypted_key: jwe.encrypted_key ?? '',
    iv: jwe.iv ?? '',
    ciphertext: jwe.ciphertext,
    tag: jwe.tag ?? '',
  };
}

/** Decrypts with the private key named by `header.kid` (`keyFor` returns undefined for an unknown kid). */
export async function decryptMessage(
  encrypted: EncryptedMessage,
  keyFor: (kid: string, alg: string) => Promise<KeyObject | CryptoKey | undefined>,
): Promise<unknown> {
  const { alg, enc, kid } = encrypted.header;
  if (!KEY_MANAGEMENT_ALGORITHMS.includes(alg) || !CONTENT_ENCRYPTION_ALGORITHMS.includes(enc)) {
    throw new EncryptionError(`Encryption ${alg}/${enc} is not supported; use ${KEY_MANAGEMENT_ALGORITHMS.join(' or ')} with ${CONTENT_ENCRYPTION_ALGORITHMS.join(' or ')}`);
  }
  const key = await keyFor(kid, alg);
  if (!key) throw new EncryptionError(`No decryption key "${kid}" is known`);
  try {
    const { plaintext } = await flattenedDecrypt({
      ...(encrypted.protected ? { protected: encrypted.protected } : {}),
      header: encrypted.header, encrypted_key: encrypted.encrypted_key, iv: encrypted.iv, ciphertext: encrypted.ciphertext, tag: encrypted.tag,
    }, key as KeyObject, { keyManagementAlgorithms: KEY_MANAGEMENT_ALGORITHMS, contentEncryptionAlgorithms: CONTENT_ENCRYPTION_ALGORITHMS });
    return JSON.parse(Buffer.from(plaintext).toString('utf8')) as unknown;
  } catch (error) {
    if (error instanceof EncryptionError) throw error;
    throw new EncryptionError('The message cannot be decrypted (wrong key, or altered)');
  }
}

export class EncryptionError extends Error {
  override name = 'EncryptionError';
}

function isJwk(key: unknown): key is JWK {
  return typeof key === 'object' && key !== null && 'kty' in key;
}
