import crypto from 'node:crypto';
import type { Db, Queryable } from '../../../platform/database/database.js';
import type { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import type { JobLogger } from '../../../platform/jobs/job-runner.js';
import { dciTimestamp, encryptMessage } from '../protocol/index.js';
import type { DciKeys } from '../dci-keys.js';
import type { DciPartnerService, Partner } from '../partners/partners.service.js';
import { CallbackAuth } from './callback-auth.js';
import { postJson } from './callback-http.js';
import { CallbackRefused, resolveCallbackTarget, type Resolver } from './callback-target.js';
import * as repository from './deliveries.repository.js';

/** A signed message we owe a partner: stored first (in the caller's transaction), sent by the dispatcher. */
export interface OutgoingMessage {
  partnerId: number;
  /** on-search | on-subscribe | on-unsubscribe | txn-on-status | notify */
  action: string;
  targetUri: string;
  /** The header without signature; its message_id is kept across attempts, message_ts renewed at each. */
  header: { message_id: string; message_ts: string; [field: string]: unknown };
  message: unknown;
  /** Encrypt the message to the partner's key (when it has one). */
  encrypt: boolean;
  transactionRowId?: number;
  subscriptionId?: number;
  /** Deliveries with the same key go out in order (subscription + registrant). */
  orderingKey?: string;
  expiresAt: Date;
}

interface StoredContent {
  header: OutgoingMessage['header'];
  message: unknown;
  encrypt: boolean;
}

export interface DispatcherOptions {
  /** Deliveries claimed per round. */
  batchSize: number;
  pollIntervalMs: number;
  /** Per attempt, the whole HTTP exchange. */
  requestTimeoutMs: number;
  /** Delay before retry n (1-based): base × 2^(n-1), at most max, ±20 % jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Host names whose callbacks may resolve to internal addresses (besides IP literals allowed per partner). */
  privateNetworkHosts: readonly string[];
  logger?: JobLogger;
  resolve?: Resolver;
}

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  batchSize: 500, pollIntervalMs: 500, requestTimeoutMs: 10_000, backoffBaseMs: 1_000, backoffMaxMs: 5 * 60_000, privateNetworkHosts: [],
};

const noopLogger: JobLogger = { info() {}, warn() {}, error() {} };

/**
 * The callback outbox's dispatcher: claims due deliveries, signs each for this attempt (fresh
 * message_ts and signature, same message_id), POSTs it to the checked target with our bearer
 * credentials for the partner, records the attempt, and reschedules failures with exponential
 * backoff until delivered or expired. A partner's answer 2xx is delivery; a host outside the
 * allowed list or resolving to an internal address is refused for good.
 */
export class CallbackDispatcher {
  private readonly options: DispatcherOptions;
  private readonly auth = new CallbackAuth();
  private readonly logger: JobLogger;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private round: Promise<void> = Promise.resolve();
  private again = false;

  constructor(
    private readonly db: Db,
    private readonly cipher: FieldCipher,
    private readonly partners: DciPartnerService,
    private readonly keys: DciKeys,
    options: Partial<DispatcherOptions> = {},
  ) {
    this.options = { ...DEFAULT_DISPATCHER_OPTIONS, ...options };
    this.logger = this.options.logger ?? noopLogger;
  }

  /** Stores messages to send, in the caller's transaction; call `nudge()` after it commits. */
  async enqueue(db: Queryable, messages: OutgoingMessage[]): Promise<void> {
    await repository.insertDeliveries(db, messages.map((message) => {
      const uuid = crypto.randomUUID();
      const content: StoredContent = { header: message.header, message: message.message, encrypt: message.encrypt };
      return {
        uuid, partnerId: message.partnerId, action: message.action, messageId: message.header.message_id, targetUri: message.targetUri,
        contentEncrypted: this.cipher.encryptJson(content, contentContext(uuid)), transactionRowId: message.transactionRowId,
        subscriptionId: message.subscriptionId, orderingKey: message.orderingKey, expiresAt: message.expiresAt,
      };
    }));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** New deliveries are waiting: send them now rather than at the next poll. */
  nudge(): void {
    if (!this.running) return;
    this.again = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.schedule(0);
    }
  }

  /** One round: claims up to a batch and sends it; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const claimed = await repository.claimDueDeliveries(this.db, this.options.batchSize, Math.ceil(this.options.requestTimeoutMs / 1000) * 3 + 5);
    if (claimed.length === 0) return 0;
    const outcomes = await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    await repository.recordAttempts(this.db, outcomes);
    return claimed.length;
  }

  /** Runs rounds until nothing is due now (tests, benchmarks). */
  async drain(): Promise<number> {
    let total = 0;
    for (let count = await this.runOnce(); count > 0; count = await this.runOnce()) total += count;
    return total;
  }

