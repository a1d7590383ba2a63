import { and, asc, eq, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/database/database.js';
import { ruleExternalValues, ruleVariables } from './rules.tables.js';
import type { RuleSubject, RuleVariable, ScalarType } from './rules.types.js';

export type RuleVariableRow = typeof ruleVariables.$inferSelect;

export function toRuleVariable(row: RuleVariableRow): RuleVariable {
  return {
    id: row.id, code: row.code, subject: row.subject as RuleSubject, kind: row.kind, definition: row.definition, value: row.value,
    resultType: row.resultType as ScalarType, description: row.description, ttlSeconds: row.ttlSeconds, failurePolicy: row.failurePolicy,
  };
}

export async function listVariables(db: Queryable, subject: RuleSubject): Promise<RuleVariable[]> {
  const rows = await db.select().from(ruleVariables).where(eq(ruleVariables.subject, subject)).orderBy(asc(ruleVariables.code));
  return rows.map(toRuleVariable);
}

/** Inserts the standard variables missing (by code and subject); never changes a deployment's edits. */
export async function insertMissingVariables(db: Queryable, variables: RuleVariable[]): Promise<string[]> {
  if (variables.length === 0) return [];
  const inserted = await db.insert(ruleVariables).values(variables.map((variable) => ({
    code: variable.code, subject: variable.subject, kind: variable.kind, definition: variable.definition ?? null,
    value: variable.value ?? null, resultType: variable.resultType, description: variable.description,
    ttlSeconds: variable.ttlSeconds ?? null, failurePolicy: variable.failurePolicy ?? null, isStandard: true,
  }))).onConflictDoNothing().returning({ code: ruleVariables.code, subject: ruleVariables.subject });
  return inserted.map((row) => `${row.subject}:${row.code}`);
}

export async function insertVariable(db: Queryable, variable: RuleVariable & { source?: Record<string, unknown> }): Promise<RuleVariable> {
  const [row] = await db.insert(ruleVariables).values({
    code: variable.code, subject: variable.subject, kind: variable.kind, definition: variable.definition ?? null, value: variable.value ?? null,
    resultType: variable.resultType, description: variable.description, ttlSeconds: variable.ttlSeconds ?? null,
    failurePolicy: variable.failurePolicy ?? null, source: variable.source ?? null,
  }).returning();
  return toRuleVariable(row!);
}

export async function findExternalValue(db: Queryable, variableId: number, registrantId: number) {
  const [row] = await db.select().from(ruleExternalValues)
    .where(and(eq(ruleExternalValues.variableId, variableId), eq(ruleExternalValues.registrantId, registrantId)));
  return row;
}

export async function storeExternalValue(db: Queryable, variableId: number, registrantId: number, value: unknown, fetchedAt: Date): Promise<void> {
  await db.insert(ruleExternalValues).values({ variableId, registrantId, value: value as never, fetchedAt })
    .onConflictDoUpdate({ target: [ruleExternalValues.variableId, ruleExternalValues.registrantId], set: { value: sql`excluded.value`, fetchedAt: sql`excluded.fetched_at` } });
}
