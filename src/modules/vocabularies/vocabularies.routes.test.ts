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

/** A link is absolute on the configured public URL; `inject` takes its path and query. */
function pathOf(link: string): string {
  assert.ok(link.startsWith(`${system.config.publicUrl}/`), `${link} is not on ${system.config.publicUrl}`);
  return link.slice(system.config.publicUrl.length);
}

async function createCode(vocabulary: string, code: string, label = code) {
  const response = await post(`${BASE}/${vocabulary}/codes`, { code, label });
  assert.equal(response.statusCode, 201, response.body);
}

describe('GET /Vocabulary', () => {
  test('lists vocabularies with code counts and no database ids', async () => {
    const response = await get(BASE);
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.resourceType, 'SearchResult');
    assert.equal(body.count, body.items.length);
    assert.deepEqual(body.links, { self: `${system.config.publicUrl}${BASE}` });
    const gender = body.items.find((v: { code: string }) => v.code === 'gender');
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
    assert.deepEqual(body.links, { self: `${system.config.publicUrl}${BASE}/gender` });
  });

  test('links the codes past its first page to /codes, keeping the filters', async () => {
    const first = await get(`${BASE}/country/codes?code=K`);
    const all = first.json().items.map((c: { code: string }) => c.code);
    assert.ok(all.length > 3);
    const response = await get(`${BASE}/country?code=K&_count=2`);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.deepEqual(body.codes.map((c: { code: string }) => c.code), all.slice(0, 2));
    assert.equal(body.links.self, `${system.config.publicUrl}${BASE}/country?code=K&_count=2`);
    assert.ok(body.links.next.startsWith(`${system.config.publicUrl}${BASE}/country/codes?code=K&_count=2&_cursor=`), body.links.next);
    const next = (await get(pathOf(body.links.next))).json();
    assert.equal(next.resourceType, 'SearchResult');
    assert.deepEqual(next.items.map((c: { code: string }) => c.code), all.slice(2, 4));
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
    assert.equal(first.resourceType, 'SearchResult');
    assert.equal(first.count, 2);
    assert.equal(first.items.length, 2);
    assert.equal(first.links.self, `${system.config.publicUrl}${BASE}/language/codes?_count=2`);
    assert.ok(first.links.next.startsWith(`${system.config.publicUrl}${BASE}/language/codes?_count=2&_cursor=`), first.links.next);
    const second = (await get(pathOf(first.links.next))).json();
    assert.equal(second.links.self, first.links.next);
    assert.ok(second.items[0].code > first.items[1].code);
    const prefixed = (await get(`${BASE}/country/codes?code=K`)).json();
    assert.ok(prefixed.items.length > 3 && prefixed.items.every((c: { code: string }) => c.code.startsWith('K')));
    const kenya = (await get(`${BASE}/country/codes?label=kenya&active=true`)).json();
    assert.deepEqual(kenya.items.map((c: { code: string }) => c.code), ['KE']);
    assert.equal(kenya.count, 1);
    assert.deepEqual(kenya.links, { self: `${system.config.publicUrl}${BASE}/country/codes?label=kenya&active=true` }, 'no next link on the last page');
  });

  test('walks every page of a filtered list by following links.next', async () => {
    const all = (await get(`${BASE}/country/codes?code=K`)).json().items.map((c: { code: string }) => c.code);
    const seen: string[] = [];
    let url: string | undefined = `${BASE}/country/codes?code=K&_count=2`;
    while (url) {
      const response = await get(url);
      assert.equal(response.statusCode, 200, response.body);
      const page = response.json();
      assert.ok(page.count <= 2 && page.count === page.items.length);
      seen.push(...page.items.map((c: { code: string }) => c.code));
      if (page.links.next) assert.match(page.links.next, /\?code=K&_count=2&_cursor=[^&]+$/);
      url = page.links.next && pathOf(page.links.next);
    }
    assert.deepEqual(seen, all);
  });

  test('rejects unknown parameters, a too large page and a forged cursor', async () => {
    const unknown = await get(`${BASE}/language/codes?sort=label`);
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().code, 'unknown_parameter');
    assert.equal((await get(`${BASE}/language/codes?_count=5000`)).statusCode, 400);
    for (const cursor of ['***', 'ZW4=', 'A'.repeat(300)]) {
      for (const url of [`${BASE}/language/codes?_cursor=${cursor}`, `${BASE}/language?_cursor=${cursor}`]) {
        const forged = await get(url);
        assert.equal(forged.statusCode, 400, url);
        assert.equal(forged.json().code, 'unknown_parameter', url);
        assert.deepEqual(forged.json().errors.map((e: { path: string }) => e.path), ['query:/_cursor'], url);
      }
    }
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

  test('rejects unknown fields, null label, over-long label and other content types (415)', async () => {
    await createCode('group-type', 'band', 'Band');
    const url = `${BASE}/group-type/codes/band`;
    assert.equal((await patch(url, { isActive: false }, { 'if-match': 'W/"1"' })).statusCode, 400);
    assert.equal((await patch(url, { label: null }, { 'if-match': 'W/"1"' })).statusCode, 400);
    assert.equal((await patch(url, { label: 'b'.repeat(201) }, { 'if-match': 'W/"1"' })).statusCode, 400);
    const text = await system.http.inject({ method: 'PATCH', url, headers: { ...writer, 'if-match': 'W/"1"', 'content-type': 'text/plain' }, payload: 'label=x' });
    assert.equal(text.statusCode, 415);
    assert.equal(text.json().code, 'unsupported_media_type');
    const form = await system.http.inject({ method: 'PATCH', url, headers: { ...writer, 'if-match': 'W/"1"', 'content-type': 'application/x-www-form-urlencoded' }, payload: 'label=x' });
    assert.equal(form.statusCode, 415);
    assert.equal(form.json().code, 'unsupported_media_type');
    assert.equal((await get(url)).json().label, 'Band', 'a refused patch changes nothing');
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
