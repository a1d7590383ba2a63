import { Type } from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { JWK } from 'jose';
import { AppError } from '../../../platform/errors.js';
import { etagOf, versionFromIfMatch } from '../../../platform/versioning.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import { LEGAL_BASES, RATE_LIMIT_RANGE } from '../../api-clients/api-client-settings.js';
import { ENCRYPTION_POLICIES, SIGNATURE_POLICIES, type DciPartnerService, type PartnerView } from './partners.service.js';
import { SIGNATURE_STRATEGIES } from '../protocol/index.js';

const BASE = '/api/v2/DciPartner';
const admin = { scope: 'dci:admin' };
const PATCH_TYPES = new Set(['application/merge-patch+json', 'application/json']);

const Jwk = Type.Object({ kty: Type.String(), kid: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: true, description: 'A public JWK with its kid' });
const Credentials = Type.Object({
  tokenUrl: Type.Optional(Type.String({ maxLength: 2000 })),
  clientId: Type.Optional(Type.String({ maxLength: 500 })),
  clientSecret: Type.Optional(Type.String({ maxLength: 2000 })),
  bearerToken: Type.Optional(Type.String({ maxLength: 8000 })),
}, { additionalProperties: false, description: 'How we authenticate our callbacks to the partner; stored encrypted, never shown' });
const literals = (values: readonly string[]) => Type.Union(values.map((value) => Type.Literal(value)));

const settings = {
  signaturePolicy: Type.Optional(literals(SIGNATURE_POLICIES)),
  signatureStrategy: Type.Optional(literals(SIGNATURE_STRATEGIES)),
  publicKeys: Type.Optional(Type.Array(Jwk, { maxItems: 20 })),
  jwksUrl: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  allowedCallbackHosts: Type.Optional(Type.Array(Type.String({ maxLength: 260 }), { maxItems: 50 })),
  callbackCredentials: Type.Optional(Type.Union([Credentials, Type.Null()])),
  encryptionPolicy: Type.Optional(literals(ENCRYPTION_POLICIES)),
  encryptionKey: Type.Optional(Type.Union([Jwk, Type.Null()])),
  // Settings of the linked API client.
  scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 100 })),
  legalBasis: Type.Optional(literals(LEGAL_BASES)),
  organisation: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  organisationType: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  areaCodes: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 200 })),
  rateLimitPerMinute: Type.Optional(Type.Integer(RATE_LIMIT_RANGE)),
};

const PartnerInput = Type.Object({
  senderId: Type.String({ minLength: 1, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Link this existing API client; without it one is created' })),
  ...settings,
}, { additionalProperties: false });

const PartnerPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  isActive: Type.Optional(Type.Boolean()),
  ...settings,
}, { additionalProperties: false, description: 'JSON merge patch (RFC 7396); null clears jwksUrl, callbackCredentials or encryptionKey' });

const PartnerViewSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  senderId: Type.String(),
  name: Type.String(),
  clientId: Type.String(),
  signaturePolicy: Type.String(),
  signatureStrategy: Type.String(),
  publicKeys: Type.Array(Type.Object({}, { additionalProperties: true })),
  jwksUrl: Type.Union([Type.String(), Type.Null()]),
  allowedCallbackHosts: Type.Array(Type.String()),
  hasCallbackCredentials: Type.Boolean(),
  encryptionPolicy: Type.String(),
  encryptionKey: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  isActive: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
});
const Created = Type.Object({ ...PartnerViewSchema.properties, clientSecret: Type.Optional(Type.String({ description: 'Secret of the API client created with the partner: shown only in this response' })) });
const Params = Type.Object({ senderId: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

/** DCI partners for administrators (scope dci:admin): onboard, read, change. */
export function dciPartnerRoutes(service: DciPartnerService) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.get(BASE, {
      config: admin,
      schema: { tags: ['dci'], summary: 'List DCI partners', response: { 200: Type.Object({ resourceType: Type.Literal('SearchResult'), count: Type.Integer(), items: Type.Array(PartnerViewSchema) }) } },
    }, async () => {
      const items = await service.list();
      return { resourceType: 'SearchResult' as const, count: items.length, items };
    });

    app.post(BASE, {
      config: admin,
      schema: { tags: ['dci'], summary: 'Onboard a DCI partner (and its API client, unless clientId links one)', body: PartnerInput, response: { 201: Created } },
    }, async (request, reply) => {
      const body = request.body;
      const partner = await service.create(contextOf(request), { ...body, publicKeys: body.publicKeys as JWK[] | undefined, encryptionKey: body.encryptionKey as JWK | null | undefined });
      reply.code(201).header('location', `${BASE}/${encodeURIComponent(partner.senderId)}`).header('cache-control', 'no-store').header('etag', etagOf(partner.version));
      return partner;
    });

    app.get(`${BASE}/:senderId`, {
      config: admin,
      schema: { tags: ['dci'], summary: 'Read a DCI partner', params: Params, response: { 200: PartnerViewSchema } },
    }, async (request, reply) => withEtag(reply, await service.get(request.params.senderId)));

    app.patch(`${BASE}/:senderId`, {
      config: admin,
      preValidation: async (request) => {
        const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (!contentType || !PATCH_TYPES.has(contentType)) throw new AppError('unsupported_media_type', 'Send the change as a JSON merge patch (Content-Type: application/merge-patch+json or application/json)');
      },
      schema: { tags: ['dci'], summary: 'Change a DCI partner (JSON merge patch; send If-Match with the ETag you read)', params: Params, body: PartnerPatch, response: { 200: PartnerViewSchema } },
    }, async (request, reply) => {
      const expectedVersion = versionFromIfMatch(request.headers['if-match']);
      const body = request.body;
      const view = await service.update(contextOf(request), request.params.senderId, expectedVersion, { ...body, publicKeys: body.publicKeys as JWK[] | undefined, encryptionKey: body.encryptionKey as JWK | null | undefined });
      return withEtag(reply, view);
    });
  };
}

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

function withEtag(reply: { header(name: string, value: string): unknown }, view: PartnerView): PartnerView {
  reply.header('etag', etagOf(view.version));
  return view;
}
