import { and, asc, eq, gt, isNotNull, sql } from 'drizzle-orm';
import { recordAudit, type RequestContext } from '../../../platform/audit/audit.js';
import type { Actor } from '../../../platform/auth/access-tokens.js';
import { queryRows, type Db, type Queryable } from '../../../platform/database/database.js';
import { AppError } from '../../../platform/errors.js';
import { enqueueJob, type JobView } from '../../../platform/jobs/job-queue.js';
import type { JobContext } from '../../../platform/jobs/job-runner.js';
import { PermanentJobError } from '../../../platform/jobs/job-runner.js';
import { areaCondition, type AllowedAreas } from '../../registry/registry-access.js';
import { registrants, type RegistrantKind } from '../../registry/registry.tables.js';
import type { RuleService } from '../../rules/rules.service.js';
import { decodeCursor, iso, pageOf, UUID, type Page } from '../programs.common.js';
import { findProgramById, type ProgramRow } from '../programs.repository.js';
import type { EnrolInput, MembershipSearchQuery, SuspectSearchQuery, TransitionInput } from '../programs.schemas.js';
import type { ProgramService } from '../programs.service.js';
import { duplicateSuspects, programMembershipEvents, programMemberships, type MembershipState } from '../programs.tables.js';
import { findDuplicateSuspects, recordIbrHits, type IbrClient } from './dedup.js';

export const ENROL_JOB = 'programs.enrol';
export const REVERIFY_JOB = 'programs.reverify';
const BATCH_SIZE = 10_000;

interface JobActor { type: Actor['type']; id: string }
interface EnrolPayload { program: string; at: string; actor: JobActor; requestId?: string }

export interface MembershipView {
  resourceType: 'ProgramMembership';
  id: string;
  program: string;
  registrant: { resourceType: 'Individual' | 'Group'; id: string };
  state: MembershipState;
  stateReason: string | null;
  ineligibleSince: string | null;
  enrolledAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface SuspectView {
  resourceType: 'DuplicateSuspect';
  id: string;
  membership: string;
  registrant: string;
  looksLike: string | null;
  reason: string;
  detail: string | null;
  state: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
}

/** Manual transitions an officer may make (the enrolment job and duplicate review make the others). */
const TRANSITIONS: Record<MembershipState, readonly MembershipState[]> = {
  draft: ['enrolled', 'not_eligible', 'duplicate'],
  enrolled: ['paused', 'exited', 'not_eligible'],
  paused: ['enrolled', 'exited'],
  not_eligible: ['enrolled', 'exited'],
  duplicate: ['exited'],
  exited: [],
};

export interface AreaAccess { allowedAreaIds(actor: Actor, permission: `${RegistrantKind}:read`): Promise<AllowedAreas> }

/**
 * Enrolment: a background job selects the eligible with the program's compiled rule and adds them
 * in bulk (INSERT … SELECT per keyset batch, idempotent: re-running adds only the new ones), checks
 * them for duplicates, and enrols those without an open suspicion. Re-verification flags the members
 * the rule no longer selects. Every state change is an event with its reason; officers move
 * memberships and decide suspected duplicates.
 */
export class EnrolmentService {
  private ibr: IbrClient | undefined;

  constructor(private readonly db: Db, private readonly deps: { programs: ProgramService; rules: RuleService; access: AreaAccess }) {}

  /** Plugs in the IBR (DCI) client; until then programs cannot turn the IBR check on. */
  useIbrClient(client: IbrClient | undefined): void {
    this.ibr = client;
  }

  hasIbrClient(): boolean {
    return this.ibr !== undefined;
  }

  async enqueueEnrol(context: RequestContext, ref: string, input: EnrolInput): Promise<JobView> {
    return this.enqueue(context, ref, ENROL_JOB, input.at);
  }

  async enqueueReverify(context: RequestContext, ref: string, input: EnrolInput): Promise<JobView> {
    return this.enqueue(context, ref, REVERIFY_JOB, input.at);
  }

