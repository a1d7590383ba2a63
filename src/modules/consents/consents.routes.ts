import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../platform/audit/audit.js';
import { AppError } from '../../platform/errors.js';
import { etagOf } from '../../platform/versioning.js';
import type { ConsentService, ConsentView } from './consents.service.js';
import { ConsentIdParams, ConsentInput, GiveInput, RefuseInput, RegistrantRefParams, WithdrawInput } from './consents.schemas.js';

const read = { scope: 'consent:read' };
const write = { scope: 'consent:write' };
const tags = ['Consent'];

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

function sendConsent(reply: FastifyReply, view: ConsentView, status = 200) {
  return reply.code(status).header('etag', etagOf(view.version)).send(view);
}

/**
 * Consents of registrants, FHIR-like: created under their Individual or Group, then read and moved
 * through their lifecycle as /api/v2/Consent/:id. There is no PATCH: terms never change.
 */
export function consentRoutes(consents: ConsentService) {
  return (app: FastifyInstance) => {
    for (const [kind, resource] of [['individual', 'Individual'], ['group', 'Group']] as const) {
      app.post(`/api/v2/${resource}/:ref/consents`, {
        config: write,
        schema: { tags, summary: `Record a consent of ${kind === 'individual' ? 'an individual' : 'a group'} (requested, or given with evidence)`, params: RegistrantRefParams, body: ConsentInput },
      }, async (request, reply) => {
        const { ref } = request.params as { ref: string };
        const created = await consents.create(contextOf(request), kind, ref, request.body as ConsentInput);
        reply.header('location', `/api/v2/Consent/${created.id}`);
        return sendConsent(reply, created, 201);
      });

      app.get(`/api/v2/${resource}/:ref/consents`, {
        config: read,
        schema: { tags, summary: `The consents of ${kind === 'individual' ? 'an individual' : 'a group'}, newest first`, params: RegistrantRefParams },
      }, async (request) => {
        const { ref } = request.params as { ref: string };
        return { items: await consents.listFor({ actor: request.actor, requestId: String(request.id) }, kind, ref) };
      });
    }

    app.get('/api/v2/Consent/:id', {
      config: read,
      schema: { tags, summary: 'Read a consent', params: ConsentIdParams },
    }, async (request, reply) => sendConsent(reply, await consents.get((request.params as { id: string }).id)));

    app.get('/api/v2/Consent/:id/_history', {
      config: read,
      schema: { tags, summary: 'Status changes of a consent, oldest first', params: ConsentIdParams },
    }, async (request) => ({ items: await consents.history((request.params as { id: string }).id) }));

    const transitions = [
      ['$give', 'Record that the registrant gave the requested consent (with evidence)', GiveInput, consents.give],
      ['$refuse', 'Record that the registrant refused the requested consent', RefuseInput, consents.refuse],
      ['$withdraw', 'Record that the registrant withdrew a given consent (with the reason)', WithdrawInput, consents.withdraw],
    ] as const;
    for (const [operation, summary, body, apply] of transitions) {
      app.post(`/api/v2/Consent/:id/${operation}`, {
        config: write,
        schema: { tags, summary, params: ConsentIdParams, body },
        // No body reads as {}: $refuse needs none, the others then name the field that is missing.
        preValidation: async (request) => { request.body ??= {}; },
      }, async (request, reply) => {
        const { id } = request.params as { id: string };
        return sendConsent(reply, await apply.call(consents, contextOf(request), id, request.body as never));
      });
    }

    // Said plainly rather than a bare 404: the terms of a consent are what the registrant agreed to.
    for (const method of ['PATCH', 'PUT'] as const) {
      app.route({
        method, url: '/api/v2/Consent/:id', config: write, schema: { hide: true },
        handler: async (_request, reply) => {
          reply.header('allow', 'GET');
          throw new AppError('method_not_allowed', 'The terms of a consent cannot change; record a new consent (and withdraw this one if it no longer applies)');
        },
      });
    }
  };
}
