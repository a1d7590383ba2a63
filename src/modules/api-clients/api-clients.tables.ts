import { bigserial, boolean, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Partner systems and scripts that call the API with OAuth 2.0 client credentials. */
export const apiClients = pgTable('api_clients', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  clientId: text('client_id').notNull().unique(),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull(),
  scopes: text('scopes').array().notNull(),
  isActive: boolean('is_active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  // During a secret rotation the previous secret keeps working until it expires.
  previousSecretHash: text('previous_secret_hash'),
  previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true }),
  secretRotatedAt: timestamp('secret_rotated_at', { withTimezone: true }),
  /** consent | contract | legal-obligation | vital-interest | public-task | legitimate-interest (GDPR art. 6 / DPV). */
  legalBasis: text('legal_basis').notNull().default('public-task'),
  /** The organisation the client acts for, and its type, matched against consent recipients. */
  organisation: text('organisation'),
  organisationType: text('organisation_type'),
  /** Area codes the client may see (subtrees); empty = everywhere. */
  areaCodes: text('area_codes').array().notNull().default([]),
  /** Program codes the client may see; empty = all (programs arrive with a later issue). */
  programCodes: text('program_codes').array().notNull().default([]),
  rateLimitPerMinute: integer('rate_limit_per_minute'),
  tokenTtlSeconds: integer('token_ttl_seconds'),
  version: integer('version').notNull().default(1),
});
