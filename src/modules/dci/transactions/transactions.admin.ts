import type { Db } from '../../../platform/database/database.js';
import { AppError } from '../../../platform/errors.js';
import * as deliveries from '../callbacks/deliveries.repository.js';
import * as subscriptions from '../subscriptions/subscriptions.repository.js';
import * as repository from './transactions.repository.js';
import type { TransactionRow } from './transactions.repository.js';

export const MAX_PAGE = 200;

/** A transaction as administrators see it: state, parties, timings; never the messages' content. */
export interface TransactionView {
  id: string;
  senderId: string;
  action: string;
  transactionId: string;
  messageId: string;
  referenceIds: string[];
  status: string;
  callbackUri: string | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

export interface DeliveryView {
  id: string;
  action: string;
  messageId: string;
  targetUri: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  expiresAt: string;
  deliveredAt: string | null;
  lastHttpStatus: number | null;
  lastError: string | null;
  attemptLog: Array<{ attempt: number; startedAt: string; durationMs: number; httpStatus: number | null; outcome: string; error: string | null }>;
}

export interface SubscriptionView {
  code: string;
  senderId: string;
  transactionId: string;
  referenceId: string;
  regEventType: string;
  notifyRecordType: string;
  filterType: string;
  startTime: string;
  endTime: string;
  status: string;
  callbackUri: string;
  createdAt: string;
  unsubscribedAt: string | null;
}

/** The admin view of DCI transactions, their callback deliveries (every attempt) and subscriptions. */
export class DciTransactionAdmin {
  constructor(private readonly db: Db) {}

  async list(filter: { senderId?: string; action?: string; status?: string; transactionId?: string; cursor?: string; count: number }): Promise<{ items: TransactionView[]; nextCursor?: string }> {
    const rows = await repository.listTransactions(this.db, { ...filter, beforeId: cursorId(filter.cursor), limit: filter.count + 1 });
    const page = rows.slice(0, filter.count);
    return { items: page.map(transactionView), ...(rows.length > filter.count ? { nextCursor: String(page.at(-1)!.id) } : {}) };
  }

  async get(uuid: string): Promise<TransactionView & { deliveries: DeliveryView[] }> {
    const row = await repository.findTransactionByUuid(this.db, uuid);
    if (!row) throw AppError.notFound(`DCI transaction ${uuid}`);
    const rows = await deliveries.deliveriesOfTransaction(this.db, row.id);
    return { ...transactionView(row), deliveries: await this.deliveryViews(rows) };
  }

  async listSubscriptions(filter: { senderId?: string; status?: string; cursor?: string; count: number }): Promise<{ items: SubscriptionView[]; nextCursor?: string }> {
    const rows = await subscriptions.listSubscriptions(this.db, { ...filter, beforeId: cursorId(filter.cursor), limit: filter.count + 1 });
    const page = rows.slice(0, filter.count);
    return {
      items: page.map((row) => ({
        code: row.code, senderId: row.senderId, transactionId: row.transactionId, referenceId: row.referenceId, regEventType: row.regEventType,
        notifyRecordType: row.notifyRecordType, filterType: row.filterType, startTime: row.startTime.toISOString(), endTime: row.endTime.toISOString(),
        status: row.status, callbackUri: row.callbackUri, createdAt: row.createdAt.toISOString(), unsubscribedAt: row.unsubscribedAt?.toISOString() ?? null,
      })),
      ...(rows.length > filter.count ? { nextCursor: String(page.at(-1)!.id) } : {}),
    };
  }

  async listDeliveries(filter: { status?: string; cursor?: string; count: number }): Promise<{ items: DeliveryView[]; nextCursor?: string }> {
    const rows = await deliveries.listDeliveries(this.db, { status: filter.status, beforeId: cursorId(filter.cursor), limit: filter.count + 1 });
    const page = rows.slice(0, filter.count);
    return { items: await this.deliveryViews(page), ...(rows.length > filter.count ? { nextCursor: String(page.at(-1)!.id) } : {}) };
  }

  private async deliveryViews(rows: deliveries.DeliveryRow[]): Promise<DeliveryView[]> {
    const attempts = await deliveries.attemptsOf(this.db, rows.map((row) => row.id));
    return rows.map((row) => ({
      id: row.uuid, action: row.action, messageId: row.messageId, targetUri: row.targetUri, status: row.status, attempts: row.attempts,
      nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt.toISOString() : null, expiresAt: row.expiresAt.toISOString(),
      deliveredAt: row.deliveredAt?.toISOString() ?? null, lastHttpStatus: row.lastHttpStatus, lastError: row.lastError,
      attemptLog: attempts.filter((attempt) => attempt.deliveryId === row.id).map((attempt) => ({
        attempt: attempt.attempt, startedAt: attempt.startedAt.toISOString(), durationMs: attempt.durationMs, httpStatus: attempt.httpStatus, outcome: attempt.outcome, error: attempt.error,
      })),
    }));
  }
}

function cursorId(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  if (!/^\d{1,15}$/.test(cursor)) throw AppError.validation('The cursor is not valid', [{ path: 'query:/_cursor', message: 'use the link of the previous page' }]);
  return Number(cursor);
}

function transactionView(row: TransactionRow): TransactionView {
  return {
    id: row.uuid, senderId: row.senderId, action: row.action, transactionId: row.transactionId, messageId: row.messageId, referenceIds: row.referenceIds,
    status: row.status, callbackUri: row.callbackUri, error: row.error, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}
