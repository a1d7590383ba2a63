import crypto from 'node:crypto';
import type { Db } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { actorForUser, type RoleAssignment } from '../../platform/auth/roles.js';
import { verifyAgainstDummy, verifyPassword } from '../../platform/auth/passwords.js';
import {
  SESSION_ABSOLUTE_SECONDS, SESSION_IDLE_SECONDS, hashSessionToken, newSessionToken,
  type AuthenticatedSession, type SessionAuthenticator,
} from '../../platform/auth/session-auth.js';
import {
  findLiveSession, findRoleRows, findSessionWithUser, findUserByUsername, insertSession, lockUserByUsername, revokeSessionRow, slideSession, updateUserRow,
} from './users.repository.js';
import { assignmentsOf } from './users.service.js';

export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_SECONDS = 15 * 60;
// Slide the expiry at most once a minute, not on every request.
const SLIDE_AFTER_MS = 60_000;

/** One message for every refusal, so a caller cannot tell which usernames exist or are locked. */
const LOGIN_REFUSED = 'The username or password is not correct, or the account is locked or disabled';

export interface SignedInUser {
  username: string;
  displayName: string;
  roles: RoleAssignment[];
}

export interface NewSession {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  user: SignedInUser;
}

export interface ClientInfo {
  ipAddress?: string;
  userAgent?: string;
  requestId?: string;
}

/** Sign-in with a password, cookie sessions, sign-out; the lockout is the login rate limit. */
export class SessionService implements SessionAuthenticator {
  constructor(private readonly db: Db) {}

  /** Checks the password and opens a session; every refusal is the same 401. */
  async login(usernameGiven: string, password: string, client: ClientInfo = {}): Promise<NewSession> {
    const username = usernameGiven.trim().toLowerCase().slice(0, 200);
    const anonymous = { actor: { type: 'user' as const, id: 'anonymous', scopes: new Set<string>() }, requestId: client.requestId };
    const ipAddress = client.ipAddress ?? null;
    // Hashing runs outside the transaction: on PGlite a transaction holds the only connection.
    const found = await findUserByUsername(this.db, username);
    // Always verify (a dummy hash for an unknown user), so every refusal takes the same time.
    const passwordIsRight = found ? await verifyPassword(password, found.passwordHash) : await verifyAgainstDummy(password);
    const outcome = await this.db.transaction(async (tx) => {
      const user = found && await lockUserByUsername(tx, username);
      if (!user) {
        await recordAudit(tx, anonymous, { action: 'login-failed', entityType: 'user', entityId: username, after: { reason: 'unknown-user', ipAddress } });
        return undefined;
      }
      const now = new Date();
      const isLocked = user.lockedUntil !== null && user.lockedUntil > now;
      if (passwordIsRight && !isLocked && user.isActive) {
        const token = newSessionToken();
        const csrfToken = crypto.randomBytes(32).toString('base64url');
        const expiresAt = new Date(now.getTime() + SESSION_IDLE_SECONDS * 1000);
        await insertSession(tx, { tokenHash: hashSessionToken(token), userId: user.id, csrfToken, expiresAt, ipAddress, userAgent: client.userAgent?.slice(0, 500) });
        await updateUserRow(tx, user.id, { failedLoginCount: 0, lockedUntil: null, lastLoginAt: now });
        await recordAudit(tx, { actor: actorForUser(user.username, []), requestId: client.requestId }, { action: 'login', entityType: 'user', entityId: user.username, after: { ipAddress } });
        const roles = assignmentsOf(await findRoleRows(tx, [user.id]), user.id);
        return { token, csrfToken, expiresAt, user: { username: user.username, displayName: user.displayName, roles } };
      }
      let reason = !user.isActive ? 'inactive' : isLocked ? 'locked' : 'wrong-password';
      // Attempts while locked neither count nor extend the lock; a lock that has run out starts a fresh count.
      if (!isLocked && !passwordIsRight) {
        const failures = (user.lockedUntil !== null ? 0 : user.failedLoginCount) + 1;
        const lockedUntil = failures >= MAX_FAILED_LOGINS ? new Date(now.getTime() + LOCKOUT_SECONDS * 1000) : null;
        await updateUserRow(tx, user.id, { failedLoginCount: failures, lockedUntil });
        if (lockedUntil) reason = `${reason}; locked after ${failures} failures`;
      }
      await recordAudit(tx, anonymous, { action: 'login-failed', entityType: 'user', entityId: user.username, after: { reason, ipAddress } });
      return undefined;
    });
    if (!outcome) throw new AppError('unauthenticated', LOGIN_REFUSED);
    return outcome;
  }

  async logout(session: AuthenticatedSession, requestId?: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await revokeSessionRow(tx, session.sessionId);
      await recordAudit(tx, { actor: session.actor, requestId }, { action: 'logout', entityType: 'user', entityId: session.actor.id });
    });
  }

  async authenticate(token: string): Promise<AuthenticatedSession | undefined> {
    const found = await findLiveSession(this.db, hashSessionToken(token));
    if (!found) return undefined;
    const { session, user } = found;
    if (Date.now() - session.lastSeenAt.getTime() > SLIDE_AFTER_MS) await slideSession(this.db, session.id, SESSION_IDLE_SECONDS, SESSION_ABSOLUTE_SECONDS);
    const roles = assignmentsOf(await findRoleRows(this.db, [user.id]), user.id);
    return { sessionId: session.id, actor: actorForUser(user.username, roles), csrfToken: session.csrfToken };
  }

  /** Who is signed in, for `GET /auth/session`. */
  async describe(session: AuthenticatedSession): Promise<{ user: SignedInUser; expiresAt: Date }> {
    const found = await findSessionWithUser(this.db, session.sessionId);
    if (!found) throw new AppError('unauthenticated', 'The session has ended; sign in again at POST /auth/login');
    const roles = assignmentsOf(await findRoleRows(this.db, [found.user.id]), found.user.id);
    return { user: { username: found.user.username, displayName: found.user.displayName, roles }, expiresAt: found.session.expiresAt };
  }
}
