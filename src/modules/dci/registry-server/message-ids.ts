import { lt, sql } from 'drizzle-orm';
import type { Db } from '../../../platform/database/database.js';
import { dciMessageIds } from '../dci.tables.js';

const PURGE_EVERY_MS = 60_000;
const PURGE_BATCH = 5_000;

/**
 * The message-id replay store: each (sender, message_id) is accepted once while a replay could
 * still pass the message_ts window. Shared by every DCI endpoint (sync and async), so an id used
 * for a search cannot be reused for a subscribe either.
 */
export class MessageIdStore {
  private lastPurge = 0;

  constructor(private readonly db: Db) {}

  /** True the first time; false for a replay. `keepUntil` is when the id may be forgotten. */
  async remember(senderId: string, messageId: string, keepUntil: Date): Promise<boolean> {
    const inserted = await this.db.insert(dciMessageIds).values({ senderId, messageId, expiresAt: keepUntil })
      .onConflictDoNothing().returning({ messageId: dciMessageIds.messageId });
    if (Date.now() - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = Date.now();
      await this.purgeExpired().catch(() => undefined);
    }
    return inserted.length === 1;
  }

  /** Forgets ids past their keep-until time, a batch at a time (returns how many). */
  async purgeExpired(now = new Date()): Promise<number> {
    const deleted = await this.db.delete(dciMessageIds)
      .where(sql`(${dciMessageIds.senderId}, ${dciMessageIds.messageId}) in (select sender_id, message_id from ${dciMessageIds} where ${lt(dciMessageIds.expiresAt, now)} limit ${PURGE_BATCH})`)
      .returning({ messageId: dciMessageIds.messageId });
    return deleted.length;
  }
}
