import crypto from 'node:crypto';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { recordAudit, type RequestContext } from '../../../platform/audit/audit.js';
import type { Actor } from '../../../platform/auth/access-tokens.js';
import { queryRows, type Db, type Queryable } from '../../../platform/database/database.js';
import { AppError } from '../../../platform/errors.js';
import { enqueueJob, type JobView } from '../../../platform/jobs/job-queue.js';
import { PermanentJobError, type JobContext } from '../../../platform/jobs/job-runner.js';
import { registrants } from '../../registry/registry.tables.js';
import type { RuleService } from '../../rules/rules.service.js';
import { minorUnitsOf, normaliseAmount } from '../money.js';
import { decodeCursor, iso, pageOf, UUID, type Page } from '../programs.common.js';
import { findProgramById, fundsOf, insertFundMovement, type ProgramRow } from '../programs.repository.js';
import type { CycleInput, CycleSearchQuery, EntitlementSearchQuery } from '../programs.schemas.js';
import type { ProgramService } from '../programs.service.js';
import { cycles, entitlements, products, programMemberships, servicePoints, servicePointStock, type Recurrence } from '../programs.tables.js';

export const PREPARE_JOB = 'programs.prepare-cycle';

type CycleRow = typeof cycles.$inferSelect;
interface PreparePayload { cycle: string; actor: { type: Actor['type']; id: string }; requestId?: string }

export interface CycleView {
  resourceType: 'Cycle';
  id: string;
  program: string;
  sequence: number;
  name: string;
  startDate: string;
  endDate: string;
  recurrence: Recurrence;
  state: string;
  preparedBy: string | null;
  preparedAt: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  cashTotal: string;
  currency: string;
  entitlementCount: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

const MONTHS: Record<Recurrence, number> = { none: 0, monthly: 1, bimonthly: 2, quarterly: 3, semiannual: 6, annual: 12 };

/**
 * Cycles and their entitlements: draft → (prepare job) → to_approve → approved (by someone other
 * than the preparer, within the remaining funds and stock) → distributed (a payment batch was sent)
 * → ended. Entitlements are computed in SQL from the program's compiled formulas, one INSERT …
 * SELECT per kind; once approved they are the cycle's frozen beneficiary list.
 */
export class CycleService {
  constructor(private readonly db: Db, private readonly deps: { programs: ProgramService; rules: RuleService }) {}

  async create(context: RequestContext, programRef: string, input: CycleInput): Promise<CycleView> {
    if (input.endDate < input.startDate) throw AppError.validation('endDate must not be before startDate', [{ path: '/endDate', message: 'is before startDate' }]);
    return this.db.transaction(async (tx) => {
      const program = await this.deps.programs.getRow(tx, programRef, true);
      if (program.state === 'ended') throw new AppError('business_rule_violated', `Program ${program.code} has ended; it has no new cycles`);
      return this.insertCycle(tx, context, program, { ...input, recurrence: input.recurrence ?? 'none' });
    });
  }

  /** The following cycle of a recurring one: same length, shifted by the recurrence. */
  async createNext(context: RequestContext, id: string): Promise<CycleView> {
    return this.db.transaction(async (tx) => {
      const current = await this.getRow(tx, id);
      const program = (await findProgramById(tx, current.programId))!;
      await this.deps.programs.getRow(tx, program.uuid, true);
      if (current.recurrence === 'none') throw new AppError('business_rule_violated', 'This cycle does not recur (recurrence none); create the next one with its dates');
      const months = MONTHS[current.recurrence];
      return this.insertCycle(tx, context, program, {
        startDate: addMonths(current.startDate, months), endDate: addMonths(current.endDate, months), recurrence: current.recurrence,
      });
    });
  }

