import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { rawSql, queryRows } from '../../platform/database/database.js';

const PASSWORD = 'correct horse battery staple';
const BASE = '/api/v2/User';

describe('User admin API: /api/v2/User', () => {
  let system: TestSystem;
  let admin: Record<string, string>;
  let reader: Record<string, string>;
  let outsider: Record<string, string>;

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    const context = { actor: systemActor('test') };
    await system.services.areas.createArea(context, { code: 'DM', name: 'Demo', kind: 'country' });
    await system.services.areas.createArea(context, { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' });
    admin = await system.authAs('user:read', 'user:write');
    reader = await system.authAs('user:read');
    outsider = await system.authAs('individual:read', 'individual:write');
  });

  const inject = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, headers: Record<string, string>, payload?: unknown) =>
    system.http.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const create = (payload: object, headers = admin) => inject('POST', BASE, headers, payload);
  const newUser = (extra: object = {}) => create({ username: 'ana', displayName: 'Ana Reyes', email: 'ana@example.org', password: PASSWORD, ...extra });

  test('POST creates a user with roles (201, Location, ETag); the password is neither returned nor stored in clear', async () => {
    const response = await newUser({ roles: [{ role: 'registrar', areas: ['DM01'] }, { role: 'auditor' }] });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.headers.location, `${BASE}/ana`);
    assert.equal(response.headers.etag, 'W/"1"');
    const user = response.json();
    assert.deepEqual(user.roles, [{ role: 'auditor', areas: [] }, { role: 'registrar', areas: ['DM01'] }]);
    assert.deepEqual([user.username, user.email, user.isActive, user.lockedUntil], ['ana', 'ana@example.org', true, null]);
    assert.ok(!response.body.includes(PASSWORD) && !('passwordHash' in user));
    const [row] = await queryRows<{ password_hash: string }>(system.testDatabase.db, rawSql`select password_hash from users`);
    assert.match(row!.password_hash, /^\$argon2id\$/);
  });

  test('POST refuses weak passwords, bad usernames, unknown roles and areas, wrong area bindings and duplicates', async () => {
    const expect400 = async (extra: object, path: RegExp) => {
      const response = await newUser(extra);
      assert.equal(response.statusCode, 400, `${JSON.stringify(extra)}: ${response.body}`);
      assert.match(response.json().errors.map((e: { path: string }) => e.path).join(' '), path);
    };
    await expect400({ password: 'too short' }, /\/password/);
    await expect400({ username: 'ana.reyes.long', password: 'Ana.Reyes.Long' }, /\/password/);
    await expect400({ username: 'a b' }, /\/username/);
    await expect400({ roles: [{ role: 'king' }] }, /\/roles\/0\/role/);
    await expect400({ roles: [{ role: 'registrar', areas: ['NOWHERE'] }] }, /\/roles\/0\/areas\/0/);
    await expect400({ roles: [{ role: 'administrator', areas: ['DM01'] }] }, /\/roles\/0\/areas/);
    await expect400({ roles: [{ role: 'change-request-validator-local' }] }, /\/roles\/0\/areas/);
    await expect400({ roles: [{ role: 'registrar' }, { role: 'registrar', areas: ['DM01'] }] }, /\/roles\/1\/role/);
    await expect400({ email: 'not an email' }, /\/email/);
    await expect400({ isAdmin: true }, /\/isAdmin/);
    assert.equal((await inject('GET', BASE, admin)).json().count, 0, 'nothing was created');
    assert.equal((await newUser()).statusCode, 201);
    assert.equal((await newUser({ username: 'ANA' })).statusCode, 409);
  });

  test('reading and writing need user:read and user:write (401 without a token, 403 without the scope)', async () => {
    await newUser();
    for (const [method, url, payload] of [
      ['GET', BASE], ['GET', `${BASE}/ana`], ['POST', BASE, { username: 'ben', displayName: 'B', password: PASSWORD }],
      ['PATCH', `${BASE}/ana`, { displayName: 'X' }], ['POST', `${BASE}/ana/$set-password`, { password: PASSWORD }],
      ['PUT', `${BASE}/ana/roles`, []], ['POST', `${BASE}/ana/$unlock`],
    ] as const) {
      const isRead = method === 'GET';
      assert.equal((await inject(method, url, {}, payload)).statusCode, 401, `${method} ${url} without a token`);
      assert.equal((await inject(method, url, outsider, payload)).statusCode, 403, `${method} ${url} without the scope`);
      if (!isRead) assert.equal((await inject(method, url, { ...reader, 'if-match': 'W/"1"' }, payload)).statusCode, 403, `${method} ${url} with user:read`);
    }
    const viewer = await system.signInAs('registrar');
    assert.equal((await inject('GET', BASE, viewer.headers)).statusCode, 403);
  });

  test('GET lists users by username and reads one with its ETag; unknown is 404', async () => {
    await newUser();
    await create({ username: 'ben', displayName: 'Ben', password: PASSWORD, roles: [{ role: 'auditor' }] });
    const list = await inject('GET', BASE, reader);
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json().items.map((u: { username: string }) => u.username), ['ana', 'ben']);
    const one = await inject('GET', `${BASE}/Ben`, reader);
    assert.equal(one.statusCode, 200);
    assert.equal(one.headers.etag, 'W/"1"');
    assert.deepEqual(one.json().roles, [{ role: 'auditor', areas: [] }]);
    assert.equal((await inject('GET', `${BASE}/nobody`, reader)).statusCode, 404);
  });

  test('PATCH changes name, email and activation with If-Match (428 without, 412 stale, 415 not JSON, 400 bad input)', async () => {
    await newUser();
    const patch = (payload: unknown, headers: Record<string, string>) => system.http.inject({ method: 'PATCH', url: `${BASE}/ana`, headers: { ...admin, 'content-type': 'application/merge-patch+json', ...headers }, payload: JSON.stringify(payload) });
    assert.equal((await patch({ displayName: 'Ana R.' }, {})).statusCode, 428);
    const changed = await patch({ displayName: 'Ana R.', email: null }, { 'if-match': 'W/"1"' });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual([changed.json().displayName, changed.json().email, changed.headers.etag], ['Ana R.', null, 'W/"2"']);
    assert.equal((await patch({ displayName: 'Again' }, { 'if-match': 'W/"1"' })).statusCode, 412);
    assert.equal((await patch({ username: 'other' }, { 'if-match': 'W/"2"' })).statusCode, 400);
    assert.equal((await patch({ displayName: '' }, { 'if-match': 'W/"2"' })).statusCode, 400);
    assert.equal((await patch({ isActive: false }, { 'if-match': 'W/"2"', 'content-type': 'text/csv' })).statusCode, 415);
    assert.equal((await system.http.inject({ method: 'PATCH', url: `${BASE}/nobody`, headers: { ...admin, 'if-match': 'W/"1"' }, payload: {} })).statusCode, 404);
    const session = await system.services.sessions.login('ana', PASSWORD);
    assert.equal((await patch({ isActive: false }, { 'if-match': 'W/"2"' })).json().isActive, false);
    assert.equal(await system.services.sessions.authenticate(session.token), undefined, 'deactivation ends sessions');
    assert.equal((await system.http.inject({ method: 'POST', url: '/auth/login', payload: { username: 'ana', password: PASSWORD } })).statusCode, 401);
  });

  test('$set-password applies the policy, ends sessions, and the new password works', async () => {
    await newUser();
    const session = await system.services.sessions.login('ana', PASSWORD);
    const weak = await inject('POST', `${BASE}/ana/$set-password`, admin, { password: 'ana' });
    assert.equal(weak.statusCode, 400);
    assert.equal(weak.json().errors[0].path, '/password');
    assert.equal((await inject('POST', `${BASE}/nobody/$set-password`, admin, { password: 'a long new password' })).statusCode, 404);
    const changed = await inject('POST', `${BASE}/ana/$set-password`, admin, { password: 'a long new password' });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.ok(!changed.body.includes('a long new password'));
    assert.equal(await system.services.sessions.authenticate(session.token), undefined);
    assert.ok((await system.services.sessions.login('ana', 'a long new password')).token);
    await assert.rejects(system.services.sessions.login('ana', PASSWORD));
  });

  test('PUT roles replaces every role; unknown role or area is a 400 and changes nothing', async () => {
    await newUser({ roles: [{ role: 'registrar' }] });
    const put = (payload: unknown, url = `${BASE}/ana/roles`) => inject('PUT', url, admin, payload);
    const replaced = await put([{ role: 'registry-manager', areas: ['DM01', 'DM'] }, { role: 'grievance-officer', areas: [] }]);
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.deepEqual(replaced.json().roles, [{ role: 'grievance-officer', areas: [] }, { role: 'registry-manager', areas: ['DM', 'DM01'] }]);
    assert.equal((await put([{ role: 'superuser' }])).statusCode, 400);
    assert.equal((await put([{ role: 'registrar', areas: ['XX'] }])).statusCode, 400);
    assert.equal((await put({ role: 'registrar' })).statusCode, 400);
    assert.equal((await put([{ role: 'registrar', extra: 1 }])).statusCode, 400);
    assert.equal((await put([], `${BASE}/nobody/roles`)).statusCode, 404);
    assert.equal((await inject('GET', `${BASE}/ana`, admin)).json().roles.length, 2);
    const cleared = await put([]);
    assert.deepEqual(cleared.json().roles, []);
  });

  test('$unlock lifts a lockout (404 for an unknown user)', async () => {
    await newUser();
    await system.testDatabase.db.execute(rawSql`update users set failed_login_count = 5, locked_until = now() + interval '15 minutes'`);
    assert.ok((await inject('GET', `${BASE}/ana`, admin)).json().lockedUntil);
    const unlocked = await inject('POST', `${BASE}/ana/$unlock`, admin);
    assert.equal(unlocked.statusCode, 200);
    assert.equal(unlocked.json().lockedUntil, null);
    assert.equal((await inject('POST', `${BASE}/nobody/$unlock`, admin)).statusCode, 404);
  });

  test('an administrator signed in with a session manages users (with the CSRF token); every write is audited without secrets', async () => {
    const administrator = await system.signInAs('administrator');
    const { 'x-csrf-token': _csrf, ...withoutCsrf } = administrator.headers;
    assert.equal((await create({ username: 'ben', displayName: 'Ben', password: PASSWORD }, withoutCsrf)).statusCode, 403);
    assert.equal((await create({ username: 'ben', displayName: 'Ben', password: PASSWORD }, administrator.headers)).statusCode, 201);
    await inject('POST', `${BASE}/ben/$set-password`, administrator.headers, { password: 'a long new password' });
    await inject('PUT', `${BASE}/ben/roles`, administrator.headers, [{ role: 'registrar', areas: ['DM01'] }]);
    await inject('POST', `${BASE}/ben/$unlock`, administrator.headers);
    const rows = await queryRows<{ action: string; actor_id: string; before: unknown; after: unknown }>(system.testDatabase.db, rawSql`select action, actor_id, before, after from audit_log where entity_type = 'user' and entity_id = 'ben' order by id`);
    assert.deepEqual(rows.map((row) => [row.action, row.actor_id]), [
      ['create', administrator.username], ['set-password', administrator.username], ['set-roles', administrator.username], ['unlock', administrator.username],
    ]);
    assert.deepEqual(rows[2]!.after, { roles: [{ role: 'registrar', areas: ['DM01'] }] });
    const text = JSON.stringify(rows);
    assert.ok(!text.includes(PASSWORD) && !text.includes('a long new password') && !text.includes('argon2'));
  });
});
