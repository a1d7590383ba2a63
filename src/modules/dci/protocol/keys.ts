import { KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, type CryptoKey, type JWK, type JWSHeaderParameters } from 'jose';

/** Finds a sender's public key by key id, for the algorithm of the signature (JWS name: EdDSA, ES256, RS256). */
export interface KeyResolver {
  resolve(senderId: string, kid: string, algorithm: string): Promise<KeyObject | undefined>;
}

/** Where a sender's public keys are: registered JWKs, a JWKS URL, or both (registered ones first). */
export interface SenderKeySource {
  publicKeys: JWK[];
  jwksUrl: string | null;
}

export interface RemoteKeyOptions {
  /** How long a fetched JWKS is trusted before it is fetched again (default 10 minutes). */
  cacheMaxAgeMs?: number;
  /** An unknown kid refetches the set, but at most this often (default 30 s): made-up kids cannot flood the partner. */
  cooldownMs?: number;
  /** Fetch timeout (default 5 s). */
  timeoutMs?: number;
  /** Remote sets kept (least recently used dropped; default 500). */
  maxRemoteSets?: number;
}

type JwkSet = (header: JWSHeaderParameters) => Promise<unknown>;

/**
 * Partner keys, registered directly or fetched from the partner's JWKS URL and cached (jose's
 * remote JWKS: TTL, refetch on an unknown kid after a cooldown, timeout). The sender's key source is
 * looked up on every call (the caller caches partners), so a changed URL or key takes effect at once.
 */
export class PartnerKeys implements KeyResolver {
  private readonly remote = new Map<string, JwkSet>();

  constructor(
    private readonly sourceOf: (senderId: string) => Promise<SenderKeySource | undefined>,
    private readonly options: RemoteKeyOptions = {},
  ) {}

  async resolve(senderId: string, kid: string, algorithm: string): Promise<KeyObject | undefined> {
    const source = await this.sourceOf(senderId);
    if (!source) return undefined;
    const header = { alg: algorithm, kid };
    if (source.publicKeys.length > 0) {
      const local = await findIn(createLocalJWKSet({ keys: source.publicKeys }), header);
      if (local) return local;
    }
    if (!source.jwksUrl) return undefined;
    return findIn(this.remoteSet(source.jwksUrl), header);
  }

  private remoteSet(url: string): JwkSet {
    let set = this.remote.get(url);
    if (set) {
      this.remote.delete(url);
    } else {
      set = createRemoteJWKSet(new URL(url), {
        cacheMaxAge: this.options.cacheMaxAgeMs ?? 10 * 60_000,
        cooldownDuration: this.options.cooldownMs ?? 30_000,
        timeoutDuration: this.options.timeoutMs ?? 5_000,
      }) as unknown as JwkSet;
    }
    this.remote.set(url, set);
    const max = this.options.maxRemoteSets ?? 500;
    while (this.remote.size > max) this.remote.delete(this.remote.keys().next().value!);
    return set;
  }
}

async function findIn(set: JwkSet, header: JWSHeaderParameters): Promise<KeyObject | undefined> {
  try {
    const key = await set(header);
    return key instanceof KeyObject ? key : KeyObject.from(key as CryptoKey);
  } catch {
    // No matching key, several matching keys, or the JWKS could not be fetched: not verifiable.
    return undefined;
  }
}

/** Keys held in memory (tests, our own keys): sender → JWKs. */
export function staticKeys(bySender: Record<string, JWK[]>): KeyResolver {
  return new PartnerKeys(async (senderId) => (bySender[senderId] ? { publicKeys: bySender[senderId]!, jwksUrl: null } : undefined));
}
