import crypto from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../errors.js';
import { SigningKeyStore, TOKEN_ALGORITHM } from './signing-keys.js';

export const TOKEN_AUDIENCE = 'commonweal-api';
const VERIFIED_CACHE_SIZE = 10_000;
const VERIFIED_CACHE_MS = 60_000;

/** Who is acting: carried through services into the audit log and every access check. */
export interface Actor {
  type: 'client' | 'user' | 'system';
  id: string;
  /** Every permission (`resource:action`) the actor holds, from client scopes or user roles. */
  scopes: ReadonlySet<string>;
  /**
   * Where each permission applies: permission → area codes whose subtrees it covers. A permission
   * missing from the map applies everywhere. `*` limits every permission (e.g. an area-bound client).
   */
  areaLimits?: ReadonlyMap<string, readonly string[]>;
  /** Clients only: the legal basis (GDPR art. 6) and organisation they process personal data under. */
  legalBasis?: string;
  organisation?: string;
  organisationType?: string;
  /** Clients only: the DPV purpose it processes for (claim `purpose`), matched against consents. */
  purpose?: string;
  /** Clients only: requests per minute allowed (claim `rate_limit`); unset = the configured default. */
  rateLimitPerMinute?: number;
}

/** Per-client token contents beyond the scopes (see `api_clients`). */
export interface TokenOptions {
  /** Overrides the server-wide lifetime. */
  ttlSeconds?: number;
  /** Area codes the client is limited to (claim `areas`); empty = everywhere. */
  areas?: readonly string[];
  legalBasis?: string;
  organisation?: string | null;
  organisationType?: string | null;
  purpose?: string | null;
  /** Requests per minute this client may make (claim `rate_limit`); default from configuration. */
  rateLimitPerMinute?: number | null;
}

/**
 * The areas (codes, whole subtrees) in which `actor` may use `permission`; undefined means
 * everywhere. Reads outside answer 404, so existence does not leak.
 */
export function areaScopeOf(actor: Actor, permission: string): readonly string[] | undefined {
  if (!actor.areaLimits) return undefined;
  const [resource] = permission.split(':');
  return actor.areaLimits.get(permission) ?? actor.areaLimits.get(`${resource}:*`) ?? actor.areaLimits.get('*');
}

export const systemActor = (id = 'system'): Actor => ({ type: 'system', id, scopes: new Set(['*']) });

export class AccessTokens {
  constructor(
    private readonly keys: SigningKeyStore,
    private readonly issuer: string,
    private readonly ttlSeconds: number,
  ) {}

  async issue(clientId: string, scopes: string[], options: TokenOptions = {}): Promise<{ token: string; expiresIn: number }> {
    const { kid, privateKey } = this.keys.signingKey();
    const ttlSeconds = options.ttlSeconds ?? this.ttlSeconds;
    const claims: Record<string, unknown> = { scope: scopes.join(' '), client_id: clientId };
    if (options.areas && options.areas.length > 0) claims.areas = [...options.areas];
    if (options.legalBasis) claims.legal_basis = options.legalBasis;
    if (options.rateLimitPerMinute) claims.rate_limit = options.rateLimitPerMinute;
    if (options.organisation) claims.org = options.organisation;
    if (options.organisationType) claims.org_type = options.organisationType;
    if (options.purpose) claims.purpose = options.purpose;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(clientId)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    return { token, expiresIn: ttlSeconds };
  }

  /** Verifies a bearer token and returns the actor it stands for; throws `unauthenticated`. */
  /**
   * Verified tokens, kept for at most a minute (and never past their expiry): checking an EdDSA
   * signature costs about 7% of a read's CPU, and a client sends the same token many times.
   */
  private readonly verified = new Map<string, { actor: Actor; until: number }>();

  async verify(token: string): Promise<Actor> {
    const cached = this.verified.get(token);
    if (cached && cached.until > Date.now()) return cached.actor;
    const actor = await this.verifySignature(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    const expiresAt = (decodeJwt(token).exp ?? 0) * 1000;
    this.verified.set(token, { actor, until: Math.min(expiresAt, Date.now() + VERIFIED_CACHE_MS) });
    return actor;
  }

  private async verifySignature(token: string): Promise<Actor> {
    try {
      const { kid } = decodeProtectedHeader(token);
      const key = kid ? await this.keys.verificationKey(kid) : undefined;
      if (!key) throw new AppError('unauthenticated', 'The access token was not signed by a key of this server');
      const { payload } = await jwtVerify(token, key, {
        issuer: this.issuer,
        audience: TOKEN_AUDIENCE,
        algorithms: [TOKEN_ALGORITHM],
        typ: 'at+jwt',
      });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      const actor: Actor = { type: 'client', id: String(payload.sub), scopes: new Set(scopes) };
      // An area-bound client sees only its areas' subtrees, whatever the permission.
      const areas = Array.isArray(payload.areas) ? payload.areas.filter((code): code is string => typeof code === 'string') : [];
      if (areas.length > 0) actor.areaLimits = new Map([['*', areas]]);
      if (typeof payload.legal_basis === 'string') actor.legalBasis = payload.legal_basis;
      if (typeof payload.rate_limit === 'number') actor.rateLimitPerMinute = payload.rate_limit;
      if (typeof payload.org === 'string') actor.organisation = payload.org;
      if (typeof payload.org_type === 'string') actor.organisationType = payload.org_type;
      if (typeof payload.purpose === 'string') actor.purpose = payload.purpose;
      return actor;
    } catch (error) {
      if (error instanceof AppError) throw error;
      const reason = error instanceof joseErrors.JWTExpired ? 'The access token has expired' : 'The access token is not valid';
      throw new AppError('unauthenticated', `${reason}; request a new one at /oauth2/client/token`);
    }
  }
}

/** True when `granted` allows `required` (`resource:action`); `*` and `resource:*` are wildcards. */
export function hasScope(granted: ReadonlySet<string>, required: string): boolean {
  if (granted.has('*') || granted.has(required)) return true;
  const [resource] = required.split(':');
  return granted.has(`${resource}:*`);
}
