import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../../platform/database/database.js';
import { registrants, type RegistrantKind } from '../registry/registry.tables.js';
import { consentEvents, consents, type ConsentStatus } from './consents.tables.js';

// SQL only: the service decides which transitions are allowed.

export type ConsentRow = typeof consents.$inferSelect;
export type NewConsentRow = typeof consents.$inferInsert;
export type ConsentEventRow = typeof consentEvents.$inferSelect;
/** A consent with its registrant's external identity, as views need it. */
export interface ConsentWithSubject { consent: ConsentRow; subjectId: string; subjectKind: RegistrantKind }

const withSubject = { consent: consents, subjectId: registrants.uuid, subjectKind: registrants.kind };

export async function insertConsent(db: Queryable, values: NewConsentRow): Promise<ConsentRow> {
  const [row] = await db.insert(consents).values(values).returning();
  return row!;
}

export async function insertConsentEvent(db: Queryable, values: typeof consentEvents.$inferInsert): Promise<void> {
  await db.insert(consentEvents).values(values);
}

export async function findConsent(db: Queryable, uuid: string, options: { lock?: boolean } = {}): Promise<ConsentWithSubject | undefined> {
  const query = db.select(withSubject).from(consents)
    .innerJoin(registrants, eq(registrants.id, consents.registrantId))
    .where(eq(consents.uuid, uuid));
  const [row] = options.lock ? await query.for('update', { of: consents }) : await query;
  return row;
}

export async function listConsentsOfRegistrant(db: Queryable, registrantId: number): Promise<ConsentWithSubject[]> {
  return db.select(withSubject).from(consents)
    .innerJoin(registrants, eq(registrants.id, consents.registrantId))
    .where(eq(consents.registrantId, registrantId))
    .orderBy(desc(consents.createdAt), desc(consents.id));
}

/** The given consents of many registrants (by UUID) in one query: what the read filter needs. */
export async function listGivenConsentsOf(db: Queryable, registrantUuids: readonly string[]): Promise<Array<{ subjectId: string; consent: ConsentRow }>> {
  if (registrantUuids.length === 0) return [];
  return db.select({ subjectId: registrants.uuid, consent: consents }).from(consents)
    .innerJoin(registrants, eq(registrants.id, consents.registrantId))
    .where(and(inArray(registrants.uuid, [...registrantUuids]), eq(consents.status, 'given')));
}

/** Changes a consent only if it is still in `fromStatus` (so two racing changes cannot both apply). */
export async function updateConsentStatus(db: Queryable, id: number, fromStatus: ConsentStatus, values: Partial<NewConsentRow>): Promise<ConsentRow | undefined> {
  const [row] = await db.update(consents)
    .set({ ...values, version: sql`${consents.version} + 1`, updatedAt: new Date() })
    .where(and(eq(consents.id, id), eq(consents.status, fromStatus)))
    .returning();
  return row;
}

/** In the order recorded (an expiry is dated `expiresAt` but recorded when first read). */
export async function listConsentEvents(db: Queryable, consentId: number): Promise<ConsentEventRow[]> {
  return db.select().from(consentEvents).where(eq(consentEvents.consentId, consentId)).orderBy(asc(consentEvents.id));
}

/**
 * "This registrant has an active consent for `recipient` and `purpose` covering one of
 * `categories`", as an SQL condition on the outer query's `registrants` row (searches).
 */
export function coveredByConsentCondition(recipient: { organisation?: string | undefined; organisationType?: string | undefined }, purpose: string, categories: readonly string[]) {
  const forRecipient = [
    recipient.organisation !== undefined ? sql`${consents.recipientOrganisation} = ${recipient.organisation}` : undefined,
    recipient.organisationType !== undefined ? sql`${consents.recipientType} = ${recipient.organisationType}` : undefined,
  ].filter((condition) => condition !== undefined);
  if (forRecipient.length === 0) return sql`false`;
  return sql`exists (select 1 from ${consents} where ${consents.registrantId} = ${registrants.id} and ${consents.status} = 'given'
    and (${consents.expiresAt} is null or ${consents.expiresAt} > now()) and (${sql.join(forRecipient, sql` or `)})
    and ${purpose} = any(${consents.purposes}) and ${consents.dataCategories} && ${`{${categories.join(',')}}`}::text[])`;
}
