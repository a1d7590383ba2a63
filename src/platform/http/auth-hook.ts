import type { FastifyInstance } from 'fastify';
import { hasScope, type AccessTokens, type Actor } from '../auth/access-tokens.js';
import { CSRF_HEADER, SESSION_COOKIE, isUnsafeMethod, sameSecret, type AuthenticatedSession, type SessionAuthenticator } from '../auth/session-auth.js';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope (`resource:action`) a caller needs. Every route needs one unless `public`. */
    scope?: string;
    /** Open to anyone (health, docs, token endpoint, JWKS). */
    public?: boolean;
    /** Needs a valid token; the handler checks scopes itself (e.g. per bundle entry). */
    scopeCheckedByHandler?: boolean;
  }
  interface FastifyRequest {
    actor: Actor;
    /** Set when the caller authenticated with a session cookie (a signed-in user), not a token. */
    userSession: AuthenticatedSession | null;
  }
}

/**
 * Authentication and scope check before anything else runs (so an unauthenticated caller learns
 * nothing from validation errors). Deny by default: a route must either be public or name a scope.
 */
export function registerAuthentication(app: FastifyInstance, tokens: AccessTokens, sessions?: SessionAuthenticator): void {
  app.decorateRequest('actor', null as unknown as Actor);
  app.decorateRequest('userSession', null);
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public || request.is404) return;
    const header = request.headers.authorization;
    // A bearer token wins over a cookie: only cookies are sent by browsers on their own (CSRF).
    const sessionToken = header === undefined && sessions ? request.cookies[SESSION_COOKIE] : undefined;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (sessionToken) {
      const session = await sessions!.authenticate(sessionToken);
      if (!session) {
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        throw new AppError('unauthenticated', 'Your session has ended or is not valid; sign in again at POST /auth/login');
      }
      if (isUnsafeMethod(request.method) && !sameSecret(headerValue(request.headers[CSRF_HEADER]), session.csrfToken)) {
        throw new AppError('forbidden', 'Send the X-CSRF-Token header with the csrfToken of your session (from POST /auth/login or GET /auth/session)');
      }
      request.actor = session.actor;
      request.userSession = session;
    } else if (!match?.[1]) {
      reply.header('WWW-Authenticate', 'Bearer realm="commonweal"');
      throw new AppError('unauthenticated', 'Send an access token as "Authorization: Bearer <token>"; get one at /oauth2/client/token');
    } else {
      try {
        request.actor = await tokens.verify(match[1]);
      } catch (error) {
        reply.header('WWW-Authenticate', 'Bearer realm="commonweal", error="invalid_token"');
        throw error;
      }
    }
    if (config.scopeCheckedByHandler) return;
    if (!config.scope) throw new AppError('forbidden', 'This route has no scope configured');
    if (!hasScope(request.actor.scopes, config.scope)) {
      reply.header('WWW-Authenticate', `Bearer realm="commonweal", error="insufficient_scope", scope="${config.scope}"`);
      const holder = request.actor.type === 'user' ? 'your roles do not grant' : 'your client was not granted';
      throw new AppError('forbidden', `This action needs the scope "${config.scope}", which ${holder}`);
    }
  });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
