import { sql } from 'drizzle-orm';
import { queryRows, type Queryable } from '../../../platform/database/database.js';
import type { Address, Phone, RegistrantKind } from '../registry.tables.js';
import type { RegistryEncryption } from '../registry.encryption.js';

// Multi-row statements for bulk writes. Rows travel as one JSON parameter expanded by
// jsonb_to_recordset: one round trip per batch, no parameter-count limit, same SQL on PGlite and PostgreSQL.
// Phones, addresses and identifier values are encrypted here (registry.encryption.ts), so only
// ciphertexts and blind indexes travel to the database.

export interface RegistrantInsert {
  uuid: string; kind: RegistrantKind; groupType: string | null;
  givenName: string | null; familyName: string | null; additionalName: string | null; displayName: string; nameSearch: string;
  birthDate: string | null; gender: string | null; civilStatus: string | null; areaId: number | null;
  addresses: Address[]; phones: Phone[]; email: string | null; hasDisability: boolean | null; disabilityTypes: string[] | null;
  monthlyIncome: string | null; incomeCurrency: string | null; custom: Record<string, unknown>; sourceSystem: string | null;
}

const registrantRecord = sql.raw(`(
  uuid uuid, "kind" text, "groupType" text, "givenName" text, "familyName" text, "additionalName" text, "displayName" text,
  "nameSearch" text, "birthDate" date, gender text, "civilStatus" text, "areaId" bigint,
  "addressesEncrypted" text, "phonesEncrypted" text, "phoneIndexes" text[],
  email text, "hasDisability" boolean, "disabilityTypes" text[], "monthlyIncome" numeric, "incomeCurrency" text,
  custom jsonb, "sourceSystem" text, id bigint)`);

const registrantColumns = sql.raw(`uuid, kind, group_type, given_name, family_name, additional_name, display_name, name_search,
  birth_date, gender, civil_status, area_id, addresses_encrypted, phones_encrypted, phone_indexes, email, has_disability, disability_types, monthly_income,
  income_currency, custom, source_system`);

const registrantValues = sql.raw(`v.uuid, v."kind", v."groupType", v."givenName", v."familyName", v."additionalName", v."displayName",
  v."nameSearch", v."birthDate", v.gender, v."civilStatus", v."areaId", v."addressesEncrypted", v."phonesEncrypted", coalesce(v."phoneIndexes", '{}'), v.email,
  v."hasDisability", v."disabilityTypes", v."monthlyIncome", v."incomeCurrency", coalesce(v.custom, '{}'), v."sourceSystem"`);

/** The rows with their phones and addresses replaced by ciphertexts and blind indexes. */
function encryptedRows<R extends { uuid: string; phones: Phone[]; addresses: Address[] }>(rows: R[], encryption: RegistryEncryption) {
  return rows.map(({ phones, addresses, ...row }) => ({ ...row, ...encryption.encryptContacts(row.uuid, { phones, addresses }) }));
}

export async function insertRegistrantsBulk(db: Queryable, rows: RegistrantInsert[], encryption: RegistryEncryption): Promise<Map<string, number>> {
  if (rows.length === 0) return new Map();
  await encryption.prepareToWrite();
  const inserted = await queryRows<{ id: number; uuid: string }>(db, sql`
    insert into registrants (${registrantColumns})
    select ${registrantValues} from jsonb_to_recordset(${JSON.stringify(encryptedRows(rows, encryption))}::jsonb) as v${registrantRecord}
    returning id, uuid`);
  return new Map(inserted.map((row) => [row.uuid, Number(row.id)]));
}

/** Overwrites the person fields of existing registrants (by id) and bumps their versions. */
export async function updateRegistrantsBulk(db: Queryable, rows: Array<Omit<RegistrantInsert, 'kind' | 'groupType'> & { id: number }>, encryption: RegistryEncryption): Promise<void> {
  if (rows.length === 0) return;
  await encryption.prepareToWrite();
  await db.execute(sql`
    update registrants as r set
      given_name = v."givenName", family_name = v."familyName", additional_name = v."additionalName", display_name = v."displayName",
      name_search = v."nameSearch", birth_date = v."birthDate", gender = v.gender, civil_status = v."civilStatus", area_id = v."areaId",
      addresses = null, phones = null, addresses_encrypted = v."addressesEncrypted", phones_encrypted = v."phonesEncrypted",
      phone_indexes = coalesce(v."phoneIndexes", '{}'), email = v.email, has_disability = v."hasDisability",
      disability_types = v."disabilityTypes", monthly_income = v."monthlyIncome", income_currency = v."incomeCurrency",
      custom = coalesce(v.custom, '{}'), source_system = v."sourceSystem", version = r.version + 1, updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(encryptedRows(rows, encryption))}::jsonb) as v${registrantRecord}
    where r.id = v.id`);
}

