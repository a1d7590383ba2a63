type Json = Record<string, unknown>;

export interface CivilIdentifier {
  type: string;
  value: string;
}

/** A CRVS person, whichever shape the registry sent. */
export interface CivilPerson {
  identifiers: CivilIdentifier[];
  givenName: string | null;
  familyName: string | null;
  birthDate: string | null;
  deathDate: string | null;
  sex: string | null;
  maritalStatus: string | null;
  marriageDate: string | null;
  divorceDate: string | null;
  parents: CivilIdentifier[];
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value.trim() : typeof value === 'number' ? String(value) : null);
const dateOf = (value: unknown): string | null => text(value)?.slice(0, 10) ?? null;

function identifierOf(value: unknown): CivilIdentifier | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const record = value as Json;
  const type = text(record.identifier_type ?? record.type);
  const found = text(record.identifier_value ?? record.value ?? record.identifier);
  return type && found ? { type, value: found } : undefined;
}

/**
 * Reads the current CRVSPerson shape (`identifier` object or list, `name.given_name/surname`,
 * `birth_date`, `death_date`, `marriage_date`…) and the older registry_core `dci_PersonRecord`
 * (`identifier_type` + `identifier` string, `name.sur_name`, `birthdate`, `deathdate`,
 * `marriagedate`, `divorcedate`).
 */
export function civilPersonOf(record: Json): CivilPerson {
  const identifiers: CivilIdentifier[] = [];
  const raw = record.identifier;
  if (Array.isArray(raw)) for (const item of raw) { const found = identifierOf(item); if (found) identifiers.push(found); }
  else if (raw && typeof raw === 'object') { const found = identifierOf(raw); if (found) identifiers.push(found); }
  else if (text(raw) && text(record.identifier_type)) identifiers.push({ type: text(record.identifier_type)!, value: text(raw)! });
  const name = (record.name ?? {}) as Json;
  const parents = [record.parent1_identifier, record.parent2_identifier].map(identifierOf).filter((parent): parent is CivilIdentifier => parent !== undefined);
  return {
    identifiers,
    givenName: text(name.given_name),
    familyName: text(name.surname ?? name.sur_name),
    birthDate: dateOf(record.birth_date ?? record.birthdate),
    deathDate: dateOf(record.death_date ?? record.deathdate),
    sex: text(record.sex),
    maritalStatus: text(record.marital_status),
    marriageDate: dateOf(record.marriage_date ?? record.marriagedate),
    divorceDate: dateOf(record.divorce_date ?? record.divorcedate),
    parents,
  };
}

/** CRVS marital status codes (dci_MaritalStatus, single letters or words) → our civil-status codes. */
export function civilStatusOf(code: string | null): string | undefined {
  if (!code) return undefined;
  const normalized = code.toLowerCase();
  const byCode: Record<string, string> = { s: 'single', m: 'married', d: 'divorced', w: 'widowed', single: 'single', married: 'married', divorced: 'divorced', widowed: 'widowed', separated: 'separated' };
  return byCode[normalized];
}

/** CRVS sex → our gender codes (ISO 5218). */
export function genderOf(sex: string | null): string | undefined {
  if (!sex) return undefined;
  const normalized = sex.toLowerCase();
  return normalized === 'male' || normalized === 'm' ? '1' : normalized === 'female' || normalized === 'f' ? '2' : undefined;
}
