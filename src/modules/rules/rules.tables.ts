import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export type VariableKind = 'field' | 'constant' | 'computed' | 'aggregate' | 'external';
export type ExternalFailurePolicy = 'null' | 'last_known' | 'fail';

/**
 * Named variables of the rules language, defined once and reused in rules by their code. `definition`
 * is an expression (field, computed, aggregate), a literal (constant, in `value`) or, for external
 * variables, where the value comes from (a DCI registry query; the fetcher awaits the DCI client).
 */
export const ruleVariables = pgTable('rule_variables', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  code: text('code').notNull(),
  // 'individual' | 'group': the subject the variable is defined for.
  subject: text('subject').notNull(),
  kind: text('kind').$type<VariableKind>().notNull(),
  definition: text('definition'),
  value: jsonb('value'),
  resultType: text('result_type').notNull(),
  description: text('description').notNull(),
  // External variables only: how long a fetched value is trusted, and what to do when fetching fails.
  ttlSeconds: integer('ttl_seconds'),
  failurePolicy: text('failure_policy').$type<ExternalFailurePolicy>(),
  source: jsonb('source').$type<Record<string, unknown>>(),
  isStandard: boolean('is_standard').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (table) => [uniqueIndex('rule_variables_code_subject_uq').on(table.code, table.subject)]);

/** Values of external variables fetched for a registrant, with when they were fetched (TTL). */
export const ruleExternalValues = pgTable('rule_external_values', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  variableId: bigint('variable_id', { mode: 'number' }).notNull().references(() => ruleVariables.id),
  // The registrant's internal id (registrants.id); the rules module never joins it itself: the
  // registry's compiled conditions read this table through the rules' SQL for external variables.
  registrantId: bigint('registrant_id', { mode: 'number' }).notNull(),
  value: jsonb('value'),
  fetchedAt: timestamp('fetched_at', { withTimezone: true }).notNull().default(sql`now()`),
}, (table) => [
  uniqueIndex('rule_external_values_uq').on(table.variableId, table.registrantId),
  index('rule_external_values_registrant_idx').on(table.registrantId),
]);
