import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { dciPartners } from '../dci.tables.js';

/**
 * Asynchronous DCI requests (search, subscribe, unsubscribe, txn-status) and the sync txn-status
 * lookups' subject. `uuid` is the `correlation_id` we answer in the ACK; `status` follows the
 * spec's request status (rcvd → pdng → succ | rjct). The request and response messages may hold
 * personal data (identifier values, records): stored encrypted with the data keys.
 */
export const dciTransactions = pgTable('dci_transactions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  partnerId: bigint('partner_id', { mode: 'number' }).notNull().references(() => dciPartners.id),
  senderId: text('sender_id').notNull(),
  /** search | subscribe | unsubscribe | txn-status */
  action: text('action').notNull(),
  /** The request's header.message_id (unique per sender through the replay store). */
  messageId: text('message_id').notNull(),
  /** The sender's transaction_id from the message. */
  transactionId: text('transaction_id').notNull(),
  referenceIds: text('reference_ids').array().notNull().default([]),
  /** rcvd | pdng | succ | rjct */
  status: text('status').notNull().default('pdng'),
  callbackUri: text('callback_uri'),
  /** What the partner's token carried when it asked (scopes, areas, legal basis): the job acts as that. */
  actor: jsonb('actor').$type<Record<string, unknown>>().notNull(),
  requestEncrypted: text('request_encrypted').notNull(),
  responseEncrypted: text('response_encrypted'),
  /** Why the work failed (no personal data). */
  error: text('error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  completedAt: timestamp('completed_at', { withTimezone: true }),
}, (table) => [
  index('dci_transactions_partner_txn_idx').on(table.partnerId, table.transactionId),
  index('dci_transactions_created_idx').on(table.createdAt, table.id),
]);

/**
 * Signed messages we owe partners (callbacks and notifications): an outbox. Each keeps its
 * `message_id` across attempts (receivers de-duplicate by it); `message_ts` and the signature are
 * made at each attempt. Deliveries sharing an `ordering_key` (subscription + registrant) go out
 * one after another, oldest first.
 */
export const dciDeliveries = pgTable('dci_deliveries', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  partnerId: bigint('partner_id', { mode: 'number' }).notNull().references(() => dciPartners.id),
  transactionRowId: bigint('transaction_row_id', { mode: 'number' }).references(() => dciTransactions.id),
  subscriptionId: bigint('subscription_id', { mode: 'number' }).references(() => dciSubscriptions.id),
  /** on-search | on-subscribe | on-unsubscribe | txn-on-status | notify */
  action: text('action').notNull(),
  messageId: text('message_id').notNull().unique(),
  targetUri: text('target_uri').notNull(),
  /** `{ header, message }` before signing, encrypted at rest. */
  contentEncrypted: text('content_encrypted').notNull(),
  orderingKey: text('ordering_key'),
  /** pending | delivered | expired | refused */
  status: text('status').notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  lastHttpStatus: integer('last_http_status'),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  deliveredAt: timestamp('delivered_at', { withTimezone: true }),
}, (table) => [
  index('dci_deliveries_due_idx').on(table.nextAttemptAt, table.id).where(sql`${table.status} = 'pending'`),
  index('dci_deliveries_ordering_idx').on(table.orderingKey, table.id).where(sql`${table.status} = 'pending'`),
  index('dci_deliveries_transaction_idx').on(table.transactionRowId),
  index('dci_deliveries_subscription_idx').on(table.subscriptionId, table.id),
]);

/** Every attempt to deliver a callback: when, how long, what the partner answered. */
export const dciDeliveryAttempts = pgTable('dci_delivery_attempts', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  deliveryId: bigint('delivery_id', { mode: 'number' }).notNull().references(() => dciDeliveries.id),
  attempt: integer('attempt').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
  durationMs: integer('duration_ms').notNull(),
  httpStatus: integer('http_status'),
  /** delivered | failed | refused */
  outcome: text('outcome').notNull(),
  error: text('error'),
}, (table) => [index('dci_delivery_attempts_delivery_idx').on(table.deliveryId, table.attempt)]);

/**
 * Event subscriptions (`/registry/subscribe`). `code` is the subscription_code we give out; only
 * its partner may unsubscribe it. The filter (one of the search query forms) may name personal
 * data and is stored encrypted.
 */
export const dciSubscriptions = pgTable('dci_subscriptions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  code: text('code').notNull().unique(),
  partnerId: bigint('partner_id', { mode: 'number' }).notNull().references(() => dciPartners.id),
  transactionRowId: bigint('transaction_row_id', { mode: 'number' }).notNull().references(() => dciTransactions.id),
  transactionId: text('transaction_id').notNull(),
  referenceId: text('reference_id').notNull(),
  regType: text('reg_type'),
  /** REGISTER | NewHouseHoldMember | UPDATE (normalised from the request). */
  regEventType: text('reg_event_type').notNull(),
  /** Member | Group: what each notification carries. */
  notifyRecordType: text('notify_record_type').notNull(),
  filterType: text('filter_type').notNull(),
  filterEncrypted: text('filter_encrypted').notNull(),
  startTime: timestamp('start_time', { withTimezone: true }).notNull(),
  endTime: timestamp('end_time', { withTimezone: true }).notNull(),
  frequency: text('frequency'),
  callbackUri: text('callback_uri').notNull(),
  locale: text('locale'),
  /** subscribe | unsubscribe (SubscriptionStatus) */
  status: text('status').notNull().default('subscribe'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  unsubscribedAt: timestamp('unsubscribed_at', { withTimezone: true }),
}, (table) => [
  index('dci_subscriptions_active_idx').on(table.regEventType, table.endTime).where(sql`${table.status} = 'subscribe'`),
  index('dci_subscriptions_partner_idx').on(table.partnerId, table.id),
]);

/**
 * Registry changes for subscriptions, written by triggers on registrants and memberships in the
 * writing transaction (only while a subscription is active). The relay consumes them in id order and
 * deletes them; `txid` (the writer's transaction id) is kept for diagnosis.
 */
export const dciRegistryEvents = pgTable('dci_registry_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  txid: bigint('txid', { mode: 'number' }).notNull().default(sql`(pg_current_xact_id()::text)::bigint`),
  /** REGISTER | NewHouseHoldMember | UPDATE */
  event: text('event').notNull(),
  kind: text('kind').notNull(),
  registrantUuid: uuid('registrant_uuid').notNull(),
  /** NewHouseHoldMember: the household joined. */
  groupUuid: uuid('group_uuid'),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
}, (table) => [index('dci_registry_events_order_idx').on(table.txid, table.id)]);
