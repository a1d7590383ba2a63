import { Type, type Static, type TSchema } from 'typebox';
import { pageLink, queryAsSent } from '../../platform/http/page-links.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RequestContext } from '../../platform/audit/audit.js';
import { AppError } from '../../platform/errors.js';
import { etagOf, versionFromIfMatch } from '../../platform/versioning.js';
import type { CodePageQuery, VocabularyService } from './vocabularies.service.js';

const BASE = '/api/v2/Vocabulary';
const READ = { scope: 'vocabulary:read' };
const WRITE = { scope: 'vocabulary:write' };
const tags = ['vocabulary'];

const Code = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', maxLength: 64, description: 'Letters, digits and . _ - (at most 64), starting with a letter or digit' });
const Label = Type.String({ minLength: 1, maxLength: 200 });
const Timestamp = Type.String({ format: 'date-time' });

const PropertyValue = Type.Union([Type.String({ maxLength: 500 }), Type.Number(), Type.Boolean()]);
const Properties = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }), PropertyValue, {
  maxProperties: 20,
  additionalProperties: false,
  description: 'Code-specific data; for id types `system` (namespace URI) and optional `pattern` (regular expression)',
});

const VocabularyParams = Type.Object({ code: Code });
const CodeParams = Type.Object({ code: Code, codeValue: Code });

const CodeQuery = Type.Object({
  _count: Type.Integer({ minimum: 1, maximum: 1000, default: 500, description: 'Codes per page' }),
  // No maxLength here: every bad cursor, too long included, is refused alike (400 unknown_parameter).
  _cursor: Type.Optional(Type.String({ description: 'Where the page starts: follow `links.next` rather than building it' })),
  code: Type.Optional(Type.String({ maxLength: 64, description: 'Only codes starting with this' })),
  label: Type.Optional(Type.String({ maxLength: 100, description: 'Only codes whose label contains this (any case)' })),
  active: Type.Optional(Type.Boolean({ description: 'Only active (true) or inactive (false) codes' })),
}, { additionalProperties: false });

