import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { upstream } from '../crvs/crvs.routes.js';
import type { IbrService } from '../ibr/ibr.service.js';
import type { DrService } from './dr.service.js';

const admin = { scope: 'dci:admin' };
const Registrant = Type.Object({ registrant: Type.String({ minLength: 1, maxLength: 200, description: 'UUID or idtype|value' }) }, { additionalProperties: false });

/** IBR duplicate check and DR disability look-ups / refresh (scope dci:admin). */
export function ibrDrRoutes(ibr: IbrService, dr: DrService) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();
    app.post('/api/v2/DciIbr/$check-duplication', { config: admin, schema: { tags: ['dci'], summary: 'Is this registrant already enrolled elsewhere (IBR)?', body: Registrant } },
      async (request) => upstream(() => ibr.checkDuplication(request.body.registrant)));
    app.post('/api/v2/DciDr/$disability-status', { config: admin, schema: { tags: ['dci'], summary: "A registrant's disability status and Washington Group scores (DR)", body: Registrant } },
      async (request) => ({ status: await upstream(() => dr.getDisabilityStatus(request.body.registrant)) }));
    app.post('/api/v2/DciDr/$sync', {
      config: admin,
      schema: { tags: ['dci'], summary: 'Refresh stored disability data of registrants from the DR (background job)', body: Type.Object({ registrants: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }) },
    }, async (request, reply) => {
      const job = await dr.enqueueSync({ actor: request.actor, requestId: String(request.id) }, request.body.registrants);
      reply.code(202).header('location', `/api/v2/Job/${job.id}`);
      return job;
    });
  };
}
