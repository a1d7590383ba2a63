import { sql } from 'drizzle-orm';
import type { Queryable } from '../database/database.js';
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
  const rows = entries.map((entry) => {
    const { before, after } = entry.before && entry.after ? changedFields(entry.before, entry.after) : entry;
    return {
      actorType: context.actor.type, actorId: context.actor.id, action: entry.action, entityType: entry.entityType,
      entityId: entry.entityId, before: before ?? null, after: after ?? null, requestId: context.requestId ?? null,
    };
  });
  for (let start = 0; start < rows.length; start += 5000) {
    await db.execute(sql`
      insert into audit_log (actor_type, actor_id, action, entity_type, entity_id, before, after, request_id)
      select v."actorType", v."actorId", v.action, v."entityType", v."entityId", v.before, v.after, v."requestId"
      from jsonb_to_recordset(${JSON.stringify(rows.slice(start, start + 5000))}::jsonb)
        as v("actorType" text, "actorId" text, action text, "entityType" text, "entityId" text, before jsonb, after jsonb, "requestId" text)`);
  }
}
