import { parse, type ASTNode } from '@marcbachmann/cel-js';
import type { RegistrantKind } from '../registry/registry.tables.js';
import {
  positionAt, type CheckedRule, type CompareMode, type CompareOperator, type Ir, type ProblemKind, type Relation, type RuleProblem,
  type RuleVariable, type ScalarType, type SymbolTable,
} from './rules.types.js';
import { parseDuration, isCalendarDate } from './rules.values.js';

/** An expression that does not type-check: every problem with its position. */
export class RuleCheckError extends Error {
  constructor(readonly problems: RuleProblem[]) {
    super(problems.map((p) => `${p.message} (line ${p.position.line}, column ${p.position.column})`).join('; '));
  }
}

class Problem extends Error {
  constructor(readonly kind: ProblemKind, message: string, readonly offset: number, readonly expected?: string) {
    super(message);
  }
}

/** What a name or sub-expression stands for while checking: a value, or a row/relation to navigate. */
type Checked =
  | { is: 'value'; ir: Ir }
  | { is: 'record'; kind: RegistrantKind | 'identifier'; scope: number; head?: { of: number } }
  | { is: 'relation'; rel: Relation; element: RegistrantKind | 'identifier' }
  | { is: 'mapped'; rel: Relation; value: Ir }
  | { is: 'custom'; kind: RegistrantKind; scope: number; head?: { of: number } };

interface Frame {
  /** Iteration variables in scope: name → row. */
  names: Map<string, { kind: RegistrantKind | 'identifier'; scope: number }>;
  /** Variables being expanded (cycle detection). */
  expanding: string[];
}

