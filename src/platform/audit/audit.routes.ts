import { Type, type Static } from 'typebox';
import { and, asc, gt } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../database/database.js';
import { AppError } from '../errors.js';
import { pageLink } from '../http/page-links.js';
import { areaScopeOf } from '../auth/access-tokens.js';
import { auditLog } from './audit.tables.js';
import { auditConditions, auditCsv } from './audit-export.js';

const AuditQuery = Type.Object({
  registrant: Type.Optional(Type.String({ format: 'uuid', description: 'Entries about this individual or group' })),
  entityType: Type.Optional(Type.String({ maxLength: 64 })),
  entityId: Type.Optional(Type.String({ maxLength: 200 })),
  actor: Type.Optional(Type.String({ maxLength: 200, description: 'Client id or user of the actor' })),
  action: Type.Optional(Type.String({ maxLength: 64 })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Occurred at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Occurred before' })),
  _count: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  _cursor: Type.Optional(Type.String({ pattern: '^\\d{1,18}$', description: 'From the previous page\'s next link' })),
  _format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], { description: 'csv: every match as a download' })),
}, { additionalProperties: false });
type AuditQuery = Static<typeof AuditQuery>;

/** The audit log for auditors: by registrant, actor or period, as pages or a CSV export. */
export function auditRoutes(db: Db, publicUrl: string) {
  return (app: FastifyInstance) => {
    app.get('/api/v2/AuditEvent', {
      config: { scope: 'audit:read' },
      schema: { tags: ['Audit'], summary: 'Search the audit log (oldest first); _format=csv exports every match', querystring: AuditQuery },
    }, async (request, reply) => {
      // The log spans every area (and users, clients, areas): it cannot be cut to an actor's areas,
      // so an actor whose audit:read is limited to areas (an area-bound client) may not read it.
      if (areaScopeOf(request.actor, 'audit:read') !== undefined) {
        throw new AppError('forbidden', 'The audit log covers every area; an actor limited to areas cannot read it');
      }
      const query = request.query as AuditQuery;
      const conditions = auditConditions(query);
      if (query._format === 'csv') {
        reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="audit.csv"');
        return reply.send(auditCsv(db, query));
      }
      const count = query._count ?? 100;
      const rows = await db.select().from(auditLog)
        .where(and(...conditions, query._cursor ? gt(auditLog.id, Number(query._cursor)) : undefined))
        .orderBy(asc(auditLog.id)).limit(count + 1);
      const page = rows.slice(0, count);
      const next = rows.length > count ? pageLink(`${publicUrl}/api/v2/AuditEvent`, query, String(page[page.length - 1]!.id)) : undefined;
      return {
        resourceType: 'SearchResult',
        count: page.length,
        items: page.map((row) => ({
          occurredAt: row.occurredAt.toISOString(), actor: { type: row.actorType, id: row.actorId }, action: row.action,
          entityType: row.entityType, entityId: row.entityId, before: row.before, after: row.after, requestId: row.requestId,
          chainPosition: row.chainPosition, entryHash: row.entryHash,
        })),
        links: { self: pageLink(`${publicUrl}/api/v2/AuditEvent`, query, query._cursor), ...(next ? { next } : {}) },
      };
    });
  };
}
