import { and, asc, desc, eq, exists, gt, gte, inArray, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db, Queryable } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { pageLink } from '../../platform/http/page-links.js';
import { identifierValueIs, type RegistrantRow } from './registry.repository.js';
import type { RegistryEncryption } from './registry.encryption.js';
import { identifiers, memberships, registrants, type RegistrantKind } from './registry.tables.js';
import { groupView, individualView, type GroupView, type IndividualView, type ViewContext } from './registry.views.js';
import { normalizeForSearch, normalizePhones } from './registrant-input.js';
import type { AreaLookup, CodeLookup } from './registry.service.js';
import type { Actor } from '../../platform/auth/access-tokens.js';
import { areaCondition, isVisible, readPermission, type AllowedAreas, type RegistryAccess } from './registry-access.js';

export interface SearchPage<T> {
  resourceType: 'SearchResult';
  total?: number;
  count: number;
  items: T[];
  links: { self: string; next?: string };
}

/**
 * Extra conditions (or a refusal, by throwing) for an actor's search criteria: e.g. a client
 * processing under consent matches only registrants whose consents release the fields searched on.
 */
export type SearchCriteriaGuard = (actor: Actor, query: Record<string, unknown>) => SQL | undefined;

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 100;

/** Every match of a search, for exports: a count and the matches page by page. */
export interface SearchMatches<T> {
  count(): Promise<number>;
  pages(pageSize?: number): AsyncGenerator<T[]>;
}

// They shape one page of results; "every match" has no pages, so they are refused rather than ignored.
const PAGING_PARAMETERS = ['_count', '_cursor', '_sort', '_total'];

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
 * as fast as the first. An actor limited to areas finds only registrants inside them (one more
 * condition, so pages, cursors, `_total` and exports all agree).
 */
export class RegistrySearch {
  constructor(
    private readonly db: Db,
    private readonly codes: CodeLookup,
    private readonly areas: AreaLookup,
    private readonly viewContext: (rows: RegistrantRow[]) => Promise<ViewContext>,
    private readonly access: RegistryAccess,
    /** Identifier and phone conditions match blind indexes (registry.encryption.ts). */
    private readonly storage: { encryption: RegistryEncryption; defaultPhoneRegion?: string | undefined; criteriaGuard?: SearchCriteriaGuard | undefined },
  ) {}

  async run(actor: Actor, kind: RegistrantKind, query: Record<string, unknown>, baseUrl: string): Promise<SearchPage<IndividualView | GroupView>> {
    const allowed = await this.access.allowedAreaIds(actor, readPermission(kind));
    const conditions = await this.conditions(actor, kind, query, allowed);
    const sortKeys = parseSort(kind, single(query, '_sort'));
    const count = parseCount(single(query, '_count'));
    const cursor = single(query, '_cursor');
    const sortSignature = sortKeys.map((key) => `${key.descending ? '-' : ''}${key.name}`).join(',');
    const pageConditions = cursor ? [...conditions, keysetCondition(sortKeys, decodeCursor(cursor, sortKeys, sortSignature))] : conditions;

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
      : await this.groupViews(registrantRows, context, allowed);

    const links: SearchPage<unknown>['links'] = { self: pageLink(baseUrl, query, cursor) };
    const last = rows.length > count ? pageRows[pageRows.length - 1] : undefined;
    if (last) {
      const values = sortKeys.map((_key, index) => (last as Record<string, unknown>)[`k${index}`] as string);
      links.next = pageLink(baseUrl, query, encodeCursor(sortSignature, values, last.row.id));
    }
    return { resourceType: 'SearchResult', ...(total !== undefined ? { total } : {}), count: items.length, items, links };
  }

