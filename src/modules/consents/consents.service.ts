import crypto from 'node:crypto';
import type { Db, Queryable } from '../../platform/database/database.js';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../platform/audit/audit.js';
import { systemActor, type Actor } from '../../platform/auth/access-tokens.js';
import type { RegistrantKind } from '../registry/registry.tables.js';
import type { AllowedAreas } from '../registry/registry-access.js';
import type { ConsentStatus } from './consents.tables.js';
import * as repository from './consents.repository.js';
import type { ConsentRow, ConsentWithSubject, NewConsentRow } from './consents.repository.js';
import type { ConsentInput, Evidence, GiveInput, RefuseInput, WithdrawInput } from './consents.schemas.js';
import { DATA_CATEGORIES, PROCESSING_OPERATIONS, PURPOSES, normaliseTerms } from './consent-terms.js';
import {
  effectiveStatus, releaseView, releasedFields, requiresConsent, summariseCoverage, type ConsentCoverage, type ConsentTerms, type RegistrantView,
} from './consent-filter.js';

/** What consents need from the registry: a registrant by UUID or `idtype|value` (404 when unknown). */
export interface RegistrantResolver {
  resolve(db: Queryable, ref: string, kind: RegistrantKind, path?: string, allowed?: AllowedAreas): Promise<{ id: number; uuid: string; isActive: boolean }>;
  /** Area scoping: registrants outside the actor's areas are not found. */
  access: { allowedAreaIds(actor: Actor, permission: `${RegistrantKind}:read`): Promise<AllowedAreas> };
}

export interface ConsentView {
  resourceType: 'Consent';
  id: string;
  subject: { resourceType: 'Individual' | 'Group'; id: string };
  /** As of now: a given consent past its `expiresAt` shows `expired` even before that is recorded. */
  status: ConsentStatus;
  purposes: string[];
  dataCategories: string[];
  processingOperations: string[];
  recipient: { organisation?: string; organisationType?: string };
  legalNotice: string | null;
  collectionMethod: string | null;
  evidence: Record<string, unknown> | null;
  requestedAt: string | null;
  givenAt: string | null;
  refusedAt: string | null;
  withdrawnAt: string | null;
  expiresAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ConsentEventView {
  from: ConsentStatus | null;
  to: ConsentStatus;
  reason: string | null;
  actor: { type: string; id: string };
  occurredAt: string;
}

/** A page of registrant views: search results. */
interface Page<V> { items: V[] }

// The lifecycle: requested → given | refused; given → withdrawn | expired (by time, see recordExpiries).
const TRANSITIONS = {
  give: { from: 'requested', to: 'given', done: 'given' },
  refuse: { from: 'requested', to: 'refused', done: 'refused' },
  withdraw: { from: 'given', to: 'withdrawn', done: 'withdrawn' },
} as const satisfies Record<string, { from: ConsentStatus; to: ConsentStatus; done: string }>;
type Transition = keyof typeof TRANSITIONS;

const EXPIRY_ACTOR = systemActor('consent-expiry');

/**
 * Consent records of registrants (ISO/IEC TS 27560 shape, DPV terms) and the read filter for
 * clients that process under consent. Terms never change once written: a change of terms is a new
 * record. Every status change is an event in `consent_events` and an audit record, in one transaction.
 */
export class ConsentService {
  constructor(private readonly db: Db, private readonly registrants: RegistrantResolver) {}

