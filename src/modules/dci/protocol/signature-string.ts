import crypto, { type KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { signedContentOf } from './canonical.js';
import type { KeyResolver } from './keys.js';
import type { SignatureStrategy, SignedContent, SigningKey, VerifyOptions, VerifyOutcome } from './signatures.js';

/**
 * Strategy (a): the signature string of the spec's `MsgSignature` example, in the style of
 * draft-cavage HTTP signatures as Beckn and G2P Connect use it:
 *
 *   Signature: namespace="dci", kidId="{sender_id}|{key id}|ed25519", algorithm="ed25519",
 *     created="1606970629", expires="1607030629", headers="(created) (expires) digest",
 *     signature="Base64(Ed25519(signing string))"
 *
 * The signing string is one line per entry of `headers`, in that order:
 *   (created): 1606970629
 *   (expires): 1607030629
 *   digest: BLAKE-512=Base64(BLAKE2b-512(JCS({"header":…,"message":…})))
 * We write BLAKE-512 (Beckn's choice); we accept a `SHA-256=` digest as well (see docs/DCI.md).
 */

export const SIGNATURE_STRING = 'signature-string';
const ALGORITHM = 'ed25519';
const REQUIRED_HEADERS = ['(created)', '(expires)', 'digest'];

export interface ParsedSignatureString {
  namespace?: string;
  senderId: string;
  keyId: string;
  algorithm: string;
  created: number;
  expires: number;
  headers: string[];
  signature: Buffer;
}

const PARAMETER = /([A-Za-z]+)\s*=\s*"([^"]*)"/g;

/** The parameters of a signature string, or undefined when it is not one (e.g. a JWS). */
export function parseSignatureString(value: string): ParsedSignatureString | undefined {
  const text = value.trim().replace(/^Signature\s*:?\s*/i, '');
  const parameters = new Map<string, string>();
  for (const match of text.matchAll(PARAMETER)) parameters.set(match[1]!.toLowerCase(), match[2]!);
  // `kidId` in the spec's MsgSignature, `keyId` in its security scheme and in draft-cavage.
  const kid = parameters.get('kidid') ?? parameters.get('keyid');
  const signature = parameters.get('signature');
  const created = Number(parameters.get('created'));
  const expires = Number(parameters.get('expires'));
  if (!kid || !signature || !Number.isSafeInteger(created) || !Number.isSafeInteger(expires)) return undefined;
  const [senderId, keyId, kidAlgorithm] = kid.split('|');
  if (!senderId || !keyId) return undefined;
  return {
    namespace: parameters.get('namespace'),
    senderId,
    keyId,
    algorithm: (parameters.get('algorithm') ?? kidAlgorithm ?? '').toLowerCase(),
    created,
    expires,
    headers: (parameters.get('headers') ?? REQUIRED_HEADERS.join(' ')).split(/\s+/).filter(Boolean),
    signature: Buffer.from(signature, 'base64'),
  };
}

function digestOf(content: Buffer, algorithm: 'BLAKE-512' | 'SHA-256'): string {
  const hash = crypto.createHash(algorithm === 'BLAKE-512' ? 'blake2b512' : 'sha256').update(content).digest('base64');
  return `${algorithm}=${hash}`;
}

function signingString(headers: string[], created: number, expires: number, digest: string): string {
  return headers.map((name) => {
    if (name === '(created)') return `(created): ${created}`;
    if (name === '(expires)') return `(expires): ${expires}`;
    return `digest: ${digest}`;
  }).join('\n');
}

export class SignatureStringStrategy implements SignatureStrategy {
  readonly name = SIGNATURE_STRING;

  constructor(private readonly namespace = 'dci') {}

  recognises(signature: string): boolean {
    return parseSignatureString(signature) !== undefined;
  }

  async sign(content: SignedContent, key: SigningKey, options: { now?: Date; ttlSeconds?: number } = {}): Promise<string> {
    if (key.algorithm !== 'EdDSA') throw new Error(`The signature string strategy signs with Ed25519 keys only, not ${key.algorithm}`);
    const created = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const expires = created + (options.ttlSeconds ?? 300);
    const digest = digestOf(signedContentOf(content), 'BLAKE-512');
    const signature = crypto.sign(null, Buffer.from(signingString(REQUIRED_HEADERS, created, expires, digest)), toKeyObject(key.privateKey));
    return `Signature: namespace="${this.namespace}", kidId="${key.senderId}|${key.kid}|${ALGORITHM}", algorithm="${ALGORITHM}", `
      + `created="${created}", expires="${expires}", headers="${REQUIRED_HEADERS.join(' ')}", signature="${signature.toString('base64')}"`;
  }

  async verify(signature: string, content: SignedContent, keys: KeyResolver, options: VerifyOptions): Promise<VerifyOutcome> {
    const parsed = parseSignatureString(signature);
    if (!parsed) return { valid: false, reason: 'invalid', message: 'The signature is not a signature string (namespace, kidId, created, expires, headers, signature)' };
    if (parsed.senderId !== options.senderId) return { valid: false, reason: 'invalid', message: 'The signature\'s kidId names another sender than header.sender_id' };
    if (parsed.algorithm !== ALGORITHM) return { valid: false, reason: 'invalid', message: `Signature algorithm "${parsed.algorithm}" is not supported; use ed25519` };
    if (parsed.headers.length !== REQUIRED_HEADERS.length || !REQUIRED_HEADERS.every((name) => parsed.headers.includes(name))) {
      return { valid: false, reason: 'invalid', message: 'The signature must cover headers="(created) (expires) digest"' };
    }
    const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
    const skew = options.clockSkewSeconds ?? 60;
    if (parsed.created > now + skew || parsed.expires < parsed.created) return { valid: false, reason: 'invalid', message: 'The signature\'s created/expires are not valid' };
    if (parsed.expires + skew < now) return { valid: false, reason: 'expired', message: 'The signature has expired' };
    const key = await keys.resolve(options.senderId, parsed.keyId, 'EdDSA');
    if (!key) return { valid: false, reason: 'invalid', message: `No public key "${parsed.keyId}" is known for this sender` };
    const bytes = signedContentOf(content);
    for (const algorithm of ['BLAKE-512', 'SHA-256'] as const) {
      const text = signingString(parsed.headers, parsed.created, parsed.expires, digestOf(bytes, algorithm));
      if (crypto.verify(null, Buffer.from(text), key, parsed.signature)) return { valid: true, kid: parsed.keyId };
    }
    return { valid: false, reason: 'invalid', message: 'The signature does not match the header and message' };
  }
}

export function toKeyObject(key: KeyObject | CryptoKey): KeyObject {
  return key instanceof crypto.KeyObject ? key : crypto.KeyObject.from(key);
}
