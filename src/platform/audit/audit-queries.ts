import { and, asc, eq } from 'drizzle-orm';
import type { Queryable } from '../database/database.js';
import { auditLog } from './audit.tables.js';

export interface AuditRecord {
  occurredAt: string;
  actor: { type: string; id: string };
  action: string;
  entityType: string;
  entityId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
}

/** The change history of one entity, oldest first. */
export async function listAuditForEntity(db: Queryable, entityType: string, entityId: string, limit = 100): Promise<AuditRecord[]> {
  const rows = await db.select().from(auditLog)
    .where(and(eq(auditLog.entityType, entityType), eq(auditLog.entityId, entityId)))
    .orderBy(asc(auditLog.id))
    .limit(limit);
  return rows.map((row) => ({
    occurredAt: row.occurredAt.toISOString(),
    actor: { type: row.actorType, id: row.actorId },
    action: row.action,
    entityType: row.entityType,
    entityId: row.entityId,
    before: row.before ?? null,
    after: row.after ?? null,
    requestId: row.requestId,
  }));
}
