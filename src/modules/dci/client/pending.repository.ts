import { and, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../../platform/database/database.js';
import { dciClientCallbacks, dciClientTransactions } from '../data-sources/dci-client.tables.js';

export type ClientTransactionRow = typeof dciClientTransactions.$inferSelect;

export async function insertPending(db: Queryable, values: typeof dciClientTransactions.$inferInsert): Promise<void> {
  await db.insert(dciClientTransactions).values(values);
}

export async function setCorrelation(db: Queryable, sourceId: number, transactionId: string, correlationId: string): Promise<void> {
  await db.update(dciClientTransactions).set({ correlationId })
    .where(and(eq(dciClientTransactions.sourceId, sourceId), eq(dciClientTransactions.transactionId, transactionId), sql`${dciClientTransactions.correlationId} is null`));
}

export async function findPending(db: Queryable, sourceId: number, transactionId: string): Promise<ClientTransactionRow | undefined> {
  const [row] = await db.select().from(dciClientTransactions).where(and(eq(dciClientTransactions.sourceId, sourceId), eq(dciClientTransactions.transactionId, transactionId)));
  return row;
}

/** Stores the answer once: the first of callback and poll wins; returns false when already answered. */
export async function answer(db: Queryable, sourceId: number, transactionId: string, values: { answeredBy: 'callback' | 'poll'; responseEncrypted?: string; status: 'answered' | 'failed'; error?: string }): Promise<boolean> {
  const rows = await db.update(dciClientTransactions).set({ ...values, answeredAt: new Date() })
    .where(and(eq(dciClientTransactions.sourceId, sourceId), eq(dciClientTransactions.transactionId, transactionId), eq(dciClientTransactions.status, 'pending')))
    .returning({ id: dciClientTransactions.id });
  return rows.length > 0;
}

/** Remembers a callback's message id; false when it was seen before (a duplicate). */
export async function rememberCallback(db: Queryable, values: typeof dciClientCallbacks.$inferInsert): Promise<boolean> {
  const rows = await db.insert(dciClientCallbacks).values(values).onConflictDoNothing().returning({ messageId: dciClientCallbacks.messageId });
  return rows.length > 0;
}
