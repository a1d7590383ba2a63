import { sql } from 'drizzle-orm';
import {
  bigserial, bigint, boolean, date, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import { areas } from '../areas/areas.tables.js';

export type RegistrantKind = 'individual' | 'group';
export interface Address { use?: string; line?: string[]; city?: string; district?: string; postalCode?: string; country?: string }
export interface Phone { value: string; use?: string }

/** Individuals and groups (households and other group types) share one table. */
export const registrants = pgTable(
  'registrants',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    uuid: uuid('uuid').notNull().unique(),
    kind: text('kind').$type<RegistrantKind>().notNull(),
    groupType: text('group_type'),
    givenName: text('given_name'),
    familyName: text('family_name'),
    additionalName: text('additional_name'),
    displayName: text('display_name').notNull(),
    // Lower-cased, accent-stripped display name + other names; trigram-indexed for `name` search.
    nameSearch: text('name_search').notNull(),
    birthDate: date('birth_date', { mode: 'string' }),
    gender: text('gender'),
    civilStatus: text('civil_status'),
    areaId: bigint('area_id', { mode: 'number' }).references(() => areas.id),
    // Restricted (see registry.classification.ts): stored encrypted, never in clear. The jsonb
    // columns hold rows written before encryption at rest until `keys reencrypt` converts them
    // (null afterwards); a later release drops them.
    addresses: jsonb('addresses').$type<Address[]>(),
    phones: jsonb('phones').$type<Phone[]>(),
    addressesEncrypted: text('addresses_encrypted'),
    phonesEncrypted: text('phones_encrypted'),
    // Blind indexes of the E.164 phone numbers, for the exact `phone` search.
    phoneIndexes: text('phone_indexes').array().notNull().default(sql`'{}'::text[]`),
    email: text('email'),
    hasDisability: boolean('has_disability'),
    disabilityTypes: text('disability_types').array(),
    monthlyIncome: numeric('monthly_income', { precision: 14, scale: 2 }),
    incomeCurrency: text('income_currency'),
    custom: jsonb('custom').$type<Record<string, unknown>>().notNull().default({}),
    isActive: boolean('is_active').notNull().default(true),
    deactivationReason: text('deactivation_reason'),
    deactivatedAt: timestamp('deactivated_at', { withTimezone: true }),
    sourceSystem: text('source_system'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('registrants_kind_name_idx').on(table.kind, table.displayName, table.id),
    index('registrants_name_trgm_idx').using('gin', sql`${table.nameSearch} gin_trgm_ops`),
    index('registrants_area_idx').on(table.areaId),
    index('registrants_birth_date_idx').on(table.birthDate),
    index('registrants_updated_idx').on(table.updatedAt, table.id),
    index('registrants_phone_indexes_idx').using('gin', table.phoneIndexes),
    // Rows still holding plaintext contact data, for the re-encryption job (empty once it has run).
    index('registrants_legacy_plaintext_idx').on(table.id).where(sql`${table.phones} is not null or ${table.addresses} is not null`),
  ],
);

/**
 * Typed identifiers; `idType` is a code of the `id-type` vocabulary. One valid (type, value) pair
 * registry-wide. The value is restricted: stored encrypted (`value_encrypted`) and found through its
 * blind index (`value_index`), on which uniqueness is enforced. `value` holds the plaintext of rows
 * written before encryption at rest until `keys reencrypt` converts them (null afterwards).
 */
export const identifiers = pgTable(
  'identifiers',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    registrantId: bigint('registrant_id', { mode: 'number' }).notNull().references(() => registrants.id),
    idType: text('id_type').notNull(),
    value: text('value'),
    valueEncrypted: text('value_encrypted'),
    valueIndex: text('value_index'),
    isValid: boolean('is_valid').notNull().default(true),
    invalidReason: text('invalid_reason'),
    issuedOn: date('issued_on', { mode: 'string' }),
    expiresOn: date('expires_on', { mode: 'string' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    invalidatedAt: timestamp('invalidated_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('identifiers_live_uq').on(table.idType, table.valueIndex).where(sql`${table.isValid}`),
    // Plaintext rows from before encryption at rest: still unique and found until converted (the
    // start-up check for them uses it too). No other index may cover `value is not null`: the
    // planner would scan it for the plaintext branch of every identifier lookup.
    uniqueIndex('identifiers_legacy_live_uq').on(table.idType, table.value).where(sql`${table.isValid} and ${table.value} is not null`),
    index('identifiers_registrant_idx').on(table.registrantId),
  ],
);

/** Individual ↔ group membership with a role; ended memberships are kept as history. */
export const memberships = pgTable(
  'memberships',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    uuid: uuid('uuid').notNull().unique(),
    groupId: bigint('group_id', { mode: 'number' }).notNull().references(() => registrants.id),
    individualId: bigint('individual_id', { mode: 'number' }).notNull().references(() => registrants.id),
    role: text('role').notNull(),
    startDate: date('start_date', { mode: 'string' }).notNull(),
    endDate: date('end_date', { mode: 'string' }),
    endReason: text('end_reason'),
    isActive: boolean('is_active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('memberships_one_active_per_group_uq').on(table.groupId, table.individualId).where(sql`${table.isActive}`),
    uniqueIndex('memberships_one_active_head_uq').on(table.groupId).where(sql`${table.isActive} and ${table.role} = 'head'`),
    index('memberships_individual_idx').on(table.individualId),
  ],
);

/** Relationships between individuals (spouse, parent, child…), coded by the `relationship` vocabulary. */
export const relationships = pgTable(
  'relationships',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    uuid: uuid('uuid').notNull().unique(),
    sourceId: bigint('source_id', { mode: 'number' }).notNull().references(() => registrants.id),
    targetId: bigint('target_id', { mode: 'number' }).notNull().references(() => registrants.id),
    relationship: text('relationship').notNull(),
    startDate: date('start_date', { mode: 'string' }),
    endDate: date('end_date', { mode: 'string' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('relationships_source_idx').on(table.sourceId), index('relationships_target_idx').on(table.targetId)],
);

/** Per-deployment definitions of the fields allowed in a registrant's `custom` document. */
export const customFieldDefinitions = pgTable('custom_field_definitions', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  appliesTo: text('applies_to').$type<RegistrantKind>().notNull(),
  name: text('name').notNull(),
  label: text('label').notNull(),
  // JSON Schema of the value, e.g. {"type":"integer","minimum":0}.
  valueSchema: jsonb('value_schema').$type<Record<string, unknown>>().notNull(),
  isRequired: boolean('is_required').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
}, (table) => [uniqueIndex('custom_field_definitions_uq').on(table.appliesTo, table.name)]);
