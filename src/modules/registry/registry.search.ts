import { and, asc, desc, eq, exists, gt, gte, inArray, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Db, Queryable } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import type { RegistrantRow } from './registry.repository.js';
import { identifiers, memberships, registrants, type RegistrantKind } from './registry.tables.js';
import { groupView, individualView, type GroupView, type IndividualView, type ViewContext } from './registry.views.js';
import { normalizeForSearch } from './registrant-input.js';
import type { AreaLookup, CodeLookup } from './registry.service.js';

export interface SearchPage<T> {
  resourceType: 'SearchResult';
  total?: number;
  count: number;
  items: T[];
  links: { self: string; next?: string };
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 100;

interface SortKey { name: string; expression: SQL; cast: 'text' | 'date' | 'timestamptz'; descending: boolean }

const sortable: Record<string, { expression: SQL; cast: SortKey['cast'] }> = {
  name: { expression: sql`${registrants.displayName}`, cast: 'text' },
  birthdate: { expression: sql`coalesce(${registrants.birthDate}, '0001-01-01'::date)`, cast: 'date' },
  _lastUpdated: { expression: sql`${registrants.updatedAt}`, cast: 'timestamptz' },
  _created: { expression: sql`${registrants.createdAt}`, cast: 'timestamptz' },
};

const comparators = { eq, ne, lt, le: lte, gt, ge: gte } as const;
type Prefix = keyof typeof comparators;

/**
 * FHIR-like search over registrants: every parameter narrows the result, unknown or malformed
 * ones are refused (never a silently wider result), paging is by keyset cursor so deep pages stay
 * as fast as the first.
 */
export class RegistrySearch {
  constructor(
    private readonly db: Db,
    private readonly codes: CodeLookup,
    private readonly areas: AreaLookup,
    private readonly viewContext: (rows: RegistrantRow[]) => Promise<ViewContext>,
  ) {}

  async run(kind: RegistrantKind, query: Record<string, unknown>, baseUrl: string): Promise<SearchPage<IndividualView | GroupView>> {
    const conditions = await this.conditions(kind, query);
    const sortKeys = parseSort(kind, single(query, '_sort'));
    const count = parseCount(single(query, '_count'));
    const cursor = single(query, '_cursor');
    const sortSignature = sortKeys.map((key) => `${key.descending ? '-' : ''}${key.name}`).join(',');
    const pageConditions = cursor ? [...conditions, keysetCondition(sortKeys, decodeCursor(cursor, sortSignature))] : conditions;

    const selectedKeys = Object.fromEntries(sortKeys.map((key, index) => [`k${index}`, sql<string>`(${key.expression})::text`]));
    const rows = await this.db.select({ row: registrants, ...selectedKeys }).from(registrants)
      .where(and(...pageConditions))
      .orderBy(...sortKeys.map((key) => (key.descending ? desc(key.expression) : asc(key.expression))), asc(registrants.id))
      .limit(count + 1);
    const pageRows = rows.slice(0, count);
    const registrantRows = pageRows.map((r) => r.row);

    let total: number | undefined;
    const totalMode = single(query, '_total');
    if (totalMode !== undefined && totalMode !== 'accurate' && totalMode !== 'none') throw unknownParameter('_total', 'must be "accurate" or "none"');
    if (totalMode === 'accurate') {
      const [counted] = await this.db.select({ count: sql<number>`count(*)::int` }).from(registrants).where(and(...conditions));
      total = Number(counted?.count ?? 0);
    }

    const context = await this.viewContext(registrantRows);
    const items = kind === 'individual'
      ? registrantRows.map((row) => individualView(row, context))
      : await this.groupViews(registrantRows, context);

    const links: SearchPage<unknown>['links'] = { self: withCursor(baseUrl, query, cursor) };
    const last = rows.length > count ? pageRows[pageRows.length - 1] : undefined;
    if (last) {
      const values = sortKeys.map((_key, index) => (last as Record<string, unknown>)[`k${index}`] as string);
      links.next = withCursor(baseUrl, query, encodeCursor(sortSignature, values, last.row.id));
    }
    return { resourceType: 'SearchResult', ...(total !== undefined ? { total } : {}), count: items.length, items, links };
  }