  private schedule(delayMs: number): void {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.round = this.loop();
    }, delayMs);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    let busy = false;
    try {
      this.again = false;
      busy = (await this.runOnce()) >= this.options.batchSize;
    } catch (error) {
      this.logger.error({ err: error }, 'DCI callback dispatch round failed');
    }
    this.schedule(busy || this.again ? 0 : this.options.pollIntervalMs);
  }

  private async attempt(delivery: repository.ClaimedDelivery): Promise<repository.AttemptOutcome> {
    const startedAt = new Date();
    const attempt = delivery.attempts + 1;
    const base = { deliveryId: delivery.id, attempt, startedAt };
    const finish = (outcome: 'delivered' | 'failed' | 'refused', httpStatus: number | null, error: string | null): repository.AttemptOutcome => {
      const durationMs = Date.now() - startedAt.getTime();
      if (outcome !== 'failed') return { ...base, durationMs, httpStatus, outcome, error, status: outcome, nextAttemptAt: null };
      const next = new Date(Date.now() + this.backoffMs(attempt));
      const expired = next.getTime() >= new Date(delivery.expires_at).getTime();
      return { ...base, durationMs, httpStatus, outcome, error, status: expired ? 'expired' : 'pending', nextAttemptAt: expired ? null : next };
    };
    const partner = await this.partners.findActiveBySender(delivery.sender_id);
    if (!partner) return finish('refused', null, 'the partner is no longer active');
    let target;
    try {
      target = await resolveCallbackTarget(delivery.target_uri, partner.allowedCallbackHosts, { privateNetworkHosts: this.options.privateNetworkHosts, resolve: this.options.resolve });
    } catch (error) {
      if (error instanceof CallbackRefused) {
        this.logger.warn({ delivery: delivery.uuid, action: delivery.action, reason: error.message }, 'DCI callback refused');
        return finish('refused', null, error.message);
      }
      return finish('failed', null, describe(error));
    }
    try {
      const body = await this.signedBody(delivery, partner);
      const authorization = await this.auth.authorization(partner.id, this.partners.callbackCredentials(partner));
      const response = await postJson(target, body, authorization ? { authorization } : {}, this.options.requestTimeoutMs);
      if (response.status >= 200 && response.status < 300) return finish('delivered', response.status, ackProblem(response.body));
      if (response.status === 401) this.auth.forget(partner.id);
      return finish('failed', response.status, `HTTP ${response.status}`);
    } catch (error) {
      return finish('failed', null, describe(error));
    }
  }

  private async signedBody(delivery: repository.ClaimedDelivery, partner: Partner): Promise<string> {
    const content = this.cipher.decryptJson<StoredContent>(delivery.content_encrypted, contentContext(delivery.uuid));
    const header: Record<string, unknown> = { ...content.header, message_ts: dciTimestamp() };
    let message = content.message;
    // Encrypted when the request was, and always for a partner that requires it (notifications included).
    if ((content.encrypt || partner.encryptionPolicy === 'required') && partner.encryptionKey) {
      message = await encryptMessage(message, { key: partner.encryptionKey, kid: String(partner.encryptionKey.kid) });
      header.is_msg_encrypted = true;
    }
    const signature = await this.keys.sign({ header, message }, partner.signatureStrategy);
    return JSON.stringify({ signature, header, message });
  }

  private backoffMs(attempt: number): number {
    const delay = Math.min(this.options.backoffBaseMs * 2 ** (attempt - 1), this.options.backoffMaxMs);
    return Math.round(delay * (0.8 + Math.random() * 0.4));
  }
}

function contentContext(uuid: string) {
  return { table: 'dci_deliveries', column: 'content', record: uuid };
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  return (code && !message.includes(code) ? `${code}: ${message}` : message).slice(0, 500);
}

/** A 2xx whose body is a DCI ack other than ACK is still delivered; the ack is kept with the attempt. */
function ackProblem(body: string): string | null {
  try {
    const ack = (JSON.parse(body) as { message?: { ack_status?: unknown; error?: { code?: unknown } } }).message;
    if (ack?.ack_status && ack.ack_status !== 'ACK') return `receiver answered ${String(ack.ack_status)}${ack.error?.code ? ` ${String(ack.error.code)}` : ''}`.slice(0, 500);
  } catch {
    // Not JSON: a 2xx is enough.
  }
  return null;
}
