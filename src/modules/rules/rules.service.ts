import crypto from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import type { Actor } from '../../platform/auth/access-tokens.js';
import type { Db } from '../../platform/database/database.js';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import type { RegistrantFacts } from '../registry/registry.rule-catalogue.js';
import { listRuleCustomFields, ruleFields, type RuleValueType } from '../registry/registry.rule-catalogue.js';
import type { RegistryRuleQuery } from '../registry/registry.rule-query.js';
import type { RegistryEncryption } from '../registry/registry.encryption.js';
import type { CodeLookup } from '../registry/registry.service.js';
import type { GroupView, IndividualView } from '../registry/registry.views.js';
import { checkRule, RuleCheckError } from './rules.checker.js';
import { evaluateRule, type EvaluationContext } from './rules.evaluate.js';
import { insertMissingVariables, listVariables } from './rules.repository.js';
import { compileToSql } from './rules.sql.js';
import { positionAt, type CheckedRule, type RuleProblem, type RuleSubject, type SymbolTable } from './rules.types.js';
import { dateInZone, isTimeZone } from './rules.values.js';
import { standardVariables, withOverrides, type ConstantOverrides } from './rules.variables.js';

export interface RuleInput {
  expression: string;
  subject: RuleSubject;
  /** The evaluation instant (RFC 3339); default now. `today` and `age` use its date in `timeZone`. */
  at?: string;
  /** IANA time zone; default the service's (UTC unless configured). */
  timeZone?: string;
  /** Constant overrides by variable code (a program's thresholds). */
  constants?: ConstantOverrides;
}

export interface CompiledRule {
  checked: CheckedRule;
  condition: SQL;
  evaluation: EvaluationContext & { timeZone: string };
  compileMs: number;
}

export interface RuleAreas {
  subtreeAreaIds(code: string): Promise<number[] | undefined>;
}

export const PREVIEW_SIZE = 20;

/**
 * The rules language as a service: symbols for an editor, validation with positions, compilation
 * to SQL run by the registry within the caller's areas, and in-memory evaluation. Never queries
 * registry tables itself: the registry's rule catalogue and rule query do.
 */
export class RuleService {
  constructor(
    private readonly db: Db,
    private readonly deps: {
      codes: Pick<CodeLookup, 'assertCodes' | 'listIdTypes'>;
      areas: RuleAreas;
      query: RegistryRuleQuery;
      encryption: Pick<RegistryEncryption, 'identifierIndex'>;
      defaultTimeZone?: string;
    },
  ) {}

  /** Adds the standard variables a deployment lacks (at start); returns the ones added. */
  installStandardVariables(): Promise<string[]> {
    return insertMissingVariables(this.db, standardVariables);
  }

  async symbolTable(subject: RuleSubject, constants?: ConstantOverrides): Promise<SymbolTable> {
    const custom = await listRuleCustomFields(this.db);
    const customFields: SymbolTable['customFields'] = { individual: {}, group: {} };
    for (const field of custom) customFields[field.appliesTo][field.name] = field.type;
    const variables = withOverrides(await listVariables(this.db, subject), constants);
    return { subject, fields: ruleFields, customFields, variables: Object.fromEntries(variables.map((variable) => [variable.code, variable])) };
  }

