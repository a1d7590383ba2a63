import { bigserial, bigint, boolean, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** A namespaced code list (e.g. `gender` = ISO 5218, `country` = ISO 3166-1). */
export const vocabularies = pgTable('vocabularies', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  code: text('code').notNull().unique(),
  namespaceUri: text('namespace_uri').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  isSystem: boolean('is_system').notNull().default(false),
  version: integer('version').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * One code of a vocabulary. `properties` carries code-specific data, e.g. for id types the
 * identifier namespace URI (`system`) and an optional validation `pattern`.
 */
export const vocabularyCodes = pgTable(
  'vocabulary_codes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    vocabularyId: bigint('vocabulary_id', { mode: 'number' }).notNull().references(() => vocabularies.id),
    code: text('code').notNull(),
    label: text('label').notNull(),
    properties: jsonb('properties').$type<Record<string, unknown>>().notNull().default({}),
    isLocal: boolean('is_local').notNull().default(false),
    isActive: boolean('is_active').notNull().default(true),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('vocabulary_codes_code_uq').on(table.vocabularyId, table.code)],
);
