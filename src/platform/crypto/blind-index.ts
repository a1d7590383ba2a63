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
