import { Type, type Static } from 'typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../platform/audit/audit.js';
import { etagOf, versionFromIfMatch } from '../../platform/versioning.js';
import type { RegistrantKind } from './registry.tables.js';
import type { RegistryService } from './registry.service.js';
import { CONSENT_STATUS_HEADER } from '../consents/consent-filter.js';
import type { RegistrantRelease } from '../consents/registrant-release.js';
import {
  ChangeHeadInput, DeactivateInput, EndMembershipInput, GroupInput, GroupPatch, IdentifierInput, IndividualInput, IndividualPatch,
  InvalidateIdentifierInput, MemberInput, RegistrantRef, RelationshipInput,
} from './registry.schemas.js';

const Repeatable = Type.Union([Type.String({ maxLength: 200 }), Type.Array(Type.String({ maxLength: 200 }), { maxItems: 4 })]);
const commonSearch = {
  identifier: Type.Optional(Type.String({ maxLength: 300, description: 'system|value (id-type code or namespace URI)' })),
  name: Type.Optional(Type.String({ maxLength: 200, description: 'Case- and accent-insensitive contains' })),
  area: Type.Optional(Type.String({ maxLength: 64, description: 'Area code; matches the whole subtree' })),
  active: Type.Optional(Type.String({ enum: ['true', 'false'] })),
  _lastUpdated: Type.Optional(Repeatable),
  _count: Type.Optional(Type.String({ pattern: '^\\d{1,4}$', description: 'Page size, default 20, max 100' })),
  _sort: Type.Optional(Type.String({ maxLength: 200, description: 'Comma-separated: name, birthdate, _lastUpdated, _created; prefix - for descending' })),
  _total: Type.Optional(Type.String({ enum: ['accurate', 'none'] })),
  _cursor: Type.Optional(Type.String({ maxLength: 2000 })),
};
export const IndividualSearch = Type.Object({
  ...commonSearch,
  birthdate: Type.Optional(Repeatable),
  phone: Type.Optional(Type.String({ maxLength: 40, description: 'Phone number, exact match (normalised to E.164; without +country code, read in the deployment\'s default region)' })),
  gender: Type.Optional(Type.String({ maxLength: 10 })),
  group: Type.Optional(Type.String({ maxLength: 64, description: 'UUID of a group: its active members' })),
}, { additionalProperties: false });
export const GroupSearch = Type.Object({
  ...commonSearch,
  groupType: Type.Optional(Type.String({ maxLength: 64 })),
  member: Type.Optional(Type.String({ maxLength: 64, description: 'UUID of an individual: groups it is an active member of' })),
}, { additionalProperties: false });
const MemberParams = Type.Object({ ref: RegistrantRef.properties.ref, individual: RegistrantRef.properties.ref }, { additionalProperties: false });
const MembersQuery = Type.Object({ history: Type.Optional(Type.Boolean({ description: 'Include ended memberships' })) }, { additionalProperties: false });

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

/** A registrant view as the actor may see it (consent-filtered, masked without `pii:reveal`; reveals audited). */
async function sendVersioned(release: RegistrantRelease, request: FastifyRequest, reply: FastifyReply, view: { resourceType: 'Individual' | 'Group'; id: string; version: number }, status = 200) {
  const { body, consentStatus } = await release.one(contextOf(request), view);
  return reply.code(status).header('etag', etagOf(view.version)).header(CONSENT_STATUS_HEADER, consentStatus).send(body);
}

/**
 * API v2 resources Individual and Group, FHIR-like: /api/v2/Individual, /api/v2/Group. Every
 * response carrying registrant data (reads, searches, writes, history, members) goes through
 * `release`: the consent filter (header X-Consent-Status), then masking. Every handler passes the
 * request's actor to the service, which applies its area limits (outside = 404 / left out).
 */
export function registryRoutes(registry: RegistryService, publicUrl: string, release: RegistrantRelease) {
  return (app: FastifyInstance) => {
    for (const kind of ['individual', 'group'] as const) registerKind(app, registry, publicUrl, kind, release);
    registerIndividualOnly(app, registry);
    registerGroupOnly(app, registry, release);
  };
}

