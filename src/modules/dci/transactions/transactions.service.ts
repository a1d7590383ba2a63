import crypto from 'node:crypto';
import type { Db } from '../../../platform/database/database.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import { recordAudit } from '../../../platform/audit/audit.js';
import type { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import { enqueueJob } from '../../../platform/jobs/job-queue.js';
import type { JobContext } from '../../../platform/jobs/job-runner.js';
import { DCI_VERSION, dciTimestamp, type DciHeader } from '../protocol/index.js';
import type { Partner } from '../partners/partners.service.js';
import type { DciSearchService, SearchRequestMessage } from '../registry-server/search.js';
import type { CallbackDispatcher } from '../callbacks/callback-dispatcher.js';
import type { DciSubscriptionService, SubscribeRequestMessage, UnsubscribeRequestMessage } from '../subscriptions/subscriptions.service.js';
import { actorFromSnapshot, actorSnapshot } from './actor-snapshot.js';
import { TxnStatusLookup, type TxnStatusRequestMessage } from './txn-status.js';
import * as repository from './transactions.repository.js';
import type { TransactionRow } from './transactions.repository.js';

export const DCI_TRANSACTION_JOB = 'dci.async-transaction';

export type AsyncAction = 'search' | 'subscribe' | 'unsubscribe' | 'txn-status';

const CALLBACK_ACTION: Record<AsyncAction, string> = { search: 'on-search', subscribe: 'on-subscribe', unsubscribe: 'on-unsubscribe', 'txn-status': 'txn-on-status' };

export interface AsyncOptions {
  ourSenderId: string;
  /** How long a callback may wait for a receiver that is down. */
  callbackTtlMs: number;
  /** Job attempts before the transaction is answered `rjct`. */
  maxAttempts: number;
}

/**
 * Asynchronous DCI requests: accepted (transaction stored, job enqueued, in one database
 * transaction) behind the ACK; the job does the work as the partner and stores the signed callback
 * in the outbox together with the transaction's final state, so a job re-run after a crash never
 * answers twice. Unexpected failures are retried by the job queue; after the last attempt the
 * sender gets a `rjct` callback instead of silence.
 */
export class DciTransactionService {
  constructor(
    private readonly db: Db,
    private readonly cipher: FieldCipher,
    private readonly search: Pick<DciSearchService, 'search'>,
    private readonly subscriptions: DciSubscriptionService,
    private readonly status: TxnStatusLookup,
    private readonly dispatcher: CallbackDispatcher,
    private readonly options: AsyncOptions,
  ) {}

  /** Stores an accepted request and its job; returns the correlation id for the ACK. */
  async accept(context: RequestContext, partner: Partner, action: AsyncAction, header: DciHeader, message: unknown, correlationId: string): Promise<string> {
    const uuid = correlationId;
    await this.db.transaction(async (tx) => {
      await repository.insertTransaction(tx, {
        uuid, partnerId: partner.row.id, senderId: partner.senderId, action, messageId: header.message_id,
        transactionId: String((message as { transaction_id?: unknown }).transaction_id ?? ''),
        referenceIds: referenceIdsOf(action, message), status: 'pdng', callbackUri: header.sender_uri ?? null,
        actor: actorSnapshot(context.actor), requestEncrypted: this.cipher.encryptJson({ header: { message_id: header.message_id, is_msg_encrypted: header.is_msg_encrypted === true }, message }, requestContext(uuid)),
      });
      await enqueueJob(tx, { type: DCI_TRANSACTION_JOB, payload: { transaction: uuid }, dedupeKey: uuid, maxAttempts: this.options.maxAttempts, createdBy: context.actor.id });
    });
    return uuid;
  }

  /** The job: idempotent (a finished transaction is left alone) and resumable (nothing is half-saved). */
  async runJob(job: JobContext<{ transaction: string }>): Promise<Record<string, unknown>> {
    const row = await repository.findTransactionByUuid(this.db, job.job.payload.transaction);
    if (!row) return { skipped: 'unknown transaction' };
    if (row.status !== 'pdng') return { status: row.status, alreadyDone: true };
    const { header, message } = this.cipher.decryptJson<{ header: { message_id: string; is_msg_encrypted: boolean }; message: unknown }>(row.requestEncrypted, requestContext(row.uuid));
    const context: RequestContext = { actor: actorFromSnapshot(row.actor), requestId: `dci:${row.uuid}` };
    try {
      const done = await this.work(context, row, header, message);
      if (done) this.dispatcher.nudge();
      return { status: 'succ' };
    } catch (error) {
      if (job.job.attempt < job.job.maxAttempts) throw error;
      await this.finish(row, 'rjct', { transaction_id: row.transactionId, correlation_id: row.uuid }, header.is_msg_encrypted, 'The registry could not process this request; ask for its status later or send it again');
      this.dispatcher.nudge();
      return { status: 'rjct' };
    }
  }

  private async work(context: RequestContext, row: TransactionRow, header: { message_id: string; is_msg_encrypted: boolean }, message: unknown): Promise<boolean> {
    switch (row.action as AsyncAction) {
      case 'search': {
        const response = await this.search.search(context, message as SearchRequestMessage, row.uuid, header.message_id);
        return this.finish(row, 'succ', response, header.is_msg_encrypted);
      }
      case 'subscribe': {
        const request = message as SubscribeRequestMessage;
        const outcome = await this.subscriptions.subscribe(context, { id: row.partnerId, callbackUri: row.callbackUri ?? '' }, { rowId: row.id, correlationId: row.uuid }, request);
        const authorizations = new Map(request.subscribe_request.map((item) => [item.reference_id, item.subscribe_criteria?.authorize ?? null] as const));
        return this.finish(row, 'succ', outcome.response, header.is_msg_encrypted, undefined, (tx) => this.subscriptions.save(tx, context, row.senderId, outcome, authorizations));
      }
      case 'unsubscribe': {
        let response: Record<string, unknown> = {};
        return this.finish(row, 'succ', () => response, header.is_msg_encrypted, undefined, async (tx) => {
          response = await this.subscriptions.unsubscribe(tx, context, row.partnerId, row.uuid, message as UnsubscribeRequestMessage);
        });
      }
      case 'txn-status': {
        const response = await this.status.lookup(row.partnerId, message as TxnStatusRequestMessage, row.uuid);
        await recordAudit(this.db, context, { action: 'dci-txn-status', entityType: 'dci_message', entityId: header.message_id, after: { transactionId: row.transactionId, correlationId: row.uuid } });
        return this.finish(row, 'succ', response, header.is_msg_encrypted);
      }
      default:
        throw new Error(`unknown DCI action ${row.action}`);
    }
  }

  /**
   * The transaction's final state, its response and the callback, in one database transaction
   * (with `alsoDo`, e.g. saving subscriptions). False when another run finished it first.
   */
  private async finish(
    row: TransactionRow, status: 'succ' | 'rjct', response: unknown | (() => unknown), wasEncrypted: boolean, reason?: string,
    alsoDo?: (tx: Db) => Promise<void>,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const locked = await repository.lockTransaction(tx, row.id);
      if (!locked || locked.status !== 'pdng') return false;
      if (alsoDo) await alsoDo(tx as unknown as Db);
      const message = typeof response === 'function' ? (response as () => unknown)() : response;
      await repository.completeTransaction(tx, row.id, { status, responseEncrypted: this.cipher.encryptJson(message, responseContext(row.uuid)), error: reason ?? null });
      if (row.callbackUri) {
        const action = CALLBACK_ACTION[row.action as AsyncAction];
        const itemCount = countItems(message);
        await this.dispatcher.enqueue(tx, [{
          partnerId: row.partnerId, action, targetUri: row.callbackUri, transactionRowId: row.id, encrypt: wasEncrypted,
          expiresAt: new Date(Date.now() + this.options.callbackTtlMs),
          header: {
            version: DCI_VERSION, message_id: crypto.randomUUID(), message_ts: dciTimestamp(), action, status,
            ...(reason ? { status_reason_message: reason } : {}),
            total_count: itemCount, completed_count: status === 'succ' ? itemCount : 0,
            sender_id: this.options.ourSenderId, receiver_id: row.senderId, is_msg_encrypted: false,
          },
          message,
        }]);
      }
      return true;
    });
  }

  /** The stored response of a transaction (for txn/status), decrypted. */
  responseOf(row: TransactionRow): unknown {
    return row.responseEncrypted ? this.cipher.decryptJson(row.responseEncrypted, responseContext(row.uuid)) : undefined;
  }
}

function referenceIdsOf(action: AsyncAction, message: unknown): string[] {
  const items = action === 'search' ? (message as { search_request?: Array<{ reference_id?: unknown }> }).search_request
    : action === 'subscribe' ? (message as { subscribe_request?: Array<{ reference_id?: unknown }> }).subscribe_request
      : action === 'txn-status' ? [(message as { txnstatus_request?: { reference_id?: unknown } }).txnstatus_request ?? {}] : [];
  return (items ?? []).map((item) => item?.reference_id).filter((id): id is string => typeof id === 'string');
}

function countItems(message: unknown): number {
  const value = message as Record<string, unknown>;
  for (const key of ['search_response', 'subscribe_response', 'subscription_status']) {
    if (Array.isArray(value?.[key])) return (value[key] as unknown[]).length;
  }
  return 1;
}

function requestContext(uuid: string) {
  return { table: 'dci_transactions', column: 'request', record: uuid };
}

export function responseContext(uuid: string) {
  return { table: 'dci_transactions', column: 'response', record: uuid };
}
