import { Type, type Static } from 'typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../platform/audit/audit.js';
import { hasScope } from '../../platform/auth/access-tokens.js';
import { AppError } from '../../platform/errors.js';
import { pageLink } from '../../platform/http/page-links.js';
import { requiresConsent, CONSENT_STATUS_HEADER } from '../consents/consent-filter.js';
import type { RegistrantRelease } from '../consents/registrant-release.js';
import type { RegistrantKind } from '../registry/registry.tables.js';
import { ruleSubjects } from './rules.types.js';
import type { RuleInput, RuleService } from './rules.service.js';

const Position = Type.Object({ offset: Type.Integer(), line: Type.Integer(), column: Type.Integer() });
const common = {
  expression: Type.String({ minLength: 1, maxLength: 10_000, description: 'CEL expression, e.g. age >= 60 && in_area("PH-R07")' }),
  at: Type.Optional(Type.String({ maxLength: 40, description: 'Evaluation instant (RFC 3339); default now' })),
  timeZone: Type.Optional(Type.String({ maxLength: 64, description: 'IANA time zone of `today` and `age`; default UTC' })),
  constants: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), Type.Union([Type.Number(), Type.String({ maxLength: 200 }), Type.Boolean()]), { description: 'Constant overrides by variable code' })),
};
const RuleBody = Type.Object({ ...common, subject: Type.Union(ruleSubjects.map((subject) => Type.Literal(subject))) }, { additionalProperties: false });
const QueryBody = Type.Object(common, { additionalProperties: false });
const QueryParameters = Type.Object({
  _count: Type.Optional(Type.String({ pattern: '^\\d{1,4}$', description: 'Page size, default 20, max 100' })),
  _cursor: Type.Optional(Type.String({ maxLength: 300 })),
  _total: Type.Optional(Type.String({ enum: ['accurate', 'none'] })),
}, { additionalProperties: false });
const SymbolsQuery = Type.Object({ subject: Type.Union(ruleSubjects.map((subject) => Type.Literal(subject))) }, { additionalProperties: false });

const problemNote = 'A 400 problem lists each error of the expression in `errors[]` with `kind`, `message`, `expected` and `position` {offset, line, column}.';

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

/**
 * Previews and queries return personal data: only actors who may read that kind of registrant, and
 * not clients processing under consent (a rule over fields they may not see would tell their values).
 */
function assertMayQuery(request: FastifyRequest, kind: RegistrantKind): void {
  if (!hasScope(request.actor.scopes, `${kind}:read`)) throw new AppError('forbidden', `Previewing ${kind} rules needs the ${kind}:read scope`);
  if (requiresConsent(request.actor)) throw new AppError('forbidden', 'Clients processing under consent cannot select registrants by rule');
}

/** /api/v2/rules/* (the language) and /api/v2/{Individual,Group}/$query (registry search by expression). */
export function ruleRoutes(rules: RuleService, release: Pick<RegistrantRelease, 'page'>, publicUrl: string) {
  return (app: FastifyInstance) => {
    const tags = ['Rules'];

    app.post('/api/v2/rules/validate', {
      config: { scope: 'rule:read' },
      schema: {
        tags, summary: 'Type-check an expression', description: `Answers the result type. ${problemNote}`, body: RuleBody,
        response: { 200: Type.Object({ valid: Type.Boolean(), subject: Type.String(), type: Type.String() }) },
      },
    }, async (request) => rules.validate(request.body as RuleInput));

    app.post('/api/v2/rules/preview', {
      config: { scope: 'rule:read' },
      schema: { tags, summary: 'Count the matches of a rule and show the first page, within your areas', description: problemNote, body: RuleBody },
    }, async (request, reply) => {
      const input = request.body as RuleInput;
      assertMayQuery(request, input.subject);
      const preview = await rules.preview(request.actor, input);
      const { body, consentStatus } = await release.page(contextOf(request), preview);
      return reply.header(CONSENT_STATUS_HEADER, consentStatus).send(body);
    });

    app.get('/api/v2/rules/symbols', {
      config: { scope: 'rule:read' },
      schema: { tags, summary: 'What an expression may use (fields, relations, variables, functions), for autocomplete', querystring: SymbolsQuery },
    }, async (request) => rules.symbols((request.query as Static<typeof SymbolsQuery>).subject));

    for (const kind of ['individual', 'group'] as const) {
      const base = `/api/v2/${kind === 'individual' ? 'Individual' : 'Group'}`;
      app.post(`${base}/$query`, {
        config: { scope: `${kind}:read` },
        schema: {
          tags: [kind === 'individual' ? 'Individual' : 'Group'],
          summary: `Search ${kind}s by a rule expression`,
          description: `Same result shape, masking and consent filtering as GET ${base}; follow links.next with the same body. ${problemNote}`,
          body: QueryBody, querystring: QueryParameters,
        },
      }, async (request, reply) => {
        assertMayQuery(request, kind);
        const query = request.query as Static<typeof QueryParameters>;
        const count = query._count === undefined ? 20 : Number(query._count);
        if (count < 1 || count > 100) throw new AppError('unknown_parameter', 'Search parameter _count must be an integer from 1 to 100', [{ path: 'query:/_count', message: 'must be an integer from 1 to 100' }]);
        const result = await rules.query(request.actor, { ...(request.body as Omit<RuleInput, 'subject'>), subject: kind }, {
          count, ...(query._cursor ? { cursor: query._cursor } : {}), total: query._total === 'accurate',
        });
        const url = `${publicUrl}${base}/$query`;
        const page = {
          resourceType: 'SearchResult' as const,
          ...(result.total !== undefined ? { total: result.total } : {}),
          count: result.page.items.length,
          items: result.page.items,
          links: { self: pageLink(url, query, query._cursor), ...(result.next ? { next: pageLink(url, query, result.next) } : {}) },
        };
        const { body, consentStatus } = await release.page(contextOf(request), page);
        return reply.header(CONSENT_STATUS_HEADER, consentStatus).send(body);
      });
    }
  };
}

export { Position };
