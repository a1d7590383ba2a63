import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';

const BASE = '/api/v2/Vocabulary';

let system: TestSystem;
let reader: { authorization: string };
let writer: { authorization: string };
let outsider: { authorization: string };

before(async () => {
  system = await createTestSystem();
  reader = await system.authAs('vocabulary:read');
  writer = await system.authAs('vocabulary:read', 'vocabulary:write');
  outsider = await system.authAs('individual:read');
});
after(async () => {
  await system?.close();
});

type Headers = Record<string, string>;
const get = (url: string, headers: Headers = reader) => system.http.inject({ method: 'GET', url, headers });
const post = (url: string, payload?: object, headers: Headers = writer) => system.http.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });
const patch = (url: string, payload: object, headers: Headers) =>
  system.http.inject({ method: 'PATCH', url, headers: { 'content-type': 'application/merge-patch+json', ...writer, ...headers }, payload: JSON.stringify(payload) });

/** Every endpoint refuses a missing token (401) and a token without its scope (403). */
async function assertGuarded(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) {
  const anonymous = await system.http.inject({ method, url, ...(payload ? { payload } : {}) });
  assert.equal(anonymous.statusCode, 401);
  assert.equal(anonymous.headers['content-type'], 'application/problem+json; charset=utf-8');
  const unscoped = await system.http.inject({ method, url, headers: method === 'GET' ? outsider : reader, ...(payload ? { payload } : {}) });
  assert.equal(unscoped.statusCode, 403);
  assert.equal(unscoped.json().code, 'forbidden');
}

async function createCode(vocabulary: string, code: string, label = code) {
  const response = await post(`${BASE}/${vocabulary}/codes`, { code, label });
  assert.equal(response.statusCode, 201, response.body);
}

describe('GET /Vocabulary', () => {
  test('lists vocabularies with code counts and no database ids', async () => {
    const response = await get(BASE);
    assert.equal(response.statusCode, 200);
    const gender = response.json().items.find((v: { code: string }) => v.code === 'gender');
    assert.equal(gender.codeCount, 4);
    assert.equal(gender.namespaceUri, 'urn:iso:std:iso:5218');
    assert.equal(gender.id, undefined);
  });

  test('needs vocabulary:read', () => assertGuarded('GET', BASE));
});

describe('GET /Vocabulary/:code', () => {
  test('returns the vocabulary, its codes and an ETag', async () => {
    const response = await get(`${BASE}/gender`);
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(response.headers.etag, `W/"${body.version}"`);
    assert.deepEqual(body.codes.map((c: { code: string }) => c.code), ['0', '1', '2', '9']);
    assert.equal(body.codes[1].label, 'Male');
    assert.equal(body.nextCursor, null);
  });

  test('404 for an unknown vocabulary, 400 for a malformed code', async () => {
    assert.equal((await get(`${BASE}/nothing-here`)).json().code, 'not_found');
    const malformed = await get(`${BASE}/bad!code`);
    assert.equal(malformed.statusCode, 400);
  });

  test('needs vocabulary:read', () => assertGuarded('GET', `${BASE}/gender`));
});

describe('GET /Vocabulary/:code/codes', () => {
  test('pages with _count and _cursor, filters by code prefix and label', async () => {
    const first = (await get(`${BASE}/language/codes?_count=2`)).json();
    assert.equal(first.items.length, 2);
    assert.ok(first.nextCursor);
    const second = (await get(`${BASE}/language/codes?_count=2&_cursor=${first.nextCursor}`)).json();
    assert.ok(second.items[0].code > first.items[1].code);
    const prefixed = (await get(`${BASE}/country/codes?code=K`)).json();
    assert.ok(prefixed.items.length > 3 && prefixed.items.every((c: { code: string }) => c.code.startsWith('K')));
    const kenya = (await get(`${BASE}/country/codes?label=kenya&active=true`)).json();
    assert.deepEqual(kenya.items.map((c: { code: string }) => c.code), ['KE']);
  });

  test('rejects unknown parameters, a too large page and a forged cursor', async () => {
    const unknown = await get(`${BASE}/language/codes?sort=label`);
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().code, 'unknown_parameter');
    assert.equal((await get(`${BASE}/language/codes?_count=5000`)).statusCode, 400);
    const forged = await get(`${BASE}/language/codes?_cursor=***`);
    assert.equal(forged.statusCode, 400);
    assert.equal(forged.json().code, 'validation_failed');
  });

  test('reads one code with its ETag', async () => {
    const response = await get(`${BASE}/id-type/codes/national-id`);
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers.etag, 'W/"1"');
    assert.deepEqual(response.json().properties, { system: 'urn:commonweal:id:national-id', pattern: '^[A-Z0-9]{6,20}$' });
    assert.equal((await get(`${BASE}/gender/codes/7`)).statusCode, 404);
  });

  test('needs vocabulary:read', async () => {
    await assertGuarded('GET', `${BASE}/language/codes`);
    await assertGuarded('GET', `${BASE}/gender/codes/1`);
  });
});

