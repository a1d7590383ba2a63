import { and, asc, eq, getTableColumns, gt, ilike, like, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Queryable } from '../../platform/database/database.js';
import { vocabularies, vocabularyCodes } from './vocabularies.tables.js';

export type VocabularyRow = typeof vocabularies.$inferSelect;
export type VocabularyCodeRow = typeof vocabularyCodes.$inferSelect;
export type VocabularyWithCount = VocabularyRow & { codeCount: number };

// Spelled out: Drizzle leaves columns unqualified here, which would bind to the inner table.
const codeCount = sql<number>`(select count(*)::int from ${vocabularyCodes} c where c.vocabulary_id = ${vocabularies}.id)`;

export async function listVocabularyRows(db: Queryable): Promise<VocabularyWithCount[]> {
  return db.select({ ...getTableColumns(vocabularies), codeCount }).from(vocabularies).orderBy(asc(vocabularies.code));
}

export async function findVocabularyRow(db: Queryable, code: string): Promise<VocabularyWithCount | undefined> {
  const [row] = await db.select({ ...getTableColumns(vocabularies), codeCount }).from(vocabularies).where(eq(vocabularies.code, code));
  return row;
}

/** Inserts unless the code or namespace is taken; `undefined` then. */
export async function insertVocabulary(db: Queryable, values: typeof vocabularies.$inferInsert): Promise<VocabularyRow | undefined> {
  const [row] = await db.insert(vocabularies).values(values).onConflictDoNothing().returning();
  return row;
}

/** A change to any code changes the vocabulary too (its ETag covers its codes). */
export async function bumpVocabularyVersion(db: Queryable, id: number): Promise<void> {
  await db.update(vocabularies).set({ version: sql`${vocabularies.version} + 1`, updatedAt: sql`now()` }).where(eq(vocabularies.id, id));
}

export async function listSystemVocabularyDescriptions(db: Queryable): Promise<Array<{ code: string; description: string | null }>> {
  return db.select({ code: vocabularies.code, description: vocabularies.description }).from(vocabularies).where(eq(vocabularies.isSystem, true));
}

