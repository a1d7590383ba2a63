import crypto from 'node:crypto';
import { importJWK, type JWK, type CryptoKey } from 'jose';
import type { Db } from '../../../platform/database/database.js';
import { AppError, type FieldProblem } from '../../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../../platform/audit/audit.js';
import { assertVersion } from '../../../platform/versioning.js';
import type { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import type { ApiClientService } from '../../api-clients/api-clients.service.js';
import { PartnerKeys, SIGNATURE_STRATEGIES, type KeyResolver, type SignatureStrategyName, type SigningKey } from '../protocol/index.js';
import * as repository from './data-sources.repository.js';
import type { DataSourceRow } from './data-sources.repository.js';

export const REGISTRY_TYPES = ['CRVS', 'IBR', 'DR', 'SR'] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];
export const AUTH_TYPES = ['oauth2', 'bearer', 'none'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];
export const CALLBACK_SCOPE = 'dci:callback';

/** The spec's paths (crvs/ibr/dr/social YAML); a registry in the field may move them (`paths`). */
export const DEFAULT_PATHS = {
  sync_search: '/registry/sync/search',
  search: '/registry/search',
  subscribe: '/registry/subscribe',
  unsubscribe: '/registry/unsubscribe',
  txn_status: '/registry/txn/status',
  sync_txn_status: '/registry/sync/txn/status',
  enrolled: '/registry/sync/enrolled',
  enrollment_updates: '/registry/sync/enrollment/updates',
  disabled: '/registry/sync/disabled',
  disability_details: '/registry/sync/get-disability-details',
  token: '/oauth2/client/token',
  jwks: '/.well-known/jwks.json',
} as const;
export type Operation = keyof typeof DEFAULT_PATHS;
export const OPERATIONS = Object.keys(DEFAULT_PATHS) as Operation[];

interface Secrets {
  clientSecret?: string;
  bearerToken?: string;
  /** A private JWK of this source's own signing key (Ed25519). */
  signingKey?: JWK;
}

export interface DataSourceSettings {
  name?: string;
  registryType?: RegistryType;
  baseUrl?: string;
  paths?: Partial<Record<Operation, string>>;
  authType?: AuthType;
  oauthClientId?: string | null;
  clientSecret?: string | null;
  bearerToken?: string | null;
  ourSenderId?: string;
  receiverId?: string;
  signatureStrategy?: SignatureStrategyName;
  /** Our signing key for this registry (private JWK with kid); null = our DCI key (published JWKS). */
  signingKey?: JWK | null;
  jwksUrl?: string | null;
  publicKeys?: JWK[];
  requireSignedResponses?: boolean;
  callbackUrl?: string | null;
  callbackClientId?: string | null;
  verifyTls?: boolean;
  timeoutMs?: number;
  isActive?: boolean;
}

export interface DataSourceInput extends DataSourceSettings {
  code: string;
  name: string;
  registryType: RegistryType;
  baseUrl: string;
  ourSenderId: string;
  receiverId: string;
  /** Creates the API client this registry uses to call our callback endpoints; its secret is returned once. */
  createCallbackClient?: boolean;
}

/** A data source as the admin API shows it: never a secret. */
export interface DataSourceView {
  id: string;
  code: string;
  name: string;
  registryType: RegistryType;
  baseUrl: string;
  paths: Record<Operation, string>;
  authType: AuthType;
  oauthClientId: string | null;
  /** Whether secrets (client secret, bearer token, own signing key) are stored; never shown. */
  hasSecrets: boolean;
  ourSenderId: string;
  receiverId: string;
  signatureStrategy: SignatureStrategyName;
  signingKid: string | null;
  jwksUrl: string | null;
  publicKeys: JWK[];
  requireSignedResponses: boolean;
  callbackUrl: string | null;
  callbackClientId: string | null;
  verifyTls: boolean;
  timeoutMs: number;
  isActive: boolean;
  lastTestAt: string | null;
  lastTestResult: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** What the client needs to call one registry: the view, its row id, decrypted secrets, keys. */
export interface ResolvedSource {
  rowId: number;
  view: DataSourceView;
  clientSecret?: string;
  bearerToken?: string;
  /** Our key for this source, when it has one of its own. */
  signingKey?: SigningKey;
  url(operation: Operation): string;
}

const CODE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

export class DciDataSourceService {
  /** The registries' public keys (registered or JWKS URL), looked up by their receiver id. */
  readonly keys: KeyResolver;
  private readonly savedListeners: Array<() => Promise<void>> = [];

