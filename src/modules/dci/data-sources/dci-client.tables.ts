import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { apiClients } from '../../api-clients/api-clients.tables.js';

/**
 * External DCI registries we call (CRVS, IBR, DR, another SR): one row each. Secrets (OAuth client
 * secret, static bearer token, a signing key of its own) are encrypted at rest (FieldCipher).
 */
export const dciDataSources = pgTable('dci_data_sources', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  /** Lookup key used by the domain services (`crvs_main`, `ibr_main`, `dr_main`). */
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  /** CRVS | IBR | DR | SR. */
  registryType: text('registry_type').notNull(),
  baseUrl: text('base_url').notNull(),
  /** Path overrides by operation (`sync_search`, `search`, `subscribe`, `token`, …); the rest are the spec defaults. */
  paths: jsonb('paths').$type<Record<string, string>>().notNull().default({}),
  /** oauth2 | bearer | none. */
  authType: text('auth_type').notNull().default('none'),
  oauthClientId: text('oauth_client_id'),
  /** `{ clientSecret?, bearerToken?, signingKey? }` encrypted. */
  secretsEncrypted: text('secrets_encrypted'),
  ourSenderId: text('our_sender_id').notNull(),
  receiverId: text('receiver_id').notNull(),
  /** signature-string | jws. */
  signatureStrategy: text('signature_strategy').notNull().default('signature-string'),
  /** Kid of a signing key of this source's own (private half in the secrets); null = our DCI key. */
  signingKid: text('signing_kid'),
  jwksUrl: text('jwks_url'),
  publicKeys: jsonb('public_keys').$type<Array<Record<string, unknown>>>().notNull().default([]),
  /** Whether responses without a valid signature are refused (true) or accepted unsigned (false). */
  requireSignedResponses: boolean('require_signed_responses').notNull().default(true),
  /** Our callback base URL given to this registry as `sender_uri`. */
  callbackUrl: text('callback_url'),
  /** The API client this registry uses to call our callback endpoints (scope dci:callback). */
  callbackClientId: text('callback_client_id').unique().references(() => apiClients.clientId),
  verifyTls: boolean('verify_tls').notNull().default(true),
  timeoutMs: integer('timeout_ms').notNull().default(30_000),
  isActive: boolean('is_active').notNull().default(true),
  lastTestAt: timestamp('last_test_at', { withTimezone: true }),
  lastTestResult: jsonb('last_test_result').$type<Record<string, unknown>>(),
  version: integer('version').notNull().default(1),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Every outgoing DCI call (one row per HTTP attempt group): no personal data, only what happened. */
export const dciOutgoingCalls = pgTable('dci_outgoing_calls', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  sourceId: bigint('source_id', { mode: 'number' }).notNull().references(() => dciDataSources.id),
  operation: text('operation').notNull(),
  url: text('url').notNull(),
  transactionId: text('transaction_id'),
  messageId: text('message_id'),
  /** ok | http_error | network | timeout | tls | auth | signature | schema | rejected. */
  outcome: text('outcome').notNull(),
  httpStatus: integer('http_status'),
  attempts: integer('attempts').notNull().default(1),
  durationMs: integer('duration_ms').notNull(),
  /** Masked summary: query type, item count, reason codes. */
  summary: jsonb('summary').$type<Record<string, unknown>>().notNull().default({}),
  error: text('error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (table) => [index('dci_outgoing_calls_created_idx').on(table.createdAt), index('dci_outgoing_calls_source_idx').on(table.sourceId, table.createdAt)]);

/**
 * Our requests awaiting an asynchronous answer (search, subscribe, unsubscribe, txn-status), and
 * the answer once it came (by callback or by polling txn/status), encrypted: it holds personal data.
 */
export const dciClientTransactions = pgTable('dci_client_transactions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  sourceId: bigint('source_id', { mode: 'number' }).notNull().references(() => dciDataSources.id),
  transactionId: text('transaction_id').notNull(),
  action: text('action').notNull(),
  /** The registry's correlation id from its ACK. */
  correlationId: text('correlation_id'),
  referenceIds: text('reference_ids').array().notNull().default([]),
  /** pending | answered | failed. */
  status: text('status').notNull().default('pending'),
  /** callback | poll. */
  answeredBy: text('answered_by'),
  responseEncrypted: text('response_encrypted'),
  error: text('error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  answeredAt: timestamp('answered_at', { withTimezone: true }),
}, (table) => [uniqueIndex('dci_client_transactions_txn_idx').on(table.sourceId, table.transactionId)]);

/** Callback message ids seen per source: a duplicate callback is acknowledged but not applied twice. */
export const dciClientCallbacks = pgTable('dci_client_callbacks', {
  sourceId: bigint('source_id', { mode: 'number' }).notNull().references(() => dciDataSources.id),
  messageId: text('message_id').notNull(),
  action: text('action').notNull(),
  transactionId: text('transaction_id'),
  correlationId: text('correlation_id'),
  /** applied | duplicate-transaction | unknown-transaction. */
  outcome: text('outcome').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
}, (table) => [primaryKey({ columns: [table.sourceId, table.messageId] })]);

/** Our subscriptions at external registries (e.g. CRVS vital events). */
export const dciClientSubscriptions = pgTable('dci_client_subscriptions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  sourceId: bigint('source_id', { mode: 'number' }).notNull().references(() => dciDataSources.id),
  transactionId: text('transaction_id').notNull(),
  referenceId: text('reference_id').notNull(),
  subscriptionCode: text('subscription_code'),
  eventTypes: text('event_types').array().notNull().default([]),
  /** pending | subscribed | rejected | unsubscribed. */
  status: text('status').notNull().default('pending'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Events notified by external registries (CRVS vital events), processed by a job:
 * received → processing → processed | error (retry from the API). The record is encrypted.
 */
export const dciExternalEvents = pgTable('dci_external_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  sourceId: bigint('source_id', { mode: 'number' }).notNull().references(() => dciDataSources.id),
  /** birth | death | marriage | divorce | other. */
  eventType: text('event_type').notNull(),
  regEventType: text('reg_event_type'),
  messageId: text('message_id').notNull(),
  referenceId: text('reference_id').notNull(),
  recordEncrypted: text('record_encrypted').notNull(),
  status: text('status').notNull().default('received'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  /** What processing did: `{ action, registrant, household }`. */
  outcome: jsonb('outcome').$type<Record<string, unknown>>(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  processedAt: timestamp('processed_at', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
}, (table) => [uniqueIndex('dci_external_events_ref_idx').on(table.sourceId, table.messageId, table.referenceId), index('dci_external_events_status_idx').on(table.status)]);
