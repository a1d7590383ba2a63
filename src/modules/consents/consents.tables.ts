import { bigserial, bigint, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { registrants } from '../registry/registry.tables.js';

export type ConsentStatus = 'requested' | 'given' | 'refused' | 'withdrawn' | 'expired';

/**
 * A registrant's consent, shaped after ISO/IEC TS 27560 with DPV terms: for which purposes, which
 * personal data categories, which processing operations, and to which recipient (a named
 * organisation or an organisation type). Terms are immutable once given; changes are new records.
 */
export const consents = pgTable(
  'consents',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    uuid: uuid('uuid').notNull().unique(),
    registrantId: bigint('registrant_id', { mode: 'number' }).notNull().references(() => registrants.id),
    status: text('status').$type<ConsentStatus>().notNull(),
    purposes: text('purposes').array().notNull(),
    dataCategories: text('data_categories').array().notNull(),
    processingOperations: text('processing_operations').array().notNull(),
    recipientOrganisation: text('recipient_organisation'),
    recipientType: text('recipient_type'),
    legalNotice: text('legal_notice'),
    collectionMethod: text('collection_method'),
    evidence: jsonb('evidence').$type<Record<string, unknown>>(),
    requestedAt: timestamp('requested_at', { withTimezone: true }),
    givenAt: timestamp('given_at', { withTimezone: true }),
    refusedAt: timestamp('refused_at', { withTimezone: true }),
    withdrawnAt: timestamp('withdrawn_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('consents_registrant_idx').on(table.registrantId, table.status)],
);

/** Every status change of a consent, append-only: its full history. */
export const consentEvents = pgTable(
  'consent_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    consentId: bigint('consent_id', { mode: 'number' }).notNull().references(() => consents.id),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    reason: text('reason'),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('consent_events_consent_idx').on(table.consentId, table.id)],
);
