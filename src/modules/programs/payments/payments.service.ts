import crypto from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { recordAudit, type RequestContext } from '../../../platform/audit/audit.js';
import type { Actor } from '../../../platform/auth/access-tokens.js';
import { queryRows, type Db, type Queryable } from '../../../platform/database/database.js';
import { AppError, type FieldProblem } from '../../../platform/errors.js';
import { createJobFileWriter, findJobFile, openJobFileStream } from '../../../platform/jobs/job-files.js';
import { enqueueJob, type JobView } from '../../../platform/jobs/job-queue.js';
import { jobs } from '../../../platform/jobs/jobs.tables.js';
import { PermanentJobError, type JobContext } from '../../../platform/jobs/job-runner.js';
import { registrants } from '../../registry/registry.tables.js';
import { normaliseAmount } from '../money.js';
import { decodeCursor, iso, pageOf, UUID, type Page } from '../programs.common.js';
import { findProgramById } from '../programs.repository.js';
import type { BatchInput, BatchSearchQuery, PaymentSearchQuery } from '../programs.schemas.js';
import { cycles, entitlements, paymentBatches, paymentEvents, payments, type PaymentState } from '../programs.tables.js';
import type { CycleService } from '../cycles/cycles.service.js';
import type { DisbursementClient } from './http-provider.js';
import { csvHeader, csvLines, pain001End, pain001Start, pain001Transactions, type PaymentLine } from './payment-files.js';

export const CREATE_BATCH_JOB = 'programs.create-payment-batch';
export const SEND_BATCH_JOB = 'programs.send-payment-batch';
const PAGE = 5000;

type BatchRow = typeof paymentBatches.$inferSelect;
type PaymentRow = typeof payments.$inferSelect;
interface BatchPayload { batch: string; actor: { type: Actor['type']; id: string }; requestId?: string }

/**
 * A payment provider: what "sending" a batch means. The file provider writes a CSV and a pain.001
 * per sending (the provider's status file comes back through reconciliation); the manual provider
 * hands payments over for cash or voucher distribution, each then marked paid with its reference.
 */
export interface PaymentProvider {
  readonly name: 'file' | 'manual' | 'http';
  /** Files produced for the payments being sent (none for manual). */
  readonly formats: ReadonlyArray<'csv' | 'pain001'>;
  readonly canMarkPaid: boolean;
}

export const providers: Record<string, PaymentProvider> = {
  file: { name: 'file', formats: ['csv', 'pain001'], canMarkPaid: false },
  manual: { name: 'manual', formats: [], canMarkPaid: true },
  http: { name: 'http', formats: [], canMarkPaid: false },
};

const FILES = {
  csv: { purpose: 'payments-csv', contentType: 'text/csv; charset=utf-8', extension: 'csv' },
  pain001: { purpose: 'payments-pain001', contentType: 'application/xml', extension: 'xml' },
} as const;

/** What a status line may do to a payment in each state (anything else is refused). */
const SETTLEMENTS: Record<string, readonly PaymentState[]> = { paid: ['sent'], failed: ['sent'], reversed: ['paid'] };

/**
 * Payment batches of approved cycles and their payments: pending → sent → paid | failed (→ retried
 * as pending under a new idempotency key) and paid → reversed. A payment exists once per
 * entitlement and each attempt is sent under its own key exactly once. Every change is a payment
 * event (actor, reason) and audited.
 */
export class PaymentService {
  constructor(private readonly db: Db, private readonly deps: { cycles: CycleService; disbursement?: DisbursementClient | undefined }) {}