  private async enqueue(context: RequestContext, ref: string, type: string, at: string | undefined): Promise<JobView> {
    const program = await this.deps.programs.getRow(this.db, ref);
    if (program.state === 'ended') throw new AppError('business_rule_violated', `Program ${program.code} has ended; it enrols nobody`);
    const instant = at ?? new Date().toISOString();
    this.deps.rules.evaluationContext({ at: instant });
    return this.db.transaction(async (tx) => {
      const payload: EnrolPayload = { program: program.uuid, at: instant, actor: { type: context.actor.type, id: context.actor.id }, ...(context.requestId ? { requestId: context.requestId } : {}) };
      const job = await enqueueJob(tx, { type, payload: payload as unknown as Record<string, unknown>, createdBy: context.actor.id, maxAttempts: 3 });
      await recordAudit(tx, context, { action: type === ENROL_JOB ? 'enrol-requested' : 'reverify-requested', entityType: 'program', entityId: program.uuid, after: { job: job.id, at: instant } });
      return job;
    });
  }

  /** The enrolment job: resumes after the last batch it saved. */
  async runEnrol(job: JobContext<EnrolPayload>): Promise<Record<string, unknown>> {
    const { payload } = job.job;
    const program = await this.programFor(payload.program);
    const compiled = await this.deps.rules.compile({ expression: program.eligibilityRule, subject: program.targetType, at: payload.at });
    const checkpoint = job.job.checkpoint as { afterId?: number; seen?: number; added?: number } | null;
    let afterId = checkpoint?.afterId ?? 0;
    let seen = checkpoint?.seen ?? 0;
    let added = checkpoint?.added ?? 0;
    // Without any duplicate check there is nothing to review: members are enrolled as they are added
    // (one write per member instead of a draft and its promotion).
    const checks = program.dedup;
    const direct = checks.idTypes.length === 0 && !checks.phone && !checks.nameBirthDate && !checks.ibr;
    const initial = direct ? 'enrolled' : 'draft';
    const reason = direct ? `eligible at ${payload.at}, no duplicate checks configured (enrolment job ${job.job.id})` : `eligible at ${payload.at} (enrolment job ${job.job.id})`;
    for (;;) {
      if (job.signal.aborted) throw new Error('enrolment stopped');
      const batch = await this.db.transaction(async (tx) => {
        const [row] = await queryRows<{ last: number | string | null; seen: number; added: number }>(tx, sql`
          with batch as (
            select ${registrants.id} as id from ${registrants}
            where ${registrants.kind} = ${program.targetType} and ${registrants.isActive} and ${registrants.id} > ${afterId} and ${compiled.condition}
            order by ${registrants.id} limit ${BATCH_SIZE}),
          added as (
            insert into ${programMemberships} (uuid, program_id, registrant_id, state, state_reason, enrolled_at)
            select gen_random_uuid(), ${program.id}, id, ${initial}, ${reason}, ${direct ? sql`now()` : sql`null`} from batch
            on conflict do nothing returning id),
          events as (
            insert into ${programMembershipEvents} (membership_id, from_state, to_state, reason, actor_type, actor_id)
            select id, null, ${initial}, ${reason}, ${payload.actor.type}, ${payload.actor.id} from added returning 1)
          select (select max(id) from batch) as last, (select count(*)::int from batch) as seen, (select count(*)::int from events) as added`);
        if (row?.last === null || row?.last === undefined) return undefined;
        const result = { last: Number(row.last), seen: Number(row.seen), added: Number(row.added) };
        await job.reportProgress(seen + result.seen, undefined, { afterId: result.last, seen: seen + result.seen, added: added + result.added }, { tx });
        return result;
      });
      if (!batch) break;
      afterId = batch.last;
      seen += batch.seen;
      added += batch.added;
      if (batch.seen < BATCH_SIZE) break;
    }
    // Duplicate checks and promotion are idempotent: a resumed job simply runs them again.
    let suspects = await findDuplicateSuspects(this.db, program.id, program.dedup);
    if (program.dedup.ibr) {
      if (!this.ibr) throw new PermanentJobError('The program asks for the IBR check but no IBR client is configured');
      suspects += await this.checkIbr(program);
    }
    const enrolled = direct ? added : await this.promoteDrafts(program, payload.actor, `eligible and no suspected duplicate (enrolment job ${job.job.id})`);
    await recordAudit(this.db, contextFor(payload), { action: 'enrol', entityType: 'program', entityId: program.uuid, after: { job: job.job.id, eligible: seen, added, suspects, enrolled } });
    return { eligible: seen, added, suspectedDuplicates: suspects, enrolled };
  }

