import crypto from 'node:crypto';
import type { JWK } from 'jose';
import { systemActor } from '../../platform/auth/access-tokens.js';
import type { TestSystem } from '../../test-support/test-system.js';
import { signatureStrategy, type SignatureStrategyName } from './protocol/index.js';

export const DCI = '/dci';

export interface TestPartner {
  senderId: string;
  clientId: string;
  authorization: string;
  kid: string;
  privateKey: crypto.KeyObject;
  strategy: SignatureStrategyName;
}

/** A partner with an Ed25519 key (signature string) or an ES256 key (JWS), and a bearer token. */
export async function onboardPartner(system: TestSystem, options: {
  senderId?: string; strategy?: SignatureStrategyName; policy?: 'required' | 'optional'; scopes?: string[];
  legalBasis?: string; areaCodes?: string[]; allowedCallbackHosts?: string[];
} = {}): Promise<TestPartner> {
  const strategy = options.strategy ?? 'signature-string';
  const { publicKey, privateKey } = strategy === 'jws' ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }) : crypto.generateKeyPairSync('ed25519');
  const kid = `key-${crypto.randomUUID().slice(0, 8)}`;
  const senderId = options.senderId ?? `spmis-${crypto.randomUUID().slice(0, 8)}.example.org`;
  const created = await system.dci.partners.create({ actor: systemActor('test') }, {
    senderId, name: `Partner ${senderId}`,
    scopes: options.scopes ?? ['dci:search', 'pii:reveal'],
    legalBasis: options.legalBasis, areaCodes: options.areaCodes,
    signatureStrategy: strategy, signaturePolicy: options.policy ?? 'required',
    publicKeys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid }],
    allowedCallbackHosts: options.allowedCallbackHosts ?? [],
  });
  const grant = await system.services.apiClients.issueToken(created.clientId, created.clientSecret!);
  return { senderId, clientId: created.clientId, authorization: `Bearer ${grant.accessToken}`, kid, privateKey, strategy };
}

export function header(partner: Pick<TestPartner, 'senderId'>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '1.0.0', message_id: crypto.randomUUID(), message_ts: new Date().toISOString(), action: 'search',
    sender_id: partner.senderId, receiver_id: 'commonweal.test', total_count: 1, ...overrides,
  };
}

export function searchItem(criteria: Record<string, unknown>, referenceId: string = crypto.randomUUID()): Record<string, unknown> {
  return { reference_id: referenceId, timestamp: new Date().toISOString(), search_criteria: criteria };
}

export function searchMessage(...items: Array<Record<string, unknown>>): Record<string, unknown> {
  return { transaction_id: crypto.randomUUID(), search_request: items };
}

/** A signed envelope (the partner's strategy); `total_count` follows the items unless overridden. */
export async function signedEnvelope(partner: TestPartner, message: Record<string, unknown>, headerOverrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const items = (message.search_request as unknown[] | undefined)?.length ?? 1;
  const h = header(partner, { total_count: items, ...headerOverrides });
  const algorithm = partner.strategy === 'jws' ? 'ES256' : 'EdDSA';
  const signature = await signatureStrategy(partner.strategy).sign({ header: h, message }, { senderId: partner.senderId, kid: partner.kid, algorithm, privateKey: partner.privateKey });
  return { signature, header: h, message };
}