  async createBatch(context: RequestContext, cycleId: string, input: BatchInput): Promise<{ batch: ReturnType<typeof batchView>; job: JobView }> {
    const provider = input.provider === 'http' && !this.deps.disbursement ? undefined : providers[input.provider];
    if (!provider) throw AppError.validation(`The ${input.provider} payment provider is not available on this server (shipped: ${Object.keys(providers).join(', ')})`, [{ path: '/provider', message: 'is not available' }]);
    return this.db.transaction(async (tx) => {
      const cycle = await this.deps.cycles.getRow(tx, cycleId, true);
      if (cycle.state !== 'approved' && cycle.state !== 'distributed') {
        throw new AppError('business_rule_violated', `The cycle is ${cycle.state}: only an approved cycle can be paid`);
      }
      const [batch] = await tx.insert(paymentBatches).values({ uuid: crypto.randomUUID(), cycleId: cycle.id, provider: provider.name, createdBy: context.actor.id }).returning();
      const job = await enqueueJob(tx, { type: CREATE_BATCH_JOB, payload: payloadOf(context, batch!.uuid), createdBy: context.actor.id, maxAttempts: 3 });
      await recordAudit(tx, context, { action: 'create', entityType: 'payment-batch', entityId: batch!.uuid, after: { cycle: cycle.uuid, provider: provider.name, job: job.id } });
      return { batch: batchView(batch!, cycle.uuid), job };
    });
  }

  /** Fills the batch with a pending payment for every approved cash entitlement not yet in a batch. */
  async runCreateBatch(job: JobContext<BatchPayload>): Promise<Record<string, unknown>> {
    return this.db.transaction(async (tx) => {
      const batch = await this.batchRow(tx, job.job.payload.batch, true).catch(() => undefined);
      if (!batch) throw new PermanentJobError('The batch no longer exists');
      const actor = job.job.payload.actor;
      const [row] = await queryRows<{ count: number }>(tx, sql`
        with added as (
          insert into ${payments} (uuid, batch_id, entitlement_id, amount, currency, idempotency_key)
          select u, ${batch.id}, e.id, e.amount, e.currency, replace(u::text, '-', '') || '-1'
          from (select gen_random_uuid() as u, e.* from ${entitlements} e
                where e.cycle_id = ${batch.cycleId} and e.kind = 'cash' and e.state = 'approved') e
          -- Already in a batch: skipped by the unique entitlement index. (A NOT EXISTS here would be
          -- planned as a scan of the table being filled while payments looked empty: quadratic.)
          on conflict do nothing returning id),
        events as (
          insert into ${paymentEvents} (payment_id, from_state, to_state, attempt, reason, actor_type, actor_id)
          select id, null, 'pending', 1, 'payment created', ${actor.type}, ${actor.id} from added returning 1)
        select count(*)::int as count from events`);
      const totals = await this.refreshTotals(tx, batch.id);
      await recordAudit(tx, contextFor(job.job.payload), { action: 'fill', entityType: 'payment-batch', entityId: batch.uuid, after: { payments: Number(row?.count ?? 0), total: totals.total } });
      return { payments: Number(row?.count ?? 0), total: normaliseAmount(totals.total) };
    });
  }

  /** Sending (payment:approve): a job that hands the pending payments to the provider once. */
  async send(context: RequestContext, batchId: string): Promise<JobView> {
    return this.db.transaction(async (tx) => {
      const batch = await this.batchRow(tx, batchId, true);
      const [pending] = await tx.select({ count: sql<number>`count(*)::int` }).from(payments).where(and(eq(payments.batchId, batch.id), eq(payments.state, 'pending')));
      if (Number(pending?.count ?? 0) === 0) throw new AppError('conflict', 'The batch has no pending payments to send');
      const job = await enqueueJob(tx, { type: SEND_BATCH_JOB, payload: payloadOf(context, batch.uuid), createdBy: context.actor.id, maxAttempts: 3 });
      await recordAudit(tx, context, { action: 'send-requested', entityType: 'payment-batch', entityId: batch.uuid, after: { job: job.id, pending: Number(pending!.count) } });
      return job;
    });
  }