describe('POST /Vocabulary', () => {
  test('creates a local vocabulary: 201, Location, audited', async () => {
    const response = await post(BASE, { code: 'benefit-kind', name: 'Benefit kind', description: 'What a programme pays' });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.headers.location, `${BASE}/benefit-kind`);
    assert.equal(response.headers.etag, 'W/"1"');
    const { createdAt, updatedAt, ...rest } = response.json<Record<string, unknown>>();
    assert.ok(typeof createdAt === 'string' && createdAt === updatedAt);
    assert.deepEqual(rest, {
      code: 'benefit-kind', namespaceUri: 'urn:commonweal:local:vocabulary:benefit-kind', name: 'Benefit kind',
      description: 'What a programme pays', isSystem: false, version: 1, codeCount: 0,
    });
    assert.equal((await get(`${BASE}/benefit-kind`)).statusCode, 200);
  });

  test('rejects an unknown field, an over-long name and a bad code', async () => {
    const unknown = await post(BASE, { code: 'x1', name: 'X', colour: 'red' });
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual(unknown.json().errors, [{ path: '/colour', message: 'is not a known field' }]);
    const long = await post(BASE, { code: 'x2', name: 'n'.repeat(201) });
    assert.deepEqual(long.json().errors, [{ path: '/name', message: 'must be at most 200 characters' }]);
    const badCode = await post(BASE, { code: '-bad code', name: 'Bad' });
    assert.equal(badCode.statusCode, 400);
    assert.equal(badCode.json().errors[0].path, '/code');
    const reserved = await post(BASE, { code: 'x3', name: 'X', namespaceUri: 'urn:commonweal:vocabulary:x3' });
    assert.equal(reserved.statusCode, 400);
  });

  test('409 for an existing code', async () => {
    const duplicate = await post(BASE, { code: 'gender', name: 'Gender again' });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().code, 'conflict');
  });

  test('needs vocabulary:write', () => assertGuarded('POST', BASE, { code: 'guarded', name: 'Guarded' }));
});

describe('POST /Vocabulary/:code/codes', () => {
  test('adds a local code to a system vocabulary: 201 and Location', async () => {
    const response = await post(`${BASE}/civil-status/codes`, { code: 'engaged', label: 'Engaged', properties: { order: 8 } });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.headers.location, `${BASE}/civil-status/codes/engaged`);
    assert.equal(response.json().isLocal, true);
    assert.deepEqual(response.json().properties, { order: 8 });
    await system.services.vocabularies.assertCodes([{ vocabulary: 'civil-status', code: 'engaged', path: '/civilStatus' }]);
  });

  test('adds a local id type with a default namespace URI', async () => {
    const response = await post(`${BASE}/id-type/codes`, { code: 'ration-card', label: 'Ration card', properties: { pattern: '^R[0-9]{8}$' } });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal((await system.services.vocabularies.findIdType('urn:commonweal:id:ration-card'))?.code, 'ration-card');
  });

  test('rejects bad input and duplicates', async () => {
    const duplicate = await post(`${BASE}/gender/codes`, { code: '1', label: 'Male again' });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().code, 'conflict');
    assert.equal((await post(`${BASE}/gender/codes`, { code: 'a b', label: 'Spaced' })).statusCode, 400);
    assert.equal((await post(`${BASE}/gender/codes`, { code: 'c'.repeat(65), label: 'Long' })).statusCode, 400);
    assert.deepEqual((await post(`${BASE}/gender/codes`, { code: 'y', label: 'l'.repeat(201) })).json().errors, [{ path: '/label', message: 'must be at most 200 characters' }]);
    assert.deepEqual((await post(`${BASE}/gender/codes`, { code: 'y', label: 'Y', isLocal: false })).json().errors, [{ path: '/isLocal', message: 'is not a known field' }]);
    assert.equal((await post(`${BASE}/gender/codes`, { code: 'y', label: 'Y', properties: { nested: { a: 1 } } })).statusCode, 400);
    assert.equal((await post(`${BASE}/nothing-here/codes`, { code: 'y', label: 'Y' })).statusCode, 404);
  });

  test('needs vocabulary:write', () => assertGuarded('POST', `${BASE}/gender/codes`, { code: 'guarded', label: 'Guarded' }));
});

