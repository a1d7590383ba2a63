import { sql } from 'drizzle-orm';
import {
  bigint, bigserial, boolean, check, date, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import { areas } from '../areas/areas.tables.js';
import { registrants } from '../registry/registry.tables.js';

// Every table of the programs module (programs, enrolment, cycles, entitlements, payments, service
// points). Money is numeric(18,2) everywhere: exact decimals, never floating point.

export type ProgramTarget = 'individual' | 'group';
export type ProgramState = 'draft' | 'active' | 'ended';
export type MembershipState = 'draft' | 'enrolled' | 'paused' | 'exited' | 'not_eligible' | 'duplicate';
export type DuplicateReason = 'identifier' | 'phone' | 'name_birth_date' | 'ibr';
export type SuspectState = 'open' | 'confirmed' | 'cleared';
export type CycleState = 'draft' | 'preparing' | 'to_approve' | 'approved' | 'distributed' | 'ended';
export type Recurrence = 'none' | 'monthly' | 'bimonthly' | 'quarterly' | 'semiannual' | 'annual';
export type EntitlementKind = 'cash' | 'in_kind';
export type EntitlementState = 'prepared' | 'approved';
export type PaymentProviderName = 'file' | 'manual' | 'http';
export type PaymentBatchState = 'open' | 'sent' | 'closed';
export type PaymentState = 'pending' | 'sent' | 'paid' | 'failed' | 'reversed';
export type FundMovementKind = 'deposit' | 'commitment' | 'release';

/** Which duplicate checks run at enrolment. */
export interface DedupConfig {
  /** Id types whose same value marks a duplicate (empty: none). */
  idTypes: string[];
  phone: boolean;
  nameBirthDate: boolean;
  /** The IBR (DCI) check: enrolled in another program elsewhere. */
  ibr: boolean;
}

/** One in-kind item handed out per beneficiary and cycle. */
export interface InKindItem {
  product: string;
  /** CEL expression (int) for the quantity per beneficiary. */
  quantityFormula: string;
  servicePoint: string;
}

const money = (name: string) => numeric(name, { precision: 18, scale: 2 });
const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updated = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const programs = pgTable('programs', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  description: text('description'),
  targetType: text('target_type').$type<ProgramTarget>().notNull(),
  eligibilityRule: text('eligibility_rule').notNull(),
  /** Cash entitlement: CEL amount formula (int or double) and an optional CEL condition. */
  cashFormula: text('cash_formula'),
  cashCondition: text('cash_condition'),
  inKind: jsonb('in_kind').$type<InKindItem[]>().notNull().default([]),
  currency: text('currency').notNull(),
  state: text('state').$type<ProgramState>().notNull().default('draft'),
  dedup: jsonb('dedup').$type<DedupConfig>().notNull(),
  /** Usernames of the staff managing it. */
  managers: text('managers').array().notNull().default(sql`'{}'::text[]`),
  version: integer('version').notNull().default(1),
  createdBy: text('created_by').notNull(),
  createdAt: created(),
  updatedAt: updated(),
}, (table) => [index('programs_state_idx').on(table.state, table.id)]);

/** The funds ledger: deposits add, commitments (approved cycles) subtract; the balance is the sum. */
export const programFundMovements = pgTable('program_fund_movements', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  programId: bigint('program_id', { mode: 'number' }).notNull().references(() => programs.id),
  kind: text('kind').$type<FundMovementKind>().notNull(),
  /** Signed: deposits and releases positive, commitments negative. */
  amount: money('amount').notNull(),
  cycleId: bigint('cycle_id', { mode: 'number' }),
  reference: text('reference'),
  createdBy: text('created_by').notNull(),
  createdAt: created(),
}, (table) => [index('program_fund_movements_program_idx').on(table.programId)]);

