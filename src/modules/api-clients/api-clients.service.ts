import crypto from 'node:crypto';
import type { Db } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../platform/audit/audit.js';
import { isKnownScope } from '../../platform/auth/scopes.js';
import { generateSecret, hashSecret, verifySecret } from '../../platform/crypto/secrets.js';
import { hasScope, type AccessTokens } from '../../platform/auth/access-tokens.js';
import { assertVersion } from '../../platform/versioning.js';
import {
  findApiClientByClientId, insertApiClient, listApiClientRows, lockApiClientByClientId, touchApiClient, updateApiClientRow, type ApiClientRow,
} from './api-clients.repository.js';
import { assertClientSettings, clientSettingsOf, type ClientSettings, type AreaLookup } from './api-client-settings.js';

export interface ApiClientView {
  clientId: string;
  name: string;
  scopes: string[];
  isActive: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  legalBasis: string;
  organisation: string | null;
  organisationType: string | null;
  areaCodes: string[];
  programCodes: string[];
  rateLimitPerMinute: number | null;
  tokenTtlSeconds: number | null;
  secretRotatedAt: string | null;
  /** Until when the secret used before the last rotation still works; null when it no longer does. */
  previousSecretExpiresAt: string | null;
  version: number;
}

export interface TokenGrant {
  accessToken: string;
  expiresIn: number;
  scopes: string[];
}

export const DEFAULT_SECRET_GRACE_SECONDS = 24 * 3600;
export const MAX_SECRET_GRACE_SECONDS = 30 * 24 * 3600;

export interface ClientChanges extends ClientSettings {
  name?: string;
  scopes?: string[];
  isActive?: boolean;
}

/** Partner systems and scripts that authenticate with OAuth 2.0 client credentials. */
export class ApiClientService {
  constructor(private readonly db: Db, private readonly tokens: AccessTokens, private readonly areas?: AreaLookup) {}

  /** Creates a client; the secret is returned once and only its hash is stored. */
  async createClient(context: RequestContext, input: { name: string; scopes: string[]; clientId?: string; secret?: string } & ClientSettings): Promise<ApiClientView & { clientSecret: string }> {
    const name = input.name.trim();
    if (!name) throw AppError.validation('A client needs a name', [{ path: '/name', message: 'is required' }]);
    const unknown = input.scopes.filter((scope) => !isKnownScope(scope));
    if (input.scopes.length === 0 || unknown.length > 0) {
      throw AppError.validation(`Unknown scopes: ${unknown.join(', ') || '(none given)'}`, [{ path: '/scopes', message: 'must list known resource:action scopes' }]);
    }
    await assertClientSettings(input, this.areas);
    const clientId = input.clientId ?? `cw_${crypto.randomBytes(8).toString('hex')}`;
    const clientSecret = input.secret ?? generateSecret();
    if (await findApiClientByClientId(this.db, clientId)) throw new AppError('conflict', `A client with id ${clientId} already exists`);
    const row = await this.db.transaction(async (tx) => {
      const created = await insertApiClient(tx, { clientId, name, scopes: [...new Set(input.scopes)], secretHash: await hashSecret(clientSecret), ...clientSettingsOf(input) });
      await recordAudit(tx, context, { action: 'create', entityType: 'api_client', entityId: clientId, after: auditable(toView(created)) });
      return created;
    });
    return { ...toView(row), clientSecret };
  }

  async findClient(clientId: string): Promise<ApiClientView | undefined> {
    const row = await findApiClientByClientId(this.db, clientId);
    return row ? toView(row) : undefined;
  }

  async listClients(): Promise<ApiClientView[]> {
    return (await listApiClientRows(this.db)).map(toView);
  }

  async getClient(clientId: string): Promise<ApiClientView> {
    const row = await findApiClientByClientId(this.db, clientId);
    if (!row) throw AppError.notFound(`API client ${clientId}`);
    return toView(row);
  }

  /** Changes name, scopes, activation or settings. Tokens already issued keep theirs until they expire. */
  async updateClient(context: RequestContext, clientId: string, expectedVersion: number | undefined, changes: ClientChanges): Promise<ApiClientView> {
    const name = changes.name?.trim();
    if (name === '') throw AppError.validation('A client needs a name', [{ path: '/name', message: 'is required' }]);
    const unknown = (changes.scopes ?? []).filter((scope) => !isKnownScope(scope));
    if (changes.scopes?.length === 0 || unknown.length > 0) {
      throw AppError.validation(`Unknown scopes: ${unknown.join(', ') || '(none given)'}`, [{ path: '/scopes', message: 'must list known resource:action scopes' }]);
    }
    await assertClientSettings(changes, this.areas);
    return this.change(context, clientId, 'update', expectedVersion, () => ({
      name, isActive: changes.isActive, scopes: changes.scopes && [...new Set(changes.scopes)], ...clientSettingsOf(changes),
    }));
  }

