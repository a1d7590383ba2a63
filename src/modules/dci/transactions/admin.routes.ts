import { Type, type TSchema } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { pageLink, queryAsSent } from '../../../platform/http/page-links.js';
import { DciTransactionAdmin, MAX_PAGE } from './transactions.admin.js';

const admin = { scope: 'dci:admin' };
const nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
const Cursor = Type.Optional(Type.String({ maxLength: 20, description: 'From links.next' }));
const Count = Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 50 });

const Transaction = Type.Object({
  id: Type.String({ format: 'uuid', description: 'Our correlation_id' }),
  senderId: Type.String(), action: Type.String(), transactionId: Type.String(), messageId: Type.String(), referenceIds: Type.Array(Type.String()),
  status: Type.String({ description: 'rcvd | pdng | succ | rjct' }), callbackUri: nullable(Type.String()), error: nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }), updatedAt: Type.String({ format: 'date-time' }), completedAt: nullable(Type.String({ format: 'date-time' })),
});
const Attempt = Type.Object({
  attempt: Type.Integer(), startedAt: Type.String({ format: 'date-time' }), durationMs: Type.Integer(), httpStatus: nullable(Type.Integer()),
  outcome: Type.String({ description: 'delivered | failed | refused' }), error: nullable(Type.String()),
});
const Delivery = Type.Object({
  id: Type.String({ format: 'uuid' }), action: Type.String(), messageId: Type.String(), targetUri: Type.String(),
  status: Type.String({ description: 'pending | delivered | expired | refused | cancelled' }), attempts: Type.Integer(),
  nextAttemptAt: nullable(Type.String({ format: 'date-time' })), expiresAt: Type.String({ format: 'date-time' }), deliveredAt: nullable(Type.String({ format: 'date-time' })),
  lastHttpStatus: nullable(Type.Integer()), lastError: nullable(Type.String()), attemptLog: Type.Array(Attempt),
});
const Subscription = Type.Object({
  code: Type.String(), senderId: Type.String(), transactionId: Type.String(), referenceId: Type.String(), regEventType: Type.String(),
  notifyRecordType: Type.String(), filterType: Type.String(), startTime: Type.String({ format: 'date-time' }), endTime: Type.String({ format: 'date-time' }),
  status: Type.String({ description: 'subscribe | unsubscribe' }), callbackUri: Type.String(), createdAt: Type.String({ format: 'date-time' }), unsubscribedAt: nullable(Type.String({ format: 'date-time' })),
});
const Links = Type.Object({ self: Type.String(), next: Type.Optional(Type.String()) });
const pageOf = (item: TSchema) => Type.Object({ resourceType: Type.Literal('SearchResult'), count: Type.Integer(), items: Type.Array(item), links: Links });

/**
 * Administrators' view of DCI traffic (scope dci:admin): asynchronous transactions with their
 * state, their callbacks with every delivery attempt, subscriptions, and the callback outbox.
 * Newest first; no message content (it may hold personal data).
 */
export function dciAdminRoutes(service: DciTransactionAdmin, publicUrl: string) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/api/v2/DciTransaction', {
      config: admin,
      schema: {
        tags: ['dci'], summary: 'List DCI asynchronous transactions (newest first)',
        querystring: Type.Object({
          senderId: Type.Optional(Type.String({ maxLength: 200 })), action: Type.Optional(Type.String({ maxLength: 20 })),
          status: Type.Optional(Type.String({ maxLength: 10 })), transactionId: Type.Optional(Type.String({ maxLength: 99 })), _count: Count, _cursor: Cursor,
        }, { additionalProperties: false }),
        response: { 200: pageOf(Transaction) },
      },
    }, async (request) => {
      const { _count, _cursor, ...filter } = request.query;
      const page = await service.list({ ...filter, cursor: _cursor, count: _count });
      return searchResult(`${publicUrl}/api/v2/DciTransaction`, request.url, _cursor, page);
    });

    app.get('/api/v2/DciTransaction/:id', {
      config: admin,
      schema: {
        tags: ['dci'], summary: 'Read a DCI transaction with its callbacks and every delivery attempt',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ ...Transaction.properties, deliveries: Type.Array(Delivery) }) },
      },
    }, async (request) => service.get(request.params.id));

    app.get('/api/v2/DciSubscription', {
      config: admin,
      schema: {
        tags: ['dci'], summary: 'List DCI subscriptions (newest first)',
        querystring: Type.Object({ senderId: Type.Optional(Type.String({ maxLength: 200 })), status: Type.Optional(Type.String({ maxLength: 20 })), _count: Count, _cursor: Cursor }, { additionalProperties: false }),
        response: { 200: pageOf(Subscription) },
      },
    }, async (request) => {
      const { _count, _cursor, ...filter } = request.query;
      const page = await service.listSubscriptions({ ...filter, cursor: _cursor, count: _count });
      return searchResult(`${publicUrl}/api/v2/DciSubscription`, request.url, _cursor, page);
    });

    app.get('/api/v2/DciDelivery', {
      config: admin,
      schema: {
        tags: ['dci'], summary: 'List DCI callback deliveries, notifications included (newest first), with their attempts',
        querystring: Type.Object({ status: Type.Optional(Type.String({ maxLength: 20 })), _count: Count, _cursor: Cursor }, { additionalProperties: false }),
        response: { 200: pageOf(Delivery) },
      },
    }, async (request) => {
      const { _count, _cursor, ...filter } = request.query;
      const page = await service.listDeliveries({ ...filter, cursor: _cursor, count: _count });
      return searchResult(`${publicUrl}/api/v2/DciDelivery`, request.url, _cursor, page);
    });
  };
}

function searchResult<T>(base: string, url: string, cursor: string | undefined, page: { items: T[]; nextCursor?: string }) {
  const links: { self: string; next?: string } = { self: pageLink(base, queryAsSent(url), cursor) };
  if (page.nextCursor) links.next = pageLink(base, queryAsSent(url), page.nextCursor);
  return { resourceType: 'SearchResult' as const, count: page.items.length, items: page.items, links };
}
