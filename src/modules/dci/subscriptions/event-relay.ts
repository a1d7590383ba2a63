import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../../../platform/database/database.js';
import type { JobLogger } from '../../../platform/jobs/job-runner.js';
import { hasScope } from '../../../platform/auth/access-tokens.js';
import type { ApiClientService } from '../../api-clients/api-clients.service.js';
import type { Criterion } from '../../registry/registry.criteria.js';
import { DCI_VERSION, dciTimestamp } from '../protocol/index.js';
import type { DciPartnerService } from '../partners/partners.service.js';
import { REG_TYPE } from '../registry-server/mapping.js';
import type { CallbackDispatcher, OutgoingMessage } from '../callbacks/callback-dispatcher.js';
import { clientActor } from '../transactions/actor-snapshot.js';
import { filterCriterion, type FilterType, type NotifyRecords, type RecordKind } from './notify-records.js';
import * as repository from './subscriptions.repository.js';
import type { RegistryEvent, SubscriptionRow } from './subscriptions.repository.js';
import type { DciSubscriptionService } from './subscriptions.service.js';

/** Any 64-bit number unique to this purpose: one relay at a time keeps notifications in order. */
const RELAY_LOCK_KEY = 727_505;

export interface RelayOptions {
  ourSenderId: string;
  batchSize: number;
  pollIntervalMs: number;
  /** How long a notification may wait for a receiver that is down (never past the subscription's end). */
  notifyTtlMs: number;
  logger?: JobLogger;
}

const noopLogger: JobLogger = { info() {}, warn() {}, error() {} };

/**
 * Registry events → signed `notify` callbacks. Events come from the `dci_registry_events` outbox
 * (triggers in the writing transaction). Each round, under a transaction-scoped advisory lock so
 * relays of several processes never interleave: take the oldest committed events (id order),
 * match each against the active subscriptions (event type, record type, filter compiled to SQL and
 * restricted to the changed registrants, read as the partner), store one notify delivery per match
 * (ordering key subscription + registrant, so the dispatcher keeps their order) and delete the
 * events — all in one transaction, so an event is turned into notifications exactly once.
 */
