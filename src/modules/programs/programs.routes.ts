import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { etagOf, versionFromIfMatch } from '../../platform/versioning.js';
import { contextOf, searchResult } from './programs.common.js';
import { FundsInput, ProgramInput, ProgramPatch, ProgramSearchQuery, RefParams } from './programs.schemas.js';
import type { ProgramService, ProgramView } from './programs.service.js';
import type { Db } from '../../platform/database/database.js';
import { programFigures } from './figures.js';
import { assertJsonBody } from './programs.http.js';

const BASE = '/api/v2/Program';
const tags = ['Program'];
const read = { scope: 'program:read' };
const write = { scope: 'program:write' };

function withEtag(reply: FastifyReply, view: ProgramView, status = 200) {
  return reply.code(status).header('etag', etagOf(view.version)).send(view);
}

/** Programs: define (eligibility, entitlements, dedup), fund, activate, end; search and figures. */
export function programRoutes(programs: ProgramService, db: Db, publicUrl: string) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.post(BASE, { config: write, schema: { tags, summary: 'Create a program (draft); its rules are type-checked', body: ProgramInput } }, async (request, reply) => {
      const view = await programs.create(contextOf(request), request.body);
      reply.header('location', `${BASE}/${view.id}`);
      return withEtag(reply, view, 201);
    });

    app.get(BASE, { config: read, schema: { tags, summary: 'Search programs', querystring: ProgramSearchQuery } },
      async (request) => searchResult(request, publicUrl, BASE, await programs.search(request.query)));

    app.get(`${BASE}/:ref`, { config: read, schema: { tags, summary: 'Read a program (by UUID or code), with its funds', params: RefParams } },
      async (request, reply) => withEtag(reply, await programs.get(request.params.ref)));

    app.patch(`${BASE}/:ref`, {
      config: write, preValidation: async (request) => assertJsonBody(request),
      schema: { tags, summary: 'Change a program (merge patch, If-Match required)', params: RefParams, body: ProgramPatch },
    }, async (request, reply) => withEtag(reply, await programs.update(contextOf(request), request.params.ref, versionFromIfMatch(request.headers['if-match']), request.body)));

    app.post(`${BASE}/:ref/$activate`, { config: write, schema: { tags, summary: 'Activate a draft program', params: RefParams } },
      async (request, reply) => withEtag(reply, await programs.activate(contextOf(request), request.params.ref)));

    app.post(`${BASE}/:ref/$end`, { config: write, schema: { tags, summary: 'End an active program', params: RefParams } },
      async (request, reply) => withEtag(reply, await programs.end(contextOf(request), request.params.ref)));

    app.post(`${BASE}/:ref/funds`, { config: write, schema: { tags, summary: 'Deposit funds (added to the running balance)', params: RefParams, body: FundsInput } },
      async (request, reply) => withEtag(reply, await programs.deposit(contextOf(request), request.params.ref, request.body), 201));

    app.get(`${BASE}/:ref/$figures`, { config: read, schema: { tags, summary: 'Figures for the dashboard: memberships by state and area, amounts planned/approved/paid per cycle, funds', params: RefParams } },
      async (request) => programFigures(db, programs, request.params.ref));
  };
}
