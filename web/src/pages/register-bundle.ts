// The guided registration form as one $batch transaction bundle, and the API's answers mapped back
// onto the form's fields (kept apart from the page so both are unit-tested).

export interface MemberDraft { given: string; family: string; birthDate: string; gender: string; nationalId: string; role: string }
export interface HouseholdDraft { name: string; householdId: string; area: string; members: MemberDraft[] }

export const emptyMember = (role = ''): MemberDraft => ({ given: '', family: '', birthDate: '', gender: '', nationalId: '', role });
export const emptyHousehold = (): HouseholdDraft => ({ name: '', householdId: '', area: '', members: [emptyMember('head')] });

/** Field key in the form: `household.name`, `members.2.birthDate`… */
export type FieldErrors = Record<string, string[]>;

/** A v4 UUID also where crypto.randomUUID is missing (pages served over plain http to an address). */
export function newUuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks before sending: what the form itself can know. Keys of messages are catalogue ids. */
export function checkDraft(draft: HouseholdDraft, step: 'household' | 'members'): Record<string, Array<'error.required' | 'error.date'>> {
  const errors: Record<string, Array<'error.required' | 'error.date'>> = {};
  const add = (key: string, message: 'error.required' | 'error.date') => { (errors[key] ??= []).push(message); };
  if (step === 'household') {
    if (draft.name.trim() === '') add('household.name', 'error.required');
    return errors;
  }
  draft.members.forEach((member, index) => {
    if (member.given.trim() === '' && member.family.trim() === '') add(`members.${index}.given`, 'error.required');
    if (member.birthDate.trim() !== '' && !DATE.test(member.birthDate.trim())) add(`members.${index}.birthDate`, 'error.date');
    if (member.role === '') add(`members.${index}.role`, 'error.required');
  });
  return errors;
}

export function toBundle(draft: HouseholdDraft, uuid: () => string = newUuid) {
  const references = draft.members.map(() => `urn:uuid:${uuid()}`);
  const text = (value: string) => (value.trim() === '' ? undefined : value.trim());
  const people = draft.members.map((member, index) => ({
    fullUrl: references[index],
    request: { method: 'POST' as const, url: 'Individual' },
    resource: {
      name: { given: text(member.given), family: text(member.family) },
      birthDate: text(member.birthDate),
      gender: text(member.gender),
      area: text(draft.area),
      identifiers: member.nationalId.trim() ? [{ type: 'national-id', value: member.nationalId.trim() }] : undefined,
    },
  }));
  const household = {
    request: { method: 'POST' as const, url: 'Group' },
    resource: {
      groupType: 'household',
      name: draft.name.trim(),
      area: text(draft.area),
      identifiers: draft.householdId.trim() ? [{ type: 'household-id', value: draft.householdId.trim() }] : undefined,
      members: draft.members.map((member, index) => ({ individual: references[index]!, role: member.role })),
    },
  };
  return { resourceType: 'Bundle' as const, type: 'transaction' as const, entries: [...people, household] };
}

const FIELD_OF: Record<string, string> = {
  '/name/given': 'given', '/name/family': 'family', '/name': 'given', '/birthDate': 'birthDate', '/gender': 'gender', '/identifiers': 'nationalId', '/area': 'area',
};

/**
 * The transaction's errors (`/entries/{i}/resource/...`) as form fields: entries 0..n-1 are the
 * members, the last one the household; a member's role is `/members/{j}/role` in the household entry.
 */
export function errorsFromBundle(errors: Array<{ path: string; message: string }>, memberCount: number): { fields: FieldErrors; unplaced: string[] } {
  const fields: FieldErrors = {};
  const unplaced: string[] = [];
  const add = (key: string, message: string) => { (fields[key] ??= []).push(message); };
  for (const error of errors) {
    const match = /^\/entries\/(\d+)(\/resource)?(\/.*)?$/.exec(error.path);
    if (!match) { unplaced.push(error.message); continue; }
    const index = Number(match[1]);
    const path = match[3] ?? '';
    if (index < memberCount) {
      const field = Object.entries(FIELD_OF).find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1];
      if (field === 'area') add('household.area', error.message);
      else if (field) add(`members.${index}.${field}`, error.message);
      else unplaced.push(error.message);
      continue;
    }
    const member = /^\/members\/(\d+)\/(role|individual)/.exec(path);
    if (member) add(`members.${member[1]}.role`, error.message);
    else if (path.startsWith('/name')) add('household.name', error.message);
    else if (path.startsWith('/identifiers')) add('household.householdId', error.message);
    else if (path.startsWith('/area')) add('household.area', error.message);
    else unplaced.push(error.message);
  }
  return { fields, unplaced };
}
