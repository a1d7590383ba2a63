import crypto from 'node:crypto';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../database/database.js';
import { encryptionKeys, type EncryptionKeyPurpose } from './encryption-keys.tables.js';
import { UnknownKeyVersionError, type DataKeySource } from './field-cipher.js';
import { BlindIndex, VersionedBlindIndex } from './blind-index.js';
import { EncryptionKeyError, type KeyProvider } from './key-provider.js';

type KeyRow = typeof encryptionKeys.$inferSelect;

const KEY_BYTES = 32;
// A retired index key keeps the context it was wrapped under.
const wrapContext = (purpose: EncryptionKeyPurpose, version: number) => `commonweal:${purpose === 'index-retired' ? 'index' : purpose}:${version}`;

/**
 * The unwrapped keys of this process: every data-key version (the newest writes, all of them
 * read) and the blind-index root. Opened at start, where a KEK that is not the database's stops
 * the process with a clear message. Keys added by another process (`keys rotate-data-key`) are
 * picked up at most `refreshIntervalMs` later for writing, and at once when a ciphertext names one.
 */
export class KeyRing implements DataKeySource {
  private readonly dataKeys = new Map<number, Buffer>();
  private newest = 0;
  private indexRoot: Buffer | undefined;
  /** Active blind-index root keys by version (more than one only while a rotation runs). */
  private readonly indexKeys = new Map<number, BlindIndex>();
  private index: VersionedBlindIndex | undefined;
  private lastRefresh = 0;
  private refreshing: Promise<void> | undefined;

  private constructor(
    private readonly db: Db,
    private provider: KeyProvider,
    private readonly refreshIntervalMs: number,
  ) {}

  /** Loads (on a first start: creates) the keys; throws EncryptionKeyError when the KEK does not fit. */
  static async open(db: Db, provider: KeyProvider, options: { refreshIntervalMs?: number } = {}): Promise<KeyRing> {
    const ring = new KeyRing(db, provider, options.refreshIntervalMs ?? 30_000);
    await ring.initialise();
    return ring;
  }

  /**
   * After the key table was emptied together with every other table (the tests' reset): starts
   * over with new keys, as on a fresh database. Never needed in operation, where keys are never deleted.
   */
  async reinitialise(): Promise<void> {
    this.dataKeys.clear();
    this.newest = 0;
    this.indexRoot = undefined;
    this.indexKeys.clear();
    this.index = undefined;
    await this.initialise();
  }

  private async initialise(): Promise<void> {
    let rows = await this.db.select().from(encryptionKeys).orderBy(asc(encryptionKeys.id));
    const missing = (['data', 'index'] as const).filter((purpose) => !rows.some((row) => row.purpose === purpose));
    if (missing.length > 0) {
      // Only when no key of a purpose exists yet, i.e. on a fresh database; it must not guess otherwise.
      for (const purpose of missing) {
        const wrapped = await this.provider.wrap(crypto.randomBytes(KEY_BYTES), wrapContext(purpose, 1));
        await this.db.insert(encryptionKeys).values({ purpose, version: 1, wrappedKey: wrapped, kekId: this.provider.id }).onConflictDoNothing();
      }
      rows = await this.db.select().from(encryptionKeys).orderBy(asc(encryptionKeys.id));
    }
    await this.load(rows);
    this.lastRefresh = Date.now();
  }

  /** The KEK in use (its id is stored with every wrapped key). */
  get kekId(): string {
    return this.provider.id;
  }

  current(): { version: number; key: Buffer } {
    return { version: this.newest, key: this.dataKeys.get(this.newest)! };
  }

  get(version: number): Buffer | undefined {
    return this.dataKeys.get(version);
  }

  /** The data-key versions this process knows, oldest first. */
  versions(): number[] {
    return [...this.dataKeys.keys()].sort((a, b) => a - b);
  }

  indexRootKey(): Buffer {
    return this.indexRoot!;
  }

  /** Blind indexes under the active root keys of this database (the newest writes). */
  blindIndex(): VersionedBlindIndex {
    return this.index!;
  }

  /**
   * `keys rotate-index-key`: creates blind-index root version N+1, which writes from now on (in
   * other processes within the refresh interval); lookups try every active version until the
   * `privacy.reindex` job has recomputed every index and retired the older ones.
   */
  async rotateIndexKey(): Promise<number> {
    const [latest] = await this.db.select({ version: sql<number>`coalesce(max(${encryptionKeys.version}), 0)::int` }).from(encryptionKeys)
      .where(sql`${encryptionKeys.purpose} in ('index', 'index-retired')`);
    const version = Number(latest?.version ?? 0) + 1;
    await this.db.insert(encryptionKeys).values({ purpose: 'index', version, wrappedKey: await this.provider.wrap(crypto.randomBytes(KEY_BYTES), wrapContext('index', version)), kekId: this.provider.id });
    await this.refresh();
    return version;
  }

  /** Retires the blind-index root keys older than `version` (kept wrapped, for audit digests they made); lookups stop trying them. */
  async retireIndexKeysBefore(version: number): Promise<number> {
    const retired = await this.db.update(encryptionKeys).set({ purpose: 'index-retired' })
      .where(and(eq(encryptionKeys.purpose, 'index'), sql`${encryptionKeys.version} < ${version}`)).returning({ version: encryptionKeys.version });
    await this.refresh();
    return retired.length;
  }