  /**
   * Every match of a search (exports). Validates like `run` when called, so a bad parameter fails
   * before any work is queued; then reads in id order by keyset, so the last page is as fast as the
   * first. Not one snapshot: a record changed during the read shows its state when its page is read.
   */
  async matches(actor: Actor, kind: 'individual', query: Record<string, unknown>): Promise<SearchMatches<IndividualView>>;
  async matches(actor: Actor, kind: 'group', query: Record<string, unknown>): Promise<SearchMatches<GroupView>>;
  async matches(actor: Actor, kind: RegistrantKind, query: Record<string, unknown>): Promise<SearchMatches<IndividualView | GroupView>>;
  async matches(actor: Actor, kind: RegistrantKind, query: Record<string, unknown>): Promise<SearchMatches<IndividualView | GroupView>> {
    for (const name of PAGING_PARAMETERS) {
      if (query[name] !== undefined) throw unknownParameter(name, 'is not allowed here: every match is returned');
    }
    const allowed = await this.access.allowedAreaIds(actor, readPermission(kind));
    const conditions = await this.conditions(actor, kind, query, allowed);
    const search = this;
    return {
      count: async () => {
        const [counted] = await this.db.select({ count: sql<number>`count(*)::int` }).from(registrants).where(and(...conditions));
        return Number(counted?.count ?? 0);
      },
      async *pages(pageSize = 1000) {
        for (let afterId = 0; ;) {
          const rows = await search.db.select().from(registrants)
            .where(and(...conditions, gt(registrants.id, afterId))).orderBy(asc(registrants.id)).limit(pageSize);
          if (rows.length === 0) return;
          const context = await search.viewContext(rows);
          yield kind === 'individual' ? rows.map((row) => individualView(row, context)) : await search.groupViews(rows, context, allowed);
          if (rows.length < pageSize) return;
          afterId = rows[rows.length - 1]!.id;
        }
      },
    };
  }

  /**
   * Households (groups of type household) each individual is an active member of, for a page of
   * individuals, in one query (one array parameter rather than one per person). Households outside
   * the actor's areas (for reading individuals, whose list this is) are left out.
   */
  async householdsOf(actor: Actor, individualUuids: string[]): Promise<Map<string, string[]>> {
    const byIndividual = new Map<string, string[]>();
    if (individualUuids.length === 0) return byIndividual;
    const person = alias(registrants, 'person');
    const rows = await this.db.select({ individual: person.uuid, household: registrants.uuid }).from(memberships)
      .innerJoin(person, eq(person.id, memberships.individualId))
      .innerJoin(registrants, eq(registrants.id, memberships.groupId))
      .where(and(
        sql`${person.uuid} = any(${`{${individualUuids.join(',')}}`}::uuid[])`, eq(memberships.isActive, true), eq(registrants.groupType, 'household'),
        areaCondition(await this.access.allowedAreaIds(actor, 'individual:read')),
      ))
      .orderBy(asc(memberships.id));
    for (const row of rows) byIndividual.set(row.individual, [...(byIndividual.get(row.individual) ?? []), row.household]);
    return byIndividual;
  }

  /** `size` counts every member; `head` is null when the head lies outside the reader's areas. */
  private async groupViews(rows: RegistrantRow[], context: ViewContext, allowed: AllowedAreas): Promise<GroupView[]> {
    if (rows.length === 0) return [];
    const memberRows = await this.db.select({ groupId: memberships.groupId, role: memberships.role, individualUuid: registrants.uuid, areaId: registrants.areaId })
      .from(memberships).innerJoin(registrants, eq(registrants.id, memberships.individualId))
      .where(and(inArray(memberships.groupId, rows.map((row) => row.id)), eq(memberships.isActive, true)));
    const membersByGroup = new Map<number, typeof memberRows>();
    for (const member of memberRows) membersByGroup.set(member.groupId, [...(membersByGroup.get(member.groupId) ?? []), member]);
    return rows.map((row) => {
      const members = membersByGroup.get(row.id) ?? [];
      const head = members.find((m) => m.role === 'head');
      return groupView(row, context, { size: members.length, head: head && isVisible(head, allowed) ? head.individualUuid : null });
    });
  }