  /** Re-verification: flags (never drops) enrolled or paused members the rule no longer selects; unflags those it selects again. */
  async runReverify(job: JobContext<EnrolPayload>): Promise<Record<string, unknown>> {
    const { payload } = job.job;
    const program = await this.programFor(payload.program);
    const compiled = await this.deps.rules.compile({ expression: program.eligibilityRule, subject: program.targetType, at: payload.at });
    const eligible = sql`exists (select 1 from ${registrants} where ${registrants.id} = ${programMemberships.registrantId} and ${registrants.isActive} and ${compiled.condition})`;
    return this.db.transaction(async (tx) => {
      const flagged = await tx.update(programMemberships).set({ ineligibleSince: new Date(payload.at), updatedAt: new Date(), version: sql`${programMemberships.version} + 1` })
        .where(and(eq(programMemberships.programId, program.id), sql`${programMemberships.state} in ('enrolled', 'paused')`, sql`${programMemberships.ineligibleSince} is null`, sql`not ${eligible}`))
        .returning({ id: programMemberships.id });
      const cleared = await tx.update(programMemberships).set({ ineligibleSince: null, updatedAt: new Date(), version: sql`${programMemberships.version} + 1` })
        .where(and(eq(programMemberships.programId, program.id), isNotNull(programMemberships.ineligibleSince), eligible))
        .returning({ id: programMemberships.id });
      await recordAudit(tx, contextFor(payload), { action: 'reverify', entityType: 'program', entityId: program.uuid, after: { job: job.job.id, at: payload.at, flagged: flagged.length, cleared: cleared.length } });
      return { flaggedNoLongerEligible: flagged.length, eligibleAgain: cleared.length };
    });
  }

  async search(actor: Actor, query: MembershipSearchQuery): Promise<Page<MembershipView>> {
    const program = await this.deps.programs.getRow(this.db, query.program);
    const allowed = await this.deps.access.allowedAreaIds(actor, `${program.targetType}:read`);
    const rows = await this.selectMemberships(this.db, and(
      eq(programMemberships.programId, program.id),
      gt(programMemberships.id, decodeCursor(query._cursor)),
      query.state !== undefined ? eq(programMemberships.state, query.state) : undefined,
      query.ineligible === undefined ? undefined : query.ineligible ? isNotNull(programMemberships.ineligibleSince) : sql`${programMemberships.ineligibleSince} is null`,
      areaCondition(allowed),
    )).orderBy(asc(programMemberships.id)).limit(query._count + 1);
    return pageOf(rows.map((row) => ({ ...row, id: row.membership.id })), query._count, (row) => membershipView(row, program));
  }

  async get(actor: Actor, id: string): Promise<MembershipView> {
    const { row, program } = await this.find(this.db, actor, id);
    return membershipView(row, program);
  }

  async history(actor: Actor, id: string) {
    const { row } = await this.find(this.db, actor, id);
    const events = await this.db.select().from(programMembershipEvents).where(eq(programMembershipEvents.membershipId, row.membership.id)).orderBy(asc(programMembershipEvents.id));
    return events.map((event) => ({ from: event.fromState, to: event.toState, reason: event.reason, actor: { type: event.actorType, id: event.actorId }, occurredAt: iso(event.occurredAt) }));
  }

  async transition(context: RequestContext, id: string, expectedVersion: number | undefined, input: TransitionInput): Promise<MembershipView> {
    return this.db.transaction(async (tx) => {
      const { row, program } = await this.find(tx, context.actor, id, true);
      if (expectedVersion !== undefined && expectedVersion !== row.membership.version) {
        throw new AppError('precondition_failed', `The membership has changed since you read it (your version ${expectedVersion}, current ${row.membership.version})`);
      }
      const from = row.membership.state;
      if (!TRANSITIONS[from].includes(input.state)) {
        throw new AppError('conflict', `A ${from} membership cannot become ${input.state}${TRANSITIONS[from].length ? ` (it can become ${TRANSITIONS[from].join(', ')})` : ''}`);
      }
      if (program.state === 'ended') throw new AppError('business_rule_violated', `Program ${program.code} has ended`);
      const updated = await this.move(tx, context, row.membership.id, from, input.state, input.reason);
      return membershipView({ ...row, membership: updated }, program);
    });
  }

  async suspects(ref: string, query: SuspectSearchQuery): Promise<Page<SuspectView>> {
    const program = await this.deps.programs.getRow(this.db, ref);
    const rows = await this.selectSuspects(this.db, and(
      eq(duplicateSuspects.programId, program.id), gt(duplicateSuspects.id, decodeCursor(query._cursor)),
      query.state !== undefined ? eq(duplicateSuspects.state, query.state) : undefined,
    )).orderBy(asc(duplicateSuspects.id)).limit(query._count + 1);
    return pageOf(rows.map((row) => ({ ...row, id: row.suspect.id })), query._count, suspectView);
  }

