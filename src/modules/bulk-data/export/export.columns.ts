import type { GroupView, IndividualView } from '../../registry/registry.views.js';

/**
 * An individual as exported: the view plus the households it is an active member of. Any field but
 * `id` may be missing (withheld by the consent filter): its cells are then empty.
 */
export type ExportedIndividual = Partial<IndividualView> & { id: string; households: string[] };
type ExportedGroup = Partial<GroupView> & { id: string };

type Column<T> = readonly [header: string, value: (view: T) => string];

// Values are formatted here rather than by csv-stringify, which would write booleans as 1/"".
const text = (value: string | number | null | undefined): string => (value === null || value === undefined ? '' : String(value));
const bool = (value: boolean | null | undefined): string => (value === null || value === undefined ? '' : String(value));
// Only live identifiers: an invalidated one is history, not a way to find the person.
const identifiersOf = (view: Partial<IndividualView | GroupView>): string =>
  (view.identifiers ?? []).filter((identifier) => identifier.isValid).map((identifier) => `${identifier.type}|${identifier.value}`).join(';');
// Phones are stored in E.164 already (normalised on write).
const firstPhone = (view: Partial<IndividualView | GroupView>): string => text((view.phones?.[0] as { value?: string } | undefined)?.value);

export const individualColumns: ReadonlyArray<Column<ExportedIndividual>> = [
  ['id', (v) => v.id],
  ['given_name', (v) => text(v.name?.given)],
  ['family_name', (v) => text(v.name?.family)],
  ['additional_name', (v) => text(v.name?.additional)],
  ['display_name', (v) => text(v.name?.display)],
  ['birth_date', (v) => text(v.birthDate)],
  ['gender', (v) => text(v.gender)],
  ['civil_status', (v) => text(v.civilStatus)],
  ['area', (v) => text(v.area)],
  ['phones', firstPhone],
  ['email', (v) => text(v.email)],
  ['has_disability', (v) => bool(v.disability?.hasDisability)],
  ['disability_types', (v) => (v.disability?.types ?? []).join(';')],
  ['monthly_income', (v) => text(v.income?.monthly)],
  ['income_currency', (v) => text(v.income?.currency)],
  ['identifiers', identifiersOf],
  ['households', (v) => v.households.join(';')],
  ['is_active', (v) => bool(v.isActive)],
  ['version', (v) => text(v.version)],
  ['updated_at', (v) => text(v.updatedAt)],
];

export const groupColumns: ReadonlyArray<Column<ExportedGroup>> = [
  ['id', (v) => v.id],
  ['group_type', (v) => text(v.groupType)],
  ['name', (v) => text(v.name)],
  ['area', (v) => text(v.area)],
  ['size', (v) => text(v.size)],
  ['head', (v) => text(v.head)],
  ['identifiers', identifiersOf],
  ['is_active', (v) => bool(v.isActive)],
  ['version', (v) => text(v.version)],
  ['updated_at', (v) => text(v.updatedAt)],
];

export const headersOf = <T>(columns: ReadonlyArray<Column<T>>): string[] => columns.map(([header]) => header);
export const recordOf = <T>(columns: ReadonlyArray<Column<T>>, view: T): string[] => columns.map(([, value]) => value(view));
