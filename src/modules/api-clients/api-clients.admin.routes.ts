import { Type } from 'typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../../platform/errors.js';
import { etagOf, versionFromIfMatch } from '../../platform/versioning.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import { LEGAL_BASES, RATE_LIMIT_RANGE, TOKEN_TTL_RANGE } from './api-client-settings.js';
import { MAX_SECRET_GRACE_SECONDS, type ApiClientService, type ApiClientView as ApiClientViewData } from './api-clients.service.js';

const BASE = '/api/v2/ApiClient';
const PATCH_TYPES = new Set(['application/merge-patch+json', 'application/json']);
const read = { scope: 'client:read' };
const write = { scope: 'client:write' };

const Code = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });
const nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(schema: T) => Type.Union([schema, Type.Null()]);
const settings = {
  legalBasis: Type.Optional(Type.Union(LEGAL_BASES.map((basis) => Type.Literal(basis)), { description: 'GDPR art. 6 legal basis the client processes personal data under' })),
  organisation: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 200 }))),
  organisationType: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 100 }))),
  areaCodes: Type.Optional(Type.Array(Code, { maxItems: 200, description: 'Areas (whole subtrees) the client is limited to; empty = everywhere' })),
  programCodes: Type.Optional(Type.Array(Code, { maxItems: 200, description: 'Programs the client is limited to; empty = all' })),
  rateLimitPerMinute: Type.Optional(nullable(Type.Integer(RATE_LIMIT_RANGE))),
  tokenTtlSeconds: Type.Optional(nullable(Type.Integer({ ...TOKEN_TTL_RANGE, description: 'Lifetime of its access tokens; null = the server default' }))),
};
const Scopes = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100 });

const ClientInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  scopes: Scopes,
  clientId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$' })),
  ...settings,
}, { additionalProperties: false });

const ClientPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  scopes: Type.Optional(Scopes),
  isActive: Type.Optional(Type.Boolean({ description: 'false: no new tokens (issued ones expire on their own)' })),
  ...settings,
}, { additionalProperties: false, description: 'JSON merge patch (RFC 7396); null clears an optional setting' });

const ClientIdParams = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
const RotateInput = Type.Object({
  graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SECRET_GRACE_SECONDS, description: 'How long the previous secret keeps working (default 86400 = 24 h; 0 = not at all)' })),
}, { additionalProperties: false });

const ClientView = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.String()),
  isActive: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  legalBasis: Type.String(),
  organisation: Type.Union([Type.String(), Type.Null()]),
  organisationType: Type.Union([Type.String(), Type.Null()]),
  areaCodes: Type.Array(Type.String()),
  programCodes: Type.Array(Type.String()),
  rateLimitPerMinute: Type.Union([Type.Integer(), Type.Null()]),
  tokenTtlSeconds: Type.Union([Type.Integer(), Type.Null()]),
  secretRotatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  previousSecretExpiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Until when the secret before the last rotation still works' }),
  version: Type.Integer(),
});
const ClientWithSecret = Type.Object({ ...ClientView.properties, clientSecret: Type.String({ description: 'Shown only in this response; store it safely' }) });

/** API clients for administrators: create, read, change, rotate the secret. */
export function apiClientAdminRoutes(service: ApiClientService) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.get(BASE, {
      config: read,
      schema: { tags: ['api-client'], summary: 'List API clients', response: { 200: Type.Object({ resourceType: Type.Literal('SearchResult'), count: Type.Integer(), items: Type.Array(ClientView) }) } },
    }, async () => {
      const items = await service.listClients();
      return { resourceType: 'SearchResult' as const, count: items.length, items };
    });

    app.post(BASE, {
      config: write,
      schema: { tags: ['api-client'], summary: 'Create an API client (its secret is shown once)', body: ClientInput, response: { 201: ClientWithSecret } },
    }, async (request, reply) => {
      const client = await service.createClient(contextOf(request), request.body);
      reply.code(201).header('location', `${BASE}/${encodeURIComponent(client.clientId)}`).header('cache-control', 'no-store');
      return withEtag(reply, client);
    });

    app.get(`${BASE}/:clientId`, {
      config: read,
      schema: { tags: ['api-client'], summary: 'Read an API client', params: ClientIdParams, response: { 200: ClientView } },
    }, async (request, reply) => withEtag(reply, await service.getClient(request.params.clientId)));

    app.patch(`${BASE}/:clientId`, {
      config: write,
      preValidation: async (request) => {
        const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (!contentType || !PATCH_TYPES.has(contentType)) throw new AppError('unsupported_media_type', 'Send the change as a JSON merge patch (Content-Type: application/merge-patch+json or application/json)');
      },
      schema: {
        tags: ['api-client'],
        summary: 'Change an API client (JSON merge patch)',
        description: 'Send `If-Match` with the ETag you read. New settings apply to tokens issued from now on.',
        params: ClientIdParams, body: ClientPatch, response: { 200: ClientView },
      },
    }, async (request, reply) => {
      const expectedVersion = versionFromIfMatch(request.headers['if-match']);
      return withEtag(reply, await service.updateClient(contextOf(request), request.params.clientId, expectedVersion, request.body));
    });

    app.post(`${BASE}/:clientId/$rotate-secret`, {
      config: write,
      // The body is optional: none means the default grace period.
      preValidation: async (request) => { request.body ??= {}; },
      schema: {
        tags: ['api-client'],
        summary: 'Issue a new client secret; the previous one keeps working for a grace period',
        params: ClientIdParams, body: RotateInput, response: { 200: ClientWithSecret },
      },
    }, async (request, reply) => {
      const client = await service.rotateSecret(contextOf(request), request.params.clientId, request.body.graceSeconds);
      reply.header('cache-control', 'no-store');
      return withEtag(reply, client);
    });
  };
}

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

function withEtag<T extends ApiClientViewData>(reply: FastifyReply, client: T): T {
  reply.header('etag', etagOf(client.version));
  return client;
}
