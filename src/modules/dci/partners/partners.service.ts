import crypto from 'node:crypto';
import type { JWK } from 'jose';
import type { Db } from '../../../platform/database/database.js';
import { AppError, type FieldProblem } from '../../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../../platform/audit/audit.js';
import { assertVersion } from '../../../platform/versioning.js';
import type { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import type { ApiClientService } from '../../api-clients/api-clients.service.js';
import type { ClientSettings } from '../../api-clients/api-client-settings.js';
import { PartnerKeys, SIGNATURE_STRATEGIES, type KeyResolver, type SignaturePolicy, type SignatureStrategyName } from '../protocol/index.js';
import * as repository from './partners.repository.js';
import type { PartnerRow } from './partners.repository.js';

export const SIGNATURE_POLICIES: readonly SignaturePolicy[] = ['required', 'optional'];
export const ENCRYPTION_POLICIES = ['none', 'optional', 'required'] as const;
export type EncryptionPolicy = (typeof ENCRYPTION_POLICIES)[number];
export const DEFAULT_PARTNER_SCOPES = ['dci:search'];
export const SENDER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;
const CALLBACK_HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const CACHE_MS = 5_000;

/**
 * How we authenticate our callbacks to a partner: OAuth 2.0 client credentials at its token URL
 * (the DCI authz API, /oauth2/client/token), or a fixed bearer token. Stored encrypted.
 */
export interface CallbackCredentials {
  tokenUrl?: string;
  clientId?: string;
  clientSecret?: string;
  bearerToken?: string;
}

export interface PartnerSettings {
  name?: string;
  signaturePolicy?: SignaturePolicy;
  signatureStrategy?: SignatureStrategyName;
  publicKeys?: JWK[];
  jwksUrl?: string | null;
  allowedCallbackHosts?: string[];
  callbackCredentials?: CallbackCredentials | null;
  encryptionPolicy?: EncryptionPolicy;
  encryptionKey?: JWK | null;
  isActive?: boolean;
}

/** What the linked API client gets (created with the partner, or changed through it). */
export type PartnerClientSettings = Pick<ClientSettings, 'legalBasis' | 'organisation' | 'organisationType' | 'areaCodes' | 'rateLimitPerMinute'> & { scopes?: string[] };

export interface PartnerInput extends PartnerSettings, PartnerClientSettings {
  senderId: string;
  name: string;
  /** Links an existing API client; without it a client is created and its secret returned once. */
  clientId?: string;
}

/** A partner as the admin API shows it: never a credential. */
export interface PartnerView {
  id: string;
  senderId: string;
  name: string;
  clientId: string;
  signaturePolicy: SignaturePolicy;
  signatureStrategy: SignatureStrategyName;
  publicKeys: JWK[];
  jwksUrl: string | null;
  allowedCallbackHosts: string[];
  /** Whether we hold credentials to call it back (never shown). */
  hasCallbackCredentials: boolean;
  encryptionPolicy: EncryptionPolicy;
  encryptionKey: JWK | null;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** A partner as the DCI server and callbacks use it (credentials decrypted only on demand). */
export interface Partner extends PartnerView {
  /** The partner's API client settings, from its tokens: scopes, legal basis, area limits live there. */
  readonly row: PartnerRow;
}

/**
 * Onboarded DCI partners (senders). Each is linked to one API client, so `/oauth2/client/token`
 * (ours, and the DCI copy under the DCI prefix) issues its bearer tokens and the API client's scopes,
 * legal basis, area limits and rate limit apply to it.
 */
export class DciPartnerService {
  private readonly cache = new Map<string, { partner: Partner | undefined; until: number }>();
  private readonly byClient = new Map<string, { partner: Partner | undefined; until: number }>();
  readonly keys: KeyResolver;

  constructor(
    private readonly db: Db,
    private readonly apiClients: ApiClientService,
    private readonly cipher: FieldCipher,
  ) {
    this.keys = new PartnerKeys(async (senderId) => {
      const partner = await this.findActiveBySender(senderId);
      return partner ? { publicKeys: partner.publicKeys, jwksUrl: partner.jwksUrl } : undefined;
    });
  }

  async create(context: RequestContext, input: PartnerInput): Promise<PartnerView & { clientSecret?: string }> {
    const problems = checkSettings(input);
    if (!SENDER_ID.test(input.senderId ?? '')) problems.push({ path: '/senderId', message: 'must be 1-200 letters, digits or . _ : @ - (e.g. spmis.example.org)' });
    if (!input.name?.trim()) problems.push({ path: '/name', message: 'is required' });
    if (problems.length > 0) throw AppError.validation('The partner is not valid', problems);
    if (await repository.findPartnerBySender(this.db, input.senderId)) throw new AppError('conflict', `A partner with sender id ${input.senderId} already exists`);

    let clientId = input.clientId;
    let clientSecret: string | undefined;
    if (clientId) {
      await this.apiClients.getClient(clientId);
      if (await repository.findPartnerByApiClient(this.db, clientId)) throw new AppError('conflict', `API client ${clientId} is already linked to another partner`);
    } else {
      // The client is created first (its own audited transaction); a partner insert failing after
      // it leaves an unlinked client an administrator can link or deactivate.
      const client = await this.apiClients.createClient(context, {
        name: `DCI partner ${input.name.trim()}`, scopes: input.scopes ?? DEFAULT_PARTNER_SCOPES,
        legalBasis: input.legalBasis, organisation: input.organisation ?? input.name.trim(), organisationType: input.organisationType,
        areaCodes: input.areaCodes, rateLimitPerMinute: input.rateLimitPerMinute,
      });
      clientId = client.clientId;
      clientSecret = client.clientSecret;
    }
    const uuid = crypto.randomUUID();
    const row = await this.db.transaction(async (tx) => {
      const created = await repository.insertPartner(tx, { uuid, senderId: input.senderId, name: input.name.trim(), apiClientId: clientId!, ...this.columnsOf(uuid, input) });
      await recordAudit(tx, context, { action: 'create', entityType: 'dci_partner', entityId: input.senderId, after: auditable(toView(created)) });
      return created;
    });
    this.forget(input.senderId, row.apiClientId);
    return { ...toView(row), ...(clientSecret ? { clientSecret } : {}) };
  }

  async list(): Promise<PartnerView[]> {
    return (await repository.listPartnerRows(this.db)).map(toView);
  }

  async get(senderId: string): Promise<PartnerView> {
    const row = await repository.findPartnerBySender(this.db, senderId);
    if (!row) throw AppError.notFound(`DCI partner ${senderId}`);
    return toView(row);
  }

  /** Changes a partner (and, for `scopes`, `legalBasis`…, its API client). */
  async update(context: RequestContext, senderId: string, expectedVersion: number | undefined, changes: PartnerSettings & PartnerClientSettings): Promise<PartnerView> {
    const problems = checkSettings(changes);
    if (changes.name !== undefined && !changes.name.trim()) problems.push({ path: '/name', message: 'is required' });
    if (problems.length > 0) throw AppError.validation('The change is not valid', problems);
    const view = await this.db.transaction(async (tx) => {
      const row = await repository.lockPartnerBySender(tx, senderId);
      if (!row) throw AppError.notFound(`DCI partner ${senderId}`);
      if (expectedVersion !== undefined) assertVersion(expectedVersion, row.version, `DCI partner ${senderId}`);
      const values = Object.fromEntries(Object.entries({ name: changes.name?.trim(), ...this.columnsOf(row.uuid, changes) }).filter(([, value]) => value !== undefined));
      const updated = await repository.updatePartnerRow(tx, row.id, { ...values, version: row.version + 1 });
      await recordAudit(tx, context, { action: 'update', entityType: 'dci_partner', entityId: senderId, before: auditable(toView(row)), after: auditable(toView(updated)) });
      return toView(updated);
    });
    const { scopes, legalBasis, organisation, organisationType, areaCodes, rateLimitPerMinute } = changes;
    const clientChanges = Object.fromEntries(Object.entries({ scopes, legalBasis, organisation, organisationType, areaCodes, rateLimitPerMinute }).filter(([, value]) => value !== undefined));
    if (Object.keys(clientChanges).length > 0) await this.apiClients.updateClient(context, view.clientId, undefined, clientChanges);
    this.forget(senderId, view.clientId);
    return view;
  }

  /** The active partner sending as `senderId` (cached a few seconds per process). */
  async findActiveBySender(senderId: string): Promise<Partner | undefined> {
    const cached = this.cache.get(senderId);
    if (cached && cached.until > Date.now()) return cached.partner;
    const row = await repository.findPartnerBySender(this.db, senderId);
    const partner = row && row.isActive ? { ...toView(row), row } : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(senderId, { partner, until: Date.now() + CACHE_MS });
    return partner;
  }

  /** The partner linked to an API client (the bearer token's client), active or not; cached a few seconds. */
  async findByClient(clientId: string): Promise<Partner | undefined> {
    const cached = this.byClient.get(clientId);
    if (cached && cached.until > Date.now()) return cached.partner;
    const row = await repository.findPartnerByApiClient(this.db, clientId);
    const partner = row ? { ...toView(row), row } : undefined;
    if (this.byClient.size > 10_000) this.byClient.clear();
    this.byClient.set(clientId, { partner, until: Date.now() + CACHE_MS });
    return partner;
  }

  /** Drops this process's cached copies (other processes see a change within CACHE_MS). */
  private forget(senderId: string, clientId: string): void {
    this.cache.delete(senderId);
    this.byClient.delete(clientId);
  }

  /** Our credentials for calling the partner back, decrypted; undefined when none are set. */
  callbackCredentials(partner: Partner): CallbackCredentials | undefined {
    const stored = partner.row.callbackCredentialsEncrypted;
    return stored ? this.cipher.decryptJson<CallbackCredentials>(stored, credentialsContext(partner.row.uuid)) : undefined;
  }

  /**
   * Whether we may send a callback to `uri` for this partner: http(s), no credentials in the URL,
   * and a host (with port when one is listed) among the partner's allowed callback hosts. An empty
   * list allows none: a partner gets callbacks only where an administrator said so.
   */
  checkCallbackUri(partner: Pick<PartnerView, 'allowedCallbackHosts'>, uri: string): { allowed: true; url: URL } | { allowed: false; message: string } {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return { allowed: false, message: 'sender_uri is not a URL' };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return { allowed: false, message: 'sender_uri must be an http(s) URL' };
    if (url.username || url.password) return { allowed: false, message: 'sender_uri must not carry credentials' };
    const host = url.hostname.toLowerCase();
    const withPort = url.port ? `${host}:${url.port}` : host;
    if (!partner.allowedCallbackHosts.some((allowed) => allowed === withPort || allowed === host)) {
      return { allowed: false, message: `sender_uri host ${withPort} is not among the callback hosts agreed with this partner` };
    }
    return { allowed: true, url };
  }

  private columnsOf(uuid: string, settings: PartnerSettings): Partial<repository.NewPartnerRow> {
    return {
      signaturePolicy: settings.signaturePolicy,
      signatureStrategy: settings.signatureStrategy,
      publicKeys: settings.publicKeys as Array<Record<string, unknown>> | undefined,
      jwksUrl: settings.jwksUrl,
      allowedCallbackHosts: settings.allowedCallbackHosts?.map((host) => host.toLowerCase()),
      callbackCredentialsEncrypted: settings.callbackCredentials === undefined ? undefined
        : settings.callbackCredentials === null ? null : this.cipher.encryptJson(settings.callbackCredentials, credentialsContext(uuid)),
      encryptionPolicy: settings.encryptionPolicy,
      encryptionKey: settings.encryptionKey as Record<string, unknown> | null | undefined,
      isActive: settings.isActive,
    };
  }
}

function credentialsContext(uuid: string) {
  return { table: 'dci_partners', column: 'callback_credentials', record: uuid };
}

function checkSettings(settings: PartnerSettings): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (settings.signaturePolicy !== undefined && !SIGNATURE_POLICIES.includes(settings.signaturePolicy)) problems.push({ path: '/signaturePolicy', message: `must be one of ${SIGNATURE_POLICIES.join(', ')}` });
  if (settings.signatureStrategy !== undefined && !SIGNATURE_STRATEGIES.includes(settings.signatureStrategy)) problems.push({ path: '/signatureStrategy', message: `must be one of ${SIGNATURE_STRATEGIES.join(', ')}` });
  if (settings.encryptionPolicy !== undefined && !ENCRYPTION_POLICIES.includes(settings.encryptionPolicy)) problems.push({ path: '/encryptionPolicy', message: `must be one of ${ENCRYPTION_POLICIES.join(', ')}` });
  for (const [index, key] of (settings.publicKeys ?? []).entries()) {
    const problem = publicJwkProblem(key);
    if (problem) problems.push({ path: `/publicKeys/${index}`, message: problem });
  }
  const kids = (settings.publicKeys ?? []).map((key) => key.kid);
  if (new Set(kids).size !== kids.length) problems.push({ path: '/publicKeys', message: 'key ids (kid) must be unique' });
  if (settings.encryptionKey) {
    const problem = publicJwkProblem(settings.encryptionKey);
    if (problem) problems.push({ path: '/encryptionKey', message: problem });
  }
  if (settings.jwksUrl) {
    const problem = urlProblem(settings.jwksUrl);
    if (problem) problems.push({ path: '/jwksUrl', message: problem });
  }
  for (const [index, host] of (settings.allowedCallbackHosts ?? []).entries()) {
    if (!CALLBACK_HOST.test(host.toLowerCase())) problems.push({ path: `/allowedCallbackHosts/${index}`, message: 'must be a host name, optionally with :port (no scheme, no path)' });
  }
  const credentials = settings.callbackCredentials;
  if (credentials) {
    const clientCredentials = credentials.tokenUrl !== undefined || credentials.clientId !== undefined || credentials.clientSecret !== undefined;
    if (clientCredentials === (credentials.bearerToken !== undefined)) {
      problems.push({ path: '/callbackCredentials', message: 'give either tokenUrl, clientId and clientSecret, or bearerToken' });
    } else if (clientCredentials) {
      if (!credentials.tokenUrl || urlProblem(credentials.tokenUrl)) problems.push({ path: '/callbackCredentials/tokenUrl', message: 'must be an http(s) URL' });
      if (!credentials.clientId) problems.push({ path: '/callbackCredentials/clientId', message: 'is required' });
      if (!credentials.clientSecret) problems.push({ path: '/callbackCredentials/clientSecret', message: 'is required' });
    }
  }
  return problems;
}

function publicJwkProblem(key: JWK): string | undefined {
  if (typeof key !== 'object' || key === null) return 'must be a JWK';
  if (!key.kid) return 'needs a kid';
  if (!['OKP', 'EC', 'RSA'].includes(String(key.kty))) return 'kty must be OKP, EC or RSA';
  if (PRIVATE_JWK_MEMBERS.some((member) => member in key)) return 'is a private key: register only the public half';
  try {
    crypto.createPublicKey({ key: key as crypto.JsonWebKey, format: 'jwk' });
  } catch {
    return 'is not a valid public key';
  }
  return undefined;
}

function urlProblem(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an http(s) URL';
  } catch {
    return 'must be an http(s) URL';
  }
}

export function toView(row: PartnerRow): PartnerView {
  return {
    id: row.uuid,
    senderId: row.senderId,
    name: row.name,
    clientId: row.apiClientId,
    signaturePolicy: row.signaturePolicy as SignaturePolicy,
    signatureStrategy: row.signatureStrategy as SignatureStrategyName,
    publicKeys: row.publicKeys as JWK[],
    jwksUrl: row.jwksUrl,
    allowedCallbackHosts: row.allowedCallbackHosts,
    hasCallbackCredentials: row.callbackCredentialsEncrypted !== null,
    encryptionPolicy: row.encryptionPolicy as EncryptionPolicy,
    encryptionKey: row.encryptionKey as JWK | null,
    isActive: row.isActive,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

/** What the audit log keeps of a partner: settings, never credentials. */
function auditable(view: PartnerView): Record<string, unknown> {
  const { id: _id, createdAt: _createdAt, updatedAt: _updatedAt, version: _version, ...rest } = view;
  return rest;
}
