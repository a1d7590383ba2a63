import { asc, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Queryable } from '../../platform/database/database.js';
import { areas } from '../areas/areas.tables.js';
import type { RegistryEncryption } from './registry.encryption.js';
import { customFieldDefinitions, identifiers, memberships, registrants, type RegistrantKind } from './registry.tables.js';

/**
 * What the rules language may read of the registry, described by the registry itself: each field's
 * type, its SQL column (for compiled conditions) and its property in `RegistrantFacts` (for
 * in-memory evaluation). The rules module builds its symbol table and SQL from this and never names
 * a registry table or column on its own. Identifiers here are code constants, never user text.
 */

export type RuleValueType = 'bool' | 'int' | 'double' | 'string' | 'date' | 'timestamp' | 'list<string>';

/** `registrants` or an alias of it (a member, a head). */
export type RegistrantTable = typeof registrants;

export interface RuleField {
  type: RuleValueType;
  description: string;
  /** SQL for the value on a row of `table`; typed as the rules type (numbers as float8/bigint). */
  column: (table: RegistrantTable) => SQL;
  /** The same value in memory. */
  fact: (facts: RegistrantFacts) => unknown;
  /** Values are codes of this vocabulary (checked when compared with a literal). */
  vocabulary?: string;
}

/** One registrant's data for in-memory evaluation (rules.evaluate.ts), shaped like the columns above. */
export interface RegistrantFacts {
  birthDate: string | null;
  gender: string | null;
  civilStatus: string | null;
  groupType: string | null;
  areaCode: string | null;
  /** The area's code and its ancestors' codes (for `in_area`). */
  areaPath: string[];
  hasDisability: boolean | null;
  disabilityTypes: string[] | null;
  income: number | null;
  incomeCurrency: string | null;
  isActive: boolean;
  /** ISO 8601 instant. */
  registeredAt: string;
  custom: Record<string, unknown>;
  /** Valid identifiers, values in clear (in memory only). */
  identifiers: Array<{ type: string; value: string }>;
  /** As a member of a group: the membership role. */
  role?: string;
  /** Groups: the active members. */
  members?: RegistrantFacts[];
}

const common: Record<string, RuleField> = {
  area: {
    type: 'string', description: 'Code of the registrant\'s area (see also in_area("CODE") for a whole subtree)',
    column: (t) => sql`(select ${areas.code} from ${areas} where ${areas.id} = ${t.areaId})`, fact: (f) => f.areaCode,
  },
  income: { type: 'double', description: 'Monthly income', column: (t) => sql`(${t.monthlyIncome})::float8`, fact: (f) => f.income },
  income_currency: { type: 'string', description: 'ISO 4217 currency of the income', column: (t) => sql`${t.incomeCurrency}`, fact: (f) => f.incomeCurrency },
  is_active: { type: 'bool', description: 'False once deactivated', column: (t) => sql`${t.isActive}`, fact: (f) => f.isActive },
  registered_at: { type: 'timestamp', description: 'When the record was created', column: (t) => sql`${t.createdAt}`, fact: (f) => f.registeredAt },
};

export const ruleFields: Record<RegistrantKind, Record<string, RuleField>> = {
  individual: {
    birth_date: { type: 'date', description: 'Date of birth', column: (t) => sql`${t.birthDate}`, fact: (f) => f.birthDate },
    gender: { type: 'string', vocabulary: 'gender', description: 'ISO 5218 sex code: "0" unknown, "1" male, "2" female, "9" not applicable', column: (t) => sql`${t.gender}`, fact: (f) => f.gender },
    civil_status: { type: 'string', vocabulary: 'civil-status', description: 'Civil status code', column: (t) => sql`${t.civilStatus}`, fact: (f) => f.civilStatus },
    has_disability: { type: 'bool', description: 'Has a disability', column: (t) => sql`${t.hasDisability}`, fact: (f) => f.hasDisability },
    disability_types: { type: 'list<string>', description: 'Disability type codes', column: (t) => sql`${t.disabilityTypes}`, fact: (f) => f.disabilityTypes },
    ...common,
  },
  group: {
    group_type: { type: 'string', vocabulary: 'group-type', description: 'Group type code (household, …)', column: (t) => sql`${t.groupType}`, fact: (f) => f.groupType },
    ...common,
  },
};

