import { and, asc, eq, gt, ilike, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/database/database.js';
import { UUID } from './programs.common.js';
import { programFundMovements, programs, type ProgramState } from './programs.tables.js';

// SQL only: the service decides what is allowed.

export type ProgramRow = typeof programs.$inferSelect;

export async function insertProgram(db: Queryable, values: typeof programs.$inferInsert): Promise<ProgramRow> {
  const [row] = await db.insert(programs).values(values).onConflictDoNothing({ target: programs.code }).returning();
  return row!;
}

/** By UUID or code; `lock` takes the row for the transaction (funds checks, state changes). */
export async function findProgram(db: Queryable, ref: string, options: { lock?: boolean } = {}): Promise<ProgramRow | undefined> {
  const query = db.select().from(programs).where(UUID.test(ref) ? eq(programs.uuid, ref) : eq(programs.code, ref));
  const [row] = options.lock ? await query.for('update') : await query;
  return row;
}

export async function findProgramById(db: Queryable, id: number): Promise<ProgramRow | undefined> {
  const [row] = await db.select().from(programs).where(eq(programs.id, id));
  return row;
}

export async function updateProgram(db: Queryable, id: number, version: number, values: Partial<typeof programs.$inferInsert>): Promise<ProgramRow | undefined> {
  const [row] = await db.update(programs).set({ ...values, version: sql`${programs.version} + 1`, updatedAt: new Date() })
    .where(and(eq(programs.id, id), eq(programs.version, version))).returning();
  return row;
}

export async function searchPrograms(db: Queryable, filter: { code?: string; state?: ProgramState; name?: string; afterId: number; limit: number }): Promise<ProgramRow[]> {
  return db.select().from(programs).where(and(
    gt(programs.id, filter.afterId),
    filter.code !== undefined ? eq(programs.code, filter.code) : undefined,
    filter.state !== undefined ? eq(programs.state, filter.state) : undefined,
    filter.name !== undefined ? ilike(programs.name, `%${filter.name.replace(/[\\%_]/g, '\\$&')}%`) : undefined,
  )).orderBy(asc(programs.id)).limit(filter.limit + 1);
}

export async function insertFundMovement(db: Queryable, values: typeof programFundMovements.$inferInsert): Promise<void> {
  await db.insert(programFundMovements).values(values);
}

/** Deposits, commitments and the balance (deposits + releases − commitments), as exact decimals. */
export async function fundsOf(db: Queryable, programId: number): Promise<{ deposited: string; committed: string; balance: string }> {
  const [row] = await db.select({
    deposited: sql<string>`coalesce(sum(${programFundMovements.amount}) filter (where ${programFundMovements.kind} = 'deposit'), 0)::text`,
    committed: sql<string>`coalesce(-sum(${programFundMovements.amount}) filter (where ${programFundMovements.kind} <> 'deposit'), 0)::text`,
    balance: sql<string>`coalesce(sum(${programFundMovements.amount}), 0)::text`,
  }).from(programFundMovements).where(eq(programFundMovements.programId, programId));
  return row!;
}
