import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DciCallError } from '../client/transport.js';
import { AppError } from '../../../platform/errors.js';
import { VITAL_EVENTS, type CrvsService, type VitalEvent } from './crvs.service.js';

const admin = { scope: 'dci:admin' };
const Source = Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Data source code (default crvs_main)' }));

/** CRVS client actions and the notified vital events (scope dci:admin). */
export function crvsRoutes(crvs: CrvsService) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.post('/api/v2/DciCrvs/$verify-birth', {
      config: admin,
      schema: { tags: ['dci'], summary: 'Verify a birth against the CRVS by registration number', body: Type.Object({ registrationNumber: Type.String({ minLength: 1, maxLength: 100 }), idType: Type.Optional(Type.String({ maxLength: 50 })), source: Source }, { additionalProperties: false }) },
    }, async (request) => {
      const birth = await upstream(() => crvs.verifyBirth(request.body.registrationNumber, { code: request.body.source, idType: request.body.idType }));
      return birth ? { found: true, person: birth.person } : { found: false };
    });

    app.post('/api/v2/DciCrvs/$is-deceased', {
      config: admin,
      schema: { tags: ['dci'], summary: 'Whether the CRVS records a person as deceased', body: Type.Object({ idType: Type.String({ minLength: 1, maxLength: 50 }), value: Type.String({ minLength: 1, maxLength: 100 }), source: Source }, { additionalProperties: false }) },
    }, async (request) => ({ deceased: await upstream(() => crvs.isDeceased(request.body.idType, request.body.value, { code: request.body.source })) }));

    app.post('/api/v2/DciCrvs/$subscribe', {
      config: admin,
      schema: { tags: ['dci'], summary: 'Subscribe to CRVS vital events', body: Type.Object({ eventTypes: Type.Optional(Type.Array(Type.Union(Object.keys(VITAL_EVENTS).map((key) => Type.Literal(key))), { minItems: 1, maxItems: 4 })), source: Source }, { additionalProperties: false }) },
    }, async (request) => ({ subscriptions: await upstream(() => crvs.subscribe(request.body.eventTypes as VitalEvent[] | undefined, { code: request.body.source })) }));

    app.get('/api/v2/DciExternalEvent', {
      config: admin,
      schema: { tags: ['dci'], summary: 'Events notified by external registries and their processing state', querystring: Type.Object({ status: Type.Optional(Type.Union(['received', 'processing', 'processed', 'error'].map((value) => Type.Literal(value)))), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: false }) },
    }, async (request) => {
      const items = await crvs.listEvents({ status: request.query.status, limit: request.query.limit });
      return { resourceType: 'SearchResult', count: items.length, items };
    });

    app.post('/api/v2/DciExternalEvent/:id/$retry', {
      config: admin,
      schema: { tags: ['dci'], summary: 'Retry an event in error (back to received; the job processes it)', params: Type.Object({ id: Type.String({ format: 'uuid' }) }) },
    }, async (request) => crvs.retry({ actor: request.actor, requestId: String(request.id) }, request.params.id));
  };
}

/** A failing registry is a 503 with what failed (never a 500). */
export async function upstream<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DciCallError) throw new AppError('unavailable', `The registry call failed (${error.kind}): ${error.message}`, [], { failure: error.kind });
    throw error;
  }
}
