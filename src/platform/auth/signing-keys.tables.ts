import { bigserial, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Keys that sign our access tokens; public halves are published at /.well-known/jwks.json. */
export const signingKeys = pgTable('signing_keys', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  kid: text('kid').notNull().unique(),
  algorithm: text('algorithm').notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  privateJwk: jsonb('private_jwk').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
});