  /**
   * The send job, in one transaction: writes the provider's files for the batch's pending payments
   * and marks exactly those sent. A retried job starts again from a clean state (the transaction
   * rolled back), so no payment is ever in two sendings.
   */
  async runSend(job: JobContext<BatchPayload>): Promise<Record<string, unknown>> {
    const { payload } = job.job;
    return this.db.transaction(async (tx) => {
      const batch = await this.batchRow(tx, payload.batch, true).catch(() => undefined);
      if (!batch) throw new PermanentJobError('The batch no longer exists');
      const provider = providers[batch.provider]!;
      const [cycle] = await tx.select().from(cycles).where(eq(cycles.id, batch.cycleId));
      const program = (await findProgramById(tx, cycle!.programId))!;
      const [summary] = await tx.select({ count: sql<number>`count(*)::int`, total: sql<string>`coalesce(sum(${payments.amount}), 0)::text`, maxId: sql<number>`coalesce(max(${payments.id}), 0)` })
        .from(payments).where(and(eq(payments.batchId, batch.id), eq(payments.state, 'pending')));
      const count = Number(summary!.count);
      const maxId = Number(summary!.maxId);
      if (count === 0) return { sent: 0 };
      const writers = await Promise.all(provider.formats.map((format) => createJobFileWriter(tx, {
        jobId: job.job.id, purpose: FILES[format].purpose, contentType: FILES[format].contentType,
        fileName: `${program.code}-${cycle!.sequence}-${batch.uuid.slice(0, 8)}-${job.job.id.slice(0, 8)}.${FILES[format].extension}`, createdBy: payload.actor.id,
      }).then((writer) => ({ format, writer }))));
      const header = { messageId: job.job.id.replace(/-/g, ''), createdAt: new Date(), count, controlSum: normaliseAmount(summary!.total), initiator: 'Commonweal', debtorName: program.name, debtorAccount: program.code, executionDate: new Date().toISOString().slice(0, 10), paymentInfoId: batch.uuid.replace(/-/g, '') };
      for (const { format, writer } of writers) await writer.write(format === 'csv' ? csvHeader() : pain001Start(header));
      let done = 0;
      for (let afterId = 0; ;) {
        const rows = await tx.select({ id: payments.id, uuid: payments.uuid, key: payments.idempotencyKey, amount: payments.amount, currency: payments.currency, attempt: payments.attempt, registrant: registrants.uuid, name: registrants.displayName })
          .from(payments).innerJoin(entitlements, eq(entitlements.id, payments.entitlementId)).innerJoin(registrants, eq(registrants.id, entitlements.registrantId))
          .where(and(eq(payments.batchId, batch.id), eq(payments.state, 'pending'), gt(payments.id, afterId), sql`${payments.id} <= ${maxId}`))
          .orderBy(asc(payments.id)).limit(PAGE);
        if (rows.length === 0) break;
        const lines: PaymentLine[] = rows.map((row) => ({ endToEndId: row.key, paymentId: row.uuid, registrantId: row.registrant, name: row.name, amount: normaliseAmount(row.amount), currency: row.currency, attempt: row.attempt }));
        for (const { format, writer } of writers) await writer.write(format === 'csv' ? csvLines(lines) : pain001Transactions(lines));
        // Resent after a failed attempt, the same end-to-end ids: the API pays each once.
        if (provider.name === 'http') await this.deps.disbursement!.submit(lines);
        done += rows.length;
        afterId = rows[rows.length - 1]!.id;
      }
      for (const { format, writer } of writers) {
        if (format === 'pain001') await writer.write(pain001End());
        await writer.complete();
      }
      const reason = `sent by ${provider.name} provider (job ${job.job.id})`;
      await queryRows(tx, sql`
        with sent as (
          update ${payments} set state = 'sent', sent_at = now(), updated_at = now(), version = version + 1
          where batch_id = ${batch.id} and state = 'pending' and id <= ${maxId} returning id, attempt)
        insert into ${paymentEvents} (payment_id, from_state, to_state, attempt, reason, actor_type, actor_id)
        select id, 'pending', 'sent', attempt, ${reason}, ${payload.actor.type}, ${payload.actor.id} from sent`);
      await tx.update(paymentBatches).set({ state: 'sent', updatedAt: new Date() }).where(eq(paymentBatches.id, batch.id));
      if (cycle!.state === 'approved') await tx.update(cycles).set({ state: 'distributed', version: sql`${cycles.version} + 1`, updatedAt: new Date() }).where(eq(cycles.id, cycle!.id));
      await recordAudit(tx, contextFor(payload), { action: 'send', entityType: 'payment-batch', entityId: batch.uuid, after: { job: job.job.id, sent: done, total: normaliseAmount(summary!.total), provider: provider.name } });
      await job.reportProgress(done, count, undefined, { tx });
      const files = provider.formats.map((format) => ({ format, url: `/api/v2/PaymentBatch/${batch.uuid}/files/${job.job.id}/${format}` }));
      return { sent: done, total: normaliseAmount(summary!.total), files };
    });
  }