  /** Called after a data source is created or changed (e.g. to plug the IBR check into programs). */
  onSaved(listener: () => Promise<void>): void {
    this.savedListeners.push(listener);
  }

  private async saved(): Promise<void> {
    for (const listener of this.savedListeners) await listener();
  }

  constructor(private readonly db: Db, private readonly apiClients: ApiClientService, private readonly cipher: FieldCipher) {
    this.keys = new PartnerKeys(async (senderId) => {
      const rows = await repository.listSources(this.db);
      const row = rows.find((candidate) => candidate.receiverId === senderId && candidate.isActive);
      return row ? { publicKeys: row.publicKeys as JWK[], jwksUrl: row.jwksUrl } : undefined;
    }, { cooldownMs: 1_000 });
  }

  async create(context: RequestContext, input: DataSourceInput): Promise<DataSourceView & { callbackClientSecret?: string }> {
    const problems = validate(input, true);
    if (!CODE.test(input.code)) problems.push({ path: '/code', message: 'must be lower-case letters, digits, _ . - (up to 64)' });
    if (problems.length > 0) throw AppError.validation('The data source is not valid', problems);
    if (await repository.findSourceByCode(this.db, input.code)) throw new AppError('conflict', `A data source with code ${input.code} exists`);
    const created = await this.db.transaction(async (tx) => {
      let callbackClientId = input.callbackClientId ?? null;
      let callbackClientSecret: string | undefined;
      if (input.createCallbackClient) {
        const client = await this.apiClients.createClient(context, { name: `DCI callbacks from ${input.name}`, scopes: [CALLBACK_SCOPE] });
        callbackClientId = client.clientId;
        callbackClientSecret = client.clientSecret;
      }
      const uuid = crypto.randomUUID();
      const row = await repository.insertSource(tx, {
        uuid, code: input.code, name: input.name, registryType: input.registryType, baseUrl: trimSlash(input.baseUrl), paths: input.paths ?? {},
        authType: input.authType ?? 'none', oauthClientId: input.oauthClientId ?? null,
        secretsEncrypted: this.encryptSecrets(uuid, { clientSecret: input.clientSecret ?? undefined, bearerToken: input.bearerToken ?? undefined, signingKey: input.signingKey ?? undefined }),
        ourSenderId: input.ourSenderId, receiverId: input.receiverId, signatureStrategy: input.signatureStrategy ?? 'signature-string',
        signingKid: input.signingKey?.kid ?? null, jwksUrl: input.jwksUrl ?? null, publicKeys: (input.publicKeys ?? []) as Array<Record<string, unknown>>,
        requireSignedResponses: input.requireSignedResponses ?? true, callbackUrl: input.callbackUrl ? trimSlash(input.callbackUrl) : null, callbackClientId,
        verifyTls: input.verifyTls ?? true, timeoutMs: input.timeoutMs ?? 30_000, isActive: input.isActive ?? true,
      });
      const view = toView(row);
      await recordAudit(tx, context, { action: 'create', entityType: 'dci-data-source', entityId: input.code, after: auditOf(view) });
      return callbackClientSecret ? { ...view, callbackClientSecret } : view;
    });
    await this.saved();
    return created;
  }