  private async conditions(actor: Actor, kind: RegistrantKind, query: Record<string, unknown>, allowed: AllowedAreas): Promise<SQL[]> {
    const conditions: SQL[] = [eq(registrants.kind, kind)];
    const inAllowedAreas = areaCondition(allowed);
    if (inAllowedAreas) conditions.push(inAllowedAreas);
    const guarded = this.storage.criteriaGuard?.(actor, query);
    if (guarded) conditions.push(guarded);
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
    for (const value of many(query, '_lastUpdated')) conditions.push(instantCondition('_lastUpdated', value, registrants.updatedAt));
    if (kind === 'individual') {
      const phone = single(query, 'phone');
      if (phone !== undefined) conditions.push(this.phoneCondition(phone));
      for (const value of many(query, 'birthdate')) conditions.push(prefixCondition('birthdate', value, registrants.birthDate, 'date'));
      const gender = single(query, 'gender');
      if (gender !== undefined) {
        await this.codes.assertCodes([{ vocabulary: 'gender', code: gender, path: 'query:/gender' }]).catch(() => { throw unknownParameter('gender', `"${gender}" is not a gender code`); });
        conditions.push(eq(registrants.gender, gender));
      }
      const group = single(query, 'group');
      if (group !== undefined) {
        const groupId = await this.registrantIdOf(actor, group, 'group');
        conditions.push(exists(this.db.select({ one: sql`1` }).from(memberships).where(and(eq(memberships.individualId, registrants.id), eq(memberships.groupId, groupId), eq(memberships.isActive, true)))));
      }
    } else {
      const groupType = single(query, 'groupType');
      if (groupType !== undefined) {
        await this.codes.assertCodes([{ vocabulary: 'group-type', code: groupType, path: 'query:/groupType' }]).catch(() => { throw unknownParameter('groupType', `"${groupType}" is not a group-type code`); });
        conditions.push(eq(registrants.groupType, groupType));
      }
      const member = single(query, 'member');
      if (member !== undefined) {
        const individualId = await this.registrantIdOf(actor, member, 'individual');
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
      eq(identifiers.registrantId, registrants.id), eq(identifiers.idType, idType.code),
      identifierValueIs(idType.code, value.slice(separator + 1), this.storage.encryption), eq(identifiers.isValid, true),
    )));
  }

  /** Exact match on a phone number, normalised to E.164 as stored, through its blind index. */
  private phoneCondition(value: string): SQL {
    let e164: string;
    try {
      [{ value: e164 }] = normalizePhones([{ value }], this.storage.defaultPhoneRegion, 'query:/phone') as [{ value: string }];
    } catch {
      throw unknownParameter('phone', this.storage.defaultPhoneRegion ? 'is not a valid phone number' : 'is not a valid phone number in international format (+country code)');
    }
    // Overlap with every active index key's index (more than one while the index key is rotated).
    return sql`${registrants.phoneIndexes} && ${`{${this.storage.encryption.phoneIndexes(e164).join(',')}}`}::text[]`;
  }

  /**
   * A referenced registrant that does not exist matches nothing (id -1), rather than failing the
   * search; so does one outside the actor's areas, as if it did not exist.
   */
  private async registrantIdOf(actor: Actor, uuid: string, kind: RegistrantKind): Promise<number> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) throw unknownParameter(kind === 'group' ? 'group' : 'member', 'must be a UUID');
    const [row] = await (this.db as Queryable).select({ id: registrants.id, areaId: registrants.areaId }).from(registrants).where(and(eq(registrants.uuid, uuid.toLowerCase()), eq(registrants.kind, kind)));
    return row && isVisible(row, await this.access.allowedAreaIds(actor, readPermission(kind))) ? row.id : -1;
  }
}

