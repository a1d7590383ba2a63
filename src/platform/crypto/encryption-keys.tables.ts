import { integer, pgTable, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** `index-retired`: a blind-index root replaced by a rotation (kept, no longer used for lookups). */
export type EncryptionKeyPurpose = 'data' | 'index' | 'index-retired';

/**
 * Keys for encryption at rest, each stored wrapped (encrypted) by the key-encryption key, which
 * never enters the database. `data`: AES-256-GCM data-encryption keys, one per version, the newest
 * writing; `index`: the root of the blind-index keys (one, not rotated).
 */
export const encryptionKeys = pgTable('encryption_keys', {
  id: serial('id').primaryKey(),
  purpose: text('purpose').$type<EncryptionKeyPurpose>().notNull(),
  version: integer('version').notNull(),
  wrappedKey: text('wrapped_key').notNull(),
  /** The KEK that wrapped it (KeyProvider.id). */
  kekId: text('kek_id').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  rewrappedAt: timestamp('rewrapped_at', { withTimezone: true }),
}, (table) => [uniqueIndex('encryption_keys_purpose_version_uq').on(table.purpose, table.version)]);
