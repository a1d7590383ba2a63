import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../../platform/audit/audit.js';
import { recordAudit } from '../../../platform/audit/audit.js';
import type { Db } from '../../../platform/database/database.js';
import {
  ackOf, dciTimestamp, encryptMessage, DCI_VERSION,
  type DciCallbackHeader, type DciErrorCode, type DciHeader,
} from '../protocol/index.js';
import type { Partner } from '../partners/partners.service.js';
import type { DciKeys } from '../dci-keys.js';
import type { DciInbound, InboundRefusal, InboundRoute } from '../registry-server/inbound.js';
import { sendTransportError } from '../registry-server/dci.routes.js';
import type { SearchRequestMessage } from '../registry-server/search.js';
import type { SubscribeRequestMessage, UnsubscribeRequestMessage } from '../subscriptions/subscriptions.service.js';
import type { AsyncAction, DciTransactionService } from './transactions.service.js';
import type { TxnStatusLookup, TxnStatusRequestMessage } from './txn-status.js';

export interface DciAsyncRouteDependencies {
  prefix: string;
  ourSenderId: string;
  db: Db;
  inbound: DciInbound;
  transactions: DciTransactionService;
  status: TxnStatusLookup;
  keys: DciKeys;
}

const ASYNC_ROUTES: Record<AsyncAction, { path: string; scope: string; summary: string; route: InboundRoute<never> }> = {
  search: {
    path: '/registry/search', scope: 'dci:search', summary: 'DCI social registry: asynchronous search (ACK now, signed on-search callback to sender_uri)',
    route: { action: 'search', message: 'searchRequest', itemsOf: (message: SearchRequestMessage) => message.search_request, needsCallback: true } as InboundRoute<never>,
  },
  subscribe: {
    path: '/registry/subscribe', scope: 'dci:subscribe', summary: 'DCI social registry: subscribe to registry events (ACK now, on-subscribe callback, then notify callbacks)',
    route: { action: 'subscribe', message: 'subscribeRequest', itemsOf: (message: SubscribeRequestMessage) => message.subscribe_request, needsCallback: true } as InboundRoute<never>,
  },
  unsubscribe: {
    path: '/registry/unsubscribe', scope: 'dci:subscribe', summary: 'DCI social registry: end subscriptions by code (ACK now, on-unsubscribe callback)',
    // total_count is not checked against the codes: one unsubscribe request may carry several.
    route: { action: 'unsubscribe', message: 'unsubscribeRequest', itemsOf: (_message: UnsubscribeRequestMessage) => undefined, needsCallback: true } as InboundRoute<never>,
  },
  'txn-status': {
    path: '/registry/txn/status', scope: 'dci:txn-status', summary: 'DCI social registry: status of earlier asynchronous requests (ACK now, txn/on-status callback)',
    route: TXN_ROUTE(true),
  },
};

function TXN_ROUTE(needsCallback: boolean): InboundRoute<never> {
  return { action: 'txn-status', message: 'txnStatusRequest', itemsOf: (message: TxnStatusRequestMessage) => [message.txnstatus_request], needsCallback } as InboundRoute<never>;
}

const ERROR_STATUS: Partial<Record<DciErrorCode, number>> = { 'err.request.too_many_requests': 429, 'err.service.unavailable': 503 };

/**
 * The asynchronous DCI endpoints and the synchronous txn/status, under the DCI prefix. Each
 * message goes through the same validation chain as /registry/sync/search (DciInbound); an
 * accepted one is answered with the spec's ACK (`ack_status`, `timestamp`, `correlation_id`) and
 * processed by a background job that POSTs the signed callback to `sender_uri`. A refused one is an
 * ERR acknowledgement (HTTP 400): communication errors with their `err.*` code, header-level
 * rejections (duplicate message_id, message_ts, total_count…) as `err.request.bad` whose message
 * starts with the spec's `rjct.*` reason code — and no callback, so a replayed message gets nothing.
 */