  private async insertCycle(tx: Queryable, context: RequestContext, program: ProgramRow, input: CycleInput & { recurrence: Recurrence }): Promise<CycleView> {
    const [last] = await tx.select({ sequence: sql<number>`coalesce(max(${cycles.sequence}), 0)::int` }).from(cycles).where(eq(cycles.programId, program.id));
    const sequence = Number(last?.sequence ?? 0) + 1;
    const [row] = await tx.insert(cycles).values({
      uuid: crypto.randomUUID(), programId: program.id, sequence, name: input.name ?? `${program.code} cycle ${sequence}`,
      startDate: input.startDate, endDate: input.endDate, recurrence: input.recurrence,
    }).returning();
    const view = cycleView(row!, program);
    await recordAudit(tx, context, { action: 'create', entityType: 'cycle', entityId: row!.uuid, after: { ...view } });
    return view;
  }

  async get(id: string): Promise<CycleView> {
    const row = await this.getRow(this.db, id);
    return cycleView(row, (await findProgramById(this.db, row.programId))!);
  }

  async search(query: CycleSearchQuery): Promise<Page<CycleView>> {
    const program = await this.deps.programs.getRow(this.db, query.program);
    const rows = await this.db.select().from(cycles).where(and(eq(cycles.programId, program.id), gt(cycles.id, decodeCursor(query._cursor))))
      .orderBy(asc(cycles.id)).limit(query._count + 1);
    return pageOf(rows, query._count, (row) => cycleView(row, program));
  }

  /** Starts the preparation job; the requester is the preparer (who may then not approve). */
  async enqueuePrepare(context: RequestContext, id: string): Promise<{ job: JobView; cycle: CycleView }> {
    return this.db.transaction(async (tx) => {
      const cycle = await this.getRow(tx, id, true);
      const program = (await findProgramById(tx, cycle.programId))!;
      if (program.state !== 'active') throw new AppError('business_rule_violated', `Program ${program.code} is ${program.state}; activate it before preparing entitlements`);
      if (!program.cashFormula && program.inKind.length === 0) throw new AppError('business_rule_violated', `Program ${program.code} has neither a cash formula nor in-kind items`);
      if (cycle.state !== 'draft' && cycle.state !== 'to_approve') {
        throw new AppError('conflict', `The cycle is ${cycle.state}; only a draft or to_approve cycle can be (re)prepared${cycle.state === 'approved' ? ': its approved beneficiary list is frozen' : ''}`);
      }
      const [updated] = await tx.update(cycles).set({ state: 'preparing', preparedBy: context.actor.id, preparedAt: null, version: sql`${cycles.version} + 1`, updatedAt: new Date() })
        .where(eq(cycles.id, cycle.id)).returning();
      const payload: PreparePayload = { cycle: cycle.uuid, actor: { type: context.actor.type, id: context.actor.id }, ...(context.requestId ? { requestId: context.requestId } : {}) };
      const job = await enqueueJob(tx, { type: PREPARE_JOB, payload: payload as unknown as Record<string, unknown>, createdBy: context.actor.id, maxAttempts: 3 });
      await recordAudit(tx, context, { action: 'prepare-requested', entityType: 'cycle', entityId: cycle.uuid, before: { state: cycle.state }, after: { state: 'preparing', job: job.id } });
      return { job, cycle: cycleView(updated!, program) };
    });
  }

