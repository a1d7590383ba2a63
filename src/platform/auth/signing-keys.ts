import crypto from 'node:crypto';
import { and, eq, isNull, desc } from 'drizzle-orm';
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Db } from '../database/database.js';
import { AppError } from '../errors.js';
import { signingKeys } from './signing-keys.tables.js';

export const TOKEN_ALGORITHM = 'EdDSA';
const RELOAD_INTERVAL_MS = 5000;

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
  private loadedAt = 0;

  constructor(private readonly db: Db) {}

  /** Loads the keys, creating the first one on a new installation. */
  async load(): Promise<void> {
    let rows = await this.db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.id));
    if (rows.length === 0) {
      await this.rotate();
      rows = await this.db.select().from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.id));
    }
    this.loadedAt = Date.now();
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

  /**
   * Stops publishing and accepting a key: tokens it signed stop working. The newest key (the one
   * signing) cannot be retired; rotate first. Other processes drop it when they next reload.
   */
  async retire(kid: string): Promise<void> {
    const rows = await this.db.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retiredAt)).orderBy(desc(signingKeys.id));
    if (!rows.some((row) => row.kid === kid)) throw AppError.notFound(`Active signing key ${kid}`);
    if (rows[0]!.kid === kid) throw new AppError('conflict', `Key ${kid} is the newest key and signs new tokens: rotate first, then retire it`);
    await this.db.update(signingKeys).set({ retiredAt: new Date() }).where(and(eq(signingKeys.kid, kid), isNull(signingKeys.retiredAt)));
    await this.load();
  }

  /** Every key, newest first, without private halves. */
  async list(): Promise<Array<{ kid: string; algorithm: string; createdAt: Date; retiredAt: Date | null; signing: boolean }>> {
    const rows = await this.db.select({ kid: signingKeys.kid, algorithm: signingKeys.algorithm, createdAt: signingKeys.createdAt, retiredAt: signingKeys.retiredAt })
      .from(signingKeys).orderBy(desc(signingKeys.id));
    const newestActive = rows.find((row) => row.retiredAt === null)?.kid;
    return rows.map((row) => ({ ...row, signing: row.kid === newestActive }));
  }

  signingKey(): ActiveSigningKey {
    if (!this.active) throw new Error('SigningKeyStore.load() must run before tokens are issued');
    return this.active;
  }

  async verificationKey(kid: string): Promise<CryptoKey | undefined> {
    // Another process may have rotated: reload on an unknown kid, but at most every few seconds,
    // so tokens with made-up key ids cannot make every request read the database.
    if (!this.verificationKeys.has(kid) && Date.now() - this.loadedAt > RELOAD_INTERVAL_MS) await this.load();
    return this.verificationKeys.get(kid);
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.publicJwks };
  }
}
