import crypto from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { Actor } from '../../../platform/auth/access-tokens.js';
import {
  checkSignature, decryptMessage, EncryptionError, parseDciTimestamp,
  type DciErrorCode, type DciHeader, type DciSchemas, type EncryptedMessage, type MsgHeaderStatusReasonCode, type SchemaName, type SignatureCheck,
} from '../protocol/index.js';
import type { DciPartnerService, Partner } from '../partners/partners.service.js';
import type { MessageIdStore } from './message-ids.js';

/** What one DCI endpoint expects: its action, its message schema, the items total_count counts. */
export interface InboundRoute<M = unknown> {
  action: string;
  message: SchemaName;
  itemsOf(message: M): unknown[] | undefined;
  /** A batch: its items are checked one by one against `itemSchema`, so one bad item is refused alone. */
  batch?: { field: string; itemSchema: SchemaName };
  /** Async endpoints: `sender_uri` must be an allowed callback host of the partner. */
  needsCallback?: boolean;
}

/** A refused message: an ERR acknowledgement (`error`) or a header-level rejection (`reject`). */
export type InboundRefusal =
  | { kind: 'error'; code: DciErrorCode; message: string }
  | { kind: 'reject'; code: MsgHeaderStatusReasonCode; message: string; header: DciHeader; message_: unknown };

export type InboundResult<M> =
  | {
    accepted: true; partner: Partner; header: DciHeader; message: M; signature: SignatureCheck; correlationId: string;
    /** Batch items that failed their schema: index → problem (answer them `rjct`, process the rest). */
    invalidItems: Map<number, ItemProblem>;
  }
  | { accepted: false; refusal: InboundRefusal; correlationId: string; partner?: Partner };

export interface ItemProblem {
  /** JSON Pointer inside the item, e.g. `/search_criteria/query_type`. */
  path: string;
  message: string;
}

export interface InboundOptions {
  /** Our sender id: the receiver_id partners address us with. */
  ourSenderId: string;
  messageWindowSeconds: number;
  maxBatchSize: number;
}

const SUPPORTED_MAJOR = 1;
const MAX_MESSAGE_ID_LENGTH = 200;
const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

/**
 * The validation chain of every incoming DCI message, in the order of the spec's codes (after the
 * bearer token and scope, which the auth hook checks):
 *   2. envelope, header and message against the official schemas ....... err.request.bad
 *   3. version ......................................................... err.version.not_supported / rjct.version.invalid
 *   4. action matches the route ........................................ rjct.action.invalid
 *   5. the token's client is an active partner whose sender_id this is,
 *      receiver_id is ours, sender_uri an agreed callback host ......... err.sender_id.invalid / err.receiver_id.invalid / err.sender_uri.invalid
 *   6. signature under the partner's policy and strategy ............... err.signature.missing / err.signature.invalid
 *   7. encryption (policy; decrypt; decrypted message against schema) .. err.encryption.invalid / err.request.bad
 *   8. message_id not seen before from this sender ..................... rjct.message_id.duplicate
 *   9. message_ts is a spec date-time within the window ................ rjct.message_ts.invalid
 *  10. total_count equals the items, within the batch limit ............ rjct.total_count.invalid / rjct.total_count.limit_exceeded
 * Nothing here throws for a malformed body: every refusal is a value the route renders.
 */
export class DciInbound {
  constructor(
    private readonly schemas: DciSchemas,
    private readonly partners: DciPartnerService,
    private readonly messageIds: MessageIdStore,
    private readonly decryptionKey: (kid: string) => Promise<CryptoKey | undefined>,
    private readonly options: InboundOptions,
  ) {}

