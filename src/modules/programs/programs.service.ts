import crypto from 'node:crypto';
import { recordAudit, type RequestContext } from '../../platform/audit/audit.js';
import type { Db, Queryable } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { assertVersion } from '../../platform/versioning.js';
import type { RuleService } from '../rules/rules.service.js';
import { invalidRule } from '../rules/rules.service.js';
import { positionAt } from '../rules/rules.types.js';
import { normaliseAmount, parseAmount } from './money.js';
import { iso, pageOf, type Page } from './programs.common.js';
import * as repository from './programs.repository.js';
import type { ProgramRow } from './programs.repository.js';
import type { FundsInput, ProgramInput, ProgramPatch, ProgramSearchQuery } from './programs.schemas.js';
import type { DedupConfig, InKindItem, ProgramTarget } from './programs.tables.js';
import { decodeCursor } from './programs.common.js';
import type { CatalogueLookup } from './service-points/service-points.service.js';

export interface ProgramView {
  resourceType: 'Program';
  id: string;
  code: string;
  name: string;
  description: string | null;
  targetType: ProgramTarget;
  eligibilityRule: string;
  cashFormula: string | null;
  cashCondition: string | null;
  inKind: InKindItem[];
  currency: string;
  state: string;
  dedup: DedupConfig;
  managers: string[];
  funds: { deposited: string; committed: string; balance: string };
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface IdTypeCheck {
  assertCodes(checks: Array<{ vocabulary: string; code: string; path: string }>): Promise<void>;
}

/**
 * Programs: who is eligible (a CEL condition checked by the rules service), what they receive (a
 * cash formula and in-kind items), the funds ledger, and the draft → active → ended lifecycle.
 */
export class ProgramService {
  constructor(
    private readonly db: Db,
    private readonly deps: { rules: RuleService; codes: IdTypeCheck; catalogue: CatalogueLookup; ibrAvailable: () => boolean },
  ) {}

  async create(context: RequestContext, input: ProgramInput): Promise<ProgramView> {
    if (!Intl.supportedValuesOf('currency').includes(input.currency)) throw AppError.validation(`${input.currency} is not an ISO 4217 currency`, [{ path: '/currency', message: 'is not an ISO 4217 code' }]);
    const dedup = await this.checkDedup(input.dedup);
    await this.checkRules(input.targetType, input);
    await this.checkInKind(input.inKind ?? []);
    return this.db.transaction(async (tx) => {
      const row = await repository.insertProgram(tx, {
        uuid: crypto.randomUUID(), code: input.code, name: input.name, description: input.description ?? null, targetType: input.targetType,
        eligibilityRule: input.eligibilityRule, cashFormula: input.cashFormula ?? null, cashCondition: input.cashCondition ?? null,
        inKind: input.inKind ?? [], currency: input.currency, dedup, managers: input.managers ?? [], createdBy: context.actor.id,
      });
      if (!row) throw new AppError('duplicate_identifier', `A program with code ${input.code} already exists`, [{ path: '/code', message: 'is already used' }]);
      const view = await this.view(tx, row);
      await recordAudit(tx, context, { action: 'create', entityType: 'program', entityId: row.uuid, after: auditable(view) });
      return view;
    });
  }

  async get(ref: string): Promise<ProgramView> {
    return this.view(this.db, await this.getRow(this.db, ref));
  }

  async search(query: ProgramSearchQuery): Promise<Page<ProgramView>> {
    const rows = await repository.searchPrograms(this.db, { code: query.code, state: query.state, name: query.name, afterId: decodeCursor(query._cursor), limit: query._count });
    const page = pageOf(rows, query._count, (row) => row);
    return { ...page, items: await Promise.all(page.items.map((row) => this.view(this.db, row))) };
  }

  /** Merge-patch of the definition; refused once ended. Rules are re-checked. */
  async update(context: RequestContext, ref: string, expectedVersion: number, patch: ProgramPatch): Promise<ProgramView> {
    const current = await this.getRow(this.db, ref);
    const merged = {
      eligibilityRule: patch.eligibilityRule ?? current.eligibilityRule,
      cashFormula: patch.cashFormula === undefined ? current.cashFormula : patch.cashFormula,
      cashCondition: patch.cashCondition === undefined ? current.cashCondition : patch.cashCondition,
    };
    await this.checkRules(current.targetType, { eligibilityRule: merged.eligibilityRule, cashFormula: merged.cashFormula ?? undefined, cashCondition: merged.cashCondition ?? undefined });
    if (patch.inKind) await this.checkInKind(patch.inKind);
    const dedup = patch.dedup ? await this.checkDedup(patch.dedup) : undefined;
    return this.db.transaction(async (tx) => {
      const row = await this.getRow(tx, ref, true);
      assertVersion(expectedVersion, row.version, `Program ${row.code}`);
      if (row.state === 'ended') throw new AppError('business_rule_violated', `Program ${row.code} has ended; an ended program cannot change`);
      const before = await this.view(tx, row);
      const updated = await repository.updateProgram(tx, row.id, row.version, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...merged,
        ...(patch.inKind ? { inKind: patch.inKind } : {}),
        ...(dedup ? { dedup } : {}),
        ...(patch.managers ? { managers: patch.managers } : {}),
      });
      if (!updated) throw new AppError('precondition_failed', `Program ${row.code} has changed since you read it`);
      const after = await this.view(tx, updated);
      await recordAudit(tx, context, { action: 'update', entityType: 'program', entityId: row.uuid, before: auditable(before), after: auditable(after) });
      return after;
    });
  }

