import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { etagOf, versionFromIfMatch } from '../../../platform/versioning.js';
import { contextOf, searchResult, sendAccepted } from '../programs.common.js';
import { EnrolInput, IdParams, MembershipSearchQuery, ReasonInput, RefParams, SuspectSearchQuery, TransitionInput } from '../programs.schemas.js';
import type { EnrolmentService } from './enrolment.service.js';

const tags = ['ProgramMembership'];
const read = { scope: 'enrollment:read' };
const write = { scope: 'enrollment:write' };

/** Enrolment jobs, memberships and their transitions, and the review of suspected duplicates. */
export function enrolmentRoutes(enrolment: EnrolmentService, publicUrl: string) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    const emptyBody = { preValidation: async (request: { body: unknown }) => { request.body ??= {}; } };

    app.post('/api/v2/Program/:ref/$enrol', {
      config: write, ...emptyBody,
      schema: { tags, summary: 'Enrol the eligible (background job; re-running adds only new ones, then checks duplicates)', params: RefParams, body: EnrolInput },
    }, async (request, reply) => {
      const job = await enrolment.enqueueEnrol(contextOf(request), request.params.ref, request.body);
      return sendAccepted(reply, job, { job });
    });

    app.post('/api/v2/Program/:ref/$reverify', {
      config: write, ...emptyBody,
      schema: { tags, summary: 'Re-run the eligibility rule: flag members it no longer selects (background job)', params: RefParams, body: EnrolInput },
    }, async (request, reply) => {
      const job = await enrolment.enqueueReverify(contextOf(request), request.params.ref, request.body);
      return sendAccepted(reply, job, { job });
    });

    app.get('/api/v2/ProgramMembership', { config: read, schema: { tags, summary: 'Search a program\'s memberships (within your areas)', querystring: MembershipSearchQuery } },
      async (request) => searchResult(request, publicUrl, '/api/v2/ProgramMembership', await enrolment.search(request.actor, request.query)));

    app.get('/api/v2/ProgramMembership/:id', { config: read, schema: { tags, summary: 'Read a membership', params: IdParams } }, async (request, reply) => {
      const view = await enrolment.get(request.actor, request.params.id);
      return reply.header('etag', etagOf(view.version)).send(view);
    });

    app.get('/api/v2/ProgramMembership/:id/_history', { config: read, schema: { tags, summary: 'State changes of a membership with their reasons', params: IdParams } },
      async (request) => ({ items: await enrolment.history(request.actor, request.params.id) }));

    app.post('/api/v2/ProgramMembership/:id/$transition', {
      config: write, schema: { tags, summary: 'Move a membership to another state, with the reason (If-Match optional)', params: IdParams, body: TransitionInput },
    }, async (request, reply) => {
      const ifMatch = request.headers['if-match'];
      const view = await enrolment.transition(contextOf(request), request.params.id, ifMatch === undefined ? undefined : versionFromIfMatch(ifMatch), request.body);
      return reply.header('etag', etagOf(view.version)).send(view);
    });

    app.get('/api/v2/Program/:ref/duplicates', { config: read, schema: { tags, summary: 'Suspected duplicates to review', params: RefParams, querystring: SuspectSearchQuery } },
      async (request) => searchResult(request, publicUrl, `/api/v2/Program/${encodeURIComponent(request.params.ref)}/duplicates`, await enrolment.suspects(request.params.ref, request.query)));

    app.post('/api/v2/DuplicateSuspect/:id/$confirm', { config: write, schema: { tags, summary: 'Confirm: the later membership becomes duplicate', params: IdParams, body: ReasonInput } },
      async (request) => enrolment.confirmSuspect(contextOf(request), request.params.id, request.body.reason));

    app.post('/api/v2/DuplicateSuspect/:id/$clear', { config: write, schema: { tags, summary: 'Clear: not a duplicate (a draft membership is then enrolled)', params: IdParams, body: ReasonInput } },
      async (request) => enrolment.clearSuspect(contextOf(request), request.params.id, request.body.reason));
  };
}
