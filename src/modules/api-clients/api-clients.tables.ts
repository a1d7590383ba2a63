import { bigserial, boolean, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

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
});