  /** What an expression may use, for an editor's autocomplete. */
  async symbols(subject: RuleSubject) {
    const table = await this.symbolTable(subject);
    const fields = (kind: RuleSubject) => Object.entries(table.fields[kind]).map(([name, field]) => ({ name, type: field.type, description: field.description, ...(field.vocabulary ? { vocabulary: field.vocabulary } : {}) }));
    const custom = (kind: RuleSubject) => Object.entries(table.customFields[kind]).map(([name, type]) => ({ name: `custom.${name}`, type, description: 'Custom field' }));
    return {
      subject,
      fields: [
        ...fields(subject), ...custom(subject),
        ...(subject === 'individual'
          ? [{ name: 'age', type: 'int', description: 'Whole years since birth_date on the evaluation date (in its time zone)' }]
          : [{ name: 'size', type: 'int', description: 'Number of active members' }]),
      ],
      relations: subject === 'group'
        ? [
          { name: 'members', element: 'individual', description: 'Active members; each also has role', fields: [...fields('individual'), ...custom('individual'), { name: 'age', type: 'int', description: 'Age' }, { name: 'role', type: 'string', description: 'Membership role' }] },
          { name: 'head', element: 'individual', description: 'The head (one record; unknown fields when there is none)', fields: [...fields('individual'), { name: 'age', type: 'int', description: 'Age' }] },
          { name: 'identifiers', element: 'identifier', description: 'Valid identifiers', fields: [{ name: 'type', type: 'string' }, { name: 'value', type: 'string', description: 'Encrypted: only == "literal"' }] },
        ]
        : [{ name: 'identifiers', element: 'identifier', description: 'Valid identifiers', fields: [{ name: 'type', type: 'string' }, { name: 'value', type: 'string', description: 'Encrypted: only == "literal"' }] }],
      variables: Object.values(table.variables).map((variable) => ({
        name: variable.code, kind: variable.kind, type: variable.resultType, description: variable.description,
        ...(variable.definition ? { definition: variable.definition } : {}), ...(variable.kind === 'constant' ? { value: variable.value } : {}),
      })),
      functions: [
        { name: 'has(field)', type: 'bool' }, { name: 'size(x)', type: 'int' }, { name: 'in_area("CODE")', type: 'bool', description: 'In the area or below it' },
        { name: 'date("YYYY-MM-DD")', type: 'date' }, { name: 'timestamp("…Z")', type: 'timestamp' }, { name: 'duration("720h")', type: 'duration' },
        { name: 'double(x)', type: 'double' }, { name: 'int(x)', type: 'int' },
        { name: 's.contains(t) / s.startsWith(t) / s.endsWith(t) / s.matches("re")', type: 'bool' },
        { name: 'r.exists(x, p) / r.all(x, p) / r.exists_one(x, p) / r.filter(x, p) / r.map(x, e)', type: 'bool / relation' },
        { name: 'r.count(x, p) / r.size()', type: 'int' }, { name: 'r.sum(x, e) / r.avg(x, e) / r.min(x, e) / r.max(x, e)', type: 'number' },
        { name: 'today', type: 'date' }, { name: 'now', type: 'timestamp' },
      ],
    };
  }

  /** Type-checks and resolves area and vocabulary codes: every problem with its position, as a 400. */
  async check(input: RuleInput): Promise<CheckedRule> {
    let checked: CheckedRule;
    try {
      checked = checkRule(input.expression, await this.symbolTable(input.subject, input.constants));
    } catch (error) {
      if (error instanceof RuleCheckError) throw invalidRule(error.problems);
      throw error;
    }
    const problems: RuleProblem[] = [];
    for (const { code, position } of checked.areaCodes) {
      if (!(await this.deps.areas.subtreeAreaIds(code))) problems.push({ kind: 'unknown_area', message: `"${code}" is not an area code`, expected: 'an area code', position });
    }
    for (const { vocabulary, code, position } of checked.codes) {
      await this.deps.codes.assertCodes([{ vocabulary, code, path: '/expression' }])
        .catch(() => problems.push({ kind: 'unknown_code', message: `"${code}" is not a code of the ${vocabulary} vocabulary`, expected: `a ${vocabulary} code`, position }));
    }
    if (problems.length > 0) throw invalidRule(problems);
    return checked;
  }

  async compile(input: RuleInput): Promise<CompiledRule> {
    const evaluation = this.evaluationContext(input);
    const checked = await this.check(input);
    const areaIds = new Map<string, number[]>();
    for (const { code } of checked.areaCodes) areaIds.set(code, (await this.deps.areas.subtreeAreaIds(code)) ?? []);
    const idTypes = checked.usesIdentifiers ? (await this.deps.codes.listIdTypes()).map((idType) => idType.code) : [];
    const compileStarted = performance.now();
    const condition = compileToSql(checked, { today: evaluation.today, now: evaluation.now, areaIds, idTypes, encryption: this.deps.encryption });
    // The lookups above are database reads; the figure is the compiler's own work.
    return { checked, condition, evaluation, compileMs: performance.now() - compileStarted };
  }

  async validate(input: RuleInput): Promise<{ valid: true; subject: RuleSubject; type: string }> {
    const checked = await this.check(input);
    return { valid: true, subject: input.subject, type: checked.type };
  }

  /** The number of matches within the actor's areas and the first page of them. */
  async preview(actor: Actor, input: RuleInput): Promise<{ subject: RuleSubject; count: number; items: Array<IndividualView | GroupView> }> {
    const compiled = await this.compileCondition(input);
    const [count, page] = await Promise.all([
      this.deps.query.count(actor, input.subject, compiled.condition),
      this.deps.query.page(actor, input.subject, compiled.condition, PREVIEW_SIZE),
    ]);
    return { subject: input.subject, count, items: page.items };
  }

