import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import { registrants } from '../registry/registry.tables.js';

type Headers = Record<string, string>;

const AREAS = [
  { code: 'C', name: 'Country', kind: 'country' },
  { code: 'R1', name: 'North', kind: 'region', parentCode: 'C' },
  { code: 'D1', name: 'Riverside', kind: 'district', parentCode: 'R1' },
  { code: 'R2', name: 'South', kind: 'region', parentCode: 'C' },
];
const AT = '2025-03-01T08:00:00Z';

/**
 * The rules API. Fixture: in D1 a household headed by Ana (f, 70) with Ben (m, 3); in R2 a
 * household headed by Carl (m, 40) with Dora (f, 2, disabled); Eve (f, 80) without an area.
 */
describe('rules API', () => {
  let system: TestSystem;
  const global: RequestContext = { actor: systemActor('test') };
  let uuids: Record<string, string>;

  before(async () => {
    system = await createTestSystem();
    await system.services.areas.importAreas(global, AREAS);
    const registry = system.services.registry;
    const person = async (given: string, gender: string, birthDate: string, area: string | undefined, extra: object = {}) =>
      (await registry.createIndividual(global, { name: { given, family: 'Test' }, gender, birthDate, ...(area ? { area } : {}), ...extra })).id;
    const ana = await person('Ana', '2', '1955-01-01', 'D1', { identifiers: [{ type: 'national-id', value: 'AB123456' }] });
    const ben = await person('Ben', '1', '2022-01-01', 'D1');
    const carl = await person('Carl', '1', '1985-01-01', 'R2');
    const dora = await person('Dora', '2', '2023-01-01', 'R2', { disability: { hasDisability: true } });
    const eve = await person('Eve', '2', '1945-01-01', undefined);
    const north = (await registry.createGroup(global, { name: 'North household', groupType: 'household', area: 'D1', income: { monthly: 300, currency: 'PHP' }, members: [{ individual: ana, role: 'head' }, { individual: ben, role: 'child' }] })).id;
    const south = (await registry.createGroup(global, { name: 'South household', groupType: 'household', area: 'R2', income: { monthly: 5000, currency: 'PHP' }, members: [{ individual: carl, role: 'head' }, { individual: dora, role: 'child' }] })).id;
    uuids = { ana, ben, carl, dora, eve, north, south };
  });
  after(async () => { await system.close(); });

  const post = async (url: string, body: unknown, headers: Headers) => system.http.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const rules = () => system.authAs('rule:read', 'individual:read', 'group:read');

  describe('POST /api/v2/rules/validate', () => {
    test('answers the result type', async () => {
      const response = await post('/api/v2/rules/validate', { expression: 'per_capita_income < 1500.0 && household_size >= 2', subject: 'group' }, await rules());
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), { valid: true, subject: 'group', type: 'bool' });
    });

    test('a type error is a 400 problem whose error carries kind, expected and position', async () => {
      const response = await post('/api/v2/rules/validate', { expression: 'age >= 18 &&\n  birth_date > 1990', subject: 'individual' }, await rules());
      assert.equal(response.statusCode, 400);
      assert.match(response.headers['content-type'] as string, /application\/problem\+json/);
      const [error] = response.json().errors;
      assert.equal(error.kind, 'wrong_type');
      assert.deepEqual(error.position, { offset: 15, line: 2, column: 3 });
      assert.match(error.expected, /date/);
    });

    test('unknown area and vocabulary codes are refused with their positions', async () => {
      const response = await post('/api/v2/rules/validate', { expression: 'in_area("NOWHERE") || gender == "7"', subject: 'individual' }, await rules());
      assert.equal(response.statusCode, 400);
      const errors = response.json().errors as Array<{ kind: string; position: { offset: number } }>;
      assert.deepEqual(errors.map((e) => [e.kind, e.position.offset]), [['unknown_area', 8], ['unknown_code', 32]]);
    });

    test('a malformed body or unknown subject is a 400; a bad time zone too', async () => {
      assert.equal((await post('/api/v2/rules/validate', { expression: 'true', subject: 'program' }, await rules())).statusCode, 400);
      assert.equal((await post('/api/v2/rules/validate', { subject: 'group' }, await rules())).statusCode, 400);
      assert.equal((await post('/api/v2/rules/preview', { expression: 'age > 1', subject: 'individual', timeZone: 'Mars/Olympus' }, await rules())).statusCode, 400);
    });
  });

  describe('POST /api/v2/rules/preview', () => {
    test('counts and lists the matches, as of the given instant', async () => {
      const response = await post('/api/v2/rules/preview', { expression: 'age >= 60', subject: 'individual', at: AT }, await rules());
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.equal(body.count, 2);
      assert.deepEqual(body.items.map((item: { id: string }) => item.id).sort(), [uuids.ana, uuids.eve].sort());
    });

    test('household rules: female-headed with a child under 5; has a disabled member', async () => {
      const female = await post('/api/v2/rules/preview', { expression: 'female_headed && members.exists(m, m.age < 5)', subject: 'group', at: AT }, await rules());
      assert.deepEqual(female.json().items.map((item: { id: string }) => item.id), [uuids.north]);
      const disabled = await post('/api/v2/rules/preview', { expression: 'has_disabled_member', subject: 'group', at: AT }, await rules());
      assert.deepEqual(disabled.json().items.map((item: { id: string }) => item.id), [uuids.south]);
    });

    test('a non-boolean expression cannot select registrants', async () => {
      const response = await post('/api/v2/rules/preview', { expression: 'age + 1', subject: 'individual' }, await rules());
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().errors[0].kind, 'wrong_type');
    });

    test('an area-bound user counts and sees only their subtree', async () => {
      const { headers } = await system.signInAs('registry-viewer@R1');
      const response = await post('/api/v2/rules/preview', { expression: 'age >= 0', subject: 'individual', at: AT }, headers);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.json().count, 2);
      assert.deepEqual(response.json().items.map((item: { id: string }) => item.id).sort(), [uuids.ana, uuids.ben].sort());
    });

    test('without pii:reveal the items are masked as in a registry search', async () => {
      const response = await post('/api/v2/rules/preview', { expression: 'age >= 60', subject: 'individual', at: AT }, await system.authAsMasked('rule:read', 'individual:read'));
      assert.equal(response.statusCode, 200, response.body);
      const search = await system.http.inject({ method: 'GET', url: `/api/v2/Individual?identifier=national-id%7CAB123456`, headers: await system.authAsMasked('individual:read') });
      const fromSearch = search.json().items[0];
      const fromRule = response.json().items.find((item: { id: string }) => item.id === uuids.ana);
      assert.deepEqual(fromRule, fromSearch);
    });

    test('previewing needs the registrant kind\'s read scope besides rule:read', async () => {
      const response = await post('/api/v2/rules/preview', { expression: 'age >= 60', subject: 'individual' }, await system.authAs('rule:read', 'group:read'));
      assert.equal(response.statusCode, 403);
    });

    test('user strings never reach SQL as text: a hostile literal is just a value that matches nothing', async () => {
      const expression = `gender == "x'; delete from registrants; --" || civil_status.startsWith("' or 1=1 --")`;
      const response = await post('/api/v2/rules/preview', { expression, subject: 'individual' }, await rules());
      assert.equal(response.statusCode, 400, 'gender code is checked');
      const free = await post('/api/v2/rules/preview', { expression: `civil_status.contains("'; delete from registrants; --") || identifiers.exists(i, i.value == "x' or '1'='1")`, subject: 'individual' }, await rules());
      assert.equal(free.statusCode, 200, free.body);
      assert.equal(free.json().count, 0);
      const [row] = await system.database.db.select({ count: sql<number>`count(*)::int` }).from(registrants);
      assert.equal(Number(row!.count), 7);
    });

    test('an identifier value matches through its blind index', async () => {
      const response = await post('/api/v2/rules/preview', { expression: 'identifiers.exists(i, i.type == "national-id" && i.value == "AB123456")', subject: 'individual' }, await rules());
      assert.deepEqual(response.json().items.map((item: { id: string }) => item.id), [uuids.ana]);
    });
  });

  describe('GET /api/v2/rules/symbols', () => {
    test('lists fields, relations, standard variables and functions', async () => {
      const response = await system.http.inject({ method: 'GET', url: '/api/v2/rules/symbols?subject=group', headers: await system.authAs('rule:read') });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json();
      assert.ok(body.relations.some((r: { name: string }) => r.name === 'members'));
      assert.ok(body.variables.some((v: { name: string }) => v.name === 'per_capita_income'));
      assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/rules/symbols?subject=x', headers: await system.authAs('rule:read') })).statusCode, 400);
      assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/rules/symbols?subject=group' })).statusCode, 401);
    });
  });

  describe('POST /api/v2/{Individual,Group}/$query', () => {
    test('pages through matches with links.next (same body) and an accurate total', async () => {
      const headers = await system.authAs('individual:read');
      const body = { expression: 'age >= 0', at: AT };
      const first = await post('/api/v2/Individual/$query?_count=2&_total=accurate', body, headers);
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().total, 5);
      assert.equal(first.json().items.length, 2);
      const next = new URL(first.json().links.next);
      const second = await post(`${next.pathname}${next.search}`, body, headers);
      const third = await post(`${new URL(second.json().links.next).pathname}${new URL(second.json().links.next).search}`, body, headers);
      const ids = [...first.json().items, ...second.json().items, ...third.json().items].map((item: { id: string }) => item.id);
      assert.equal(new Set(ids).size, 5);
      assert.equal(third.json().links.next, undefined);
      const other = await post(`${next.pathname}${next.search}`, { expression: 'age >= 1', at: AT }, headers);
      assert.equal(other.statusCode, 400, 'a cursor belongs to its expression');
    });

    test('groups: per-capita income below a line with at least two members', async () => {
      const response = await post('/api/v2/Group/$query', { expression: 'per_capita_income < 1500.0 && household_size >= 2' }, await system.authAs('group:read'));
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json().items.map((item: { id: string; size: number }) => [item.id, item.size]), [[uuids.north, 2]]);
    });

    test('needs the registry read scope of its kind; refuses bad input', async () => {
      assert.equal((await post('/api/v2/Group/$query', { expression: 'size > 0' }, await system.authAs('individual:read', 'rule:read'))).statusCode, 403);
      assert.equal((await post('/api/v2/Group/$query', { expression: 'size >' }, await system.authAs('group:read'))).statusCode, 400);
      assert.equal((await post('/api/v2/Group/$query?_count=0', { expression: 'size > 0' }, await system.authAs('group:read'))).statusCode, 400);
      assert.equal((await post('/api/v2/Group/$query', { expression: 'size > 0', subject: 'group' }, await system.authAs('group:read'))).statusCode, 400);
    });
  });
});
