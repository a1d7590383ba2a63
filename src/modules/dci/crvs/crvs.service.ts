import crypto from 'node:crypto';
import type { Db } from '../../../platform/database/database.js';
import type { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { AppError } from '../../../platform/errors.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import { enqueueJob } from '../../../platform/jobs/job-queue.js';
import { dciTimestamp } from '../protocol/index.js';
import type { RegistryService } from '../../registry/registry.service.js';
import type { IndividualView, GroupView } from '../../registry/registry.views.js';
import type { DciClients } from '../client/dci-clients.module.js';
import type { ResolvedSource } from '../data-sources/data-sources.service.js';
import { civilPersonOf, civilStatusOf, genderOf, type CivilIdentifier, type CivilPerson } from './civil-person.js';
import * as events from './events.repository.js';

type Json = Record<string, unknown>;

export const CRVS_EVENT_JOB = 'dci.crvs-events';
export const VITAL_EVENTS = {
  birth: 'spdci-common:RegistryEventType:LiveBirth',
  death: 'spdci-common:RegistryEventType:Death',
  marriage: 'spdci-common:RegistryEventType:Marriage',
  divorce: 'spdci-common:RegistryEventType:Divorce',
} as const;
export type VitalEvent = keyof typeof VITAL_EVENTS;

/** CRVS identifier types → our id-type codes (the CRVS's UIN is the national id; BRN the birth registration number). */
export const DEFAULT_ID_TYPES: Record<string, string> = { UIN: 'national-id', NID: 'national-id', BRN: 'birth-registration' };

export interface BirthRecord {
  person: CivilPerson;
  record: Json;
}

const ACTOR = () => ({ actor: systemActor('dci-crvs') });

/**
 * The CRVS client service: verify a birth, check whether someone is recorded as deceased, subscribe
 * to vital events; notified events are stored (encrypted) and processed by a job
 * (received → processing → processed | error; errors retried from the API).
 */
export class CrvsService {
  constructor(
    private readonly db: Db,
    private readonly clients: DciClients,
    private readonly registry: RegistryService,
    private readonly cipher: FieldCipher,
    private readonly idTypes: Record<string, string> = DEFAULT_ID_TYPES,
  ) {
    clients.callbacks.onNotify('CRVS', (source, header, message) => this.receive(source, header, message));
    clients.callbacks.onAnswer(async (source, action, message) => {
      if (action === 'subscribe' && source.view.registryType === 'CRVS') await this.applySubscribeAnswer(source.rowId, message);
    });
  }

  /** By callback the SubscribeResponse itself; by poll the txn_status of a subscribe transaction. Idempotent. */
  private async applySubscribeAnswer(sourceRowId: number, message: Json): Promise<void> {
    for (const item of (message.subscribe_response as Json[] | undefined) ?? []) {
      const code = ((item.subscriptions as Json[] | undefined)?.[0]?.code as string | undefined);
      await events.updateSubscriptions(this.db, sourceRowId, [String(item.reference_id)], { status: item.status === 'succ' ? 'subscribed' : 'rejected', ...(code ? { subscriptionCode: code } : {}) });
    }
  }

  /** The birth record registered under this number, or null. */
  async verifyBirth(registrationNumber: string, options: { code?: string; idType?: string } = {}): Promise<BirthRecord | null> {
    const item = await this.clients.search.byIdentifier(options.code ?? 'crvs_main', options.idType ?? 'BRN', registrationNumber);
    if (item.status !== 'succ') throw new AppError('unavailable', `The CRVS refused the search (${item.reasonCode ?? item.status})`);
    const record = item.records[0];
    if (!record) return null;
    const person = civilPersonOf(record);
    if (!person.birthDate) return null;
    return { person, record };
  }

  /** Whether the CRVS records this person as deceased (false when it does not know the person). */
  async isDeceased(idType: string, value: string, options: { code?: string } = {}): Promise<boolean> {
    const item = await this.clients.search.byIdentifier(options.code ?? 'crvs_main', idType, value);
    if (item.status !== 'succ') throw new AppError('unavailable', `The CRVS refused the search (${item.reasonCode ?? item.status})`);
    return item.records.some((record) => civilPersonOf(record).deathDate !== null || record.is_deceased === true);
  }

  /** Subscribes to vital events (one subscribe item per event type); the codes arrive in on-subscribe. */
  async subscribe(eventTypes: VitalEvent[] = ['birth', 'death', 'marriage', 'divorce'], options: { code?: string } = {}) {
    const code = options.code ?? 'crvs_main';
    const source = await this.clients.sources.resolve(code);
    const items = eventTypes.map((type) => ({
      reference_id: crypto.randomUUID(), timestamp: dciTimestamp(),
      subscribe_criteria: {
        version: '1.0.0', reg_type: 'ns:org:RegistryType:Civil', reg_event_type: VITAL_EVENTS[type], notify_record_type: 'spdci-extensions-crvs:Person',
        filter_type: 'expression', filter: { type: 'ns:org:QueryType:expression', value: { expression: { collection: 'Person', query: {} } } },
      },
    }));
    const message = { transaction_id: crypto.randomUUID(), subscribe_request: items };
    for (const [index, item] of items.entries()) {
      await events.insertSubscription(this.db, { uuid: crypto.randomUUID(), sourceId: source.rowId, transactionId: message.transaction_id, referenceId: item.reference_id, eventTypes: [eventTypes[index]!] });
    }
    const answer = await this.clients.client.callAsync<Json>(code, 'subscribe', message);
    // The answer listener may still be running in the callback request: apply it here too (same result).
    if ('message' in answer) await this.applySubscribeAnswer(source.rowId, answer.message);
    return (await events.listSubscriptions(this.db, source.rowId)).filter((row) => row.transactionId === message.transaction_id)
      .map((row) => ({ id: row.uuid, eventTypes: row.eventTypes, status: row.status, subscriptionCode: row.subscriptionCode }));
  }

  /** A notify from the CRVS: each event stored (encrypted), then the job processes them. */
  async receive(source: ResolvedSource, header: Json, message: Json): Promise<void> {
    const rows = ((message.notify_event as Json[] | undefined) ?? []).map((item) => {
      const data = (item.data ?? {}) as Json;
      const records = Array.isArray(data.reg_records) ? (data.reg_records as Json[]) : [data.reg_records as Json];
      return {
        uuid: crypto.randomUUID(), sourceId: source.rowId, eventType: eventTypeOf(data.reg_event_type), regEventType: typeof data.reg_event_type === 'string' ? data.reg_event_type : null,
        messageId: String(header.message_id), referenceId: String(item.reference_id),
        recordEncrypted: this.cipher.encryptJson(records[0] ?? {}, { table: 'dci_external_events', column: 'record', record: `${source.rowId}:${String(header.message_id)}:${String(item.reference_id)}` }),
      };
    });
    const inserted = await events.insertEvents(this.db, rows);
    if (inserted > 0) await enqueueJob(this.db, { type: CRVS_EVENT_JOB, payload: {}, maxAttempts: 3, createdBy: 'dci-crvs' });
  }

  /** The job: every waiting event, one at a time. */
  async runJob(): Promise<{ processed: number; errors: number }> {
    let processed = 0;
    let errors = 0;
    for (;;) {
      const ids = await events.waitingIds(this.db, 100);
      if (ids.length === 0) break;
      for (const id of ids) {
        const row = await events.claim(this.db, id);
        if (!row) continue;
        try {
          const outcome = await this.apply(row);
          await events.finish(this.db, row.id, { status: 'processed', outcome });
          processed += 1;
        } catch (error) {
          await events.finish(this.db, row.id, { status: 'error', lastError: error instanceof Error ? error.message.slice(0, 500) : 'failed' });
          errors += 1;
        }
      }
    }
    return { processed, errors };
  }

  async retry(context: RequestContext, uuid: string) {
    const row = await events.requeue(this.db, uuid);
    if (!row) {
      if (!(await events.findEvent(this.db, uuid))) throw AppError.notFound(`The event ${uuid}`);
      throw new AppError('conflict', 'Only an event in error can be retried');
    }
    await enqueueJob(this.db, { type: CRVS_EVENT_JOB, payload: {}, maxAttempts: 3, createdBy: context.actor.id });
    return eventView(row);
  }

  async listEvents(filter: { status?: string; limit?: number } = {}) {
    return (await events.listEvents(this.db, { status: filter.status, limit: filter.limit ?? 100 })).map(eventView);
  }

  // ---- applying events ---------------------------------------------------------------------------

  private async apply(row: events.ExternalEventRow): Promise<Record<string, unknown>> {
    const record = this.cipher.decryptJson<Json>(row.recordEncrypted, { table: 'dci_external_events', column: 'record', record: `${row.sourceId}:${row.messageId}:${row.referenceId}` });
    const person = civilPersonOf(record);
    switch (row.eventType) {
      case 'death': return this.applyDeath(person);
      case 'birth': return this.applyBirth(person);
      case 'marriage': return this.applyCivilStatus(person, 'married');
      case 'divorce': return this.applyCivilStatus(person, 'divorced');
      default: return { action: 'ignored', reason: `event type ${row.regEventType ?? 'unknown'}` };
    }
  }

  private async findIndividual(identifiers: CivilIdentifier[]): Promise<IndividualView | undefined> {
    for (const identifier of identifiers) {
      const ours = this.idTypes[identifier.type];
      if (!ours) continue;
      try {
        return await this.registry.getIndividual(ACTOR(), `${ours}|${identifier.value}`);
      } catch (error) {
        if (error instanceof AppError && (error.code === 'not_found' || error.code === 'validation_failed')) continue;
        throw error;
      }
    }
    return undefined;
  }

  private async applyDeath(person: CivilPerson) {
    const individual = await this.findIndividual(person.identifiers);
    if (!individual) return { action: 'no-match' };
    if (!individual.isActive) return { action: 'already-inactive', registrant: individual.id };
    await this.registry.deactivate(ACTOR(), 'individual', individual.id, { reason: 'deceased (reported by the CRVS)', ...(person.deathDate ? { date: person.deathDate } : {}) });
    return { action: 'deactivated', registrant: individual.id };
  }

  private async applyBirth(person: CivilPerson) {
    const identifiers = person.identifiers.filter((identifier) => this.idTypes[identifier.type]).map((identifier) => ({ type: this.idTypes[identifier.type]!, value: identifier.value }));
    let household: GroupView | undefined;
    for (const parent of person.parents) {
      const found = await this.findIndividual([parent]);
      const membership = found?.memberships?.find((item) => item.isActive && item.group);
      if (membership?.group) {
        household = await this.registry.getGroup(ACTOR(), membership.group);
        break;
      }
    }
    const existing = await this.findIndividual(person.identifiers);
    let child: IndividualView;
    if (existing) {
      child = await this.registry.updateIndividual(ACTOR(), existing.id, {
        ...(person.birthDate ? { birthDate: person.birthDate } : {}), ...(genderOf(person.sex) ? { gender: genderOf(person.sex) } : {}),
      }, existing.version);
    } else {
      if (!household) return { action: 'no-household', reason: 'no parent is a household member here' };
      child = await this.registry.createIndividual(ACTOR(), {
        name: { given: person.givenName ?? undefined, family: person.familyName ?? undefined },
        ...(person.birthDate ? { birthDate: person.birthDate } : {}), ...(genderOf(person.sex) ? { gender: genderOf(person.sex) } : {}),
        identifiers, sourceSystem: 'crvs',
      } as never);
    }
    if (household && !(household.members ?? []).some((member) => member.individual === child.id && member.isActive)) {
      await this.registry.addMember(ACTOR(), household.id, { individual: child.id, role: 'child', ...(person.birthDate ? { startDate: person.birthDate } : {}) });
      return { action: existing ? 'updated-and-added' : 'created', registrant: child.id, household: household.id };
    }
    return { action: existing ? 'updated' : 'created', registrant: child.id, ...(household ? { household: household.id } : {}) };
  }

  private async applyCivilStatus(person: CivilPerson, fallback: string) {
    const individual = await this.findIndividual(person.identifiers);
    if (!individual) return { action: 'no-match' };
    const status = civilStatusOf(person.maritalStatus) ?? fallback;
    if (individual.civilStatus === status) return { action: 'unchanged', registrant: individual.id };
    await this.registry.updateIndividual(ACTOR(), individual.id, { civilStatus: status }, individual.version);
    return { action: 'civil-status', registrant: individual.id, civilStatus: status };
  }
}

function eventTypeOf(value: unknown): string {
  const text = String(value ?? '').toLowerCase();
  if (text.includes('death')) return 'death';
  if (text.includes('birth')) return 'birth';
  if (text.includes('divorce')) return 'divorce';
  if (text.includes('marriage')) return 'marriage';
  return 'other';
}

export function eventView(row: events.ExternalEventRow) {
  return {
    id: row.uuid, eventType: row.eventType, regEventType: row.regEventType, status: row.status, attempts: row.attempts, lastError: row.lastError,
    outcome: row.outcome ?? null, receivedAt: row.receivedAt.toISOString(), processedAt: row.processedAt?.toISOString() ?? null,
  };
}