  private async groupViews(rows: RegistrantRow[], context: ViewContext): Promise<GroupView[]> {
    if (rows.length === 0) return [];
    const memberRows = await this.db.select({ groupId: memberships.groupId, role: memberships.role, individualUuid: registrants.uuid })
      .from(memberships).innerJoin(registrants, eq(registrants.id, memberships.individualId))
      .where(and(inArray(memberships.groupId, rows.map((row) => row.id)), eq(memberships.isActive, true)));
    return rows.map((row) => {
      const members = memberRows.filter((m) => m.groupId === row.id);
      return groupView(row, context, { size: members.length, head: members.find((m) => m.role === 'head')?.individualUuid ?? null });
    });
  }

  private async conditions(kind: RegistrantKind, query: Record<string, unknown>): Promise<SQL[]> {
    const conditions: SQL[] = [eq(registrants.kind, kind)];
    const name = single(query, 'name');
    if (name !== undefined) {
      const normalized = normalizeForSearch(name);
      if (!normalized) throw unknownParameter('name', 'must not be empty');
      conditions.push(sql`${registrants.nameSearch} like ${`%${escapeLike(normalized)}%`}`);
    }
    const identifier = single(query, 'identifier');
    if (identifier !== undefined) conditions.push(await this.identifierCondition(identifier));
    const area = single(query, 'area');
    if (area !== undefined) {
      const ids = await this.areas.subtreeAreaIds(area);
      if (!ids) throw unknownParameter('area', `"${area}" is not an area code`);
      conditions.push(inArray(registrants.areaId, ids));
    }
    const active = single(query, 'active');
    if (active !== undefined) {
      if (active !== 'true' && active !== 'false') throw unknownParameter('active', 'must be true or false');
      conditions.push(eq(registrants.isActive, active === 'true'));
    }
    for (const value of many(query, '_lastUpdated')) conditions.push(prefixCondition('_lastUpdated', value, registrants.updatedAt, 'timestamptz'));
    if (kind === 'individual') {
      for (const value of many(query, 'birthdate')) conditions.push(prefixCondition('birthdate', value, registrants.birthDate, 'date'));
      const gender = single(query, 'gender');
      if (gender !== undefined) {
        await this.codes.assertCodes([{ vocabulary: 'gender', code: gender, path: 'query:gender' }]).catch(() => { throw unknownParameter('gender', `"${gender}" is not a gender code`); });
        conditions.push(eq(registrants.gender, gender));
      }
      const group = single(query, 'group');
      if (group !== undefined) {
        const groupId = await this.registrantIdOf(group, 'group');
        conditions.push(exists(this.db.select({ one: sql`1` }).from(memberships).where(and(eq(memberships.individualId, registrants.id), eq(memberships.groupId, groupId), eq(memberships.isActive, true)))));
      }
    } else {
      const groupType = single(query, 'groupType');
      if (groupType !== undefined) conditions.push(eq(registrants.groupType, groupType));
      const member = single(query, 'member');
      if (member !== undefined) {
        const individualId = await this.registrantIdOf(member, 'individual');
        conditions.push(exists(this.db.select({ one: sql`1` }).from(memberships).where(and(eq(memberships.groupId, registrants.id), eq(memberships.individualId, individualId), eq(memberships.isActive, true)))));
      }
    }
    return conditions;
  }

  private async identifierCondition(value: string): Promise<SQL> {
    const separator = value.indexOf('|');
    if (separator <= 0 || separator === value.length - 1) throw unknownParameter('identifier', 'must be system|value, e.g. national-id|AB1234567');
    const idType = await this.codes.findIdType(value.slice(0, separator));
    if (!idType) throw unknownParameter('identifier', `"${value.slice(0, separator)}" is not a known identifier type or system`);
    return exists(this.db.select({ one: sql`1` }).from(identifiers).where(and(
      eq(identifiers.registrantId, registrants.id), eq(identifiers.idType, idType.code), eq(identifiers.value, value.slice(separator + 1)), eq(identifiers.isValid, true),
    )));
  }

