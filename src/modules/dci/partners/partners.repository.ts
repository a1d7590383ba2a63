import { asc, eq } from 'drizzle-orm';
import type { Queryable } from '../../../platform/database/database.js';
import { dciPartners } from '../dci.tables.js';

export type PartnerRow = typeof dciPartners.$inferSelect;
export type NewPartnerRow = typeof dciPartners.$inferInsert;

export async function insertPartner(db: Queryable, values: NewPartnerRow): Promise<PartnerRow> {
  const [row] = await db.insert(dciPartners).values(values).returning();
  return row!;
}

export async function findPartnerBySender(db: Queryable, senderId: string): Promise<PartnerRow | undefined> {
  const [row] = await db.select().from(dciPartners).where(eq(dciPartners.senderId, senderId));
  return row;
}

export async function findPartnerByApiClient(db: Queryable, clientId: string): Promise<PartnerRow | undefined> {
  const [row] = await db.select().from(dciPartners).where(eq(dciPartners.apiClientId, clientId));
  return row;
}

export async function lockPartnerBySender(db: Queryable, senderId: string): Promise<PartnerRow | undefined> {
  const [row] = await db.select().from(dciPartners).where(eq(dciPartners.senderId, senderId)).for('update');
  return row;
}

export async function listPartnerRows(db: Queryable): Promise<PartnerRow[]> {
  return db.select().from(dciPartners).orderBy(asc(dciPartners.senderId));
}

export async function updatePartnerRow(db: Queryable, id: number, values: Partial<NewPartnerRow>): Promise<PartnerRow> {
  const [row] = await db.update(dciPartners).set({ ...values, updatedAt: new Date() }).where(eq(dciPartners.id, id)).returning();
  return row!;
}
