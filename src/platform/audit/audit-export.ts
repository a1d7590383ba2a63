import { Readable } from 'node:stream';
import { and, asc, eq, gt, gte, inArray, lt, type SQL } from 'drizzle-orm';
import { stringify } from 'csv-stringify';
import type { Queryable } from '../database/database.js';
import { AppError } from '../errors.js';
import { auditLog } from './audit.tables.js';

/** What auditors filter the log by (API query parameters and `audit export` options alike). */
export interface AuditFilters {
  /** Entries about this individual or group (UUID). */
  registrant?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  /** Client id or username of whoever acted. */
  actor?: string | undefined;
  action?: string | undefined;
  /** ISO 8601 date-times: at or after `from`, before `to`. */
  from?: string | undefined;
  to?: string | undefined;
}

export const AUDIT_CSV_COLUMNS = ['occurredAt', 'actorType', 'actorId', 'action', 'entityType', 'entityId', 'before', 'after', 'requestId', 'chainPosition', 'entryHash'];
const PAGE = 1000;

/** The SQL conditions of the filters; 400 (`unknown_parameter`, at `pathPrefix`) for a bad period. */
export function auditConditions(filters: AuditFilters, pathPrefix = 'query:/'): SQL[] {
  const conditions: SQL[] = [];
  const instant = (name: 'from' | 'to') => {
    const value = filters[name]!;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new AppError('unknown_parameter', `${name} is not a date-time`, [{ path: `${pathPrefix}${name}`, message: 'must be an ISO 8601 date-time' }]);
    return date;
  };
  if (filters.registrant) conditions.push(eq(auditLog.entityId, filters.registrant.toLowerCase()), inArray(auditLog.entityType, ['individual', 'group']));
  if (filters.entityType) conditions.push(eq(auditLog.entityType, filters.entityType));
  if (filters.entityId) conditions.push(eq(auditLog.entityId, filters.entityId));
  if (filters.actor) conditions.push(eq(auditLog.actorId, filters.actor));
  if (filters.action) conditions.push(eq(auditLog.action, filters.action));
  const from = filters.from ? instant('from') : undefined;
  const to = filters.to ? instant('to') : undefined;
  if (from) conditions.push(gte(auditLog.occurredAt, from));
  if (to) conditions.push(lt(auditLog.occurredAt, to));
  if (from && to && from >= to) throw new AppError('unknown_parameter', 'from must be before to', [{ path: `${pathPrefix}from`, message: 'must be before to' }]);
  return conditions;
}

/**
 * Every matching entry as CSV, oldest first, read 1,000 at a time and streamed (memory stays flat
 * however long the period). Before/after are the JSON the log holds: restricted values in them
 * are digests (`hmac:…`) or masked, as written. Validates the filters before returning.
 */
export function auditCsv(db: Queryable, filters: AuditFilters, pathPrefix?: string): Readable {
  const conditions = auditConditions(filters, pathPrefix);
  async function* records() {
    for (let after = 0; ;) {
      const rows = await db.select().from(auditLog).where(and(...conditions, gt(auditLog.id, after))).orderBy(asc(auditLog.id)).limit(PAGE);
      for (const row of rows) {
        yield [row.occurredAt.toISOString(), row.actorType, row.actorId, row.action, row.entityType, row.entityId,
          JSON.stringify(row.before), JSON.stringify(row.after), row.requestId, row.chainPosition, row.entryHash];
      }
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }
  const csv = stringify({ header: true, columns: AUDIT_CSV_COLUMNS });
  const source = Readable.from(records());
  source.on('error', (error) => csv.destroy(error));
  return source.pipe(csv);
}
