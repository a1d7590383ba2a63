import fs from 'node:fs';
import crypto from 'node:crypto';
import type { JWK } from 'jose';
import type { Config } from '../platform/config.js';
import type { System } from '../app.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import type { PartnerView, PartnerSettings, PartnerClientSettings } from '../modules/dci/partners/partners.service.js';
import type { SignaturePolicy, SignatureStrategyName } from '../modules/dci/protocol/index.js';
import { runCommand } from './users.js';

const cli = { actor: systemActor('cli') };

export interface DciPartnerOptions {
  senderId: string;
  name?: string;
  clientId?: string;
  scopes?: string;
  legalBasis?: string;
  areas?: string;
  rateLimit?: number;
  signaturePolicy?: string;
  signatureStrategy?: string;
  publicKey?: string[];
  jwksUrl?: string;
  callbackHosts?: string;
  callbackTokenUrl?: string;
  callbackClientId?: string;
  callbackSecretFile?: string;
  active?: boolean;
  json?: boolean;
}

const list = (value: string | undefined) => (value === undefined ? undefined : value.split(/[\s,]+/).filter(Boolean));

/** `--public-key kid=file.pem|file.jwk`: a PEM or JWK file, given a key id. */
function readPublicKey(spec: string): JWK {
  const separator = spec.indexOf('=');
  if (separator <= 0) throw new Error(`--public-key must be kid=file (got ${spec})`);
  const kid = spec.slice(0, separator);
  const text = fs.readFileSync(spec.slice(separator + 1), 'utf8');
  const key = text.trim().startsWith('{') ? crypto.createPublicKey({ key: JSON.parse(text) as crypto.JsonWebKey, format: 'jwk' }) : crypto.createPublicKey(text);
  return { ...(key.export({ format: 'jwk' }) as JWK), kid };
}

function settingsOf(options: DciPartnerOptions): PartnerSettings & PartnerClientSettings {
  const callbackSecret = options.callbackSecretFile ? fs.readFileSync(options.callbackSecretFile, 'utf8').trim() : undefined;
  return {
    name: options.name,
    scopes: list(options.scopes),
    legalBasis: options.legalBasis,
    areaCodes: list(options.areas),
    rateLimitPerMinute: options.rateLimit,
    signaturePolicy: options.signaturePolicy as SignaturePolicy | undefined,
    signatureStrategy: options.signatureStrategy as SignatureStrategyName | undefined,
    publicKeys: options.publicKey && options.publicKey.length > 0 ? options.publicKey.map(readPublicKey) : undefined,
    jwksUrl: options.jwksUrl === undefined ? undefined : options.jwksUrl || null,
    allowedCallbackHosts: list(options.callbackHosts),
    callbackCredentials: options.callbackTokenUrl || options.callbackClientId || callbackSecret
      ? { tokenUrl: options.callbackTokenUrl, clientId: options.callbackClientId, clientSecret: callbackSecret }
      : undefined,
    isActive: options.active,
  };
}

function describe(partner: PartnerView): string {
  return `${partner.senderId} (${partner.name}) client ${partner.clientId}: signature ${partner.signaturePolicy} ${partner.signatureStrategy}, `
    + `${partner.publicKeys.length} key(s)${partner.jwksUrl ? ` + ${partner.jwksUrl}` : ''}, callbacks to ${partner.allowedCallbackHosts.join(',') || '(none)'}, `
    + `encryption ${partner.encryptionPolicy}${partner.isActive ? '' : ', INACTIVE'}`;
}

export async function dciPartnerCreate(system: System, options: DciPartnerOptions): Promise<string> {
  const partner = await system.dci.partners.create(cli, { ...settingsOf(options), senderId: options.senderId, name: options.name ?? options.senderId, clientId: options.clientId });
  if (options.json) return JSON.stringify(partner);
  return [
    `Created DCI partner ${describe(partner)}`,
    ...(partner.clientSecret ? [`  client_id:     ${partner.clientId}`, `  client_secret: ${partner.clientSecret}`, 'The secret is shown only now; store it safely.'] : []),
  ].join('\n');
}

export async function dciPartnerUpdate(system: System, options: DciPartnerOptions): Promise<string> {
  const partner = await system.dci.partners.update(cli, options.senderId, undefined, settingsOf(options));
  return options.json ? JSON.stringify(partner) : `Updated ${describe(partner)}`;
}

export async function dciPartnerList(system: System, options: { json?: boolean }): Promise<string> {
  const partners = await system.dci.partners.list();
  if (options.json) return JSON.stringify(partners);
  return partners.length === 0 ? 'No DCI partners.' : partners.map(describe).join('\n');
}

export const dciPartnerCreateCommand = (config: Config, options: DciPartnerOptions) => runCommand(config, (system) => dciPartnerCreate(system, options));
export const dciPartnerUpdateCommand = (config: Config, options: DciPartnerOptions) => runCommand(config, (system) => dciPartnerUpdate(system, options));
export const dciPartnerListCommand = (config: Config, options: { json?: boolean }) => runCommand(config, (system) => dciPartnerList(system, options));
