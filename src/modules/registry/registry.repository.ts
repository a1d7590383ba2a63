import { and, asc, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../../platform/database/database.js';
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
  return or(eq(identifiers.valueIndex, encryption.identifierIndex(idType, value)), eq(identifiers.value, value))!;
}

export async function findRegistrantByUuid(db: Queryable, uuid: string, kind?: RegistrantKind): Promise<RegistrantRow | undefined> {
  const [row] = await db.select().from(registrants)
    .where(and(eq(registrants.uuid, uuid), kind ? eq(registrants.kind, kind) : undefined));
  return row;
}

export async function findRegistrantByIdentifier(db: Queryable, idType: string, value: string, kind: RegistrantKind | undefined, encryption: RegistryEncryption): Promise<RegistrantRow | undefined> {
  const [row] = await db.select({ registrant: registrants }).from(identifiers)
    .innerJoin(registrants, eq(registrants.id, identifiers.registrantId))
    .where(and(eq(identifiers.idType, idType), identifierValueIs(idType, value, encryption), eq(identifiers.isValid, true), kind ? eq(registrants.kind, kind) : undefined));
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
  const rows = await db.select().from(identifiers).where(inArray(identifiers.registrantId, registrantIds)).orderBy(asc(identifiers.id));
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
  const rows = await db.select({ membership: memberships, individualUuid: registrants.uuid, individualAreaId: registrants.areaId }).from(memberships)
    .innerJoin(registrants, eq(registrants.id, memberships.individualId))
    .where(and(eq(memberships.groupId, groupId), includeEnded ? undefined : eq(memberships.isActive, true)))
    .orderBy(desc(memberships.isActive), asc(memberships.id));
  return rows.map((row) => ({ ...row.membership, individualUuid: row.individualUuid, individualAreaId: row.individualAreaId }));
}

export async function listMembershipsOfIndividual(db: Queryable, individualId: number): Promise<Array<MembershipRow & { groupUuid: string; groupAreaId: number | null }>> {
  const rows = await db.select({ membership: memberships, groupUuid: registrants.uuid, groupAreaId: registrants.areaId }).from(memberships)
    .innerJoin(registrants, eq(registrants.id, memberships.groupId))
    .where(eq(memberships.individualId, individualId))
    .orderBy(desc(memberships.isActive), asc(memberships.id));
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
  const rows = await db.select({ relationship: relationships, targetUuid: registrants.uuid, targetAreaId: registrants.areaId }).from(relationships)
    .innerJoin(registrants, eq(registrants.id, relationships.targetId))
    .where(eq(relationships.sourceId, individualId))
    .orderBy(asc(relationships.id));
  return rows.map((row) => ({ ...row.relationship, targetUuid: row.targetUuid, targetAreaId: row.targetAreaId }));
}

export async function listCustomFieldDefinitions(db: Queryable, appliesTo: RegistrantKind) {
  return db.select().from(customFieldDefinitions).where(eq(customFieldDefinitions.appliesTo, appliesTo));
}
