import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { Queryable } from '../../../platform/database/database.js';
import { dciDataSources, dciOutgoingCalls } from './dci-client.tables.js';

export type DataSourceRow = typeof dciDataSources.$inferSelect;
export type DataSourceInsert = typeof dciDataSources.$inferInsert;
export type OutgoingCallRow = typeof dciOutgoingCalls.$inferSelect;

export async function insertSource(db: Queryable, values: DataSourceInsert): Promise<DataSourceRow> {
  const [row] = await db.insert(dciDataSources).values(values).returning();
  return row!;
}

export async function findSourceByCode(db: Queryable, code: string): Promise<DataSourceRow | undefined> {
  const [row] = await db.select().from(dciDataSources).where(eq(dciDataSources.code, code));
  return row;
}

export async function findSourceById(db: Queryable, id: number): Promise<DataSourceRow | undefined> {
  const [row] = await db.select().from(dciDataSources).where(eq(dciDataSources.id, id));
  return row;
}

export async function findSourceByCallbackClient(db: Queryable, clientId: string): Promise<DataSourceRow | undefined> {
  const [row] = await db.select().from(dciDataSources).where(eq(dciDataSources.callbackClientId, clientId));
  return row;
}

export function listSources(db: Queryable): Promise<DataSourceRow[]> {
  return db.select().from(dciDataSources).orderBy(dciDataSources.code);
}

export async function updateSource(db: Queryable, id: number, version: number, values: Partial<DataSourceInsert>): Promise<DataSourceRow | undefined> {
  const [row] = await db.update(dciDataSources).set({ ...values, version: version + 1, updatedAt: new Date() })
    .where(and(eq(dciDataSources.id, id), eq(dciDataSources.version, version))).returning();
  return row;
}

export async function recordTest(db: Queryable, id: number, result: Record<string, unknown>): Promise<void> {
  await db.update(dciDataSources).set({ lastTestAt: new Date(), lastTestResult: result }).where(eq(dciDataSources.id, id));
}

export async function insertCall(db: Queryable, values: typeof dciOutgoingCalls.$inferInsert): Promise<void> {
  await db.insert(dciOutgoingCalls).values(values);
}

export function listCalls(db: Queryable, filter: { sourceId?: number; outcome?: string; before?: number; limit: number }): Promise<OutgoingCallRow[]> {
  const conditions = [
    filter.sourceId !== undefined ? eq(dciOutgoingCalls.sourceId, filter.sourceId) : undefined,
    filter.outcome ? eq(dciOutgoingCalls.outcome, filter.outcome) : undefined,
    filter.before !== undefined ? lt(dciOutgoingCalls.id, filter.before) : undefined,
  ].filter((condition) => condition !== undefined);
  return db.select().from(dciOutgoingCalls).where(conditions.length > 0 ? and(...conditions) : sql`true`).orderBy(desc(dciOutgoingCalls.id)).limit(filter.limit);
}
