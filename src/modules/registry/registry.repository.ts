import { and, asc, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db, Queryable } from '../../platform/database/database.js';
import { currentTransaction } from '../../platform/database/transaction-context.js';
import { customFieldDefinitions, identifiers, memberships, registrants, relationships, type Address, type Phone, type RegistrantKind } from './registry.tables.js';
import type { Contacts, RegistryEncryption } from './registry.encryption.js';

// SQL only: no rules here. The service decides what may be written. Restricted fields (identifier
// values, phones, addresses) are encrypted on the way in and decrypted on the way out here, with
// `RegistryEncryption`: the service hands over and gets back plaintext.

/** A registrant as stored: its phones and addresses encrypted (read them with `contactsOf`). */
export type RegistrantRow = typeof registrants.$inferSelect;
type StoredContactColumns = 'phones' | 'addresses' | 'phonesEncrypted' | 'addressesEncrypted' | 'phoneIndexes';
/** A registrant's columns as the service writes them: phones and addresses in clear, encrypted here. */
export type NewRegistrantRow = Omit<typeof registrants.$inferInsert, StoredContactColumns> & { phones?: Phone[]; addresses?: Address[] };
/** Changes that touch no encrypted column (updateRegistrantDetails writes those). */
export type RegistrantChanges = Partial<Omit<NewRegistrantRow, 'phones' | 'addresses' | 'uuid' | 'kind'>>;
/** An identifier with its value in clear. */
export type IdentifierRow = Omit<typeof identifiers.$inferSelect, 'value' | 'valueEncrypted' | 'valueIndex'> & { value: string };
export type MembershipRow = typeof memberships.$inferSelect;
export type RelationshipRow = typeof relationships.$inferSelect;

export async function insertRegistrant(db: Queryable, values: NewRegistrantRow, encryption: RegistryEncryption): Promise<RegistrantRow> {
  await encryption.prepareToWrite();
  const { phones, addresses, ...columns } = values;
  const [row] = await db.insert(registrants).values({ ...columns, ...encryption.encryptContacts(values.uuid, { phones: phones ?? [], addresses: addresses ?? [] }) }).returning();
  return row!;
}

/** The phones and addresses of stored registrants, in clear, by registrant id. */
export async function contactsOf(rows: RegistrantRow[], encryption: RegistryEncryption): Promise<Map<number, Contacts>> {
  await encryption.prepareToRead(rows.flatMap((row) => [row.phonesEncrypted, row.addressesEncrypted]));
  return new Map(rows.map((row) => [row.id, encryption.decryptContacts(row)]));
}

/**
 * The condition "this identifier row holds `value`": by blind index, or, for a row written before
 * encryption at rest and not yet converted, by its plaintext (an index probe on a shrinking index).
 */
export function identifierValueIs(idType: string, value: string, encryption: RegistryEncryption): SQL {
  // Every active index key's index: while the index key is rotated a row may hold either.
  return or(inArray(identifiers.valueIndex, encryption.identifierIndexes(idType, value)), eq(identifiers.value, value))!;
}

// The hot reads (a registrant by UUID or identifier, and what its view lists) are prepared once
// per database handle: Drizzle then builds their SQL once instead of on every request, and on
// PostgreSQL they run as named statements (parsed and planned once per connection). Inside a
// transaction the plain query runs, in that transaction. Conditions on partial-index predicates
// (`is_valid`, `is_active`) are written as literals, never parameters, so a generic plan can
// still use those indexes.
const preparedByHandle = new WeakMap<object, Map<string, unknown>>();

function prepared<T>(db: Queryable, name: string, build: (db: Db) => T): T | undefined {
  if (currentTransaction(db)) return undefined;
  let byName = preparedByHandle.get(db);
  if (!byName) preparedByHandle.set(db, (byName = new Map()));
  let query = byName.get(name) as T | undefined;
  if (!query) byName.set(name, (query = build(db as Db)));
  return query;
}

const uuidParameter = sql.placeholder('uuid');
const kindParameter = sql.placeholder('kind');
const idParameter = sql.placeholder('id');

export async function findRegistrantByUuid(db: Queryable, uuid: string, kind?: RegistrantKind): Promise<RegistrantRow | undefined> {
  const query = kind
    ? prepared(db, 'registrant_by_uuid_kind', (root) => root.select().from(registrants)
      .where(and(eq(registrants.uuid, uuidParameter), eq(registrants.kind, kindParameter))).prepare('cw_registrant_by_uuid_kind'))
    : prepared(db, 'registrant_by_uuid', (root) => root.select().from(registrants).where(eq(registrants.uuid, uuidParameter)).prepare('cw_registrant_by_uuid'));
  const [row] = query
    ? await query.execute({ uuid, kind })
    : await db.select().from(registrants).where(and(eq(registrants.uuid, uuid), kind ? eq(registrants.kind, kind) : undefined));
  return row;
}

