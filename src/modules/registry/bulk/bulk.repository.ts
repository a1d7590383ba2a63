import { sql } from 'drizzle-orm';
import { queryRows, type Queryable } from '../../../platform/database/database.js';
import type { RegistrantKind } from '../registry.tables.js';

// Multi-row statements for bulk writes. Rows travel as one JSON parameter expanded by
// jsonb_to_recordset: one round trip per batch, no parameter-count limit, same SQL on PGlite and PostgreSQL.

export interface RegistrantInsert {
  uuid: string; kind: RegistrantKind; groupType: string | null;
  givenName: string | null; familyName: string | null; additionalName: string | null; displayName: string; nameSearch: string;
  birthDate: string | null; gender: string | null; civilStatus: string | null; areaId: number | null;
  addresses: unknown[]; phones: unknown[]; email: string | null; hasDisability: boolean | null; disabilityTypes: string[] | null;
  monthlyIncome: string | null; incomeCurrency: string | null; custom: Record<string, unknown>; sourceSystem: string | null;
}

const registrantRecord = sql.raw(`(
  uuid uuid, "kind" text, "groupType" text, "givenName" text, "familyName" text, "additionalName" text, "displayName" text,
  "nameSearch" text, "birthDate" date, gender text, "civilStatus" text, "areaId" bigint, addresses jsonb, phones jsonb,
  email text, "hasDisability" boolean, "disabilityTypes" text[], "monthlyIncome" numeric, "incomeCurrency" text,
  custom jsonb, "sourceSystem" text, id bigint)`);

const registrantColumns = sql.raw(`uuid, kind, group_type, given_name, family_name, additional_name, display_name, name_search,
  birth_date, gender, civil_status, area_id, addresses, phones, email, has_disability, disability_types, monthly_income,
  income_currency, custom, source_system`);

const registrantValues = sql.raw(`v.uuid, v."kind", v."groupType", v."givenName", v."familyName", v."additionalName", v."displayName",
  v."nameSearch", v."birthDate", v.gender, v."civilStatus", v."areaId", coalesce(v.addresses, '[]'), coalesce(v.phones, '[]'), v.email,
  v."hasDisability", v."disabilityTypes", v."monthlyIncome", v."incomeCurrency", coalesce(v.custom, '{}'), v."sourceSystem"`);

export async function insertRegistrantsBulk(db: Queryable, rows: RegistrantInsert[]): Promise<Map<string, number>> {
  if (rows.length === 0) return new Map();
  const inserted = await queryRows<{ id: number; uuid: string }>(db, sql`
    insert into registrants (${registrantColumns})
    select ${registrantValues} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v${registrantRecord}
    returning id, uuid`);
  return new Map(inserted.map((row) => [row.uuid, Number(row.id)]));
}

/** Overwrites the person fields of existing registrants (by id) and bumps their versions. */
export async function updateRegistrantsBulk(db: Queryable, rows: Array<Omit<RegistrantInsert, 'uuid' | 'kind' | 'groupType'> & { id: number }>): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    update registrants as r set
      given_name = v."givenName", family_name = v."familyName", additional_name = v."additionalName", display_name = v."displayName",
      name_search = v."nameSearch", birth_date = v."birthDate", gender = v.gender, civil_status = v."civilStatus", area_id = v."areaId",
      addresses = coalesce(v.addresses, '[]'), phones = coalesce(v.phones, '[]'), email = v.email, has_disability = v."hasDisability",
      disability_types = v."disabilityTypes", monthly_income = v."monthlyIncome", income_currency = v."incomeCurrency",
      custom = coalesce(v.custom, '{}'), source_system = v."sourceSystem", version = r.version + 1, updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v${registrantRecord}
    where r.id = v.id`);
}

export interface ExistingIdentifier { idType: string; value: string; registrantId: number; kind: RegistrantKind; uuid: string }

/** The live identifiers among the given (type, value) pairs, with whom they belong to. */
export async function findLiveIdentifiersBulk(db: Queryable, pairs: Array<{ idType: string; value: string }>): Promise<ExistingIdentifier[]> {
  if (pairs.length === 0) return [];
  const rows = await queryRows<{ id_type: string; value: string; registrant_id: number; kind: RegistrantKind; uuid: string }>(db, sql`
    select i.id_type, i.value, i.registrant_id, r.kind, r.uuid
    from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as p("idType" text, value text)
    join identifiers i on i.id_type = p."idType" and i.value = p.value and i.is_valid
    join registrants r on r.id = i.registrant_id`);
  return rows.map((row) => ({ idType: row.id_type, value: row.value, registrantId: Number(row.registrant_id), kind: row.kind, uuid: row.uuid }));
}

export async function insertIdentifiersBulk(db: Queryable, rows: Array<{ registrantId: number; idType: string; value: string; issuedOn: string | null; expiresOn: string | null }>): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into identifiers (registrant_id, id_type, value, issued_on, expires_on)
    select v."registrantId", v."idType", v.value, v."issuedOn", v."expiresOn"
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v("registrantId" bigint, "idType" text, value text, "issuedOn" date, "expiresOn" date)`);
}

export async function findRegistrantRowsBulk(db: Queryable, ids: number[]) {
  if (ids.length === 0) return [];
  return queryRows<Record<string, unknown> & { id: number; uuid: string; version: number }>(db, sql`
    select id, uuid, version, given_name as "givenName", family_name as "familyName", additional_name as "additionalName",
      display_name as "displayName", birth_date as "birthDate", gender, civil_status as "civilStatus", area_id as "areaId",
      addresses, phones, email, has_disability as "hasDisability", disability_types as "disabilityTypes",
      monthly_income as "monthlyIncome", income_currency as "incomeCurrency", custom, source_system as "sourceSystem"
    from registrants where id in (select unnest(${`{${ids.join(',')}}`}::bigint[]))`);
}

export async function findActiveMembershipsBulk(db: Queryable, groupIds: number[]): Promise<Array<{ groupId: number; individualId: number; role: string }>> {
  if (groupIds.length === 0) return [];
  const rows = await queryRows<{ group_id: number; individual_id: number; role: string }>(db, sql`
    select group_id, individual_id, role from memberships
    where is_active and group_id in (select unnest(${`{${groupIds.join(',')}}`}::bigint[]))`);
  return rows.map((row) => ({ groupId: Number(row.group_id), individualId: Number(row.individual_id), role: row.role }));
}

export async function insertMembershipsBulk(db: Queryable, rows: Array<{ uuid: string; groupId: number; individualId: number; role: string; startDate: string }>): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into memberships (uuid, group_id, individual_id, role, start_date)
    select v.uuid, v."groupId", v."individualId", v.role, v."startDate"
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(uuid uuid, "groupId" bigint, "individualId" bigint, role text, "startDate" date)`);
}

export async function insertRelationshipsBulk(db: Queryable, rows: Array<{ uuid: string; sourceId: number; targetId: number; relationship: string }>): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into relationships (uuid, source_id, target_id, relationship)
    select v.uuid, v."sourceId", v."targetId", v.relationship
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(uuid uuid, "sourceId" bigint, "targetId" bigint, relationship text)`);
}