export const programMemberships = pgTable('program_memberships', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  programId: bigint('program_id', { mode: 'number' }).notNull().references(() => programs.id),
  registrantId: bigint('registrant_id', { mode: 'number' }).notNull().references(() => registrants.id),
  state: text('state').$type<MembershipState>().notNull(),
  stateReason: text('state_reason'),
  /** Set by re-verification when the rule no longer selects an enrolled member (never dropped silently). */
  ineligibleSince: timestamp('ineligible_since', { withTimezone: true }),
  enrolledAt: timestamp('enrolled_at', { withTimezone: true }),
  version: integer('version').notNull().default(1),
  createdAt: created(),
  updatedAt: updated(),
}, (table) => [
  uniqueIndex('program_memberships_program_registrant_uq').on(table.programId, table.registrantId),
  index('program_memberships_program_state_idx').on(table.programId, table.state, table.id),
  index('program_memberships_registrant_idx').on(table.registrantId),
]);

/** Every state change of a membership, append-only, with its reason. */
export const programMembershipEvents = pgTable('program_membership_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  membershipId: bigint('membership_id', { mode: 'number' }).notNull().references(() => programMemberships.id),
  fromState: text('from_state'),
  toState: text('to_state').notNull(),
  reason: text('reason').notNull(),
  actorType: text('actor_type').notNull(),
  actorId: text('actor_id').notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
}, (table) => [index('program_membership_events_membership_idx').on(table.membershipId, table.id)]);

/** A suspected duplicate: `membershipId` (the later one) looks like `otherRegistrantId`. */
export const duplicateSuspects = pgTable('duplicate_suspects', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  programId: bigint('program_id', { mode: 'number' }).notNull().references(() => programs.id),
  membershipId: bigint('membership_id', { mode: 'number' }).notNull().references(() => programMemberships.id),
  /** The registrant it looks like (null for an IBR hit: enrolled elsewhere). */
  otherRegistrantId: bigint('other_registrant_id', { mode: 'number' }).references(() => registrants.id),
  reason: text('reason').$type<DuplicateReason>().notNull(),
  detail: text('detail'),
  state: text('state').$type<SuspectState>().notNull().default('open'),
  decidedBy: text('decided_by'),
  decidedAt: timestamp('decided_at', { withTimezone: true }),
  decisionReason: text('decision_reason'),
  createdAt: created(),
}, (table) => [
  uniqueIndex('duplicate_suspects_uq').on(table.membershipId, table.reason, sql`coalesce(${table.otherRegistrantId}, 0)`),
  index('duplicate_suspects_program_state_idx').on(table.programId, table.state, table.id),
]);

export const cycles = pgTable('cycles', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  programId: bigint('program_id', { mode: 'number' }).notNull().references(() => programs.id),
  sequence: integer('sequence').notNull(),
  name: text('name').notNull(),
  startDate: date('start_date', { mode: 'string' }).notNull(),
  endDate: date('end_date', { mode: 'string' }).notNull(),
  recurrence: text('recurrence').$type<Recurrence>().notNull().default('none'),
  state: text('state').$type<CycleState>().notNull().default('draft'),
  preparedBy: text('prepared_by'),
  preparedAt: timestamp('prepared_at', { withTimezone: true }),
  approvedBy: text('approved_by'),
  approvedAt: timestamp('approved_at', { withTimezone: true }),
  cashTotal: money('cash_total').notNull().default('0'),
  entitlementCount: integer('entitlement_count').notNull().default(0),
  version: integer('version').notNull().default(1),
  createdAt: created(),
  updatedAt: updated(),
}, (table) => [
  uniqueIndex('cycles_program_sequence_uq').on(table.programId, table.sequence),
  check('cycles_dates_ck', sql`${table.endDate} >= ${table.startDate}`),
]);

export const products = pgTable('products', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  unit: text('unit').notNull(),
  createdAt: created(),
});

export const servicePoints = pgTable('service_points', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  code: text('code').notNull().unique(),
  name: text('name').notNull(),
  /** e.g. warehouse, shop, bank-agent, distribution-site. */
  type: text('type').notNull(),
  areaId: bigint('area_id', { mode: 'number' }).references(() => areas.id),
  isActive: boolean('is_active').notNull().default(true),
  version: integer('version').notNull().default(1),
  createdAt: created(),
  updatedAt: updated(),
});

