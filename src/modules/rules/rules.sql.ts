import { sql, type SQL } from 'drizzle-orm';
import { registrants } from '../registry/registry.tables.js';
import {
  areaIdIn, birthDateColumn, customFieldColumn, identifierRows, memberRows, registrantIdOf, type RegistrantTable,
} from '../registry/registry.rule-catalogue.js';
import type { RegistryEncryption } from '../registry/registry.encryption.js';
import { ruleExternalValues } from './rules.tables.js';
import type { CheckedRule, CompareMode, Ir, Relation, ScalarType } from './rules.types.js';
import { minusYears } from './rules.values.js';

/** What a compiled condition depends on besides the expression (all bound as parameters). */
export interface SqlContext {
  /** The evaluation date (YYYY-MM-DD) `today` and `age` use, already resolved in the time zone. */
  today: string;
  /** The evaluation instant (`now`), epoch milliseconds. */
  now: number;
  /** Area ids of each `in_area` code's subtree. */
  areaIds: ReadonlyMap<string, readonly number[]>;
  /** Identifier type codes (an identifier's blind index is keyed by its type). */
  idTypes: readonly string[];
  encryption: Pick<RegistryEncryption, 'identifierIndex'>;
}

type Row = { kind: 'registrant'; table: RegistrantTable; role?: SQL } | { kind: 'identifier'; rows: ReturnType<typeof identifierRows> };

const SQL_TYPES: Record<string, string> = {
  int: 'bigint', double: 'float8', string: 'text', bool: 'boolean', date: 'date', timestamp: 'timestamptz', duration: 'float8', 'list<string>': 'text[]', null: 'text',
};

/**
 * Compiles a checked rule to one SQL condition on `registrants` (the subject row), as a Drizzle
 * `sql` fragment: every value is a bound parameter; every identifier comes from the registry's
 * rule catalogue or from fixed aliases (`m3`, `ms3`, `i4`) numbered here. NULL is "unknown": the
 * condition selects the rows for which it is true (the evaluator follows the same three-valued logic).
 */
export function compileToSql(rule: CheckedRule, context: SqlContext): SQL {
  return new SqlCompiler(context).compile(rule.ir, new Map([[0, { kind: 'registrant', table: registrants as RegistrantTable }]]), rule.type === 'bool');
}

class SqlCompiler {
  constructor(private readonly context: SqlContext) {}