function registerKind(app: FastifyInstance, registry: RegistryService, publicUrl: string, kind: RegistrantKind, release: RegistrantRelease) {
  const resource = kind === 'individual' ? 'Individual' : 'Group';
  const base = `/api/v2/${resource}`;
  const read = { scope: `${kind}:read` };
  const write = { scope: `${kind}:write` };
  const tags = [resource];

  app.post(base, {
    config: write,
    schema: { tags, summary: `Create ${kind === 'individual' ? 'an individual' : 'a group (optionally with its members)'}`, body: kind === 'individual' ? IndividualInput : GroupInput },
  }, async (request, reply) => {
    const created = kind === 'individual'
      ? await registry.createIndividual(contextOf(request), request.body as IndividualInput)
      : await registry.createGroup(contextOf(request), request.body as GroupInput);
    reply.header('location', `${base}/${created.id}`);
    return sendVersioned(release, request, reply, created, 201);
  });

  app.get(base, {
    config: read,
    schema: { tags, summary: `Search ${kind}s`, querystring: kind === 'individual' ? IndividualSearch : GroupSearch },
  }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const page = kind === 'individual'
      ? await registry.searchIndividuals(contextOf(request), query, `${publicUrl}${base}`)
      : await registry.searchGroups(contextOf(request), query, `${publicUrl}${base}`);
    const { body, consentStatus } = await release.page(contextOf(request), page);
    return reply.header(CONSENT_STATUS_HEADER, consentStatus).send(body);
  });

  app.get(`${base}/:ref`, {
    config: read,
    schema: { tags, summary: `Read ${kind === 'individual' ? 'an individual' : 'a group'} by UUID or idtype|value`, params: RegistrantRef },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    const view = kind === 'individual' ? await registry.getIndividual(contextOf(request), ref) : await registry.getGroup(contextOf(request), ref);
    const { body, consentStatus } = await release.one(contextOf(request), view);
    return reply.header('etag', etagOf(view.version)).header(CONSENT_STATUS_HEADER, consentStatus).send(body);
  });

  app.patch(`${base}/:ref`, {
    config: write,
    schema: {
      tags, summary: `Change ${kind === 'individual' ? 'an individual' : 'a group'} (JSON merge patch; If-Match required)`,
      params: RegistrantRef, body: kind === 'individual' ? IndividualPatch : GroupPatch,
    },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    const version = versionFromIfMatch(request.headers['if-match']);
    const updated = kind === 'individual'
      ? await registry.updateIndividual(contextOf(request), ref, request.body as IndividualPatch, version)
      : await registry.updateGroup(contextOf(request), ref, request.body as GroupPatch, version);
    return sendVersioned(release, request, reply, updated);
  });

  app.post(`${base}/:ref/$deactivate`, {
    config: write,
    schema: { tags, summary: 'Deactivate (records are never deleted)', params: RegistrantRef, body: DeactivateInput },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    return sendVersioned(release, request, reply, await registry.deactivate(contextOf(request), kind, ref, request.body as DeactivateInput));
  });

  app.post(`${base}/:ref/$reactivate`, {
    config: write,
    schema: { tags, summary: 'Reactivate a deactivated record', params: RegistrantRef },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    return sendVersioned(release, request, reply, await registry.reactivate(contextOf(request), kind, ref));
  });

  app.post(`${base}/:ref/identifiers`, {
    config: write,
    schema: { tags, summary: 'Add an identifier', params: RegistrantRef, body: IdentifierInput },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    return sendVersioned(release, request, reply, await registry.addIdentifier(contextOf(request), kind, ref, request.body as Static<typeof IdentifierInput>), 201);
  });

  app.post(`${base}/:ref/identifiers/$invalidate`, {
    config: write,
    schema: { tags, summary: 'Mark an identifier invalid (it is kept, no longer live)', params: RegistrantRef, body: InvalidateIdentifierInput },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    return sendVersioned(release, request, reply, await registry.invalidateIdentifier(contextOf(request), kind, ref, request.body as InvalidateIdentifierInput));
  });

  app.get(`${base}/:ref/_history`, {
    config: read,
    schema: { tags, summary: 'Change history from the audit log, oldest first', params: RegistrantRef },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    const items = await registry.history(contextOf(request), kind, ref);
    // The record's area only matters to an actor whose pii:reveal is limited to areas.
    const areaOf = async () => (kind === 'individual' ? await registry.getIndividual(contextOf(request), ref) : await registry.getGroup(contextOf(request), ref)).area;
    const { body, consentStatus } = await release.history(contextOf(request), items, areaOf);
    return reply.header(CONSENT_STATUS_HEADER, consentStatus).send({ items: body });
  });
}

function registerIndividualOnly(app: FastifyInstance, registry: RegistryService) {
  app.post('/api/v2/Individual/:ref/relationships', {
    config: { scope: 'individual:write' },
    schema: { tags: ['Individual'], summary: 'Record a relationship to another individual', params: RegistrantRef, body: RelationshipInput },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    return reply.code(201).send(await registry.addRelationship(contextOf(request), ref, request.body as RelationshipInput));
  });
}

function registerGroupOnly(app: FastifyInstance, registry: RegistryService, release: RegistrantRelease) {
  const tags = ['Group'];
  app.get('/api/v2/Group/:ref/members', {
    config: { scope: 'group:read' },
    schema: { tags, summary: 'Members of a group; ?history=true includes ended memberships', params: RegistrantRef, querystring: MembersQuery },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    const { history } = request.query as { history?: boolean };
    const items = await registry.listMembers(contextOf(request), ref, history ?? false);
    const { body, consentStatus } = await release.members(contextOf(request), async () => (await registry.getGroup(contextOf(request), ref)).id, items);
    return reply.header(CONSENT_STATUS_HEADER, consentStatus).send({ items: body });
  });

  app.post('/api/v2/Group/:ref/members', {
    config: { scope: 'group:write' },
    schema: { tags, summary: 'Add a member (a household\'s first member must be its head)', params: RegistrantRef, body: MemberInput },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    return sendVersioned(release, request, reply, await registry.addMember(contextOf(request), ref, request.body as MemberInput), 201);
  });

  app.post('/api/v2/Group/:ref/members/:individual/$end', {
    config: { scope: 'group:write' },
    schema: { tags, summary: 'End a membership (kept as history)', params: MemberParams, body: EndMembershipInput },
  }, async (request, reply) => {
    const { ref, individual } = request.params as { ref: string; individual: string };
    return sendVersioned(release, request, reply, await registry.endMember(contextOf(request), ref, individual, request.body as EndMembershipInput));
  });

  app.post('/api/v2/Group/:ref/$change-head', {
    config: { scope: 'group:write' },
    schema: { tags, summary: 'Make another member the head of the household', params: RegistrantRef, body: ChangeHeadInput },
  }, async (request, reply) => {
    const { ref } = request.params as { ref: string };
    return sendVersioned(release, request, reply, await registry.changeHead(contextOf(request), ref, request.body as ChangeHeadInput));
  });
}