export function dciAsyncRoutes(deps: DciAsyncRouteDependencies) {
  return async (root: FastifyInstance) => {
    await root.register(async (app) => {
      app.setErrorHandler((error, request, reply) => sendTransportError(reply, request, error));

      for (const [action, definition] of Object.entries(ASYNC_ROUTES) as Array<[AsyncAction, (typeof ASYNC_ROUTES)[AsyncAction]]>) {
        app.post(definition.path, {
          config: { scope: definition.scope },
          schema: { tags: ['dci'], summary: definition.summary, description: 'Body: the DCI envelope {signature, header, message} of social_api_v1.0.0.yaml. Answer: the spec ACK. See docs/DCI.md.' },
        }, async (request, reply) => {
          const result = await deps.inbound.accept<unknown>(request.actor, request.body, definition.route);
          if (!result.accepted) return sendAckRefusal(reply, result.refusal, result.correlationId);
          const correlationId = await deps.transactions.accept(contextOf(request), result.partner, action, result.header, result.message, result.correlationId);
          return reply.code(200).send(ackOf(correlationId, 'ACK'));
        });
      }

      app.post('/registry/sync/txn/status', {
        config: { scope: 'dci:txn-status' },
        schema: { tags: ['dci'], summary: 'DCI social registry: status of earlier asynchronous requests, answered at once (signed)', description: 'Body: the DCI envelope {signature, header, message: TxnStatusRequest}. See docs/DCI.md.' },
      }, async (request, reply) => {
        const result = await deps.inbound.accept<TxnStatusRequestMessage>(request.actor, request.body, TXN_ROUTE(false) as InboundRoute<TxnStatusRequestMessage>);
        if (!result.accepted) {
          if (result.refusal.kind === 'error') return sendAckRefusal(reply, result.refusal, result.correlationId);
          return reply.send(await rejectedTxnStatus(deps, result.refusal, result.correlationId, result.partner));
        }
        const message = await deps.status.lookup(result.partner.row.id, result.message, result.correlationId);
        await recordAudit(deps.db, contextOf(request), { action: 'dci-txn-status', entityType: 'dci_message', entityId: result.header.message_id, after: { transactionId: result.message.transaction_id, correlationId: result.correlationId } });
        const header: DciCallbackHeader = {
          version: DCI_VERSION, message_id: crypto.randomUUID(), message_ts: dciTimestamp(), action: 'txn-on-status', status: 'succ',
          total_count: 1, completed_count: 1, sender_id: deps.ourSenderId, receiver_id: result.partner.senderId, is_msg_encrypted: false,
        };
        return reply.send(await signed(deps, result.partner, header, message, result.header.is_msg_encrypted === true));
      });
    }, { prefix: deps.prefix });
  };
}

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

function sendAckRefusal(reply: FastifyReply, refusal: InboundRefusal, correlationId: string) {
  if (refusal.kind === 'error') return reply.code(ERROR_STATUS[refusal.code] ?? 400).send(ackOf(correlationId, 'ERR', { code: refusal.code, message: refusal.message }));
  return reply.code(400).send(ackOf(correlationId, 'ERR', { code: 'err.request.bad', message: `${refusal.code}: ${refusal.message}` }));
}

async function signed(deps: DciAsyncRouteDependencies, partner: Partner, header: DciCallbackHeader, message: unknown, requestWasEncrypted: boolean) {
  let body: unknown = message;
  const encrypt = partner.encryptionKey !== null && (partner.encryptionPolicy === 'required' || (partner.encryptionPolicy === 'optional' && requestWasEncrypted));
  if (encrypt && partner.encryptionKey) {
    body = await encryptMessage(message, { key: partner.encryptionKey, kid: String(partner.encryptionKey.kid) });
    header.is_msg_encrypted = true;
  }
  return { signature: await deps.keys.sign({ header, message: body }, partner.signatureStrategy), header, message: body };
}

/** A header-level rejection on the sync endpoint: a signed txn-on-status whose header is `rjct` with the reason code. */
async function rejectedTxnStatus(deps: DciAsyncRouteDependencies, refusal: Extract<InboundRefusal, { kind: 'reject' }>, correlationId: string, partner: Partner | undefined) {
  const request = refusal.header as DciHeader;
  const original = (refusal.message_ ?? {}) as { transaction_id?: unknown; txnstatus_request?: { txn_type?: unknown } };
  const transactionId = typeof original.transaction_id === 'string' ? original.transaction_id : '';
  const header: DciCallbackHeader = {
    version: DCI_VERSION, message_id: crypto.randomUUID(), message_ts: dciTimestamp(), action: 'txn-on-status', status: 'rjct',
    status_reason_code: refusal.code, status_reason_message: refusal.message.slice(0, 999),
    total_count: typeof request.total_count === 'number' ? request.total_count : 0, completed_count: 0,
    sender_id: deps.ourSenderId, receiver_id: request.sender_id, is_msg_encrypted: false,
  };
  const message = {
    transaction_id: transactionId, correlation_id: correlationId,
    txnstatus_response: { txn_type: original.txnstatus_request?.txn_type === 'subscribe' ? 'subscribe' : 'search', txn_status: { transaction_id: transactionId, correlation_id: correlationId, search_response: [] } },
  };
  return { signature: await deps.keys.sign({ header, message }, partner?.signatureStrategy ?? 'signature-string'), header, message };
}