const VocabularyView = Type.Object({
  code: Type.String(),
  namespaceUri: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  isSystem: Type.Boolean(),
  version: Type.Integer(),
  codeCount: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const CodeView = Type.Object({
  vocabulary: Type.String(),
  code: Type.String(),
  label: Type.String(),
  properties: Type.Object({}, { additionalProperties: true }),
  isLocal: Type.Boolean(),
  isActive: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const Links = Type.Object({
  self: Type.String({ format: 'uri', description: 'This page' }),
  next: Type.Optional(Type.String({ format: 'uri', description: 'The following page, with the same filters; absent on the last page' })),
});

/** The paging shape of every search in the API (see `SearchPage` of the registry search). */
const searchResult = <T extends TSchema>(item: T) => Type.Object({
  resourceType: Type.Literal('SearchResult'),
  count: Type.Integer({ description: 'Items on this page' }),
  items: Type.Array(item),
  links: Links,
});
const CodePage = searchResult(CodeView);
const VocabularyList = searchResult(VocabularyView);

const NewVocabulary = Type.Object({
  code: Code,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  namespaceUri: Type.Optional(Type.String({ maxLength: 300, pattern: '^[A-Za-z][A-Za-z0-9+.-]*:\\S+$', description: 'Defaults to urn:commonweal:local:vocabulary:<code>' })),
}, { additionalProperties: false });

const NewCode = Type.Object({ code: Code, label: Label, properties: Type.Optional(Properties) }, { additionalProperties: false });
const CodePatch = Type.Object({ label: Type.Optional(Label) }, { additionalProperties: false });

const contextOf = (request: FastifyRequest): RequestContext => ({ actor: request.actor, requestId: String(request.id) });
const pageQueryOf = (query: { _count: number; _cursor?: string; code?: string; label?: string; active?: boolean }): CodePageQuery =>
  ({ count: query._count, cursor: query._cursor, codePrefix: query.code, labelContains: query.label, active: query.active });
/** The server also parses form bodies; a patch must be JSON (merge patch, or plain JSON read as one). */
const PATCH_TYPES = new Set(['application/merge-patch+json', 'application/json']);
const requireJsonPatch = async (request: FastifyRequest) => {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (!type || !PATCH_TYPES.has(type)) throw new AppError('unsupported_media_type', 'Send the change as a JSON merge patch (Content-Type: application/merge-patch+json or application/json)');
};
const codeUrl = (vocabulary: string, code: string) => `${BASE}/${encodeURIComponent(vocabulary)}/codes/${encodeURIComponent(code)}`;
const codesPath = (vocabulary: string) => `${BASE}/${encodeURIComponent(vocabulary)}/codes`;

/** `self` is the page asked for; `next` the following page of `/codes` with the same filters. */
function codeLinks(publicUrl: string, request: FastifyRequest, selfPath: string, vocabulary: string, cursor: string | undefined, nextCursor: string | null): Static<typeof Links> {
  const links: Static<typeof Links> = { self: pageLink(`${publicUrl}${selfPath}`, queryAsSent(request.url), cursor) };
  if (nextCursor !== null) links.next = pageLink(`${publicUrl}${codesPath(vocabulary)}`, queryAsSent(request.url), nextCursor);
  return links;
}

/**
 * Code lists (FHIR-like `Vocabulary` resource): read by everyone who codes data, extended locally.
 * `publicUrl` is the configured public base URL, from which paged answers build their absolute `links`.
 */
export function vocabularyRoutes(service: VocabularyService, publicUrl: string) {
  return (fastify: FastifyInstance) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(BASE, {
      config: READ,
      schema: { tags, summary: 'List vocabularies (all of them, on one page)', response: { 200: VocabularyList } },
    }, async () => {
      const items = await service.listVocabularies();
      return { resourceType: 'SearchResult' as const, count: items.length, items, links: { self: `${publicUrl}${BASE}` } };
    });

    app.get(`${BASE}/:code`, {
      config: READ,
      schema: {
        tags, summary: 'Read a vocabulary with (a page of) its codes', params: VocabularyParams, querystring: CodeQuery,
        description: '`links.next`, when there are more codes, is the following page of `GET /{code}/codes` with the same filters.',
        response: { 200: Type.Object({ ...VocabularyView.properties, codes: CodePage.properties.items, links: Links }) },
      },
    }, async (request, reply) => {
      const vocabulary = await service.getVocabulary(request.params.code);
      const page = await service.listCodes(vocabulary.code, pageQueryOf(request.query));
      reply.header('etag', etagOf(vocabulary.version));
      const selfPath = `${BASE}/${encodeURIComponent(vocabulary.code)}`;
      return { ...vocabulary, codes: page.items, links: codeLinks(publicUrl, request, selfPath, vocabulary.code, request.query._cursor, page.nextCursor) };
    });

    app.get(`${BASE}/:code/codes`, {
      config: READ,
      schema: {
        tags, summary: 'Page through the codes of a vocabulary', description: 'Ordered by code; follow `links.next` for the following page.',
        params: VocabularyParams, querystring: CodeQuery, response: { 200: CodePage },
      },
    }, async (request) => {
      const page = await service.listCodes(request.params.code, pageQueryOf(request.query));
      const code = request.params.code;
      return {
        resourceType: 'SearchResult' as const, count: page.items.length, items: page.items,
        links: codeLinks(publicUrl, request, codesPath(code), code, request.query._cursor, page.nextCursor),
      };
    });

    app.get(`${BASE}/:code/codes/:codeValue`, {
      config: READ,
      schema: { tags, summary: 'Read one code', params: CodeParams, response: { 200: CodeView } },
    }, async (request, reply) => {
      const code = await service.getCode(request.params.code, request.params.codeValue);
      reply.header('etag', etagOf(code.version));
      return code;
    });

    app.post(BASE, {
      config: WRITE,
      schema: { tags, summary: 'Create a local vocabulary', body: NewVocabulary, response: { 201: VocabularyView } },
    }, async (request, reply) => {
      const vocabulary = await service.createVocabulary(contextOf(request), request.body);
      return reply.code(201).header('location', `${BASE}/${encodeURIComponent(vocabulary.code)}`).header('etag', etagOf(vocabulary.version)).send(vocabulary);
    });

    app.post(`${BASE}/:code/codes`, {
      config: WRITE,
      schema: { tags, summary: 'Add a local code to a vocabulary', params: VocabularyParams, body: NewCode, response: { 201: CodeView } },
    }, async (request, reply) => {
      const code = await service.addLocalCode(contextOf(request), request.params.code, request.body);
      return reply.code(201).header('location', codeUrl(code.vocabulary, code.code)).header('etag', etagOf(code.version)).send(code);
    });

    app.patch(`${BASE}/:code/codes/:codeValue`, {
      config: WRITE,
      preValidation: requireJsonPatch,
      schema: {
        tags, summary: 'Change the label of a local code (JSON merge patch; If-Match required)',
        description: 'Content type application/merge-patch+json or application/json. System codes cannot be changed (422).',
        params: CodeParams, body: CodePatch, response: { 200: CodeView },
      },
    }, async (request, reply) => {
      const expected = versionFromIfMatch(request.headers['if-match']);
      const code = await service.patchLocalCode(contextOf(request), request.params.code, request.params.codeValue, request.body, expected);
      reply.header('etag', etagOf(code.version));
      return code;
    });

    for (const [action, isActive] of [['deactivate', false], ['activate', true]] as const) {
      app.post(`${BASE}/:code/codes/:codeValue/$${action}`, {
        config: WRITE,
        schema: {
          tags, summary: `${action === 'deactivate' ? 'Deactivate' : 'Reactivate'} a local code (If-Match optional)`,
          description: 'An inactive code is refused for new data; records holding it keep it. System codes cannot be deactivated (422).',
          params: CodeParams, response: { 200: CodeView },
        },
      }, async (request, reply) => {
        const ifMatch = request.headers['if-match'];
        const expected = ifMatch === undefined ? undefined : versionFromIfMatch(ifMatch);
        const code = await service.setLocalCodeActive(contextOf(request), request.params.code, request.params.codeValue, isActive, expected);
        reply.header('etag', etagOf(code.version));
        return code;
      });
    }
  };
}
