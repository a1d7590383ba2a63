import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestSystem, type TestSystem } from '../test-support/test-system.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { rawSql } from '../platform/database/database.js';
import { userCreate, userList, userSetPassword, userSetRoles, userUnlock } from './users.js';
import { clientRotateSecret, clientUpdate } from './client-admin.js';
import { keysList, keysRetire, keysRotate } from './keys.js';

/** The commands' work, in-process on the test database (PGlite or PostgreSQL). */
describe('user, client and keys commands', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await system.services.areas.createArea({ actor: systemActor('test') }, { code: 'DM', name: 'Demo', kind: 'country' });
    await system.services.areas.createArea({ actor: systemActor('test') }, { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' });
  });

  test('user create prints a generated password once, or takes the given one; list, set-roles, set-password, unlock', async () => {
    const created = JSON.parse(await userCreate(system, { username: 'north', name: 'North Registrar', role: ['registrar@DM01', 'auditor'], json: true }));
    assert.deepEqual(created.roles, [{ role: 'auditor', areas: [] }, { role: 'registrar', areas: ['DM01'] }]);
    assert.ok(created.password.length >= 20);
    assert.ok((await system.services.sessions.login('north', created.password)).token);
    const given = await userCreate(system, { username: 'ben', name: 'Ben', role: ['registry-viewer'], password: 'a password from stdin' });
    assert.equal(given, 'Created user ben (Ben) with roles: registry-viewer');
    const text = await userCreate(system, { username: 'cy', name: 'Cy', role: [] });
    assert.match(text, /roles: \(none\)\n {2}password: \S{20,}\nThe password is shown only now/);

    assert.equal(await userSetRoles(system, { username: 'ben', role: ['registrar@DM01,DM'] }), 'ben now holds: registrar@DM,DM01');
    assert.match(await userSetPassword(system, { username: 'ben', password: 'another long password' }), /sessions have ended$/);
    assert.ok((await system.services.sessions.login('ben', 'another long password')).token);
    assert.match(await userSetPassword(system, { username: 'ben' }), /password: \S{20,}/);

    await system.testDatabase.db.execute(rawSql`update users set locked_until = now() + interval '15 minutes', failed_login_count = 5 where username = 'north'`);
    assert.match(await userList(system, {}), /north\tNorth Registrar\tauditor registrar@DM01\tactive\tlocked until/);
    assert.equal(await userUnlock(system, { username: 'north' }), 'north is unlocked');
    const listed = JSON.parse(await userList(system, { json: true }));
    assert.deepEqual(listed.map((user: { username: string; lockedUntil: string | null }) => [user.username, user.lockedUntil]), [['ben', null], ['cy', null], ['north', null]]);
  });

  test('refuses an unknown role, an unknown area, a weak password and an unknown user', async () => {
    await assert.rejects(userCreate(system, { username: 'x1', name: 'X', role: ['king'] }), /roles are not valid/);
    await assert.rejects(userCreate(system, { username: 'x2', name: 'X', role: ['registrar@NOWHERE'] }), (error: { fields: Array<{ message: string }> }) => /NOWHERE does not exist/.test(error.fields[0]!.message));
    await assert.rejects(userCreate(system, { username: 'x3', name: 'X', role: [], password: 'short' }), /at least 12 characters/);
    await assert.rejects(userUnlock(system, { username: 'nobody' }), /not found/);
  });

  test('client rotate-secret prints the new secret once, the old one kept for the grace period; client update sets restrictions', async () => {
    const client = await system.services.apiClients.createClient({ actor: systemActor('test') }, { name: 'Partner', scopes: ['individual:read'] });
    const rotated = JSON.parse(await clientRotateSecret(system, { clientId: client.clientId, graceSeconds: 600, json: true }));
    assert.notEqual(rotated.clientSecret, client.clientSecret);
    assert.ok(Date.parse(rotated.previousSecretExpiresAt) > Date.now() + 500_000);
    const updated = await clientUpdate(system, { clientId: client.clientId, areas: 'DM01', legalBasis: 'consent', rateLimit: 120, tokenTtl: 300 });
    assert.equal(updated, `Updated ${client.clientId}: areas DM01, legal basis consent, rate limit 120/min, token lifetime 300 s`);
    await assert.rejects(clientUpdate(system, { clientId: client.clientId, legalBasis: 'whim' }), /legalBasis/);
    assert.equal((await system.services.apiClients.issueToken(client.clientId, rotated.clientSecret)).expiresIn, 300);
    assert.ok(await system.services.apiClients.issueToken(client.clientId, client.clientSecret), 'the old secret still works');
    assert.match(await clientRotateSecret(system, { clientId: client.clientId, graceSeconds: 0 }), /client_secret: \S+\nThe previous secret no longer works/);
    await assert.rejects(system.services.apiClients.issueToken(client.clientId, rotated.clientSecret));
    assert.match(await clientUpdate(system, { clientId: client.clientId, areas: '' }), /areas \(everywhere\)/);
  });

  test('keys rotate adds a signing key (old tokens still verify); keys retire refuses the newest and retires an older one', async () => {
    const before = JSON.parse(await keysList(system, { json: true }));
    const oldToken = await system.tokenFor('group:read');
    // Verified tokens are cached for up to a minute, so this one is first shown after retirement.
    const unusedOldToken = await system.tokenFor('group:read');
    const { kid } = JSON.parse(await keysRotate(system, { json: true }));
    const keys = JSON.parse(await keysList(system, { json: true }));
    assert.equal(keys.length, before.length + 1);
    assert.deepEqual([keys[0].kid, keys[0].signing, keys[1].signing], [kid, true, false]);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Group', headers: { authorization: `Bearer ${oldToken}` } })).statusCode, 200);
    await assert.rejects(keysRetire(system, { kid }), /newest key/);
    const old = before[0].kid as string;
    assert.match(await keysRetire(system, { kid: old }), /Retired signing key/);
    assert.deepEqual(system.keys.jwks().keys.map((key) => key.kid), [kid]);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Group', headers: { authorization: `Bearer ${unusedOldToken}` } })).statusCode, 401, 'tokens of a retired key stop working');
    assert.match(await keysList(system, {}), /retired /);
    await assert.rejects(keysRetire(system, { kid: old }), /not found/);
  });
});

/** The wiring in main.ts: options, standard input, exit codes, as an operator runs them. */
describe('commonweal user and keys on the command line', () => {
  const bin = path.resolve(import.meta.dirname, '../../bin/commonweal.mjs');
  let dataDir: string;
  const commonweal = (input: string | undefined, ...args: string[]) => new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    const child = execFile(process.execPath, [bin, ...args], { env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: '' } }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 });
    });
    child.stdin!.end(input ?? '');
  });

  before(() => { dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-users-cli-')); });
  after(() => { fs.rmSync(dataDir, { recursive: true, force: true }); });

  test('user create --password-stdin --role … --json', async () => {
    const created = await commonweal('a password from stdin\n', 'user', 'create', '--username', 'ana', '--name', 'Ana', '--role', 'auditor', '--role', 'registrar', '--password-stdin', '--json');
    assert.equal(created.code, 0, created.stderr);
    const user = JSON.parse(created.stdout);
    assert.deepEqual([user.username, user.roles.map((r: { role: string }) => r.role), user.password], ['ana', ['auditor', 'registrar'], undefined]);
  });

  test('keys retire of the newest key exits with 2', async () => {
    const listed = await commonweal(undefined, 'keys', 'list', '--json');
    const refused = await commonweal(undefined, 'keys', 'retire', '--kid', JSON.parse(listed.stdout)[0].kid);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /newest key/);
  });
});