  /** The preparation job: replaces the cycle's prepared entitlements in one transaction (so a retry starts clean). */
  async runPrepare(job: JobContext<PreparePayload>): Promise<Record<string, unknown>> {
    const { payload } = job.job;
    return this.db.transaction(async (tx) => {
      const cycle = await this.getRow(tx, payload.cycle, true).catch(() => undefined);
      if (!cycle || cycle.state !== 'preparing') throw new PermanentJobError('The cycle is no longer being prepared');
      const program = (await findProgramById(tx, cycle.programId))!;
      const at = `${cycle.startDate}T00:00:00Z`;
      await tx.delete(entitlements).where(eq(entitlements.cycleId, cycle.id));
      const enrolled = sql`from ${programMemberships} pm join ${registrants} on ${registrants.id} = pm.registrant_id
        where pm.program_id = ${program.id} and pm.state = 'enrolled'`;
      let cash = 0;
      if (program.cashFormula) {
        const formula = (await this.deps.rules.compile({ expression: program.cashFormula, subject: program.targetType, at })).condition;
        const condition = program.cashCondition ? (await this.deps.rules.compile({ expression: program.cashCondition, subject: program.targetType, at })).condition : sql`true`;
        // The formula's value rounded to the currency's minor unit, as numeric; unknown or ≤ 0 gives nothing.
        const amount = sql`round((${formula})::numeric, ${minorUnitsOf(program.currency)})`;
        const [row] = await queryRows<{ count: number }>(tx, sql`with added as (
            insert into ${entitlements} (uuid, cycle_id, membership_id, registrant_id, kind, amount, currency)
            select gen_random_uuid(), ${cycle.id}, pm_id, registrant_id, 'cash', amount, ${program.currency}
            from (select pm.id as pm_id, ${registrants.id} as registrant_id, ${amount} as amount ${enrolled} and (${condition}) is true) computed
            where amount > 0 returning 1)
          select count(*)::int as count from added`);
        cash = Number(row?.count ?? 0);
      }
      let inKind = 0;
      for (const item of program.inKind) {
        const quantity = (await this.deps.rules.compile({ expression: item.quantityFormula, subject: program.targetType, at })).condition;
        const [product] = await tx.select().from(products).where(eq(products.code, item.product));
        const [point] = await tx.select().from(servicePoints).where(eq(servicePoints.code, item.servicePoint));
        if (!product || !point) throw new PermanentJobError(`In-kind item ${item.product} at ${item.servicePoint} no longer exists`);
        const [row] = await queryRows<{ count: number }>(tx, sql`with added as (
            insert into ${entitlements} (uuid, cycle_id, membership_id, registrant_id, kind, product_id, quantity, service_point_id)
            select gen_random_uuid(), ${cycle.id}, pm_id, registrant_id, 'in_kind', ${product.id}, quantity, ${point.id}
            from (select pm.id as pm_id, ${registrants.id} as registrant_id, round((${quantity})::numeric, 3) as quantity ${enrolled}) computed
            where quantity > 0 returning 1)
          select count(*)::int as count from added`);
        inKind += Number(row?.count ?? 0);
      }
      const [totals] = await tx.select({ total: sql<string>`coalesce(sum(${entitlements.amount}), 0)::text`, count: sql<number>`count(*)::int` })
        .from(entitlements).where(eq(entitlements.cycleId, cycle.id));
      await tx.update(cycles).set({
        state: 'to_approve', preparedAt: new Date(), cashTotal: totals!.total, entitlementCount: Number(totals!.count),
        version: sql`${cycles.version} + 1`, updatedAt: new Date(),
      }).where(eq(cycles.id, cycle.id));
      await recordAudit(tx, contextFor(payload), { action: 'prepare', entityType: 'cycle', entityId: cycle.uuid, before: { state: 'preparing' }, after: { state: 'to_approve', cash, inKind, cashTotal: totals!.total } });
      await job.reportProgress(cash + inKind, cash + inKind, undefined, { tx });
      return { cashEntitlements: cash, inKindEntitlements: inKind, cashTotal: normaliseAmount(totals!.total) };
    });
  }

