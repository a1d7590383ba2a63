import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { areaScopeOf } from '../../platform/auth/access-tokens.js';
import { roleNames } from '../../platform/auth/roles.js';
import { DEMO_USERS_FILE, ensureDemoUsers } from './demo-users.js';

describe('demo staff accounts (commonweal serve with demo data)', () => {
  let system: TestSystem;
  let dataDir: string;
  before(async () => {
    system = await createTestSystem();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-demo-users-'));
  });
  after(async () => {
    await system.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('without the demo region, one account per role that may be global', async () => {
    const accounts = await ensureDemoUsers(system.services.users, system.services.areas, dataDir);
    assert.deepEqual(accounts.map((a) => a.username).sort(), roleNames.filter((r) => r !== 'change-request-validator-local').sort());
    await system.reset();
    fs.rmSync(path.join(dataDir, DEMO_USERS_FILE));
  });

  test('one account per role plus registrar-north bound to DM01; passwords kept (0600) and the same on the next start', async () => {
    await system.services.areas.createArea({ actor: systemActor('test') }, { code: 'DM', name: 'Demo', kind: 'country' });
    await system.services.areas.createArea({ actor: systemActor('test') }, { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' });
    const accounts = await ensureDemoUsers(system.services.users, system.services.areas, dataDir);
    assert.deepEqual(accounts.map((a) => a.username).sort(), [...roleNames, 'registrar-north'].sort());
    const file = path.join(dataDir, DEMO_USERS_FILE);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const again = await ensureDemoUsers(system.services.users, system.services.areas, dataDir);
    assert.deepEqual(again, accounts);
    const north = accounts.find((a) => a.username === 'registrar-north')!;
    const session = await system.services.sessions.login('registrar-north', north.password);
    const actor = (await system.services.sessions.authenticate(session.token))!.actor;
    assert.deepEqual(areaScopeOf(actor, 'individual:write'), ['DM01']);
    const registrar = accounts.find((a) => a.username === 'registrar')!;
    const global = (await system.services.sessions.authenticate((await system.services.sessions.login('registrar', registrar.password)).token))!.actor;
    assert.equal(areaScopeOf(global, 'individual:write'), undefined);
    assert.deepEqual(session.user.roles, [{ role: 'registrar', areas: ['DM01'] }]);
  });
});
