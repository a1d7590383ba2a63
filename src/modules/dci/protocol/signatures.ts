import type { KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { KeyResolver } from './keys.js';
import { SignatureStringStrategy, SIGNATURE_STRING } from './signature-string.js';
import { JwsStrategy, JWS } from './jws-signature.js';

/** What a DCI signature covers: the envelope's header and message, canonicalised (canonical.ts). */
export interface SignedContent {
  header: unknown;
  message?: unknown;
}

/** A private key we sign with, and how receivers find its public half (our JWKS, our sender id). */
export interface SigningKey {
  senderId: string;
  kid: string;
  algorithm: 'EdDSA' | 'ES256' | 'RS256';
  privateKey: KeyObject | CryptoKey;
}

export interface VerifyOptions {
  /** header.sender_id: whose keys verify. */
  senderId: string;
  now?: Date;
  /** Tolerated clock difference for created/expires (default 60 s). */
  clockSkewSeconds?: number;
}

export type VerifyOutcome =
  | { valid: true; kid: string }
  | { valid: false; reason: 'invalid' | 'expired'; message: string };

export type SignatureStrategyName = typeof SIGNATURE_STRING | typeof JWS;
export const SIGNATURE_STRATEGIES: readonly SignatureStrategyName[] = [SIGNATURE_STRING, JWS];

/** A way to sign and verify the envelope's `signature` field; chosen per partner. */
export interface SignatureStrategy {
  readonly name: SignatureStrategyName;
  /** The value has this strategy's form (it may still fail verification). */
  recognises(signature: string): boolean;
  sign(content: SignedContent, key: SigningKey, options?: { now?: Date; ttlSeconds?: number }): Promise<string>;
  verify(signature: string, content: SignedContent, keys: KeyResolver, options: VerifyOptions): Promise<VerifyOutcome>;
}

const strategies: Record<SignatureStrategyName, SignatureStrategy> = {
  [SIGNATURE_STRING]: new SignatureStringStrategy(),
  [JWS]: new JwsStrategy(),
};

export function signatureStrategy(name: SignatureStrategyName): SignatureStrategy {
  return strategies[name];
}

export type SignaturePolicy = 'required' | 'optional';

export type SignatureCheck =
  | { status: 'verified'; kid: string }
  | { status: 'unsigned' }
  | { status: 'missing' | 'invalid' | 'expired'; message: string };

/**
 * The signature check of one incoming envelope under a partner's policy and strategy.
 * - `required`: a missing signature is `missing`; anything not verifying is `invalid` / `expired`.
 * - `optional`: a missing signature, or a value in neither strategy's form (the conformance suite
 *   sends "unsigned-stub"), is accepted as `unsigned`; a value in a strategy's form must verify,
 *   so a tampered signed message is still refused.
 */
export async function checkSignature(
  signature: unknown,
  content: SignedContent,
  policy: SignaturePolicy,
  strategyName: SignatureStrategyName,
  keys: KeyResolver,
  options: VerifyOptions,
): Promise<SignatureCheck> {
  const value = typeof signature === 'string' ? signature.trim() : '';
  if (value === '') return policy === 'required' ? { status: 'missing', message: 'The envelope has no signature' } : { status: 'unsigned' };
  const strategy = strategies[strategyName];
  if (!strategy.recognises(value)) {
    if (policy === 'optional' && !Object.values(strategies).some((other) => other.recognises(value))) return { status: 'unsigned' };
    return { status: 'invalid', message: `The signature is not in the ${strategyName} form agreed for this sender` };
  }
  const outcome = await strategy.verify(value, content, keys, options);
  if (outcome.valid) return { status: 'verified', kid: outcome.kid };
  return { status: outcome.reason, message: outcome.message };
}
