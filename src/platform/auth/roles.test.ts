import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { actorForUser, isRoleName, parseRoleSpec, roleNames, roles } from './roles.js';
import { isKnownScope } from './scopes.js';
import { areaScopeOf, hasScope } from './access-tokens.js';

describe('permission matrix (roles.ts)', () => {
  test('declares the eleven staff roles, each granting only known scopes', () => {
    assert.deepEqual(roleNames.sort(), [
      'administrator', 'auditor', 'change-request-validator-hq', 'change-request-validator-local', 'finance-approver',
      'grievance-officer', 'program-manager', 'program-officer', 'registrar', 'registry-manager', 'registry-viewer',
    ]);
    for (const name of roleNames) {
      const unknown = roles[name].permissions.filter((permission) => !isKnownScope(permission) || permission.includes('*'));
      assert.deepEqual(unknown, [], `${name} grants unknown or wildcard permissions`);
    }
    assert.equal(isRoleName('registrar'), true);
    assert.equal(isRoleName('toString'), false);
  });

  test('separates duties: only some roles see unmasked personal data; the administrator holds no registry data', () => {
    const withPii = roleNames.filter((name) => (roles[name].permissions as readonly string[]).includes('pii:reveal')).sort();
    assert.deepEqual(withPii, ['change-request-validator-hq', 'change-request-validator-local', 'grievance-officer', 'registrar', 'registry-manager']);
    const admin = actorForUser('admin', [{ role: 'administrator', areas: [] }]);
    assert.equal(hasScope(admin.scopes, 'user:write'), true);
    assert.equal(hasScope(admin.scopes, 'individual:read'), false);
    assert.equal(hasScope(actorForUser('v', [{ role: 'registry-viewer', areas: [] }]).scopes, 'individual:write'), false);
  });

  test('a global role grants its permissions everywhere', () => {
    const actor = actorForUser('ana', [{ role: 'registrar', areas: [] }]);
    assert.deepEqual([actor.type, actor.id], ['user', 'ana']);
    assert.equal(hasScope(actor.scopes, 'individual:write'), true);
    assert.equal(areaScopeOf(actor, 'individual:write'), undefined);
    assert.equal(actor.areaLimits?.size, 0);
  });

  test('a local role limits its permissions to its areas; a global role lifts the limit of what it also grants', () => {
    const local = actorForUser('north', [{ role: 'registrar', areas: ['DM01', 'DM02'] }]);
    assert.deepEqual(areaScopeOf(local, 'individual:write'), ['DM01', 'DM02']);
    assert.deepEqual(areaScopeOf(local, 'individual:read'), ['DM01', 'DM02']);
    const mixed = actorForUser('mixed', [
      { role: 'registrar', areas: ['DM01'] },
      { role: 'grievance-officer', areas: ['DM03'] },
      { role: 'registry-viewer', areas: [] },
    ]);
    assert.equal(areaScopeOf(mixed, 'individual:read'), undefined, 'viewer is global: reading is unlimited');
    assert.deepEqual(areaScopeOf(mixed, 'individual:write'), ['DM01']);
    assert.deepEqual(areaScopeOf(mixed, 'pii:reveal'), ['DM01', 'DM03'], 'limits of several local roles are united');
    assert.deepEqual(areaScopeOf(mixed, 'grievance:write'), ['DM03']);
    assert.equal(hasScope(mixed.scopes, 'user:read'), false);
  });

  test('unknown role names grant nothing', () => {
    const actor = actorForUser('x', [{ role: 'superuser', areas: [] }]);
    assert.equal(actor.scopes.size, 0);
  });

  test('parses ROLE and ROLE@AREA,AREA', () => {
    assert.deepEqual(parseRoleSpec('auditor'), { role: 'auditor', areas: [] });
    assert.deepEqual(parseRoleSpec('registrar@DM01, DM02'), { role: 'registrar', areas: ['DM01', 'DM02'] });
  });
});
