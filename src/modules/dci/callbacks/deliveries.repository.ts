import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { queryRows, type Queryable } from '../../../platform/database/database.js';
import { dciDeliveries, dciDeliveryAttempts } from '../transactions/dci-async.tables.js';

export type DeliveryRow = typeof dciDeliveries.$inferSelect;
export type NewDeliveryRow = typeof dciDeliveries.$inferInsert;
export type AttemptRow = typeof dciDeliveryAttempts.$inferSelect;

/** Many deliveries in one statement per thousand (one JSON parameter: notification batches are large). */
export async function insertDeliveries(db: Queryable, rows: NewDeliveryRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000).map((row) => ({
      uuid: row.uuid, partner_id: row.partnerId, transaction_row_id: row.transactionRowId ?? null, subscription_id: row.subscriptionId ?? null,
      action: row.action, message_id: row.messageId, target_uri: row.targetUri, content_encrypted: row.contentEncrypted,
      ordering_key: row.orderingKey ?? null, expires_at: (row.expiresAt as Date).toISOString(),
    }));
    await db.execute(sql`
      insert into dci_deliveries (uuid, partner_id, transaction_row_id, subscription_id, action, message_id, target_uri, content_encrypted, ordering_key, expires_at)
      select v.uuid, v.partner_id, v.transaction_row_id, v.subscription_id, v.action, v.message_id, v.target_uri, v.content_encrypted, v.ordering_key, v.expires_at
      from rows from (jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as (uuid uuid, partner_id bigint, transaction_row_id bigint, subscription_id bigint,
        action text, message_id text, target_uri text, content_encrypted text, ordering_key text, expires_at timestamptz)) with ordinality
        as v(uuid, partner_id, transaction_row_id, subscription_id, action, message_id, target_uri, content_encrypted, ordering_key, expires_at, position)
      order by v.position
      on conflict (message_id) do nothing`);
  }
}

/** A claimed delivery, with what sending it needs. */
export interface ClaimedDelivery {
  id: number;
  uuid: string;
  sender_id: string;
  action: string;
  message_id: string;
  target_uri: string;
  content_encrypted: string;
  attempts: number;
  expires_at: string;
}

/**
 * Pending deliveries that are due, expired ones marked first, and notifications of subscriptions
 * no longer active cancelled. Claimed with a lease (FOR UPDATE SKIP LOCKED: several dispatchers may
 * run); a delivery whose ordering key has an older pending delivery waits for it.
 */
export async function claimDueDeliveries(db: Queryable, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
  await db.execute(sql`update dci_deliveries set status = 'expired', locked_until = null
    where status = 'pending' and expires_at <= now()`);
  await db.execute(sql`update dci_deliveries d set status = 'cancelled', locked_until = null, last_error = 'the subscription ended or was unsubscribed'
    from dci_subscriptions s
    where d.status = 'pending' and d.subscription_id = s.id and (s.status <> 'subscribe' or s.end_time <= now())`);
  const rows = await queryRows<ClaimedDelivery>(db, sql`
    update dci_deliveries d set locked_until = now() + make_interval(secs => ${leaseSeconds})
    from dci_partners p
    where p.id = d.partner_id and d.id in (
      select c.id from dci_deliveries c
      where c.status = 'pending' and c.next_attempt_at <= now() and (c.locked_until is null or c.locked_until < now())
        and (c.ordering_key is null or not exists (
          select 1 from dci_deliveries e where e.ordering_key = c.ordering_key and e.status = 'pending' and e.id < c.id))
      order by c.next_attempt_at, c.id
      limit ${limit}
      for update of c skip locked)
    returning d.id, d.uuid, p.sender_id, d.action, d.message_id, d.target_uri, d.content_encrypted, d.attempts, d.expires_at`);
  return rows.map((row) => ({ ...row, id: Number(row.id), attempts: Number(row.attempts) }));
}

export interface AttemptOutcome {
  deliveryId: number;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  httpStatus: number | null;
  outcome: 'delivered' | 'failed' | 'refused';
  error: string | null;
  /** New state of the delivery. */
  status: 'pending' | 'delivered' | 'expired' | 'refused';
  nextAttemptAt: Date | null;
}

/** Records attempts and the deliveries' new states, a batch in two statements. */
export async function recordAttempts(db: Queryable, outcomes: AttemptOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const attempts = outcomes.map((outcome) => ({
    delivery_id: outcome.deliveryId, attempt: outcome.attempt, started_at: outcome.startedAt.toISOString(), duration_ms: outcome.durationMs,
    http_status: outcome.httpStatus, outcome: outcome.outcome, error: outcome.error,
  }));
  await db.execute(sql`
    insert into dci_delivery_attempts (delivery_id, attempt, started_at, duration_ms, http_status, outcome, error)
    select * from jsonb_to_recordset(${JSON.stringify(attempts)}::jsonb)
      as v(delivery_id bigint, attempt int, started_at timestamptz, duration_ms int, http_status int, outcome text, error text)`);
  const changes = outcomes.map((outcome) => ({
    id: outcome.deliveryId, attempts: outcome.attempt, status: outcome.status, http_status: outcome.httpStatus, error: outcome.error,
    next_attempt_at: outcome.nextAttemptAt?.toISOString() ?? null, delivered: outcome.status === 'delivered',
  }));
  await db.execute(sql`
    update dci_deliveries as d set attempts = c.attempts, status = c.status, last_http_status = c.http_status, last_error = c.error,
      next_attempt_at = coalesce(c.next_attempt_at, d.next_attempt_at), locked_until = null,
      delivered_at = case when c.delivered then now() else d.delivered_at end
    from jsonb_to_recordset(${JSON.stringify(changes)}::jsonb)
      as c(id bigint, attempts int, status text, http_status int, error text, next_attempt_at timestamptz, delivered boolean)
    where d.id = c.id`);
}

export async function deliveriesOfTransaction(db: Queryable, transactionRowId: number): Promise<DeliveryRow[]> {
  return db.select().from(dciDeliveries).where(eq(dciDeliveries.transactionRowId, transactionRowId)).orderBy(asc(dciDeliveries.id));
}

export async function attemptsOf(db: Queryable, deliveryIds: number[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db.select().from(dciDeliveryAttempts).where(inArray(dciDeliveryAttempts.deliveryId, deliveryIds)).orderBy(asc(dciDeliveryAttempts.deliveryId), asc(dciDeliveryAttempts.attempt));
}

export async function findDeliveryByUuid(db: Queryable, uuid: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(dciDeliveries).where(eq(dciDeliveries.uuid, uuid));
  return row;
}

/** Deliveries of a partner's subscriptions, newest first (admin listing), `before` an id for paging. */
export async function listDeliveries(db: Queryable, filter: { partnerId?: number; subscriptionId?: number; status?: string; beforeId?: number; limit: number }): Promise<DeliveryRow[]> {
  const conditions = [
    filter.partnerId === undefined ? undefined : eq(dciDeliveries.partnerId, filter.partnerId),
    filter.subscriptionId === undefined ? undefined : eq(dciDeliveries.subscriptionId, filter.subscriptionId),
    filter.status === undefined ? undefined : eq(dciDeliveries.status, filter.status),
    filter.beforeId === undefined ? undefined : lt(dciDeliveries.id, filter.beforeId),
  ].filter((condition) => condition !== undefined);
  return db.select().from(dciDeliveries).where(and(...conditions)).orderBy(desc(dciDeliveries.id)).limit(filter.limit);
}
