import type { IdentifierRow, MembershipRow, RegistrantRow, RelationshipRow } from './registry.repository.js';

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
}

function baseView(row: RegistrantRow, context: ViewContext): RegistrantViewBase {
  return {
    id: row.uuid,
    version: row.version,
    isActive: row.isActive,
    deactivation: row.isActive ? null : { reason: row.deactivationReason, date: row.deactivatedAt?.toISOString().slice(0, 10) ?? null },
    area: row.areaId ? context.areaCodes.get(row.areaId) ?? null : null,
    addresses: row.addresses,
    phones: row.phones,
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

/** What the audit log keeps of a registrant: its own fields, by external identifiers. */
export function auditSnapshot(view: IndividualView | GroupView): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...view };
  for (const key of ['identifiers', 'createdAt', 'updatedAt', 'members', 'memberships', 'relationships']) delete fields[key];
  return fields;
}