  /** Records a consent as requested (awaiting the decision) or as already given, with its evidence. */
  async create(context: RequestContext, kind: RegistrantKind, ref: string, input: ConsentInput): Promise<ConsentView> {
    const now = new Date();
    const terms = checkTerms(input, now);
    const given = input.status === 'given';
    return this.db.transaction(async (tx) => {
      const allowed = await this.registrants.access.allowedAreaIds(context.actor, `${kind}:read`);
      const registrant = await this.registrants.resolve(tx, ref, kind, undefined, allowed);
      if (!registrant.isActive) throw new AppError('business_rule_violated', `The ${kind} is deactivated; reactivate it before recording a consent`);
      const row = await repository.insertConsent(tx, {
        ...terms,
        uuid: crypto.randomUUID(),
        registrantId: registrant.id,
        status: given ? 'given' : 'requested',
        evidence: given ? input.evidence! : null,
        requestedAt: given ? null : now,
        givenAt: given ? now : null,
      });
      await this.recordEvent(tx, context.actor, row, null, null, now);
      const view = toView({ consent: row, subjectId: registrant.uuid, subjectKind: kind });
      await recordAudit(tx, context, { action: 'create', entityType: 'consent', entityId: row.uuid, after: auditSnapshot(view) });
      return view;
    });
  }

  /** A registrant's consents, newest first. */
  async listFor(context: RequestContext, kind: RegistrantKind, ref: string): Promise<ConsentView[]> {
    const allowed = await this.registrants.access.allowedAreaIds(context.actor, `${kind}:read`);
    const registrant = await this.registrants.resolve(this.db, ref, kind, undefined, allowed);
    const found = await repository.listConsentsOfRegistrant(this.db, registrant.id);
    return (await this.recordExpiries(found)).map(toView);
  }

  async get(uuid: string): Promise<ConsentView> {
    return toView(await this.find(uuid));
  }

  /** Every status change, oldest first; the first one is the creation. */
  async history(uuid: string): Promise<ConsentEventView[]> {
    const found = await this.find(uuid);
    return (await repository.listConsentEvents(this.db, found.consent.id)).map((event) => ({
      from: event.fromStatus as ConsentStatus | null,
      to: event.toStatus as ConsentStatus,
      reason: event.reason,
      actor: { type: event.actorType, id: event.actorId },
      occurredAt: event.occurredAt.toISOString(),
    }));
  }

  async give(context: RequestContext, uuid: string, input: GiveInput): Promise<ConsentView> {
    const problems: FieldProblem[] = [];
    checkEvidence(input.evidence, new Date(), '/evidence', problems);
    if (problems.length > 0) throw AppError.validation('The evidence is not valid', problems);
    return this.transition(context, uuid, 'give', null, (row, now) => {
      if (row.expiresAt !== null && row.expiresAt <= now) {
        throw new AppError('business_rule_violated', `This consent's expiresAt (${row.expiresAt.toISOString()}) has passed; record a new consent`);
      }
      return { givenAt: now, evidence: input.evidence };
    });
  }

  async refuse(context: RequestContext, uuid: string, input: RefuseInput): Promise<ConsentView> {
    return this.transition(context, uuid, 'refuse', input.reason ?? null, (_row, now) => ({ refusedAt: now }));
  }

  async withdraw(context: RequestContext, uuid: string, input: WithdrawInput): Promise<ConsentView> {
    return this.transition(context, uuid, 'withdraw', input.reason, (_row, now) => ({ withdrawnAt: now }));
  }

  /**
   * The fields `actor`'s consents release, per registrant (by UUID), in one query; undefined when
   * the actor needs no consent. A registrant without any covering consent maps to an empty set.
   */
  async releasedFieldsOf(actor: Actor, subjectIds: readonly string[]): Promise<Map<string, ReadonlySet<string>> | undefined> {
    if (!requiresConsent(actor)) return undefined;
    const bySubject = new Map<string, ConsentTerms[]>(subjectIds.map((id) => [id, []]));
    for (const { subjectId, consent } of await repository.listGivenConsentsOf(this.db, [...new Set(subjectIds)])) bySubject.get(subjectId)?.push(consent);
    const now = new Date();
    return new Map([...bySubject].map(([id, found]) => [id, releasedFields(actor, found, now) ?? new Set<string>()]));
  }