  /** A referenced registrant that does not exist matches nothing (id -1), rather than failing the search. */
  private async registrantIdOf(uuid: string, kind: RegistrantKind): Promise<number> {
    if (!/^[0-9a-f-]{36}$/i.test(uuid)) throw unknownParameter(kind === 'group' ? 'group' : 'member', 'must be a UUID');
    const [row] = await (this.db as Queryable).select({ id: registrants.id }).from(registrants).where(and(eq(registrants.uuid, uuid.toLowerCase()), eq(registrants.kind, kind)));
    return row?.id ?? -1;
  }
}

function unknownParameter(name: string, message: string): AppError {
  return new AppError('unknown_parameter', `Search parameter ${name} ${message}`, [{ path: `query:${name}`, message }]);
}

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length !== 1) throw unknownParameter(name, 'may be given only once');
    return String(value[0]);
  }
  return String(value);
}

function many(query: Record<string, unknown>, name: string): string[] {
  const value = query[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function prefixCondition(name: string, value: string, column: typeof registrants.birthDate | typeof registrants.updatedAt, type: 'date' | 'timestamptz'): SQL {
  const match = /^(eq|ne|lt|le|gt|ge)?(.+)$/.exec(value);
  const prefix = (match?.[1] ?? 'eq') as Prefix;
  const operand = match?.[2] ?? '';
  const valid = type === 'date' ? isCalendarDate(operand) : !Number.isNaN(Date.parse(operand)) && /^\d{4}-\d{2}-\d{2}/.test(operand);
  if (!valid) throw unknownParameter(name, `"${value}" must be [eq|ne|lt|le|gt|ge]${type === 'date' ? 'YYYY-MM-DD' : 'an ISO 8601 date-time'}`);
  const operandSql = type === 'date' ? sql`${operand}::date` : sql`${operand}::timestamptz`;
  return comparators[prefix](column, operandSql);
}

function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

function parseCount(value: string | undefined): number {
  if (value === undefined) return DEFAULT_COUNT;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) throw unknownParameter('_count', `must be an integer from 1 to ${MAX_COUNT}`);
  return count;
}

function parseSort(kind: RegistrantKind, value: string | undefined): SortKey[] {
  if (value === undefined || value === '') return [];
  return value.split(',').map((part) => {
    const descending = part.startsWith('-');
    const name = descending ? part.slice(1) : part;
    const key = sortable[name];
    if (!key || (kind === 'group' && name === 'birthdate')) throw unknownParameter('_sort', `cannot sort by "${name}"; use ${Object.keys(sortable).filter((k) => kind === 'individual' || k !== 'birthdate').join(', ')} (prefix - for descending)`);
    return { name, descending, ...key };
  });
}

/** Rows strictly after the cursor in the (sort keys…, id) order, with mixed directions. */
function keysetCondition(keys: SortKey[], cursor: { values: string[]; id: number }): SQL {
  const alternatives: SQL[] = [];
  for (let index = 0; index <= keys.length; index += 1) {
    const equalities = keys.slice(0, index).map((key, i) => sql`${key.expression} = ${cursor.values[i]}::${sql.raw(key.cast)}`);
    const key = keys[index];
    const step = key
      ? (key.descending ? sql`${key.expression} < ${cursor.values[index]}::${sql.raw(key.cast)}` : sql`${key.expression} > ${cursor.values[index]}::${sql.raw(key.cast)}`)
      : sql`${registrants.id} > ${cursor.id}`;
    alternatives.push(and(...equalities, step)!);
  }
  return or(...alternatives)!;
}

function encodeCursor(signature: string, values: string[], id: number): string {
  return Buffer.from(JSON.stringify({ s: signature, v: values, i: id })).toString('base64url');
}

function decodeCursor(cursor: string, signature: string): { values: string[]; id: number } {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s: string; v: string[]; i: number };
    if (decoded.s !== signature || !Array.isArray(decoded.v) || !Number.isInteger(decoded.i)) throw new Error('mismatch');
    return { values: decoded.v.map(String), id: decoded.i };
  } catch {
    throw unknownParameter('_cursor', 'is not a cursor from a previous page of this search (keep _sort unchanged while paging)');
  }
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}

function withCursor(baseUrl: string, query: Record<string, unknown>, cursor: string | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (name === '_cursor' || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  if (cursor) params.append('_cursor', cursor);
  const text = params.toString();
  return text ? `${baseUrl}?${text}` : baseUrl;
}
