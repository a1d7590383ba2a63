import type { Criterion, CriterionOperator } from '../../registry/registry.criteria.js';

/**
 * DCI search queries → the registry's `Criterion` tree. Three forms (SearchRequest.query_type):
 * - `idtype-value`: `{ type, value }` → the registrant (or household of a member) holding that identifier;
 * - `predicate`: `[{ seq_num, expression1, condition?, expression2? }]` with operators eq gt lt ge le in
 *   and conditions and / or / not; list items are ANDed in seq_num order (the spec names no combinator);
 * - `expression`: `{ type, value: { expression: { collection, query } } }`, `query` in MongoDB form
 *   (`$and`, `$or`, `$not`, `$nor`; `$eq $ne $gt $gte $lt $lte $in`, also without `$` and as ge/le).
 * DCI attribute names map to registry attributes (ATTRIBUTE_NAMES); values may be numbers or
 * numeric strings (both occur in practice).
 */

export class QueryError extends Error {
  override name = 'QueryError';
}

type Entity = 'individual' | 'group';

/** DCI / common attribute names → registry criteria attributes (see registry.criteria.ts). */
const ATTRIBUTE_NAMES: Record<string, string> = {
  given_name: 'given_name', first_name: 'given_name',
  surname: 'family_name', family_name: 'family_name', last_name: 'family_name',
  name: 'name',
  birth_date: 'birth_date', birthdate: 'birth_date', dob: 'birth_date', date_of_birth: 'birth_date',
  age: 'age',
  sex: 'gender', gender: 'gender',
  marital_status: 'civil_status', civil_status: 'civil_status',
  is_disabled: 'has_disability', has_disability: 'has_disability', disability: 'has_disability',
  group_type: 'group_type',
  group_size: 'group_size', household_size: 'group_size', size: 'group_size',
  location: 'area', area: 'area', area_code: 'area', place_address: 'area',
  income: 'monthly_income', monthly_income: 'monthly_income',
  registration_date: 'registration_date', last_updated: 'last_updated',
  is_active: 'is_active',
  poverty_score: 'custom.poverty_score',
};

const SEX_CODES: Record<string, string> = { male: '1', m: '1', '1': '1', female: '2', f: '2', '2': '2', unknown: '0', '0': '0', other: '9', '9': '9' };
const MARITAL_CODES: Record<string, string> = {
  s: 'single', single: 'single', m: 'married', married: 'married', w: 'widowed', widowed: 'widowed',
  d: 'divorced', divorced: 'divorced', l: 'separated', separated: 'separated', u: 'unknown', unknown: 'unknown', cohabiting: 'cohabiting',
};

export interface TranslationContext {
  /** True when the name is an identifier type of the registry (code or system URI): `national-id eq X`. */
  isIdentifierType(name: string): boolean;
}

/** A DCI attribute comparison as a criterion (identifier types, year of birth and code values translated). */
export function comparison(name: string, operator: string, value: unknown, context: TranslationContext): Criterion {
  const op = normaliseOperator(operator);
  const key = name.trim();
  const lower = key.toLowerCase();
  if (context.isIdentifierType(key)) {
    if (op !== 'eq' && op !== 'in') throw new QueryError(`identifier ${key} compares with eq or in only`);
    const values = op === 'in' ? asArray(value) : [value];
    return { attribute: 'identifier', operator: op, value: op === 'in' ? values.map((v) => ({ type: key, value: v })) : { type: key, value } };
  }
  if (lower === 'yob' || lower === 'year_of_birth') return yearOfBirth(op, value);
  if (key.startsWith('custom.')) return { attribute: key, operator: op, value };
  const attribute = ATTRIBUTE_NAMES[lower];
  if (!attribute) throw new QueryError(`"${key}" is not a searchable attribute`);
  return { attribute, operator: op, value: translateValue(attribute, op === 'in' ? asArray(value) : value) };
}

