import type { RegistrantFacts } from '../registry/registry.rule-catalogue.js';
import type { CheckedRule, CompareMode, Ir, Relation } from './rules.types.js';
import { ageInYears, exactSum } from './rules.values.js';

export interface EvaluationContext {
  /** The evaluation date (YYYY-MM-DD) in the rule's time zone. */
  today: string;
  /** The evaluation instant, epoch milliseconds. */
  now: number;
  /** External variables' values for this registrant, by code, already resolved by their failure policy. */
  externals?: Record<string, unknown>;
}

type Value = bigint | number | string | boolean | string[] | null;
type Row = { kind: 'registrant'; facts: RegistrantFacts } | { kind: 'identifier'; identifier: { type: string; value: string } };

/**
 * Evaluates a checked rule over one registrant's data, with the meaning the SQL compiler gives it:
 * null is "unknown" (comparisons and arithmetic with it are unknown, && || ! follow three-valued
 * logic, ?: takes the else branch on unknown), division by zero is unknown, sums are exact decimals.
 * Written over the same typed form as the compiler rather than with cel-js's evaluator, which has
 * no unknown (it raises on `null < 1`) and no relations.
 */
export function evaluateRule(rule: CheckedRule, facts: RegistrantFacts, context: EvaluationContext): Value {
  return new Evaluator(context).run(rule.ir, new Map([[0, { kind: 'registrant', facts }]]));
}

/** True only when the rule holds (unknown does not match), as a compiled condition selects. */
export function matchesRule(rule: CheckedRule, facts: RegistrantFacts, context: EvaluationContext): boolean {
  return evaluateRule(rule, facts, context) === true;
}

class Evaluator {
  constructor(private readonly context: EvaluationContext) {}

