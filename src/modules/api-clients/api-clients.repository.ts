import { eq } from 'drizzle-orm';
import type { Queryable } from '../../platform/database/database.js';
import { apiClients } from './api-clients.tables.js';

export type ApiClientRow = typeof apiClients.$inferSelect;

export async function insertApiClient(db: Queryable, values: typeof apiClients.$inferInsert): Promise<ApiClientRow> {
  const [row] = await db.insert(apiClients).values(values).returning();
  return row!;
}

export async function findApiClientByClientId(db: Queryable, clientId: string): Promise<ApiClientRow | undefined> {
  const [row] = await db.select().from(apiClients).where(eq(apiClients.clientId, clientId));
  return row;
}

/** The row locked until the transaction ends, for a read-modify-write. */
export async function lockApiClientByClientId(db: Queryable, clientId: string): Promise<ApiClientRow | undefined> {
  const [row] = await db.select().from(apiClients).where(eq(apiClients.clientId, clientId)).for('update');
  return row;
}

export async function updateApiClientRow(db: Queryable, id: number, values: Partial<typeof apiClients.$inferInsert>): Promise<ApiClientRow> {
  const [row] = await db.update(apiClients).set(values).where(eq(apiClients.id, id)).returning();
  return row!;
}

export async function listApiClientRows(db: Queryable): Promise<ApiClientRow[]> {
  return db.select().from(apiClients).orderBy(apiClients.id);
}

export async function touchApiClient(db: Queryable, id: number): Promise<void> {
  await db.update(apiClients).set({ lastUsedAt: new Date() }).where(eq(apiClients.id, id));
}
