import { and, asc, eq, notInArray } from 'drizzle-orm';
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

/** Audit actions that record access, not change (left out of change histories). */
export const ACCESS_ACTIONS = ['reveal'];

/** The change history of one entity, oldest first (access records such as `reveal` left out). */
export async function listAuditForEntity(db: Queryable, entityType: string, entityId: string, limit = 100): Promise<AuditRecord[]> {
  const rows = await db.select().from(auditLog)
    .where(and(eq(auditLog.entityType, entityType), eq(auditLog.entityId, entityId), notInArray(auditLog.action, ACCESS_ACTIONS)))
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
