import crypto from 'node:crypto';

const SALT = Buffer.from('commonweal blind index v1', 'utf8');

/**
 * Blind indexes: HMAC-SHA256 of a normalised value under a key derived (HKDF-SHA256) for one
 * purpose from a root key that is stored wrapped like the data keys. Equal values give equal
 * indexes, so an encrypted column can still be matched exactly and kept unique; without the key
 * nothing can be learnt from an index, not even whether two purposes hold the same value.
 *
 * The root key is not rotated with the data keys (that would change every index at once).
 */
export class BlindIndex {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly rootKey: Buffer) {
    if (rootKey.length !== 32) throw new Error('The blind-index root key must be 32 bytes');
  }

  /** base64url of the HMAC (43 characters). `purpose` names what is indexed, e.g. "identifiers.value". */
  compute(purpose: string, normalisedValue: string): string {
    return crypto.createHmac('sha256', this.keyFor(purpose)).update(normalisedValue, 'utf8').digest('base64url');
  }

  private keyFor(purpose: string): Buffer {
    let key = this.keys.get(purpose);
    if (!key) {
      key = Buffer.from(crypto.hkdfSync('sha256', this.rootKey, SALT, Buffer.from(purpose, 'utf8'), 32));
      this.keys.set(purpose, key);
    }
    return key;
  }
}

/**
 * Blind indexes under several root-key versions, for rotating the root without downtime: the
 * newest active version writes; every active version is looked up, so a value indexed under the
 * old key is still found while the `privacy.reindex` job recomputes it. Version 1 indexes are bare
 * (as before rotation existed); later versions carry `k<version>.` so a row's version shows.
 */
export class VersionedBlindIndex {
  private readonly newest: number;

  constructor(private readonly versions: ReadonlyMap<number, BlindIndex>) {
    if (versions.size === 0) throw new Error('No blind-index key is active');
    this.newest = Math.max(...versions.keys());
  }

  /** The version new indexes are written with. */
  get writingVersion(): number {
    return this.newest;
  }

  /** The index written for a value now (newest key). */
  compute(purpose: string, normalisedValue: string): string {
    return indexWithVersion(this.newest, this.versions.get(this.newest)!.compute(purpose, normalisedValue));
  }

  /** Every index the value may be stored under while a rotation runs (the newest first). */
  computeAll(purpose: string, normalisedValue: string): string[] {
    return [...this.versions.keys()].sort((a, b) => b - a).map((version) => indexWithVersion(version, this.versions.get(version)!.compute(purpose, normalisedValue)));
  }
}

/** `k<version>.` before indexes of root-key versions after the first. */
export const indexVersionPrefix = (version: number): string => (version === 1 ? '' : `k${version}.`);
const indexWithVersion = (version: number, index: string): string => `${indexVersionPrefix(version)}${index}`;
