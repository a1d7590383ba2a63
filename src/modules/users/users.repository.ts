import { and, asc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/database/database.js';
import { areas } from '../areas/areas.tables.js';
import { sessions, userRoles, users } from './users.tables.js';

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export interface RoleRow { userId: number; role: string; areaCode: string | null }

export async function insertUser(db: Queryable, values: typeof users.$inferInsert): Promise<UserRow> {
  const [row] = await db.insert(users).values(values).returning();
  return row!;
}

export async function findUserByUsername(db: Queryable, username: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.username, username));
  return row;
}

/** The row locked until the transaction ends, so concurrent logins count failures one by one. */
export async function lockUserByUsername(db: Queryable, username: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.username, username)).for('update');
  return row;
}

export async function listUserRows(db: Queryable): Promise<UserRow[]> {
  return db.select().from(users).orderBy(asc(users.username));
}

export async function updateUserRow(db: Queryable, id: number, values: Partial<typeof users.$inferInsert>): Promise<UserRow> {
  const [row] = await db.update(users).set(values).where(eq(users.id, id)).returning();
  return row!;
}

/** Role assignments of these users, with area codes (null = global). */
export async function findRoleRows(db: Queryable, userIds: number[]): Promise<RoleRow[]> {
  if (userIds.length === 0) return [];
  return db.select({ userId: userRoles.userId, role: userRoles.role, areaCode: areas.code })
    .from(userRoles)
    .leftJoin(areas, eq(areas.id, userRoles.areaId))
    .where(inArray(userRoles.userId, userIds))
    .orderBy(asc(userRoles.role), asc(areas.code));
}

export async function replaceRoleRows(db: Queryable, userId: number, rows: Array<{ role: string; areaId: number | null }>, createdBy: string): Promise<void> {
  await db.delete(userRoles).where(eq(userRoles.userId, userId));
  if (rows.length > 0) await db.insert(userRoles).values(rows.map((row) => ({ userId, ...row, createdBy })));
}

export async function insertSession(db: Queryable, values: typeof sessions.$inferInsert): Promise<SessionRow> {
  const [row] = await db.insert(sessions).values(values).returning();
  return row!;
}

/** A session that is neither revoked nor expired, of an active user. */
export async function findLiveSession(db: Queryable, tokenHash: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const [row] = await db.select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, tokenHash), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`), eq(users.isActive, true)));
  return row;
}

export async function findSessionWithUser(db: Queryable, id: number): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const [row] = await db.select({ session: sessions, user: users }).from(sessions).innerJoin(users, eq(users.id, sessions.userId)).where(eq(sessions.id, id));
  return row;
}

/** Slides the idle expiry forward, never past the absolute end. */
export async function slideSession(db: Queryable, id: number, idleSeconds: number, absoluteSeconds: number): Promise<void> {
  await db.update(sessions).set({
    lastSeenAt: sql`now()`,
    expiresAt: sql`least(now() + make_interval(secs => ${idleSeconds}), ${sessions.createdAt} + make_interval(secs => ${absoluteSeconds}))`,
  }).where(eq(sessions.id, id));
}

export async function revokeSessionRow(db: Queryable, id: number): Promise<void> {
  await db.update(sessions).set({ revokedAt: sql`now()` }).where(and(eq(sessions.id, id), isNull(sessions.revokedAt)));
}

export async function revokeUserSessions(db: Queryable, userId: number): Promise<void> {
  await db.update(sessions).set({ revokedAt: sql`now()` }).where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
}

/** Active users other than `exceptUserId` holding `role` (anywhere): the last-administrator guard counts them. */
export async function countActiveHolders(db: Queryable, role: string, exceptUserId: number): Promise<number> {
  const [row] = await db.select({ count: sql<number>`count(distinct ${users.id})::int` }).from(users)
    .innerJoin(userRoles, eq(userRoles.userId, users.id))
    .where(and(eq(userRoles.role, role), eq(users.isActive, true), sql`${users.id} <> ${exceptUserId}`));
  return Number(row?.count ?? 0);
}

/** Serialises the changes that could remove the last administrator (until the transaction ends). */
export async function lockAdministratorChanges(db: Queryable): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('commonweal:last-administrator'))`);
}
