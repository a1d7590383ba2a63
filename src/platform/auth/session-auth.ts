import crypto from 'node:crypto';
import type { Actor } from './access-tokens.js';

export const SESSION_COOKIE = 'commonweal_session';
export const CSRF_HEADER = 'x-csrf-token';
/** A session ends after this long without a request… */
export const SESSION_IDLE_SECONDS = 8 * 3600;
/** …and in any case this long after sign-in. */
export const SESSION_ABSOLUTE_SECONDS = 24 * 3600;

/** A signed-in user's session, as the authentication hook sees it. */
export interface AuthenticatedSession {
  sessionId: number;
  actor: Actor;
  csrfToken: string;
}

/** What the HTTP layer needs from the users module to accept session cookies. */
export interface SessionAuthenticator {
  /** The live session of a cookie token, its expiry slid forward; undefined when unknown, expired or revoked. */
  authenticate(token: string): Promise<AuthenticatedSession | undefined>;
}

/** A new random cookie token (32 bytes); only its hash is stored. */
export function newSessionToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

/** True when both are equal, in time independent of where they differ. */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/**
 * Cookie attributes: HttpOnly (no script access), SameSite=Lax (not sent on cross-site posts),
 * Secure whenever the browser reaches us over https (so it is never sent in clear text).
 */
export function sessionCookieOptions(secure: boolean, maxAgeSeconds = SESSION_ABSOLUTE_SECONDS) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure, maxAge: maxAgeSeconds };
}

/** Unsafe methods change state: on cookie sessions they need the CSRF header. */
export function isUnsafeMethod(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}
