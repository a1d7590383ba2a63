import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Append-only record of every write: who, when, what, and the changed fields before and after.
 * A trigger refuses deletes and any change to a sealed entry (see the audit-chain migration).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    before: jsonb('before').$type<Record<string, unknown> | null>(),
    after: jsonb('after').$type<Record<string, unknown> | null>(),
    requestId: text('request_id'),
    // Hash chain, added by the sealer shortly after commit: position in the chain and
    // sha256(previous entry_hash + this entry's content). Editing or deleting a sealed entry breaks it.
    chainPosition: bigint('chain_position', { mode: 'number' }),
    entryHash: text('entry_hash'),
    sealedAt: timestamp('sealed_at', { withTimezone: true }),
  },
  (table) => [
    index('audit_log_entity_idx').on(table.entityType, table.entityId, table.id),
    index('audit_log_actor_idx').on(table.actorId, table.id),
    index('audit_log_occurred_idx').on(table.occurredAt),
    uniqueIndex('audit_log_chain_uq').on(table.chainPosition),
    // The sealer's work list: small however large the log grows.
    index('audit_log_unsealed_idx').on(table.id).where(sql`${table.entryHash} is null`),
  ],
);