const MAX_EXPRESSION_LENGTH = 10_000;
const COMPARE = new Set(['==', '!=', '<', '<=', '>', '>=']);
const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);
const TEXT_FUNCTIONS = new Set(['contains', 'startsWith', 'endsWith', 'matches']);
const RELATION_MACROS = new Set(['exists', 'all', 'exists_one', 'count', 'filter', 'map', 'sum', 'avg', 'min', 'max', 'size']);
// A conservative regular-expression subset that JavaScript and PostgreSQL read the same way.
const PORTABLE_REGEX = /^(?:[A-Za-z0-9 _\-.,:;'"/@#&=!<>]|\\[dswDSW.\\^$|?*+()[\]{}-]|[\^$|?*+()[\]{}])*$/;

/**
 * Type-checks an expression against a subject's symbol table and produces its typed form (Ir).
 * Parsing is cel-js's; names, types and what may be compiled to SQL are decided here, with the
 * character position of each problem.
 */
export function checkRule(expression: string, symbols: SymbolTable): CheckedRule {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new RuleCheckError([{ kind: 'syntax_error', message: `The expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, position: positionAt(expression, MAX_EXPRESSION_LENGTH) }]);
  }
  const checker = new Checker(expression, symbols);
  try {
    const ast = parseOrThrow(expression);
    const ir = checker.value(ast, { names: new Map(), expanding: [] });
    return { subject: symbols.subject, expression, type: ir.t, ir, ...checker.collected() };
  } catch (error) {
    if (error instanceof Problem) {
      throw new RuleCheckError([{ kind: error.kind, message: error.message, ...(error.expected ? { expected: error.expected } : {}), position: positionAt(expression, error.offset) }]);
    }
    throw error;
  }
}

function parseOrThrow(expression: string): ASTNode {
  try {
    return parse(expression).ast;
  } catch (error) {
    const parseError = error as { summary?: string; message: string; range?: { start: number } };
    throw new Problem('syntax_error', parseError.summary ?? parseError.message.split('\n')[0]!, parseError.range?.start ?? 0);
  }
}

class Checker {
  private nextScope = 1;
  private readonly areaCodes: CheckedRule['areaCodes'] = [];
  private readonly codes: CheckedRule['codes'] = [];
  private usesIdentifiers = false;
  private readonly externals = new Map<string, RuleVariable>();
  /** When expanding a variable, positions point at the variable's use in the user's expression. */
  private anchor: number | undefined;

  constructor(private readonly source: string, private readonly symbols: SymbolTable) {}

  collected() {
    return { areaCodes: this.areaCodes, codes: this.codes, usesIdentifiers: this.usesIdentifiers, externals: [...this.externals.values()] };
  }

  private at(node: ASTNode): number {
    return this.anchor ?? node.start;
  }

  private fail(kind: ProblemKind, message: string, node: ASTNode, expected?: string): never {
    throw new Problem(kind, message, this.at(node), expected);
  }

  /** A sub-expression that must be a value. */
  value(node: ASTNode, frame: Frame): Ir {
    const checked = this.node(node, frame);
    if (checked.is === 'value') return checked.ir;
    if (checked.is === 'relation' || checked.is === 'mapped') {
      this.fail('wrong_type', 'A list of related records cannot be used as a value here; use size(), exists(), all(), count() or an aggregate', node, 'a value');
    }
    if (checked.is === 'custom') this.fail('unknown_field', 'custom needs a field name, e.g. custom.my_field', node, 'custom.<field>');
    this.fail('wrong_type', 'A record cannot be used as a value here; name one of its fields, e.g. head.gender', node, 'a value');
  }

  private typed(node: ASTNode, frame: Frame, expected: ScalarType[], what: string): Ir {
    const ir = this.value(node, frame);
    if (!expected.includes(ir.t) && ir.t !== 'null') {
      this.fail('wrong_type', `${what} must be ${describe(expected)}, not ${describe([ir.t])}`, node, describe(expected));
    }
    return ir;
  }

  private node(node: ASTNode, frame: Frame): Checked {
    switch (node.op) {
      case 'value': return { is: 'value', ir: this.literal(node) };
      case 'id': return this.name(node.args, node, frame);
      case '.': return this.select(node.args[0], node.args[1], node, frame);
      case '&&': case '||': {
        const a = this.typed(node.args[0], frame, ['bool'], `The left side of ${node.op}`);
        const b = this.typed(node.args[1], frame, ['bool'], `The right side of ${node.op}`);
        return { is: 'value', ir: { k: node.op === '&&' ? 'and' : 'or', t: 'bool', a, b } };
      }
      case '!_': return { is: 'value', ir: { k: 'not', t: 'bool', a: this.typed(node.args, frame, ['bool'], 'The operand of !') } };
      case '-_': {
        const a = this.typed(node.args, frame, ['int', 'double'], 'The operand of -');
        if (a.k === 'lit' && typeof a.v === 'bigint') return { is: 'value', ir: { k: 'lit', t: 'int', v: -a.v } };
        if (a.k === 'lit' && typeof a.v === 'number') return { is: 'value', ir: { k: 'lit', t: 'double', v: -a.v } };
        return { is: 'value', ir: { k: 'neg', t: a.t as 'int' | 'double', a } };
      }
      case '?:': return { is: 'value', ir: this.conditional(node.args, node, frame) };
      case 'in': return { is: 'value', ir: this.membership(node.args[0], node.args[1], node, frame) };
      case 'call': return this.call(node.args[0], node.args[1], node, frame);
      case 'rcall': return this.receiverCall(node.args[0], node.args[1], node.args[2], node, frame);
      case 'list': this.fail('wrong_type', 'A list is only allowed on the right of `in`', node, 'x in [a, b, …]');
      // falls through (fail never returns)
      case 'map': this.fail('not_compilable', 'Map literals are not supported in rules', node);
      // falls through
      case '[]': case '[?]': this.fail('not_compilable', 'Indexing is not supported in rules; use exists(), in or a field name', node);
      // falls through
      case '.?': this.fail('not_compilable', 'Optional selection is not supported; use has()', node);
      // falls through
      default: {
        const op = node.op as string;
        if (COMPARE.has(op)) return { is: 'value', ir: this.compare(op as CompareOperator, (node.args as [ASTNode, ASTNode]), node, frame) };
        if (ARITHMETIC.has(op)) return { is: 'value', ir: this.arithmetic(op as '+', (node.args as [ASTNode, ASTNode]), node, frame) };
        this.fail('not_compilable', `Operator ${op} is not supported in rules`, node);
      }
    }
  }

  private literal(node: ASTNode & { op: 'value' }): Ir {
    const value = node.args;
    if (typeof value === 'bigint') return { k: 'lit', t: 'int', v: value };
    if (typeof value === 'number') return { k: 'lit', t: 'double', v: value };
    if (typeof value === 'string') return { k: 'lit', t: 'string', v: value };
    if (typeof value === 'boolean') return { k: 'lit', t: 'bool', v: value };
    if (value === null) return { k: 'lit', t: 'null', v: null };
    if (value instanceof Uint8Array) this.fail('not_compilable', 'Bytes literals are not supported in rules', node, 'a string');
    this.fail('not_compilable', 'Unsigned integers are not supported in rules; write the number without u', node, 'int');
  }

  private name(name: string, node: ASTNode, frame: Frame): Checked {
    const bound = frame.names.get(name);
    if (bound) return { is: 'record', kind: bound.kind, scope: bound.scope };
    const variable = this.symbols.variables[name];
    if (variable) return { is: 'value', ir: this.variable(variable, node, frame) };
    const subject = this.symbols.subject;
    const field = this.symbols.fields[subject][name];
    if (field) return { is: 'value', ir: { k: 'field', t: field.type, scope: 0, name, field } };
    switch (name) {
      case 'today': return { is: 'value', ir: { k: 'context', t: 'date', name: 'today' } };
      case 'now': return { is: 'value', ir: { k: 'context', t: 'timestamp', name: 'now' } };
      case 'custom': return { is: 'custom', kind: subject, scope: 0 };
      case 'identifiers':
        this.usesIdentifiers = true;
        return { is: 'relation', rel: { name: 'identifiers', of: 0, scope: this.nextScope++, filters: [] }, element: 'identifier' };
    }
    if (subject === 'individual' && name === 'age') return { is: 'value', ir: { k: 'age', t: 'int', scope: 0 } };
    if (subject === 'group') {
      if (name === 'members') return { is: 'relation', rel: { name: 'members', of: 0, scope: this.nextScope++, filters: [] }, element: 'individual' };
      if (name === 'head') return { is: 'record', kind: 'individual', scope: this.nextScope++, head: { of: 0 } };
      if (name === 'size') return { is: 'value', ir: { k: 'quantifier', t: 'int', q: 'count', rel: { name: 'members', of: 0, scope: this.nextScope++, filters: [] }, pred: null } };
    }
    this.fail('unknown_name', `Unknown name "${name}" for a${subject === 'individual' ? 'n individual' : ' group'}`, node, `one of: ${this.knownNames().join(', ')}`);
  }

  private knownNames(): string[] {
    const subject = this.symbols.subject;
    return [
      ...Object.keys(this.symbols.fields[subject]), ...Object.keys(this.symbols.variables),
      ...(subject === 'individual' ? ['age'] : ['members', 'head', 'size']), 'identifiers', 'custom', 'today', 'now',
    ].sort();
  }

  /** A variable: constants become literals, expressions are checked in place (once per use). */
  private variable(variable: RuleVariable, node: ASTNode, frame: Frame): Ir {
    if (variable.kind === 'constant') return constantIr(variable);
    if (variable.kind === 'external') {
      this.externals.set(variable.code, variable);
      return { k: 'external', t: variable.resultType, scope: 0, variable };
    }
    if (frame.expanding.includes(variable.code)) {
      this.fail('variable_cycle', `Variable ${variable.code} is defined in terms of itself (${[...frame.expanding, variable.code].join(' → ')})`, node);
    }
    const anchor = this.anchor;
    this.anchor = this.at(node);
    try {
      const ast = parseOrThrow(variable.definition ?? '');
      // Iteration variables of the caller are not visible inside a variable's definition.
      const ir = this.value(ast, { names: new Map(), expanding: [...frame.expanding, variable.code] });
      if (ir.t !== variable.resultType && !(ir.t === 'int' && variable.resultType === 'double')) {
        this.fail('wrong_type', `Variable ${variable.code} is declared ${variable.resultType} but its definition is ${ir.t}`, node, variable.resultType);
      }
      return ir.t === 'int' && variable.resultType === 'double' ? { k: 'toDouble', t: 'double', a: ir } : ir;
    } catch (error) {
      if (error instanceof Problem && error.offset === this.at(node) && !error.message.startsWith('Variable ') && error.kind !== 'variable_cycle') {
        throw new Problem(error.kind, `In variable ${variable.code}: ${error.message}`, error.offset, error.expected);
      }
      throw error;
    } finally {
      this.anchor = anchor;
    }
  }

  private select(target: ASTNode, field: string, node: ASTNode, frame: Frame): Checked {
    const base = this.node(target, frame);
    if (base.is === 'custom') {
      const type = this.symbols.customFields[base.kind][field];
      if (!type) this.fail('unknown_field', `Unknown custom field "${field}"`, node, describe([]) && `one of: ${Object.keys(this.symbols.customFields[base.kind]).join(', ') || '(none defined)'}`);
      return this.onRecord(base, { k: 'custom', t: type, scope: base.scope, name: field });
    }
    if (base.is !== 'record') {
      this.fail('unknown_field', `"${field}" cannot be selected here: only records (a member, the head, an identifier) and custom have fields`, node);
    }
    if (base.kind === 'identifier') {
      if (field === 'type') return { is: 'value', ir: { k: 'identifierType', t: 'string', scope: base.scope } };
      if (field === 'value') {
        this.fail('restricted_field', 'An identifier value is encrypted: it can only be compared for equality with a string literal (i.value == "…")', node, 'i.value == "…"');
      }
      this.fail('unknown_field', `Unknown identifier field "${field}"`, node, 'type or value');
    }
    if (field === 'custom') return { is: 'custom', kind: base.kind, scope: base.scope, ...(base.head ? { head: base.head } : {}) };
    const known = this.symbols.fields[base.kind][field];
    if (known) return this.onRecord(base, { k: 'field', t: known.type, scope: base.scope, name: field, field: known });
    if (base.kind === 'individual' && field === 'age') return this.onRecord(base, { k: 'age', t: 'int', scope: base.scope });
    if (field === 'role' && !base.head && base.scope !== 0) return { is: 'value', ir: { k: 'role', t: 'string', scope: base.scope } };
    this.fail('unknown_field', `Unknown field "${field}" of ${base.kind === 'individual' ? 'an individual' : 'a group'}`, node,
      `one of: ${[...Object.keys(this.symbols.fields[base.kind]), ...(base.kind === 'individual' ? ['age'] : []), 'custom', ...(base.head ? [] : ['role'])].join(', ')}`);
  }

  /** A value read on a record; on the head, it is read through the head's own subquery. */
  private onRecord(base: { scope: number; head?: { of: number } }, ir: Ir): Checked {
    if (!base.head) return { is: 'value', ir };
    return { is: 'value', ir: { k: 'head', t: ir.t, of: base.head.of, scope: base.scope, value: ir } };
  }

  private compare(op: CompareOperator, [left, right]: [ASTNode, ASTNode], node: ASTNode, frame: Frame): Ir {
    const restricted = this.restrictedEquality(op, left, right, frame) ?? this.restrictedEquality(op, right, left, frame);
    if (restricted) return restricted;
    const a = this.value(left, frame);
    const b = this.value(right, frame);
    if (a.t === 'null' || b.t === 'null') {
      if (op !== '==' && op !== '!=') this.fail('wrong_type', `null can only be compared with == or !=`, node, '== null or != null');
      if (a.t === 'null' && b.t === 'null') return { k: 'lit', t: 'bool', v: op === '==' };
      return { k: 'isNull', t: 'bool', a: a.t === 'null' ? b : a, negate: op === '!=' };
    }
    const mode = compareMode(a.t, b.t);
    if (!mode) {
      this.fail('wrong_type', `Cannot compare ${describe([a.t])} with ${describe([b.t])}`, node, expectedPartner(a.t));
    }
    if (mode === 'bool' && op !== '==' && op !== '!=') this.fail('wrong_type', `Booleans can only be compared with == or !=`, node, '== or !=');
    this.noteCode(a, b, right);
    this.noteCode(b, a, left);
    return { k: 'cmp', t: 'bool', op, mode, a, b };
  }

  /** `i.value == "…"`: the only thing an encrypted identifier value allows. */
  private restrictedEquality(op: CompareOperator, valueSide: ASTNode, literalSide: ASTNode, frame: Frame): Ir | undefined {
    if (valueSide.op !== '.' || valueSide.args[1] !== 'value') return undefined;
    const base = valueSide.args[0].op === 'id' ? frame.names.get(valueSide.args[0].args) : undefined;
    if (!base || base.kind !== 'identifier') return undefined;
    if (op !== '==' && op !== '!=') this.fail('restricted_field', `An identifier value is encrypted: ${op} is not possible, only == and != with a string literal`, valueSide, '== or !=');
    if (literalSide.op !== 'value' || typeof literalSide.args !== 'string') {
      this.fail('restricted_field', 'An identifier value is encrypted: it can only be compared with a string literal', literalSide, 'a string literal');
    }
    return { k: 'identifierValueEquals', t: 'bool', scope: base.scope, literal: literalSide.args as string, negate: op === '!=' };
  }

  private noteCode(field: Ir, literal: Ir, node: ASTNode): void {
    if (field.k === 'field' && field.field.vocabulary && literal.k === 'lit' && typeof literal.v === 'string') {
      this.codes.push({ vocabulary: field.field.vocabulary, code: literal.v, position: positionAt(this.source, this.at(node)) });
    }
    if (field.k === 'head') this.noteCode(field.value, literal, node);
  }

  private arithmetic(op: '+' | '-' | '*' | '/' | '%', [left, right]: [ASTNode, ASTNode], node: ASTNode, frame: Frame): Ir {
    const a = this.value(left, frame);
    const b = this.value(right, frame);
    if (op === '+' && a.t === 'string' && b.t === 'string') return { k: 'concat', t: 'string', a, b };
    if ((op === '+' || op === '-') && a.t === 'timestamp' && b.t === 'duration') return { k: 'shift', t: 'timestamp', op, a, b };
    const numeric: ScalarType[] = ['int', 'double'];
    if (!numeric.includes(a.t)) this.fail('wrong_type', `The left side of ${op} must be a number, not ${describe([a.t])}`, left, 'int or double');
    if (!numeric.includes(b.t)) this.fail('wrong_type', `The right side of ${op} must be a number, not ${describe([b.t])}`, right, 'int or double');
    if (a.t === 'int' && b.t === 'int') return { k: 'arith', t: 'int', op, a, b };
    if (op === '%') this.fail('wrong_type', '% needs two integers', node, 'int % int');
    return { k: 'arith', t: 'double', op, a: asDouble(a), b: asDouble(b) };
  }

  private conditional([c, a, b]: [ASTNode, ASTNode, ASTNode], node: ASTNode, frame: Frame): Ir {
    const condition = this.typed(c, frame, ['bool'], 'The condition of ?:');
    let yes = this.value(a, frame);
    let no = this.value(b, frame);
    if (yes.t !== no.t && yes.t !== 'null' && no.t !== 'null') {
      if ((yes.t === 'int' && no.t === 'double') || (yes.t === 'double' && no.t === 'int')) {
        yes = asDouble(yes);
        no = asDouble(no);
      } else {
        this.fail('wrong_type', `Both branches of ?: must have the same type (${describe([yes.t])} and ${describe([no.t])})`, node, describe([yes.t]));
      }
    }
    return { k: 'cond', t: yes.t === 'null' ? no.t : yes.t, c: condition, a: yes, b: no };
  }

  private membership(left: ASTNode, right: ASTNode, node: ASTNode, frame: Frame): Ir {
    const a = this.value(left, frame);
    if (right.op === 'list') {
      const items = right.args.map((item) => this.value(item, frame));
      if (items.length === 0) return { k: 'lit', t: 'bool', v: false };
      let mode: CompareMode | undefined;
      for (const [index, item] of items.entries()) {
        const itemMode = compareMode(a.t, item.t);
        if (!itemMode) this.fail('wrong_type', `Cannot compare ${describe([a.t])} with ${describe([item.t])}`, right.args[index]!, describe([a.t]));
        mode = mode === 'double' || itemMode === 'double' ? 'double' : itemMode;
        this.noteCode(a, item, right.args[index]!);
      }
      return { k: 'inList', t: 'bool', mode: mode!, a, items };
    }
    const list = this.node(right, frame);
    if (list.is === 'mapped') {
      const mode = compareMode(a.t, list.value.t);
      if (!mode) this.fail('wrong_type', `Cannot look for ${describe([a.t])} among ${describe([list.value.t])} values`, node, describe([list.value.t]));
      return { k: 'mapHas', t: 'bool', rel: list.rel, value: list.value, a, mode };
    }
    if (list.is === 'value' && list.ir.t === 'list<string>') {
      if (a.t !== 'string') this.fail('wrong_type', `Cannot look for ${describe([a.t])} in a list of strings`, left, 'a string');
      return { k: 'listHas', t: 'bool', list: list.ir, a };
    }
    this.fail('wrong_type', 'The right side of `in` must be a list: [a, b, …], a list field or members.map(m, …)', right, 'a list');
  }

  private call(name: string, args: ASTNode[], node: ASTNode, frame: Frame): Checked {
    const arity = (n: number, signature: string) => {
      if (args.length !== n) this.fail('wrong_arguments', `${name}() takes ${n} argument${n === 1 ? '' : 's'}`, node, signature);
    };
    switch (name) {
      case 'has': {
        arity(1, 'has(field)');
        const target = this.node(args[0]!, frame);
        if (target.is === 'record' && target.head) return { is: 'value', ir: { k: 'hasHead', t: 'bool', of: target.head.of } };
        if (args[0]!.op !== '.' && args[0]!.op !== 'id') this.fail('wrong_arguments', 'has() takes a field, e.g. has(birth_date) or has(custom.x)', args[0]!, 'has(field)');
        if (target.is !== 'value') this.fail('wrong_arguments', 'has() takes a field, e.g. has(birth_date) or has(custom.x)', args[0]!, 'has(field)');
        return { is: 'value', ir: { k: 'has', t: 'bool', a: target.ir } };
      }
      case 'size': {
        arity(1, 'size(x)');
        return { is: 'value', ir: this.size(args[0]!, frame) };
      }
      case 'in_area': {
        arity(1, 'in_area("AREA-CODE")');
        const code = this.stringLiteral(args[0]!, 'in_area() takes an area code as a string literal');
        this.areaCodes.push({ code, position: positionAt(this.source, this.at(args[0]!)) });
        return { is: 'value', ir: { k: 'inArea', t: 'bool', scope: 0, code } };
      }
      case 'date': {
        arity(1, 'date("YYYY-MM-DD")');
        const text = this.stringLiteral(args[0]!, 'date() takes a string literal "YYYY-MM-DD"');
        if (!isCalendarDate(text)) this.fail('wrong_arguments', `"${text}" is not a calendar date`, args[0]!, 'YYYY-MM-DD');
        return { is: 'value', ir: { k: 'lit', t: 'date', v: text } };
      }
      case 'timestamp': {
        arity(1, 'timestamp("2024-01-31T00:00:00Z")');
        const text = this.stringLiteral(args[0]!, 'timestamp() takes an RFC 3339 string literal');
        const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
        if (Number.isNaN(ms)) this.fail('wrong_arguments', `"${text}" is not an RFC 3339 timestamp with a zone`, args[0]!, '2024-01-31T00:00:00Z');
        return { is: 'value', ir: { k: 'lit', t: 'timestamp', v: ms } };
      }
      case 'duration': {
        arity(1, 'duration("720h")');
        const text = this.stringLiteral(args[0]!, 'duration() takes a string literal such as "720h" or "90m"');
        const ms = parseDuration(text);
        if (ms === undefined) this.fail('wrong_arguments', `"${text}" is not a duration`, args[0]!, 'e.g. "720h", "1h30m", "45s"');
        return { is: 'value', ir: { k: 'lit', t: 'duration', v: ms } };
      }
      case 'double': {
        arity(1, 'double(int)');
        const a = this.typed(args[0]!, frame, ['int', 'double'], 'The argument of double()');
        return { is: 'value', ir: asDouble(a) };
      }
      case 'int': {
        arity(1, 'int(double)');
        const a = this.typed(args[0]!, frame, ['int', 'double'], 'The argument of int()');
        return { is: 'value', ir: a.t === 'int' ? a : { k: 'toInt', t: 'int', a } };
      }
      default:
        this.fail('unknown_function', `Unknown function ${name}()`, node, 'has, size, in_area, date, timestamp, duration, double, int');
    }
  }

  private size(target: ASTNode, frame: Frame): Ir {
    const checked = this.node(target, frame);
    if (checked.is === 'relation' || checked.is === 'mapped') return { k: 'quantifier', t: 'int', q: 'count', rel: checked.rel, pred: null };
    if (checked.is === 'value' && checked.ir.t === 'string') return { k: 'size', t: 'int', of: 'string', a: checked.ir };
    if (checked.is === 'value' && checked.ir.t === 'list<string>') return { k: 'size', t: 'int', of: 'list', a: checked.ir };
    this.fail('wrong_type', 'size() takes a string, a list field or a relation (members, identifiers)', target, 'a string, list or relation');
  }

  private stringLiteral(node: ASTNode, message: string): string {
    if (node.op !== 'value' || typeof node.args !== 'string') this.fail('wrong_arguments', message, node, 'a string literal');
    return node.args as string;
  }

  private receiverCall(name: string, target: ASTNode, args: ASTNode[], node: ASTNode, frame: Frame): Checked {
    if (TEXT_FUNCTIONS.has(name)) {
      const a = this.typed(target, frame, ['string'], `The receiver of ${name}()`);
      if (args.length !== 1) this.fail('wrong_arguments', `${name}() takes 1 argument`, node, `s.${name}("…")`);
      if (name === 'matches') {
        const pattern = this.stringLiteral(args[0]!, 'matches() takes a regular expression as a string literal');
        if (!PORTABLE_REGEX.test(pattern) || !isValidRegex(pattern)) {
          this.fail('wrong_arguments', 'This regular expression uses syntax that is not read the same way everywhere; use letters, digits, . * + ? | ( ) [ ] { } ^ $ and \\d \\s \\w', args[0]!, 'a simple regular expression');
        }
        return { is: 'value', ir: { k: 'text', t: 'bool', fn: 'matches', a, b: { k: 'lit', t: 'string', v: pattern } } };
      }
      const b = this.typed(args[0]!, frame, ['string'], `The argument of ${name}()`);
      return { is: 'value', ir: { k: 'text', t: 'bool', fn: name as 'contains', a, b } };
    }
    if (!RELATION_MACROS.has(name)) {
      this.fail('unknown_function', `Unknown method ${name}()`, node, 'contains, startsWith, endsWith, matches, or on a relation: exists, all, exists_one, count, filter, map, sum, avg, min, max, size');
    }
    const receiver = this.node(target, frame);
    if (name === 'size' && receiver.is === 'value') {
      if (args.length !== 0) this.fail('wrong_arguments', 'size() takes no argument here', node, 'x.size()');
      return { is: 'value', ir: this.size(target, frame) };
    }
    if (receiver.is === 'mapped' && name === 'size' && args.length === 0) return { is: 'value', ir: { k: 'quantifier', t: 'int', q: 'count', rel: receiver.rel, pred: null } };
    if (receiver.is !== 'relation') {
      this.fail('wrong_type', `${name}() works on a relation (members, identifiers)`, target, 'members or identifiers');
    }
    if (name === 'size') {
      if (args.length !== 0) this.fail('wrong_arguments', 'size() takes no argument', node, 'members.size()');
      return { is: 'value', ir: { k: 'quantifier', t: 'int', q: 'count', rel: receiver.rel, pred: null } };
    }
    if (args.length !== 2 || args[0]!.op !== 'id') {
      this.fail('wrong_arguments', `${name}() takes a variable name and an expression, e.g. members.${name}(m, m.age < 5)`, node, `${name}(m, …)`);
    }
    const variableName = (args[0] as ASTNode & { op: 'id' }).args;
    const names = new Map(frame.names);
    names.set(variableName, { kind: receiver.element, scope: receiver.rel.scope });
    const inner: Frame = { names, expanding: frame.expanding };
    const rel = receiver.rel;
    switch (name) {
      case 'exists': case 'all': case 'exists_one': case 'count': case 'filter': {
        const pred = this.typed(args[1]!, inner, ['bool'], `The condition of ${name}()`);
        if (name === 'filter') return { is: 'relation', rel: { ...rel, filters: [...rel.filters, pred] }, element: receiver.element };
        return { is: 'value', ir: { k: 'quantifier', t: name === 'count' ? 'int' : 'bool', q: name, rel, pred } };
      }
      case 'map': return { is: 'mapped', rel, value: this.value(args[1]!, inner) };
      default: {
        const fn = name as 'sum' | 'avg' | 'min' | 'max';
        const allowed: ScalarType[] = fn === 'sum' || fn === 'avg' ? ['int', 'double'] : ['int', 'double', 'date', 'timestamp'];
        const value = this.typed(args[1]!, inner, allowed, `The value of ${fn}()`);
        const t = fn === 'avg' ? 'double' : value.t as 'int';
        return { is: 'value', ir: { k: 'aggregate', t, fn, rel, value } };
      }
    }
  }
}

function constantIr(variable: RuleVariable): Ir {
  const { value, resultType } = variable;
  if (value === null || value === undefined) return { k: 'lit', t: resultType, v: null };
  if (resultType === 'int') return { k: 'lit', t: 'int', v: BigInt(value as number | string) };
  if (resultType === 'double') return { k: 'lit', t: 'double', v: Number(value) };
  if (resultType === 'duration') return { k: 'lit', t: 'duration', v: parseDuration(String(value)) ?? null };
  if (resultType === 'timestamp') return { k: 'lit', t: 'timestamp', v: Date.parse(String(value)) };
  return { k: 'lit', t: resultType, v: value };
}

function asDouble(ir: Ir): Ir {
  if (ir.t !== 'int') return ir;
  if (ir.k === 'lit') return { k: 'lit', t: 'double', v: ir.v === null ? null : Number(ir.v) };
  return { k: 'toDouble', t: 'double', a: ir };
}

export function compareMode(a: ScalarType, b: ScalarType): CompareMode | undefined {
  const numeric = (t: ScalarType) => t === 'int' || t === 'double';
  if (numeric(a) && numeric(b)) return a === 'int' && b === 'int' ? 'int' : 'double';
  if (a !== b) return undefined;
  return a === 'string' || a === 'date' || a === 'timestamp' || a === 'bool' ? a : undefined;
}

function expectedPartner(t: ScalarType): string {
  switch (t) {
    case 'date': return 'a date, e.g. date("2000-01-31") or today';
    case 'timestamp': return 'a timestamp, e.g. timestamp("2024-01-31T00:00:00Z") or now';
    case 'int': case 'double': return 'a number';
    default: return describe([t]);
  }
}

function describe(types: ScalarType[]): string {
  const words: Record<string, string> = {
    int: 'an int', double: 'a double', string: 'a string', bool: 'a bool', date: 'a date', timestamp: 'a timestamp',
    duration: 'a duration', 'list<string>': 'a list of strings', null: 'null',
  };
  return types.map((t) => words[t] ?? t).join(' or ');
}

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}
