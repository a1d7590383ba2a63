import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../../platform/database/database.js';
import { dciClientSubscriptions, dciExternalEvents } from '../data-sources/dci-client.tables.js';

export type ExternalEventRow = typeof dciExternalEvents.$inferSelect;
export type ClientSubscriptionRow = typeof dciClientSubscriptions.$inferSelect;

/** Inserts events; a notification seen before (same message and reference id) is not stored twice. */
export async function insertEvents(db: Queryable, rows: Array<typeof dciExternalEvents.$inferInsert>): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db.insert(dciExternalEvents).values(rows).onConflictDoNothing().returning({ id: dciExternalEvents.id });
  return inserted.length;
}

/** received → processing, for one event; undefined when another worker has it or it is not waiting. */
export async function claim(db: Queryable, id: number): Promise<ExternalEventRow | undefined> {
  const [row] = await db.update(dciExternalEvents).set({ status: 'processing', attempts: sql`${dciExternalEvents.attempts} + 1`, updatedAt: new Date() })
    .where(and(eq(dciExternalEvents.id, id), eq(dciExternalEvents.status, 'received'))).returning();
  return row;
}

export async function finish(db: Queryable, id: number, values: { status: 'processed' | 'error'; outcome?: Record<string, unknown>; lastError?: string | null }): Promise<void> {
  await db.update(dciExternalEvents).set({ ...values, updatedAt: new Date(), ...(values.status === 'processed' ? { processedAt: new Date(), lastError: null } : {}) }).where(eq(dciExternalEvents.id, id));
}

export async function waitingIds(db: Queryable, limit: number): Promise<number[]> {
  const rows = await db.select({ id: dciExternalEvents.id }).from(dciExternalEvents).where(eq(dciExternalEvents.status, 'received')).orderBy(dciExternalEvents.id).limit(limit);
  return rows.map((row) => row.id);
}

/** error → received (retry from the API). */
export async function requeue(db: Queryable, uuid: string): Promise<ExternalEventRow | undefined> {
  const [row] = await db.update(dciExternalEvents).set({ status: 'received', updatedAt: new Date() })
    .where(and(eq(dciExternalEvents.uuid, uuid), eq(dciExternalEvents.status, 'error'))).returning();
  return row;
}

export async function findEvent(db: Queryable, uuid: string): Promise<ExternalEventRow | undefined> {
  const [row] = await db.select().from(dciExternalEvents).where(eq(dciExternalEvents.uuid, uuid));
  return row;
}

export function listEvents(db: Queryable, filter: { status?: string; limit: number }): Promise<ExternalEventRow[]> {
  return db.select().from(dciExternalEvents).where(filter.status ? eq(dciExternalEvents.status, filter.status) : sql`true`).orderBy(desc(dciExternalEvents.id)).limit(filter.limit);
}

export async function insertSubscription(db: Queryable, values: typeof dciClientSubscriptions.$inferInsert): Promise<void> {
  await db.insert(dciClientSubscriptions).values(values);
}

export async function updateSubscriptions(db: Queryable, sourceId: number, referenceIds: string[], values: { status: string; subscriptionCode?: string }): Promise<void> {
  if (referenceIds.length === 0) return;
  await db.update(dciClientSubscriptions).set({ ...values, updatedAt: new Date() })
    .where(and(eq(dciClientSubscriptions.sourceId, sourceId), inArray(dciClientSubscriptions.referenceId, referenceIds)));
}

export function listSubscriptions(db: Queryable, sourceId: number): Promise<ClientSubscriptionRow[]> {
  return db.select().from(dciClientSubscriptions).where(eq(dciClientSubscriptions.sourceId, sourceId)).orderBy(dciClientSubscriptions.id);
}
