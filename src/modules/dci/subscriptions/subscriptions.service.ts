import crypto from 'node:crypto';
import type { Queryable } from '../../../platform/database/database.js';
import { recordAudit, type RequestContext } from '../../../platform/audit/audit.js';
import type { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import { AppError } from '../../../platform/errors.js';
import { dciTimestamp, parseDciTimestamp } from '../protocol/index.js';
import { filterCriterion, filterTypeOf, NotifyRecords, QueryError, type RecordKind } from './notify-records.js';
import * as repository from './subscriptions.repository.js';
import type { SubscriptionRow } from './subscriptions.repository.js';

export const EVENT_TYPES = ['REGISTER', 'NewHouseHoldMember', 'UPDATE'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Without `frequency`, a subscription lasts this long. */
export const DEFAULT_SUBSCRIPTION_DAYS = 365;

export interface SubscribeItem {
  reference_id: string;
  timestamp: string;
  subscribe_criteria: {
    reg_type?: string;
    reg_event_type: string;
    frequency?: { start_time?: string; end_time?: string; frequency?: string };
    filter_type?: string;
    filter: unknown;
    notify_record_type: string;
    authorize?: Record<string, unknown>;
  };
  locale?: string;
}

export interface SubscribeRequestMessage {
  transaction_id: string;
  subscribe_request: SubscribeItem[];
}

export interface UnsubscribeRequestMessage {
  transaction_id: string;
  timestamp: string;
  subscription_codes: string[];
}

type SubscribeReason = 'rjct.reference_id.invalid' | 'rjct.reference_id.duplicate' | 'rjct.timestamp.invalid' | 'rjct.notify_types.invalid' | 'rjct.notify_details.invalid';

class ItemRejected extends Error {
  constructor(readonly code: SubscribeReason, message: string) {
    super(message);
  }
}

/** What a subscribe request becomes: the response message and the rows to insert with it. */
export interface SubscribeOutcome {
  response: { transaction_id: string; correlation_id: string; subscribe_response: Array<Record<string, unknown>> };
  rows: repository.NewSubscriptionRow[];
}

/** `REGISTER`, `spdci:common:RegistryEventType:NewHouseHoldMember`, `update`… → our event type. */
export function eventTypeOf(value: unknown): EventType | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.split(':').pop()!.toLowerCase();
  if (name === 'register' || name === 'registration') return 'REGISTER';
  if (name === 'newhouseholdmember') return 'NewHouseHoldMember';
  if (name === 'update' || name === 'updated') return 'UPDATE';
  return undefined;
}

/** `Member`, `SRPerson`, `spdci-extensions-dci:Member` → individual; `Group`, `Household` → group. */
export function recordKindOf(value: unknown): RecordKind {
  const name = String(value ?? '').toLowerCase();
  return name.includes('group') || name.includes('household') ? 'group' : 'individual';
}

/**
 * DCI subscriptions: subscribe (each item on its own, like a search batch), unsubscribe (only the
 * partner's own codes), and the state kept for the event relay. The filter is checked when the
 * subscription is made (it must compile for the record type), stored encrypted, and matched
 * against each changed registrant later.
 */
export class DciSubscriptionService {
  constructor(
    private readonly records: NotifyRecords,
    private readonly cipher: FieldCipher,
  ) {}

  async subscribe(context: RequestContext, partner: { id: number; callbackUri: string }, transaction: { rowId: number; correlationId: string }, message: SubscribeRequestMessage): Promise<SubscribeOutcome> {
    const translation = await this.records.translation();
    const seen = new Set<string>();
    const rows: repository.NewSubscriptionRow[] = [];
    const responses: Array<Record<string, unknown>> = [];
    for (const item of message.subscribe_request) {
      const base = { reference_id: item.reference_id, timestamp: dciTimestamp(), ...(item.locale ? { locale: item.locale } : {}) };
      try {
        if (!item.reference_id) throw new ItemRejected('rjct.reference_id.invalid', 'reference_id is empty');
        if (seen.has(item.reference_id)) throw new ItemRejected('rjct.reference_id.duplicate', 'reference_id is repeated in this message');
        seen.add(item.reference_id);
        if (!parseDciTimestamp(item.timestamp)) throw new ItemRejected('rjct.timestamp.invalid', 'timestamp must be an ISO 8601 date-time with a time zone');
        const criteria = item.subscribe_criteria;
        const eventType = eventTypeOf(criteria.reg_event_type);
        if (!eventType) throw new ItemRejected('rjct.notify_types.invalid', `reg_event_type "${String(criteria.reg_event_type)}" is not notified; use REGISTER, NewHouseHoldMember or UPDATE`);
        const kind = recordKindOf(criteria.notify_record_type);
        const filterType = filterTypeOf(criteria.filter_type, criteria.filter);
        if (!filterType) throw new ItemRejected('rjct.notify_details.invalid', 'filter_type must be idtype-value, predicate or expression');
        try {
          await this.records.check(context, kind, filterCriterion(filterType, criteria.filter, translation));
        } catch (error) {
          if (error instanceof QueryError || (error instanceof AppError && (error.code === 'unknown_parameter' || error.code === 'validation_failed'))) {
            throw new ItemRejected('rjct.notify_details.invalid', `filter: ${error.message}`);
          }
          throw error;
        }
        const { start, end } = periodOf(criteria.frequency);
        const code = crypto.randomUUID();
        rows.push({
          code, partnerId: partner.id, transactionRowId: transaction.rowId, transactionId: message.transaction_id, referenceId: item.reference_id,
          regType: criteria.reg_type ?? null, regEventType: eventType, notifyRecordType: kind === 'group' ? 'Group' : 'Member', filterType,
          filterEncrypted: this.cipher.encryptJson({ filter: criteria.filter }, filterContext(code)), startTime: start, endTime: end,
          frequency: criteria.frequency?.frequency ?? null, callbackUri: partner.callbackUri, locale: item.locale ?? null,
        });
        responses.push({
          ...base, status: 'succ',
          subscriptions: [{
            code, status: 'subscribe', timestamp: dciTimestamp(),
            ...(criteria.reg_type ? { reg_type: criteria.reg_type } : {}), reg_event_type: criteria.reg_event_type,
            // Echoed only when asked for: SubscriptionInfo.frequency needs all three parts, and without one we notify as events happen.
            ...(criteria.frequency ? { frequency: criteria.frequency } : {}),
            filter_type: filterType, notify_record_type: criteria.notify_record_type,
          }],
        });
      } catch (error) {
        if (!(error instanceof ItemRejected)) throw error;
        responses.push({ ...base, status: 'rjct', status_reason_code: error.code, status_reason_message: error.message.slice(0, 999) });
      }
    }
    return { response: { transaction_id: message.transaction_id, correlation_id: transaction.correlationId, subscribe_response: responses }, rows };
  }

  /** Saves the subscriptions of a subscribe outcome (in the caller's transaction), audited without the filter's values. */
  async save(db: Queryable, context: RequestContext, senderId: string, outcome: SubscribeOutcome, authorizations: Map<string, unknown>): Promise<void> {
    await repository.insertSubscriptions(db, outcome.rows);
    for (const row of outcome.rows) {
      await recordAudit(db, context, {
        action: 'dci-subscribe', entityType: 'dci_subscription', entityId: row.code,
        after: {
          senderId, referenceId: row.referenceId, regEventType: row.regEventType, notifyRecordType: row.notifyRecordType, filterType: row.filterType,
          startTime: (row.startTime as Date).toISOString(), endTime: (row.endTime as Date).toISOString(), authorize: authorizations.get(row.referenceId) ?? null,
        },
      });
    }
  }

  /**
   * Ends the partner's own subscriptions among `codes`. A code that is not the partner's (unknown,
   * or another sender's) is refused as `rjct.subscription_code.invalid` whether or not it exists,
   * so codes cannot be probed; one already ended is `rjct.event.already_unsubscribed`. The others
   * end even when some codes in the same message are refused.
   */
  async unsubscribe(db: Queryable, context: RequestContext, partnerId: number, correlationId: string, message: UnsubscribeRequestMessage): Promise<Record<string, unknown>> {
    const codes = [...new Set(message.subscription_codes)];
    const rows = await repository.findSubscriptionsByCode(db, codes);
    const own = new Map(rows.filter((row) => row.partnerId === partnerId).map((row) => [row.code, row]));
    const problems: Array<{ code: string; reason: 'rjct.subscription_code.invalid' | 'rjct.event.already_unsubscribed' }> = [];
    const ending: SubscriptionRow[] = [];
    for (const code of codes) {
      const row = own.get(code);
      if (!row) problems.push({ code, reason: 'rjct.subscription_code.invalid' });
      else if (row.status !== 'subscribe') problems.push({ code, reason: 'rjct.event.already_unsubscribed' });
      else ending.push(row);
    }
    await repository.markUnsubscribed(db, ending.map((row) => row.id));
    for (const row of ending) {
      await recordAudit(db, context, { action: 'dci-unsubscribe', entityType: 'dci_subscription', entityId: row.code, before: { status: 'subscribe' }, after: { status: 'unsubscribe' } });
    }
    const first = problems[0];
    return {
      transaction_id: message.transaction_id,
      correlation_id: correlationId,
      timestamp: dciTimestamp(),
      status: first ? 'rjct' : 'succ',
      ...(first ? {
        status_reason_code: first.reason,
        status_reason_message: problems.map((problem) => `${problem.code}: ${problem.reason === 'rjct.subscription_code.invalid' ? 'not a subscription of this sender' : 'already unsubscribed'}`).join('; ').slice(0, 999),
      } : {}),
      subscription_status: codes.filter((code) => own.has(code)).map((code) => ({ code, status: 'unsubscribe' })),
    };
  }

  filterOf(row: SubscriptionRow): unknown {
    return this.cipher.decryptJson<{ filter: unknown }>(row.filterEncrypted, filterContext(row.code)).filter;
  }
}

function periodOf(frequency: SubscribeItem['subscribe_criteria']['frequency']): { start: Date; end: Date } {
  const now = new Date();
  if (!frequency) return { start: now, end: new Date(now.getTime() + DEFAULT_SUBSCRIPTION_DAYS * 86_400_000) };
  const start = frequency.start_time === undefined ? now : parseDciTimestamp(frequency.start_time);
  const end = frequency.end_time === undefined ? new Date(now.getTime() + DEFAULT_SUBSCRIPTION_DAYS * 86_400_000) : parseDciTimestamp(frequency.end_time);
  if (!start || !end) throw new ItemRejected('rjct.timestamp.invalid', 'frequency.start_time and end_time must be ISO 8601 date-times with a time zone');
  if (end <= start || end <= now) throw new ItemRejected('rjct.notify_details.invalid', 'frequency.end_time must be after start_time and in the future');
  return { start, end };
}

function filterContext(code: string) {
  return { table: 'dci_subscriptions', column: 'filter', record: code };
}
