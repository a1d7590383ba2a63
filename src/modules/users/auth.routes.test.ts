import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { areaScopeOf } from '../../platform/auth/access-tokens.js';
import { SESSION_COOKIE, hashSessionToken } from '../../platform/auth/session-auth.js';
import { rawSql, queryRows } from '../../platform/database/database.js';

const PASSWORD = 'correct horse battery staple';
const context = { actor: systemActor('test') };

describe('staff sign-in: /auth/login, /auth/session, /auth/logout', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await system.services.areas.createArea(context, { code: 'DM', name: 'Demo', kind: 'country' });
    await system.services.areas.createArea(context, { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' });
    await system.services.users.createUser(context, { username: 'Ana', displayName: 'Ana Reyes', password: PASSWORD, roles: [{ role: 'registrar' }] });
  });

  const login = (username: string, password: string) => system.http.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
  const cookieOf = (response: { cookies: Array<{ name: string; value: string }> }) => {
    const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie, 'a session cookie is set');
    return `${SESSION_COOKIE}=${cookie.value}`;
  };
  const signIn = async (username = 'ana', password = PASSWORD) => {
    const response = await login(username, password);
    assert.equal(response.statusCode, 200, response.body);
    return { cookie: cookieOf(response), csrf: response.json().csrfToken as string };
  };
  const sql = (text: string) => system.testDatabase.db.execute(rawSql.raw(text));
  const createIndividual = (headers: Record<string, string>) => system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers, payload: { name: { given: 'Ben', family: 'Cruz' } } });

  test('signs in (username case-insensitive): HttpOnly, SameSite=Lax, Path=/ cookie, not Secure over http; user, roles and CSRF token', async () => {
    const response = await login('ANA', PASSWORD);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.deepEqual(body.user, { username: 'ana', displayName: 'Ana Reyes', roles: [{ role: 'registrar', areas: [] }] });
    assert.ok(body.csrfToken.length >= 40);
    assert.ok(Date.parse(body.expiresAt) - Date.now() > 7.9 * 3600_000);
    assert.equal(response.headers['cache-control'], 'no-store');
    const setCookie = String(response.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);
    assert.match(setCookie, /Path=\//);
    assert.doesNotMatch(setCookie, /Secure/);
    const token = response.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    const stored = await queryRows<{ token_hash: string }>(system.testDatabase.db, rawSql`select token_hash from sessions`);
    assert.deepEqual(stored.map((row) => row.token_hash), [hashSessionToken(token)], 'only the SHA-256 of the token is stored');

    const session = await system.http.inject({ method: 'GET', url: '/auth/session', headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    assert.equal(session.statusCode, 200);
    assert.deepEqual(session.json().user, body.user);
    assert.equal(session.json().csrfToken, body.csrfToken);
  });

  test('unknown user, wrong password, locked and disabled accounts get the same 401 and body', async () => {
    await system.services.users.createUser(context, { username: 'locked', displayName: 'L', password: PASSWORD });
    await system.services.users.createUser(context, { username: 'gone', displayName: 'G', password: PASSWORD });
    await sql(`update users set locked_until = now() + interval '10 minutes' where username = 'locked'`);
    await sql(`update users set is_active = false where username = 'gone'`);
    const shapes = [];
    for (const [username, password] of [['nobody', PASSWORD], ['ana', 'wrong password 1'], ['locked', PASSWORD], ['gone', PASSWORD]] as const) {
      const response = await login(username, password);
      assert.equal(response.statusCode, 401, username);
      assert.equal(response.cookies.length, 0);
      const { requestId: _requestId, ...shape } = response.json();
      shapes.push(shape);
    }
    for (const shape of shapes) assert.deepEqual(shape, shapes[0]);
  });

  test('locks after 5 consecutive failures for 15 minutes (even the right password fails); unlocking lets the user in', async () => {
    for (let attempt = 1; attempt <= 5; attempt += 1) assert.equal((await login('ana', `wrong password ${attempt}`)).statusCode, 401);
    const [row] = await queryRows<{ failed_login_count: number; locked_until: Date }>(system.testDatabase.db, rawSql`select failed_login_count, locked_until from users where username = 'ana'`);
    assert.equal(row!.failed_login_count, 5);
    const minutes = (new Date(row!.locked_until).getTime() - Date.now()) / 60_000;
    assert.ok(minutes > 14.9 && minutes <= 15, `locked for ${minutes} minutes`);
    assert.equal((await login('ana', PASSWORD)).statusCode, 401);
    const admin = await system.authAs('user:write', 'user:read');
    assert.ok((await system.http.inject({ method: 'GET', url: '/api/v2/User/ana', headers: admin })).json().lockedUntil);
    const unlocked = await system.http.inject({ method: 'POST', url: '/api/v2/User/ana/$unlock', headers: admin });
    assert.equal(unlocked.statusCode, 200, unlocked.body);
    assert.equal(unlocked.json().lockedUntil, null);
    assert.equal((await login('ana', PASSWORD)).statusCode, 200);
  });

  test('a success resets the failure count; a lock that has run out lets the user in', async () => {
    for (let attempt = 1; attempt <= 4; attempt += 1) await login('ana', `wrong password ${attempt}`);
    await signIn();
    for (let attempt = 1; attempt <= 4; attempt += 1) await login('ana', `wrong password ${attempt}`);
    await signIn();
    await login('ana', 'wrong password 5');
    await sql(`update users set failed_login_count = 5, locked_until = now() - interval '1 second' where username = 'ana'`);
    await signIn();
    const [row] = await queryRows<{ failed_login_count: number; locked_until: Date | null }>(system.testDatabase.db, rawSql`select failed_login_count, locked_until from users where username = 'ana'`);
    assert.deepEqual([row!.failed_login_count, row!.locked_until], [0, null]);
  });

  test('cookie writes need X-CSRF-Token; cookie reads and bearer writes do not', async () => {
    const { cookie, csrf } = await signIn();
    assert.equal((await createIndividual({ cookie })).statusCode, 403);
    const wrong = await createIndividual({ cookie, 'x-csrf-token': 'not-the-token' });
    assert.equal(wrong.statusCode, 403);
    assert.match(wrong.json().detail, /X-CSRF-Token/);
    const created = await createIndividual({ cookie, 'x-csrf-token': csrf });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${created.json().id}`, headers: { cookie } })).statusCode, 200);
    assert.equal((await createIndividual(await system.authAs('individual:write'))).statusCode, 201);
    const audit = await queryRows<{ actor_type: string; actor_id: string }>(system.testDatabase.db, rawSql`select actor_type, actor_id from audit_log where entity_type = 'individual' and action = 'create' order by id limit 1`);
    assert.deepEqual(audit[0], { actor_type: 'user', actor_id: 'ana' });
  });

  test('a bearer token wins over a cookie; a bearer caller has no session', async () => {
    const { cookie } = await signIn();
    const bearer = await system.authAs('group:read');
    const both = await system.http.inject({ method: 'GET', url: '/api/v2/Individual', headers: { cookie, ...bearer } });
    assert.equal(both.statusCode, 403);
    assert.equal((await system.http.inject({ method: 'GET', url: '/auth/session', headers: bearer })).statusCode, 401);
    assert.equal((await system.http.inject({ method: 'GET', url: '/auth/session' })).statusCode, 401);
  });

  test('logout needs the CSRF token, ends the session and clears the cookie', async () => {
    const { cookie, csrf } = await signIn();
    assert.equal((await system.http.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } })).statusCode, 403);
    const out = await system.http.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'x-csrf-token': csrf } });
    assert.equal(out.statusCode, 204);
    assert.match(String(out.headers['set-cookie']), new RegExp(`${SESSION_COOKIE}=;.*Expires=Thu, 01 Jan 1970`));
    const after = await system.http.inject({ method: 'GET', url: '/auth/session', headers: { cookie } });
    assert.equal(after.statusCode, 401);
    assert.match(String(after.headers['set-cookie']), new RegExp(`${SESSION_COOKIE}=;`));
  });

  test('sessions expire after 8 idle hours, slide forward when used, and never outlive 24 hours', async () => {
    const { cookie } = await signIn();
    const session = () => system.http.inject({ method: 'GET', url: '/auth/session', headers: { cookie } });
    const expiresInHours = async () => {
      const [row] = await queryRows<{ hours: number }>(system.testDatabase.db, rawSql`select extract(epoch from expires_at - now())::float8 / 3600 as hours from sessions`);
      return Number(row!.hours);
    };
    await sql(`update sessions set last_seen_at = now() - interval '2 hours', expires_at = now() + interval '6 hours'`);
    assert.equal((await session()).statusCode, 200);
    assert.ok(await expiresInHours() > 7.9, 'slid to 8 hours from now');
    await sql(`update sessions set created_at = now() - interval '23 hours', last_seen_at = now() - interval '2 hours'`);
    assert.equal((await session()).statusCode, 200);
    const left = await expiresInHours();
    assert.ok(left > 0.9 && left < 1.01, `capped at 24 hours after sign-in: ${left} h left`);
    await sql(`update sessions set expires_at = now() - interval '1 second'`);
    assert.equal((await session()).statusCode, 401);
  });

  test('roles, deactivation and password changes take effect on the next request', async () => {
    const { cookie, csrf } = await signIn();
    const headers = { cookie, 'x-csrf-token': csrf };
    await system.services.users.setRoles(context, 'ana', [{ role: 'registry-viewer' }]);
    assert.equal((await createIndividual(headers)).statusCode, 403);
    await system.services.users.setPassword(context, 'ana', 'another long password');
    assert.equal((await system.http.inject({ method: 'GET', url: '/auth/session', headers })).statusCode, 401);
    const again = await signIn('ana', 'another long password');
    await system.services.users.updateUser(context, 'ana', 3, { isActive: false });
    assert.equal((await system.http.inject({ method: 'GET', url: '/auth/session', headers: { cookie: again.cookie } })).statusCode, 401);
  });

  test('a session actor holds the permissions of its roles, a local role limited to its areas', async () => {
    await system.services.users.createUser(context, { username: 'north', displayName: 'N', password: PASSWORD, roles: [{ role: 'registrar', areas: ['DM01'] }, { role: 'auditor' }] });
    const session = await system.services.sessions.login('north', PASSWORD);
    const authenticated = await system.services.sessions.authenticate(session.token);
    const actor = authenticated!.actor;
    assert.deepEqual([actor.type, actor.id], ['user', 'north']);
    assert.deepEqual(areaScopeOf(actor, 'individual:write'), ['DM01']);
    assert.equal(areaScopeOf(actor, 'individual:read'), undefined, 'the auditor role reads everywhere');
    assert.equal(areaScopeOf(actor, 'audit:read'), undefined);
    assert.equal(await system.services.sessions.authenticate('not-a-token'), undefined);
  });

  test('refuses a form-encoded or incomplete login; audits sign-in, failures and sign-out without passwords', async () => {
    const form = await system.http.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=ana&password=${PASSWORD}` });
    assert.equal(form.statusCode, 415);
    assert.equal((await system.http.inject({ method: 'POST', url: '/auth/login', payload: { username: 'ana' } })).statusCode, 400);
    assert.equal((await system.http.inject({ method: 'POST', url: '/auth/login', payload: { username: 'ana', password: PASSWORD, remember: true } })).statusCode, 400);
    await login('ana', 'wrong password!!');
    await login('nobody', PASSWORD);
    const { cookie, csrf } = await signIn();
    await system.http.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'x-csrf-token': csrf } });
    const rows = await queryRows<{ action: string; actor_id: string; entity_id: string; after: unknown }>(system.testDatabase.db, rawSql`select action, actor_id, entity_id, after from audit_log where action in ('login', 'login-failed', 'logout') order by id`);
    assert.deepEqual(rows.map((row) => [row.action, row.actor_id, row.entity_id]), [
      ['login-failed', 'anonymous', 'ana'], ['login-failed', 'anonymous', 'nobody'], ['login', 'ana', 'ana'], ['logout', 'ana', 'ana'],
    ]);
    const everything = JSON.stringify(await queryRows(system.testDatabase.db, rawSql`select * from audit_log`));
    assert.ok(!everything.includes(PASSWORD) && !everything.includes('wrong password') && !everything.includes('argon2'));
  });
});

describe('session cookie over https', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem({ PUBLIC_URL: 'https://commonweal.test' }); });
  after(async () => { await system.close(); });

  test('is Secure when the public URL is https', async () => {
    await system.services.users.createUser(context, { username: 'ana', displayName: 'Ana', password: PASSWORD });
    const response = await system.http.inject({ method: 'POST', url: '/auth/login', payload: { username: 'ana', password: PASSWORD } });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['set-cookie']), /; Secure/);
    assert.match(String(response.headers['set-cookie']), /HttpOnly/);
  });
});