/** Stock of a product at a service point; `committed` (approved in-kind entitlements) never exceeds `onHand`. */
export const servicePointStock = pgTable('service_point_stock', {
  servicePointId: bigint('service_point_id', { mode: 'number' }).notNull().references(() => servicePoints.id),
  productId: bigint('product_id', { mode: 'number' }).notNull().references(() => products.id),
  onHand: numeric('on_hand', { precision: 18, scale: 3 }).notNull().default('0'),
  committed: numeric('committed', { precision: 18, scale: 3 }).notNull().default('0'),
  updatedAt: updated(),
}, (table) => [
  uniqueIndex('service_point_stock_uq').on(table.servicePointId, table.productId),
  check('service_point_stock_no_overcommit_ck', sql`${table.committed} <= ${table.onHand} and ${table.committed} >= 0`),
]);

export const entitlements = pgTable('entitlements', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  cycleId: bigint('cycle_id', { mode: 'number' }).notNull().references(() => cycles.id),
  membershipId: bigint('membership_id', { mode: 'number' }).notNull().references(() => programMemberships.id),
  registrantId: bigint('registrant_id', { mode: 'number' }).notNull().references(() => registrants.id),
  kind: text('kind').$type<EntitlementKind>().notNull(),
  state: text('state').$type<EntitlementState>().notNull().default('prepared'),
  amount: money('amount'),
  currency: text('currency'),
  productId: bigint('product_id', { mode: 'number' }).references(() => products.id),
  quantity: numeric('quantity', { precision: 18, scale: 3 }),
  servicePointId: bigint('service_point_id', { mode: 'number' }).references(() => servicePoints.id),
  createdAt: created(),
}, (table) => [
  uniqueIndex('entitlements_one_per_item_uq').on(table.cycleId, table.membershipId, table.kind, sql`coalesce(${table.productId}, 0)`),
  index('entitlements_cycle_idx').on(table.cycleId, table.id),
]);

export const paymentBatches = pgTable('payment_batches', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  cycleId: bigint('cycle_id', { mode: 'number' }).notNull().references(() => cycles.id),
  provider: text('provider').$type<PaymentProviderName>().notNull(),
  state: text('state').$type<PaymentBatchState>().notNull().default('open'),
  paymentCount: integer('payment_count').notNull().default(0),
  total: money('total').notNull().default('0'),
  createdBy: text('created_by').notNull(),
  createdAt: created(),
  updatedAt: updated(),
}, (table) => [index('payment_batches_cycle_idx').on(table.cycleId)]);

export const payments = pgTable('payments', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  uuid: uuid('uuid').notNull().unique(),
  batchId: bigint('batch_id', { mode: 'number' }).notNull().references(() => paymentBatches.id),
  entitlementId: bigint('entitlement_id', { mode: 'number' }).notNull().references(() => entitlements.id),
  amount: money('amount').notNull(),
  currency: text('currency').notNull(),
  state: text('state').$type<PaymentState>().notNull().default('pending'),
  /** 1 on the first sending; a retry of a failed payment sends attempt + 1 under a new key. */
  attempt: integer('attempt').notNull().default(1),
  /** What the provider deduplicates on (end-to-end id): `<uuid>-<attempt>`, sent once. */
  idempotencyKey: text('idempotency_key').notNull().unique(),
  providerReference: text('provider_reference'),
  failureReason: text('failure_reason'),
  sentAt: timestamp('sent_at', { withTimezone: true }),
  settledAt: timestamp('settled_at', { withTimezone: true }),
  version: integer('version').notNull().default(1),
  createdAt: created(),
  updatedAt: updated(),
}, (table) => [
  uniqueIndex('payments_entitlement_uq').on(table.entitlementId),
  index('payments_batch_state_idx').on(table.batchId, table.state, table.id),
]);

/** Every state change of a payment, append-only. */
export const paymentEvents = pgTable('payment_events', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  paymentId: bigint('payment_id', { mode: 'number' }).notNull().references(() => payments.id),
  fromState: text('from_state'),
  toState: text('to_state').notNull(),
  attempt: integer('attempt').notNull(),
  reason: text('reason'),
  actorType: text('actor_type').notNull(),
  actorId: text('actor_id').notNull(),
  occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
}, (table) => [index('payment_events_payment_idx').on(table.paymentId, table.id)]);