function unknownParameter(name: string, message: string): AppError {
  return new AppError('unknown_parameter', `Search parameter ${name} ${message}`, [{ path: `query:/${name}`, message }]);
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

function prefixCondition(name: string, value: string, column: typeof registrants.birthDate, type: 'date'): SQL {
  const match = /^(eq|ne|lt|le|gt|ge)?(.+)$/.exec(value);
  const prefix = (match?.[1] ?? 'eq') as Prefix;
  const operand = match?.[2] ?? '';
  if (!isCalendarDate(operand)) throw unknownParameter(name, `"${value}" must be [eq|ne|lt|le|gt|ge]YYYY-MM-DD`);
  return comparators[prefix](column, sql`${operand}::${sql.raw(type)}`);
}

// YYYY-MM-DD, optionally with THH:MM[:SS[.ffffff]] and a zone (Z or ±HH:MM; a "+" left unencoded in the URL arrives as a space).
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * A point-in-time parameter (`_lastUpdated`) is compared at the precision it is written with, as in
 * FHIR: `2024-05-01` stands for the whole day, `…T10:00:00.123Z` for that millisecond. So a value
 * copied from a record's `updatedAt` (milliseconds) finds that record with `eq`, and `gt` does not
 * find it again, although the column holds microseconds. The range keeps the column indexable.
 */
function instantCondition(name: string, value: string, column: typeof registrants.updatedAt): SQL {
  const match = /^(eq|ne|lt|le|gt|ge)?(.+)$/.exec(value);
  const prefix = (match?.[1] ?? 'eq') as Prefix;
  const operand = (match?.[2] ?? '').replace(/ (\d{2}:\d{2})$/, '+$1');
  const parts = DATE_TIME.exec(operand);
  const [, day, hour, minute, second, fraction, zone] = parts ?? [];
  const valid = parts !== null && isCalendarDate(day!)
    && (hour === undefined || (Number(hour) <= 23 && Number(minute) <= 59 && (second === undefined || Number(second) <= 59)))
    && (zone === undefined || zone === 'Z' || (Number(zone.slice(1, 3)) <= 14 && Number(zone.slice(4, 6)) <= 59))
    && (hour !== undefined || zone === undefined);
  if (!valid) throw unknownParameter(name, `"${value}" must be [eq|ne|lt|le|gt|ge] followed by an ISO 8601 date or date-time, e.g. gt2024-05-01T10:00:00Z`);
  const unit = hour === undefined ? '1 day' : second === undefined ? '1 minute' : fraction === undefined ? '1 second' : `${10 ** (6 - fraction.length)} microseconds`;
  const start = sql`${operand}::timestamptz`;
  const end = sql`(${operand}::timestamptz + ${unit}::interval)`;
  switch (prefix) {
    case 'eq': return and(gte(column, start), lt(column, end))!;
    case 'ne': return or(lt(column, start), gte(column, end))!;
    case 'lt': return lt(column, start);
    case 'le': return lt(column, end);
    case 'gt': return gte(column, end);
    case 'ge': return gte(column, start);
  }
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

// The text forms of sort values, as the cursor was written (a timestamptz as PostgreSQL prints it).
const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:[+-]\d{2}(?::\d{2}){0,2})?$/;

function isCursorValue(value: unknown, cast: SortKey['cast']): value is string {
  if (typeof value !== 'string') return false;
  if (cast === 'text') return !value.includes('\u0000');
  if (cast === 'date') return isCalendarDate(value);
  const parts = TIMESTAMP_TEXT.exec(value);
  return parts !== null && isCalendarDate(parts[1]!) && Number(parts[2]) <= 23 && Number(parts[3]) <= 59 && Number(parts[4]) <= 59;
}

/** Only a cursor this search wrote is accepted: same sort, one well-formed value per sort key. */
function decodeCursor(cursor: string, keys: SortKey[], signature: string): { values: string[]; id: number } {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s: unknown; v: unknown; i: unknown };
    if (decoded.s !== signature || !Array.isArray(decoded.v) || !Number.isSafeInteger(decoded.i) || decoded.v.length !== keys.length) throw new Error('mismatch');
    const values = decoded.v.map((value: unknown, index) => {
      if (!isCursorValue(value, keys[index]!.cast)) throw new Error('bad value');
      return value;
    });
    return { values, id: decoded.i as number };
  } catch {
    throw unknownParameter('_cursor', 'is not a cursor from a previous page of this search (keep _sort unchanged while paging)');
  }
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}