function translateValue(attribute: string, value: unknown): unknown {
  const codes = attribute === 'gender' ? SEX_CODES : attribute === 'civil_status' ? MARITAL_CODES : undefined;
  if (!codes) return value;
  const one = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? codes[String(v).toLowerCase()] ?? String(v) : v);
  return Array.isArray(value) ? value.map(one) : one(value);
}

function yearOfBirth(op: CriterionOperator, value: unknown): Criterion {
  const years = (op === 'in' ? asArray(value) : [value]).map((v) => {
    const year = typeof v === 'string' ? Number(v) : v;
    if (typeof year !== 'number' || !Number.isInteger(year) || year < 1800 || year > 2200) throw new QueryError('YOB must be a year');
    return year;
  });
  const start = (year: number) => `${year}-01-01`;
  const end = (year: number) => `${year}-12-31`;
  const within = (year: number): Criterion => ({ and: [{ attribute: 'birth_date', operator: 'ge', value: start(year) }, { attribute: 'birth_date', operator: 'le', value: end(year) }] });
  const [year] = years as [number];
  switch (op) {
    case 'eq': return within(year);
    case 'ne': return { not: within(year) };
    case 'in': return { or: years.map(within) };
    case 'gt': return { attribute: 'birth_date', operator: 'gt', value: end(year) };
    case 'ge': return { attribute: 'birth_date', operator: 'ge', value: start(year) };
    case 'lt': return { attribute: 'birth_date', operator: 'lt', value: start(year) };
    case 'le': return { attribute: 'birth_date', operator: 'le', value: end(year) };
  }
}

const OPERATORS: Record<string, CriterionOperator> = {
  eq: 'eq', ne: 'ne', gt: 'gt', lt: 'lt', ge: 'ge', le: 'le', gte: 'ge', lte: 'le', in: 'in',
};

function normaliseOperator(operator: string): CriterionOperator {
  const op = OPERATORS[String(operator).replace(/^\$/, '').toLowerCase()];
  if (!op) throw new QueryError(`operator "${operator}" is not supported; use eq, gt, lt, ge, le or in`);
  return op;
}

/** `in` takes a list; a comma-separated string is a list too (the spec's attribute value has no array). */
function asArray(value: unknown): unknown[] {
  if (typeof value === 'string') return value.split(',').map((part) => part.trim()).filter(Boolean);
  if (!Array.isArray(value)) throw new QueryError('"in" takes a list of values (or a comma-separated string)');
  return value;
}

/** `idtype-value`: `{ type, value }`. */
export function idTypeValueCriterion(query: unknown): Criterion {
  const { type, value } = (query ?? {}) as { type?: unknown; value?: unknown };
  if (typeof type !== 'string' || type === '') throw new QueryError('query.type must name an identifier type');
  if (typeof value !== 'string' && typeof value !== 'number') throw new QueryError('query.value must be the identifier value');
  return { attribute: 'identifier', operator: 'eq', value: { type, value: String(value) } };
}

/** `predicate`: a list of `ExpPredicateWithCondition`. */
export function predicateCriterion(query: unknown, context: TranslationContext): Criterion {
  if (!Array.isArray(query) || query.length === 0) throw new QueryError('a predicate query is a non-empty list of {seq_num, expression1, condition, expression2}');
  const items = [...query].sort((a, b) => Number((a as { seq_num?: number }).seq_num ?? 0) - Number((b as { seq_num?: number }).seq_num ?? 0));
  const parts = items.map((item, index) => {
    const { expression1, condition, expression2 } = (item ?? {}) as { expression1?: unknown; condition?: unknown; expression2?: unknown };
    const first = predicate(expression1, context, `${index}/expression1`);
    if (condition === undefined || condition === null) {
      if (expression2 !== undefined) throw new QueryError(`item ${index}: expression2 needs a condition`);
      return first;
    }
    if (condition === 'not') return expression2 === undefined ? { not: first } : { and: [first, { not: predicate(expression2, context, `${index}/expression2`) }] };
    if (condition !== 'and' && condition !== 'or') throw new QueryError(`item ${index}: condition must be and, or or not`);
    if (expression2 === undefined) throw new QueryError(`item ${index}: condition "${condition}" needs expression2`);
    const second = predicate(expression2, context, `${index}/expression2`);
    return condition === 'and' ? { and: [first, second] } : { or: [first, second] };
  });
  return parts.length === 1 ? parts[0]! : { and: parts };
}

