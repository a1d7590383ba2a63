import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { apiClients } from '../api-clients/api-clients.tables.js';

/**
 * Onboarded DCI partners (senders). Authentication, scopes, legal basis, area limits and rate limit
 * are those of the linked API client (its tokens come from /oauth2/client/token); this row adds
 * what DCI needs on top: the sender id, how its messages are signed and encrypted, and where and
 * how we may call it back.
 */
export const dciPartners = pgTable('dci_partners', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  /** `header.sender_id` of its messages (and `receiver_id` of ours to it). */
  senderId: text('sender_id').notNull().unique(),
  name: text('name').notNull(),
  apiClientId: text('api_client_id').notNull().unique().references(() => apiClients.clientId),
  /** required | optional (see protocol/signatures.ts checkSignature). */
  signaturePolicy: text('signature_policy').notNull().default('required'),
  /** signature-string | jws. */
  signatureStrategy: text('signature_strategy').notNull().default('signature-string'),
  /** Public JWKs registered directly (each with a kid). */
  publicKeys: jsonb('public_keys').$type<Array<Record<string, unknown>>>().notNull().default([]),
  jwksUrl: text('jwks_url'),
  /** Host names (optionally host:port) that sender_uri callbacks may go to; empty = no callbacks. */
  allowedCallbackHosts: text('allowed_callback_hosts').array().notNull().default([]),
  /** How we authenticate our callbacks to the partner (token URL + client credentials, or a bearer token), encrypted at rest. */
  callbackCredentialsEncrypted: text('callback_credentials_encrypted'),
  /** none | optional | required: whether its messages (and ours to it) are encrypted. */
  encryptionPolicy: text('encryption_policy').notNull().default('none'),
  /** The partner's public encryption key (JWK with kid) for messages we send it encrypted. */
  encryptionKey: jsonb('encryption_key').$type<Record<string, unknown>>(),
  isActive: boolean('is_active').notNull().default(true),
  version: integer('version').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Message ids seen per sender, kept while a replay could still pass the message_ts window; a
 * second message with the same id is `rjct.message_id.duplicate`.
 */
export const dciMessageIds = pgTable('dci_message_ids', {
  senderId: text('sender_id').notNull(),
  messageId: text('message_id').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
}, (table) => [primaryKey({ columns: [table.senderId, table.messageId] }), index('dci_message_ids_expires_idx').on(table.expiresAt)]);

/**
 * Our message-decryption keys (partners encrypt to them; public halves in the DCI JWKS with
 * use=enc). Private halves encrypted at rest with the data keys. Signing reuses the token keys.
 */
export const dciEncryptionKeys = pgTable('dci_encryption_keys', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  kid: text('kid').notNull().unique(),
  algorithm: text('algorithm').notNull(),
  publicJwk: jsonb('public_jwk').$type<Record<string, unknown>>().notNull(),
  privateJwkEncrypted: text('private_jwk_encrypted').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
});
