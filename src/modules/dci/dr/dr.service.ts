import crypto from 'node:crypto';
import type { Db } from '../../../platform/database/database.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { AppError } from '../../../platform/errors.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import { enqueueJob, type JobView } from '../../../platform/jobs/job-queue.js';
import type { JobContext } from '../../../platform/jobs/job-runner.js';
import type { RegistryService } from '../../registry/registry.service.js';
import type { IndividualView } from '../../registry/registry.views.js';
import type { DciClients } from '../client/dci-clients.module.js';

type Json = Record<string, unknown>;

export const DR_SYNC_JOB = 'dci.dr-sync';
/** Washington Group domains as the DR names them → our disability-type codes. */
export const WG_DOMAINS: Record<string, string> = { Vision: 'seeing', Hearing: 'hearing', Mobility: 'walking', Cognition: 'cognition', 'Self-Care': 'self-care', Communication: 'communication' };
/** WG-SS cut-off: "a lot of difficulty" (3) or "cannot do at all" (4) in a domain. */
const WG_CUTOFF = 3;
const DR_ID_TYPES: Record<string, string> = { 'national-id': 'UIN' };

export interface DisabilityStatus {
  hasDisability: boolean;
  disabilityTypes: string[];
  functionalScores: Record<string, number>;
  details: Json[];
}

/**
 * The DR client service: disability status, Washington Group scores, "is disabled", and a job that
 * refreshes stored disability data of registrants (through the registry service, audited), so
 * eligibility rules can use `disability` and `custom.wgScores`.
 */
export class DrService {
  constructor(
    private readonly db: Db,
    private readonly clients: DciClients,
    private readonly registry: RegistryService,
    private readonly code = 'dr_main',
    /** A custom field (object) defined by the deployment to hold the WG scores; none = scores not stored. */
    private readonly options: { scoresCustomField?: string } = {},
  ) {}

  async statusByIdentifier(idType: string, value: string): Promise<DisabilityStatus | null> {
    const item = await this.clients.search.byIdentifier(this.code, idType, value);
    if (item.status !== 'succ') throw new AppError('unavailable', `The DR refused the search (${item.reasonCode ?? item.status})`);
    const record = item.records[0];
    if (!record) return null;
    const scores = Object.fromEntries(Object.entries((record.functional_scores ?? {}) as Record<string, unknown>).map(([domain, score]) => [domain, Number(score)]).filter(([, score]) => Number.isFinite(score))) as Record<string, number>;
    const types = Object.entries(scores).filter(([, score]) => score >= WG_CUTOFF).map(([domain]) => WG_DOMAINS[domain]).filter((code): code is string => code !== undefined);
    return { hasDisability: record.has_disability === true || types.length > 0, disabilityTypes: types, functionalScores: scores, details: (record.disability_details as Json[] | undefined) ?? [] };
  }

  /** A registrant's disability status from the DR (by the identifiers the DR knows), or null. */
  async getDisabilityStatus(registrantRef: string): Promise<DisabilityStatus | null> {
    const individual = await this.registry.getIndividual({ actor: systemActor('dci-dr') }, registrantRef);
    for (const identifier of individual.identifiers) {
      const theirs = DR_ID_TYPES[identifier.type];
      if (!theirs || !identifier.value) continue;
      const status = await this.statusByIdentifier(theirs, identifier.value);
      if (status) return status;
    }
    return null;
  }

  async getFunctionalScores(registrantRef: string): Promise<Record<string, number>> {
    return (await this.getDisabilityStatus(registrantRef))?.functionalScores ?? {};
  }

  /** sync/disabled: the DR's own yes/no. */
  async isDisabled(idType: string, value: string): Promise<boolean> {
    const answer = await this.clients.client.callSync<Json>(this.code, 'disabled', {
      transaction_id: crypto.randomUUID(), disabled_criteria: { query_type: 'expression', query: { 'member.member_identifier': { eq: value }, 'member.member_identifier_type': { eq: idType } } },
    });
    const item = (answer.message.disabled_response as Json[] | undefined)?.[0];
    if (!item || item.status !== 'succ') throw new AppError('unavailable', 'The DR refused the check');
    return item.disabled_status === 'yes';
  }

  /** Bulk refresh as a background job. */
  enqueueSync(context: RequestContext, registrantUuids: string[]): Promise<JobView> {
    if (registrantUuids.length === 0) throw AppError.validation('Name at least one registrant', [{ path: '/registrants', message: 'must not be empty' }]);
    return enqueueJob(this.db, { type: DR_SYNC_JOB, payload: { registrants: registrantUuids }, maxAttempts: 3, createdBy: context.actor.id });
  }

  async runSync({ job, reportProgress }: JobContext<{ registrants: string[] }>): Promise<Json> {
    const uuids = job.payload.registrants;
    const start = Number(job.checkpoint?.next ?? 0);
    let updated = 0;
    let unknown = 0;
    for (let index = start; index < uuids.length; index += 1) {
      const result = await this.refresh(uuids[index]!);
      if (result === 'updated') updated += 1;
      if (result === 'unknown') unknown += 1;
      await reportProgress(index + 1, uuids.length, { next: index + 1 });
    }
    return { updated, unknown, total: uuids.length };
  }

  /** One registrant: stores the DR's status (`disability`) and scores (`custom.wgScores`) when they changed. */
  async refresh(registrantUuid: string): Promise<'updated' | 'unchanged' | 'unknown'> {
    const context = { actor: systemActor('dci-dr') };
    const status = await this.getDisabilityStatus(registrantUuid);
    if (!status) return 'unknown';
    const individual: IndividualView = await this.registry.getIndividual(context, registrantUuid);
    const disability = { hasDisability: status.hasDisability, types: status.disabilityTypes };
    const scoresChanged = this.options.scoresCustomField !== undefined && JSON.stringify(individual.custom?.[this.options.scoresCustomField] ?? null) !== JSON.stringify(status.functionalScores);
    if (JSON.stringify(individual.disability) === JSON.stringify(disability) && !scoresChanged) return 'unchanged';
    // Scores go to a custom field only where the deployment defined one for them (custom fields are declared).
    const custom = this.options.scoresCustomField ? { custom: { ...individual.custom, [this.options.scoresCustomField]: status.functionalScores } } : {};
    await this.registry.updateIndividual(context, registrantUuid, { disability, ...custom }, individual.version);
    return 'updated';
  }
}
