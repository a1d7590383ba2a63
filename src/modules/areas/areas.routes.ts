import { pageLink, queryAsSent } from '../../platform/http/page-links.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from 'typebox';
import { AppError } from '../../platform/errors.js';
import { etagOf, versionFromIfMatch } from '../../platform/versioning.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import { AREA_CODE_PATTERN, type AreaDetail as AreaDetailView, type AreaService } from './areas.service.js';
import { AreaCodeParams, AreaDetail, AreaInput, AreaPage, AreaPatch, AreaSearchQuery, DeactivationInput } from './areas.schemas.js';

const BASE = '/api/v2/Area';
const MERGE_PATCH = 'application/merge-patch+json';
/** The server also parses form bodies; a patch must be JSON (merge patch, or plain JSON read as one). */
const PATCH_TYPES = new Set([MERGE_PATCH, 'application/json']);
/** Longer than any cursor this server gives out (the base64url of a code of at most 64 characters). */
const MAX_CURSOR_LENGTH = 200;
const read = { scope: 'area:read' };
const write = { scope: 'area:write' };

/**
 * Administrative areas: search, read, create, change (merge patch), deactivate. `publicUrl` is the
 * configured public base URL, from which the search builds its absolute `links`.
 */
export function areaRoutes(service: AreaService, publicUrl: string) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.get(BASE, {
      config: read,
      schema: {
        tags: ['area'],
        summary: 'Search areas',
        description: 'Filters combine with AND. Ordered by code; follow `links.next` for the following page.',
        security: [{ oauth2: ['area:read'] }],
        querystring: AreaSearchQuery,
        response: { 200: AreaPage },
      },
    }, async (request) => {
      const { parent, ancestor, kind, name, code, isActive, _count, _cursor } = request.query;
      const page = await service.searchAreas({
        parentCode: parent, ancestorCode: ancestor, kind, nameContains: name, code, isActive,
        afterCode: _cursor === undefined ? undefined : codeFromCursor(_cursor),
        limit: _count,
      });
      const links: Static<typeof AreaPage>['links'] = { self: pageLink(`${publicUrl}${BASE}`, queryAsSent(request.url), _cursor) };
      if (page.nextAfterCode !== undefined) links.next = pageLink(`${publicUrl}${BASE}`, queryAsSent(request.url), cursorOf(page.nextAfterCode));
      return { resourceType: 'SearchResult' as const, count: page.items.length, items: page.items, links };
    });

    app.get(`${BASE}/:code`, {
      config: read,
      schema: {
        tags: ['area'],
        summary: 'Read an area, with its ancestors',
        security: [{ oauth2: ['area:read'] }],
        params: AreaCodeParams,
        response: { 200: AreaDetail },
      },
    }, async (request, reply) => withEtag(reply, await service.getArea(request.params.code)));

    app.post(BASE, {
      config: write,
      schema: {
        tags: ['area'],
        summary: 'Create an area',
        security: [{ oauth2: ['area:write'] }],
        body: AreaInput,
        response: { 201: AreaDetail },
      },
    }, async (request, reply) => {
      const area = await service.createArea(contextOf(request), request.body);
      reply.code(201).header('location', `${BASE}/${encodeURIComponent(area.code)}`);
      return withEtag(reply, area);
    });

    app.patch(`${BASE}/:code`, {
      config: write,
      // Checked before the body is validated: a merge patch means nothing in another media type.
      preValidation: async (request) => assertJsonPatch(request),
      schema: {
        tags: ['area'],
        summary: 'Change an area (JSON merge patch); changing parentCode moves its whole subtree',
        description: `Send \`Content-Type: ${MERGE_PATCH}\` (or \`application/json\`) and \`If-Match\` with the ETag you read.`,
        security: [{ oauth2: ['area:write'] }],
        params: AreaCodeParams,
        body: AreaPatch,
        response: { 200: AreaDetail },
      },
    }, async (request, reply) => {
      const expectedVersion = versionFromIfMatch(request.headers['if-match']);
      return withEtag(reply, await service.updateArea(contextOf(request), request.params.code, expectedVersion, request.body));
    });

    app.post(`${BASE}/:code/$deactivate`, {
      config: write,
      schema: {
        tags: ['area'],
        summary: 'Deactivate an area (areas are never deleted)',
        description: 'Refused while the area has active children. `If-Match` is optional here; when sent it must be current.',
        security: [{ oauth2: ['area:write'] }],
        params: AreaCodeParams,
        body: DeactivationInput,
        response: { 200: AreaDetail },
      },
    }, async (request, reply) => {
      const ifMatch = request.headers['if-match'];
      const expectedVersion = ifMatch === undefined ? undefined : versionFromIfMatch(ifMatch);
      return withEtag(reply, await service.deactivateArea(contextOf(request), request.params.code, { reason: request.body.reason, expectedVersion }));
    });
  };
}

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

function withEtag(reply: FastifyReply, area: AreaDetailView): AreaDetailView {
  reply.header('etag', etagOf(area.version));
  return area;
}

function assertJsonPatch(request: FastifyRequest): void {
  const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (!contentType || !PATCH_TYPES.has(contentType)) {
    throw new AppError('unsupported_media_type', `Send the change as a JSON merge patch (Content-Type: ${MERGE_PATCH} or application/json)`);
  }
}

/** Cursors are opaque to clients; inside, the last code of the page (areas are ordered by code). */
function cursorOf(code: string): string {
  return Buffer.from(code, 'utf8').toString('base64url');
}

/** Only a cursor this server wrote is accepted: the exact encoding of a well-formed code. */
function codeFromCursor(cursor: string): string {
  const code = cursor.length > MAX_CURSOR_LENGTH ? '' : Buffer.from(cursor, 'base64url').toString('utf8');
  if (!AREA_CODE_PATTERN.test(code) || cursorOf(code) !== cursor) {
    throw new AppError('unknown_parameter', 'Search parameter _cursor is not a cursor from a previous page of this search; follow links.next', [{ path: 'query:/_cursor', message: 'is not a valid cursor' }]);
  }
  return code;
}