export class EventRelay {
  private readonly logger: JobLogger;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly subscriptions: DciSubscriptionService,
    private readonly records: NotifyRecords,
    private readonly partners: DciPartnerService,
    private readonly apiClients: Pick<ApiClientService, 'findClient'>,
    private readonly dispatcher: CallbackDispatcher,
    private readonly options: RelayOptions,
  ) {
    this.logger = options.logger ?? noopLogger;
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

  /** One round; returns how many events it consumed. */
  async runOnce(): Promise<number> {
    const { consumed, notifications } = await this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${RELAY_LOCK_KEY})`);
      const events = await repository.nextRegistryEvents(tx, this.options.batchSize);
      if (events.length === 0) return { consumed: 0, notifications: 0 };
      const messages = await this.notificationsFor(events);
      await this.dispatcher.enqueue(tx, messages);
      await repository.deleteRegistryEvents(tx, events.map((event) => event.id));
      return { consumed: events.length, notifications: messages.length };
    });
    if (notifications > 0) this.dispatcher.nudge();
    return consumed;
  }

  /** Runs rounds until no event is waiting (tests, benchmarks). */
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
      busy = (await this.runOnce()) >= this.options.batchSize;
    } catch (error) {
      this.logger.error({ err: error }, 'DCI event relay round failed');
    }
    this.schedule(busy ? 0 : this.options.pollIntervalMs);
  }

  private async notificationsFor(events: RegistryEvent[]): Promise<OutgoingMessage[]> {
    const subscriptions = await repository.listActiveSubscriptions(this.db);
    if (subscriptions.length === 0) return [];
    const translation = await this.records.translation();
    const messages: Array<OutgoingMessage & { order: number }> = [];
    for (const subscription of subscriptions) {
      const kind: RecordKind = subscription.notifyRecordType === 'Group' ? 'group' : 'individual';
      const relevant = events.map((event, order) => ({ event, order, subject: subjectOf(subscription, kind, event) }))
        .filter((entry): entry is { event: RegistryEvent; order: number; subject: string } => entry.subject !== undefined);
      if (relevant.length === 0) continue;
      const context = await this.contextOf(subscription);
      if (!context) continue;
      let where: Criterion;
      try {
        where = filterCriterion(subscription.filterType as FilterType, this.subscriptions.filterOf(subscription), translation);
      } catch (error) {
        // Checked at subscribe time; an identifier type removed since makes it fail now.
        this.logger.warn({ subscription: subscription.code, err: error }, 'DCI subscription filter no longer compiles; skipped');
        continue;
      }
      let matched: Map<string, Record<string, unknown>>;
      try {
        matched = await this.records.matching(context.request, kind, where, [...new Set(relevant.map((entry) => entry.subject))]);
      } catch (error) {
        this.logger.warn({ subscription: subscription.code, err: error }, 'DCI subscription filter failed; skipped');
        continue;
      }
      for (const { event, order, subject } of relevant) {
        const record = matched.get(subject);
        if (!record) continue;
        messages.push({ ...this.notification(subscription, context.partnerSenderId, event, subject, record), order });
      }
    }
    // Event order first (so each registrant's notifications are stored, hence sent, in commit order).
    return messages.sort((a, b) => a.order - b.order || (a.subscriptionId ?? 0) - (b.subscriptionId ?? 0));
  }

  private async contextOf(subscription: SubscriptionRow & { senderId: string }) {
    const partner = await this.partners.findActiveBySender(subscription.senderId);
    if (!partner) return undefined;
    const client = await this.apiClients.findClient(partner.clientId);
    if (!client || !client.isActive || !hasScope(new Set(client.scopes), 'dci:subscribe')) return undefined;
    return { partnerSenderId: partner.senderId, request: { actor: clientActor(client), requestId: `dci-notify:${subscription.code}` } };
  }

  private notification(subscription: SubscriptionRow, receiverId: string, event: RegistryEvent, subject: string, record: Record<string, unknown>): OutgoingMessage {
    const expiresAt = new Date(Math.min(subscription.endTime.getTime(), Date.now() + this.options.notifyTtlMs));
    return {
      partnerId: subscription.partnerId,
      action: 'notify',
      targetUri: subscription.callbackUri,
      subscriptionId: subscription.id,
      orderingKey: `${subscription.id}:${subject}`,
      expiresAt,
      encrypt: false,
      header: {
        version: DCI_VERSION, message_id: crypto.randomUUID(), message_ts: dciTimestamp(), action: 'notify', status: 'succ',
        total_count: 1, completed_count: 1, sender_id: this.options.ourSenderId, receiver_id: receiverId, is_msg_encrypted: false,
        meta: { subscription_code: subscription.code, event_id: String(event.id) },
      },
      message: {
        transaction_id: subscription.transactionId,
        notify_event: [{
          reference_id: subscription.referenceId,
          timestamp: event.occurred_at,
          data: { version: DCI_VERSION, reg_type: REG_TYPE, reg_event_type: event.event, reg_record_type: subscription.notifyRecordType, reg_records: record },
          ...(subscription.locale ? { locale: subscription.locale } : {}),
        }],
      },
    };
  }
}

/**
 * The registrant a notification for this event would be about, or undefined when the subscription
 * does not want the event: REGISTER and UPDATE of the subscribed record type; NewHouseHoldMember
 * about the member (Member) or the household joined (Group).
 */
function subjectOf(subscription: SubscriptionRow, kind: RecordKind, event: RegistryEvent): string | undefined {
  if (event.event !== subscription.regEventType) return undefined;
  if (event.event === 'NewHouseHoldMember') return kind === 'group' ? event.group_uuid ?? undefined : event.registrant_uuid;
  return event.kind === kind ? event.registrant_uuid : undefined;
}