  /** The officer confirms: the later membership becomes `duplicate`. */
  async confirmSuspect(context: RequestContext, id: string, reason: string): Promise<SuspectView> {
    return this.decide(context, id, 'confirmed', reason, async (tx, membership) => {
      if (membership.state === 'draft' || membership.state === 'enrolled' || membership.state === 'paused') {
        await this.move(tx, context, membership.id, membership.state, 'duplicate', `confirmed duplicate: ${reason}`);
      }
    });
  }

  /** The officer clears: once no suspicion is open, a draft membership is enrolled. */
  async clearSuspect(context: RequestContext, id: string, reason: string): Promise<SuspectView> {
    return this.decide(context, id, 'cleared', reason, async (tx, membership) => {
      if (membership.state !== 'draft') return;
      const [open] = await tx.select({ id: duplicateSuspects.id }).from(duplicateSuspects)
        .where(and(eq(duplicateSuspects.membershipId, membership.id), eq(duplicateSuspects.state, 'open'))).limit(1);
      if (!open) await this.move(tx, context, membership.id, 'draft', 'enrolled', `suspected duplicate cleared: ${reason}`);
    });
  }

  private async decide(context: RequestContext, id: string, to: 'confirmed' | 'cleared', reason: string,
    then: (tx: Queryable, membership: typeof programMemberships.$inferSelect) => Promise<void>): Promise<SuspectView> {
    if (!UUID.test(id)) throw AppError.notFound(`Suspected duplicate ${id}`);
    return this.db.transaction(async (tx) => {
      const [suspect] = await tx.select().from(duplicateSuspects).where(eq(duplicateSuspects.uuid, id)).for('update');
      if (!suspect) throw AppError.notFound(`Suspected duplicate ${id}`);
      if (suspect.state !== 'open') throw new AppError('conflict', `This suspected duplicate was already ${suspect.state}`);
      const [membership] = await tx.select().from(programMemberships).where(eq(programMemberships.id, suspect.membershipId)).for('update');
      await tx.update(duplicateSuspects).set({ state: to, decidedBy: context.actor.id, decidedAt: new Date(), decisionReason: reason }).where(eq(duplicateSuspects.id, suspect.id));
      await recordAudit(tx, context, { action: to === 'confirmed' ? 'confirm-duplicate' : 'clear-duplicate', entityType: 'duplicate-suspect', entityId: suspect.uuid, before: { state: 'open' }, after: { state: to, reason } });
      await then(tx, membership!);
      const [row] = await this.selectSuspects(tx, eq(duplicateSuspects.id, suspect.id));
      return suspectView(row!);
    });
  }

  private async move(tx: Queryable, context: RequestContext, membershipId: number, from: MembershipState, to: MembershipState, reason: string) {
    const [updated] = await tx.update(programMemberships).set({
      state: to, stateReason: reason, updatedAt: new Date(), version: sql`${programMemberships.version} + 1`,
      ...(to === 'enrolled' ? { enrolledAt: new Date(), ineligibleSince: null } : {}),
    }).where(and(eq(programMemberships.id, membershipId), eq(programMemberships.state, from))).returning();
    if (!updated) throw new AppError('conflict', 'The membership changed meanwhile; read it again');
    await tx.insert(programMembershipEvents).values({ membershipId, fromState: from, toState: to, reason, actorType: context.actor.type, actorId: context.actor.id });
    await recordAudit(tx, context, { action: 'transition', entityType: 'program-membership', entityId: updated.uuid, before: { state: from }, after: { state: to, reason } });
    return updated;
  }

  private async promoteDrafts(program: ProgramRow, actor: JobActor, reason: string): Promise<number> {
    const [row] = await queryRows<{ count: number }>(this.db, sql`
      with promoted as (
        update ${programMemberships} pm set state = 'enrolled', state_reason = ${reason}, enrolled_at = now(), updated_at = now(), version = pm.version + 1
        where pm.program_id = ${program.id} and pm.state = 'draft'
          and not exists (select 1 from ${duplicateSuspects} s where s.membership_id = pm.id and s.state in ('open', 'confirmed'))
        returning pm.id),
      events as (
        insert into ${programMembershipEvents} (membership_id, from_state, to_state, reason, actor_type, actor_id)
        select id, 'draft', 'enrolled', ${reason}, ${actor.type}, ${actor.id} from promoted returning 1)
      select count(*)::int as count from events`);
    return Number(row?.count ?? 0);
  }

