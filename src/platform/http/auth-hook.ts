import type { FastifyInstance } from 'fastify';
import { hasScope, type AccessTokens, type Actor } from '../auth/access-tokens.js';
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
  }
}

/**
 * Authentication and scope check before anything else runs (so an unauthenticated caller learns
 * nothing from validation errors). Deny by default: a route must either be public or name a scope.
 */
export function registerAuthentication(app: FastifyInstance, tokens: AccessTokens): void {
  app.decorateRequest('actor', null as unknown as Actor);
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public || request.is404) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) {
      reply.header('WWW-Authenticate', 'Bearer realm="commonweal"');
      throw new AppError('unauthenticated', 'Send an access token as "Authorization: Bearer <token>"; get one at /oauth2/client/token');
    }
    try {
      request.actor = await tokens.verify(match[1]);
    } catch (error) {
      reply.header('WWW-Authenticate', 'Bearer realm="commonweal", error="invalid_token"');
      throw error;
    }
    if (config.scopeCheckedByHandler) return;
    if (!config.scope) throw new AppError('forbidden', 'This route has no scope configured');
    if (!hasScope(request.actor.scopes, config.scope)) {
      reply.header('WWW-Authenticate', `Bearer realm="commonweal", error="insufficient_scope", scope="${config.scope}"`);
      throw new AppError('forbidden', `This action needs the scope "${config.scope}", which your client was not granted`);
    }
  });
}
