import type { RegistrantKind } from '../registry/registry.tables.js';
import type { RuleField, RuleValueType } from '../registry/registry.rule-catalogue.js';
import type { ExternalFailurePolicy } from './rules.tables.js';

/** The subjects a rule can be written for (program memberships and entitlements come with programs). */
export type RuleSubject = RegistrantKind;
export const ruleSubjects: readonly RuleSubject[] = ['individual', 'group'];

/** Types of values; `null` only for the `null` literal. */
export type ScalarType = RuleValueType | 'duration' | 'null';

/** Where in the expression: 0-based character offset, 1-based line and column. */
export interface Position {
  offset: number;
  line: number;
  column: number;
}

export type ProblemKind =
  | 'syntax_error' | 'unknown_name' | 'unknown_field' | 'unknown_function' | 'wrong_type' | 'wrong_arguments'
  | 'restricted_field' | 'not_compilable' | 'unknown_code' | 'unknown_area' | 'variable_cycle';

export interface RuleProblem {
  kind: ProblemKind;
  message: string;
  /** What would have been accepted there, e.g. "int or double". */
  expected?: string;
  position: Position;
}

export function positionAt(source: string, offset: number): Position {
  const before = source.slice(0, Math.max(0, Math.min(offset, source.length)));
  const lines = before.split('\n');
  return { offset, line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/** A named variable as the checker sees it (rule_variables rows, or the standard set). */
export interface RuleVariable {
  id?: number;
  code: string;
  subject: RuleSubject;
  kind: 'field' | 'constant' | 'computed' | 'aggregate' | 'external';
  /** Expression for field / computed / aggregate. */
  definition?: string | null;
  /** Constant value (JSON: numbers, strings, booleans; dates as "YYYY-MM-DD"). */
  value?: unknown;
  resultType: ScalarType;
  description: string;
  ttlSeconds?: number | null;
  failurePolicy?: ExternalFailurePolicy | null;
}

/** Everything an expression for one subject may name. */
export interface SymbolTable {
  subject: RuleSubject;
  /** Registrant fields by record kind (the subject's own and, for groups, the members'). */
  fields: Record<RegistrantKind, Record<string, RuleField>>;
  /** Custom field types by record kind and name. */
  customFields: Record<RegistrantKind, Record<string, RuleValueType>>;
  /** Variables for this subject by code (constants already overridden for the program, if any). */
  variables: Record<string, RuleVariable>;
}

/**
 * The checked, typed form of an expression: what both the SQL compiler and the in-memory evaluator
 * walk, so the two cannot disagree about names, types or variables. `scope` numbers a row: 0 is the
 * subject, each relation iteration or head access opens a new one.
 */
export type Ir =
  | { k: 'lit'; t: ScalarType; v: unknown }
  | { k: 'context'; t: 'date' | 'timestamp'; name: 'today' | 'now' }
  | { k: 'field'; t: RuleValueType; scope: number; name: string; field: RuleField }
  | { k: 'custom'; t: RuleValueType; scope: number; name: string }
  | { k: 'age'; t: 'int'; scope: number }
  | { k: 'role'; t: 'string'; scope: number }
  | { k: 'identifierType'; t: 'string'; scope: number }
  | { k: 'identifierValueEquals'; t: 'bool'; scope: number; literal: string; negate: boolean }
  | { k: 'head'; t: ScalarType; of: number; scope: number; value: Ir }
  | { k: 'hasHead'; t: 'bool'; of: number }
  | { k: 'not'; t: 'bool'; a: Ir }
  | { k: 'and' | 'or'; t: 'bool'; a: Ir; b: Ir }
  | { k: 'cond'; t: ScalarType; c: Ir; a: Ir; b: Ir }
  | { k: 'cmp'; t: 'bool'; op: CompareOperator; mode: CompareMode; a: Ir; b: Ir }
  | { k: 'isNull'; t: 'bool'; a: Ir; negate: boolean }
  | { k: 'arith'; t: 'int' | 'double'; op: '+' | '-' | '*' | '/' | '%'; a: Ir; b: Ir }
  | { k: 'concat'; t: 'string'; a: Ir; b: Ir }
  | { k: 'shift'; t: 'timestamp'; op: '+' | '-'; a: Ir; b: Ir }
  | { k: 'neg'; t: 'int' | 'double'; a: Ir }
  | { k: 'toDouble'; t: 'double'; a: Ir }
  | { k: 'toInt'; t: 'int'; a: Ir }
  | { k: 'inList'; t: 'bool'; mode: CompareMode; a: Ir; items: Ir[] }
  | { k: 'listHas'; t: 'bool'; list: Ir; a: Ir }
  | { k: 'size'; t: 'int'; of: 'string' | 'list'; a: Ir }
  | { k: 'text'; t: 'bool'; fn: 'contains' | 'startsWith' | 'endsWith' | 'matches'; a: Ir; b: Ir }
  | { k: 'has'; t: 'bool'; a: Ir }
  | { k: 'inArea'; t: 'bool'; scope: number; code: string }
  | { k: 'quantifier'; t: 'bool' | 'int'; q: 'exists' | 'all' | 'exists_one' | 'count'; rel: Relation; pred: Ir | null }
  | { k: 'aggregate'; t: 'int' | 'double' | 'date' | 'timestamp'; fn: 'sum' | 'avg' | 'min' | 'max'; rel: Relation; value: Ir }
  | { k: 'mapHas'; t: 'bool'; rel: Relation; value: Ir; a: Ir; mode: CompareMode }
  | { k: 'external'; t: ScalarType; scope: number; variable: RuleVariable };

export interface Relation {
  name: 'members' | 'identifiers';
  of: number;
  scope: number;
  /** `filter(...)` predicates, all of which must hold. */
  filters: Ir[];
}

export type CompareOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type CompareMode = 'int' | 'double' | 'string' | 'date' | 'timestamp' | 'bool';

/** The result of checking an expression: its type and typed form, or the problems found. */
export interface CheckedRule {
  subject: RuleSubject;
  expression: string;
  type: ScalarType;
  ir: Ir;
  /** Area codes used by `in_area`, to resolve (and check) before compiling. */
  areaCodes: Array<{ code: string; position: Position }>;
  /** Codes compared with vocabulary-coded fields, to check. */
  codes: Array<{ vocabulary: string; code: string; position: Position }>;
  /** Whether the expression reads the identifiers relation (its SQL needs the identifier types). */
  usesIdentifiers: boolean;
  /** External variables used (their SQL reads the cache). */
  externals: RuleVariable[];
}
