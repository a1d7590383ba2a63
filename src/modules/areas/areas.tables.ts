import { bigserial, bigint, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Administrative areas (country → region → district → …). `path` is the materialised path of
 * database ids ("/1/4/17/") so a subtree is one indexed prefix match.
 */
export const areas = pgTable(
  'areas',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    code: text('code').notNull().unique(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    parentId: bigint('parent_id', { mode: 'number' }),
    path: text('path').notNull(),
    depth: integer('depth').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
  },
  (table) => [
    index('areas_path_idx').using('btree', table.path.op('text_pattern_ops')),
    index('areas_parent_idx').on(table.parentId),
  ],
);
