import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from './access-tokens.js';
import { hasScope } from './access-tokens.js';
import { knownScopes } from './scopes.js';
import { roles, type RoleDefinition } from './roles.js';

/**
 * The route × role/scope matrix, generated from the OpenAPI document and the permission matrix:
 * every documented route is called without credentials, with a token holding exactly its scope,
 * with a token holding every other scope, and as every staff role. Each call must be allowed
 * (anything but 401/403) or refused exactly as the matrix says. A route added without a scope,
 * or a role given a permission by mistake, fails here.
 */
interface DocumentedRoute { method: string; path: string; scope: string | undefined }

const PLACEHOLDER = '00000000-0000-4000-8000-000000000000';

function concretePath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, (_match, name: string) => (/code|name|username|clientId/i.test(name) ? 'XX' : PLACEHOLDER));
}

describe('access matrix: every route × no credentials, scopes and roles', () => {
  let system: TestSystem;
  let routes: DocumentedRoute[];

  before(async () => {
    system = await createTestSystem();
    await system.services.areas.importAreas({ actor: systemActor('test') }, [{ code: 'MX', name: 'Matrixland', kind: 'country' }]);
    const document = (await system.http.inject({ method: 'GET', url: '/api/v2/openapi.json' })).json() as {
      paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
    };
    routes = Object.entries(document.paths).flatMap(([path, operations]) => Object.entries(operations)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => {
        const security = operation.security ?? [];
        return { method: method.toUpperCase(), path, scope: security.length > 0 ? security[0]!.oauth2?.[0] : undefined };
      }));
  });
  after(async () => { await system.close(); });

  const call = (route: DocumentedRoute, headers: Record<string, string> = {}) => system.http.inject({
    method: route.method as 'GET',
    url: concretePath(route.path),
    headers: { ...headers, ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }) },
    ...(route.method === 'GET' ? {} : { payload: '{}' }),
  });
  const isRefused = (status: number) => status === 401 || status === 403;

  test('every API route is documented with the one scope it needs, and public routes are few and known', () => {
    const publicRoutes = routes.filter((route) => route.scope === undefined).map((route) => `${route.method} ${route.path}`);
    const expectedPublic = new Set([
      'POST /oauth2/client/token', 'GET /.well-known/jwks.json', 'POST /auth/login', 'POST /auth/logout', 'GET /auth/session',
      // DCI (under the default DCI_PREFIX): its token endpoint, JWKS and locations, public like ours.
      'POST /dci/oauth2/client/token', 'GET /dci/.well-known/jwks.json', 'GET /dci/.well-known/locations.json',
      // Authenticated, with the scope checked per entry / per resource inside the handler:
      'POST /api/v2/$batch', 'POST /api/v2/$export', 'GET /api/v2/$export/{jobId}/file', 'GET /api/v2/Job/{id}',
    ]);
    const unexpected = publicRoutes.filter((route) => !expectedPublic.has(route));
    assert.deepEqual(unexpected, [], 'routes without a documented scope');
    assert.ok(routes.length > 40, `found ${routes.length} routes`);
  });

  test('without credentials every scoped route answers 401', async () => {
    for (const route of routes.filter((r) => r.scope)) {
      assert.equal((await call(route)).statusCode, 401, `${route.method} ${route.path}`);
    }
  });

  test('a token with exactly the route scope passes; a token with every other scope is refused with 403', async () => {
    for (const route of routes.filter((r) => r.scope)) {
      const allowed = await call(route, await system.authAs(route.scope!));
      assert.ok(!isRefused(allowed.statusCode), `${route.method} ${route.path} with ${route.scope}: ${allowed.statusCode} ${allowed.body.slice(0, 200)}`);
      const others = knownScopes.filter((scope) => scope !== route.scope);
      const refused = await call(route, await system.authAs(...others));
      assert.equal(refused.statusCode, 403, `${route.method} ${route.path} without ${route.scope}`);
    }
  });

  for (const [roleName, definition] of Object.entries(roles) as Array<[string, RoleDefinition]>) {
    test(`staff role ${roleName}: allowed exactly where its permissions include the route scope`, async () => {
      const spec = definition.areas === 'required' ? `${roleName}@MX` : roleName;
      const { headers } = await system.signInAs(spec);
      const permissions = new Set<string>(definition.permissions);
      for (const route of routes.filter((r) => r.scope)) {
        const response = await call(route, headers);
        const expected = hasScope(permissions, route.scope!);
        assert.equal(!isRefused(response.statusCode), expected, `${roleName} ${route.method} ${route.path} (${route.scope}): ${response.statusCode}`);
      }
    });
  }
});