  activate(context: RequestContext, ref: string): Promise<ProgramView> {
    return this.changeState(context, ref, 'draft', 'active', 'activate');
  }

  end(context: RequestContext, ref: string): Promise<ProgramView> {
    return this.changeState(context, ref, 'active', 'ended', 'end');
  }

  /** Adds money to the program's funds (a deposit in the ledger). */
  async deposit(context: RequestContext, ref: string, input: FundsInput): Promise<ProgramView> {
    return this.db.transaction(async (tx) => {
      const row = await this.getRow(tx, ref, true);
      const amount = parseAmount(input.amount, row.currency, '/amount');
      if (row.state === 'ended') throw new AppError('business_rule_violated', `Program ${row.code} has ended; it takes no more funds`);
      const movement = crypto.randomUUID();
      await repository.insertFundMovement(tx, { uuid: movement, programId: row.id, kind: 'deposit', amount, reference: input.reference, createdBy: context.actor.id });
      await recordAudit(tx, context, { action: 'deposit', entityType: 'program', entityId: row.uuid, after: { movement, amount, currency: row.currency, reference: input.reference } });
      return this.view(tx, row);
    });
  }

  async getRow(db: Queryable, ref: string, lock = false): Promise<ProgramRow> {
    const row = await repository.findProgram(db, ref, { lock });
    if (!row) throw AppError.notFound(`Program ${ref}`);
    return row;
  }

  async view(db: Queryable, row: ProgramRow): Promise<ProgramView> {
    const funds = await repository.fundsOf(db, row.id);
    return {
      resourceType: 'Program', id: row.uuid, code: row.code, name: row.name, description: row.description, targetType: row.targetType,
      eligibilityRule: row.eligibilityRule, cashFormula: row.cashFormula, cashCondition: row.cashCondition, inKind: row.inKind,
      currency: row.currency, state: row.state, dedup: row.dedup, managers: row.managers,
      funds: { deposited: normaliseAmount(funds.deposited), committed: normaliseAmount(funds.committed), balance: normaliseAmount(funds.balance) },
      version: row.version, createdAt: iso(row.createdAt)!, updatedAt: iso(row.updatedAt)!,
    };
  }

  private async changeState(context: RequestContext, ref: string, from: ProgramRow['state'], to: ProgramRow['state'], action: string): Promise<ProgramView> {
    return this.db.transaction(async (tx) => {
      const row = await this.getRow(tx, ref, true);
      if (row.state !== from) throw new AppError('conflict', `Program ${row.code} is ${row.state}; only a ${from} program can ${action}`);
      const updated = (await repository.updateProgram(tx, row.id, row.version, { state: to }))!;
      await recordAudit(tx, context, { action, entityType: 'program', entityId: row.uuid, before: { state: from }, after: { state: to } });
      return this.view(tx, updated);
    });
  }

  /** Eligibility must be a condition, the cash formula a number, the cash condition a condition. */
  private async checkRules(subject: ProgramTarget, input: { eligibilityRule: string; cashFormula?: string | undefined; cashCondition?: string | undefined }): Promise<void> {
    await this.expectType(subject, input.eligibilityRule, ['bool'], '/eligibilityRule');
    if (input.cashFormula) await this.expectType(subject, input.cashFormula, ['int', 'double'], '/cashFormula');
    if (input.cashCondition) await this.expectType(subject, input.cashCondition, ['bool'], '/cashCondition');
  }

  async expectType(subject: ProgramTarget, expression: string, types: string[], path: string): Promise<void> {
    try {
      const checked = await this.deps.rules.check({ expression, subject });
      if (!types.includes(checked.type)) {
        throw invalidRule([{ kind: 'wrong_type', message: `must be ${types.join(' or ')}, not ${checked.type}`, expected: types.join(' or '), position: positionAt(expression, 0) }]);
      }
    } catch (error) {
      if (error instanceof AppError && error.code === 'validation_failed') {
        throw new AppError('validation_failed', `${path.slice(1)}: ${error.message}`, error.fields.map((field) => ({ ...field, path })));
      }
      throw error;
    }
  }

  private async checkInKind(items: InKindItem[]): Promise<void> {
    for (const [index, item] of items.entries()) {
      if (!(await this.deps.catalogue.findProduct(this.db, item.product))) throw AppError.validation(`Unknown product ${item.product}`, [{ path: `/inKind/${index}/product`, message: 'is not a product code' }]);
      if (!(await this.deps.catalogue.findServicePoint(this.db, item.servicePoint))) throw AppError.validation(`Unknown service point ${item.servicePoint}`, [{ path: `/inKind/${index}/servicePoint`, message: 'is not a service point code' }]);
    }
  }

  private async checkDedup(input: ProgramInput['dedup']): Promise<DedupConfig> {
    const dedup: DedupConfig = { idTypes: input?.idTypes ?? [], phone: input?.phone ?? false, nameBirthDate: input?.nameBirthDate ?? false, ibr: input?.ibr ?? false };
    if (dedup.idTypes.length > 0) await this.deps.codes.assertCodes(dedup.idTypes.map((code, index) => ({ vocabulary: 'id-type', code, path: `/dedup/idTypes/${index}` })));
    if (dedup.ibr && !this.deps.ibrAvailable()) {
      throw AppError.validation('The IBR duplicate check needs a DCI IBR client, which is not configured on this server', [{ path: '/dedup/ibr', message: 'no IBR client is configured' }]);
    }
    return dedup;
  }
}

function auditable(view: ProgramView): Record<string, unknown> {
  const { funds: _funds, ...rest } = view;
  return rest;
}