  /**
   * `truth`: only whether the result is true matters here (a WHERE clause, a branch of and/or/?:
   * under one): unknown and false may then be confused, which lets comparisons on the head become
   * EXISTS semi-joins instead of one scalar subquery per group.
   */
  compile(ir: Ir, rows: Map<number, Row>, truth = false): SQL {
    const c = (x: Ir) => this.compile(x, rows);
    const t = (x: Ir) => this.compile(x, rows, truth);
    switch (ir.k) {
      case 'lit': return literal(ir.t, ir.v);
      case 'context': return ir.name === 'today' ? sql`${this.context.today}::date` : sql`${new Date(this.context.now).toISOString()}::timestamptz`;
      case 'field': return ir.field.column(this.registrant(rows, ir.scope));
      case 'custom': return customFieldColumn(this.registrant(rows, ir.scope), ir.name, ir.t);
      case 'age': return sql`date_part('year', age(${this.context.today}::date, ${birthDateColumn(this.registrant(rows, ir.scope))}))::bigint`;
      case 'role': {
        const row = rows.get(ir.scope);
        if (row?.kind !== 'registrant' || !row.role) throw new Error(`scope ${ir.scope} has no role`);
        return row.role;
      }
      case 'identifierType': return this.identifier(rows, ir.scope).type;
      case 'identifierValueEquals': {
        const equals = this.identifier(rows, ir.scope).valueEquals(ir.literal, [...this.context.idTypes], this.context.encryption);
        return ir.negate ? sql`(not coalesce(${equals}, false))` : sql`coalesce(${equals}, false)`;
      }
      case 'head': {
        if (truth && ir.t === 'bool') return this.headExists(ir, rows, (value) => value);
        const head = memberRows(this.registrant(rows, ir.of), ir.scope, true);
        const inner = new Map(rows).set(ir.scope, { kind: 'registrant', table: head.row, role: head.role });
        return sql`(select ${this.compile(ir.value, inner)} from ${head.from} where ${head.where} limit 1)`;
      }
      case 'hasHead': {
        const head = memberRows(this.registrant(rows, ir.of), 1_000_000 + ir.of, true);
        return sql`exists (select 1 from ${head.from} where ${head.where})`;
      }
      case 'not': return sql`(not ${c(ir.a)})`;
      case 'and': return sql`(${t(ir.a)} and ${t(ir.b)})`;
      case 'or': return sql`(${t(ir.a)} or ${t(ir.b)})`;
      case 'cond': return sql`(case when ${this.compile(ir.c, rows, true)} then ${t(ir.a)} else ${t(ir.b)} end)`;
      case 'cmp': return (truth ? this.headSemiJoin(ir, rows) : undefined) ?? this.ageRange(ir, rows) ?? compare(ir.op, ir.mode, c(ir.a), ir.a.t, c(ir.b), ir.b.t);
      case 'isNull': return ir.negate ? sql`(${c(ir.a)} is not null)` : sql`(${c(ir.a)} is null)`;
      case 'arith': {
        const op = sql.raw(ir.op);
        if (ir.op === '/' || ir.op === '%') return sql`(${c(ir.a)} ${op} nullif(${c(ir.b)}, 0))`;
        return sql`(${c(ir.a)} ${op} ${c(ir.b)})`;
      }
      case 'concat': return sql`(${c(ir.a)} || ${c(ir.b)})`;
      case 'shift': return sql`(${c(ir.a)} ${sql.raw(ir.op)} ${c(ir.b)} * interval '1 millisecond')`;
      case 'neg': return sql`(- ${c(ir.a)})`;
      case 'toDouble': return sql`(${c(ir.a)})::float8`;
      case 'toInt': return sql`trunc(${c(ir.a)})::bigint`;
      case 'inList': return sql`(${cast(c(ir.a), ir.a.t, ir.mode)} in (${sql.join(ir.items.map((item) => cast(c(item), item.t, ir.mode)), sql`, `)}))`;
      case 'listHas': return sql`(${c(ir.a)} = any(${c(ir.list)}))`;
      case 'size': return ir.of === 'string' ? sql`char_length(${c(ir.a)})::bigint` : sql`cardinality(${c(ir.a)})::bigint`;
      case 'text': {
        const a = c(ir.a);
        const b = c(ir.b);
        switch (ir.fn) {
          case 'contains': return sql`(strpos(${a}, ${b}) > 0)`;
          case 'startsWith': return sql`(left(${a}, char_length(${b})) = ${b})`;
          case 'endsWith': return sql`(right(${a}, char_length(${b})) = ${b})`;
          case 'matches': return sql`(${a} ~ ${b})`;
        }
      }
      // falls through (every case returns)
      case 'has': return sql`(${c(ir.a)} is not null)`;
      case 'inArea': {
        const ids = this.context.areaIds.get(ir.code);
        if (!ids) throw new Error(`area ${ir.code} was not resolved`);
        const table = this.registrant(rows, ir.scope);
        // Never unknown: a registrant without an area is in no area (so !in_area(...) holds for it).
        return sql`(${table.areaId} is not null and ${areaIdIn(table, [...ids])})`;
      }
      case 'quantifier': {
        const { from, where, inner } = this.relation(ir.rel, rows, ir.pred === null);
        const pred = ir.pred ? this.compile(ir.pred, inner, true) : undefined;
        switch (ir.q) {
          case 'exists': return sql`exists (select 1 from ${from} where ${where} and ${pred!})`;
          case 'all': return sql`(not exists (select 1 from ${from} where ${where} and (${pred!}) is not true))`;
          case 'exists_one': return sql`((select count(*) from ${from} where ${where} and ${pred!}) = 1)`;
          case 'count': return sql`(select count(*) from ${from} where ${where}${pred ? sql` and ${pred}` : sql``})`;
        }
      }
      // falls through (every case returns)
      case 'aggregate': {
        const { from, where, inner } = this.relation(ir.rel, rows);
        const value = this.compile(ir.value, inner);
        const select = (expression: SQL) => sql`(select ${expression} from ${from} where ${where})`;
        switch (ir.fn) {
          case 'sum': return ir.t === 'int' ? select(sql`coalesce(sum(${value}), 0)::bigint`) : select(sql`coalesce(sum((${value})::numeric), 0)::float8`);
          case 'avg': return select(sql`(sum((${value})::numeric)::float8 / nullif(count(${value}), 0)::float8)`);
          case 'min': return select(sql`min(${value})`);
          case 'max': return select(sql`max(${value})`);
        }
      }
      // falls through (every case returns)
      case 'mapHas': {
        const { from, where, inner } = this.relation(ir.rel, rows);
        return sql`exists (select 1 from ${from} where ${where} and ${compare('==', ir.mode, this.compile(ir.value, inner), ir.value.t, c(ir.a), ir.a.t)})`;
      }
      case 'external': {
        const variable = ir.variable;
        const fresh = variable.failurePolicy === 'last_known' || !variable.ttlSeconds
          ? sql``
          : sql` and ${ruleExternalValues.fetchedAt} > ${new Date(this.context.now).toISOString()}::timestamptz - ${variable.ttlSeconds} * interval '1 second'`;
        const value = ir.t === 'string' ? sql`${ruleExternalValues.value} #>> '{}'` : sql`(${ruleExternalValues.value} #>> '{}')::${sql.raw(SQL_TYPES[ir.t]!)}`;
        return sql`(select ${value} from ${ruleExternalValues} where ${ruleExternalValues.variableId} = ${variable.id ?? -1} and ${ruleExternalValues.registrantId} = ${registrantIdOf(this.registrant(rows, ir.scope))}${fresh})`;
      }
    }
  }