/** The birth date a computed `age` is derived from (same table as the fields). */
export const birthDateColumn = (t: RegistrantTable): SQL => sql`${t.birthDate}`;

/** A deployment custom field (`custom` JSONB), cast as its definition's JSON Schema type says. */
export function customFieldColumn(t: RegistrantTable, name: string, type: RuleValueType): SQL {
  const text = sql`(${t.custom} ->> ${name})`;
  switch (type) {
    case 'int': return sql`${text}::bigint`;
    case 'double': return sql`${text}::float8`;
    case 'bool': return sql`${text}::boolean`;
    case 'date': return sql`${text}::date`;
    default: return text;
  }
}

/** Custom field definitions as rules types; schemas with no rules type are left out. */
export async function listRuleCustomFields(db: Queryable): Promise<Array<{ appliesTo: RegistrantKind; name: string; label: string; type: RuleValueType }>> {
  const rows = await db.select().from(customFieldDefinitions).orderBy(asc(customFieldDefinitions.name));
  return rows.flatMap((row) => {
    const schema = row.valueSchema as { type?: string; format?: string };
    const type: RuleValueType | undefined = schema.type === 'integer' ? 'int' : schema.type === 'number' ? 'double' : schema.type === 'boolean' ? 'bool'
      : schema.type === 'string' ? (schema.format === 'date' ? 'date' : 'string') : undefined;
    return type ? [{ appliesTo: row.appliesTo, name: row.name, label: row.label, type }] : [];
  });
}

/** Rows of a relation of `owner`, under aliases numbered `n` (unique per compiled condition). */
export interface RelationRows {
  /** The FROM clause of a correlated subquery. */
  from: SQL;
  /** Correlates the rows with `owner`. */
  where: SQL;
  /** The related registrant, when the relation's rows are registrants. */
  row: RegistrantTable;
}

/** A group's active members (with `role`), and its head. */
export function memberRows(owner: RegistrantTable, n: number, onlyHead = false, linksOnly = false): RelationRows & { role: SQL } {
  const link = alias(memberships, `ms${n}`);
  const member = alias(registrants, `m${n}`);
  return {
    // `linksOnly` (nothing read of the members, e.g. a size): the memberships' own index answers.
    from: linksOnly
      ? sql`${memberships} ${sql.identifier(`ms${n}`)}`
      : sql`${memberships} ${sql.identifier(`ms${n}`)} inner join ${registrants} ${sql.identifier(`m${n}`)} on ${member.id} = ${link.individualId}`,
    where: sql`${link.groupId} = ${owner.id} and ${link.isActive}${onlyHead ? sql` and ${link.role} = 'head'` : sql``}`,
    row: member as unknown as RegistrantTable,
    role: sql`${link.role}`,
  };
}

/** A registrant's valid identifiers; `type` is in clear, `value` only matched through its blind index. */
export function identifierRows(owner: RegistrantTable, n: number) {
  const row = alias(identifiers, `i${n}`);
  return {
    from: sql`${identifiers} ${sql.identifier(`i${n}`)}`,
    where: sql`${row.registrantId} = ${owner.id} and ${row.isValid}`,
    type: sql`${row.idType}`,
    /**
     * "value = literal" for every identifier type the deployment knows: the blind index is keyed by
     * type, so the literal's index is computed once per type (and the legacy plaintext column is
     * matched as the registry's own lookups do).
     */
    valueEquals: (literal: string, idTypes: string[], encryption: Pick<RegistryEncryption, 'identifierIndex'>): SQL => {
      const pairs = idTypes.map((idType) => sql`(${row.idType} = ${idType} and ${row.valueIndex} = ${encryption.identifierIndex(idType, literal)})`);
      return sql`(${sql.join([...pairs, sql`${row.value} = ${literal}`], sql` or `)})`;
    },
  };
}

/** Area ids of the subtree under `code`: answered by the areas module (RegistryService's AreaLookup). */
export const areaIdIn = (t: RegistrantTable, ids: number[]): SQL => sql`${t.areaId} = any(${`{${ids.join(',')}}`}::bigint[])`;

/** The external variables' cache (rules module) joined by registrant id, for compiled conditions. */
export const registrantIdOf = (t: RegistrantTable): SQL => sql`${t.id}`;