  /**
   * Issues a new secret (returned once). The previous one keeps working for `graceSeconds`
   * (0 = never again), so a partner can switch without downtime.
   */
  async rotateSecret(context: RequestContext, clientId: string, graceSeconds = DEFAULT_SECRET_GRACE_SECONDS): Promise<ApiClientView & { clientSecret: string }> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_SECRET_GRACE_SECONDS) {
      throw AppError.validation(`graceSeconds must be an integer from 0 to ${MAX_SECRET_GRACE_SECONDS}`, [{ path: '/graceSeconds', message: 'is out of range' }]);
    }
    const clientSecret = generateSecret();
    const secretHash = await hashSecret(clientSecret);
    const view = await this.change(context, clientId, 'rotate-secret', undefined, (row) => {
      const now = new Date();
      return { secretHash, previousSecretHash: row.secretHash, previousSecretExpiresAt: new Date(now.getTime() + graceSeconds * 1000), secretRotatedAt: now };
    });
    return { ...view, clientSecret };
  }

  /** One audited change of one client, its row locked and its version bumped. */
  private async change(
    context: RequestContext,
    clientId: string,
    action: string,
    expectedVersion: number | undefined,
    apply: (row: ApiClientRow) => Partial<ApiClientRow>,
  ): Promise<ApiClientView> {
    return this.db.transaction(async (tx) => {
      const row = await lockApiClientByClientId(tx, clientId);
      if (!row) throw AppError.notFound(`API client ${clientId}`);
      if (expectedVersion !== undefined) assertVersion(expectedVersion, row.version, `API client ${clientId}`);
      const values = Object.fromEntries(Object.entries(apply(row)).filter(([, value]) => value !== undefined));
      const updated = await updateApiClientRow(tx, row.id, { ...values, version: row.version + 1 });
      await recordAudit(tx, context, { action, entityType: 'api_client', entityId: clientId, before: auditable(toView(row)), after: auditable(toView(updated)) });
      return toView(updated);
    });
  }

  /**
   * The client credentials grant. Unknown client and wrong secret fail alike, so the response does
   * not reveal which client ids exist. `requestedScopes` (optional) must be a subset of the grant.
   */
  async issueToken(clientId: string, clientSecret: string, requestedScopes?: string[]): Promise<TokenGrant> {
    const client = await findApiClientByClientId(this.db, clientId);
    const isValid = client !== undefined && client.isActive && (await secretMatches(client, clientSecret));
    if (!client || !isValid) throw new AppError('invalid_client', 'Unknown client or wrong secret', [], { error: 'invalid_client', error_description: 'Unknown client or wrong secret' });
    const scopes = requestedScopes && requestedScopes.length > 0 ? requestedScopes : client.scopes;
    const granted = new Set(client.scopes);
    const notGranted = scopes.filter((scope) => !hasScope(granted, scope));
    if (notGranted.length > 0) {
      throw new AppError('validation_failed', `Scopes not granted to this client: ${notGranted.join(', ')}`, [{ path: '/scope', message: 'asks for scopes not granted' }], { error: 'invalid_scope', error_description: `Scopes not granted to this client: ${notGranted.join(' ')}` });
    }
    await touchApiClient(this.db, client.id);
    const { token, expiresIn } = await this.tokens.issue(client.clientId, scopes, {
      ttlSeconds: client.tokenTtlSeconds ?? undefined,
      rateLimitPerMinute: client.rateLimitPerMinute,
      areas: client.areaCodes,
      legalBasis: client.legalBasis,
      organisation: client.organisation,
      organisationType: client.organisationType,
    });
    return { accessToken: token, expiresIn, scopes };
  }
}

/** The current secret, or the one before the last rotation while its grace period lasts. */
async function secretMatches(client: ApiClientRow, secret: string): Promise<boolean> {
  if (await verifySecret(secret, client.secretHash)) return true;
  const graceLasts = client.previousSecretHash !== null && client.previousSecretExpiresAt !== null && client.previousSecretExpiresAt > new Date();
  return graceLasts && verifySecret(secret, client.previousSecretHash!);
}

export function toView(row: ApiClientRow): ApiClientView {
  const previousLasts = row.previousSecretHash !== null && row.previousSecretExpiresAt !== null && row.previousSecretExpiresAt > new Date();
  return {
    clientId: row.clientId,
    name: row.name,
    scopes: row.scopes,
    isActive: row.isActive,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    legalBasis: row.legalBasis,
    organisation: row.organisation,
    organisationType: row.organisationType,
    areaCodes: row.areaCodes,
    programCodes: row.programCodes,
    rateLimitPerMinute: row.rateLimitPerMinute,
    tokenTtlSeconds: row.tokenTtlSeconds,
    secretRotatedAt: row.secretRotatedAt?.toISOString() ?? null,
    previousSecretExpiresAt: previousLasts ? row.previousSecretExpiresAt!.toISOString() : null,
    version: row.version,
  };
}

/** What the audit log keeps of a client: settings, never a secret or its hash. */
export function auditable(view: ApiClientView): Record<string, unknown> {
  const { clientId: _clientId, createdAt: _createdAt, lastUsedAt: _lastUsedAt, version: _version, ...rest } = view;
  return rest;
}