  /** A file written by a send job of this batch. */
  async openFile(batchId: string, jobId: string, format: 'csv' | 'pain001') {
    const batch = await this.batchRow(this.db, batchId);
    const [job] = UUID.test(jobId) ? await this.db.select({ payload: jobs.payload, state: jobs.state }).from(jobs).where(and(eq(jobs.uuid, jobId), eq(jobs.type, SEND_BATCH_JOB))) : [];
    if (!job || (job.payload as { batch?: string }).batch !== batch.uuid || job.state !== 'succeeded') throw AppError.notFound(`A finished sending ${jobId} of this batch`);
    const file = await findJobFile(this.db, jobId, FILES[format].purpose);
    const stream = file ? await openJobFileStream(this.db, file.uuid) : undefined;
    if (!file || !stream) throw AppError.notFound(`The ${format} file of sending ${jobId}`);
    return { file, stream };
  }

  /**
   * Reconciliation with the provider's status file: every line must name a sent (or, to reverse,
   * paid) payment of this batch by its end-to-end id, once. Any bad line refuses the whole file,
   * with every problem listed, and changes nothing.
   */
  async reconcile(context: RequestContext, batchId: string, content: string) {
    let records: Array<Record<string, string>>;
    try {
      records = parse(content, { columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true }) as Array<Record<string, string>>;
    } catch (error) {
      throw AppError.validation(`The status file is not valid CSV: ${(error as Error).message}`, [{ path: '/content', message: 'is not valid CSV' }]);
    }
    if (records.length === 0) throw AppError.validation('The status file has no lines', [{ path: '/content', message: 'has no status lines' }]);
    if (!('end_to_end_id' in records[0]!) || !('status' in records[0]!)) {
      throw AppError.validation('The status file needs the columns end_to_end_id and status (and reference, reason)', [{ path: '/content', message: 'missing columns end_to_end_id, status' }]);
    }
    return this.db.transaction(async (tx) => this.applyStatuses(tx, context, await this.batchRow(tx, batchId, true), records, 'provider status file'));
  }

  /** HTTP provider: asks the disbursement API for the status of the batch's sent payments and applies the settled ones. */
  async poll(context: RequestContext, batchId: string) {
    return this.db.transaction(async (tx) => {
      const batch = await this.batchRow(tx, batchId, true);
      if (batch.provider !== 'http' || !this.deps.disbursement) throw new AppError('business_rule_violated', `This is a ${batch.provider} batch: only an HTTP provider batch is polled`);
      const records: Array<Record<string, string>> = [];
      let waiting = 0;
      for (let afterId = 0; ;) {
        const sent = await tx.select({ id: payments.id, key: payments.idempotencyKey }).from(payments)
          .where(and(eq(payments.batchId, batch.id), eq(payments.state, 'sent'), gt(payments.id, afterId))).orderBy(asc(payments.id)).limit(PAGE);
        if (sent.length === 0) break;
        for (const status of await this.deps.disbursement.statuses(sent.map((row) => row.key))) {
          if (status.status === 'paid' || status.status === 'failed') records.push({ end_to_end_id: status.endToEndId, status: status.status, reference: status.reference ?? '', reason: status.reason ?? '' });
          else waiting += 1;
        }
        afterId = sent[sent.length - 1]!.id;
      }
      const applied = records.length > 0 ? await this.applyStatuses(tx, context, batch, records, 'disbursement API status') : { lines: 0, paid: 0, failed: 0, reversed: 0 };
      return { ...applied, waiting };
    });
  }

