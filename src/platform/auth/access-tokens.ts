import crypto from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../errors.js';
import { SigningKeyStore, TOKEN_ALGORITHM } from './signing-keys.js';

export const TOKEN_AUDIENCE = 'commonweal-api';

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

  async issue(clientId: string, scopes: string[]): Promise<{ token: string; expiresIn: number }> {
    const { kid, privateKey } = this.keys.signingKey();
    const token = await new SignJWT({ scope: scopes.join(' '), client_id: clientId })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(clientId)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    return { token, expiresIn: this.ttlSeconds };
  }

  /** Verifies a bearer token and returns the actor it stands for; throws `unauthenticated`. */
  async verify(token: string): Promise<Actor> {
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
      return { type: 'client', id: String(payload.sub), scopes: new Set(scopes) };
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
