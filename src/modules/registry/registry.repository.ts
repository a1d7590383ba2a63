import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/database/database.js';
import { customFieldDefinitions, identifiers, memberships, registrants, relationships, type RegistrantKind } from './registry.tables.js';

// SQL only: no rules here. The service decides what may be written.

export type RegistrantRow = typeof registrants.$inferSelect;
export type NewRegistrantRow = typeof registrants.$inferInsert;
export type IdentifierRow = typeof identifiers.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;
export type RelationshipRow = typeof relationships.$inferSelect;

export async function insertRegistrant(db: Queryable, values: NewRegistrantRow): Promise<RegistrantRow> {
  const [row] = await db.insert(registrants).values(values).returning();
  return row!;
}

export async function findRegistrantByUuid(db: Queryable, uuid: string, kind?: RegistrantKind): Promise<RegistrantRow | undefined> {
  const [row] = await db.select().from(registrants)
    .where(and(eq(registrants.uuid, uuid), kind ? eq(registrants.kind, kind) : undefined));
  return row;
}

export async function findRegistrantByIdentifier(db: Queryable, idType: string, value: string, kind?: RegistrantKind): Promise<RegistrantRow | undefined> {
  const [row] = await db.select({ registrant: registrants }).from(identifiers)
    .innerJoin(registrants, eq(registrants.id, identifiers.registrantId))
    .where(and(eq(identifiers.idType, idType), eq(identifiers.value, value), eq(identifiers.isValid, true), kind ? eq(registrants.kind, kind) : undefined));
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
export async function updateRegistrant(db: Queryable, id: number, expectedVersion: number, values: Partial<NewRegistrantRow>): Promise<RegistrantRow | undefined> {
  const [row] = await db.update(registrants)
    .set({ ...values, version: sql`${registrants.version} + 1`, updatedAt: new Date() })
    .where(and(eq(registrants.id, id), eq(registrants.version, expectedVersion)))
    .returning();
  return row;
}

export async function insertIdentifiers(db: Queryable, values: Array<typeof identifiers.$inferInsert>): Promise<void> {
  if (values.length > 0) await db.insert(identifiers).values(values);
}

export async function findLiveIdentifier(db: Queryable, idType: string, value: string): Promise<IdentifierRow | undefined> {
  const [row] = await db.select().from(identifiers)
    .where(and(eq(identifiers.idType, idType), eq(identifiers.value, value), eq(identifiers.isValid, true)));
  return row;
}

export async function listIdentifiersOf(db: Queryable, registrantIds: number[]): Promise<IdentifierRow[]> {
  if (registrantIds.length === 0) return [];
  return db.select().from(identifiers).where(inArray(identifiers.registrantId, registrantIds)).orderBy(asc(identifiers.id));
}

export async function invalidateIdentifierRow(db: Queryable, id: number, reason: string): Promise<void> {
  await db.update(identifiers).set({ isValid: false, invalidReason: reason, invalidatedAt: new Date() }).where(eq(identifiers.id, id));
}

export async function insertMembership(db: Queryable, values: typeof memberships.$inferInsert): Promise<MembershipRow> {
  const [row] = await db.insert(memberships).values(values).returning();
  return row!;
}

export async function listMembershipsOfGroup(db: Queryable, groupId: number, includeEnded: boolean): Promise<Array<MembershipRow & { individualUuid: string }>> {
  const rows = await db.select({ membership: memberships, individualUuid: registrants.uuid }).from(memberships)
    .innerJoin(registrants, eq(registrants.id, memberships.individualId))
    .where(and(eq(memberships.groupId, groupId), includeEnded ? undefined : eq(memberships.isActive, true)))
    .orderBy(desc(memberships.isActive), asc(memberships.id));
  return rows.map((row) => ({ ...row.membership, individualUuid: row.individualUuid }));
}

export async function listMembershipsOfIndividual(db: Queryable, individualId: number): Promise<Array<MembershipRow & { groupUuid: string }>> {
  const rows = await db.select({ membership: memberships, groupUuid: registrants.uuid }).from(memberships)
    .innerJoin(registrants, eq(registrants.id, memberships.groupId))
    .where(eq(memberships.individualId, individualId))
    .orderBy(desc(memberships.isActive), asc(memberships.id));
  return rows.map((row) => ({ ...row.membership, groupUuid: row.groupUuid }));
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

export async function listRelationshipsOf(db: Queryable, individualId: number): Promise<Array<RelationshipRow & { targetUuid: string }>> {
  const rows = await db.select({ relationship: relationships, targetUuid: registrants.uuid }).from(relationships)
    .innerJoin(registrants, eq(registrants.id, relationships.targetId))
    .where(eq(relationships.sourceId, individualId))
    .orderBy(asc(relationships.id));
  return rows.map((row) => ({ ...row.relationship, targetUuid: row.targetUuid }));
}

export async function listCustomFieldDefinitions(db: Queryable, appliesTo: RegistrantKind) {
  return db.select().from(customFieldDefinitions).where(eq(customFieldDefinitions.appliesTo, appliesTo));
}
