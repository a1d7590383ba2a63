import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { etagOf, versionFromIfMatch } from '../../../platform/versioning.js';
import { contextOf, searchResult } from '../programs.common.js';
import { assertJsonBody } from '../programs.http.js';
import { ProductInput, RefParams, ServicePointInput, ServicePointPatch, ServicePointSearchQuery, StockInput } from '../programs.schemas.js';
import type { ServicePointService, ServicePointView } from './service-points.service.js';

const BASE = '/api/v2/ServicePoint';
const tags = ['ServicePoint'];
const read = { scope: 'program:read' };
const write = { scope: 'program:write' };

function withEtag(reply: FastifyReply, view: ServicePointView, status = 200) {
  return reply.code(status).header('etag', etagOf(view.version)).send(view);
}

/** Service points with their stock, and the products handed out in kind. */
export function servicePointRoutes(servicePoints: ServicePointService, publicUrl: string) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.post(BASE, { config: write, schema: { tags, summary: 'Create a service point', body: ServicePointInput } }, async (request, reply) => {
      const view = await servicePoints.create(contextOf(request), request.body);
      reply.header('location', `${BASE}/${view.code}`);
      return withEtag(reply, view, 201);
    });

    app.get(BASE, { config: read, schema: { tags, summary: 'Search service points', querystring: ServicePointSearchQuery } },
      async (request) => searchResult(request, publicUrl, BASE, await servicePoints.search(request.query)));

    app.get(`${BASE}/:ref`, { config: read, schema: { tags, summary: 'Read a service point (UUID or code) with its stock', params: RefParams } },
      async (request, reply) => withEtag(reply, await servicePoints.get(request.params.ref)));

    app.patch(`${BASE}/:ref`, {
      config: write, preValidation: async (request) => assertJsonBody(request),
      schema: { tags, summary: 'Change a service point (merge patch, If-Match required)', params: RefParams, body: ServicePointPatch },
    }, async (request, reply) => withEtag(reply, await servicePoints.update(contextOf(request), request.params.ref, versionFromIfMatch(request.headers['if-match']), request.body)));

    app.post(`${BASE}/:ref/stock`, { config: write, schema: { tags, summary: 'Record goods received (added to on hand)', params: RefParams, body: StockInput } },
      async (request, reply) => withEtag(reply, await servicePoints.receiveStock(contextOf(request), request.params.ref, request.body)));

    app.post('/api/v2/Product', { config: write, schema: { tags, summary: 'Create a product handed out in kind', body: ProductInput } },
      async (request, reply) => reply.code(201).send(await servicePoints.createProduct(contextOf(request), request.body)));

    app.get('/api/v2/Product', { config: read, schema: { tags, summary: 'Products' } }, async () => ({ items: await servicePoints.listProducts() }));
  };
}
