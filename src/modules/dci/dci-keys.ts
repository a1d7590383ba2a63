import crypto from 'node:crypto';
import { desc, eq, isNull } from 'drizzle-orm';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Db } from '../../platform/database/database.js';
import type { SigningKeyStore } from '../../platform/auth/signing-keys.js';
import type { FieldCipher } from '../../platform/crypto/field-cipher.js';
import { AppError } from '../../platform/errors.js';
import { DEFAULT_KEY_MANAGEMENT, signatureStrategy, type SignatureStrategyName, type SignedContent, type SigningKey } from './protocol/index.js';
import { dciEncryptionKeys } from './dci.tables.js';

const SIGNATURE_TTL_SECONDS = 300;

/**
 * Our DCI keys. Messages are signed with the server's token-signing keys (SigningKeyStore:
 * Ed25519, rotated with `commonweal keys rotate`, already published at /.well-known/jwks.json), so
 * one rotation covers both and partners fetch one JWKS. Decryption keys (partners encrypt to us)
 * are our own X25519 keys in `dci_encryption_keys`, private halves encrypted at rest. The DCI JWKS
 * publishes both, `use: sig` and `use: enc`.
 */
export class DciKeys {
  private decryption = new Map<string, CryptoKey>();
  private encryptionJwks: JWK[] = [];

  constructor(
    private readonly db: Db,
    private readonly signingKeys: SigningKeyStore,
    private readonly cipher: FieldCipher,
    readonly senderId: string,
  ) {}

  /** Loads the decryption keys, creating the first on a new installation. */
  async load(): Promise<void> {
    let rows = await this.db.select().from(dciEncryptionKeys).where(isNull(dciEncryptionKeys.retiredAt)).orderBy(desc(dciEncryptionKeys.id));
    if (rows.length === 0) {
      await this.rotateEncryptionKey();
      rows = await this.db.select().from(dciEncryptionKeys).where(isNull(dciEncryptionKeys.retiredAt)).orderBy(desc(dciEncryptionKeys.id));
    }
    const decryption = new Map<string, CryptoKey>();
    for (const row of rows) {
      const privateJwk = this.cipher.decryptJson<JWK>(row.privateJwkEncrypted, context(row.kid));
      decryption.set(row.kid, (await importJWK(privateJwk, row.algorithm)) as CryptoKey);
    }
    this.decryption = decryption;
    this.encryptionJwks = rows.map((row) => ({ ...(row.publicJwk as JWK), kid: row.kid, alg: row.algorithm, use: 'enc' }));
  }

  /** A new decryption key; older ones keep decrypting until retired (by SQL for now: `retired_at`). */
  async rotateEncryptionKey(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(DEFAULT_KEY_MANAGEMENT, { crv: 'X25519', extractable: true });
    const kid = crypto.randomUUID();
    await this.db.insert(dciEncryptionKeys).values({
      kid,
      algorithm: DEFAULT_KEY_MANAGEMENT,
      publicJwk: (await exportJWK(publicKey)) as Record<string, unknown>,
      privateJwkEncrypted: this.cipher.encryptJson(await exportJWK(privateKey), context(kid)),
    });
    if (this.encryptionJwks.length > 0) await this.load();
    return kid;
  }

  /** The key we sign with now (the newest token-signing key). */
  signingKey(): SigningKey {
    const { kid, privateKey } = this.signingKeys.signingKey();
    return { senderId: this.senderId, kid, algorithm: 'EdDSA', privateKey };
  }

  /** The `signature` value for one of our messages, in the strategy agreed with the receiver. */
  sign(content: SignedContent, strategy: SignatureStrategyName = 'signature-string'): Promise<string> {
    return signatureStrategy(strategy).sign(content, this.signingKey(), { ttlSeconds: SIGNATURE_TTL_SECONDS });
  }

  async decryptionKey(kid: string): Promise<CryptoKey | undefined> {
    if (!this.decryption.has(kid)) {
      // Another process may have rotated.
      const [row] = await this.db.select({ kid: dciEncryptionKeys.kid }).from(dciEncryptionKeys).where(eq(dciEncryptionKeys.kid, kid));
      if (row) await this.load();
    }
    return this.decryption.get(kid);
  }

  /** Our public keys for DCI partners: signature verification (`use: sig`) and encryption (`use: enc`). */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.signingKeys.jwks().keys.map((key) => ({ ...key, use: 'sig' })), ...this.encryptionJwks] };
  }

  assertLoaded(): void {
    if (this.encryptionJwks.length === 0) throw new AppError('unavailable', 'DCI keys are not loaded');
  }
}

function context(kid: string) {
  return { table: 'dci_encryption_keys', column: 'private_jwk', record: kid };
}