function predicate(expression: unknown, context: TranslationContext, where: string): Criterion {
  const { attribute_name: name, operator, attribute_value: value } = (expression ?? {}) as { attribute_name?: unknown; operator?: unknown; attribute_value?: unknown };
  if (typeof name !== 'string' || typeof operator !== 'string' || value === undefined) throw new QueryError(`${where} needs attribute_name, operator and attribute_value`);
  return comparison(name, operator, value, context);
}

/** `expression`: `{ type, value: { expression: { collection, query } } }` (or the inner parts directly). */
export function expressionCriterion(query: unknown, context: TranslationContext): { criterion: Criterion; collection?: string } {
  let expression: unknown = (query as { value?: { expression?: unknown } } | undefined)?.value?.expression
    ?? (query as { expression?: unknown } | undefined)?.expression ?? query;
  if (typeof expression === 'string') {
    try {
      expression = JSON.parse(expression) as unknown;
    } catch {
      throw new QueryError('the expression must be a JSON object {collection, query}');
    }
  }
  if (typeof expression !== 'object' || expression === null) throw new QueryError('the expression must be an object {collection, query}');
  const { collection, query: mongo } = expression as { collection?: unknown; query?: unknown };
  if (mongo === undefined) throw new QueryError('the expression has no query');
  return { criterion: mongoCriterion(mongo, context, 0), ...(typeof collection === 'string' ? { collection } : {}) };
}

function mongoCriterion(node: unknown, context: TranslationContext, depth: number): Criterion {
  if (depth > 10) throw new QueryError('the expression nests too deeply');
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw new QueryError('each expression part must be an object');
  const parts: Criterion[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value) || value.length === 0) throw new QueryError(`${key} takes a non-empty list`);
      const list = value.map((item) => mongoCriterion(item, context, depth + 1));
      parts.push(key === '$and' ? { and: list } : key === '$or' ? { or: list } : { not: { or: list } });
    } else if (key === '$not') {
      parts.push({ not: mongoCriterion(value, context, depth + 1) });
    } else if (key.startsWith('$')) {
      throw new QueryError(`${key} is not supported`);
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0 && Object.keys(value).every((op) => normalisable(op))) {
      for (const [op, operand] of Object.entries(value)) {
        parts.push(op.replace(/^\$/, '') === 'not' ? { not: mongoCriterion({ [key]: operand }, context, depth + 1) } : comparison(key, op, operand, context));
      }
    } else {
      parts.push(comparison(key, 'eq', value, context));
    }
  }
  if (parts.length === 0) throw new QueryError('the expression is empty');
  return parts.length === 1 ? parts[0]! : { and: parts };
}

function normalisable(operator: string): boolean {
  const name = operator.replace(/^\$/, '').toLowerCase();
  return name === 'not' || name in OPERATORS;
}

/** DCI sort attribute names → registry attribute (unknown names pass through, to be refused by the registry). */
export function sortAttribute(name: string): string {
  const lower = name.toLowerCase();
  return ATTRIBUTE_NAMES[lower] ?? (lower === 'birthdate' ? 'birth_date' : name);
}

/** Entity of a search item: response_entity, else the expression's collection, else the record type. */
export function entityOf(responseEntity: unknown, collection: string | undefined, recordType: unknown): Entity {
  const hint = String(responseEntity ?? collection ?? recordType ?? 'Member').toLowerCase();
  return hint.includes('group') || hint.includes('household') ? 'group' : 'individual';
}