  /**
   * Maker-checker approval: by someone other than the preparer, only if the cash total fits the
   * program's remaining funds and the in-kind quantities the service points' available stock.
   * Commits the funds and the stock, and freezes the entitlements.
   */
  async approve(context: RequestContext, id: string): Promise<CycleView> {
    return this.db.transaction(async (tx) => {
      const peek = await this.getRow(tx, id);
      const program = await this.deps.programs.getRow(tx, (await findProgramById(tx, peek.programId))!.uuid, true);
      const cycle = await this.getRow(tx, id, true);
      if (cycle.state !== 'to_approve') throw new AppError('conflict', `The cycle is ${cycle.state}; only a cycle whose entitlements are prepared (to_approve) can be approved`);
      if (cycle.preparedBy === context.actor.id) {
        throw new AppError('forbidden', 'You prepared these entitlements: someone else must approve them (maker-checker)');
      }
      if (program.state !== 'active') throw new AppError('business_rule_violated', `Program ${program.code} is ${program.state}`);
      const funds = await fundsOf(tx, program.id);
      const [fits] = await queryRows<{ fits: boolean }>(tx, sql`select (${cycle.cashTotal}::numeric <= ${funds.balance}::numeric) as fits`);
      if (!fits?.fits) {
        throw new AppError('business_rule_violated', `The cycle's cash total ${normaliseAmount(cycle.cashTotal)} ${program.currency} exceeds the program's remaining funds ${normaliseAmount(funds.balance)} ${program.currency}`);
      }
      await this.commitStock(tx, cycle);
      if (!/^0+(\.0+)?$/.test(cycle.cashTotal)) {
        await insertFundMovement(tx, { uuid: crypto.randomUUID(), programId: program.id, kind: 'commitment', amount: `-${cycle.cashTotal}`, cycleId: cycle.id, reference: `cycle ${cycle.name}`, createdBy: context.actor.id });
      }
      await tx.update(entitlements).set({ state: 'approved' }).where(eq(entitlements.cycleId, cycle.id));
      const [updated] = await tx.update(cycles).set({ state: 'approved', approvedBy: context.actor.id, approvedAt: new Date(), version: sql`${cycles.version} + 1`, updatedAt: new Date() })
        .where(eq(cycles.id, cycle.id)).returning();
      await recordAudit(tx, context, { action: 'approve', entityType: 'cycle', entityId: cycle.uuid, before: { state: 'to_approve' }, after: { state: 'approved', cashTotal: normaliseAmount(cycle.cashTotal), entitlements: cycle.entitlementCount } });
      return cycleView(updated!, program);
    });
  }

  async end(context: RequestContext, id: string): Promise<CycleView> {
    return this.db.transaction(async (tx) => {
      const cycle = await this.getRow(tx, id, true);
      const program = (await findProgramById(tx, cycle.programId))!;
      if (cycle.state !== 'approved' && cycle.state !== 'distributed') throw new AppError('conflict', `The cycle is ${cycle.state}; only an approved or distributed cycle can end`);
      const [updated] = await tx.update(cycles).set({ state: 'ended', version: sql`${cycles.version} + 1`, updatedAt: new Date() }).where(eq(cycles.id, cycle.id)).returning();
      await recordAudit(tx, context, { action: 'end', entityType: 'cycle', entityId: cycle.uuid, before: { state: cycle.state }, after: { state: 'ended' } });
      return cycleView(updated!, program);
    });
  }

  async searchEntitlements(query: EntitlementSearchQuery) {
    const cycle = await this.getRow(this.db, query.cycle);
    const rows = await this.selectEntitlements(this.db).where(and(eq(entitlements.cycleId, cycle.id), gt(entitlements.id, decodeCursor(query._cursor)),
      query.kind ? eq(entitlements.kind, query.kind) : undefined)).orderBy(asc(entitlements.id)).limit(query._count + 1);
    return pageOf(rows.map((row) => ({ ...row, id: row.entitlement.id })), query._count, (row) => entitlementView(row, cycle.uuid));
  }

  async getEntitlement(id: string) {
    if (!UUID.test(id)) throw AppError.notFound(`Entitlement ${id}`);
    const [row] = await this.selectEntitlements(this.db).where(eq(entitlements.uuid, id));
    if (!row) throw AppError.notFound(`Entitlement ${id}`);
    const [cycle] = await this.db.select({ uuid: cycles.uuid }).from(cycles).where(eq(cycles.id, row.entitlement.cycleId));
    return entitlementView(row, cycle!.uuid);
  }

  async getRow(db: Queryable, id: string, lock = false): Promise<CycleRow> {
    if (!UUID.test(id)) throw AppError.notFound(`Cycle ${id}`);
    const query = db.select().from(cycles).where(eq(cycles.uuid, id));
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw AppError.notFound(`Cycle ${id}`);
    return row;
  }

