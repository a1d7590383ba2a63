import type { IdentifierRow, MembershipRow, RegistrantRow, RelationshipRow } from './registry.repository.js';
import type { AuditDigests, Contacts } from './registry.encryption.js';
import type { Address, Phone } from './registry.tables.js';

// The API representation of registry records. Only external identifiers: UUIDs and codes.

export interface IdentifierView {
  type: string;
  system: string;
  value: string;
  isValid: boolean;
  invalidReason?: string;
  issuedOn?: string;
  expiresOn?: string;
}

export interface MembershipView {
  id: string;
  group?: string;
  individual?: string;
  role: string;
  startDate: string;
  endDate: string | null;
  endReason: string | null;
  isActive: boolean;
}

export interface RelationshipView {
  id: string;
  type: string;
  target: string;
  startDate: string | null;
  endDate: string | null;
}

interface RegistrantViewBase {
  id: string;
  version: number;
  isActive: boolean;
  deactivation: { reason: string | null; date: string | null } | null;
  area: string | null;
  addresses: unknown[];
  phones: unknown[];
  email: string | null;
  income: { monthly: number; currency: string } | null;
  identifiers: IdentifierView[];
  custom: Record<string, unknown>;
  sourceSystem: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface IndividualView extends RegistrantViewBase {
  resourceType: 'Individual';
  name: { given: string | null; family: string | null; additional: string | null; display: string };
  birthDate: string | null;
  gender: string | null;
  civilStatus: string | null;
  disability: { hasDisability: boolean; types: string[] } | null;
  memberships?: MembershipView[];
  relationships?: RelationshipView[];
}

export interface GroupView extends RegistrantViewBase {
  resourceType: 'Group';
  groupType: string;
  name: string;
  size: number;
  head: string | null;
  members?: MembershipView[];
}

export interface ViewContext {
  areaCodes: Map<number, string>;
  identifiersByRegistrant: Map<number, IdentifierRow[]>;
  idTypeSystems: Map<string, string>;
  /** The rows' phones and addresses, decrypted (repository.contactsOf), by registrant id. */
  contacts: Map<number, Contacts>;
}

function contactsOf(row: RegistrantRow, context: ViewContext): Contacts {
  const contacts = context.contacts.get(row.id);
  if (!contacts) throw new Error(`The view context holds no contact data of registrant ${row.uuid}`);
  return contacts;
}

function baseView(row: RegistrantRow, context: ViewContext): RegistrantViewBase {
  const { addresses, phones } = contactsOf(row, context);
  return {
    id: row.uuid,
    version: row.version,
    isActive: row.isActive,
    deactivation: row.isActive ? null : { reason: row.deactivationReason, date: row.deactivatedAt?.toISOString().slice(0, 10) ?? null },
    area: row.areaId ? context.areaCodes.get(row.areaId) ?? null : null,
    addresses,
    phones,
    email: row.email,
    income: row.monthlyIncome !== null && row.incomeCurrency ? { monthly: Number(row.monthlyIncome), currency: row.incomeCurrency } : null,
    identifiers: (context.identifiersByRegistrant.get(row.id) ?? []).map((identifier) => identifierView(identifier, context.idTypeSystems)),
    custom: row.custom,
    sourceSystem: row.sourceSystem,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function individualView(row: RegistrantRow, context: ViewContext): IndividualView {
  return {
    resourceType: 'Individual',
    ...baseView(row, context),
    name: { given: row.givenName, family: row.familyName, additional: row.additionalName, display: row.displayName },
    birthDate: row.birthDate,
    gender: row.gender,
    civilStatus: row.civilStatus,
    disability: row.hasDisability === null ? null : { hasDisability: row.hasDisability, types: row.disabilityTypes ?? [] },
  };
}

export function groupView(row: RegistrantRow, context: ViewContext, members: { size: number; head: string | null }): GroupView {
  return {
    resourceType: 'Group',
    ...baseView(row, context),
    groupType: row.groupType ?? 'household',
    name: row.displayName,
    size: members.size,
    head: members.head,
  };
}

export function identifierView(row: IdentifierRow, systems: Map<string, string>): IdentifierView {
  return {
    type: row.idType,
    system: systems.get(row.idType) ?? row.idType,
    value: row.value,
    isValid: row.isValid,
    ...(row.invalidReason ? { invalidReason: row.invalidReason } : {}),
    ...(row.issuedOn ? { issuedOn: row.issuedOn } : {}),
    ...(row.expiresOn ? { expiresOn: row.expiresOn } : {}),
  };
}

export function membershipView(row: MembershipRow & { individualUuid?: string; groupUuid?: string }): MembershipView {
  return {
    id: row.uuid,
    ...(row.groupUuid ? { group: row.groupUuid } : {}),
    ...(row.individualUuid ? { individual: row.individualUuid } : {}),
    role: row.role,
    startDate: row.startDate,
    endDate: row.endDate,
    endReason: row.endReason,
    isActive: row.isActive,
  };
}

export function relationshipView(row: RelationshipRow & { targetUuid: string }): RelationshipView {
  return { id: row.uuid, type: row.relationship, target: row.targetUuid, startDate: row.startDate, endDate: row.endDate };
}

/**
 * What the audit log keeps of a registrant: its own fields, by external identifiers, with every
 * restricted value (phones, addresses) replaced by a keyed digest: the log never holds them in clear.
 */
export function auditSnapshot(view: IndividualView | GroupView, digests: AuditDigests): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...view };
  for (const key of ['identifiers', 'createdAt', 'updatedAt', 'members', 'memberships', 'relationships']) delete fields[key];
  return protectForAudit(fields, digests);
}

/** Identifiers as the audit log keeps them: type and validity, the value as a keyed digest. */
export function auditIdentifiers(identifiers: IdentifierView[], digests: AuditDigests): Array<Record<string, unknown>> {
  return identifiers.map((identifier) => ({ ...identifier, value: digests.identifier(identifier.type, identifier.value) }));
}

/**
 * Replaces the restricted fields of an audit snapshot (`phones`, `addresses`; `identifiers` as
 * views or as `type|value` strings) by digests. Address lines and postal codes are masked, the rest
 * of an address (city, district, country) kept, with a digest of the whole so a change still shows.
 */
export function protectForAudit(fields: Record<string, unknown>, digests: AuditDigests): Record<string, unknown> {
  const protectedFields = { ...fields };
  if (Array.isArray(fields.phones)) protectedFields.phones = (fields.phones as Phone[]).map((phone) => ({ ...phone, value: digests.phone(phone.value) }));
  if (Array.isArray(fields.addresses)) {
    protectedFields.addresses = (fields.addresses as Address[]).map((address) => ({
      ...address,
      ...(address.line ? { line: address.line.map(() => '***') } : {}),
      ...(address.postalCode ? { postalCode: '***' } : {}),
      digest: digests.address(address),
    }));
  }
  if (Array.isArray(fields.identifiers)) {
    protectedFields.identifiers = (fields.identifiers as Array<IdentifierView | string>).map((identifier) => {
      if (typeof identifier !== 'string') return { ...identifier, value: digests.identifier(identifier.type, identifier.value) };
      const separator = identifier.indexOf('|');
      return `${identifier.slice(0, separator)}|${digests.identifier(identifier.slice(0, separator), identifier.slice(separator + 1))}`;
    });
  }
  return protectedFields;
}