  private async checkIbr(program: ProgramRow): Promise<number> {
    let found = 0;
    for (let afterId = 0; ;) {
      const rows = await this.db.select({ id: programMemberships.id, uuid: registrants.uuid }).from(programMemberships)
        .innerJoin(registrants, eq(registrants.id, programMemberships.registrantId))
        .where(and(eq(programMemberships.programId, program.id), eq(programMemberships.state, 'draft'), gt(programMemberships.id, afterId)))
        .orderBy(asc(programMemberships.id)).limit(500);
      if (rows.length === 0) return found;
      found += await recordIbrHits(this.db, program.id, await this.ibr!.findEnrolledElsewhere(rows.map((row) => row.uuid)));
      afterId = rows[rows.length - 1]!.id;
    }
  }

  private async programFor(uuid: string): Promise<ProgramRow> {
    const program = await this.deps.programs.getRow(this.db, uuid).catch(() => undefined);
    if (!program) throw new PermanentJobError(`Program ${uuid} no longer exists`);
    return program;
  }

  private selectMemberships(db: Queryable, where: ReturnType<typeof and>) {
    return db.select({ membership: programMemberships, registrantUuid: registrants.uuid, kind: registrants.kind })
      .from(programMemberships).innerJoin(registrants, eq(registrants.id, programMemberships.registrantId)).where(where);
  }

  private selectSuspects(db: Queryable, where: ReturnType<typeof and>) {
    const other = sql<string | null>`(select uuid::text from ${registrants} o where o.id = ${duplicateSuspects.otherRegistrantId})`;
    return db.select({ suspect: duplicateSuspects, membershipUuid: programMemberships.uuid, registrantUuid: registrants.uuid, other })
      .from(duplicateSuspects).innerJoin(programMemberships, eq(programMemberships.id, duplicateSuspects.membershipId))
      .innerJoin(registrants, eq(registrants.id, programMemberships.registrantId)).where(where);
  }

  private async find(db: Queryable, actor: Actor, id: string, lock = false) {
    if (!UUID.test(id)) throw AppError.notFound(`Program membership ${id}`);
    const query = this.selectMemberships(db, eq(programMemberships.uuid, id));
    const [row] = lock ? await query.for('update', { of: programMemberships }) : await query;
    if (!row) throw AppError.notFound(`Program membership ${id}`);
    const program = (await findProgramById(db, row.membership.programId))!;
    const allowed = await this.deps.access.allowedAreaIds(actor, `${program.targetType}:read`);
    if (allowed !== undefined) {
      const [visible] = await db.select({ id: registrants.id }).from(registrants).where(and(eq(registrants.id, row.membership.registrantId), areaCondition(allowed)));
      if (!visible) throw AppError.notFound(`Program membership ${id}`);
    }
    return { row, program };
  }
}

function contextFor(payload: EnrolPayload): RequestContext {
  return { actor: { type: payload.actor.type, id: payload.actor.id, scopes: new Set() }, ...(payload.requestId ? { requestId: payload.requestId } : {}) };
}

type MembershipRow = { membership: typeof programMemberships.$inferSelect; registrantUuid: string; kind: RegistrantKind };

function membershipView(row: MembershipRow, program: ProgramRow): MembershipView {
  const m = row.membership;
  return {
    resourceType: 'ProgramMembership', id: m.uuid, program: program.code,
    registrant: { resourceType: row.kind === 'individual' ? 'Individual' : 'Group', id: row.registrantUuid },
    state: m.state, stateReason: m.stateReason, ineligibleSince: iso(m.ineligibleSince), enrolledAt: iso(m.enrolledAt),
    version: m.version, createdAt: iso(m.createdAt)!, updatedAt: iso(m.updatedAt)!,
  };
}

function suspectView(row: { suspect: typeof duplicateSuspects.$inferSelect; membershipUuid: string; registrantUuid: string; other: string | null }): SuspectView {
  const s = row.suspect;
  return {
    resourceType: 'DuplicateSuspect', id: s.uuid, membership: row.membershipUuid, registrant: row.registrantUuid, looksLike: row.other,
    reason: s.reason, detail: s.detail, state: s.state, decidedBy: s.decidedBy, decidedAt: iso(s.decidedAt), decisionReason: s.decisionReason,
  };
}
