import { base64url, flattenedVerify, FlattenedSign, decodeProtectedHeader } from 'jose';
import { signedContentOf, canonicalJson } from './canonical.js';
import type { KeyResolver } from './keys.js';
import type { SignatureStrategy, SignedContent, SigningKey, VerifyOptions, VerifyOutcome } from './signatures.js';
import { toKeyObject } from './signature-string.js';

/**
 * Strategy (b): a compact JWS (RS256, ES256 or EdDSA) over the JCS canonical JSON of
 * `{"header":…,"message":…}`, the key named by `kid` in the sender's JWKS. We write it with a
 * detached payload (RFC 7515 appendix F: `protected..signature`), since the payload is the envelope
 * itself; we accept an attached payload too when it is the same canonical JSON. The protected
 * header carries `iat` and `exp` (seconds): a JWS past its `exp` is refused as expired.
 */

export const JWS = 'jws';
const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

export class JwsStrategy implements SignatureStrategy {
  readonly name = JWS;

  recognises(signature: string): boolean {
    if (!COMPACT.test(signature.trim())) return false;
    try {
      return typeof decodeProtectedHeader(signature.trim()).alg === 'string';
    } catch {
      return false;
    }
  }

  async sign(content: SignedContent, key: SigningKey, options: { now?: Date; ttlSeconds?: number } = {}): Promise<string> {
    const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const jws = await new FlattenedSign(signedContentOf(content))
      .setProtectedHeader({ alg: key.algorithm, kid: key.kid, typ: 'dci+jws', iat, exp: iat + (options.ttlSeconds ?? 300) })
      .sign(key.algorithm === 'EdDSA' ? toKeyObject(key.privateKey) : key.privateKey);
    return `${jws.protected}..${jws.signature}`;
  }

  async verify(signature: string, content: SignedContent, keys: KeyResolver, options: VerifyOptions): Promise<VerifyOutcome> {
    const [protectedPart, payloadPart, signaturePart] = signature.trim().split('.');
    let header: { alg?: unknown; kid?: unknown; exp?: unknown; iat?: unknown };
    try {
      header = decodeProtectedHeader(signature.trim()) as typeof header;
    } catch {
      return { valid: false, reason: 'invalid', message: 'The signature is not a compact JWS' };
    }
    if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg)) return { valid: false, reason: 'invalid', message: `JWS alg must be one of ${ALGORITHMS.join(', ')}` };
    if (typeof header.kid !== 'string' || header.kid === '') return { valid: false, reason: 'invalid', message: 'The JWS protected header has no kid' };
    const bytes = signedContentOf(content);
    if (payloadPart) {
      // An attached payload must be the envelope itself (compared canonically).
      try {
        const attached = JSON.parse(Buffer.from(base64url.decode(payloadPart)).toString('utf8')) as unknown;
        if (canonicalJson(attached) !== bytes.toString('utf8')) return { valid: false, reason: 'invalid', message: 'The JWS payload is not this header and message' };
      } catch {
        return { valid: false, reason: 'invalid', message: 'The JWS payload is not JSON' };
      }
    }
    const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const skew = options.clockSkewSeconds ?? 60;
    if (typeof header.exp === 'number' && header.exp + skew < now) return { valid: false, reason: 'expired', message: 'The JWS has expired (exp)' };
    if (typeof header.iat === 'number' && header.iat > now + skew) return { valid: false, reason: 'invalid', message: 'The JWS iat is in the future' };
    const key = await keys.resolve(options.senderId, header.kid, header.alg);
    if (!key) return { valid: false, reason: 'invalid', message: `No public key "${header.kid}" is known for this sender` };
    try {
      await flattenedVerify({ protected: protectedPart!, payload: payloadPart || base64url.encode(bytes), signature: signaturePart! }, key, { algorithms: ALGORITHMS });
      return { valid: true, kid: header.kid };
    } catch {
      return { valid: false, reason: 'invalid', message: 'The JWS does not match the header and message' };
    }
  }
}