  /** One registrant as `actor` may see it (see filterByConsent); loads its consents only when needed. */
  async filterOne<V extends RegistrantView>(actor: Actor, view: V): Promise<{ body: unknown; consentStatus: ConsentCoverage }> {
    const released = await this.releasedFieldsOf(actor, [view.id]);
    const { view: body, consentStatus } = releaseView(view, released?.get(view.id));
    return { body, consentStatus };
  }

  /** Each item of a page filtered and marked with its `consentStatus`; one query for the page's consents. */
  async filterPage<V extends RegistrantView, P extends Page<V>>(actor: Actor, page: P): Promise<{ body: unknown; consentStatus: ConsentCoverage }> {
    const released = await this.releasedFieldsOf(actor, page.items.map((item) => item.id));
    if (!released) return { body: page, consentStatus: 'not-required' };
    const results = page.items.map((item) => releaseView(item, released.get(item.id)));
    return {
      body: { ...page, items: results.map(({ view, consentStatus }) => ({ ...view, consentStatus })) },
      consentStatus: summariseCoverage(results.map((result) => result.consentStatus)),
    };
  }

  private async find(uuid: string): Promise<ConsentWithSubject> {
    const found = await repository.findConsent(this.db, uuid);
    if (!found) throw AppError.notFound(`Consent ${uuid}`);
    const [settled] = await this.recordExpiries([found]);
    return settled!;
  }

  private async transition(
    context: RequestContext,
    uuid: string,
    transition: Transition,
    reason: string | null,
    changes: (row: ConsentRow, now: Date) => Partial<NewConsentRow>,
  ): Promise<ConsentView> {
    const rule = TRANSITIONS[transition];
    return this.db.transaction(async (tx) => {
      const found = await repository.findConsent(tx, uuid, { lock: true });
      if (!found) throw AppError.notFound(`Consent ${uuid}`);
      const now = new Date();
      const current = effectiveStatus(found.consent, now);
      if (current !== rule.from) {
        const already = current === rule.to ? ` It is already ${current}.` : '';
        throw new AppError('conflict', `Only a ${rule.from} consent can be ${rule.done}; this one is ${current}.${already} A change of mind is a new consent record.`);
      }
      const row = await repository.updateConsentStatus(tx, found.consent.id, rule.from, { status: rule.to, ...changes(found.consent, now) });
      if (!row) throw new AppError('conflict', 'This consent was changed meanwhile; read it again');
      await this.recordEvent(tx, context.actor, row, rule.from, reason, now);
      const before = toView(found);
      const after = toView({ ...found, consent: row });
      await recordAudit(tx, context, { action: transition, entityType: 'consent', entityId: uuid, before: auditSnapshot(before), after: { ...auditSnapshot(after), ...(reason ? { reason } : {}) } });
      return after;
    });
  }

  /**
   * Records, the first time someone reads them after `expiresAt`, the given consents that have
   * expired: status `expired`, an event dated `expiresAt`, an audit record. Reads never wait for
   * this to count a consent as expired (effectiveStatus); it only makes history and storage agree.
   */
  private async recordExpiries(found: ConsentWithSubject[]): Promise<ConsentWithSubject[]> {
    const now = new Date();
    const due = found.filter(({ consent }) => consent.status === 'given' && effectiveStatus(consent, now) === 'expired');
    if (due.length === 0) return found;
    const expired = new Map<number, ConsentRow>();
    await this.db.transaction(async (tx) => {
      for (const { consent } of due) {
        const row = await repository.updateConsentStatus(tx, consent.id, 'given', { status: 'expired' });
        if (!row) continue; // recorded (or withdrawn) by someone else meanwhile
        await this.recordEvent(tx, EXPIRY_ACTOR, row, 'given', 'expiresAt passed', consent.expiresAt!);
        await recordAudit(tx, { actor: EXPIRY_ACTOR }, { action: 'expire', entityType: 'consent', entityId: row.uuid, before: { status: 'given' }, after: { status: 'expired' } });
        expired.set(row.id, row);
      }
    });
    return found.map((entry) => ({ ...entry, consent: expired.get(entry.consent.id) ?? entry.consent }));
  }

