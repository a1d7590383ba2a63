import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../platform/audit/audit.js';
import { AppError } from '../../platform/errors.js';
import { pageLink, queryAsSent } from '../../platform/http/page-links.js';

// Small helpers shared by the programs module's routes and services.

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

/** An opaque keyset cursor (the position is internal and never shown as such). */
export function encodeCursor(afterId: number): string {
  return Buffer.from(JSON.stringify({ a: afterId })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    if (Number.isSafeInteger(decoded.a) && (decoded.a as number) >= 0) return decoded.a as number;
  } catch { /* falls through */ }
  throw new AppError('unknown_parameter', 'Parameter _cursor is not a cursor from a previous page', [{ path: 'query:/_cursor', message: 'is not a cursor of this search' }]);
}

export interface Page<T> { items: T[]; lastId?: number }

/** A page of `limit + 1` rows read: the items and, when more follow, the position of the last one. */
export function pageOf<R extends { id: number }, T>(rows: R[], limit: number, view: (row: R) => T): Page<T> {
  const pageRows = rows.slice(0, limit);
  return { items: pageRows.map(view), ...(rows.length > limit ? { lastId: pageRows[pageRows.length - 1]!.id } : {}) };
}

/** The search result body of the API: items and `links` (self, next) with every parameter sent. */
export function searchResult<T>(request: FastifyRequest, publicUrl: string, base: string, page: Page<T>) {
  const query = queryAsSent(request.url);
  const cursor = (request.query as { _cursor?: string })._cursor;
  const links: { self: string; next?: string } = { self: pageLink(`${publicUrl}${base}`, query, cursor) };
  if (page.lastId !== undefined) links.next = pageLink(`${publicUrl}${base}`, query, encodeCursor(page.lastId));
  return { resourceType: 'SearchResult' as const, count: page.items.length, items: page.items, links };
}

export function sendAccepted(reply: FastifyReply, job: { id: string }, body: Record<string, unknown>) {
  reply.code(202).header('location', `/api/v2/Job/${job.id}`);
  return body;
}

export const iso = (value: Date | null | undefined): string | null => (value ? value.toISOString() : null);