  /** Loads data keys created since the last look (by this or another process). */
  async refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const rows = await this.db.select().from(encryptionKeys)
          .where(and(eq(encryptionKeys.purpose, 'data'), gt(encryptionKeys.version, this.newest))).orderBy(asc(encryptionKeys.version));
        // Blind-index keys: the active set, which a rotation grows and a retirement shrinks.
        const indexRows = await this.db.select().from(encryptionKeys).where(eq(encryptionKeys.purpose, 'index'));
        const active = new Set(indexRows.map((row) => row.version));
        for (const version of [...this.indexKeys.keys()]) if (!active.has(version)) this.indexKeys.delete(version);
        await this.load([...rows, ...indexRows.filter((row) => !this.indexKeys.has(row.version))]);
        this.lastRefresh = Date.now();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Before writing: a key rotated by another process is used within `refreshIntervalMs`. */
  async refreshIfStale(): Promise<void> {
    if (Date.now() - this.lastRefresh >= this.refreshIntervalMs) await this.refresh();
  }

  /** Before reading: makes sure every version named is loaded; throws for a version no one created. */
  async ensureVersions(versions: Iterable<number>): Promise<void> {
    let unknown: number | undefined;
    for (const version of versions) if (!this.dataKeys.has(version)) unknown = version;
    if (unknown === undefined) return;
    await this.refresh();
    if (!this.dataKeys.has(unknown)) throw new UnknownKeyVersionError(unknown);
  }

  /**
   * Creates data key version N+1, which writes from now on (in this process at once, in others
   * within the refresh interval). Older versions keep decrypting until `keys reencrypt` has
   * rewritten every ciphertext; they are never deleted.
   */
  async rotateDataKey(): Promise<number> {
    await this.refresh();
    for (let attempt = 0; ; attempt += 1) {
      const [latest] = await this.db.select({ version: sql<number>`coalesce(max(${encryptionKeys.version}), 0)::int` }).from(encryptionKeys).where(eq(encryptionKeys.purpose, 'data'));
      const version = Number(latest?.version ?? 0) + 1;
      const key = crypto.randomBytes(KEY_BYTES);
      const inserted = await this.db.insert(encryptionKeys)
        .values({ purpose: 'data', version, wrappedKey: await this.provider.wrap(key, wrapContext('data', version)), kekId: this.provider.id })
        .onConflictDoNothing().returning({ id: encryptionKeys.id });
      if (inserted.length > 0) {
        await this.refresh();
        return version;
      }
      if (attempt >= 5) throw new Error('Could not create a new data key: other rotations keep racing this one');
    }
  }

  /**
   * Rewraps every key under a new KEK in one transaction (the keys themselves, and so every
   * ciphertext, stay as they are). This process carries on with `next`; other running processes
   * keep the keys they hold, and must be given the new KEK before their next start.
   */
  async rewrapAll(next: KeyProvider): Promise<number> {
    const count = await this.db.transaction(async (tx) => {
      // No key may be added under the old KEK while the others move to the new one.
      await tx.execute(sql`lock table encryption_keys in share row exclusive mode`);
      const rows = await tx.select().from(encryptionKeys).orderBy(asc(encryptionKeys.id));
      for (const row of rows) {
        if (row.kekId !== this.provider.id) throw this.wrongKek(row);
        const key = await this.provider.unwrap(row.wrappedKey, wrapContext(row.purpose, row.version));
        const wrapped = await next.wrap(key, wrapContext(row.purpose, row.version));
        await tx.update(encryptionKeys).set({ wrappedKey: wrapped, kekId: next.id, rewrappedAt: new Date() }).where(eq(encryptionKeys.id, row.id));
      }
      return rows.length;
    });
    this.provider = next;
    return count;
  }

  private async load(rows: KeyRow[]): Promise<void> {
    for (const row of rows) {
      if (row.kekId !== this.provider.id) throw this.wrongKek(row);
      if (row.purpose === 'index-retired') continue;
      const key = await this.provider.unwrap(row.wrappedKey, wrapContext(row.purpose, row.version));
      if (key.length !== KEY_BYTES) throw new EncryptionKeyError(`The ${row.purpose} key version ${row.version} is not ${KEY_BYTES} bytes`);
      if (row.purpose === 'index') {
        this.indexKeys.set(row.version, new BlindIndex(key));
        if (row.version === Math.max(...this.indexKeys.keys())) this.indexRoot = key;
      } else if (row.purpose === 'data') {
        this.dataKeys.set(row.version, key);
        this.newest = Math.max(this.newest, row.version);
      }
    }
    if (this.indexKeys.size > 0) this.index = new VersionedBlindIndex(this.indexKeys);
    if (!this.indexRoot || this.newest === 0) throw new EncryptionKeyError('The encryption_keys table lacks a data key or the blind-index key');
  }

  private wrongKek(row: KeyRow): EncryptionKeyError {
    return new EncryptionKeyError(
      `The key-encryption key configured (${this.provider.id}) is not the one this database's encryption keys are wrapped with (${row.kekId}). `
      + 'Start with the KEK this database was set up with (ENCRYPTION_KEK, ENCRYPTION_KEK_FILE, or DATA_DIR/kek.key; after `commonweal keys rotate-kek`, the new one). '
      + 'Without it the encrypted personal data cannot be read.',
    );
  }
}
