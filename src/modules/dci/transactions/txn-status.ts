import type { Db } from '../../../platform/database/database.js';
import type { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import { dciTimestamp, SEARCH_REASON_CODES } from '../protocol/index.js';
import { REG_TYPE } from '../registry-server/mapping.js';
import * as repository from './transactions.repository.js';
import type { TransactionRow } from './transactions.repository.js';

export interface TxnStatusRequestMessage {
  transaction_id: string;
  txnstatus_request: {
    reference_id: string;
    txn_type: string;
    attribute_type: string;
    attribute_value: unknown;
    locale?: string;
  };
}

type Item = Record<string, unknown> & { reference_id: string };

/**
 * `txn/status`: the state of a partner's own earlier asynchronous requests, found by its
 * transaction_id, our correlation_id or its reference ids. Answered in the spec's search-response
 * form of `txn_status` (`{transaction_id, correlation_id, search_response[]}`): a finished search
 * gives its stored response; a pending one an item per reference id with status `pdng`; a
 * subscribe its items with the subscriptions as `SubscriptionInfo` records. Nothing found is one
 * `rjct` item (`rjct.reference_id.invalid`), never another sender's transaction.
 */
export class TxnStatusLookup {
  constructor(
    private readonly db: Db,
    private readonly cipher: FieldCipher,
    private readonly responseContext: (uuid: string) => { table: string; column: string; record: string },
  ) {}

  async lookup(partnerId: number, message: TxnStatusRequestMessage, correlationId: string): Promise<Record<string, unknown>> {
    const request = message.txnstatus_request;
    const txnType = request.txn_type;
    const reject = (text: string) => this.answer(message, correlationId, {
      transaction_id: typeof request.attribute_value === 'string' ? request.attribute_value : message.transaction_id,
      correlation_id: correlationId,
      search_response: [{ reference_id: request.reference_id, timestamp: dciTimestamp(), status: 'rjct', status_reason_code: 'rjct.reference_id.invalid', status_reason_message: text }],
    });
    if (txnType !== 'search' && txnType !== 'subscribe') return reject(`txn_type ${String(txnType)} is not served by this registry; ask about search or subscribe`);
    const value = request.attribute_value;
    let rows: TransactionRow[];
    let wanted: Set<string> | undefined;
    switch (request.attribute_type) {
      case 'transaction_id':
        if (typeof value !== 'string' && typeof value !== 'number') return reject('attribute_value must be the transaction_id');
        rows = await repository.findPartnerTransactions(this.db, partnerId, txnType, { transactionId: String(value) }, 1);
        break;
      case 'correlation_id':
        if (typeof value !== 'string') return reject('attribute_value must be the correlation_id');
        rows = await repository.findPartnerTransactions(this.db, partnerId, txnType, { correlationId: value }, 1);
        break;
      case 'reference_id_list': {
        const list = Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
        if (list.length === 0) return reject('attribute_value must be a list of reference ids');
        wanted = new Set(list);
        rows = await repository.findPartnerTransactions(this.db, partnerId, txnType, { referenceIds: list }, 50);
        break;
      }
      default:
        return reject('attribute_type must be transaction_id, reference_id_list or correlation_id');
    }
    if (rows.length === 0) return reject(`no ${txnType} transaction of this sender matches`);
    const items: Item[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      for (const item of this.itemsOf(row)) {
        if ((wanted && !wanted.has(item.reference_id)) || seen.has(item.reference_id)) continue;
        seen.add(item.reference_id);
        items.push(item);
      }
    }
    const first = rows[0]!;
    return this.answer(message, correlationId, { transaction_id: first.transactionId, correlation_id: first.uuid, search_response: items });
  }

  private answer(message: TxnStatusRequestMessage, correlationId: string, status: Record<string, unknown>) {
    return {
      transaction_id: message.transaction_id,
      correlation_id: correlationId,
      txnstatus_response: { txn_type: message.txnstatus_request.txn_type === 'subscribe' ? 'subscribe' : 'search', txn_status: status },
    };
  }

  private itemsOf(row: TransactionRow): Item[] {
    const timestamp = dciTimestamp(row.updatedAt);
    if (row.status === 'pdng' || !row.responseEncrypted) {
      return row.referenceIds.map((reference) => ({ reference_id: reference, timestamp, status: row.status === 'rjct' ? 'rjct' : 'pdng' }));
    }
    const response = this.cipher.decryptJson<Record<string, unknown>>(row.responseEncrypted, this.responseContext(row.uuid));
    if (row.status === 'rjct') {
      return row.referenceIds.map((reference) => ({ reference_id: reference, timestamp, status: 'rjct', status_reason_message: row.error ?? 'rejected' }));
    }
    if (row.action === 'search') return (response.search_response as Item[] | undefined) ?? [];
    // subscribe: each item, with its subscriptions as the records.
    return ((response.subscribe_response as Item[] | undefined) ?? []).map((item) => {
      const { subscriptions, pagination: _pagination, status_reason_code: code, status_reason_message: text, ...rest } = item as Item & { subscriptions?: unknown[]; pagination?: unknown; status_reason_code?: string; status_reason_message?: string };
      // Subscribe reason codes are not search reason codes (the txn_status item's enum): kept in the message.
      const isSearchCode = code !== undefined && (SEARCH_REASON_CODES as readonly string[]).includes(code);
      return {
        ...rest,
        ...(isSearchCode ? { status_reason_code: code } : {}),
        ...(code && !isSearchCode ? { status_reason_message: `${code}: ${text ?? ''}`.slice(0, 999) } : text ? { status_reason_message: text } : {}),
        ...(subscriptions ? { data: { version: '1.0.0', reg_type: REG_TYPE, reg_record_type: 'SubscriptionInfo', reg_records: subscriptions } } : {}),
      };
    });
  }
}