  /** In a truth context, `head.x OP y` holds iff the head exists and `x OP y` holds for it. */
  private headSemiJoin(ir: Ir & { k: 'cmp' }, rows: Map<number, Row>): SQL | undefined {
    const [head, other, headFirst] = ir.a.k === 'head' && ir.b.k !== 'head' ? [ir.a, ir.b, true] : ir.b.k === 'head' && ir.a.k !== 'head' ? [ir.b, ir.a, false] : [];
    if (!head || head.k !== 'head' || !other) return undefined;
    return this.headExists(head, rows, (value, inner) => {
      const otherSql = this.compile(other, inner);
      const inHead: Ir & { k: 'cmp' } = { ...ir, a: headFirst ? head.value : other, b: headFirst ? other : head.value };
      return this.ageRange(inHead, inner) ?? (headFirst ? compare(ir.op, ir.mode, value, head.value.t, otherSql, other.t) : compare(ir.op, ir.mode, otherSql, other.t, value, head.value.t));
    });
  }

  private headExists(ir: Ir & { k: 'head' }, rows: Map<number, Row>, condition: (value: SQL, inner: Map<number, Row>) => SQL): SQL {
    const head = memberRows(this.registrant(rows, ir.of), ir.scope, true);
    const inner = new Map(rows).set(ir.scope, { kind: 'registrant', table: head.row, role: head.role });
    return sql`exists (select 1 from ${head.from} where ${head.where} and ${condition(this.compile(ir.value, inner), inner)})`;
  }

