// Turning the search form into API query parameters (kept apart so it is unit-tested).

export interface SearchForm {
  kind: 'individual' | 'group';
  name: string;
  identifier: string;
  phone: string;
  area: string;
  gender: string;
  ageFrom: string;
  ageTo: string;
  groupType: string;
}

export const emptySearch: SearchForm = { kind: 'individual', name: '', identifier: '', phone: '', area: '', gender: '', ageFrom: '', ageTo: '', groupType: '' };

/** Search first: at least one of these narrows the search, so nobody lists the whole registry. */
export function hasCriteria(form: SearchForm): boolean {
  return [form.name, form.identifier, form.phone, form.area].some((value) => value.trim() !== '');
}

function isoDate(date: Date): string {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

function yearsBefore(today: Date, years: number): Date {
  return new Date(today.getFullYear() - years, today.getMonth(), today.getDate());
}

/**
 * An age range as birth-date bounds: aged at least A = born on or before today minus A years; aged
 * at most B = born after today minus B+1 years.
 */
export function birthdateBounds(ageFrom: string, ageTo: string, today = new Date()): string[] {
  const bounds: string[] = [];
  if (ageFrom.trim() !== '') bounds.push(`le${isoDate(yearsBefore(today, Number(ageFrom)))}`);
  if (ageTo.trim() !== '') bounds.push(`gt${isoDate(yearsBefore(today, Number(ageTo) + 1))}`);
  return bounds;
}

/** The query of GET /api/v2/Individual or /api/v2/Group for a form (empty fields left out). */
export function toQuery(form: SearchForm, cursor?: string, today = new Date()): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = { _count: '20', _total: 'accurate', active: 'true' };
  const put = (name: string, value: string) => { if (value.trim() !== '') query[name] = value.trim(); };
  put('name', form.name);
  put('identifier', form.identifier);
  put('area', form.area);
  if (form.kind === 'individual') {
    put('phone', form.phone);
    put('gender', form.gender);
    const bounds = birthdateBounds(form.ageFrom, form.ageTo, today);
    if (bounds.length > 0) query.birthdate = bounds;
  } else {
    put('groupType', form.groupType);
  }
  if (cursor) query._cursor = cursor;
  return query;
}

/** Local checks before asking the API (which checks the rest and names the fields at fault). */
export function checkSearch(form: SearchForm): Partial<Record<keyof SearchForm, 'error.ageRange'>> {
  if (form.ageFrom !== '' && form.ageTo !== '' && Number(form.ageFrom) > Number(form.ageTo)) return { ageTo: 'error.ageRange' };
  return {};
}

export function formFromParams(params: URLSearchParams): SearchForm {
  const form = { ...emptySearch };
  for (const key of Object.keys(emptySearch) as Array<keyof SearchForm>) {
    const value = params.get(key);
    if (value !== null) (form as Record<string, string>)[key] = value;
  }
  if (form.kind !== 'group') form.kind = 'individual';
  return form;
}

export function paramsFromForm(form: SearchForm): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) if (value !== '' && !(key === 'kind' && value === 'individual')) params.set(key, value);
  return params;
}

/** The `_cursor` of a `links.next` URL. */
export function cursorOf(link: string | undefined): string | undefined {
  if (!link) return undefined;
  return new URL(link, 'http://x').searchParams.get('_cursor') ?? undefined;
}