  async update(context: RequestContext, code: string, expectedVersion: number, patch: DataSourceSettings): Promise<DataSourceView> {
    const problems = validate(patch, false);
    if (problems.length > 0) throw AppError.validation('The change is not valid', problems);
    const row = await this.row(code);
    assertVersion(expectedVersion, row.version, 'This data source');
    const secrets = this.secretsOf(row);
    const nextSecrets: Secrets = {
      clientSecret: patch.clientSecret === null ? undefined : patch.clientSecret ?? secrets.clientSecret,
      bearerToken: patch.bearerToken === null ? undefined : patch.bearerToken ?? secrets.bearerToken,
      signingKey: patch.signingKey === null ? undefined : patch.signingKey ?? secrets.signingKey,
    };
    const values: Partial<repository.DataSourceInsert> = {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.registryType !== undefined ? { registryType: patch.registryType } : {}),
      ...(patch.baseUrl !== undefined ? { baseUrl: trimSlash(patch.baseUrl) } : {}),
      ...(patch.paths !== undefined ? { paths: { ...row.paths, ...patch.paths } } : {}),
      ...(patch.authType !== undefined ? { authType: patch.authType } : {}),
      ...(patch.oauthClientId !== undefined ? { oauthClientId: patch.oauthClientId } : {}),
      ...(patch.ourSenderId !== undefined ? { ourSenderId: patch.ourSenderId } : {}),
      ...(patch.receiverId !== undefined ? { receiverId: patch.receiverId } : {}),
      ...(patch.signatureStrategy !== undefined ? { signatureStrategy: patch.signatureStrategy } : {}),
      ...(patch.signingKey !== undefined ? { signingKid: patch.signingKey?.kid ?? null } : {}),
      ...(patch.jwksUrl !== undefined ? { jwksUrl: patch.jwksUrl } : {}),
      ...(patch.publicKeys !== undefined ? { publicKeys: patch.publicKeys as Array<Record<string, unknown>> } : {}),
      ...(patch.requireSignedResponses !== undefined ? { requireSignedResponses: patch.requireSignedResponses } : {}),
      ...(patch.callbackUrl !== undefined ? { callbackUrl: patch.callbackUrl ? trimSlash(patch.callbackUrl) : null } : {}),
      ...(patch.callbackClientId !== undefined ? { callbackClientId: patch.callbackClientId } : {}),
      ...(patch.verifyTls !== undefined ? { verifyTls: patch.verifyTls } : {}),
      ...(patch.timeoutMs !== undefined ? { timeoutMs: patch.timeoutMs } : {}),
      ...(patch.isActive !== undefined ? { isActive: patch.isActive } : {}),
      secretsEncrypted: this.encryptSecrets(row.uuid, nextSecrets),
    };
    const changed = await this.db.transaction(async (tx) => {
      const updated = await repository.updateSource(tx, row.id, expectedVersion, values);
      if (!updated) throw new AppError('precondition_failed', 'This data source was changed meanwhile; read it again');
      const before = auditOf(toView(row));
      const after = auditOf(toView(updated));
      const secretChanged = ['clientSecret', 'bearerToken', 'signingKey'].filter((key) => (patch as Record<string, unknown>)[key] !== undefined);
      await recordAudit(tx, context, { action: 'update', entityType: 'dci-data-source', entityId: code, before, after: { ...after, ...(secretChanged.length ? { secretsChanged: secretChanged } : {}) } });
      return toView(updated);
    });
    await this.saved();
    return changed;
  }

  async list(filter: { registryType?: string } = {}): Promise<DataSourceView[]> {
    return (await repository.listSources(this.db)).filter((row) => !filter.registryType || row.registryType === filter.registryType).map(toView);
  }

  async get(code: string): Promise<DataSourceView> {
    return toView(await this.row(code));
  }

  /** For the client: decrypted secrets, our signing key, URLs (read each call: a changed source applies at once). */
  async resolve(code: string): Promise<ResolvedSource> {
    const row = await this.row(code);
    if (!row.isActive) throw new AppError('conflict', `The data source ${code} is not active`);
    return this.resolveRow(row);
  }

  async resolveByCallbackClient(clientId: string): Promise<ResolvedSource | undefined> {
    const row = await repository.findSourceByCallbackClient(this.db, clientId);
    return row && row.isActive ? this.resolveRow(row) : undefined;
  }

  async resolveById(id: number): Promise<ResolvedSource> {
    const row = await repository.findSourceById(this.db, id);
    if (!row) throw AppError.notFound('The data source');
    return this.resolveRow(row);
  }

  async recordTest(code: string, result: Record<string, unknown>): Promise<void> {
    const row = await this.row(code);
    await repository.recordTest(this.db, row.id, result);
  }

  async rowIdOf(code: string): Promise<number> {
    return (await this.row(code)).id;
  }

  private async resolveRow(row: DataSourceRow): Promise<ResolvedSource> {
    const view = toView(row);
    const secrets = this.secretsOf(row);
    let signingKey: SigningKey | undefined;
    if (secrets.signingKey) {
      const algorithm = (secrets.signingKey.alg as SigningKey['algorithm'] | undefined) ?? 'EdDSA';
      signingKey = { senderId: row.ourSenderId, kid: secrets.signingKey.kid ?? 'default', algorithm, privateKey: (await importJWK(secrets.signingKey, algorithm)) as CryptoKey };
    }
    return {
      rowId: row.id, view, clientSecret: secrets.clientSecret, bearerToken: secrets.bearerToken, signingKey,
      url: (operation) => {
        const path = view.paths[operation];
        return /^https?:\/\//.test(path) ? path : `${view.baseUrl}${path}`;
      },
    };
  }

  private async row(code: string): Promise<DataSourceRow> {
    const row = await repository.findSourceByCode(this.db, code);
    if (!row) throw AppError.notFound(`The DCI data source ${code}`);
    return row;
  }