describe('PATCH /Vocabulary/:code/codes/:codeValue', () => {
  test('relabels a local code with merge patch or JSON and If-Match', async () => {
    await createCode('group-type', 'cooperative', 'Coop');
    const response = await patch(`${BASE}/group-type/codes/cooperative`, { label: 'Cooperative' }, { 'if-match': 'W/"1"' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers.etag, 'W/"2"');
    assert.equal(response.json().label, 'Cooperative');
    const asJson = await patch(`${BASE}/group-type/codes/cooperative`, { label: 'Co-operative' }, { 'if-match': 'W/"2"', 'content-type': 'application/json' });
    assert.equal(asJson.statusCode, 200, asJson.body);
    assert.equal((await get(`${BASE}/group-type/codes/cooperative`)).json().label, 'Co-operative');
  });

  test('412 when stale, 428 without If-Match', async () => {
    await createCode('group-type', 'clan', 'Clan');
    const stale = await patch(`${BASE}/group-type/codes/clan`, { label: 'Clan group' }, { 'if-match': 'W/"5"' });
    assert.equal(stale.statusCode, 412);
    assert.equal(stale.json().code, 'precondition_failed');
    const missing = await system.http.inject({ method: 'PATCH', url: `${BASE}/group-type/codes/clan`, headers: writer, payload: { label: 'Clan group' } });
    assert.equal(missing.statusCode, 428);
  });

  test('422 for a system code', async () => {
    const response = await patch(`${BASE}/gender/codes/1`, { label: 'Man' }, { 'if-match': 'W/"1"' });
    assert.equal(response.statusCode, 422);
    assert.equal(response.json().code, 'business_rule_violated');
  });

  test('rejects unknown fields, null label, over-long label and other content types', async () => {
    await createCode('group-type', 'band', 'Band');
    const url = `${BASE}/group-type/codes/band`;
    assert.equal((await patch(url, { isActive: false }, { 'if-match': 'W/"1"' })).statusCode, 400);
    assert.equal((await patch(url, { label: null }, { 'if-match': 'W/"1"' })).statusCode, 400);
    assert.equal((await patch(url, { label: 'b'.repeat(201) }, { 'if-match': 'W/"1"' })).statusCode, 400);
    const text = await system.http.inject({ method: 'PATCH', url, headers: { ...writer, 'if-match': 'W/"1"', 'content-type': 'text/plain' }, payload: 'label=x' });
    assert.equal(text.statusCode, 415);
    const form = await system.http.inject({ method: 'PATCH', url, headers: { ...writer, 'if-match': 'W/"1"', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'label=x' });
    assert.equal(form.statusCode, 415);
  });

  test('needs vocabulary:write', () => assertGuarded('PATCH', `${BASE}/gender/codes/1`, { label: 'Guarded' }));
});

describe('POST /Vocabulary/:code/codes/:codeValue/$deactivate', () => {
  test('deactivates a local code (then refused as data) and reactivates it', async () => {
    await createCode('area-kind', 'ward', 'Ward');
    const response = await post(`${BASE}/area-kind/codes/ward/$deactivate`);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().isActive, false);
    assert.equal(response.headers.etag, 'W/"2"');
    await assert.rejects(
      system.services.vocabularies.assertCodes([{ vocabulary: 'area-kind', code: 'ward', path: '/kind' }]),
      { code: 'validation_failed' },
    );
    const reactivated = await post(`${BASE}/area-kind/codes/ward/$activate`);
    assert.equal(reactivated.json().isActive, true);
  });

  test('422 for a system code, 412 for a stale If-Match, 404 for an unknown code', async () => {
    const system422 = await post(`${BASE}/gender/codes/2/$deactivate`);
    assert.equal(system422.statusCode, 422);
    await createCode('area-kind', 'hamlet', 'Hamlet');
    const stale = await post(`${BASE}/area-kind/codes/hamlet/$deactivate`, undefined, { ...writer, 'if-match': 'W/"9"' });
    assert.equal(stale.statusCode, 412);
    assert.equal((await post(`${BASE}/area-kind/codes/nowhere/$deactivate`)).statusCode, 404);
  });

  test('needs vocabulary:write', () => assertGuarded('POST', `${BASE}/area-kind/codes/ward/$deactivate`));
});

test('the routes are documented under the vocabulary tag', async () => {
  const spec = (await system.http.inject({ method: 'GET', url: '/api/v2/openapi.json' })).json();
  assert.equal(spec.paths['/api/v2/Vocabulary/{code}/codes/{codeValue}'].patch.tags[0], 'vocabulary');
  assert.ok(spec.paths['/api/v2/Vocabulary/{code}/codes/{codeValue}/$deactivate']);
});
