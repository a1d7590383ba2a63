import { and, desc, eq, gt, inArray, lt, lte, sql } from 'drizzle-orm';
import { queryRows, type Queryable } from '../../../platform/database/database.js';
import { dciPartners } from '../dci.tables.js';
import { dciRegistryEvents, dciSubscriptions } from '../transactions/dci-async.tables.js';

export type SubscriptionRow = typeof dciSubscriptions.$inferSelect;
export type NewSubscriptionRow = typeof dciSubscriptions.$inferInsert;

export async function insertSubscriptions(db: Queryable, rows: NewSubscriptionRow[]): Promise<void> {
  if (rows.length > 0) await db.insert(dciSubscriptions).values(rows);
}

export async function findSubscriptionsByCode(db: Queryable, codes: string[]): Promise<SubscriptionRow[]> {
  if (codes.length === 0) return [];
  return db.select().from(dciSubscriptions).where(inArray(dciSubscriptions.code, codes)).for('update');
}

export async function markUnsubscribed(db: Queryable, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.update(dciSubscriptions).set({ status: 'unsubscribe', unsubscribedAt: new Date() }).where(inArray(dciSubscriptions.id, ids));
}

/** Subscriptions notifying now: subscribed, started, not ended. */
export async function listActiveSubscriptions(db: Queryable): Promise<Array<SubscriptionRow & { senderId: string }>> {
  const now = new Date();
  const rows = await db.select({ subscription: dciSubscriptions, senderId: dciPartners.senderId }).from(dciSubscriptions)
    .innerJoin(dciPartners, eq(dciPartners.id, dciSubscriptions.partnerId))
    .where(and(eq(dciSubscriptions.status, 'subscribe'), lte(dciSubscriptions.startTime, now), gt(dciSubscriptions.endTime, now)))
    .orderBy(dciSubscriptions.id);
  return rows.map((row) => ({ ...row.subscription, senderId: row.senderId }));
}

export async function listSubscriptions(db: Queryable, filter: { senderId?: string; status?: string; beforeId?: number; limit: number }): Promise<Array<SubscriptionRow & { senderId: string }>> {
  const conditions = [
    filter.senderId === undefined ? undefined : eq(dciPartners.senderId, filter.senderId),
    filter.status === undefined ? undefined : eq(dciSubscriptions.status, filter.status),
    filter.beforeId === undefined ? undefined : lt(dciSubscriptions.id, filter.beforeId),
  ].filter((condition) => condition !== undefined);
  const rows = await db.select({ subscription: dciSubscriptions, senderId: dciPartners.senderId }).from(dciSubscriptions)
    .innerJoin(dciPartners, eq(dciPartners.id, dciSubscriptions.partnerId))
    .where(conditions.length > 0 ? and(...conditions) : sql`true`).orderBy(desc(dciSubscriptions.id)).limit(filter.limit);
  return rows.map((row) => ({ ...row.subscription, senderId: row.senderId }));
}

export interface RegistryEvent {
  id: number;
  event: 'REGISTER' | 'NewHouseHoldMember' | 'UPDATE';
  kind: 'individual' | 'group';
  registrant_uuid: string;
  group_uuid: string | null;
  occurred_at: string;
}

/**
 * The oldest committed registry events, in insertion order. Events are deleted once turned into
 * notifications, so one committed late with a lower id (a long transaction) is simply taken in a
 * later round: nothing is skipped, and no transaction still running holds the others back. Per
 * registrant, insertion order is commit order: the trigger inserts while the writer holds the
 * registrant's row lock, so a second writer's event comes after the first one's commit.
 */
export async function nextRegistryEvents(db: Queryable, limit: number): Promise<RegistryEvent[]> {
  const rows = await queryRows<RegistryEvent & { occurred_at: string | Date }>(db, sql`
    select id, event, kind, registrant_uuid, group_uuid, occurred_at from ${dciRegistryEvents}
    order by id limit ${limit}`);
  return rows.map((row) => ({ ...row, id: Number(row.id), occurred_at: new Date(row.occurred_at).toISOString() }));
}

export async function deleteRegistryEvents(db: Queryable, ids: number[]): Promise<void> {
  if (ids.length > 0) await db.delete(dciRegistryEvents).where(inArray(dciRegistryEvents.id, ids));
}
