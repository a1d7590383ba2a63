import { Type, type Static } from 'typebox';
import { AppError, type FieldProblem } from '../../../platform/errors.js';
import { createBodyValidator } from '../../../platform/http/validation.js';
import type { BulkPerson } from '../../registry/bulk/registry-bulk.service.js';

// A mapping says which file column feeds which registry field. Fields are flat names (one cell,
// one value) so that a spreadsheet user can write a mapping without knowing the API's JSON shape.

export const DATE_FORMATS = ['YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

export const MappingDocument = Type.Object({
  columns: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.String({ minLength: 1, maxLength: 100 }), {
    description: 'File column header → field, e.g. {"NID": "identifier:national-id", "First name": "given_name"}',
  }),
  defaults: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Union([Type.String({ maxLength: 400 }), Type.Number(), Type.Boolean()]), {
    description: 'Field → value used when the row has no value for it',
  })),
  options: Type.Optional(Type.Object({
    dateFormat: Type.Optional(Type.String({ enum: [...DATE_FORMATS] })),
    sheet: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'XLSX: the sheet to read (default the first)' })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
export type MappingDocument = Static<typeof MappingDocument>;

/** The flat field names a column can be mapped to (plus `identifier:<id-type>` and `custom:<name>`). */
export const PLAIN_FIELDS = [
  'given_name', 'family_name', 'additional_name', 'display_name', 'birth_date', 'gender', 'civil_status', 'area',
  'phone', 'phone2', 'email', 'has_disability', 'disability_types', 'monthly_income', 'income_currency',
  'household_id', 'household_role', 'household_name', 'source_system',
] as const;
const plainFields = new Set<string>(PLAIN_FIELDS);
const PREFIXED = /^(identifier|custom):([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;
export const HOUSEHOLD_ID_TYPE = 'household-id';

export const isKnownField = (field: string) => plainFields.has(field) || PREFIXED.test(field);

/** The field of the Individual view a flat field feeds, for its classification (household_id: the household's identifier). */
export function viewFieldOf(field: string): string | undefined {
  if (field.startsWith('identifier:') || field === 'household_id') return 'identifiers';
  if (field.startsWith('custom:')) return 'custom';
  const views: Record<string, string> = {
    given_name: 'name', family_name: 'name', additional_name: 'name', display_name: 'name', birth_date: 'birthDate', gender: 'gender',
    civil_status: 'civilStatus', area: 'area', phone: 'phones', phone2: 'phones', email: 'email', has_disability: 'disability',
    disability_types: 'disability', monthly_income: 'income', income_currency: 'income', household_role: 'memberships', household_name: 'memberships',
    source_system: 'sourceSystem',
  };
  return views[field];
}
const validateShape = createBodyValidator(MappingDocument);

/** Checks a mapping document; `idTypes` are the codes an `identifier:<type>` may name. Throws 400. */
export function checkMapping(document: unknown, idTypes: ReadonlySet<string>, basePath = ''): MappingDocument {
  const shape = validateShape(document, basePath);
  if (shape.length > 0) throw AppError.validation(`The mapping is not valid: ${describe(shape)}`, shape);
  const mapping = document as MappingDocument;
  const problems: FieldProblem[] = [];
  const fieldOf = (field: string, path: string) => {
    if (!isKnownField(field)) problems.push({ path, message: `"${field}" is not a field (known: ${PLAIN_FIELDS.join(', ')}, identifier:<id-type>, custom:<name>)` });
    else if (field.startsWith('identifier:') && !idTypes.has(field.slice('identifier:'.length))) problems.push({ path, message: `"${field.slice('identifier:'.length)}" is not an identifier type` });
  };
  const mappedFrom = new Map<string, string>();
  for (const [column, field] of Object.entries(mapping.columns)) {
    const path = `${basePath}/columns/${pointer(column)}`;
    fieldOf(field, path);
    const earlier = mappedFrom.get(field);
    if (earlier !== undefined) problems.push({ path, message: `"${field}" is already mapped from column "${earlier}"` });
    mappedFrom.set(field, column);
  }
  for (const [field, value] of Object.entries(mapping.defaults ?? {})) {
    const path = `${basePath}/defaults/${pointer(field)}`;
    fieldOf(field, path);
    const problem = isKnownField(field) ? convert(field, String(value), mapping.options?.dateFormat as DateFormat | undefined).problem : undefined;
    if (problem) problems.push({ path, message: problem });
  }
  const fields = [...Object.values(mapping.columns), ...Object.keys(mapping.defaults ?? {})];
  if (!fields.some((field) => field.startsWith('identifier:'))) {
    problems.push({ path: `${basePath}/columns`, message: 'map at least one column to identifier:<id-type>: records are matched by identifier' });
  }
  if (problems.length > 0) throw AppError.validation(`The mapping is not valid: ${describe(problems)}`, problems);
  return mapping;
}

/** Without a mapping, every column whose header is a field name is mapped to that field. */
export function defaultMapping(headers: string[]): MappingDocument {
  return { columns: Object.fromEntries(headers.filter((header) => isKnownField(header.trim())).map((header) => [header, header.trim()])) };
}

export interface RowProblem { rowNumber: number; column: string | null; value: string | null; reason: string }

/** One row turned into a person, or refused by the mapping itself (then `problems` is non-empty). */
export interface MappedRow {
  rowNumber: number;
  person: BulkPerson;
  problems: RowProblem[];
  /** JSON path in the person → the column (and cell) it came from, to report the writer's problems by column. */
  sources: Map<string, { column: string | null; value: string }>;
  /** The household link's identifier, to keep a household's rows in one batch. */
  household?: string;
}

export interface RowMapper {
  /** `seen` is every identifier met so far in the file → its row, to refuse duplicates within the file. */
  map(rowNumber: number, record: Record<string, string>, seen: Map<string, number>): MappedRow;
}

type CustomKind = 'number' | 'boolean' | 'string';

/**
 * Compiles a mapping against the file's header row. Throws 400 when mapped columns are missing
 * from the file (nothing can be imported then), so the job fails at once instead of rejecting every row.
 */
export function createRowMapper(mapping: MappingDocument, headers: string[], customKinds: ReadonlyMap<string, CustomKind> = new Map()): RowMapper {
  const byNormalized = new Map(headers.map((header) => [normalizeHeader(header), header]));
  const missing = Object.keys(mapping.columns).filter((column) => !byNormalized.has(normalizeHeader(column)));
  if (missing.length > 0) {
    throw AppError.validation(`Mapped columns are not in the file: ${missing.join(', ')} (the file has: ${headers.join(', ')})`,
      missing.map((column) => ({ path: `/columns/${pointer(column)}`, message: 'is not a column of the file' })));
  }
  const columns = Object.entries(mapping.columns).map(([column, field]) => ({ header: byNormalized.get(normalizeHeader(column))!, field }));
  const defaults = Object.entries(mapping.defaults ?? {}).map(([field, value]) => ({ field, value: String(value) }));
  const dateFormat = mapping.options?.dateFormat as DateFormat | undefined;
  const columnOf = (field: string) => columns.find((column) => column.field === field)?.header ?? null;

  return {
    map(rowNumber, record, seen) {
      const problems: RowProblem[] = [];
      const sources = new Map<string, { column: string | null; value: string }>();
      const values = new Map<string, { value: unknown; column: string | null; raw: string }>();
      const take = (field: string, raw: string, column: string | null) => {
        const { value, problem } = convert(field, raw, dateFormat, customKinds.get(field.slice('custom:'.length)));
        if (problem) problems.push({ rowNumber, column, value: raw, reason: problem });
        else values.set(field, { value, column, raw });
      };
      for (const { header, field } of columns) {
        const raw = (record[header] ?? '').trim();
        if (raw !== '') take(field, raw, header);
      }
      // A default fills an empty cell, not one whose value was refused.
      for (const { field, value } of defaults) if (!values.has(field) && !problems.some((p) => p.column !== null && p.column === columnOf(field))) take(field, value, null);

      const individual: Record<string, unknown> = {};
      const name: Record<string, unknown> = {};
      individual.name = name;
      const set = (target: Record<string, unknown>, key: string, field: string, path: string) => {
        const entry = values.get(field);
        if (!entry) return;
        target[key] = entry.value;
        sources.set(path, { column: entry.column, value: entry.raw });
      };
      set(name, 'given', 'given_name', '/name/given');
      set(name, 'family', 'family_name', '/name/family');
      set(name, 'additional', 'additional_name', '/name/additional');
      set(name, 'display', 'display_name', '/name/display');
      set(individual, 'birthDate', 'birth_date', '/birthDate');
      set(individual, 'gender', 'gender', '/gender');
      set(individual, 'civilStatus', 'civil_status', '/civilStatus');
      set(individual, 'area', 'area', '/area');
      set(individual, 'email', 'email', '/email');
      set(individual, 'sourceSystem', 'source_system', '/sourceSystem');

      const phones = ['phone', 'phone2'].map((field) => values.get(field)).filter((entry) => entry !== undefined);
      if (phones.length > 0) {
        individual.phones = phones.map((entry) => ({ value: entry.value }));
        phones.forEach((entry, index) => sources.set(`/phones/${index}`, { column: entry.column, value: entry.raw }));
      }
      const hasDisability = values.get('has_disability');
      const types = values.get('disability_types');
      if (hasDisability || types) {
        const typeList = (types?.value as string[] | undefined) ?? [];
        individual.disability = { hasDisability: (hasDisability?.value as boolean | undefined) ?? typeList.length > 0, ...(types ? { types: typeList } : {}) };
        if (hasDisability) sources.set('/disability/hasDisability', { column: hasDisability.column, value: hasDisability.raw });
        if (types) sources.set('/disability/types', { column: types.column, value: types.raw });
      }
      const monthly = values.get('monthly_income');
      const currency = values.get('income_currency');
      if (monthly) { // a currency alone (e.g. a default) says nothing
        individual.income = { monthly: monthly.value, ...(currency ? { currency: currency.value } : {}) };
        sources.set('/income/monthly', { column: monthly.column, value: monthly.raw });
        if (currency) sources.set('/income/currency', { column: currency.column, value: currency.raw });
      }

      const identifiers: Array<{ type: string; value: string }> = [];
      const custom: Record<string, unknown> = {};
      for (const [field, entry] of values) {
        if (field.startsWith('identifier:')) {
          const type = field.slice('identifier:'.length);
          const key = `${type}|${entry.value as string}`;
          const earlier = seen.get(key);
          if (earlier !== undefined && earlier !== rowNumber) {
            problems.push({ rowNumber, column: entry.column, value: entry.raw, reason: `${type} ${entry.raw} is also given in row ${earlier}` });
          } else {
            seen.set(key, rowNumber);
          }
          sources.set(`/identifiers/${identifiers.length}`, { column: entry.column, value: entry.raw });
          identifiers.push({ type, value: entry.value as string });
        } else if (field.startsWith('custom:')) {
          const customName = field.slice('custom:'.length);
          custom[customName] = entry.value;
          sources.set(`/custom/${customName}`, { column: entry.column, value: entry.raw });
        }
      }
      if (identifiers.length > 0) individual.identifiers = identifiers;
      if (Object.keys(custom).length > 0) individual.custom = custom;

      const person: BulkPerson = { key: rowNumber, individual };
      const householdId = values.get('household_id');
      let household: string | undefined;
      if (householdId) {
        household = householdId.value as string;
        const role = values.get('household_role');
        const householdName = values.get('household_name');
        sources.set('/household/identifier', { column: householdId.column, value: householdId.raw });
        if (role) sources.set('/household/role', { column: role.column, value: role.raw });
        if (householdName) sources.set('/household/name', { column: householdName.column, value: householdName.raw });
        if (!role) problems.push({ rowNumber, column: columnOf('household_role'), value: null, reason: 'a household member needs a household_role (e.g. head, spouse, child)' });
        else person.household = { identifier: { type: HOUSEHOLD_ID_TYPE, value: household }, role: role.value as string, ...(householdName ? { name: householdName.value as string } : {}) };
      }
      return { rowNumber, person, problems, sources, household };
    },
  };
}

/**
 * The column (and cell) a problem path of the bulk writer points at: the closest source path.
 * `exact` is false when the path names something no column fed (e.g. /income/currency missing).
 */
export function sourceOf(row: MappedRow, path: string, message: string): { column: string | null; value: string | null; exact: boolean } {
  const direct = row.sources.get(path);
  if (direct) return { ...direct, exact: true };
  for (let prefix = path.slice(0, path.lastIndexOf('/')); prefix.length > 0; prefix = prefix.slice(0, prefix.lastIndexOf('/'))) {
    const source = row.sources.get(prefix);
    if (source) return { ...source, exact: prefix.split('/').length >= 3 }; // /identifiers/0/value is the identifier's cell
  }
  // A path above the sources (e.g. /identifiers, /name): the one the message names, else the first.
  const below = [...row.sources.entries()].filter(([key]) => key.startsWith(`${path}/`)).map(([, source]) => source);
  const source = below.find((candidate) => candidate.value !== '' && message.includes(candidate.value)) ?? below[0];
  return source ? { ...source, exact: false } : { column: null, value: null, exact: false };
}

const GENDER_WORDS: Record<string, string> = { m: '1', male: '1', f: '2', female: '2' };
const BOOLEAN_WORDS: Record<string, boolean> = { true: true, yes: true, y: true, 1: true, false: false, no: false, n: false, 0: false };
const NUMBER = /^-?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$/;

/** One cell to one field value, or why it cannot be. Codes are left to the registry's own checks. */
function convert(field: string, raw: string, dateFormat: DateFormat = 'YYYY-MM-DD', customKind?: CustomKind): { value?: unknown; problem?: string } {
  switch (field) {
    case 'birth_date': return parseDate(raw, dateFormat);
    case 'gender': return { value: GENDER_WORDS[raw.toLowerCase()] ?? raw };
    case 'has_disability': {
      const value = BOOLEAN_WORDS[raw.toLowerCase()];
      return value === undefined ? { problem: 'is not one of true/false, yes/no, 1/0' } : { value };
    }
    case 'disability_types': return { value: raw.split(';').map((type) => type.trim()).filter(Boolean) };
    case 'monthly_income': return NUMBER.test(raw.replace(/\s/g, '')) ? { value: Number(raw.replace(/[\s,]/g, '')) } : { problem: 'is not a number' };
    case 'income_currency': return { value: raw.toUpperCase() };
    default:
      if (field.startsWith('custom:') && customKind === 'number') return NUMBER.test(raw) ? { value: Number(raw.replace(/,/g, '')) } : { problem: 'is not a number' };
      if (field.startsWith('custom:') && customKind === 'boolean') {
        const value = BOOLEAN_WORDS[raw.toLowerCase()];
        return value === undefined ? { problem: 'is not one of true/false, yes/no, 1/0' } : { value };
      }
      return { value: raw };
  }
}

const DATE_PATTERNS: Record<DateFormat, { pattern: RegExp; order: [number, number, number] }> = {
  'YYYY-MM-DD': { pattern: /^(\d{4})-(\d{1,2})-(\d{1,2})$/, order: [1, 2, 3] },
  'DD/MM/YYYY': { pattern: /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/, order: [3, 2, 1] },
  'MM/DD/YYYY': { pattern: /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/, order: [3, 1, 2] },
};

/** The file's format, or ISO (which spreadsheets' date cells become), to YYYY-MM-DD; impossible dates refused. */
function parseDate(raw: string, format: DateFormat): { value?: string; problem?: string } {
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(T[\d:.]+Z?)?$/.exec(raw);
  const { pattern, order } = DATE_PATTERNS[format];
  const match = iso ? [iso[0], iso[1], iso[2], iso[3]] : pattern.exec(raw);
  if (!match) return { problem: `is not a date in the format ${format}` };
  const [year, month, day] = (iso ? [1, 2, 3] : order).map((index) => Number(match[index]));
  const date = new Date(Date.UTC(year!, month! - 1, day!));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day) return { problem: 'is not a real calendar date' };
  return { value: date.toISOString().slice(0, 10) };
}

export const normalizeHeader = (header: string) => header.trim().toLowerCase();
const pointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
const describe = (problems: FieldProblem[]) => problems.map((problem) => `${problem.path} ${problem.message}`).join('; ');
