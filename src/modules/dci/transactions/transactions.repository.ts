import { and, arrayOverlaps, desc, eq, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../../../platform/database/database.js';
import { dciTransactions } from './dci-async.tables.js';

export type TransactionRow = typeof dciTransactions.$inferSelect;
export type NewTransactionRow = typeof dciTransactions.$inferInsert;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function insertTransaction(db: Queryable, values: NewTransactionRow): Promise<TransactionRow> {
  const [row] = await db.insert(dciTransactions).values(values).returning();
  return row!;
}

export async function findTransactionByUuid(db: Queryable, uuid: string): Promise<TransactionRow | undefined> {
  if (!UUID.test(uuid)) return undefined;
  const [row] = await db.select().from(dciTransactions).where(eq(dciTransactions.uuid, uuid));
  return row;
}

export async function lockTransaction(db: Queryable, id: number): Promise<TransactionRow | undefined> {
  const [row] = await db.select().from(dciTransactions).where(eq(dciTransactions.id, id)).for('update');
  return row;
}

export async function completeTransaction(db: Queryable, id: number, values: { status: string; responseEncrypted?: string | null; error?: string | null }): Promise<void> {
  await db.update(dciTransactions).set({ ...values, updatedAt: new Date(), completedAt: new Date() }).where(eq(dciTransactions.id, id));
}

/** A partner's transactions of one action, newest first, by its transaction_id, our correlation id or its reference ids. */
export async function findPartnerTransactions(
  db: Queryable,
  partnerId: number,
  action: string,
  by: { transactionId: string } | { correlationId: string } | { referenceIds: string[] },
  limit = 20,
): Promise<TransactionRow[]> {
  let condition;
  if ('transactionId' in by) condition = eq(dciTransactions.transactionId, by.transactionId);
  else if ('correlationId' in by) {
    if (!UUID.test(by.correlationId)) return [];
    condition = eq(dciTransactions.uuid, by.correlationId);
  } else {
    if (by.referenceIds.length === 0) return [];
    condition = arrayOverlaps(dciTransactions.referenceIds, by.referenceIds);
  }
  return db.select().from(dciTransactions)
    .where(and(eq(dciTransactions.partnerId, partnerId), eq(dciTransactions.action, action), condition))
    .orderBy(desc(dciTransactions.id)).limit(limit);
}

/** Admin listing, newest first; `beforeId` pages. */
export async function listTransactions(db: Queryable, filter: { senderId?: string; action?: string; status?: string; transactionId?: string; beforeId?: number; limit: number }): Promise<TransactionRow[]> {
  const conditions = [
    filter.senderId === undefined ? undefined : eq(dciTransactions.senderId, filter.senderId),
    filter.action === undefined ? undefined : eq(dciTransactions.action, filter.action),
    filter.status === undefined ? undefined : eq(dciTransactions.status, filter.status),
    filter.transactionId === undefined ? undefined : eq(dciTransactions.transactionId, filter.transactionId),
    filter.beforeId === undefined ? undefined : lt(dciTransactions.id, filter.beforeId),
  ].filter((condition) => condition !== undefined);
  return db.select().from(dciTransactions).where(conditions.length > 0 ? and(...conditions) : sql`true`).orderBy(desc(dciTransactions.id)).limit(filter.limit);
}