export interface ExistingIdentifier { idType: string; value: string; registrantId: number; kind: RegistrantKind; uuid: string }

/**
 * The live identifiers among the given (type, value) pairs, with whom they belong to: matched by
 * blind index, or by plaintext for rows written before encryption at rest and not yet converted.
 */
export async function findLiveIdentifiersBulk(db: Queryable, pairs: Array<{ idType: string; value: string }>, encryption: RegistryEncryption): Promise<ExistingIdentifier[]> {
  if (pairs.length === 0) return [];
  // One probe per active index key (several while the index key is rotated).
  const keyed = pairs.flatMap(({ idType, value }) => encryption.identifierIndexes(idType, value).map((valueIndex) => ({ idType, value, valueIndex })));
  const rows = await queryRows<{ id_type: string; value: string; registrant_id: number; kind: RegistrantKind; uuid: string }>(db, sql`
    with p as (select * from jsonb_to_recordset(${JSON.stringify(keyed)}::jsonb) as p("idType" text, value text, "valueIndex" text))
    select p."idType" as id_type, p.value, i.registrant_id, r.kind, r.uuid
    from p join identifiers i on i.id_type = p."idType" and i.value_index = p."valueIndex" and i.is_valid
    join registrants r on r.id = i.registrant_id
    union all
    select p."idType", p.value, i.registrant_id, r.kind, r.uuid
    from p join identifiers i on i.id_type = p."idType" and i.value = p.value and i.is_valid
    join registrants r on r.id = i.registrant_id`);
  return rows.map((row) => ({ idType: row.id_type, value: row.value, registrantId: Number(row.registrant_id), kind: row.kind, uuid: row.uuid }));
}

export async function insertIdentifiersBulk(db: Queryable, rows: Array<{ registrantId: number; idType: string; value: string; issuedOn: string | null; expiresOn: string | null }>, encryption: RegistryEncryption): Promise<void> {
  if (rows.length === 0) return;
  await encryption.prepareToWrite();
  const encrypted = rows.map(({ value, ...row }) => {
    const { valueEncrypted, valueIndex } = encryption.encryptIdentifier(row.registrantId, row.idType, value);
    return { ...row, valueEncrypted, valueIndex };
  });
  await db.execute(sql`
    insert into identifiers (registrant_id, id_type, value_encrypted, value_index, issued_on, expires_on)
    select v."registrantId", v."idType", v."valueEncrypted", v."valueIndex", v."issuedOn", v."expiresOn"
    from jsonb_to_recordset(${JSON.stringify(encrypted)}::jsonb) as v("registrantId" bigint, "idType" text, "valueEncrypted" text, "valueIndex" text, "issuedOn" date, "expiresOn" date)`);
}

/** The person fields of registrants, phones and addresses decrypted. */
export async function findRegistrantRowsBulk(db: Queryable, ids: number[], encryption: RegistryEncryption) {
  if (ids.length === 0) return [];
  const rows = await queryRows<Record<string, unknown> & {
    id: number; uuid: string; version: number; phones: Phone[] | null; addresses: Address[] | null; phonesEncrypted: string | null; addressesEncrypted: string | null;
  }>(db, sql`
    select id, uuid, version, given_name as "givenName", family_name as "familyName", additional_name as "additionalName",
      display_name as "displayName", birth_date as "birthDate", gender, civil_status as "civilStatus", area_id as "areaId",
      addresses, phones, addresses_encrypted as "addressesEncrypted", phones_encrypted as "phonesEncrypted", email,
      has_disability as "hasDisability", disability_types as "disabilityTypes",
      monthly_income as "monthlyIncome", income_currency as "incomeCurrency", custom, source_system as "sourceSystem"
    from registrants where id in (select unnest(${`{${ids.join(',')}}`}::bigint[]))`);
  await encryption.prepareToRead(rows.flatMap((row) => [row.phonesEncrypted, row.addressesEncrypted]));
  return rows.map(({ phonesEncrypted: _phones, addressesEncrypted: _addresses, ...row }) => ({ ...row, ...encryption.decryptContacts({ ...row, phonesEncrypted: _phones, addressesEncrypted: _addresses }) }));
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

/** The area of each registrant (by id): what area-limited bulk writers are checked against. */
export async function findRegistrantAreasBulk(db: Queryable, ids: number[]): Promise<Map<number, number | null>> {
  if (ids.length === 0) return new Map();
  const rows = await queryRows<{ id: number; areaId: number | null }>(db, sql`
    select id, area_id as "areaId" from registrants where id in (select unnest(${`{${ids.join(',')}}`}::bigint[]))`);
  return new Map(rows.map((row) => [Number(row.id), row.areaId === null ? null : Number(row.areaId)]));
}