  run(ir: Ir, rows: Map<number, Row>): Value {
    const r = (x: Ir) => this.run(x, rows);
    switch (ir.k) {
      case 'lit': return ir.v as Value;
      case 'context': return ir.name === 'today' ? this.context.today : this.context.now;
      case 'field': {
        const value = ir.field.fact(this.registrant(rows, ir.scope));
        if (value === undefined || value === null) return null;
        if (ir.t === 'timestamp') return Date.parse(value as string);
        if (ir.t === 'double') return Number(value);
        if (ir.t === 'int') return BigInt(value as number);
        return value as Value;
      }
      case 'custom': {
        const value = this.registrant(rows, ir.scope).custom[ir.name];
        if (value === undefined || value === null) return null;
        if (ir.t === 'int') return BigInt(value as number);
        if (ir.t === 'double') return Number(value);
        return value as Value;
      }
      case 'age': {
        const birthDate = this.registrant(rows, ir.scope).birthDate;
        return birthDate === null ? null : ageInYears(birthDate, this.context.today);
      }
      case 'role': return this.registrant(rows, ir.scope).role ?? null;
      case 'identifierType': return this.identifier(rows, ir.scope).type;
      case 'identifierValueEquals': return (this.identifier(rows, ir.scope).value.normalize('NFC') === ir.literal.normalize('NFC')) !== ir.negate;
      case 'head': {
        const head = this.members(rows, ir.of).find((member) => member.role === 'head');
        if (!head) return null;
        return this.run(ir.value, new Map(rows).set(ir.scope, { kind: 'registrant', facts: head }));
      }
      case 'hasHead': return this.members(rows, ir.of).some((member) => member.role === 'head');
      case 'not': {
        const a = r(ir.a);
        return a === null ? null : !a;
      }
      case 'and': {
        const a = r(ir.a);
        if (a === false) return false;
        const b = r(ir.b);
        if (b === false) return false;
        return a === null || b === null ? null : true;
      }
      case 'or': {
        const a = r(ir.a);
        if (a === true) return true;
        const b = r(ir.b);
        if (b === true) return true;
        return a === null || b === null ? null : false;
      }
      case 'cond': return r(ir.c) === true ? r(ir.a) : r(ir.b);
      case 'cmp': return compare(ir.op, ir.mode, r(ir.a), r(ir.b));
      case 'isNull': return (r(ir.a) === null) !== ir.negate;
      case 'arith': {
        const a = r(ir.a);
        const b = r(ir.b);
        if (a === null || b === null) return null;
        if (ir.t === 'int') {
          const [x, y] = [a as bigint, b as bigint];
          switch (ir.op) {
            case '+': return x + y;
            case '-': return x - y;
            case '*': return x * y;
            case '/': return y === 0n ? null : x / y;
            case '%': return y === 0n ? null : x % y;
          }
        }
        const [x, y] = [a as number, b as number];
        switch (ir.op) {
          case '+': return x + y;
          case '-': return x - y;
          case '*': return x * y;
          case '/': return y === 0 ? null : x / y;
          case '%': return null;
        }
      }
      // falls through (every case returns)
      case 'concat': {
        const a = r(ir.a);
        const b = r(ir.b);
        return a === null || b === null ? null : (a as string) + (b as string);
      }
      case 'shift': {
        const a = r(ir.a);
        const b = r(ir.b);
        if (a === null || b === null) return null;
        return ir.op === '+' ? (a as number) + (b as number) : (a as number) - (b as number);
      }
      case 'neg': {
        const a = r(ir.a);
        return a === null ? null : typeof a === 'bigint' ? -a : -(a as number);
      }
      case 'toDouble': {
        const a = r(ir.a);
        return a === null ? null : Number(a);
      }
      case 'toInt': {
        const a = r(ir.a);
        return a === null ? null : BigInt(Math.trunc(a as number));
      }
      case 'inList': {
        const a = r(ir.a);
        let result: boolean | null = false;
        for (const item of ir.items) {
          const equal = compare('==', ir.mode, a, r(item));
          if (equal === true) return true;
          if (equal === null) result = null;
        }
        return result;
      }
      case 'listHas': {
        const list = r(ir.list) as string[] | null;
        const a = r(ir.a);
        return list === null || a === null ? null : list.includes(a as string);
      }
      case 'size': {
        const a = r(ir.a);
        if (a === null) return null;
        return BigInt(ir.of === 'string' ? [...(a as string)].length : (a as string[]).length);
      }
      case 'text': {
        const a = r(ir.a) as string | null;
        const b = r(ir.b) as string | null;
        if (a === null || b === null) return null;
        switch (ir.fn) {
          case 'contains': return a.includes(b);
          case 'startsWith': return a.startsWith(b);
          case 'endsWith': return a.endsWith(b);
          case 'matches': return new RegExp(b, 'u').test(a);
        }
      }
      // falls through (every case returns)
      case 'has': return r(ir.a) !== null;
      case 'inArea': return this.registrant(rows, ir.scope).areaPath.includes(ir.code);
      case 'quantifier': {
        const elements = this.relation(ir.rel, rows);
        const holds = (row: Map<number, Row>) => (ir.pred ? this.run(ir.pred, row) === true : true);
        switch (ir.q) {
          case 'exists': return elements.some(holds);
          case 'all': return elements.every(holds);
          case 'exists_one': return elements.filter(holds).length === 1;
          case 'count': return BigInt(elements.filter(holds).length);
        }
      }
      // falls through (every case returns)
      case 'aggregate': {
        const values = this.relation(ir.rel, rows).map((row) => this.run(ir.value, row)).filter((value) => value !== null) as Array<bigint | number | string>;
        const isInt = ir.value.t === 'int';
        switch (ir.fn) {
          case 'sum': return isInt ? (values as bigint[]).reduce((x, y) => x + y, 0n) : exactSum(values as number[]);
          case 'avg': {
            if (values.length === 0) return null;
            const total = isInt ? Number((values as bigint[]).reduce((x, y) => x + y, 0n)) : exactSum(values as number[]);
            return total / values.length;
          }
          case 'min': return values.length === 0 ? null : values.reduce((x, y) => (y < x ? y : x));
          case 'max': return values.length === 0 ? null : values.reduce((x, y) => (y > x ? y : x));
        }
      }
      // falls through (every case returns)
      case 'mapHas': {
        const a = r(ir.a);
        return this.relation(ir.rel, rows).some((row) => compare('==', ir.mode, this.run(ir.value, row), a) === true);
      }
      case 'external': {
        const value = this.context.externals?.[ir.variable.code];
        if (value === undefined || value === null) return null;
        if (ir.t === 'int') return BigInt(value as number);
        if (ir.t === 'double') return Number(value);
        return value as Value;
      }
    }
  }

  /** The rows of a relation that pass its filters, each as the row map its predicates see. */
  private relation(rel: Relation, rows: Map<number, Row>): Array<Map<number, Row>> {
    const owner = this.registrant(rows, rel.of);
    const elements: Row[] = rel.name === 'members'
      ? (owner.members ?? []).map((facts) => ({ kind: 'registrant', facts }))
      : owner.identifiers.map((identifier) => ({ kind: 'identifier', identifier }));
    return elements
      .map((element) => new Map(rows).set(rel.scope, element))
      .filter((row) => rel.filters.every((filter) => this.run(filter, row) === true));
  }

  private members(rows: Map<number, Row>, scope: number): RegistrantFacts[] {
    return this.registrant(rows, scope).members ?? [];
  }

  private registrant(rows: Map<number, Row>, scope: number): RegistrantFacts {
    const row = rows.get(scope);
    if (row?.kind !== 'registrant') throw new Error(`scope ${scope} is not a registrant`);
    return row.facts;
  }

  private identifier(rows: Map<number, Row>, scope: number) {
    const row = rows.get(scope);
    if (row?.kind !== 'identifier') throw new Error(`scope ${scope} is not an identifier`);
    return row.identifier;
  }
}

function compare(op: string, mode: CompareMode, a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  let x: unknown = a;
  let y: unknown = b;
  if (mode === 'double') {
    x = Number(a);
    y = Number(b);
  }
  switch (op) {
    case '==': return x === y;
    case '!=': return x !== y;
    case '<': return (x as number) < (y as number);
    case '<=': return (x as number) <= (y as number);
    case '>': return (x as number) > (y as number);
    default: return (x as number) >= (y as number);
  }
}