  private encryptSecrets(uuid: string, secrets: Secrets): string | null {
    const present = Object.fromEntries(Object.entries(secrets).filter(([, value]) => value !== undefined));
    return Object.keys(present).length > 0 ? this.cipher.encryptJson(present, cipherContext(uuid)) : null;
  }

  private secretsOf(row: DataSourceRow): Secrets {
    return row.secretsEncrypted ? this.cipher.decryptJson<Secrets>(row.secretsEncrypted, cipherContext(row.uuid)) : {};
  }
}

function cipherContext(uuid: string) {
  return { table: 'dci_data_sources', column: 'secrets', record: uuid };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function validate(input: DataSourceSettings, creating: boolean): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const httpUrl = (value: string | null | undefined, path: string) => {
    if (value === undefined || value === null) return;
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push({ path, message: 'must be an http(s) URL' });
      if (url.username || url.password) problems.push({ path, message: 'must not carry credentials' });
    } catch {
      problems.push({ path, message: 'must be an http(s) URL' });
    }
  };
  httpUrl(input.baseUrl, '/baseUrl');
  httpUrl(input.jwksUrl, '/jwksUrl');
  httpUrl(input.callbackUrl, '/callbackUrl');
  for (const [operation, path] of Object.entries(input.paths ?? {})) {
    if (!(operation in DEFAULT_PATHS)) problems.push({ path: `/paths/${operation}`, message: `is not an operation (${OPERATIONS.join(', ')})` });
    else if (typeof path !== 'string' || !(path.startsWith('/') || /^https?:\/\//.test(path))) problems.push({ path: `/paths/${operation}`, message: 'must start with / (or be a full URL)' });
  }
  if (input.signatureStrategy !== undefined && !SIGNATURE_STRATEGIES.includes(input.signatureStrategy)) problems.push({ path: '/signatureStrategy', message: `must be one of ${SIGNATURE_STRATEGIES.join(', ')}` });
  if (input.signingKey) {
    if (!input.signingKey.kid) problems.push({ path: '/signingKey/kid', message: 'is required' });
    if (!input.signingKey.d) problems.push({ path: '/signingKey', message: 'must be a private JWK' });
  }
  for (const [index, key] of (input.publicKeys ?? []).entries()) {
    if (!key.kid) problems.push({ path: `/publicKeys/${index}/kid`, message: 'is required' });
    if (PRIVATE_JWK_MEMBERS.some((member) => member in key)) problems.push({ path: `/publicKeys/${index}`, message: 'must be a public key (no private members)' });
  }
  if (creating && input.authType === 'oauth2' && (!input.oauthClientId || !input.clientSecret)) problems.push({ path: '/clientSecret', message: 'OAuth 2.0 needs oauthClientId and clientSecret' });
  if (creating && input.authType === 'bearer' && !input.bearerToken) problems.push({ path: '/bearerToken', message: 'is required for bearer authentication' });
  if (input.timeoutMs !== undefined && (input.timeoutMs < 100 || input.timeoutMs > 300_000)) problems.push({ path: '/timeoutMs', message: 'must be between 100 and 300000' });
  return problems;
}

export function toView(row: DataSourceRow): DataSourceView {
  return {
    id: row.uuid, code: row.code, name: row.name, registryType: row.registryType as RegistryType, baseUrl: row.baseUrl,
    paths: { ...DEFAULT_PATHS, ...(row.paths as Partial<Record<Operation, string>>) },
    authType: row.authType as AuthType, oauthClientId: row.oauthClientId,
    hasSecrets: row.secretsEncrypted !== null,
    ourSenderId: row.ourSenderId, receiverId: row.receiverId, signatureStrategy: row.signatureStrategy as SignatureStrategyName, signingKid: row.signingKid,
    jwksUrl: row.jwksUrl, publicKeys: row.publicKeys as JWK[], requireSignedResponses: row.requireSignedResponses,
    callbackUrl: row.callbackUrl, callbackClientId: row.callbackClientId, verifyTls: row.verifyTls, timeoutMs: row.timeoutMs, isActive: row.isActive,
    lastTestAt: row.lastTestAt?.toISOString() ?? null, lastTestResult: row.lastTestResult ?? null,
    createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(), version: row.version,
  };
}

function auditOf(view: DataSourceView): Record<string, unknown> {
  const { lastTestAt: _at, lastTestResult: _result, createdAt: _created, updatedAt: _updated, ...rest } = view;
  return rest;
}