  private async applyStatuses(tx: Queryable, context: RequestContext, batch: BatchRow, records: Array<Record<string, string>>, source: string) {
    const keys = [...new Set(records.map((record) => record.end_to_end_id ?? '').filter(Boolean))];
    const known = new Map<string, PaymentRow>();
    for (let index = 0; index < keys.length; index += PAGE) {
      const chunk = keys.slice(index, index + PAGE);
      const rows = await tx.select().from(payments).where(and(eq(payments.batchId, batch.id), sql`${payments.idempotencyKey} = any(${`{${chunk.map((key) => `"${key.replace(/["\\]/g, '\\$&')}"`).join(',')}}`}::text[])`)).for('update');
      for (const row of rows) known.set(row.idempotencyKey, row);
    }
    const problems: FieldProblem[] = [];
    const seen = new Set<string>();
    const changes: Array<{ payment: PaymentRow; to: PaymentState; reference: string | null; reason: string | null }> = [];
    records.forEach((record, index) => {
      const path = `/content/line/${index + 2}`;
      const key = record.end_to_end_id ?? '';
      const status = (record.status ?? '').toLowerCase();
      if (!key) return problems.push({ path, message: 'has no end_to_end_id' });
      if (seen.has(key)) return problems.push({ path, message: `repeats end_to_end_id ${key}` });
      seen.add(key);
      const payment = known.get(key);
      if (!payment) return problems.push({ path, message: `end_to_end_id ${key} is not a payment of this batch` });
      if (!SETTLEMENTS[status]) return problems.push({ path, message: `status "${record.status}" is not paid, failed or reversed` });
      if (!SETTLEMENTS[status]!.includes(payment.state)) return problems.push({ path, message: `payment ${key} is ${payment.state}: it cannot become ${status}` });
      if (status === 'failed' && !record.reason) return problems.push({ path, message: 'a failed payment needs a reason' });
      changes.push({ payment, to: status as PaymentState, reference: record.reference || null, reason: record.reason || null });
      return undefined;
    });
    if (problems.length > 0) {
      throw new AppError('validation_failed', `The status file was refused, nothing was changed: ${problems.length} bad line(s), e.g. line ${problems[0]!.path.split('/').pop()}: ${problems[0]!.message}`, problems.slice(0, 100));
    }
    for (let index = 0; index < changes.length; index += PAGE) {
      const chunk = changes.slice(index, index + PAGE);
      const values = sql.join(chunk.map((change) => sql`(${change.payment.id}::bigint, ${change.to}, ${change.reference}, ${change.reason})`), sql`, `);
      await queryRows(tx, sql`
        with input(id, to_state, reference, reason) as (values ${values}),
        changed as (
          update ${payments} p set state = input.to_state, provider_reference = coalesce(input.reference, p.provider_reference),
            failure_reason = case when input.to_state = 'failed' then input.reason else p.failure_reason end,
            settled_at = now(), updated_at = now(), version = p.version + 1
          from input where p.id = input.id
          returning p.id, p.attempt, input.to_state, input.reason)
        insert into ${paymentEvents} (payment_id, from_state, to_state, attempt, reason, actor_type, actor_id)
        select changed.id, case when changed.to_state = 'reversed' then 'paid' else 'sent' end, changed.to_state, changed.attempt,
          coalesce(changed.reason, ${source}), ${context.actor.type}, ${context.actor.id} from changed`);
    }
    await this.closeIfSettled(tx, batch.id);
    const counts = { paid: 0, failed: 0, reversed: 0 } as Record<string, number>;
    for (const change of changes) counts[change.to] = (counts[change.to] ?? 0) + 1;
    await recordAudit(tx, context, { action: 'reconcile', entityType: 'payment-batch', entityId: batch.uuid, after: { source, lines: changes.length, ...counts } });
    return { lines: changes.length, ...counts };
  }

