import { bigserial, bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { jobs } from '../../platform/jobs/jobs.tables.js';

/** Saved, reusable column mappings for imports: file column → registry field. */
export const importMappings = pgTable('import_mappings', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description'),
  // { columns: { "<file column>": "<field path>" }, options: {...} }
  mapping: jsonb('mapping').$type<Record<string, unknown>>().notNull(),
  version: integer('version').notNull().default(1),
  createdBy: text('created_by'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One problem with one row of an import: the per-row validation report. */
export const importRowProblems = pgTable(
  'import_row_problems',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: bigint('job_id', { mode: 'number' }).notNull().references(() => jobs.id),
    rowNumber: integer('row_number').notNull(),
    columnName: text('column_name'),
    value: text('value'),
    reason: text('reason').notNull(),
  },
  (table) => [index('import_row_problems_job_idx').on(table.jobId, table.rowNumber)],
);
