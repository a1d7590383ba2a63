import { Ajv, type ValidateFunction } from 'ajv';
import { parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import type { Phone } from './registry.tables.js';
import type { IndividualInput } from './registry.schemas.js';

// Turning validated request shapes into clean column values: names, phones, dates, custom fields.

/** Lower-case, accent-free form used for name search: "José Núñez" → "jose nunez". */
export function normalizeForSearch(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function buildDisplayName(name: { given?: string | null; family?: string | null; additional?: string | null; display?: string | null }): string {
  const display = name.display?.trim() || [name.given, name.additional, name.family].filter(Boolean).join(' ').trim();
  return display;
}

/** Phones in E.164. A number without a country prefix is read in the deployment's default region. */
export function normalizePhones(phones: Array<{ value: string; use?: string }>, defaultRegion: string | undefined, basePath: string): Phone[] {
  const problems: FieldProblem[] = [];
  const normalized = phones.map((phone, index) => {
    try {
      const parsed = parsePhoneNumberWithError(phone.value, defaultRegion as CountryCode | undefined);
      if (!parsed.isPossible()) throw new Error('not a possible number');
      return { value: parsed.number, ...(phone.use ? { use: phone.use } : {}) };
    } catch {
      problems.push({ path: `${basePath}/${index}/value`, message: defaultRegion ? 'is not a valid phone number' : 'is not a valid phone number in international format (+country code)' });
      return phone;
    }
  });
  if (problems.length > 0) throw AppError.validation('A phone number is not valid', problems);
  return normalized as Phone[];
}

/** Dates must be real calendar dates (the schema checks the shape) and not in the future. */
export function checkBirthDate(value: string | null | undefined, path: string, today = new Date()): void {
  if (!value) return;
  if (value > today.toISOString().slice(0, 10)) throw AppError.validation('The birth date is in the future', [{ path, message: 'must not be in the future' }]);
  if (value < '1880-01-01') throw AppError.validation('The birth date is before 1880', [{ path, message: 'must not be before 1880-01-01' }]);
}

export interface CustomFieldDefinition {
  name: string;
  valueSchema: Record<string, unknown>;
  isRequired: boolean;
}

const customAjv = new Ajv({ allErrors: true, strict: false });
const compiledSchemas = new Map<string, ValidateFunction>();

/** Validates a registrant's `custom` document against the deployment's field definitions. */
export function checkCustomFields(custom: Record<string, unknown>, definitions: CustomFieldDefinition[]): void {
  const problems: FieldProblem[] = [];
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  for (const [name, value] of Object.entries(custom)) {
    const definition = byName.get(name);
    if (!definition) {
      problems.push({ path: `/custom/${name}`, message: 'is not a custom field defined for this deployment' });
      continue;
    }
    const key = JSON.stringify(definition.valueSchema);
    let validate = compiledSchemas.get(key);
    if (!validate) {
      validate = customAjv.compile(definition.valueSchema);
      compiledSchemas.set(key, validate);
    }
    if (!validate(value)) problems.push({ path: `/custom/${name}`, message: customAjv.errorsText(validate.errors, { dataVar: name }) });
  }
  for (const definition of definitions) {
    if (definition.isRequired && custom[definition.name] === undefined) problems.push({ path: `/custom/${definition.name}`, message: 'is required' });
  }
  if (problems.length > 0) throw AppError.validation('The custom fields are not valid', problems);
}

/**
 * The column values of an individual from a validated input, once its area and phones are
 * resolved. Shared by the single-record API and the bulk writer, so both store the same thing.
 */
export function individualColumns(input: IndividualInput, resolved: { areaId: number | null; phones: Phone[] }) {
  const displayName = buildDisplayName(input.name);
  const names = [input.name.display, input.name.given, input.name.additional, input.name.family].filter(Boolean).join(' ');
  return {
    ...sharedColumns(input, resolved),
    givenName: input.name.given ?? null,
    familyName: input.name.family ?? null,
    additionalName: input.name.additional ?? null,
    displayName,
    nameSearch: normalizeForSearch(names || displayName),
    birthDate: input.birthDate ?? null,
    gender: input.gender ?? null,
    civilStatus: input.civilStatus ?? null,
    hasDisability: input.disability?.hasDisability ?? null,
    disabilityTypes: input.disability ? input.disability.types ?? [] : null,
  };
}

/** Columns individuals and groups have in common. */
export function sharedColumns(
  input: Pick<IndividualInput, 'addresses' | 'email' | 'income' | 'custom' | 'sourceSystem'>,
  resolved: { areaId: number | null; phones: Phone[] },
) {
  return {
    areaId: resolved.areaId,
    addresses: input.addresses ?? [],
    phones: resolved.phones,
    email: input.email?.toLowerCase() ?? null,
    monthlyIncome: input.income ? input.income.monthly.toFixed(2) : null,
    incomeCurrency: input.income?.currency ?? null,
    custom: input.custom ?? {},
    sourceSystem: input.sourceSystem ?? null,
  };
}
