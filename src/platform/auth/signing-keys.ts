import crypto from 'node:crypto';
import { isNull, desc } from 'drizzle-orm';
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Db } from '../database/database.js';
import { signingKeys } from './signing-keys.tables.js';

export const TOKEN_ALGORITHM = 'EdDSA';

export interface ActiveSigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * Our token-signing keys. The newest unretired key signs; every unretired key verifies and is
 * published in the JWKS, so a rotation never breaks tokens already issued.
 */
export class SigningKeyStore {
  private active: ActiveSigningKey | undefined;
  private verificationKeys = new Map<string, CryptoKey>();
  private publicJwks: JWK[] = [];

  constructor(private readonly db: Db) {}

  /** Loads the keys, creating the first one on a new installation. */
  async load(): Promise<void> {
    let rows = await this.db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.id));
    if (rows.length === 0) {
      await this.rotate();
      rows = await this.db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.id));
    }
    this.verificationKeys.clear();
    this.publicJwks = [];
    for (const row of rows) {
      this.verificationKeys.set(row.kid, (await importJWK(row.publicJwk as JWK, row.algorithm)) as CryptoKey);
      this.publicJwks.push({ ...(row.publicJwk as JWK), kid: row.kid, alg: row.algorithm, use: 'sig' });
    }
    const newest = rows[0]!;
    this.active = { kid: newest.kid, privateKey: (await importJWK(newest.privateJwk as JWK, newest.algorithm)) as CryptoKey };
  }

  /** Adds a new signing key; older keys keep verifying until retired. */
  async rotate(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true, crv: 'Ed25519' });
    const kid = crypto.randomUUID();
    await this.db.insert(signingKeys).values({
      kid,
      algorithm: TOKEN_ALGORITHM,
      publicJwk: (await exportJWK(publicKey)) as Record<string, unknown>,
      privateJwk: (await exportJWK(privateKey)) as Record<string, unknown>,
    });
    if (this.active) await this.load();
    return kid;
  }

  signingKey(): ActiveSigningKey {
    if (!this.active) throw new Error('SigningKeyStore.load() must run before tokens are issued');
    return this.active;
  }

  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    if (!this.verificationKeys.has(kid)) await this.load(); // another process may have rotated
    return this.verificationKeys.get(kid);
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.publicJwks };
  }
}
