import { sql } from 'drizzle-orm';
import type { Db, Queryable, Tx } from '../database/database.js';
import { currentTransaction } from '../database/transaction-context.js';
import type { Actor } from '../auth/access-tokens.js';
import { auditLog } from './audit.tables.js';

/** Who did it and on behalf of which request: passed from routes through services. */
export interface RequestContext {
  actor: Actor;
  requestId?: string;
}

export interface AuditEntry {
  action: string;
  entityType: string;
  /** External identifier of the entity (UUID or code), never a database id. */
  entityId: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/**
 * Records a write in the same transaction as the write itself, so there is never a change without
 * its audit row. For updates only the fields that changed are kept, before and after.
 */
export async function recordAudit(db: Queryable, context: RequestContext, entry: AuditEntry): Promise<void> {
  const { before, after } = entry.before && entry.after ? changedFields(entry.before, entry.after) : entry;
  await db.insert(auditLog).values({
    actorType: context.actor.type,
    actorId: context.actor.id,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    before: before ?? null,
    after: after ?? null,
    requestId: context.requestId ?? null,
  });
}

export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>) {
  const changedBefore: Record<string, unknown> = {};
  const changedAfter: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changedBefore[key] = before[key] ?? null;
      changedAfter[key] = after[key] ?? null;
    }
  }
  return { before: changedBefore, after: changedAfter };
}

/** Many audit records in one statement, for bulk writes (imports, seeding). Same rules as recordAudit. */
export async function recordAuditBulk(db: Queryable, context: RequestContext, entries: AuditEntry[]): Promise<void> {
  await insertAuditRows(db, auditRows(context, entries));
}

type AuditRow = ReturnType<typeof auditRows>[number];

function auditRows(context: RequestContext, entries: AuditEntry[]) {
  return entries.map((entry) => {
    const { before, after } = entry.before && entry.after ? changedFields(entry.before, entry.after) : entry;
    return {
      actorType: context.actor.type, actorId: context.actor.id, action: entry.action, entityType: entry.entityType,
      entityId: entry.entityId, before: before ?? null, after: after ?? null, requestId: context.requestId ?? null,
    };
  });
}

async function insertAuditRows(db: Queryable, rows: AuditRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += 5000) {
    await db.execute(sql`
      insert into audit_log (actor_type, actor_id, action, entity_type, entity_id, before, after, request_id)
      select v."actorType", v."actorId", v.action, v."entityType", v."entityId", v.before, v.after, v."requestId"
      from jsonb_to_recordset(${JSON.stringify(rows.slice(start, start + 5000))}::jsonb)
        as v("actorType" text, "actorId" text, action text, "entityType" text, "entityId" text, before jsonb, after jsonb, "requestId" text)`);
  }
}

/**
 * Audit entries of many concurrent requests written together: what a request records while an
 * insert is under way goes into the next one, so N requests in flight cost one statement and one
 * commit instead of N (e.g. `reveal` entries of reads). Still durable before the caller goes on:
 * `record` resolves once its entries are committed, and fails if they could not be written.
 * Inside a transaction it writes at once, in that transaction (atomic with it, and on PGlite's
 * single connection nothing may wait outside an open transaction).
 */
export class AuditBatcher {
  private queue: Array<{ rows: AuditRow[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  private writing = false;

  constructor(private readonly db: Db | Tx) {}

  record(context: RequestContext, entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    if (currentTransaction(this.db)) return recordAuditBulk(this.db, context, entries);
    return new Promise((resolve, reject) => {
      this.queue.push({ rows: auditRows(context, entries), resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.drain()); // entries of the same turn of the event loop join
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await insertAuditRows(this.db, batch.flatMap((item) => item.rows));
        for (const item of batch) item.resolve();
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.writing = false;
  }
}
