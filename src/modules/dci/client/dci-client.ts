import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../../platform/database/database.js';
import type { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import {
  checkSignature, dciTimestamp, signatureStrategy, SCHEMA_BASE, DCI_VERSION,
  type DciSchemas, type SchemaProblem, type SigningKey,
} from '../protocol/index.js';
import type { DciKeys } from '../dci-keys.js';
import type { DciDataSourceService, Operation, RegistryType, ResolvedSource } from '../data-sources/data-sources.service.js';
import * as calls from '../data-sources/data-sources.repository.js';
import * as pending from './pending.repository.js';
import { TokenCache } from './oauth.js';
import { DciCallError, postHttp, type HttpAnswer } from './transport.js';

type Json = Record<string, unknown>;

/** The spec document each registry type's messages are checked against. */
const SPEC_DOCUMENT: Record<RegistryType, string> = { CRVS: 'crvs', IBR: 'ibr', DR: 'dr', SR: 'social' };

/** What each operation sends and gets back: header action and message schemas (names in the registry's spec). */
const OPERATION_SHAPES: Record<string, { action: string; request: string; response?: string; sync: boolean }> = {
  sync_search: { action: 'search', request: 'SearchRequest', response: 'SearchResponse', sync: true },
  search: { action: 'search', request: 'SearchRequest', response: 'SearchResponse', sync: false },
  subscribe: { action: 'subscribe', request: 'SubscribeRequest', response: 'SubscribeResponse', sync: false },
  unsubscribe: { action: 'unsubscribe', request: 'UnSubscribeRequest', response: 'UnSubscribeResponse', sync: false },
  txn_status: { action: 'txn-status', request: 'TxnStatusRequest', response: 'TxnStatusResponse', sync: false },
  sync_txn_status: { action: 'txn-status', request: 'TxnStatusRequest', response: 'TxnStatusResponse', sync: true },
  enrolled: { action: 'search', request: 'EnrolledRequest', response: 'EnrolledResponse', sync: true },
  enrollment_updates: { action: 'notify', request: 'EnrollmentUpdatesRequest', response: 'EnrollmentUpdatesResponse', sync: true },
  disabled: { action: 'search', request: 'DisabledRequest', response: 'DisabledResponse', sync: true },
  disability_details: { action: 'search', request: 'GetDisabilitySupportRequest', response: 'GetDisabilityInfoResponse', sync: true },
};

/** The callback action answering each asynchronous request action. */
export const CALLBACK_ACTION: Record<string, string> = { search: 'on-search', subscribe: 'on-subscribe', unsubscribe: 'on-unsubscribe', 'txn-status': 'txn-on-status' };

export interface ClientSettings {
  /** Attempts on 429/5xx/timeouts/network failures (default 3). */
  maxAttempts: number;
  /** First backoff (doubles each attempt, with jitter; default 500 ms). */
  backoffBaseMs: number;
  /** How long an asynchronous request waits for its callback before polling txn/status (default 10 s). */
  callbackWaitMs: number;
  /** How often the wait looks at the pending transaction (default 100 ms). */
  pendingCheckMs: number;
}

export const DEFAULT_CLIENT_SETTINGS: ClientSettings = { maxAttempts: 3, backoffBaseMs: 500, callbackWaitMs: 10_000, pendingCheckMs: 100 };

export interface SyncAnswer<M = Json> {
  header: Json;
  message: M;
  /** verified | unsigned (accepted only when the source does not require signed responses). */
  signature: 'verified' | 'unsigned';
  transactionId: string;
}

export interface AsyncAnswer<M = Json> {
  transactionId: string;
  correlationId: string;
  message: M;
  /** How the answer came: the registry's callback, or our txn/status poll after the wait. */
  answeredBy: 'callback' | 'poll';
}

/**
 * The base DCI client: every outgoing message is checked against the target registry's request
 * schema and signed; every response's signature is verified and its shape checked; OAuth tokens are
 * cached and refreshed on 401; 429/5xx/timeouts are retried with backoff, request errors are not;
 * every call is logged (dci_outgoing_calls, no personal data).
 */
export class DciClient {
  readonly tokens = new TokenCache();
  readonly settings: ClientSettings;
  private readonly answerListeners: Array<(sourceRowId: number, action: string, message: Json) => Promise<void>> = [];

  constructor(
    private readonly db: Db,
    private readonly sources: DciDataSourceService,
    private readonly schemas: DciSchemas,
    private readonly keys: DciKeys,
    private readonly cipher: FieldCipher,
    private readonly logger: Logger,
    settings: Partial<ClientSettings> = {},
  ) {
    this.settings = { ...DEFAULT_CLIENT_SETTINGS, ...settings };
  }

  /** A synchronous call (sync/search, sync/txn/status, IBR enrolled, DR disabled…): the signed answer. */
  async callSync<M = Json>(code: string, operation: Operation, message: Json): Promise<SyncAnswer<M>> {
    const source = await this.sources.resolve(code);
    const shape = shapeOf(operation);
    const { envelope, header } = await this.envelope(source, operation, message);
    const started = Date.now();
    let attempts = 0;
    try {
      const result = await this.post(source, operation, envelope, (count) => (attempts = count));
      const answer = await this.readSyncAnswer<M>(source, shape, result);
      await this.log(source, operation, header, message, { outcome: 'ok', httpStatus: result.status, attempts, started, summary: summaryOf(operation, message, answer.message as Json) });
      return { ...answer, transactionId: String(message.transaction_id) };
    } catch (error) {
      await this.logFailure(source, operation, header, message, error, attempts, started);
      throw error;
    }
  }

  /**
   * An asynchronous call (search, subscribe, unsubscribe, txn/status): posts, stores the pending
   * transaction, then waits for the callback; when it is late, polls sync txn/status (the poll wins).
   */
  async callAsync<M = Json>(code: string, operation: Operation, message: Json, options: { wait?: boolean } = {}): Promise<AsyncAnswer<M> | { transactionId: string; correlationId: string; pending: true }> {
    const source = await this.sources.resolve(code);
    const shape = shapeOf(operation);
    if (!source.view.callbackUrl) throw new DciCallError('config', `The data source ${code} has no callback URL: asynchronous calls need one`);
    const transactionId = String(message.transaction_id);
    const { envelope, header } = await this.envelope(source, operation, message, `${source.view.callbackUrl}/registry/${CALLBACK_ACTION[shape.action]}`);
    await pending.insertPending(this.db, { sourceId: source.rowId, transactionId, action: shape.action, referenceIds: referenceIdsOf(message) });
    const started = Date.now();
    let attempts = 0;
    let correlationId: string;
    try {
      const result = await this.post(source, operation, envelope, (count) => (attempts = count));
      correlationId = this.readAck(result);
      await pending.setCorrelation(this.db, source.rowId, transactionId, correlationId);
      await this.log(source, operation, header, message, { outcome: 'ok', httpStatus: result.status, attempts, started, summary: { ...summaryOf(operation, message), correlationId } });
    } catch (error) {
      await pending.answer(this.db, source.rowId, transactionId, { answeredBy: 'callback', status: 'failed', error: error instanceof Error ? error.message : String(error) });
      await this.logFailure(source, operation, header, message, error, attempts, started);
      throw error;
    }
    if (options.wait === false) return { transactionId, correlationId, pending: true };
    const answered = await this.awaitAnswer<M>(source, transactionId, this.settings.callbackWaitMs);
    if (answered) return { transactionId, correlationId, ...answered };
    return { transactionId, correlationId, ...(await this.pollStatus<M>(code, source, shape.action, transactionId)) };
  }

  /** The stored answer of a pending transaction (callback or poll), or undefined while pending. */
  async answerOf<M = Json>(sourceRowId: number, transactionId: string): Promise<{ message: M; answeredBy: 'callback' | 'poll' } | undefined> {
    const row = await pending.findPending(this.db, sourceRowId, transactionId);
    if (!row || row.status === 'pending') return undefined;
    if (row.status === 'failed') throw new DciCallError('rejected', row.error ?? 'The transaction failed');
    return { message: this.cipher.decryptJson<M>(row.responseEncrypted!, answerContext(sourceRowId, transactionId)), answeredBy: row.answeredBy as 'callback' | 'poll' };
  }

  /** Called once per answered transaction, whether the answer came by callback or by poll. */
  onAnswer(listener: (sourceRowId: number, action: string, message: Json) => Promise<void>): void {
    this.answerListeners.push(listener);
  }

  /** Stores an answer (callback or poll); false when the transaction was already answered. */
  async storeAnswer(sourceRowId: number, transactionId: string, message: Json, by: 'callback' | 'poll'): Promise<boolean> {
    const stored = await pending.answer(this.db, sourceRowId, transactionId, { answeredBy: by, status: 'answered', responseEncrypted: this.cipher.encryptJson(message, answerContext(sourceRowId, transactionId)) });
    if (stored) {
      const row = await pending.findPending(this.db, sourceRowId, transactionId);
      for (const listener of this.answerListeners) await listener(sourceRowId, row?.action ?? '', message);
    }
    return stored;
  }

  /** Checks a message against a registry's schema (the callback routes use it too). */
  check(registryType: RegistryType, schemaName: string, value: unknown): { valid: true } | { valid: false; problems: SchemaProblem[] } {
    return this.schemas.checkRef(`${SCHEMA_BASE}${SPEC_DOCUMENT[registryType]}#/components/schemas/${schemaName}`, value);
  }

  /** Verifies a registry's signature on one of its envelopes (responses and callbacks). */
  async verify(source: ResolvedSource, envelope: { signature?: unknown; header: Json; message?: unknown }): Promise<'verified' | 'unsigned'> {
    const senderId = typeof envelope.header.sender_id === 'string' ? envelope.header.sender_id : source.view.receiverId;
    if (senderId !== source.view.receiverId) throw new DciCallError('signature', `The answer says it is from ${senderId}, not ${source.view.receiverId}`);
    const outcome = await checkSignature(envelope.signature, { header: envelope.header, message: envelope.message }, source.view.requireSignedResponses ? 'required' : 'optional',
      source.view.signatureStrategy, this.sources.keys, { senderId });
    if (outcome.status === 'verified' || outcome.status === 'unsigned') return outcome.status;
    throw new DciCallError('signature', `The registry's signature is ${outcome.status}: ${outcome.message}`);
  }

  // ---- internals ------------------------------------------------------------------------------

  private async envelope(source: ResolvedSource, operation: Operation, message: Json, senderUri?: string) {
    const shape = shapeOf(operation);
    const { view } = source;
    const header: Json = {
      version: DCI_VERSION, message_id: crypto.randomUUID(), message_ts: dciTimestamp(), action: shape.action,
      sender_id: view.ourSenderId, receiver_id: view.receiverId, total_count: itemCountOf(message), is_msg_encrypted: false,
      ...(senderUri ? { sender_uri: senderUri } : {}),
    };
    const problems = [
      ...problemsOf(this.check(view.registryType, 'MsgHeader_V1.0.0', header), '/header'),
      ...problemsOf(this.check(view.registryType, shape.request, message), '/message'),
    ];
    if (problems.length > 0) {
      throw new DciCallError('schema', `Our ${operation} request does not match the ${view.registryType} spec: ${problems.map((problem) => `${problem.path} ${problem.message}`).join('; ')}`);
    }
    const key: SigningKey = source.signingKey ?? { ...this.keys.signingKey(), senderId: view.ourSenderId };
    const signature = await signatureStrategy(view.signatureStrategy).sign({ header, message }, key, { ttlSeconds: 300 });
    return { envelope: { signature, header, message }, header };
  }

  /** POST with auth, 401 → new token once, retries with backoff on 429/5xx/timeouts/network. */
  private async post(source: ResolvedSource, operation: Operation, envelope: Json, onAttempt: (count: number) => void): Promise<HttpAnswer> {
    const body = JSON.stringify(envelope);
    let refreshed = false;
    for (let attempt = 1; ; attempt += 1) {
      onAttempt(attempt);
      let answer: HttpAnswer;
      try {
        answer = await postHttp(source.url(operation), body, {
          headers: { 'content-type': 'application/json', accept: 'application/json', ...(await this.authorization(source)) },
          timeoutMs: source.view.timeoutMs, verifyTls: source.view.verifyTls,
        });
      } catch (error) {
        if (error instanceof DciCallError && error.retryable && attempt < this.settings.maxAttempts) {
          await this.backoff(attempt);
          continue;
        }
        throw error;
      }
      if (answer.status === 401 && source.view.authType === 'oauth2' && !refreshed) {
        // The token expired or was revoked: one fresh token, same attempt count.
        refreshed = true;
        this.tokens.forget(source.view.id);
        attempt -= 1;
        continue;
      }
      if ((answer.status === 429 || answer.status >= 500) && attempt < this.settings.maxAttempts) {
        await this.backoff(attempt);
        continue;
      }
      return answer;
    }
  }

  private async authorization(source: ResolvedSource): Promise<Record<string, string>> {
    if (source.view.authType === 'oauth2') return { authorization: `Bearer ${await this.tokens.token(source)}` };
    if (source.view.authType === 'bearer' && source.bearerToken) return { authorization: `Bearer ${source.bearerToken}` };
    return {};
  }

  private backoff(attempt: number, floorMs = 0): Promise<void> {
    const exponential = this.settings.backoffBaseMs * 2 ** (attempt - 1);
    const delay = Math.max(floorMs, exponential / 2 + Math.random() * exponential / 2);
    return new Promise((resolve) => setTimeout(resolve, Math.min(delay, 30_000)));
  }

  private failHttp(answer: HttpAnswer): never {
    const ackError = (answer.body as { message?: { error?: { code?: string; message?: string } } } | undefined)?.message?.error;
    const errors = (answer.body as { errors?: Array<{ code?: string; message?: string }> } | undefined)?.errors;
    const detail = ackError?.code ? `${ackError.code}${ackError.message ? `: ${ackError.message}` : ''}` : errors?.[0]?.code ? `${errors[0].code}: ${errors[0].message ?? ''}` : answer.text.slice(0, 200);
    if (answer.status === 401 || answer.status === 403) throw new DciCallError('auth', `The registry refused our credentials (HTTP ${answer.status}${detail ? `, ${detail}` : ''})`, answer.status);
    if (ackError?.code === 'err.signature.invalid' || ackError?.code === 'err.signature.missing') throw new DciCallError('signature', `The registry refused our signature (${detail})`, answer.status);
    if (answer.status === 400 && ackError?.code) throw new DciCallError('rejected', `The registry refused the request (${detail})`, answer.status);
    throw new DciCallError('http', `The registry answered HTTP ${answer.status}${detail ? ` (${detail})` : ''}`, answer.status, answer.status === 429 || answer.status >= 500);
  }

  private async readSyncAnswer<M>(source: ResolvedSource, shape: { action: string; response?: string }, answer: HttpAnswer): Promise<Omit<SyncAnswer<M>, 'transactionId'>> {
    if (answer.status !== 200) this.failHttp(answer);
    const envelope = answer.body as { signature?: unknown; header?: Json; message?: Json } | undefined;
    if (!envelope || typeof envelope.header !== 'object' || envelope.header === null) throw new DciCallError('schema', 'The answer is not a DCI envelope (no header)');
    const type = source.view.registryType;
    const headerCheck = this.check(type, 'MsgCallbackHeader_V1.0.0', envelope.header);
    if (!headerCheck.valid) throw new DciCallError('schema', `The answer's header does not match the spec: ${describe(headerCheck.problems)}`);
    const signature = await this.verify(source, envelope as { signature?: unknown; header: Json; message?: unknown });
    if (envelope.header.status === 'rjct') {
      throw new DciCallError('rejected', `The registry rejected the message (${String(envelope.header.status_reason_code ?? 'no reason code')}${envelope.header.status_reason_message ? `: ${String(envelope.header.status_reason_message)}` : ''})`);
    }
    if (shape.response) {
      const messageCheck = this.check(type, shape.response, envelope.message);
      if (!messageCheck.valid) throw new DciCallError('schema', `The answer's message does not match the ${type} ${shape.response} schema: ${describe(messageCheck.problems)}`);
    }
    return { header: envelope.header, message: envelope.message as M, signature };
  }

  private readAck(answer: HttpAnswer): string {
    if (answer.status !== 200 && answer.status !== 202) this.failHttp(answer);
    const check = this.schemas.check('ack', answer.body);
    if (!check.valid) throw new DciCallError('schema', `The acknowledgement does not match the spec: ${describe(check.problems)}`);
    const ack = (answer.body as { message: { ack_status: string; correlation_id: string; error?: { code: string; message?: string } } }).message;
    if (ack.ack_status !== 'ACK') throw new DciCallError('rejected', `The registry answered ${ack.ack_status}${ack.error ? ` (${ack.error.code}${ack.error.message ? `: ${ack.error.message}` : ''})` : ''}`);
    return ack.correlation_id;
  }

  private async awaitAnswer<M>(source: ResolvedSource, transactionId: string, waitMs: number) {
    const until = Date.now() + waitMs;
    for (;;) {
      const answered = await this.answerOf<M>(source.rowId, transactionId);
      if (answered) return answered;
      if (Date.now() >= until) return undefined;
      await new Promise((resolve) => setTimeout(resolve, this.settings.pendingCheckMs));
    }
  }

  /** The callback is late: ask sync txn/status; a finished transaction's answer is stored (poll wins). */
  private async pollStatus<M>(code: string, source: ResolvedSource, action: string, transactionId: string): Promise<{ message: M; answeredBy: 'callback' | 'poll' }> {
    const status = await this.callSync<Json>(code, 'sync_txn_status', {
      transaction_id: crypto.randomUUID(),
      txnstatus_request: { reference_id: crypto.randomUUID(), txn_type: action, attribute_type: 'transaction_id', attribute_value: transactionId },
    });
    const txnStatus = (status.message.txnstatus_response as { txn_status?: Json } | undefined)?.txn_status;
    if (!txnStatus || txnStatus.transaction_id !== transactionId) {
      // The callback may have arrived meanwhile.
      const late = await this.answerOf<M>(source.rowId, transactionId);
      if (late) return late;
      throw new DciCallError('timeout', `No answer to transaction ${transactionId}: no callback, and txn/status does not have it yet`, undefined, true);
    }
    const stored = await this.storeAnswer(source.rowId, transactionId, txnStatus, 'poll');
    if (!stored) return (await this.answerOf<M>(source.rowId, transactionId))!;
    return { message: txnStatus as M, answeredBy: 'poll' };
  }

  private async log(source: ResolvedSource, operation: string, header: Json, message: Json, entry: { outcome: string; httpStatus?: number; attempts: number; started: number; summary?: Json; error?: string }) {
    try {
      await calls.insertCall(this.db, {
        uuid: crypto.randomUUID(), sourceId: source.rowId, operation, url: source.url(operation as Operation), transactionId: String(message.transaction_id ?? ''),
        messageId: String(header.message_id), outcome: entry.outcome, httpStatus: entry.httpStatus ?? null, attempts: entry.attempts, durationMs: Date.now() - entry.started,
        summary: entry.summary ?? {}, error: entry.error ?? null,
      });
    } catch (error) {
      this.logger.warn({ err: error, operation }, 'Could not record an outgoing DCI call');
    }
  }

  private logFailure(source: ResolvedSource, operation: string, header: Json, message: Json, error: unknown, attempts: number, started: number) {
    const failure = error instanceof DciCallError ? error : new DciCallError('network', error instanceof Error ? error.message : String(error));
    return this.log(source, operation, header, message, { outcome: failure.kind, httpStatus: failure.httpStatus, attempts, started, summary: summaryOf(operation, message), error: failure.message });
  }
}

function shapeOf(operation: Operation) {
  const shape = OPERATION_SHAPES[operation];
  if (!shape) throw new DciCallError('config', `${operation} is not a DCI message operation`);
  return shape;
}

function itemCountOf(message: Json): number {
  for (const key of ['search_request', 'subscribe_request', 'notify_event']) if (Array.isArray(message[key])) return (message[key] as unknown[]).length;
  return 1;
}

function referenceIdsOf(message: Json): string[] {
  for (const key of ['search_request', 'subscribe_request']) {
    if (Array.isArray(message[key])) return (message[key] as Json[]).map((item) => String(item.reference_id));
  }
  return [];
}

/** What the log keeps of a call: shapes and counts, never identifiers or names. */
function summaryOf(operation: string, message: Json, answer?: Json): Json {
  const items = (message.search_request ?? message.subscribe_request) as Json[] | undefined;
  const queryTypes = items?.map((item) => ((item.search_criteria ?? item.subscribe_criteria) as Json | undefined)?.query_type ?? null);
  const responses = (answer?.search_response ?? answer?.enrolled_response ?? answer?.disabled_response) as Json[] | undefined;
  return {
    operation, items: items?.length ?? 1, ...(queryTypes ? { queryTypes } : {}),
    ...(responses ? { statuses: responses.map((item) => item.status), reasonCodes: responses.map((item) => item.status_reason_code ?? null).filter(Boolean), records: responses.map((item) => countRecords(item)) } : {}),
  };
}

function countRecords(item: Json): number {
  const records = (item.data as Json | undefined)?.reg_records;
  return Array.isArray(records) ? records.length : records ? 1 : 0;
}

function problemsOf(check: { valid: true } | { valid: false; problems: SchemaProblem[] }, prefix: string): SchemaProblem[] {
  return check.valid ? [] : check.problems.map((problem) => ({ ...problem, path: `${prefix}${problem.path}` }));
}

function describe(problems: SchemaProblem[]): string {
  return problems.slice(0, 5).map((problem) => `${problem.path || '/'} ${problem.message}`).join('; ');
}

function answerContext(sourceRowId: number, transactionId: string) {
  return { table: 'dci_client_transactions', column: 'response', record: `${sourceRowId}:${transactionId}` };
}

