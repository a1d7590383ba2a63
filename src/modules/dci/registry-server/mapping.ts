/**
 * Registry views → the social registry's data objects (schema.spdci.org extensions/social/v1):
 * `Group` (group_identifier, group_type, group_size, poverty_score, place_address, group_head_info,
 * member_list…) whose members are `Member`s, each with its `SRPerson` demographic_info. Input views
 * may have been narrowed by the consent filter or masked by disclosure: every field is optional here,
 * and a field not released is left out rather than sent empty.
 */

export const REG_TYPE = 'ns:org:RegistryType:Social';

type Json = Record<string, unknown>;

/** What the mapping reads of an individual view (after consent filtering and masking). */
export interface PersonView {
  id: string;
  name?: { given?: string | null; family?: string | null; additional?: string | null; display?: string } | string;
  birthDate?: string | null;
  gender?: string | null;
  civilStatus?: string | null;
  disability?: { hasDisability: boolean; types: string[] } | null;
  identifiers?: Array<{ type?: string; system?: string; value?: string; isValid?: boolean } | string>;
  addresses?: unknown[];
  phones?: unknown[];
  email?: string | null;
  area?: string | null;
  custom?: Record<string, unknown>;
  createdAt?: string;
  updatedAt?: string;
  role?: string;
}

export interface HouseholdView {
  id: string;
  groupType?: string;
  name?: string;
  size?: number;
  area?: string | null;
  identifiers?: PersonView['identifiers'];
  custom?: Record<string, unknown>;
  income?: { monthly: number; currency: string } | null;
  createdAt?: string;
  updatedAt?: string;
  memberRecords?: PersonView[];
}

const SEX: Record<string, string> = { '1': 'male', '2': 'female', '0': 'unknown', '9': 'other' };
/** MaritalStatusEnum codes (schema.spdci.org core/v1/code). */
const MARITAL: Record<string, string> = { single: 'S', married: 'M', widowed: 'W', divorced: 'D', separated: 'L', unknown: 'U', cohabiting: 'U' };

function identifiersOf(list: PersonView['identifiers']): Json[] | undefined {
  if (!list) return undefined;
  return list.filter((item) => typeof item !== 'object' || item.isValid !== false).map((item) => {
    if (typeof item === 'string') {
      const separator = item.indexOf('|');
      return { '@type': 'Identifier', identifier_type: item.slice(0, separator), identifier_value: item.slice(separator + 1) };
    }
    return { '@type': 'Identifier', identifier_type: item.type, identifier_value: item.value };
  });
}

function defined(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null));
}

function dateTimeOf(date: string | null | undefined): string | undefined {
  if (!date) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00Z` : date;
}

/** SRPerson: who the member is. */
export function srPerson(view: PersonView): Json {
  const name = typeof view.name === 'object' && view.name !== null
    ? defined({ '@type': 'Name', given_name: view.name.given, surname: view.name.family, second_name: view.name.additional })
    : typeof view.name === 'string' ? { '@type': 'Name', given_name: view.name } : undefined;
  const phone = view.phones?.[0];
  const address = view.addresses?.[0] as { line?: string[]; city?: string; postalCode?: string; country?: string } | string | undefined;
  return defined({
    '@type': 'SRPerson',
    identifier: identifiersOf(view.identifiers),
    name,
    sex: view.gender ? SEX[view.gender] ?? 'unknown' : undefined,
    birth_date: dateTimeOf(view.birthDate),
    address: address === undefined ? undefined : typeof address === 'string' ? { '@type': 'Address', address_line1: address }
      : defined({ '@type': 'Address', address_line1: address.line?.join(', '), locality: address.city, postal_code: address.postalCode, country: address.country }),
    phone_number: typeof phone === 'string' ? phone : (phone as { value?: string } | undefined)?.value,
    email: view.email,
    registration_date: view.createdAt,
    last_updated: view.updatedAt,
  });
}

/** Member: a person as a member of the registry (and of a group, with `role`). */
export function member(view: PersonView, baseId?: string): Json {
  return defined({
    '@type': 'Member',
    '@id': baseId ? `${baseId}/Individual/${view.id}` : `urn:uuid:${view.id}`,
    member_identifier: identifiersOf(view.identifiers),
    demographic_info: srPerson(view),
    is_disabled: view.disability ? view.disability.hasDisability : undefined,
    disability_info: view.disability?.hasDisability ? view.disability.types.map((type) => ({ '@type': 'DisabilityInfo', disability_limitation_type: type })) : undefined,
    marital_status: view.civilStatus ? MARITAL[view.civilStatus] ?? 'U' : undefined,
    relationship_head: view.role,
    registration_date: view.createdAt,
    last_updated: view.updatedAt,
    additional_attributes: view.area ? [{ name: 'area', value: view.area }] : undefined,
  });
}

/** Group: a household (or other group) with its head and members. */
export function group(view: HouseholdView, baseId?: string): Json {
  const members = view.memberRecords;
  const head = members?.find((record) => record.role === 'head');
  const povertyScore = view.custom?.poverty_score;
  return defined({
    '@type': 'Group',
    '@id': baseId ? `${baseId}/Group/${view.id}` : `urn:uuid:${view.id}`,
    group_identifier: identifiersOf(view.identifiers),
    group_type: view.groupType,
    group_size: view.size,
    poverty_score: typeof povertyScore === 'number' ? povertyScore : undefined,
    place_address: view.area ?? undefined,
    group_head_info: head ? member(head, baseId) : undefined,
    member_list: members?.map((record) => member(record, baseId)),
    registration_date: view.createdAt,
    last_updated: view.updatedAt,
    additional_attributes: view.income ? [{ name: 'monthly_income', value: String(view.income.monthly) }, { name: 'income_currency', value: view.income.currency }] : undefined,
  });
}
