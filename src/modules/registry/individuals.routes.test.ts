import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';

const ana = {
  name: { given: 'Ana', family: 'Peña', additional: 'María' },
  birthDate: '1990-04-12',
  gender: '2',
  civilStatus: 'married',
  phones: [{ value: '+63 917 123 4567', use: 'mobile' }],
  email: 'Ana.Pena@Example.org',
  disability: { hasDisability: true, types: ['seeing'] },
  income: { monthly: 12500.5, currency: 'PHP' },
  identifiers: [{ type: 'national-id', value: 'AB1234567' }],
};

describe('Individual API: /api/v2/Individual', () => {
  let system: TestSystem;
  let writer: { authorization: string };
  let reader: { authorization: string };

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await system.services.areas.importAreas({ actor: systemActor('test') }, [
      { code: 'DM', name: 'Demoland', kind: 'country' },
      { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' },
    ]);
    writer = await system.authAs('individual:write', 'individual:read');
    reader = await system.authAs('individual:read');
  });

  const create = (payload: unknown, headers = writer) => system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers, payload: payload as object });
  const countRows = async () => ({
    registrants: (await system.testDatabase.db.query.registrants.findMany()).length,
    identifiers: (await system.testDatabase.db.query.identifiers.findMany()).length,
    audit: (await system.testDatabase.db.query.auditLog.findMany()).length,
  });

  test('creates an individual: 201 with Location, ETag, normalised phone and email, an audit record', async () => {
    const response = await create({ ...ana, area: 'DM01' });
    assert.equal(response.statusCode, 201);
    const body = response.json();
    assert.match(body.id, /^[0-9a-f-]{36}$/);
    assert.equal(response.headers.location, `/api/v2/Individual/${body.id}`);
    assert.equal(response.headers.etag, 'W/"1"');
    assert.equal(body.name.display, 'Ana María Peña');
    assert.deepEqual(body.phones, [{ value: '+639171234567', use: 'mobile' }]);
    assert.equal(body.email, 'ana.pena@example.org');
    assert.equal(body.area, 'DM01');
    assert.deepEqual(body.income, { monthly: 12500.5, currency: 'PHP' });
    assert.deepEqual(body.identifiers, [{ type: 'national-id', system: 'urn:commonweal:id:national-id', value: 'AB1234567', isValid: true }]);
    assert.equal(JSON.stringify(body).includes('"registrantId"'), false, 'no database ids leak');
    const audit = (await system.testDatabase.db.query.auditLog.findMany()).find((row) => row.entityType === 'individual');
    assert.equal(audit?.action, 'create');
    assert.equal(audit?.entityId, body.id);
    assert.match(audit?.actorId ?? '', /^cw_/);
  });

  test('reads by UUID and by idtype|value (code or namespace URI)', async () => {
    const id = (await create(ana)).json().id;
    for (const ref of [id, 'national-id|AB1234567', encodeURIComponent('urn:commonweal:id:national-id|AB1234567')]) {
      const response = await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${ref}`, headers: reader });
      assert.equal(response.statusCode, 200, ref);
      assert.equal(response.json().id, id);
      assert.equal(response.headers.etag, 'W/"1"');
    }
    const missing = await system.http.inject({ method: 'GET', url: '/api/v2/Individual/00000000-0000-4000-8000-000000000000', headers: reader });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'not_found');
    const garbage = await system.http.inject({ method: 'GET', url: '/api/v2/Individual/not-a-ref', headers: reader });
    assert.equal(garbage.statusCode, 400);
  });

  test('refuses bad input with a clear 4xx naming the field, and writes nothing', async () => {
    await create(ana);
    const before = await countRows();
    const cases: Array<[string, unknown, number, string]> = [
      ['unknown field', { ...ana, identifiers: [], nickname: 'x' }, 400, '/nickname'],
      ['wrong type', { ...ana, identifiers: [], birthDate: 19900412 }, 400, '/birthDate'],
      ['over-long string', { ...ana, identifiers: [], name: { given: 'x'.repeat(201) } }, 400, '/name/given'],
      ['impossible date', { ...ana, identifiers: [], birthDate: '2023-02-30' }, 400, '/birthDate'],
      ['future birth date', { ...ana, identifiers: [], birthDate: '2999-01-01' }, 400, '/birthDate'],
      ['unknown gender code', { ...ana, identifiers: [], gender: '7' }, 400, '/gender'],
      ['unknown disability code', { ...ana, identifiers: [], disability: { hasDisability: true, types: ['flying'] } }, 400, '/disability/types/0'],
      ['unknown area', { ...ana, identifiers: [], area: 'XX99' }, 400, '/area'],
      ['bad phone', { ...ana, identifiers: [], phones: [{ value: '12' }] }, 400, '/phones/0/value'],
      ['identifier not matching its pattern', { ...ana, identifiers: [{ type: 'national-id', value: 'ab-1' }] }, 400, '/identifiers/0/value'],
      ['unknown id type', { ...ana, identifiers: [{ type: 'library-card', value: '1' }] }, 400, '/identifiers/0/type'],
      ['duplicate identifier', ana, 409, '/identifiers/0/value'],
      ['no name at all', { ...ana, identifiers: [], name: {} }, 400, '/name'],
      ['undefined custom field', { ...ana, identifiers: [], custom: { favouriteColour: 'red' } }, 400, '/custom/favouriteColour'],
    ];
    for (const [label, payload, status, path] of cases) {
      const response = await create(payload);
      assert.equal(response.statusCode, status, `${label}: ${response.body}`);
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', label);
      const problem = response.json();
      assert.ok(problem.errors.some((error: { path: string }) => error.path === path), `${label}: ${JSON.stringify(problem.errors)}`);
      assert.ok(problem.requestId, label);
      assert.equal(problem.status, status, label);
    }
    const malformed = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: { ...writer, 'content-type': 'application/json' }, payload: '{"name": ' });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().code, 'malformed_request');
    assert.deepEqual(await countRows(), before);
  });

  test('refuses a deactivated area', async () => {
    await system.services.areas.createArea({ actor: systemActor('test') }, { code: 'DM02', name: 'Old district', kind: 'region', parentCode: 'DM' });
    await system.services.areas.deactivateArea({ actor: systemActor('test') }, 'DM02', { reason: 'merged' });
    const response = await create({ ...ana, identifiers: [], area: 'DM02' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().errors[0].path, '/area');
  });

  test('validates custom fields against the deployment definitions', async () => {
    const { customFieldDefinitions } = await import('./registry.tables.js');
    await system.testDatabase.db.insert(customFieldDefinitions).values({ appliesTo: 'individual', name: 'schoolGrade', label: 'School grade', valueSchema: { type: 'integer', minimum: 0, maximum: 12 } });
    assert.equal((await create({ ...ana, identifiers: [], custom: { schoolGrade: 4 } })).statusCode, 201);
    const bad = await create({ ...ana, identifiers: [], custom: { schoolGrade: 'four' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].path, '/custom/schoolGrade');
  });

  test('updates with JSON merge patch and If-Match; 428 without it, 412 when stale', async () => {
    const id = (await create(ana)).json().id;
    const patch = (payload: unknown, ifMatch?: string) => system.http.inject({
      method: 'PATCH', url: `/api/v2/Individual/${id}`, payload: JSON.stringify(payload),
      headers: { ...writer, 'content-type': 'application/merge-patch+json', ...(ifMatch ? { 'if-match': ifMatch } : {}) },
    });
    assert.equal((await patch({ civilStatus: 'widowed' })).statusCode, 428);
    const updated = await patch({ civilStatus: 'widowed', email: null, name: { additional: null } }, 'W/"1"');
    assert.equal(updated.statusCode, 200, updated.body);
    assert.equal(updated.headers.etag, 'W/"2"');
    const body = updated.json();
    assert.equal(body.civilStatus, 'widowed');
    assert.equal(body.email, null);
    assert.equal(body.name.display, 'Ana Peña');
    assert.equal(body.birthDate, '1990-04-12', 'untouched fields are kept');
    assert.equal(body.identifiers.length, 1);
    const stale = await patch({ civilStatus: 'single' }, 'W/"1"');
    assert.equal(stale.statusCode, 412);
    assert.equal(stale.json().code, 'precondition_failed');
    assert.equal((await patch({ gender: 'x9' }, 'W/"2"')).statusCode, 400);
    assert.equal((await patch({ identifiers: [] }, 'W/"2"')).statusCode, 400, 'identifiers change through their own endpoints');
    const history = (await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${id}/_history`, headers: reader })).json().items;
    assert.deepEqual(history.map((entry: { action: string }) => entry.action), ['create', 'update']);
    assert.deepEqual(history[1].before, { civilStatus: 'married', email: 'ana.pena@example.org', name: { given: 'Ana', family: 'Peña', additional: 'María', display: 'Ana María Peña' }, version: 1 });
    assert.equal(history[1].after.civilStatus, 'widowed');
  });

  test('identifiers: add, refuse a duplicate, invalidate (kept but no longer live, so the value can be reused)', async () => {
    const first = (await create(ana)).json().id;
    const second = (await create({ ...ana, identifiers: [] })).json().id;
    const add = (id: string, value: string) => system.http.inject({ method: 'POST', url: `/api/v2/Individual/${id}/identifiers`, headers: writer, payload: { type: 'passport', value } });
    assert.equal((await add(first, 'P1234567')).statusCode, 201);
    assert.equal((await add(second, 'P1234567')).statusCode, 409);
    const invalidated = await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${first}/identifiers/$invalidate`, headers: writer, payload: { type: 'passport', value: 'P1234567', reason: 'reported stolen' } });
    assert.equal(invalidated.statusCode, 200);
    assert.deepEqual(invalidated.json().identifiers.find((i: { type: string }) => i.type === 'passport'), { type: 'passport', system: 'urn:commonweal:id:passport', value: 'P1234567', isValid: false, invalidReason: 'reported stolen' });
    assert.equal((await add(second, 'P1234567')).statusCode, 201);
    const lookup = await system.http.inject({ method: 'GET', url: '/api/v2/Individual/passport|P1234567', headers: reader });
    assert.equal(lookup.json().id, second);
  });

  test('deactivates with a reason (no hard delete), refuses twice, reactivates', async () => {
    const id = (await create(ana)).json().id;
    const deactivated = await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${id}/$deactivate`, headers: writer, payload: { reason: 'deceased', date: '2026-01-02' } });
    assert.equal(deactivated.statusCode, 200);
    assert.equal(deactivated.json().isActive, false);
    assert.deepEqual(deactivated.json().deactivation, { reason: 'deceased', date: '2026-01-02' });
    assert.equal((await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${id}/$deactivate`, headers: writer, payload: { reason: 'again' } })).statusCode, 409);
    assert.equal((await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${id}/$deactivate`, headers: writer, payload: {} })).statusCode, 400);
    assert.equal((await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${id}`, headers: reader })).statusCode, 200);
    const reactivated = await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${id}/$reactivate`, headers: writer });
    assert.equal(reactivated.json().isActive, true);
  });

  test('relationships between individuals', async () => {
    const a = (await create(ana)).json().id;
    const b = (await create({ name: { given: 'Ben', family: 'Peña' } })).json().id;
    const response = await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${a}/relationships`, headers: writer, payload: { type: 'spouse', target: b } });
    assert.equal(response.statusCode, 201);
    assert.equal(response.json().target, b);
    assert.equal((await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${a}/relationships`, headers: writer, payload: { type: 'enemy', target: b } })).statusCode, 400);
    assert.equal((await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${a}/relationships`, headers: writer, payload: { type: 'spouse', target: a } })).statusCode, 400);
    const read = (await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${a}`, headers: reader })).json();
    assert.deepEqual(read.relationships.map((r: { type: string; target: string }) => [r.type, r.target]), [['spouse', b]]);
  });

  test('permissions: 401 without a token, 403 with a read-only token on every write', async () => {
    const id = (await create(ana)).json().id;
    const writes = [
      { method: 'POST' as const, url: '/api/v2/Individual', payload: ana },
      { method: 'PATCH' as const, url: `/api/v2/Individual/${id}`, payload: { civilStatus: 'single' } },
      { method: 'POST' as const, url: `/api/v2/Individual/${id}/$deactivate`, payload: { reason: 'x' } },
      { method: 'POST' as const, url: `/api/v2/Individual/${id}/identifiers`, payload: { type: 'passport', value: 'P7654321' } },
      { method: 'POST' as const, url: `/api/v2/Individual/${id}/relationships`, payload: { type: 'spouse', target: id } },
    ];
    for (const request of writes) {
      assert.equal((await system.http.inject({ ...request })).statusCode, 401, request.url);
      assert.equal((await system.http.inject({ ...request, headers: reader })).statusCode, 403, request.url);
    }
    for (const url of [`/api/v2/Individual/${id}`, '/api/v2/Individual', `/api/v2/Individual/${id}/_history`]) {
      assert.equal((await system.http.inject({ method: 'GET', url })).statusCode, 401, url);
      assert.equal((await system.http.inject({ method: 'GET', url, headers: await system.authAs('group:read') })).statusCode, 403, url);
    }
  });
});
