import { and, asc, eq, gt, ilike, inArray, isNotNull, isNull, like, ne, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Queryable } from '../../platform/database/database.js';
import { areas } from './areas.tables.js';

export type AreaRow = typeof areas.$inferSelect;
export type NewAreaRow = typeof areas.$inferInsert & { id: number; path: string; depth: number };

/** Which rows a search returns; every filter is optional and they combine with AND. */
export interface AreaRowFilter {
  parentId?: number;
  /** Materialised path of an ancestor: matches its descendants, not the ancestor itself. */
  descendantsOfPath?: string;
  kind?: string;
  nameContains?: string;
  code?: string;
  isActive?: boolean;
  /** Keyset paging: only codes after this one. */
  afterCode?: string;
  limit: number;
}

/** Ids are taken before the insert because the row's own id is the last segment of its path. */
export async function reserveAreaIds(db: Queryable, count: number): Promise<number[]> {
  if (count === 0) return [];
  const rows = await queryRows<{ id: number | string }>(db, sql`select nextval(pg_get_serial_sequence('areas', 'id')) as id from generate_series(1, ${count})`);
  return rows.map((row) => Number(row.id));
}

export async function insertAreas(db: Queryable, values: NewAreaRow[]): Promise<AreaRow[]> {
  if (values.length === 0) return [];
  return db.insert(areas).values(values).returning();
}

export async function findAreaRowByCode(db: Queryable, code: string): Promise<AreaRow | undefined> {
  const [row] = await db.select().from(areas).where(eq(areas.code, code));
  return row;
}

/**
 * The row locked against concurrent change: `update` for the area being written, `share` for a
 * parent, so it cannot be moved or deactivated until the child referring to it is committed.
 */
export async function lockAreaRowByCode(db: Queryable, code: string, strength: 'update' | 'share'): Promise<AreaRow | undefined> {
  const [row] = await db.select().from(areas).where(eq(areas.code, code)).for(strength);
  return row;
}

export async function findAreaRowsByCodes(db: Queryable, codes: string[]): Promise<AreaRow[]> {
  if (codes.length === 0) return [];
  return db.select().from(areas).where(inArray(areas.code, codes));
}

export async function findAreaRowsByIds(db: Queryable, ids: number[]): Promise<AreaRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(areas).where(inArray(areas.id, ids)).orderBy(asc(areas.depth));
}

export async function findCodesByIds(db: Queryable, ids: number[]): Promise<Array<{ id: number; code: string }>> {
  if (ids.length === 0) return [];
  return db.select({ id: areas.id, code: areas.code }).from(areas).where(inArray(areas.id, ids));
}

/** The area and all its descendants: one prefix match on the path index. */
export async function findSubtreeIds(db: Queryable, path: string): Promise<number[]> {
  const rows = await db.select({ id: areas.id }).from(areas).where(like(areas.path, `${path}%`));
  return rows.map((row) => row.id);
}

export async function hasActiveChildren(db: Queryable, id: number): Promise<boolean> {
  const [row] = await db.select({ id: areas.id }).from(areas)
    .where(and(eq(areas.parentId, id), isNull(areas.deactivatedAt)))
    .limit(1);
  return row !== undefined;
}

export async function searchAreaRows(db: Queryable, filter: AreaRowFilter): Promise<AreaRow[]> {
  const conditions: SQL[] = [];
  if (filter.parentId !== undefined) conditions.push(eq(areas.parentId, filter.parentId));
  if (filter.descendantsOfPath !== undefined) {
    conditions.push(like(areas.path, `${filter.descendantsOfPath}%`), ne(areas.path, filter.descendantsOfPath));
  }
  if (filter.kind !== undefined) conditions.push(eq(areas.kind, filter.kind));
  if (filter.nameContains !== undefined) conditions.push(ilike(areas.name, `%${escapeLikePattern(filter.nameContains)}%`));
  if (filter.code !== undefined) conditions.push(eq(areas.code, filter.code));
  if (filter.isActive !== undefined) conditions.push(filter.isActive ? isNull(areas.deactivatedAt) : isNotNull(areas.deactivatedAt));
  if (filter.afterCode !== undefined) conditions.push(gt(areas.code, filter.afterCode));
  return db.select().from(areas).where(and(...conditions)).orderBy(asc(areas.code)).limit(filter.limit);
}

export async function updateAreaRow(
  db: Queryable,
  id: number,
  values: Partial<Pick<AreaRow, 'name' | 'kind' | 'parentId' | 'version' | 'deactivatedAt'>>,
): Promise<AreaRow> {
  const [row] = await db.update(areas).set({ ...values, updatedAt: new Date() }).where(eq(areas.id, id)).returning();
  return row!;
}

/**
 * Re-roots a whole subtree (the area included) in one statement: the old path prefix is swapped for
 * the new one and depths shift alike. Versions move on too, as depth is part of each area's
 * representation and its ETag must change with it.
 */
export async function moveSubtree(db: Queryable, from: { path: string; depth: number }, to: { path: string; depth: number }): Promise<void> {
  await db.update(areas).set({
    path: sql`${to.path}::text || substring(${areas.path} from ${from.path.length + 1}::int)`,
    depth: sql`${areas.depth} + ${to.depth - from.depth}::int`,
    version: sql`${areas.version} + 1`,
    updatedAt: new Date(),
  }).where(like(areas.path, `${from.path}%`));
}

/**
 * Moves are rare; taking one lock for all of them stops two crossing moves (A under B while B
 * goes under A) from each passing the cycle check against the other's old path.
 */
export async function lockAreaMoves(db: Queryable): Promise<void> {
  await db.execute(sql`select pg_advisory_xact_lock(hashtext('commonweal.areas.move'))`);
}

function escapeLikePattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}