  private async recordEvent(db: Queryable, actor: Actor, row: ConsentRow, fromStatus: ConsentStatus | null, reason: string | null, occurredAt: Date) {
    await repository.insertConsentEvent(db, { consentId: row.id, fromStatus, toStatus: row.status, reason, actorType: actor.type, actorId: actor.id, occurredAt });
  }
}

/** The terms as stored: DPV codes normalised to CURIEs; every problem reported at once (400). */
function checkTerms(input: ConsentInput, now: Date) {
  const problems: FieldProblem[] = [];
  const purposes = normaliseTerms(input.purposes, PURPOSES, '/purposes', problems);
  const dataCategories = normaliseTerms(input.dataCategories, DATA_CATEGORIES, '/dataCategories', problems);
  const processingOperations = normaliseTerms(input.processingOperations, PROCESSING_OPERATIONS, '/processingOperations', problems);
  const organisation = input.recipient.organisation?.trim() || null;
  const organisationType = input.recipient.organisationType?.trim() || null;
  if ((organisation === null) === (organisationType === null)) problems.push({ path: '/recipient', message: 'must name exactly one of organisation or organisationType' });
  const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
  if (expiresAt && expiresAt <= now) problems.push({ path: '/expiresAt', message: 'must be in the future' });
  if (input.status === 'given') {
    if (!input.evidence) problems.push({ path: '/evidence', message: 'is required for a consent recorded as given' });
    else checkEvidence(input.evidence, now, '/evidence', problems);
  } else if (input.evidence) {
    problems.push({ path: '/evidence', message: 'goes with the decision: send it to $give, or create the consent with status "given"' });
  }
  if (problems.length > 0) throw AppError.validation(`The consent is not valid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
  return {
    purposes, dataCategories, processingOperations,
    recipientOrganisation: organisation, recipientType: organisationType,
    legalNotice: input.legalNotice ?? null, collectionMethod: input.collectionMethod ?? null, expiresAt,
  };
}

function checkEvidence(evidence: Evidence, now: Date, path: string, problems: FieldProblem[]) {
  if (evidence.capturedAt !== undefined && new Date(evidence.capturedAt) > now) problems.push({ path: `${path}/capturedAt`, message: 'must not be in the future' });
}

function toView({ consent, subjectId, subjectKind }: ConsentWithSubject): ConsentView {
  const iso = (date: Date | null) => date?.toISOString() ?? null;
  return {
    resourceType: 'Consent',
    id: consent.uuid,
    subject: { resourceType: subjectKind === 'individual' ? 'Individual' : 'Group', id: subjectId },
    status: effectiveStatus(consent),
    purposes: consent.purposes,
    dataCategories: consent.dataCategories,
    processingOperations: consent.processingOperations,
    recipient: consent.recipientOrganisation !== null ? { organisation: consent.recipientOrganisation } : { organisationType: consent.recipientType ?? '' },
    legalNotice: consent.legalNotice,
    collectionMethod: consent.collectionMethod,
    evidence: consent.evidence,
    requestedAt: iso(consent.requestedAt),
    givenAt: iso(consent.givenAt),
    refusedAt: iso(consent.refusedAt),
    withdrawnAt: iso(consent.withdrawnAt),
    expiresAt: iso(consent.expiresAt),
    version: consent.version,
    createdAt: consent.createdAt.toISOString(),
    updatedAt: consent.updatedAt.toISOString(),
  };
}

/** What the audit log keeps of a consent: its terms and status, not the record metadata. */
function auditSnapshot(view: ConsentView): Record<string, unknown> {
  const { version: _version, createdAt: _createdAt, updatedAt: _updatedAt, resourceType: _resourceType, id: _id, ...rest } = view;
  return rest;
}