  /** Registry search by expression: a page of matches (keyset cursor bound to the expression), optionally the total. */
  async query(actor: Actor, input: RuleInput, options: { count: number; cursor?: string; total?: boolean }) {
    // Later pages are evaluated at the first page's instant, so `now`, `today` and `age` stay put.
    const cursor = options.cursor ? decodeCursor(options.cursor) : undefined;
    const compiled = await this.compileCondition(cursor && input.at === undefined ? { ...input, at: cursor.at } : input);
    const fingerprint = fingerprintOf(input, compiled.evaluation);
    if (cursor && cursor.fingerprint !== fingerprint) throw badCursor();
    const page = await this.deps.query.page(actor, input.subject, compiled.condition, options.count, cursor?.afterId ?? 0);
    const total = options.total ? await this.deps.query.count(actor, input.subject, compiled.condition) : undefined;
    const at = new Date(compiled.evaluation.now).toISOString();
    return { page, total, next: page.lastId !== undefined ? encodeCursor(fingerprint, page.lastId, at) : undefined, evaluation: compiled.evaluation };
  }

  /** In memory, over one registrant's data (formulas, approvals, tests). */
  async evaluate(input: RuleInput, facts: RegistrantFacts, externals?: Record<string, unknown>) {
    const evaluation = this.evaluationContext(input);
    const checked = await this.check(input);
    return evaluateRule(checked, facts, { ...evaluation, ...(externals ? { externals } : {}) });
  }

  /** In memory, over a registrant as the registry holds it (404 outside the actor's areas). */
  async evaluateRegistrant(actor: Actor, input: RuleInput, uuid: string) {
    const facts = await this.deps.query.facts(actor, input.subject, uuid);
    if (!facts) throw AppError.notFound(`This ${input.subject}`);
    return this.evaluate(input, facts);
  }

  private async compileCondition(input: RuleInput): Promise<CompiledRule> {
    const compiled = await this.compile(input);
    if (compiled.checked.type !== 'bool') {
      throw invalidRule([{ kind: 'wrong_type', message: `A rule that selects registrants must be a condition (bool), not ${compiled.checked.type}`, expected: 'bool', position: positionAt(input.expression, 0) }]);
    }
    return compiled;
  }

  evaluationContext(input: Pick<RuleInput, 'at' | 'timeZone'>): EvaluationContext & { timeZone: string } {
    const timeZone = input.timeZone ?? this.deps.defaultTimeZone ?? 'UTC';
    if (!isTimeZone(timeZone)) throw AppError.validation(`"${timeZone}" is not an IANA time zone`, [{ path: '/timeZone', message: 'must be an IANA time zone, e.g. Africa/Nairobi' }]);
    const at = input.at === undefined ? new Date() : new Date(input.at);
    if (Number.isNaN(at.getTime()) || (input.at !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(input.at))) {
      throw AppError.validation('at must be an RFC 3339 date-time with a zone', [{ path: '/at', message: 'must be an RFC 3339 date-time with a zone, e.g. 2025-01-31T00:00:00Z' }]);
    }
    return { today: dateInZone(at, timeZone), now: at.getTime(), timeZone };
  }
}

/** The 400 of an expression that does not check: one error per problem, each with its position. */
export function invalidRule(problems: RuleProblem[]): AppError {
  const fields = problems.map((problem): FieldProblem => {
    const field: FieldProblem & Omit<RuleProblem, 'message'> = { path: '/expression', ...problem };
    return field;
  });
  return new AppError('validation_failed', `The expression is not valid: ${problems.map((p) => `${p.message} at line ${p.position.line}, column ${p.position.column}`).join('; ')}`, fields);
}

function fingerprintOf(input: RuleInput, evaluation: EvaluationContext & { timeZone: string }): string {
  return crypto.createHash('sha256').update(JSON.stringify([input.subject, input.expression, input.constants ?? {}, evaluation.today, evaluation.now])).digest('base64url').slice(0, 16);
}

function encodeCursor(fingerprint: string, lastId: number, at: string): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, i: lastId, a: at })).toString('base64url');
}

function decodeCursor(cursor: string): { fingerprint: string; afterId: number; at: string } {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { f: unknown; i: unknown; a: unknown };
    if (typeof decoded.f !== 'string' || !Number.isSafeInteger(decoded.i) || typeof decoded.a !== 'string' || Number.isNaN(Date.parse(decoded.a))) throw new Error('malformed');
    return { fingerprint: decoded.f, afterId: decoded.i as number, at: decoded.a };
  } catch {
    throw badCursor();
  }
}

function badCursor(): AppError {
  return new AppError('unknown_parameter', 'Parameter _cursor is not a cursor from a previous page of this query (same expression, subject and at)', [{ path: 'query:/_cursor', message: 'is not a cursor of this query' }]);
}

export type { RuleValueType };
