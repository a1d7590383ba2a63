import crypto from 'node:crypto';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { AppError } from '../../../platform/errors.js';
import type { RegistryService } from '../../registry/registry.service.js';
import type { IbrClient } from '../../programs/enrolment/dedup.js';
import type { DciClients } from '../client/dci-clients.module.js';
import { searchItems, searchMessage } from '../client/search.js';

type Json = Record<string, unknown>;

export interface DuplicationResult {
  isDuplicate: boolean;
  matchedPrograms: string[];
}

/** Our id-type codes → the identifier type the IBR knows them by. */
export const IBR_ID_TYPES: Record<string, string> = { 'national-id': 'UIN' };

/**
 * The IBR client service: is a registrant already enrolled elsewhere (sync/enrolled, then a search
 * for the programmes), and push our enrolment changes (sync/enrollment/updates). Also the
 * programs module's `IbrClient` (duplicate check at enrolment).
 */
export class IbrService implements IbrClient {
  constructor(private readonly clients: DciClients, private readonly registry: RegistryService, private readonly code = 'ibr_main') {}

  /** Duplicate yes/no for one identifier, with the programmes the IBR lists for it. */
  async checkIdentifier(idType: string, value: string): Promise<DuplicationResult> {
    const answer = await this.clients.client.callSync<Json>(this.code, 'enrolled', {
      transaction_id: crypto.randomUUID(),
      enrolled_criteria: { query_type: 'expression', response_entity: 'Member', query: { person_identifier: { eq: value }, person_identifier_type: { eq: idType } } },
    });
    const item = (answer.message.enrolled_response as Json[] | undefined)?.[0];
    if (!item || item.status !== 'succ') throw new AppError('unavailable', `The IBR refused the check (${String(item?.status_reason_message ?? item?.status ?? 'no answer')})`);
    if (item.enrolled_status !== 'yes') return { isDuplicate: false, matchedPrograms: [] };
    const search = await this.clients.client.callSync<Json>(this.code, 'sync_search', searchMessage([{ query: { kind: 'identifier', type: idType, value } }]));
    const programs = searchItems(search.message).flatMap((found) => found.records).flatMap((record) => programmesOf(record));
    return { isDuplicate: true, matchedPrograms: [...new Set(programs)] };
  }

  /** Duplicate check for a registrant of ours, by its identifiers the IBR knows. */
  async checkDuplication(registrantRef: string): Promise<DuplicationResult> {
    const individual = await this.registry.getIndividual({ actor: systemActor('dci-ibr') }, registrantRef);
    const matched = new Set<string>();
    let duplicate = false;
    for (const identifier of individual.identifiers) {
      const theirs = IBR_ID_TYPES[identifier.type];
      if (!theirs || !identifier.value) continue;
      const result = await this.checkIdentifier(theirs, identifier.value);
      duplicate ||= result.isDuplicate;
      for (const program of result.matchedPrograms) matched.add(program);
    }
    return { isDuplicate: duplicate, matchedPrograms: [...matched] };
  }

  /** programs' IbrClient: which registrants are enrolled elsewhere, and where. */
  async findEnrolledElsewhere(registrantUuids: string[]): Promise<Array<{ registrantUuid: string; programme: string }>> {
    const found: Array<{ registrantUuid: string; programme: string }> = [];
    for (const uuid of registrantUuids) {
      const result = await this.checkDuplication(uuid);
      if (!result.isDuplicate) continue;
      for (const programme of result.matchedPrograms.length > 0 ? result.matchedPrograms : ['(not named by the IBR)']) found.push({ registrantUuid: uuid, programme });
    }
    return found;
  }

  /** Pushes enrolment changes: one beneficiary per registrant with its programmes. */
  async pushEnrolmentUpdates(updates: Array<{ idType: string; value: string; programme: string; status: string; date: string }>): Promise<{ accepted: number }> {
    const beneficiaries = updates.map((update) => ({
      identifier: [{ identifier_type: update.idType, identifier_value: update.value }],
      programs: [{ programme_identifier: update.programme, status: update.status, enrolment_date: update.date }],
    }));
    const answer = await this.clients.client.callSync<Json>(this.code, 'enrollment_updates', { transaction_id: crypto.randomUUID(), enrolled_updates: { beneficiaries } });
    const items = (answer.message.enrolled_response as Json[] | undefined) ?? [];
    return { accepted: items.filter((item) => item.status === 'succ').length };
  }
}

function programmesOf(record: Json): string[] {
  const lists = [record.programme_enrolments, record.programs, record.programmes].filter(Array.isArray) as Json[][];
  return lists.flat().map((program) => String(program.programme_name ?? program.programme_identifier ?? program.name ?? '')).filter(Boolean);
}
