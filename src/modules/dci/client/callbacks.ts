import type { Logger } from 'pino';
import type { Db } from '../../../platform/database/database.js';
import type { Actor } from '../../../platform/auth/access-tokens.js';
import { ackOf, type DciAck, type DciErrorCode } from '../protocol/index.js';
import type { DciDataSourceService, ResolvedSource } from '../data-sources/data-sources.service.js';
import type { DciClient } from './dci-client.js';
import { DciCallError } from './transport.js';
import * as pending from './pending.repository.js';

type Json = Record<string, unknown>;

/** The callback actions registries send us, and the schema of each one's message. */
export const CALLBACK_MESSAGES: Record<string, string> = {
  'on-search': 'SearchResponse',
  'on-subscribe': 'SubscribeResponse',
  'on-unsubscribe': 'UnSubscribeResponse',
  'txn-on-status': 'TxnStatusResponse',
  notify: 'NotifyEventRequest',
};

export type NotifyHandler = (source: ResolvedSource, header: Json, message: Json) => Promise<void>;
export type AnswerHandler = (source: ResolvedSource, action: string, message: Json) => Promise<void>;

export interface CallbackOutcome {
  status: number;
  body: DciAck | { errors: Array<{ code: string; message: string }> };
}

/**
 * Callbacks from the registries we call: authenticated (the source's callback API client),
 * schema- and signature-checked, answered with the spec's ACK, correlated to our pending
 * transaction by transaction id and correlation id. A callback seen before (same message id), or
 * a second answer to a transaction already answered (e.g. by a txn/status poll), is acknowledged
 * but applied once only.
 */
export class DciCallbacks {
  private readonly notifyHandlers = new Map<string, NotifyHandler>();
  private readonly answerHandlers: AnswerHandler[] = [];

  constructor(private readonly db: Db, private readonly sources: DciDataSourceService, private readonly client: DciClient, private readonly logger: Logger) {
    this.listen();
  }

  /** Notifications of one registry type (e.g. CRVS vital events) go to this handler. */
  onNotify(registryType: string, handler: NotifyHandler): void {
    this.notifyHandlers.set(registryType, handler);
  }

  /** Called after an answer is stored, by callback or poll (e.g. a subscribe answer updates our subscriptions). */
  onAnswer(handler: AnswerHandler): void {
    this.answerHandlers.push(handler);
  }

  private listening = false;

  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.client.onAnswer(async (sourceRowId, action, message) => {
      const source = await this.sources.resolveById(sourceRowId);
      for (const handler of this.answerHandlers) await handler(source, action, message);
    });
  }

  async receive(actor: Actor, action: string, body: unknown): Promise<CallbackOutcome> {
    const source = actor.type === 'client' ? await this.sources.resolveByCallbackClient(actor.id) : undefined;
    // As on our registry server, a client that is no data source's is a sender id problem (the scope check is the auth hook's).
    if (!source) return { status: 400, body: ackOf('unknown', 'ERR', { code: 'err.sender_id.invalid', message: 'These credentials are not the callback credentials of any DCI data source' }) };
    const envelope = body as { signature?: unknown; header?: Json; message?: Json } | null;
    const header = envelope?.header;
    const correlationId = typeof envelope?.message?.correlation_id === 'string' ? envelope.message.correlation_id : '';
    const refuse = (code: DciErrorCode, message: string): CallbackOutcome => ({ status: 400, body: ackOf(correlationId || 'unknown', 'ERR', { code, message }) });
    if (!header || typeof header !== 'object') return refuse('err.request.bad', 'The callback has no header');
    const type = source.view.registryType;
    const headerCheck = this.client.check(type, action === 'notify' ? 'MsgHeader_V1.0.0' : 'MsgCallbackHeader_V1.0.0', header);
    if (!headerCheck.valid) return refuse('err.request.bad', `The header does not match the spec: ${headerCheck.problems.map((problem) => `${problem.path} ${problem.message}`).join('; ')}`);
    if (header.action !== action) return refuse('err.request.bad', `This endpoint takes ${action}, not ${String(header.action)}`);
    try {
      await this.client.verify(source, { signature: envelope.signature, header, message: envelope.message });
    } catch (error) {
      return refuse('err.signature.invalid', error instanceof DciCallError ? error.message : 'The signature does not verify');
    }
    const messageCheck = this.client.check(type, CALLBACK_MESSAGES[action]!, envelope.message);
    if (!messageCheck.valid) return refuse('err.request.bad', `The message does not match the ${type} ${CALLBACK_MESSAGES[action]} schema: ${messageCheck.problems.slice(0, 5).map((problem) => `${problem.path} ${problem.message}`).join('; ')}`);
    const message = envelope.message!;
    const transactionId = String(message.transaction_id);
    const messageId = String(header.message_id);
    const ack = ackOf(correlationId || messageId);

    if (action === 'notify') {
      const first = await pending.rememberCallback(this.db, { sourceId: source.rowId, messageId, action, transactionId, correlationId: null, outcome: 'applied' });
      if (!first) return { status: 200, body: ack };
      const handler = this.notifyHandlers.get(type);
      if (!handler) {
        this.logger.warn({ source: source.view.code, action }, 'A DCI notification arrived for a registry type nobody handles');
        return { status: 200, body: ack };
      }
      await handler(source, header, message);
      return { status: 200, body: ack };
    }

    const transaction = await pending.findPending(this.db, source.rowId, transactionId);
    if (!transaction) {
      await pending.rememberCallback(this.db, { sourceId: source.rowId, messageId, action, transactionId, correlationId, outcome: 'unknown-transaction' });
      return refuse('err.request.not_found', `No pending transaction ${transactionId} of ours`);
    }
    if (transaction.correlationId && correlationId && transaction.correlationId !== correlationId) {
      return refuse('err.request.bad', `Transaction ${transactionId} was acknowledged with another correlation id`);
    }
    const first = await pending.rememberCallback(this.db, { sourceId: source.rowId, messageId, action, transactionId, correlationId, outcome: 'applied' });
    if (!first) return { status: 200, body: ack };
    await this.client.storeAnswer(source.rowId, transactionId, message, 'callback');
    return { status: 200, body: ack };
  }
}
