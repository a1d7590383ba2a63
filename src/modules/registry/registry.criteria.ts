import { and, asc, eq, inArray, not, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../platform/database/database.js';
import type { Actor } from '../../platform/auth/access-tokens.js';
import { AppError } from '../../platform/errors.js';
import { identifierValueIs, type RegistrantRow } from './registry.repository.js';
import type { RegistryEncryption } from './registry.encryption.js';
import { identifiers, memberships, registrants, type RegistrantKind } from './registry.tables.js';
import { groupView, individualView, type GroupView, type IndividualView, type ViewContext } from './registry.views.js';
import type { AreaLookup, CodeLookup } from './registry.service.js';
import { areaCondition, isVisible, readPermission, type RegistryAccess } from './registry-access.js';

/**
 * Structured search for machine partners (DCI): a boolean tree of attribute comparisons, compiled
 * to one parameterised SQL condition, with sort and page-number paging plus the total. Protocols
 * translate their query forms into `Criterion`s; only this file knows the tables. Area scoping is
 * the actor's, as in every registry read.
 */

export type CriterionOperator = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'in';
export type Criterion =
  | { attribute: string; operator: CriterionOperator; value: unknown }
  | { and: Criterion[] }
  | { or: Criterion[] }
  | { not: Criterion };

export interface CriteriaQuery {
  kind: RegistrantKind;
  where?: Criterion;
  sort?: Array<{ attribute: string; descending?: boolean }>;
  /** 1-based. */
  pageNumber: number;
  pageSize: number;
}

export interface GroupWithMembers extends GroupView {
  /** The visible active members as individuals, head first; `role` from the membership. */
  memberRecords: Array<IndividualView & { role: string }>;
}

export interface CriteriaResult<T> {
  total: number;
  items: T[];
}

/** Which part of the query a problem is in (DCI maps these to reason codes). */
export type CriteriaPart = 'criteria' | 'sort' | 'pagination';

export const MAX_CRITERIA_PAGE_SIZE = 1000;
const MAX_DEPTH = 10;
const MAX_IN_VALUES = 1000;

type ValueType = 'text' | 'code' | 'date' | 'timestamp' | 'number' | 'integer' | 'boolean' | 'uuid';
interface Attribute {
  kinds: RegistrantKind[];
  type: ValueType | 'identifier' | 'area' | 'age';
  column?: SQL;
  sortable?: boolean;
}

const groupSize = sql`(select count(*) from ${memberships} where ${memberships.groupId} = ${registrants.id} and ${memberships.isActive})`;

/** The attributes a criterion may name. Names are the registry's; protocols map theirs onto them. */
export const CRITERIA_ATTRIBUTES: Record<string, Attribute> = {
  identifier: { kinds: ['individual', 'group'], type: 'identifier' },
  /** The registrant's external id (DCI subscriptions restrict their filter to the changed registrants). */
  uuid: { kinds: ['individual', 'group'], type: 'uuid', column: sql`${registrants.uuid}` },
  given_name: { kinds: ['individual'], type: 'text', column: sql`${registrants.givenName}`, sortable: true },
  family_name: { kinds: ['individual'], type: 'text', column: sql`${registrants.familyName}`, sortable: true },
  name: { kinds: ['individual', 'group'], type: 'text', column: sql`${registrants.displayName}`, sortable: true },
  birth_date: { kinds: ['individual'], type: 'date', column: sql`${registrants.birthDate}`, sortable: true },
  age: { kinds: ['individual'], type: 'age' },
  gender: { kinds: ['individual'], type: 'code', column: sql`${registrants.gender}` },
  civil_status: { kinds: ['individual'], type: 'code', column: sql`${registrants.civilStatus}` },
  has_disability: { kinds: ['individual'], type: 'boolean', column: sql`${registrants.hasDisability}` },
  group_type: { kinds: ['group'], type: 'code', column: sql`${registrants.groupType}` },
  group_size: { kinds: ['group'], type: 'integer', column: groupSize, sortable: true },
  area: { kinds: ['individual', 'group'], type: 'area' },
  monthly_income: { kinds: ['individual', 'group'], type: 'number', column: sql`${registrants.monthlyIncome}`, sortable: true },
  is_active: { kinds: ['individual', 'group'], type: 'boolean', column: sql`${registrants.isActive}` },
  registration_date: { kinds: ['individual', 'group'], type: 'timestamp', column: sql`${registrants.createdAt}`, sortable: true },
  last_updated: { kinds: ['individual', 'group'], type: 'timestamp', column: sql`${registrants.updatedAt}`, sortable: true },
};

/** `custom.<field>` reads a field of the registrant's custom document (numbers compared as numbers). */
const CUSTOM_FIELD = /^custom\.([A-Za-z][A-Za-z0-9_]{0,63})$/;

export function criteriaProblem(part: CriteriaPart, path: string, message: string): AppError {
  return new AppError('unknown_parameter', message, [{ path: `${part}:${path}`, message }], { criteriaPart: part });
}

export class RegistryCriteriaSearch {
  constructor(
    private readonly db: Db,
    private readonly codes: CodeLookup,
    private readonly areas: AreaLookup,
    private readonly viewContext: (rows: RegistrantRow[]) => Promise<ViewContext>,
    private readonly access: RegistryAccess,
    private readonly encryption: RegistryEncryption,
  ) {}

  /** Individuals matching the criteria, one page, with the total. Throws `criteriaProblem`s. */
  async individuals(actor: Actor, query: CriteriaQuery & { kind: 'individual' }): Promise<CriteriaResult<IndividualView>> {
    const { rows, total } = await this.rows(actor, query);
    const context = await this.viewContext(rows);
    return { total, items: rows.map((row) => individualView(row, context)) };
  }

  /** Groups matching the criteria, one page, each with its visible members as individuals. */
  async groups(actor: Actor, query: CriteriaQuery & { kind: 'group' }): Promise<CriteriaResult<GroupWithMembers>> {
    const { rows, total } = await this.rows(actor, query);
    if (rows.length === 0) return { total, items: [] };
    const allowed = await this.access.allowedAreaIds(actor, 'individual:read');
    const memberRows = await this.db.select({ groupId: memberships.groupId, role: memberships.role, member: registrants })
      .from(memberships).innerJoin(registrants, eq(registrants.id, memberships.individualId))
      .where(and(inArray(memberships.groupId, rows.map((row) => row.id)), eq(memberships.isActive, true)))
      .orderBy(asc(memberships.id));
    const visible = memberRows.filter((member) => isVisible(member.member, allowed));
    const context = await this.viewContext([...rows, ...visible.map((member) => member.member)]);
    const items = rows.map((row) => {
      const members = memberRows.filter((member) => member.groupId === row.id);
      const head = members.find((member) => member.role === 'head');
      const view = groupView(row, context, { size: members.length, head: head && isVisible(head.member, allowed) ? head.member.uuid : null });
      const memberRecords = visible.filter((member) => member.groupId === row.id)
        .sort((a, b) => Number(b.role === 'head') - Number(a.role === 'head'))
        .map((member) => ({ ...individualView(member.member, context), role: member.role }));
      return { ...view, memberRecords };
    });
    return { total, items };
  }

  private async rows(actor: Actor, query: CriteriaQuery): Promise<{ rows: RegistrantRow[]; total: number }> {
    if (!Number.isInteger(query.pageSize) || query.pageSize < 1 || query.pageSize > MAX_CRITERIA_PAGE_SIZE) {
      throw criteriaProblem('pagination', '/page_size', `must be an integer from 1 to ${MAX_CRITERIA_PAGE_SIZE}`);
    }
    if (!Number.isInteger(query.pageNumber) || query.pageNumber < 1) throw criteriaProblem('pagination', '/page_number', 'must be an integer of at least 1');
    const allowed = await this.access.allowedAreaIds(actor, readPermission(query.kind));
    const conditions: SQL[] = [eq(registrants.kind, query.kind)];
    const inAreas = areaCondition(allowed);
    if (inAreas) conditions.push(inAreas);
    if (query.where) conditions.push(await this.compile(query.kind, query.where, '', 0));
    const order = (query.sort ?? []).map((key, index) => {
      const attribute = CRITERIA_ATTRIBUTES[key.attribute];
      if (!attribute?.sortable || !attribute.column || !attribute.kinds.includes(query.kind)) {
        const names = Object.entries(CRITERIA_ATTRIBUTES).filter(([, a]) => a.sortable && a.kinds.includes(query.kind)).map(([name]) => name);
        throw criteriaProblem('sort', `/${index}/attribute_name`, `cannot sort by "${key.attribute}"; use ${names.join(', ')}`);
      }
      return key.descending ? sql`${attribute.column} desc nulls last` : sql`${attribute.column} asc nulls last`;
    });
    const where = and(...conditions);
    const rows = await this.db.select().from(registrants).where(where)
      .orderBy(...order, asc(registrants.id))
      .limit(query.pageSize).offset((query.pageNumber - 1) * query.pageSize);
    const [counted] = await this.db.select({ count: sql<number>`count(*)::int` }).from(registrants).where(where);
    return { rows, total: Number(counted?.count ?? 0) };
  }

  private async compile(kind: RegistrantKind, criterion: Criterion, path: string, depth: number): Promise<SQL> {
    if (depth > MAX_DEPTH) throw criteriaProblem('criteria', path, `nests deeper than ${MAX_DEPTH} levels`);
    if (typeof criterion !== 'object' || criterion === null) throw criteriaProblem('criteria', path, 'must be a condition');
    if ('and' in criterion || 'or' in criterion) {
      const list = 'and' in criterion ? criterion.and : criterion.or;
      if (!Array.isArray(list) || list.length === 0) throw criteriaProblem('criteria', path, 'and/or needs at least one condition');
      const parts = await Promise.all(list.map((item, index) => this.compile(kind, item, `${path}/${index}`, depth + 1)));
      return ('and' in criterion ? and(...parts) : or(...parts))!;
    }
    if ('not' in criterion) return not(await this.compile(kind, criterion.not, `${path}/not`, depth + 1));
    return this.comparison(kind, criterion, path);
  }

  private async comparison(kind: RegistrantKind, criterion: { attribute: string; operator: CriterionOperator; value: unknown }, path: string): Promise<SQL> {
    const { attribute: name, operator, value } = criterion;
    if (!['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'in'].includes(operator)) throw criteriaProblem('criteria', path, `unknown operator "${String(operator)}"`);
    const custom = CUSTOM_FIELD.exec(name);
    const attribute = custom ? undefined : CRITERIA_ATTRIBUTES[name];
    if (!custom && (!attribute || !attribute.kinds.includes(kind))) {
      const names = Object.entries(CRITERIA_ATTRIBUTES).filter(([, a]) => a.kinds.includes(kind)).map(([n]) => n);
      throw criteriaProblem('criteria', path, `"${name}" is not a searchable attribute of a${kind === 'individual' ? 'n individual' : ' group'}; use ${names.join(', ')} or custom.<field>`);
    }
    const values = operator === 'in' ? (Array.isArray(value) ? value : [value]) : [value];
    if (values.length === 0 || values.length > MAX_IN_VALUES) throw criteriaProblem('criteria', path, `"in" takes 1 to ${MAX_IN_VALUES} values`);
    if (custom) return this.customComparison(custom[1]!, operator, values, path);
    switch (attribute!.type) {
      case 'identifier': return this.identifierComparison(kind, operator, values, path);
      case 'area': return this.areaComparison(operator, values, path);
      case 'age': return ageComparison(operator, values.map((v) => integerOf(v, path)));
      default: return compare(attribute!.column!, operator, values.map((v) => typedValue(attribute!.type as ValueType, v, path)), attribute!.type as ValueType);
    }
  }

  /** `{type, value}` (type: an id-type code or its system URI). Groups also match through an active member's identifier. */
  private async identifierComparison(kind: RegistrantKind, operator: CriterionOperator, values: unknown[], path: string): Promise<SQL> {
    if (operator !== 'eq' && operator !== 'in') throw criteriaProblem('criteria', path, 'identifiers compare with eq or in only');
    const alternatives: SQL[] = [];
    for (const value of values) {
      const { type, value: idValue } = (value ?? {}) as { type?: unknown; value?: unknown };
      if (typeof type !== 'string' || (typeof idValue !== 'string' && typeof idValue !== 'number') || String(idValue) === '') {
        throw criteriaProblem('criteria', path, 'an identifier is {type, value}');
      }
      const idType = await this.codes.findIdType(type);
      if (!idType) throw criteriaProblem('criteria', path, `"${type}" is not an identifier type of this registry`);
      alternatives.push(and(eq(identifiers.idType, idType.code), identifierValueIs(idType.code, String(idValue), this.encryption), eq(identifiers.isValid, true))!);
    }
    const matching = or(...alternatives)!;
    const own = sql`exists (select 1 from ${identifiers} where ${identifiers.registrantId} = ${registrants.id} and ${matching})`;
    if (kind === 'individual') return own;
    const throughMember = sql`exists (select 1 from ${memberships} join ${identifiers} on ${identifiers.registrantId} = ${memberships.individualId}
      where ${memberships.groupId} = ${registrants.id} and ${memberships.isActive} and ${matching})`;
    return or(own, throughMember)!;
  }

  /** An area code matches its whole subtree. */
  private async areaComparison(operator: CriterionOperator, values: unknown[], path: string): Promise<SQL> {
    if (operator !== 'eq' && operator !== 'in' && operator !== 'ne') throw criteriaProblem('criteria', path, 'areas compare with eq, ne or in (an area matches its whole subtree)');
    const ids: number[] = [];
    for (const value of values) {
      if (typeof value !== 'string') throw criteriaProblem('criteria', path, 'an area is given by its code');
      const subtree = await this.areas.subtreeAreaIds(value);
      if (!subtree) throw criteriaProblem('criteria', path, `"${value}" is not an area code`);
      ids.push(...subtree);
    }
    const inSubtrees = sql`${registrants.areaId} = any(${`{${[...new Set(ids)].join(',')}}`}::bigint[])`;
    return operator === 'ne' ? sql`not coalesce(${inSubtrees}, false)` : inSubtrees;
  }

  private customComparison(field: string, operator: CriterionOperator, values: unknown[], path: string): SQL {
    const numeric = values.every((value) => typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)));
    const column = sql`(${registrants.custom} ->> ${field})`;
    if (numeric && operator !== 'eq' && operator !== 'ne' && operator !== 'in') {
      // Only rows whose field is a JSON number take part in an ordering comparison.
      const asNumber = sql`(case when jsonb_typeof(${registrants.custom} -> ${field}) = 'number' then (${registrants.custom} ->> ${field})::numeric end)`;
      return compare(asNumber, operator, values.map((value) => Number(value)), 'number');
    }
    if (numeric) {
      const asNumber = sql`(case when jsonb_typeof(${registrants.custom} -> ${field}) = 'number' then (${registrants.custom} ->> ${field})::numeric end)`;
      return or(compare(asNumber, operator, values.map((value) => Number(value)), 'number'), compare(column, operator, values.map(String), 'text'))!;
    }
    return compare(column, operator, values.map((value) => typedValue('text', value, path)), 'text');
  }
}

const SQL_TYPES: Record<ValueType, string> = { text: 'text', code: 'text', date: 'date', timestamp: 'timestamptz', number: 'numeric', integer: 'bigint', boolean: 'boolean', uuid: 'uuid' };

function compare(column: SQL, operator: CriterionOperator, values: unknown[], type: ValueType): SQL {
  const cast = sql.raw(SQL_TYPES[type]);
  if (operator === 'in') return sql`${column} = any(${arrayLiteral(values)}::${cast}[])`;
  const operand = sql`${String(values[0])}::${cast}`;
  const symbol = { eq: '=', ne: '<>', gt: '>', lt: '<', ge: '>=', le: '<=' }[operator];
  return operator === 'ne' ? sql`${column} is distinct from ${operand}` : sql`${column} ${sql.raw(symbol)} ${operand}`;
}

/** One array parameter as a PostgreSQL array literal (the way the registry passes arrays on both drivers). */
function arrayLiteral(values: unknown[]): string {
  return `{${values.map((value) => `"${String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** Age in whole years today, as birth date bounds (so the birth date index is used). */
function ageComparison(operator: CriterionOperator, ages: number[]): SQL {
  const bornOnOrBefore = (years: number) => sql`${registrants.birthDate} <= (current_date - make_interval(years => ${years}))::date`;
  const bornAfter = (years: number) => sql`${registrants.birthDate} > (current_date - make_interval(years => ${years}))::date`;
  const exactly = (age: number) => and(bornOnOrBefore(age), bornAfter(age + 1))!;
  const [age] = ages as [number];
  switch (operator) {
    case 'eq': return exactly(age);
    case 'ne': return not(exactly(age));
    case 'ge': return bornOnOrBefore(age);
    case 'gt': return bornOnOrBefore(age + 1);
    case 'lt': return bornAfter(age);
    case 'le': return bornAfter(age + 1);
    case 'in': return or(...ages.map(exactly))!;
  }
}

function integerOf(value: unknown, path: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 200) throw criteriaProblem('criteria', path, 'must be a whole number of years');
  return number;
}

/** A value of the attribute's type; numbers given as strings are accepted (DCI sends both). */
function typedValue(type: ValueType, value: unknown, path: string): unknown {
  const problem = (expected: string) => criteriaProblem('criteria', path, `must be ${expected}`);
  switch (type) {
    case 'text':
    case 'code':
      if (typeof value === 'string' || typeof value === 'number') return String(value);
      throw problem('a string');
    case 'integer':
    case 'number': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number) || (type === 'integer' && !Number.isInteger(number))) throw problem(type === 'integer' ? 'an integer' : 'a number');
      return number;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1' || value === 1) return true;
      if (value === 'false' || value === '0' || value === 0) return false;
      throw problem('true or false');
    case 'date':
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return value;
      throw problem('a date YYYY-MM-DD');
    case 'uuid':
      if (typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return value;
      throw problem('a UUID');
    case 'timestamp':
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(value) && !Number.isNaN(Date.parse(value))) return value;
      throw problem('an ISO 8601 date or date-time');
  }
}