  async accept<M>(actor: Actor, body: unknown, route: InboundRoute<M>): Promise<InboundResult<M>> {
    const batchRoute = route as InboundRoute<never>;
    const correlationId = crypto.randomUUID();
    const found = actor.type === 'client' ? await this.partners.findByClient(actor.id) : undefined;
    const partner = found?.isActive ? found : undefined;
    const refuse = (refusal: InboundRefusal): InboundResult<M> => ({ accepted: false, refusal, correlationId, ...(partner ? { partner } : {}) });
    const error = (code: DciErrorCode, message: string) => refuse({ kind: 'error', code, message });

    // 2. schema
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return error('err.request.bad', 'The body must be a JSON object with signature, header and message');
    const envelope = body as { signature?: unknown; header?: unknown; message?: unknown };
    if (envelope.signature !== undefined && typeof envelope.signature !== 'string') return error('err.request.bad', '/signature must be a string');
    const headerCheck = this.schemas.check('header', envelope.header);
    if (!headerCheck.valid) return error('err.request.bad', `/header${describe(headerCheck.problems)}`);
    const header = envelope.header as DciHeader;
    // The spec sets no length; ids are kept for replay detection, so absurd ones are refused.
    if (header.message_id.length === 0 || header.message_id.length > MAX_MESSAGE_ID_LENGTH) return error('err.request.bad', `/header/message_id must be 1 to ${MAX_MESSAGE_ID_LENGTH} characters`);
    if (envelope.message === undefined || envelope.message === null || typeof envelope.message !== 'object') return error('err.request.bad', '/message is required');
    const encrypted = header.is_msg_encrypted === true;
    let invalidItems = new Map<number, ItemProblem>();
    if (encrypted) {
      const encryptedCheck = this.schemas.check('encryptedMessage', envelope.message);
      if (!encryptedCheck.valid) return error('err.request.bad', `/message${describe(encryptedCheck.problems)}`);
    } else {
      const checked = this.checkMessage(batchRoute, envelope.message);
      if (typeof checked === 'string') return error('err.request.bad', checked);
      invalidItems = checked;
    }
    const reject = (code: MsgHeaderStatusReasonCode, message: string) => refuse({ kind: 'reject', code, message, header, message_: envelope.message });

    // 3. version (absent = the default, 1.0.0)
    const version = header.version ?? '1.0.0';
    const parts = VERSION.exec(version);
    if (!parts) return reject('rjct.version.invalid', `version "${version}" is not major.minor.patch`);
    if (Number(parts[1]) !== SUPPORTED_MAJOR) return error('err.version.not_supported', `version ${version} is not supported; this registry speaks ${SUPPORTED_MAJOR}.x (1.0.0)`);

    // 4. action
    if (header.action !== route.action) return reject('rjct.action.invalid', `action "${header.action}" does not belong on this endpoint; expected "${route.action}"`);

    // 5. parties: the token's client must be an active partner sending as itself.
    if (!partner) return error('err.sender_id.invalid', 'This client is not registered as an active DCI sender of this registry');
    if (header.sender_id !== partner.senderId) return error('err.sender_id.invalid', 'sender_id is not the sender id registered for this client');
    if (header.receiver_id !== undefined && header.receiver_id !== '' && header.receiver_id !== this.options.ourSenderId) {
      return error('err.receiver_id.invalid', `receiver_id must be this registry's id, ${this.options.ourSenderId}`);
    }
    if (route.needsCallback) {
      if (!header.sender_uri) return error('err.sender_uri.invalid', 'sender_uri is required: the results are sent there');
      const check = this.partners.checkCallbackUri(partner, header.sender_uri);
      if (!check.allowed) return error('err.sender_uri.invalid', check.message);
    }

    // 6. signature
    const signature = await checkSignature(envelope.signature, { header: envelope.header, message: envelope.message }, partner.signaturePolicy, partner.signatureStrategy, this.partners.keys, { senderId: partner.senderId });
    if (signature.status === 'missing') return error('err.signature.missing', signature.message);
    if (signature.status === 'invalid' || signature.status === 'expired') return error('err.signature.invalid', signature.status === 'expired' ? `The signature has expired: ${signature.message}` : signature.message);

    // 7. encryption
    let message: unknown = envelope.message;
    if (!encrypted && partner.encryptionPolicy === 'required') return error('err.encryption.invalid', 'Messages from this sender must be encrypted (is_msg_encrypted)');
    if (encrypted) {
      try {
        message = await decryptMessage(envelope.message as EncryptedMessage, (kid) => this.decryptionKey(kid));
      } catch (failure) {
        return error('err.encryption.invalid', failure instanceof EncryptionError ? failure.message : 'The message cannot be decrypted');
      }
      const checked = this.checkMessage(batchRoute, message);
      if (typeof checked === 'string') return error('err.request.bad', `(decrypted) ${checked}`);
      invalidItems = checked;
    }

    // 9 (its parse, first: the replay store needs the time) and 8.
    const sentAt = parseDciTimestamp(header.message_ts);
    const window = this.options.messageWindowSeconds * 1000;
    const keepUntil = new Date(Math.max(Date.now(), sentAt?.getTime() ?? 0) + 2 * window);
    if (!(await this.messageIds.remember(partner.senderId, header.message_id, keepUntil))) {
      return reject('rjct.message_id.duplicate', `message_id ${header.message_id} was already received from this sender`);
    }
    if (!sentAt) return reject('rjct.message_ts.invalid', 'message_ts must be an ISO 8601 date-time with a time zone, e.g. 2026-01-02T03:04:05Z');
    if (Math.abs(Date.now() - sentAt.getTime()) > window) {
      return reject('rjct.message_ts.invalid', `message_ts is more than ${this.options.messageWindowSeconds} s away from this registry's clock`);
    }

    // 10. total_count
    const items = route.itemsOf(message as M);
    if (items !== undefined && header.total_count !== items.length) {
      return reject('rjct.total_count.invalid', `total_count is ${header.total_count} but the message holds ${items.length} requests`);
    }
    if (header.total_count > this.options.maxBatchSize) {
      return reject('rjct.total_count.limit_exceeded', `at most ${this.options.maxBatchSize} requests per message`);
    }
    return { accepted: true, partner, header, message: message as M, signature, correlationId, invalidItems };
  }

  /** The message against the route's schema: a problem (string), or the batch items failing theirs. */
  private checkMessage(route: InboundRoute<never>, message: unknown): string | Map<number, ItemProblem> {
    const invalid = new Map<number, ItemProblem>();
    const items = route.batch && typeof message === 'object' && message !== null ? (message as Record<string, unknown>)[route.batch.field] : undefined;
    if (!route.batch || !Array.isArray(items)) {
      const check = this.schemas.check(route.message, message);
      return check.valid ? invalid : `/message${describe(check.problems)}`;
    }
    const shell = this.schemas.check(route.message, { ...(message as object), [route.batch.field]: [] });
    if (!shell.valid) return `/message${describe(shell.problems)}`;
    items.forEach((item, index) => {
      const check = this.schemas.check(route.batch!.itemSchema, item);
      if (!check.valid) invalid.set(index, { path: check.problems[0]?.path ?? '', message: describe(check.problems).trim() });
    });
    return invalid;
  }
}

function describe(problems: Array<{ path: string; message: string }>): string {
  return problems.slice(0, 3).map((problem) => `${problem.path} ${problem.message}`).join('; ').replace(/^(?!\/)/, ' ');
}
