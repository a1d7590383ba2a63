import { Type } from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { JWK } from 'jose';
import { AppError } from '../../../platform/errors.js';
import { etagOf, versionFromIfMatch } from '../../../platform/versioning.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import type { Db } from '../../../platform/database/database.js';
import { SIGNATURE_STRATEGIES } from '../protocol/index.js';
import { AUTH_TYPES, OPERATIONS, REGISTRY_TYPES, type DciDataSourceService, type DataSourceSettings } from './data-sources.service.js';
import * as repository from './data-sources.repository.js';
import type { ConnectionReport } from '../client/test-connection.js';

const BASE = '/api/v2/DciDataSource';
const admin = { scope: 'dci:admin' };
const literals = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)));
const Jwk = Type.Object({ kty: Type.String(), kid: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: true });
const Url = Type.String({ minLength: 1, maxLength: 2000 });
const nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const settings = {
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  registryType: Type.Optional(literals(REGISTRY_TYPES)),
  baseUrl: Type.Optional(Url),
  paths: Type.Optional(Type.Record(Type.String({ maxLength: 40 }), Type.String({ maxLength: 2000 }), { description: `Path overrides by operation (${OPERATIONS.join(', ')})` })),
  authType: Type.Optional(literals(AUTH_TYPES)),
  oauthClientId: Type.Optional(nullable(Type.String({ maxLength: 500 }))),
  clientSecret: Type.Optional(nullable(Type.String({ maxLength: 2000, description: 'Stored encrypted, never shown' }))),
  bearerToken: Type.Optional(nullable(Type.String({ maxLength: 8000, description: 'Stored encrypted, never shown' }))),
  ourSenderId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  receiverId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  signatureStrategy: Type.Optional(literals(SIGNATURE_STRATEGIES)),
  signingKey: Type.Optional(Type.Union([Type.Object({ kty: Type.String(), kid: Type.String(), d: Type.String() }, { additionalProperties: true }), Type.Null()], { description: 'Our own private signing JWK for this registry (encrypted); null = our DCI key' })),
  jwksUrl: Type.Optional(nullable(Url)),
  publicKeys: Type.Optional(Type.Array(Jwk, { maxItems: 20 })),
  requireSignedResponses: Type.Optional(Type.Boolean()),
  callbackUrl: Type.Optional(nullable(Url)),
  callbackClientId: Type.Optional(nullable(Type.String({ maxLength: 200 }))),
  verifyTls: Type.Optional(Type.Boolean()),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 300_000 })),
  isActive: Type.Optional(Type.Boolean()),
};

const Input = Type.Object({
  ...settings,
  code: Type.String({ minLength: 1, maxLength: 64 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  registryType: literals(REGISTRY_TYPES),
  baseUrl: Url,
  ourSenderId: Type.String({ minLength: 1, maxLength: 200 }),
  receiverId: Type.String({ minLength: 1, maxLength: 200 }),
  createCallbackClient: Type.Optional(Type.Boolean({ description: 'Create the API client (scope dci:callback) the registry uses to call us; its secret is returned once' })),
}, { additionalProperties: false });
const Patch = Type.Object(settings, { additionalProperties: false });
const Params = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const View = Type.Object({ id: Type.String(), code: Type.String() }, { additionalProperties: true });
const CallQuery = Type.Object({
  source: Type.Optional(Type.String({ maxLength: 64 })),
  outcome: Type.Optional(Type.String({ maxLength: 20 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
}, { additionalProperties: false });

/** Data sources (external registries we call) and the outgoing call log, for administrators (dci:admin). */
export function dciDataSourceRoutes(db: Db, service: DciDataSourceService, test: (code: string) => Promise<ConnectionReport>) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.get(BASE, { config: admin, schema: { tags: ['dci'], summary: 'List DCI data sources (registries we call)' } }, async () => {
      const items = await service.list();
      return { resourceType: 'SearchResult', count: items.length, items };
    });

    app.post(BASE, { config: admin, schema: { tags: ['dci'], summary: 'Create a DCI data source (secrets stored encrypted)', body: Input, response: { 201: View } } }, async (request, reply) => {
      const view = await service.create(contextOf(request), request.body as never);
      reply.code(201).header('location', `${BASE}/${view.code}`).header('etag', etagOf(view.version)).header('cache-control', 'no-store');
      return view;
    });

    app.get(`${BASE}/:code`, { config: admin, schema: { tags: ['dci'], summary: 'Read a DCI data source', params: Params } }, async (request, reply) => {
      const view = await service.get(request.params.code);
      reply.header('etag', etagOf(view.version));
      return view;
    });

    app.patch(`${BASE}/:code`, {
      config: admin,
      preValidation: async (request) => {
        const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (contentType !== 'application/json' && contentType !== 'application/merge-patch+json') throw new AppError('unsupported_media_type', 'Send a JSON merge patch');
      },
      schema: { tags: ['dci'], summary: 'Change a DCI data source (JSON merge patch, If-Match)', params: Params, body: Patch },
    }, async (request, reply) => {
      const view = await service.update(contextOf(request), request.params.code, versionFromIfMatch(request.headers['if-match']), request.body as DataSourceSettings & { signingKey?: JWK | null; publicKeys?: JWK[] });
      reply.header('etag', etagOf(view.version));
      return view;
    });

    app.post(`${BASE}/:code/$test`, { config: admin, schema: { tags: ['dci'], summary: 'Test the connection: reach (DNS, TLS), auth, keys, a signed request (signature, schema)', params: Params } }, async (request) => {
      return test(request.params.code);
    });

    app.get('/api/v2/DciOutgoingCall', { config: admin, schema: { tags: ['dci'], summary: 'The outgoing DCI call log (no personal data)', querystring: CallQuery } }, async (request) => {
      const sourceId = request.query.source ? await service.rowIdOf(request.query.source) : undefined;
      const rows = await repository.listCalls(db, { sourceId, outcome: request.query.outcome, limit: request.query.limit ?? 100 });
      const codes = new Map((await repository.listSources(db)).map((row) => [row.id, row.code]));
      const items = rows.map((row) => ({
        id: row.uuid, source: codes.get(row.sourceId), operation: row.operation, url: row.url, transactionId: row.transactionId, messageId: row.messageId,
        outcome: row.outcome, httpStatus: row.httpStatus, attempts: row.attempts, durationMs: row.durationMs, summary: row.summary, error: row.error, at: row.createdAt.toISOString(),
      }));
      return { resourceType: 'SearchResult', count: items.length, items };
    });
  };
}

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}
