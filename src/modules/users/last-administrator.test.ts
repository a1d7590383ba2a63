import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import type { AppError } from '../../platform/errors.js';
import { userSetActive, userSetRoles } from '../../cli/users.js';

const PASSWORD = 'correct horse battery staple';
const context = { actor: systemActor('test') };

describe('The last active administrator cannot be removed', () => {
  let system: TestSystem;
  let admin: Record<string, string>;

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await system.services.users.createUser(context, { username: 'root', displayName: 'Root', password: PASSWORD, roles: [{ role: 'administrator' }, { role: 'auditor' }] });
    admin = await system.authAs('user:read', 'user:write');
  });

  const call = (method: 'PATCH' | 'PUT', url: string, payload: unknown, headers: Record<string, string> = {}) =>
    system.http.inject({ method, url, headers: { ...admin, ...headers, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }, payload: JSON.stringify(payload) });
  const rolesOf = async (username: string) => (await system.services.users.getUser(username)).roles.map((role) => role.role).sort();

  test('API: taking the role away or deactivating is a 409 problem that changes nothing', async () => {
    const roles = await call('PUT', '/api/v2/User/root/roles', [{ role: 'auditor' }]);
    assert.equal(roles.statusCode, 409);
    assert.equal(roles.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(roles.json().code, 'conflict');
    assert.match(roles.json().detail, /root is the last active administrator: give another active user the administrator role/);
    const deactivated = await call('PATCH', '/api/v2/User/root', { isActive: false }, { 'if-match': 'W/"1"' });
    assert.equal(deactivated.statusCode, 409);
    assert.match(deactivated.json().detail, /last active administrator/);
    const root = await system.services.users.getUser('root');
    assert.deepEqual([root.isActive, root.version, await rolesOf('root')], [true, 1, ['administrator', 'auditor']]);
    // Other changes of the last administrator are fine, and so are role changes that keep the role.
    assert.equal((await call('PUT', '/api/v2/User/root/roles', [{ role: 'administrator' }])).statusCode, 200);
    assert.equal((await call('PATCH', '/api/v2/User/root', { displayName: 'Root R.' }, { 'if-match': 'W/"2"' })).statusCode, 200);
  });

  test('with a second active administrator either may go; an inactive one does not count', async () => {
    await system.services.users.createUser(context, { username: 'second', displayName: 'Second', password: PASSWORD, roles: [{ role: 'administrator' }] });
    const second = await system.services.users.getUser('second');
    await system.services.users.updateUser(context, 'second', second.version, { isActive: false });
    assert.equal((await call('PUT', '/api/v2/User/root/roles', [])).statusCode, 409, 'the second administrator is deactivated');
    await system.services.users.updateUser(context, 'second', second.version + 1, { isActive: true });
    assert.equal((await call('PUT', '/api/v2/User/root/roles', [])).statusCode, 200);
    assert.deepEqual(await rolesOf('root'), []);
    assert.equal((await call('PATCH', '/api/v2/User/second', { isActive: false }, { 'if-match': 'W/"3"' })).statusCode, 409, 'now second is the last one');
  });

  test('two administrators removing each other at the same time: exactly one succeeds', async () => {
    await system.services.users.createUser(context, { username: 'second', displayName: 'Second', password: PASSWORD, roles: [{ role: 'administrator' }] });
    const results = await Promise.allSettled([
      system.services.users.setRoles(context, 'root', []),
      system.services.users.setRoles(context, 'second', []),
    ]);
    assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
    const holders = (await system.services.users.listUsers()).filter((user) => user.isActive && user.roles.some((role) => role.role === 'administrator'));
    assert.equal(holders.length, 1);
  });

  test('CLI: user set-roles and user deactivate are refused the same way', async () => {
    await assert.rejects(userSetRoles(system, { username: 'root', role: ['auditor'] }), (error: AppError) => error.code === 'conflict' && /last active administrator/.test(error.message));
    await assert.rejects(userSetActive(system, { username: 'root', active: false }), (error: AppError) => error.code === 'conflict' && /deactivating this one/.test(error.message));
    assert.deepEqual(await rolesOf('root'), ['administrator', 'auditor']);
    await system.services.users.createUser(context, { username: 'other', displayName: 'Other', password: PASSWORD, roles: [{ role: 'administrator' }] });
    assert.equal(await userSetActive(system, { username: 'root', active: false }), 'root is deactivated: their sessions are ended');
    assert.equal(await userSetActive(system, { username: 'root', active: true }), 'root is active');
  });
});