export async function findRegistrantByIdentifier(db: Queryable, idType: string, value: string, kind: RegistrantKind | undefined, encryption: RegistryEncryption): Promise<RegistrantRow | undefined> {
  const byIdentifier = (root: Queryable, parameters: { idType: unknown; valueIndex: unknown; value: unknown; kind: unknown }, withKind: boolean) => root
    .select({ registrant: registrants }).from(identifiers)
    .innerJoin(registrants, eq(registrants.id, identifiers.registrantId))
    .where(and(
      eq(identifiers.idType, parameters.idType as string), sql`${identifiers.isValid}`,
      // Every active index key's index (one array parameter; several while the index key is rotated).
      or(sql`${identifiers.valueIndex} = any(${parameters.valueIndex}::text[])`, eq(identifiers.value, parameters.value as string)),
      withKind ? eq(registrants.kind, parameters.kind as RegistrantKind) : undefined,
    ));
  const values = { idType, valueIndex: `{${encryption.identifierIndexes(idType, value).join(',')}}`, value, kind };
  const placeholders = { idType: sql.placeholder('idType'), valueIndex: sql.placeholder('valueIndex'), value: sql.placeholder('value'), kind: kindParameter };
  const query = prepared(db, kind ? 'registrant_by_identifier_kind' : 'registrant_by_identifier', (root) => byIdentifier(root, placeholders, kind !== undefined)
    .prepare(kind ? 'cw_registrant_by_identifier_kind' : 'cw_registrant_by_identifier'));
  const [row] = query ? await query.execute(values) : await byIdentifier(db, values, kind !== undefined);
  return row?.registrant;
}

export async function findRegistrantsByIds(db: Queryable, ids: number[]): Promise<RegistrantRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(registrants).where(inArray(registrants.id, ids));
}

/** Locks the row for the rest of the transaction, so concurrent membership changes queue up. */
export async function lockRegistrant(db: Queryable, id: number): Promise<RegistrantRow | undefined> {
  const [row] = await db.select().from(registrants).where(eq(registrants.id, id)).for('update');
  return row;
}

/** Writes the changes and bumps the version, only if the version is still `expectedVersion`. */
export async function updateRegistrant(db: Queryable, id: number, expectedVersion: number, values: RegistrantChanges): Promise<RegistrantRow | undefined> {
  const [row] = await db.update(registrants)
    .set({ ...values, version: sql`${registrants.version} + 1`, updatedAt: new Date() })
    .where(and(eq(registrants.id, id), eq(registrants.version, expectedVersion)))
    .returning();
  return row;
}

/** updateRegistrant for changes that may include phones and addresses (encrypted for `row`). */
export async function updateRegistrantDetails(
  db: Queryable, row: Pick<RegistrantRow, 'id' | 'uuid'>, expectedVersion: number,
  values: Partial<Omit<NewRegistrantRow, 'uuid' | 'kind'>>, encryption: RegistryEncryption,
): Promise<RegistrantRow | undefined> {
  await encryption.prepareToWrite();
  const { phones, addresses, ...columns } = values;
  const [updated] = await db.update(registrants)
    .set({ ...columns, ...encryption.encryptContacts(row.uuid, { phones, addresses }), version: sql`${registrants.version} + 1`, updatedAt: new Date() })
    .where(and(eq(registrants.id, row.id), eq(registrants.version, expectedVersion)))
    .returning();
  return updated;
}

export async function insertIdentifiers(
  db: Queryable, values: Array<{ registrantId: number; idType: string; value: string; issuedOn?: string | null; expiresOn?: string | null }>, encryption: RegistryEncryption,
): Promise<void> {
  if (values.length === 0) return;
  await encryption.prepareToWrite();
  await db.insert(identifiers).values(values.map(({ value, ...row }) => ({ ...row, ...encryption.encryptIdentifier(row.registrantId, row.idType, value) })));
}

/** The live identifier (type, value), if any; its value is the one asked for. */
export async function findLiveIdentifier(db: Queryable, idType: string, value: string, encryption: RegistryEncryption): Promise<IdentifierRow | undefined> {
  const [row] = await db.select().from(identifiers)
    .where(and(eq(identifiers.idType, idType), identifierValueIs(idType, value, encryption), eq(identifiers.isValid, true)));
  if (!row) return undefined;
  const { valueEncrypted: _encrypted, valueIndex: _index, ...identifier } = row;
  return { ...identifier, value };
}

export async function listIdentifiersOf(db: Queryable, registrantIds: number[], encryption: RegistryEncryption): Promise<IdentifierRow[]> {
  if (registrantIds.length === 0) return [];
  const ids = `{${registrantIds.join(',')}}`;
  const query = prepared(db, 'identifiers_of', (root) => root.select().from(identifiers)
    .where(sql`${identifiers.registrantId} = any(${idParameter}::bigint[])`).orderBy(asc(identifiers.id)).prepare('cw_identifiers_of'));
  const rows = query
    ? await query.execute({ id: ids })
    : await db.select().from(identifiers).where(inArray(identifiers.registrantId, registrantIds)).orderBy(asc(identifiers.id));
  await encryption.prepareToRead(rows.map((row) => row.valueEncrypted));
  return rows.map(({ valueEncrypted: _encrypted, valueIndex: _index, ...row }) => ({ ...row, value: encryption.decryptIdentifier({ ...row, valueEncrypted: _encrypted }) }));
}