  /** `age OP n` as a birth-date range, so the birth-date index can serve it (same answer as age()). */
  private ageRange(ir: Ir & { k: 'cmp' }, rows: Map<number, Row>): SQL | undefined {
    let [age, other, op] = [ir.a, ir.b, ir.op];
    if (age.k !== 'age') {
      if (other.k !== 'age') return undefined;
      [age, other] = [other, age];
      op = ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' } as const)[op];
    }
    if (age.k !== 'age' || other.k !== 'lit' || typeof other.v !== 'bigint') return undefined;
    const n = other.v;
    const birth = birthDateColumn(this.registrant(rows, age.scope));
    const atLeast = (years: bigint) => minusYears(this.context.today, years);
    const lower = atLeast(n);
    const upper = atLeast(n + 1n);
    if (lower === undefined || upper === undefined) return undefined;
    switch (op) {
      case '>=': return sql`(${birth} <= ${lower}::date)`;
      case '>': return sql`(${birth} <= ${upper}::date)`;
      case '<': return sql`(${birth} > ${lower}::date)`;
      case '<=': return sql`(${birth} > ${upper}::date)`;
      case '==': return sql`(${birth} <= ${lower}::date and ${birth} > ${upper}::date)`;
      case '!=': return sql`(${birth} > ${lower}::date or ${birth} <= ${upper}::date)`;
    }
  }

  /** `linksOnly`: nothing is read of the related rows (a plain count), so members need not be joined. */
  private relation(rel: Relation, rows: Map<number, Row>, linksOnly = false): { from: SQL; where: SQL; inner: Map<number, Row> } {
    const owner = this.registrant(rows, rel.of);
    const inner = new Map(rows);
    let from: SQL;
    let where: SQL;
    if (rel.name === 'members') {
      const members = memberRows(owner, rel.scope, false, linksOnly && rel.filters.length === 0);
      inner.set(rel.scope, { kind: 'registrant', table: members.row, role: members.role });
      ({ from, where } = members);
    } else {
      const identifiers = identifierRows(owner, rel.scope);
      inner.set(rel.scope, { kind: 'identifier', rows: identifiers });
      ({ from, where } = identifiers);
    }
    for (const filter of rel.filters) where = sql`${where} and ${this.compile(filter, inner, true)}`;
    return { from, where, inner };
  }

  private registrant(rows: Map<number, Row>, scope: number): RegistrantTable {
    const row = rows.get(scope);
    if (row?.kind !== 'registrant') throw new Error(`scope ${scope} is not a registrant`);
    return row.table;
  }

  private identifier(rows: Map<number, Row>, scope: number) {
    const row = rows.get(scope);
    if (row?.kind !== 'identifier') throw new Error(`scope ${scope} is not an identifier`);
    return row.rows;
  }
}

function literal(t: ScalarType, value: unknown): SQL {
  const type = sql.raw(SQL_TYPES[t]!);
  if (value === null || value === undefined) return sql`null::${type}`;
  if (t === 'timestamp') return sql`${new Date(value as number).toISOString()}::timestamptz`;
  if (t === 'duration' || t === 'double' || t === 'int') return sql`${String(value)}::${type}`;
  return sql`${value}::${type}`;
}

function cast(expression: SQL, t: ScalarType, mode: CompareMode): SQL {
  return mode === 'double' && t === 'int' ? sql`(${expression})::float8` : expression;
}

function compare(op: string, mode: CompareMode, a: SQL, aType: ScalarType, b: SQL, bType: ScalarType): SQL {
  const left = cast(a, aType, mode);
  const right = cast(b, bType, mode);
  // Byte order for string ordering, as the evaluator compares (not the database's locale).
  const collate = mode === 'string' && op !== '==' && op !== '!=' ? sql` collate "C"` : sql``;
  const sqlOp = op === '==' ? '=' : op === '!=' ? '<>' : op;
  return sql`(${left}${collate} ${sql.raw(sqlOp)} ${right}${collate})`;
}