  /** Failed payments go back to pending with the next attempt number and a new idempotency key. */
  async retryFailed(context: RequestContext, batchId: string) {
    return this.db.transaction(async (tx) => {
      const batch = await this.batchRow(tx, batchId, true);
      const [row] = await queryRows<{ count: number }>(tx, sql`
        with retried as (
          update ${payments} set state = 'pending', attempt = attempt + 1,
            idempotency_key = replace(uuid::text, '-', '') || '-' || (attempt + 1), failure_reason = null, sent_at = null, settled_at = null,
            updated_at = now(), version = version + 1
          where batch_id = ${batch.id} and state = 'failed' returning id, attempt),
        events as (
          insert into ${paymentEvents} (payment_id, from_state, to_state, attempt, reason, actor_type, actor_id)
          select id, 'failed', 'pending', attempt, 'retry of a failed payment', ${context.actor.type}, ${context.actor.id} from retried returning 1)
        select count(*)::int as count from events`);
      const count = Number(row?.count ?? 0);
      if (count === 0) throw new AppError('conflict', 'The batch has no failed payments to retry');
      await tx.update(paymentBatches).set({ state: 'open', updatedAt: new Date() }).where(eq(paymentBatches.id, batch.id));
      await recordAudit(tx, context, { action: 'retry-failed', entityType: 'payment-batch', entityId: batch.uuid, after: { retried: count } });
      return { retried: count };
    });
  }

  /** Manual provider: the payment was handed over (cash, voucher), with its receipt reference. */
  async markPaid(context: RequestContext, paymentId: string, reference: string) {
    return this.db.transaction(async (tx) => {
      const payment = await this.paymentRow(tx, paymentId, true);
      const [batch] = await tx.select().from(paymentBatches).where(eq(paymentBatches.id, payment.batchId));
      if (!providers[batch!.provider]!.canMarkPaid) throw new AppError('business_rule_violated', `This payment is in a ${batch!.provider} batch: it is settled by the provider's status file, not by hand`);
      if (payment.state !== 'pending' && payment.state !== 'sent') throw new AppError('conflict', `The payment is ${payment.state}; only a pending or sent payment can be marked paid`);
      const [updated] = await tx.update(payments).set({ state: 'paid', providerReference: reference, settledAt: new Date(), sentAt: payment.sentAt ?? new Date(), updatedAt: new Date(), version: sql`${payments.version} + 1` })
        .where(eq(payments.id, payment.id)).returning();
      await tx.insert(paymentEvents).values({ paymentId: payment.id, fromState: payment.state, toState: 'paid', attempt: payment.attempt, reason: `marked paid by hand, reference ${reference}`, actorType: context.actor.type, actorId: context.actor.id });
      await recordAudit(tx, context, { action: 'mark-paid', entityType: 'payment', entityId: payment.uuid, before: { state: payment.state }, after: { state: 'paid', reference } });
      await this.closeIfSettled(tx, payment.batchId);
      return this.paymentView(tx, updated!);
    });
  }

  async getBatch(id: string) {
    const batch = await this.batchRow(this.db, id);
    const [cycle] = await this.db.select({ uuid: cycles.uuid }).from(cycles).where(eq(cycles.id, batch.cycleId));
    const states = await this.db.select({ state: payments.state, count: sql<number>`count(*)::int`, total: sql<string>`coalesce(sum(${payments.amount}), 0)::text` })
      .from(payments).where(eq(payments.batchId, batch.id)).groupBy(payments.state);
    return { ...batchView(batch, cycle!.uuid), byState: Object.fromEntries(states.map((row) => [row.state, { count: Number(row.count), total: normaliseAmount(row.total) }])) };
  }

  async searchBatches(query: BatchSearchQuery) {
    const cycle = await this.deps.cycles.getRow(this.db, query.cycle);
    const rows = await this.db.select().from(paymentBatches).where(and(eq(paymentBatches.cycleId, cycle.id), gt(paymentBatches.id, decodeCursor(query._cursor))))
      .orderBy(asc(paymentBatches.id)).limit(query._count + 1);
    return pageOf(rows, query._count, (row) => batchView(row, cycle.uuid));
  }

  async searchPayments(query: PaymentSearchQuery): Promise<Page<unknown>> {
    const batch = await this.batchRow(this.db, query.batch);
    const rows = await this.db.select().from(payments).where(and(eq(payments.batchId, batch.id), gt(payments.id, decodeCursor(query._cursor)),
      query.state ? eq(payments.state, query.state as PaymentState) : undefined)).orderBy(asc(payments.id)).limit(query._count + 1);
    const page = pageOf(rows, query._count, (row) => row);
    return { ...page, items: await Promise.all(page.items.map((row) => this.paymentView(this.db, row))) };
  }

