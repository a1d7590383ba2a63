import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { etagOf } from '../../../platform/versioning.js';
import { contextOf, searchResult, sendAccepted } from '../programs.common.js';
import { CycleInput, CycleSearchQuery, EntitlementSearchQuery, IdParams, RefParams } from '../programs.schemas.js';
import type { CycleService, CycleView } from './cycles.service.js';

const tags = ['Cycle'];

function withEtag(reply: FastifyReply, view: CycleView, status = 200) {
  return reply.code(status).header('etag', etagOf(view.version)).send(view);
}

/** Cycles (create, prepare entitlements, approve, end) and their entitlements. */
export function cycleRoutes(cyclesService: CycleService, publicUrl: string) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    const emptyBody = { preValidation: async (request: { body: unknown }) => { request.body ??= {}; } };

    app.post('/api/v2/Program/:ref/cycles', { config: { scope: 'program:write' }, schema: { tags, summary: 'Create a cycle (draft)', params: RefParams, body: CycleInput } }, async (request, reply) => {
      const view = await cyclesService.create(contextOf(request), request.params.ref, request.body);
      reply.header('location', `/api/v2/Cycle/${view.id}`);
      return withEtag(reply, view, 201);
    });

    app.get('/api/v2/Cycle', { config: { scope: 'program:read' }, schema: { tags, summary: 'A program\'s cycles', querystring: CycleSearchQuery } },
      async (request) => searchResult(request, publicUrl, '/api/v2/Cycle', await cyclesService.search(request.query)));

    app.get('/api/v2/Cycle/:id', { config: { scope: 'program:read' }, schema: { tags, summary: 'Read a cycle', params: IdParams } },
      async (request, reply) => withEtag(reply, await cyclesService.get(request.params.id)));

    app.post('/api/v2/Cycle/:id/$next', { config: { scope: 'program:write' }, schema: { tags, summary: 'Create the following cycle of a recurring one', params: IdParams } }, async (request, reply) => {
      const view = await cyclesService.createNext(contextOf(request), request.params.id);
      reply.header('location', `/api/v2/Cycle/${view.id}`);
      return withEtag(reply, view, 201);
    });

    app.post('/api/v2/Cycle/:id/$prepare', { config: { scope: 'entitlement:write' }, ...emptyBody, schema: { tags, summary: 'Compute the entitlements (background job); you become the preparer', params: IdParams } }, async (request, reply) => {
      const { job, cycle } = await cyclesService.enqueuePrepare(contextOf(request), request.params.id);
      return sendAccepted(reply, job, { job, cycle });
    });

    app.post('/api/v2/Cycle/:id/$approve', { config: { scope: 'entitlement:approve' }, ...emptyBody, schema: { tags, summary: 'Approve the entitlements (not your own; within funds and stock); freezes the list', params: IdParams } },
      async (request, reply) => withEtag(reply, await cyclesService.approve(contextOf(request), request.params.id)));

    app.post('/api/v2/Cycle/:id/$end', { config: { scope: 'program:write' }, ...emptyBody, schema: { tags, summary: 'End an approved or distributed cycle', params: IdParams } },
      async (request, reply) => withEtag(reply, await cyclesService.end(contextOf(request), request.params.id)));

    app.get('/api/v2/Entitlement', { config: { scope: 'entitlement:read' }, schema: { tags: ['Entitlement'], summary: 'A cycle\'s entitlements', querystring: EntitlementSearchQuery } },
      async (request) => searchResult(request, publicUrl, '/api/v2/Entitlement', await cyclesService.searchEntitlements(request.query)));

    app.get('/api/v2/Entitlement/:id', { config: { scope: 'entitlement:read' }, schema: { tags: ['Entitlement'], summary: 'Read an entitlement', params: IdParams } },
      async (request) => cyclesService.getEntitlement(request.params.id));
  };
}
