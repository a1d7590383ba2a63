import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../../platform/errors.js';
import { SESSION_COOKIE, sessionCookieOptions, type AuthenticatedSession } from '../../platform/auth/session-auth.js';
import type { SessionService } from './sessions.service.js';
import { LoginInput, SessionView } from './users.schemas.js';

/** Sign-in for staff (back office): a session cookie plus a CSRF token for writes. */
export function authRoutes(sessions: SessionService, publicUrl: string) {
  // Secure cookies whenever browsers reach us over https, directly or behind a TLS proxy.
  const isSecure = (request: FastifyRequest) => publicUrl.startsWith('https:') || request.protocol === 'https';

  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.post('/auth/login', {
      config: { public: true },
      // JSON only: a cross-site HTML form cannot send it, so no one can sign a victim in as someone else.
      preValidation: async (request) => {
        if (request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
          throw new AppError('unsupported_media_type', 'Send the username and password as JSON (Content-Type: application/json)');
        }
      },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with a username and password (sets the session cookie)',
        description: 'Unknown user, wrong password, locked or disabled account: the same 401. Five failures in a row lock the account for 15 minutes.',
        security: [],
        body: LoginInput,
        response: { 200: SessionView },
      },
    }, async (request, reply) => {
      const session = await sessions.login(request.body.username, request.body.password, {
        ipAddress: request.ip, userAgent: request.headers['user-agent'], requestId: String(request.id),
      });
      reply.setCookie(SESSION_COOKIE, session.token, sessionCookieOptions(isSecure(request)));
      reply.header('cache-control', 'no-store');
      return { user: session.user, csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() };
    });

    app.post('/auth/logout', {
      config: { scopeCheckedByHandler: true },
      schema: { tags: ['auth'], summary: 'Sign out: ends the session and clears its cookie', description: 'Needs the X-CSRF-Token header.' },
    }, async (request, reply) => {
      await sessions.logout(sessionOf(request), String(request.id));
      clearSessionCookie(reply, isSecure(request));
      return reply.code(204).send();
    });

    app.get('/auth/session', {
      config: { scopeCheckedByHandler: true },
      schema: { tags: ['auth'], summary: 'The signed-in user, their roles and the CSRF token', response: { 200: SessionView } },
    }, async (request, reply) => {
      const session = sessionOf(request);
      const { user, expiresAt } = await sessions.describe(session);
      reply.header('cache-control', 'no-store');
      return { user, csrfToken: session.csrfToken, expiresAt: expiresAt.toISOString() };
    });
  };
}

function sessionOf(request: FastifyRequest): AuthenticatedSession {
  if (!request.userSession) throw new AppError('unauthenticated', 'This is for signed-in users: sign in at POST /auth/login (access tokens have no session)');
  return request.userSession;
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { ...sessionCookieOptions(secure), maxAge: undefined });
}
