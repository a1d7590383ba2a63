import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../../platform/errors.js';
import { etagOf, versionFromIfMatch } from '../../platform/versioning.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import { AREA_CODE_PATTERN, type AreaDetail as AreaDetailView, type AreaService } from './areas.service.js';
import { AreaCodeParams, AreaDetail, AreaInput, AreaPage, AreaPatch, AreaSearchQuery, DeactivationInput } from './areas.schemas.js';

const BASE = '/api/v2/Area';
const MERGE_PATCH = 'application/merge-patch+json';
const read = { scope: 'area:read' };
const write = { scope: 'area:write' };

/** Administrative areas: search, read, create, change (merge patch), deactivate. */
export function areaRoutes(service: AreaService) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.get(BASE, {
      config: read,
      schema: {
        tags: ['area'],
        summary: 'Search areas',
        description: 'Filters combine with AND. Ordered by code; follow `next` for the following page.',
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
      return { items: page.items, next: page.nextAfterCode === undefined ? null : nextPageLink(request.url, page.nextAfterCode) };
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
      preValidation: async (request) => assertMergePatch(request),
      schema: {
        tags: ['area'],
        summary: 'Change an area (JSON merge patch); changing parentCode moves its whole subtree',
        description: `Send \`Content-Type: ${MERGE_PATCH}\` and \`If-Match\` with the ETag you read.`,
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

function assertMergePatch(request: FastifyRequest): void {
  const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== MERGE_PATCH) throw new AppError('unsupported_media_type', `Send the change as a JSON merge patch (Content-Type: ${MERGE_PATCH})`);
}

/** Cursors are opaque to clients; inside, the last code of the page (areas are ordered by code). */
function cursorOf(code: string): string {
  return Buffer.from(code, 'utf8').toString('base64url');
}

function codeFromCursor(cursor: string): string {
  const code = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!AREA_CODE_PATTERN.test(code)) {
    throw new AppError('unknown_parameter', 'The _cursor is not one this server gave out; take it from the `next` link', [{ path: 'querystring:/_cursor', message: 'is not a valid cursor' }]);
  }
  return code;
}

/** The same search (same filters, same page size), starting after this page. */
function nextPageLink(requestUrl: string, lastCode: string): string {
  const url = new URL(requestUrl, 'http://localhost');
  url.searchParams.set('_cursor', cursorOf(lastCode));
  return `${url.pathname}${url.search}`;
}
