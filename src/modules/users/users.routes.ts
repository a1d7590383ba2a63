import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../../platform/errors.js';
import { etagOf, versionFromIfMatch } from '../../platform/versioning.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import type { UserService, UserView as UserViewData } from './users.service.js';
import { PasswordInput, RolesInput, UserInput, UserList, UserPatch, UsernameParams, UserView } from './users.schemas.js';

const BASE = '/api/v2/User';
const PATCH_TYPES = new Set(['application/merge-patch+json', 'application/json']);
const read = { scope: 'user:read' };
const write = { scope: 'user:write' };

/** Staff accounts for administrators: create, read, change, password, roles, unlock. */
export function userRoutes(service: UserService) {
  return (untyped: FastifyInstance) => {
    const app = untyped.withTypeProvider<TypeBoxTypeProvider>();

    app.get(BASE, {
      config: read,
      schema: { tags: ['user'], summary: 'List staff accounts (by username)', response: { 200: UserList } },
    }, async () => {
      const items = await service.listUsers();
      return { resourceType: 'SearchResult' as const, count: items.length, items };
    });

    app.post(BASE, {
      config: write,
      schema: { tags: ['user'], summary: 'Create a staff account, with its roles', body: UserInput, response: { 201: UserView } },
    }, async (request, reply) => {
      const user = await service.createUser(contextOf(request), request.body);
      reply.code(201).header('location', `${BASE}/${encodeURIComponent(user.username)}`);
      return withEtag(reply, user);
    });

    app.get(`${BASE}/:username`, {
      config: read,
      schema: { tags: ['user'], summary: 'Read a staff account', params: UsernameParams, response: { 200: UserView } },
    }, async (request, reply) => withEtag(reply, await service.getUser(request.params.username)));

    app.patch(`${BASE}/:username`, {
      config: write,
      preValidation: async (request) => {
        const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (!contentType || !PATCH_TYPES.has(contentType)) throw new AppError('unsupported_media_type', 'Send the change as a JSON merge patch (Content-Type: application/merge-patch+json or application/json)');
      },
      schema: {
        tags: ['user'],
        summary: 'Change a staff account: display name, email, active (JSON merge patch)',
        description: 'Send `If-Match` with the ETag you read. Deactivating ends the user\'s sessions.',
        params: UsernameParams, body: UserPatch, response: { 200: UserView },
      },
    }, async (request, reply) => {
      const expectedVersion = versionFromIfMatch(request.headers['if-match']);
      return withEtag(reply, await service.updateUser(contextOf(request), request.params.username, expectedVersion, request.body));
    });

    app.post(`${BASE}/:username/$set-password`, {
      config: write,
      schema: { tags: ['user'], summary: 'Set a new password (ends the user\'s sessions)', params: UsernameParams, body: PasswordInput, response: { 200: UserView } },
    }, async (request, reply) => withEtag(reply, await service.setPassword(contextOf(request), request.params.username, request.body.password)));

    app.put(`${BASE}/:username/roles`, {
      config: write,
      schema: {
        tags: ['user'],
        summary: 'Replace the roles of a staff account',
        description: 'Each entry is a role of the permission matrix, optionally bound to areas (the role then applies only in those subtrees).',
        params: UsernameParams, body: RolesInput, response: { 200: UserView },
      },
    }, async (request, reply) => withEtag(reply, await service.setRoles(contextOf(request), request.params.username, request.body)));

    app.post(`${BASE}/:username/$unlock`, {
      config: write,
      schema: { tags: ['user'], summary: 'Lift a lockout after failed sign-ins', params: UsernameParams, response: { 200: UserView } },
    }, async (request, reply) => withEtag(reply, await service.unlock(contextOf(request), request.params.username)));
  };
}

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

function withEtag(reply: FastifyReply, user: UserViewData): UserViewData {
  reply.header('etag', etagOf(user.version));
  return user;
}