/** Takes a lock held until the transaction ends, so two processes starting together install once. */
export async function lockSystemInstall(tx: Queryable): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('commonweal:system-vocabularies'))`);
}

export async function upsertSystemVocabulary(db: Queryable, values: { code: string; namespaceUri: string; name: string; description: string }): Promise<VocabularyRow> {
  const [row] = await db.insert(vocabularies).values({ ...values, isSystem: true }).onConflictDoUpdate({
    target: vocabularies.code,
    set: { ...values, isSystem: true, version: sql`${vocabularies.version} + 1`, updatedAt: sql`now()` },
  }).returning();
  return row!;
}

/**
 * Inserts or updates all shipped codes of a vocabulary in one statement (the codes travel as one
 * JSON parameter, which is much faster than thousands of bound values). Rows already equal are not
 * touched; a local code the standard now defines becomes a system code. Returns how many changed.
 */
export async function upsertSystemCodes(db: Queryable, vocabularyId: number, codes: Array<{ code: string; label: string; properties?: object }>): Promise<number> {
  const [result] = await queryRows<{ changed: number }>(db, sql`
    with changed as (
      insert into ${vocabularyCodes} (vocabulary_id, code, label, properties, is_local, is_active)
      select ${vocabularyId}, x.code, x.label, coalesce(x.properties, '{}'::jsonb), false, true
      from jsonb_to_recordset(${JSON.stringify(codes)}::jsonb) as x(code text, label text, properties jsonb)
      on conflict (vocabulary_id, code) do update
        set label = excluded.label, properties = excluded.properties, is_local = false, is_active = true,
            version = ${vocabularyCodes}.version + 1, updated_at = now()
        where ${vocabularyCodes}.label is distinct from excluded.label
           or ${vocabularyCodes}.properties is distinct from excluded.properties
           or ${vocabularyCodes}.is_local or not ${vocabularyCodes}.is_active
      returning 1
    )
    select count(*)::int as changed from changed`);
  return result?.changed ?? 0;
}

/** System codes no longer shipped are deactivated, not deleted: records may still hold them. */
export async function deactivateSystemCodesNotIn(db: Queryable, vocabularyId: number, codes: string[]): Promise<number> {
  const [result] = await queryRows<{ changed: number }>(db, sql`
    with changed as (
      update ${vocabularyCodes} set is_active = false, version = version + 1, updated_at = now()
      where vocabulary_id = ${vocabularyId} and not is_local and is_active
        and code not in (select jsonb_array_elements_text(${JSON.stringify(codes)}::jsonb))
      returning 1
    )
    select count(*)::int as changed from changed`);
  return result?.changed ?? 0;
}

export interface CodeFilter {
  /** Keyset paging: codes after this one, in code order. */
  after?: string;
  codePrefix?: string;
  labelContains?: string;
  active?: boolean;
  limit: number;
}

export async function listCodeRows(db: Queryable, vocabularyId: number, filter: CodeFilter): Promise<VocabularyCodeRow[]> {
  const conditions: SQL[] = [eq(vocabularyCodes.vocabularyId, vocabularyId)];
  if (filter.after !== undefined) conditions.push(gt(vocabularyCodes.code, filter.after));
  if (filter.codePrefix) conditions.push(like(vocabularyCodes.code, `${escapeLike(filter.codePrefix)}%`));
  if (filter.labelContains) conditions.push(ilike(vocabularyCodes.label, `%${escapeLike(filter.labelContains)}%`));
  if (filter.active !== undefined) conditions.push(eq(vocabularyCodes.isActive, filter.active));
  return db.select().from(vocabularyCodes).where(and(...conditions)).orderBy(asc(vocabularyCodes.code)).limit(filter.limit);
}

export async function findCodeRow(db: Queryable, vocabularyId: number, code: string, options: { forUpdate?: boolean } = {}): Promise<VocabularyCodeRow | undefined> {
  const query = db.select().from(vocabularyCodes).where(and(eq(vocabularyCodes.vocabularyId, vocabularyId), eq(vocabularyCodes.code, code)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

/** Inserts unless the code exists in the vocabulary; `undefined` then. */
export async function insertCode(db: Queryable, values: typeof vocabularyCodes.$inferInsert): Promise<VocabularyCodeRow | undefined> {
  const [row] = await db.insert(vocabularyCodes).values(values).onConflictDoNothing().returning();
  return row;
}

export async function updateCode(db: Queryable, id: number, changes: { label?: string; isActive?: boolean }): Promise<VocabularyCodeRow> {
  const [row] = await db.update(vocabularyCodes)
    .set({ ...changes, version: sql`${vocabularyCodes.version} + 1`, updatedAt: sql`now()` })
    .where(eq(vocabularyCodes.id, id))
    .returning();
  return row!;
}

export async function listCodesOfVocabulary(db: Queryable, vocabularyCode: string): Promise<VocabularyCodeRow[]> {
  return db.select(getTableColumns(vocabularyCodes)).from(vocabularyCodes)
    .innerJoin(vocabularies, eq(vocabularies.id, vocabularyCodes.vocabularyId))
    .where(eq(vocabularies.code, vocabularyCode))
    .orderBy(asc(vocabularyCodes.code));
}

export interface CodeCheckRow {
  vocabulary: string;
  code: string;
  vocabularyExists: boolean;
  isActive: boolean | null;
}

/** Looks up many (vocabulary, code) pairs in one query; `isActive` is null for an unknown code. */
export async function checkCodes(db: Queryable, pairs: Array<{ vocabulary: string; code: string }>): Promise<CodeCheckRow[]> {
  return queryRows<CodeCheckRow>(db, sql`
    select q.vocabulary, q.code, v.id is not null as "vocabularyExists", c.is_active as "isActive"
    from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as q(vocabulary text, code text)
    left join ${vocabularies} v on v.code = q.vocabulary
    left join ${vocabularyCodes} c on c.vocabulary_id = v.id and c.code = q.code`);
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}
