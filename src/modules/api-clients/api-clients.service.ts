import crypto from 'node:crypto';
import type { Db } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../platform/audit/audit.js';
import { isKnownScope } from '../../platform/auth/scopes.js';
import { generateSecret, hashSecret, verifySecret } from '../../platform/crypto/secrets.js';
import { hasScope, type AccessTokens } from '../../platform/auth/access-tokens.js';
import { findApiClientByClientId, insertApiClient, listApiClientRows, touchApiClient } from './api-clients.repository.js';

export interface ApiClientView {
  clientId: string;
  name: string;
  scopes: string[];
  isActive: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface TokenGrant {
  accessToken: string;
  expiresIn: number;
  scopes: string[];
}

/** Partner systems and scripts that authenticate with OAuth 2.0 client credentials. */
export class ApiClientService {
  constructor(private readonly db: Db, private readonly tokens: AccessTokens) {}

  /** Creates a client; the secret is returned once and only its hash is stored. */
  async createClient(context: RequestContext, input: { name: string; scopes: string[]; clientId?: string; secret?: string }): Promise<ApiClientView & { clientSecret: string }> {
    const name = input.name.trim();
    if (!name) throw AppError.validation('A client needs a name', [{ path: '/name', message: 'is required' }]);
    const unknown = input.scopes.filter((scope) => !isKnownScope(scope));
    if (input.scopes.length === 0 || unknown.length > 0) {
      throw AppError.validation(`Unknown scopes: ${unknown.join(', ') || '(none given)'}`, [{ path: '/scopes', message: 'must list known resource:action scopes' }]);
    }
    const clientId = input.clientId ?? `cw_${crypto.randomBytes(8).toString('hex')}`;
    const clientSecret = input.secret ?? generateSecret();
    if (await findApiClientByClientId(this.db, clientId)) throw new AppError('conflict', `A client with id ${clientId} already exists`);
    const row = await this.db.transaction(async (tx) => {
      const created = await insertApiClient(tx, { clientId, name, scopes: [...new Set(input.scopes)], secretHash: await hashSecret(clientSecret) });
      await recordAudit(tx, context, { action: 'create', entityType: 'api_client', entityId: clientId, after: { name, scopes: created.scopes } });
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

  /**
   * The client credentials grant. Unknown client and wrong secret fail alike, so the response does
   * not reveal which client ids exist. `requestedScopes` (optional) must be a subset of the grant.
   */
  async issueToken(clientId: string, clientSecret: string, requestedScopes?: string[]): Promise<TokenGrant> {
    const client = await findApiClientByClientId(this.db, clientId);
    const isValid = client !== undefined && client.isActive && (await verifySecret(clientSecret, client.secretHash));
    if (!client || !isValid) throw new AppError('invalid_client', 'Unknown client or wrong secret', [], { error: 'invalid_client', error_description: 'Unknown client or wrong secret' });
    const scopes = requestedScopes && requestedScopes.length > 0 ? requestedScopes : client.scopes;
    const granted = new Set(client.scopes);
    const notGranted = scopes.filter((scope) => !hasScope(granted, scope));
    if (notGranted.length > 0) {
      throw new AppError('validation_failed', `Scopes not granted to this client: ${notGranted.join(', ')}`, [{ path: '/scope', message: 'asks for scopes not granted' }], { error: 'invalid_scope', error_description: `Scopes not granted to this client: ${notGranted.join(' ')}` });
    }
    await touchApiClient(this.db, client.id);
    const { token, expiresIn } = await this.tokens.issue(client.clientId, scopes);
    return { accessToken: token, expiresIn, scopes };
  }
}

function toView(row: { clientId: string; name: string; scopes: string[]; isActive: boolean; createdAt: Date; lastUsedAt: Date | null }): ApiClientView {
  return {
    clientId: row.clientId,
    name: row.name,
    scopes: row.scopes,
    isActive: row.isActive,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