  /** Adds the cycle's in-kind quantities to what each service point has committed; refuses to over-commit. */
  private async commitStock(tx: Queryable, cycle: CycleRow): Promise<void> {
    const needs = await queryRows<{ service_point_id: number; product_id: number; quantity: string; point: string; product: string; available: string | null }>(tx, sql`
      select e.service_point_id, e.product_id, sum(e.quantity)::text as quantity, sp.code as point, p.code as product,
        (s.on_hand - s.committed)::text as available
      from ${entitlements} e join ${servicePoints} sp on sp.id = e.service_point_id join ${products} p on p.id = e.product_id
      left join ${servicePointStock} s on s.service_point_id = e.service_point_id and s.product_id = e.product_id
      where e.cycle_id = ${cycle.id} and e.kind = 'in_kind'
      group by e.service_point_id, e.product_id, sp.code, p.code, s.on_hand, s.committed`);
    const short = needs.filter((need) => need.available === null);
    const [check] = needs.length === 0 ? [] : await queryRows<{ short: string[] | null }>(tx, sql`
      select array_agg(point || '/' || product) filter (where need > coalesce(available, 0)) as short
      from (values ${sql.join(needs.map((need) => sql`(${need.point}, ${need.product}, ${need.quantity}::numeric, ${need.available}::numeric)`), sql`, `)}) v(point, product, need, available)`);
    const over = [...new Set([...short.map((need) => `${need.point}/${need.product}`), ...(check?.short ?? [])])];
    if (over.length > 0) throw new AppError('business_rule_violated', `Not enough stock to approve this cycle: ${over.join(', ')} (service point/product) would be over-committed`);
    for (const need of needs) {
      await tx.update(servicePointStock).set({ committed: sql`${servicePointStock.committed} + ${need.quantity}::numeric`, updatedAt: new Date() })
        .where(and(eq(servicePointStock.servicePointId, Number(need.service_point_id)), eq(servicePointStock.productId, Number(need.product_id))));
    }
  }

  private selectEntitlements(db: Queryable) {
    return db.select({ entitlement: entitlements, membershipUuid: programMemberships.uuid, registrantUuid: registrants.uuid, product: products.code, servicePoint: servicePoints.code })
      .from(entitlements).innerJoin(programMemberships, eq(programMemberships.id, entitlements.membershipId))
      .innerJoin(registrants, eq(registrants.id, entitlements.registrantId))
      .leftJoin(products, eq(products.id, entitlements.productId)).leftJoin(servicePoints, eq(servicePoints.id, entitlements.servicePointId));
  }
}

function contextFor(payload: PreparePayload): RequestContext {
  return { actor: { type: payload.actor.type, id: payload.actor.id, scopes: new Set() }, ...(payload.requestId ? { requestId: payload.requestId } : {}) };
}

export function cycleView(row: CycleRow, program: ProgramRow): CycleView {
  return {
    resourceType: 'Cycle', id: row.uuid, program: program.code, sequence: row.sequence, name: row.name, startDate: row.startDate, endDate: row.endDate,
    recurrence: row.recurrence, state: row.state, preparedBy: row.preparedBy, preparedAt: iso(row.preparedAt), approvedBy: row.approvedBy, approvedAt: iso(row.approvedAt),
    cashTotal: normaliseAmount(row.cashTotal), currency: program.currency, entitlementCount: row.entitlementCount, version: row.version,
    createdAt: iso(row.createdAt)!, updatedAt: iso(row.updatedAt)!,
  };
}

function entitlementView(row: { entitlement: typeof entitlements.$inferSelect; membershipUuid: string; registrantUuid: string; product: string | null; servicePoint: string | null }, cycleUuid: string) {
  const e = row.entitlement;
  return {
    resourceType: 'Entitlement' as const, id: e.uuid, cycle: cycleUuid, membership: row.membershipUuid, registrant: row.registrantUuid, kind: e.kind, state: e.state,
    ...(e.kind === 'cash' ? { amount: normaliseAmount(e.amount), currency: e.currency } : { product: row.product, quantity: e.quantity, servicePoint: row.servicePoint }),
    createdAt: iso(e.createdAt)!,
  };
}

function addMonths(date: string, months: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(year, month - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString().slice(0, 10);
}