  async getPayment(id: string) {
    return this.paymentView(this.db, await this.paymentRow(this.db, id));
  }

  async paymentHistory(id: string) {
    const payment = await this.paymentRow(this.db, id);
    const events = await this.db.select().from(paymentEvents).where(eq(paymentEvents.paymentId, payment.id)).orderBy(asc(paymentEvents.id));
    return events.map((event) => ({ from: event.fromState, to: event.toState, attempt: event.attempt, reason: event.reason, actor: { type: event.actorType, id: event.actorId }, occurredAt: iso(event.occurredAt) }));
  }

  private async paymentView(db: Queryable, row: PaymentRow) {
    const [refs] = await db.select({ batch: paymentBatches.uuid, entitlement: entitlements.uuid, registrant: registrants.uuid }).from(payments)
      .innerJoin(paymentBatches, eq(paymentBatches.id, payments.batchId)).innerJoin(entitlements, eq(entitlements.id, payments.entitlementId))
      .innerJoin(registrants, eq(registrants.id, entitlements.registrantId)).where(eq(payments.id, row.id));
    return {
      resourceType: 'Payment' as const, id: row.uuid, batch: refs!.batch, entitlement: refs!.entitlement, registrant: refs!.registrant,
      amount: normaliseAmount(row.amount), currency: row.currency, state: row.state, attempt: row.attempt, endToEndId: row.idempotencyKey,
      providerReference: row.providerReference, failureReason: row.failureReason, sentAt: iso(row.sentAt), settledAt: iso(row.settledAt), version: row.version,
    };
  }

  private async refreshTotals(tx: Queryable, batchId: number) {
    const [totals] = await tx.select({ count: sql<number>`count(*)::int`, total: sql<string>`coalesce(sum(${payments.amount}), 0)::text` }).from(payments).where(eq(payments.batchId, batchId));
    await tx.update(paymentBatches).set({ paymentCount: Number(totals!.count), total: totals!.total, updatedAt: new Date() }).where(eq(paymentBatches.id, batchId));
    return totals!;
  }

  private async closeIfSettled(tx: Queryable, batchId: number) {
    const [open] = await tx.select({ id: payments.id }).from(payments).where(and(eq(payments.batchId, batchId), sql`${payments.state} in ('pending', 'sent', 'failed')`)).limit(1);
    if (!open) await tx.update(paymentBatches).set({ state: 'closed', updatedAt: new Date() }).where(eq(paymentBatches.id, batchId));
  }

  private async batchRow(db: Queryable, id: string, lock = false): Promise<BatchRow> {
    if (!UUID.test(id)) throw AppError.notFound(`Payment batch ${id}`);
    const query = db.select().from(paymentBatches).where(eq(paymentBatches.uuid, id));
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw AppError.notFound(`Payment batch ${id}`);
    return row;
  }

  private async paymentRow(db: Queryable, id: string, lock = false): Promise<PaymentRow> {
    if (!UUID.test(id)) throw AppError.notFound(`Payment ${id}`);
    const query = db.select().from(payments).where(eq(payments.uuid, id));
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw AppError.notFound(`Payment ${id}`);
    return row;
  }
}

function payloadOf(context: RequestContext, batch: string): Record<string, unknown> {
  return { batch, actor: { type: context.actor.type, id: context.actor.id }, ...(context.requestId ? { requestId: context.requestId } : {}) };
}

function contextFor(payload: BatchPayload): RequestContext {
  return { actor: { type: payload.actor.type, id: payload.actor.id, scopes: new Set() }, ...(payload.requestId ? { requestId: payload.requestId } : {}) };
}

function batchView(row: BatchRow, cycleUuid: string) {
  return {
    resourceType: 'PaymentBatch' as const, id: row.uuid, cycle: cycleUuid, provider: row.provider, state: row.state,
    paymentCount: row.paymentCount, total: normaliseAmount(row.total), createdBy: row.createdBy, createdAt: iso(row.createdAt)!, updatedAt: iso(row.updatedAt)!,
  };
}