export async function invalidateIdentifierRow(db: Queryable, id: number, reason: string): Promise<void> {
  await db.update(identifiers).set({ isValid: false, invalidReason: reason, invalidatedAt: new Date() }).where(eq(identifiers.id, id));
}

export async function insertMembership(db: Queryable, values: typeof memberships.$inferInsert): Promise<MembershipRow> {
  const [row] = await db.insert(memberships).values(values).returning();
  return row!;
}

/** With each member's area, so a caller limited to areas can leave out those outside. */
export async function listMembershipsOfGroup(db: Queryable, groupId: number, includeEnded: boolean): Promise<Array<MembershipRow & { individualUuid: string; individualAreaId: number | null }>> {
  const membersOf = (root: Queryable, group: number | typeof idParameter) => root
    .select({ membership: memberships, individualUuid: registrants.uuid, individualAreaId: registrants.areaId }).from(memberships)
    .innerJoin(registrants, eq(registrants.id, memberships.individualId))
    .where(and(eq(memberships.groupId, group as number), includeEnded ? undefined : sql`${memberships.isActive}`))
    .orderBy(desc(memberships.isActive), asc(memberships.id));
  const query = prepared(db, includeEnded ? 'members_of_all' : 'members_of_active', (root) => membersOf(root, idParameter)
    .prepare(includeEnded ? 'cw_members_of_all' : 'cw_members_of_active'));
  const rows = query ? await query.execute({ id: groupId }) : await membersOf(db, groupId);
  return rows.map((row) => ({ ...row.membership, individualUuid: row.individualUuid, individualAreaId: row.individualAreaId }));
}

export async function listMembershipsOfIndividual(db: Queryable, individualId: number): Promise<Array<MembershipRow & { groupUuid: string; groupAreaId: number | null }>> {
  const membershipsOf = (root: Queryable, individual: number | typeof idParameter) => root
    .select({ membership: memberships, groupUuid: registrants.uuid, groupAreaId: registrants.areaId }).from(memberships)
    .innerJoin(registrants, eq(registrants.id, memberships.groupId))
    .where(eq(memberships.individualId, individual as number))
    .orderBy(desc(memberships.isActive), asc(memberships.id));
  const query = prepared(db, 'memberships_of', (root) => membershipsOf(root, idParameter).prepare('cw_memberships_of'));
  const rows = query ? await query.execute({ id: individualId }) : await membershipsOf(db, individualId);
  return rows.map((row) => ({ ...row.membership, groupUuid: row.groupUuid, groupAreaId: row.groupAreaId }));
}

export async function countActiveMembers(db: Queryable, groupIds: number[]): Promise<Map<number, number>> {
  if (groupIds.length === 0) return new Map();
  const rows = await db.select({ groupId: memberships.groupId, count: sql<number>`count(*)::int` }).from(memberships)
    .where(and(inArray(memberships.groupId, groupIds), eq(memberships.isActive, true)))
    .groupBy(memberships.groupId);
  return new Map(rows.map((row) => [row.groupId, Number(row.count)]));
}

export async function endMembershipRow(db: Queryable, id: number, endDate: string, reason: string): Promise<void> {
  await db.update(memberships).set({ isActive: false, endDate, endReason: reason, updatedAt: new Date() }).where(eq(memberships.id, id));
}

export async function setMembershipRole(db: Queryable, id: number, role: string): Promise<void> {
  await db.update(memberships).set({ role, updatedAt: new Date() }).where(eq(memberships.id, id));
}

export async function insertRelationship(db: Queryable, values: typeof relationships.$inferInsert): Promise<RelationshipRow> {
  const [row] = await db.insert(relationships).values(values).returning();
  return row!;
}

export async function listRelationshipsOf(db: Queryable, individualId: number): Promise<Array<RelationshipRow & { targetUuid: string; targetAreaId: number | null }>> {
  const relationshipsOf = (root: Queryable, individual: number | typeof idParameter) => root
    .select({ relationship: relationships, targetUuid: registrants.uuid, targetAreaId: registrants.areaId }).from(relationships)
    .innerJoin(registrants, eq(registrants.id, relationships.targetId))
    .where(eq(relationships.sourceId, individual as number))
    .orderBy(asc(relationships.id));
  const query = prepared(db, 'relationships_of', (root) => relationshipsOf(root, idParameter).prepare('cw_relationships_of'));
  const rows = query ? await query.execute({ id: individualId }) : await relationshipsOf(db, individualId);
  return rows.map((row) => ({ ...row.relationship, targetUuid: row.targetUuid, targetAreaId: row.targetAreaId }));
}

export async function listCustomFieldDefinitions(db: Queryable, appliesTo: RegistrantKind) {
  return db.select().from(customFieldDefinitions).where(eq(customFieldDefinitions.appliesTo, appliesTo));
}
