import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eq, sql } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { registrants } from './registry.tables.js';

const ORIGIN = 'http://commonweal.test';
type Params = Record<string, string | string[]>;
interface Page { total?: number; count: number; items: Array<Record<string, any>>; links: { self: string; next?: string } }

function queryOf(params: Params): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) for (const item of Array.isArray(value) ? value : [value]) search.append(name, item);
  const text = search.toString();
  return text ? `?${text}` : '';
}

describe('Registry search: GET /api/v2/Individual and /api/v2/Group', () => {
  let system: TestSystem;
  let writer: { authorization: string };
  let reader: { authorization: string };

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    writer = await system.authAs('individual:write', 'group:write');
    reader = await system.authAs('individual:read', 'group:read');
  });

  async function createIndividual(body: Record<string, unknown>): Promise<Record<string, any>> {
    const response = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: writer, payload: body });
    assert.equal(response.statusCode, 201, response.body);
    return response.json();
  }

  async function createGroup(body: Record<string, unknown>): Promise<Record<string, any>> {
    const response = await system.http.inject({ method: 'POST', url: '/api/v2/Group', headers: writer, payload: body });
    assert.equal(response.statusCode, 201, response.body);
    return response.json();
  }

  const person = (given: string, family: string, extra: Record<string, unknown> = {}) => createIndividual({ name: { given, family }, ...extra });

  async function search(resource: 'Individual' | 'Group', params: Params | string, headers = reader): Promise<Page> {
    const url = `/api/v2/${resource}${typeof params === 'string' ? params : queryOf(params)}`;
    const response = await system.http.inject({ method: 'GET', url, headers });
    assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
    return response.json();
  }

  const ids = (page: Page) => page.items.map((item) => item.id as string);
  const sameSet = (actual: string[], expected: string[], message?: string) => assert.deepEqual([...actual].sort(), [...expected].sort(), message);

  async function assertRefused(resource: 'Individual' | 'Group', query: string) {
    const response = await system.http.inject({ method: 'GET', url: `/api/v2/${resource}${query}`, headers: reader });
    assert.equal(response.statusCode, 400, `${query} should be refused: ${response.body}`);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/, query);
    const body = response.json();
    assert.ok(['unknown_parameter', 'validation_failed'].includes(body.code), `${query}: code ${body.code}`);
    assert.equal(body.status, 400);
    assert.equal(body.items, undefined, `${query} must not return results`);
    return body;
  }

  test('name is a case- and accent-insensitive contains, and wildcards are literal', async () => {
    const jose = await person('José', 'Peña');
    const josefina = await person('Josefina', 'Reyes');
    const ana = await person('Ana', 'López');
    sameSet(ids(await search('Individual', { name: 'jose' })), [jose.id, josefina.id]);
    sameSet(ids(await search('Individual', { name: 'PEÑA' })), [jose.id]);
    sameSet(ids(await search('Individual', { name: 'pena' })), [jose.id]);
    sameSet(ids(await search('Individual', { name: 'JOSÉ PEÑA' })), [jose.id]);
    sameSet(ids(await search('Individual', { name: 'lopez' })), [ana.id]);
    sameSet(ids(await search('Individual', { name: 'fina re' })), [josefina.id]);
    assert.deepEqual(ids(await search('Individual', { name: 'nobody' })), []);
    assert.deepEqual(ids(await search('Individual', { name: '%' })), [], '% is not a wildcard');
    assert.deepEqual(ids(await search('Individual', { name: '_' })), [], '_ is not a wildcard');
    assert.equal((await search('Individual', {})).count, 3);
  });

  test('identifier accepts the id-type code or its namespace URI, and matches only live identifiers', async () => {
    const ana = await person('Ana', 'Reyes', { identifiers: [{ type: 'national-id', value: 'AB123456' }] });
    const ben = await person('Ben', 'Cruz', { identifiers: [{ type: 'birth-registration', value: 'AB123456' }, { type: 'national-id', value: 'CD654321' }] });
    await person('Cy', 'Dela', {});
    assert.deepEqual(ids(await search('Individual', { identifier: 'national-id|AB123456' })), [ana.id]);
    assert.deepEqual(ids(await search('Individual', { identifier: 'urn:commonweal:id:national-id|AB123456' })), [ana.id]);
    assert.deepEqual(ids(await search('Individual', { identifier: 'birth-registration|AB123456' })), [ben.id]);
    assert.deepEqual(ids(await search('Individual', { identifier: 'urn:commonweal:id:national-id|CD654321' })), [ben.id]);
    assert.deepEqual(ids(await search('Individual', { identifier: 'national-id|ZZ999999' })), []);
    assert.deepEqual(ids(await search('Individual', { identifier: 'passport|AB123456' })), []);

    const invalidated = await system.http.inject({
      method: 'POST', url: `/api/v2/Individual/${ana.id}/identifiers/$invalidate`, headers: writer,
      payload: { type: 'national-id', value: 'AB123456', reason: 'issued in error' },
    });
    assert.equal(invalidated.statusCode, 200, invalidated.body);
    assert.deepEqual(ids(await search('Individual', { identifier: 'national-id|AB123456' })), []);

    const unknown = await assertRefused('Individual', queryOf({ identifier: 'library-card|AB123456' }));
    assert.equal(unknown.code, 'unknown_parameter');
  });

  test('birthdate supports eq ne lt le gt ge and a repeated range', async () => {
    const b1990 = await person('Ann', 'Old', { birthDate: '1990-05-01' });
    const b2000 = await person('Bob', 'Millennium', { birthDate: '2000-01-01' });
    const b2005 = await person('Cid', 'Middle', { birthDate: '2005-06-15' });
    const b2010 = await person('Dee', 'Young', { birthDate: '2010-01-01' });
    await person('Eve', 'Undated');
    const cases: Array<[string | string[], string[]]> = [
      ['2000-01-01', [b2000.id]],
      ['eq2000-01-01', [b2000.id]],
      ['ne2000-01-01', [b1990.id, b2005.id, b2010.id]],
      ['lt2000-01-01', [b1990.id]],
      ['le2000-01-01', [b1990.id, b2000.id]],
      ['gt2005-06-15', [b2010.id]],
      ['ge2005-06-15', [b2005.id, b2010.id]],
      ['lt1900-01-01', []],
      [['ge2000-01-01', 'lt2010-01-01'], [b2000.id, b2005.id]],
      [['gt1990-05-01', 'le2005-06-15'], [b2000.id, b2005.id]],
      [['ge2000-01-01', 'lt2000-01-01'], []],
    ];
    for (const [birthdate, expected] of cases) sameSet(ids(await search('Individual', { birthdate })), expected, `birthdate=${String(birthdate)}`);
  });

  test('gender matches the code', async () => {
    const man = await person('Ramon', 'Diaz', { gender: '1' });
    const woman = await person('Rosa', 'Diaz', { gender: '2' });
    const other = await person('Sam', 'Diaz', { gender: '0' });
    await person('Ungendered', 'Diaz');
    assert.deepEqual(ids(await search('Individual', { gender: '1' })), [man.id]);
    assert.deepEqual(ids(await search('Individual', { gender: '2' })), [woman.id]);
    assert.deepEqual(ids(await search('Individual', { gender: '0' })), [other.id]);
    assert.deepEqual(ids(await search('Individual', { gender: '9' })), []);
    sameSet(ids(await search('Individual', { gender: '2', name: 'diaz' })), [woman.id]);
  });

  test('area matches the whole subtree; an unknown area is refused', async () => {
    await system.services.areas.importAreas({ actor: systemActor('test') }, [
      { code: 'CC', name: 'Country', kind: 'country' },
      { code: 'R1', name: 'Region One', kind: 'region', parentCode: 'CC' },
      { code: 'P1', name: 'Province One', kind: 'province', parentCode: 'R1' },
      { code: 'D1', name: 'District One', kind: 'district', parentCode: 'P1' },
      { code: 'M1', name: 'Municipality One', kind: 'municipality', parentCode: 'D1' },
      { code: 'V1', name: 'Village One', kind: 'village', parentCode: 'M1' },
      { code: 'R2', name: 'Region Two', kind: 'region', parentCode: 'CC' },
      { code: 'V2', name: 'Village Two', kind: 'village', parentCode: 'R2' },
    ]);
    const villager = await person('Vera', 'Village', { area: 'V1' });
    const inDistrict = await person('Dina', 'District', { area: 'D1' });
    const elsewhere = await person('Omar', 'Other', { area: 'V2' });
    await person('Nora', 'Nowhere');
    const household = await createGroup({ groupType: 'household', name: 'Village household', area: 'V1' });
    await createGroup({ groupType: 'household', name: 'Other household', area: 'R2' });

    sameSet(ids(await search('Individual', { area: 'R1' })), [villager.id, inDistrict.id]);
    sameSet(ids(await search('Individual', { area: 'P1' })), [villager.id, inDistrict.id]);
    sameSet(ids(await search('Individual', { area: 'M1' })), [villager.id]);
    sameSet(ids(await search('Individual', { area: 'V1' })), [villager.id]);
    sameSet(ids(await search('Individual', { area: 'R2' })), [elsewhere.id]);
    sameSet(ids(await search('Individual', { area: 'CC' })), [villager.id, inDistrict.id, elsewhere.id]);
    assert.equal((await search('Individual', { area: 'V1' })).items[0]?.area, 'V1');
    assert.deepEqual(ids(await search('Group', { area: 'R1' })), [household.id]);

    const unknown = await assertRefused('Individual', '?area=NOPE');
    assert.equal(unknown.code, 'unknown_parameter');
    await assertRefused('Group', '?area=NOPE');
  });

  test('group= finds the active members of a group; member= and groupType= find groups', async () => {
    const head = await person('Hector', 'Head');
    const child = await person('Carla', 'Child');
    const leaver = await person('Lena', 'Leaver');
    const outsider = await person('Otto', 'Outsider');
    const household = await createGroup({
      groupType: 'household', name: 'Household of Hector',
      members: [{ individual: head.id, role: 'head' }, { individual: child.id, role: 'child' }, { individual: leaver.id, role: 'other-relative' }],
    });
    const community = await createGroup({ groupType: 'community', name: 'Weavers', members: [{ individual: leaver.id, role: 'other' }, { individual: outsider.id, role: 'other' }] });
    const emptyFamily = await createGroup({ groupType: 'family', name: 'Empty family' });

    const ended = await system.http.inject({
      method: 'POST', url: `/api/v2/Group/${household.id}/members/${leaver.id}/$end`, headers: writer, payload: { reason: 'moved out' },
    });
    assert.equal(ended.statusCode, 200, ended.body);

    sameSet(ids(await search('Individual', { group: household.id })), [head.id, child.id], 'ended memberships are not counted');
    sameSet(ids(await search('Individual', { group: community.id })), [leaver.id, outsider.id]);
    assert.deepEqual(ids(await search('Individual', { group: emptyFamily.id })), []);
    assert.deepEqual(ids(await search('Individual', { group: household.id.toUpperCase() })).sort(), [head.id, child.id].sort());
    assert.deepEqual(ids(await search('Individual', { group: head.id })), [], 'an individual is not a group');
    assert.deepEqual(ids(await search('Individual', { group: '00000000-0000-4000-8000-000000000000' })), []);
    sameSet(ids(await search('Individual', { group: household.id, name: 'child' })), [child.id]);

    assert.deepEqual(ids(await search('Group', { member: head.id })), [household.id]);
    assert.deepEqual(ids(await search('Group', { member: leaver.id })), [community.id], 'the ended household membership does not count');
    assert.deepEqual(ids(await search('Group', { member: household.id })), []);
    assert.deepEqual(ids(await search('Group', { groupType: 'household' })), [household.id]);
    assert.deepEqual(ids(await search('Group', { groupType: 'community' })), [community.id]);
    assert.deepEqual(ids(await search('Group', { groupType: 'family' })), [emptyFamily.id]);
    assert.deepEqual(ids(await search('Group', { groupType: 'other' })), []);
    assert.deepEqual(ids(await search('Group', { groupType: 'community', member: head.id })), []);
    const found = (await search('Group', { member: child.id })).items[0]!;
    assert.equal(found.size, 2);
    assert.equal(found.head, head.id);

    for (const malformed of ['not-a-uuid', '-'.repeat(36), `${'0'.repeat(35)}-`, `${household.id.slice(0, -1)}g`, `${household.id}0`]) {
      await assertRefused('Individual', `?group=${malformed}`);
      await assertRefused('Group', `?member=${malformed}`);
    }
  });

  test('_lastUpdated compares with the precision of the given value', async () => {
    const first = await person('Fay', 'First');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await person('Sid', 'Second');
    assert.ok(first.updatedAt < second.updatedAt);
    const minute = first.updatedAt.slice(0, 16);
    const sameMinute = second.updatedAt.slice(0, 16) === minute;
    const cases: Array<[string | string[], string[]]> = [
      [`gt${first.updatedAt}`, [second.id]],
      [`ge${first.updatedAt}`, [first.id, second.id]],
      [`lt${second.updatedAt}`, [first.id]],
      [`le${first.updatedAt}`, [first.id]],
      [`eq${first.updatedAt}`, [first.id]],
      [first.updatedAt, [first.id]],
      [`ne${first.updatedAt}`, [second.id]],
      [`gt${second.updatedAt}`, []],
      [`ge${first.updatedAt.replace('Z', '+00:00')}`, [first.id, second.id]],
      [`ge${first.updatedAt.replace('Z', '000Z')}`, [first.id, second.id]],
      [`lt${first.updatedAt.replace('Z', '000Z')}`, []],
      // Minute precision: the value stands for the whole minute.
      [`eq${minute}Z`, sameMinute ? [first.id, second.id] : [first.id]],
      [`le${minute}Z`, sameMinute ? [first.id, second.id] : [first.id]],
      [`lt${minute}Z`, []],
      [`gt${minute}Z`, sameMinute ? [] : [second.id]],
      ['gt2000-01-01', [first.id, second.id]],
      ['lt2000-01-01T00:00:00Z', []],
      [['gt2000-01-01T00:00:00Z', `le${first.updatedAt}`], [first.id]],
    ];
    for (const [lastUpdated, expected] of cases) sameSet(ids(await search('Individual', { _lastUpdated: lastUpdated })), expected, `_lastUpdated=${String(lastUpdated)}`);

    const unencodedPlus = await system.http.inject({ method: 'GET', url: '/api/v2/Individual?_lastUpdated=ge2000-01-01T00:00:00+02:00', headers: reader });
    assert.equal(unencodedPlus.statusCode, 200, unencodedPlus.body);
    assert.equal(unencodedPlus.json().count, 2);

    await new Promise((resolve) => setTimeout(resolve, 5));
    const patched = await system.http.inject({
      method: 'PATCH', url: `/api/v2/Individual/${first.id}`, headers: { ...writer, 'if-match': 'W/"1"' }, payload: { birthDate: '1999-09-09' },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual(ids(await search('Individual', { _lastUpdated: `gt${second.updatedAt}` })), [first.id]);
    assert.deepEqual(ids(await search('Individual', { _lastUpdated: `gt${patched.json().updatedAt}` })), []);
  });

  test('active=false finds deactivated records, active=true the others', async () => {
    const leaving = await person('Gone', 'Away');
    const staying = await person('Still', 'Here');
    const group = await createGroup({ groupType: 'family', name: 'Old family' });
    sameSet(ids(await search('Individual', { active: 'true' })), [leaving.id, staying.id]);
    assert.deepEqual(ids(await search('Individual', { active: 'false' })), []);

    for (const [url, payload] of [[`/api/v2/Individual/${leaving.id}/$deactivate`, { reason: 'deceased' }], [`/api/v2/Group/${group.id}/$deactivate`, { reason: 'dissolved' }]] as const) {
      const response = await system.http.inject({ method: 'POST', url, headers: writer, payload });
      assert.equal(response.statusCode, 200, response.body);
    }
    const inactive = await search('Individual', { active: 'false' });
    assert.deepEqual(ids(inactive), [leaving.id]);
    assert.equal(inactive.items[0]!.isActive, false);
    assert.deepEqual(ids(await search('Individual', { active: 'true' })), [staying.id]);
    sameSet(ids(await search('Individual', {})), [leaving.id, staying.id], 'without active= deactivated records are found too');
    assert.deepEqual(ids(await search('Group', { active: 'false' })), [group.id]);
    assert.deepEqual(ids(await search('Group', { active: 'true' })), []);
  });

  test('_count defaults to 20, allows 100 at most and refuses 0 and 101', async () => {
    for (let index = 0; index < 105; index += 1) await person(`Count${String(index).padStart(3, '0')}`, 'Many');
    const first = await search('Individual', {});
    assert.equal(first.count, 20);
    assert.equal(first.items.length, 20);
    assert.ok(first.links.next);
    assert.equal(first.total, undefined);
    const hundred = await search('Individual', { _count: '100' });
    assert.equal(hundred.items.length, 100);
    assert.ok(hundred.links.next);
    const rest = await search('Individual', hundred.links.next!.slice(ORIGIN.length + '/api/v2/Individual'.length));
    assert.equal(rest.items.length, 5);
    assert.equal(rest.links.next, undefined);
    assert.equal((await search('Individual', { _count: '1' })).items.length, 1);
    for (const count of ['101', '0', '1000', '-1', 'ten', '1.5', '']) await assertRefused('Individual', `?_count=${count}`);
    const all = await search('Individual', { _count: '100', name: 'count00' });
    assert.equal(all.items.length, 10);
    assert.equal(all.links.next, undefined, 'no next link when the page holds the rest');
  });

  test('_sort orders by name, -birthdate and several keys', async () => {
    const carla = await person('Carla', 'Zapata', { birthDate: '1985-03-01' });
    const ana = await person('Ana', 'Zapata', { birthDate: '2001-07-07' });
    const bea = await person('Bea', 'Zapata', { birthDate: '1985-03-01' });
    const dan = await person('Dan', 'Zapata');
    const ana2 = await person('Ana', 'Zapata', { birthDate: '1970-01-01' });
    const order = async (sort: string) => ids(await search('Individual', { _sort: sort }));
    assert.deepEqual(await order('name'), [ana.id, ana2.id, bea.id, carla.id, dan.id], 'equal names in creation order');
    assert.deepEqual(await order('-name'), [dan.id, carla.id, bea.id, ana.id, ana2.id]);
    assert.deepEqual(await order('-birthdate'), [ana.id, carla.id, bea.id, ana2.id, dan.id], 'undated last when descending');
    assert.deepEqual(await order('birthdate'), [dan.id, ana2.id, carla.id, bea.id, ana.id], 'undated first when ascending');
    assert.deepEqual(await order('-birthdate,name'), [ana.id, bea.id, carla.id, ana2.id, dan.id]);
    assert.deepEqual(await order('-birthdate,-name'), [ana.id, carla.id, bea.id, ana2.id, dan.id]);
    assert.deepEqual(await order('name,-birthdate'), [ana.id, ana2.id, bea.id, carla.id, dan.id]);
    assert.deepEqual(await order('name,birthdate'), [ana2.id, ana.id, bea.id, carla.id, dan.id]);
    assert.deepEqual(await order('_created'), [carla.id, ana.id, bea.id, dan.id, ana2.id]);
    assert.deepEqual(await order('-_created'), [ana2.id, dan.id, bea.id, ana.id, carla.id]);
    assert.deepEqual(await order('-_lastUpdated'), [ana2.id, dan.id, bea.id, ana.id, carla.id]);

    await createGroup({ groupType: 'family', name: 'Beta family' });
    await createGroup({ groupType: 'family', name: 'Alpha family' });
    assert.deepEqual((await search('Group', { _sort: 'name' })).items.map((item) => item.name), ['Alpha family', 'Beta family']);
    assert.deepEqual((await search('Group', { _sort: '-name' })).items.map((item) => item.name), ['Beta family', 'Alpha family']);
    for (const sort of ['birthdate', 'gender', 'name,', '--name', 'Name', ',']) await assertRefused(sort === 'birthdate' ? 'Group' : 'Individual', `?_sort=${encodeURIComponent(sort)}`);
  });

  describe('cursor paging', () => {
    const families = ['Abbott', 'Baker', 'Clark', 'Dixon', 'Evans', 'Foster', 'Grant', 'Hughes', 'Irwin', 'Jones', 'Knight', 'Lewis', 'Mason', 'Nolan', 'Owens'];
    let everyone: Array<{ id: string; gender: string | null }>;

    beforeEach(async () => {
      everyone = [];
      for (let index = 0; index < 45; index += 1) {
        // Names repeat (3 of each), birth dates repeat and a fifth have none, so ties and nulls occur under every sort.
        const birthDate = index % 5 === 0 ? undefined : `19${String(60 + (index % 7) * 5)}-0${1 + (index % 3)}-15`;
        const gender = index % 2 === 0 ? '1' : '2';
        const created = await person('Pager', families[(index * 7) % families.length]!, { gender, ...(birthDate ? { birthDate } : {}) });
        everyone.push({ id: created.id, gender });
      }
      // Touch a few so the order by _lastUpdated differs from creation order.
      for (const index of [3, 17, 0, 30]) {
        const patched = await system.http.inject({
          method: 'PATCH', url: `/api/v2/Individual/${everyone[index]!.id}`, headers: { ...writer, 'if-match': 'W/"1"' }, payload: { civilStatus: 'married' },
        });
        assert.equal(patched.statusCode, 200, patched.body);
      }
    });

    /** The expected order, computed from the stored rows independently of the search code. */
    async function expectedOrder(sort: string, filter: (row: { uuid: string }) => boolean = () => true): Promise<string[]> {
      const rows = await system.testDatabase.db.select({
        id: registrants.id,
        uuid: registrants.uuid,
        name: registrants.displayName,
        birthDate: registrants.birthDate,
        updated: sql<string>`to_char(${registrants.updatedAt} at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`,
        created: sql<string>`to_char(${registrants.createdAt} at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`,
      }).from(registrants).where(eq(registrants.kind, 'individual'));
      const keys = sort ? sort.split(',') : [];
      const valueOf = (row: typeof rows[number], key: string): string => {
        switch (key) {
          case 'name': return row.name;
          case 'birthdate': return row.birthDate ?? '0001-01-01';
          case '_lastUpdated': return row.updated;
          case '_created': return row.created;
          default: throw new Error(key);
        }
      };
      const compare = (a: typeof rows[number], b: typeof rows[number]): number => {
        for (const spec of keys) {
          const descending = spec.startsWith('-');
          const key = descending ? spec.slice(1) : spec;
          const x = valueOf(a, key);
          const y = valueOf(b, key);
          if (x !== y) return (x < y ? -1 : 1) * (descending ? -1 : 1);
        }
        return a.id - b.id;
      };
      return rows.filter(filter).sort(compare).map((row) => row.uuid);
    }

    async function walk(params: Params): Promise<{ ids: string[]; pages: number }> {
      const seen: string[] = [];
      let url: string | undefined = `/api/v2/Individual${queryOf({ ...params, _count: '10' })}`;
      let pages = 0;
      while (url) {
        pages += 1;
        assert.ok(pages <= 10, 'paging does not end');
        const response: { statusCode: number; body: string; json(): unknown } = await system.http.inject({ method: 'GET', url, headers: reader });
        assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
        const page = response.json() as Page;
        assert.ok(page.items.length <= 10);
        assert.equal(page.count, page.items.length);
        assert.ok(page.links.self.startsWith(`${ORIGIN}/api/v2/Individual`));
        seen.push(...ids(page));
        const next = page.links.next;
        if (next) {
          assert.equal(page.items.length, 10, 'only a full page has a next link');
          assert.ok(next.startsWith(`${ORIGIN}/api/v2/Individual?`), next);
          url = next.slice(ORIGIN.length);
        } else {
          url = undefined;
        }
      }
      return { ids: seen, pages };
    }

    for (const sort of ['', 'name', '-name', 'birthdate', '-birthdate,name', '-_lastUpdated', '_created', 'name,-birthdate,_lastUpdated']) {
      test(`walks every page once, in order, with _sort=${sort || '(none)'}`, async () => {
        const { ids: walked, pages } = await walk(sort ? { _sort: sort } : {});
        assert.equal(pages, 5);
        assert.equal(new Set(walked).size, walked.length, 'no individual appears twice');
        sameSet(walked, everyone.map((e) => e.id), 'every individual appears');
        assert.deepEqual(walked, await expectedOrder(sort));
      });
    }

    test('the next link keeps the filters', async () => {
      const men = new Set(everyone.filter((e) => e.gender === '1').map((e) => e.id));
      const { ids: walked, pages } = await walk({ _sort: '-birthdate,name', gender: '1' });
      assert.equal(pages, 3);
      assert.deepEqual(walked, await expectedOrder('-birthdate,name', (row) => men.has(row.uuid)));
      const range = await walk({ _sort: 'name', birthdate: ['ge1970-01-01', 'lt1990-01-01'] });
      const inRange = await system.testDatabase.db.select({ uuid: registrants.uuid }).from(registrants)
        .where(sql`${registrants.birthDate} >= '1970-01-01' and ${registrants.birthDate} < '1990-01-01'`);
      assert.ok(inRange.length > 10);
      assert.deepEqual(range.ids, await expectedOrder('name', (row) => inRange.some((r) => r.uuid === row.uuid)));
    });

    test('a cursor is refused with a different _sort or when forged', async () => {
      const first = await search('Individual', { _sort: 'name', _count: '10' });
      const cursor = new URL(first.links.next!).searchParams.get('_cursor')!;
      assert.ok(cursor);
      const again = await search('Individual', { _sort: 'name', _count: '10', _cursor: cursor });
      assert.equal(again.items.length, 10);
      for (const sort of ['-name', 'birthdate', 'name,birthdate']) {
        const refused = await assertRefused('Individual', queryOf({ _sort: sort, _count: '10', _cursor: cursor }));
        assert.equal(refused.code, 'unknown_parameter');
      }
      await assertRefused('Individual', queryOf({ _count: '10', _cursor: cursor }));
      await assertRefused('Individual', queryOf({ _sort: 'name', _cursor: 'not-a-cursor' }));
      const forge = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
      await assertRefused('Individual', queryOf({ _sort: 'name', _cursor: forge({ s: 'name', v: ['x'], i: 'one' }) }));
      await assertRefused('Individual', queryOf({ _sort: 'name', _cursor: forge({ s: 'name', v: [], i: 1 }) }));
      await assertRefused('Individual', queryOf({ _sort: 'birthdate', _cursor: forge({ s: 'birthdate', v: ['garbage'], i: 1 }) }));
      await assertRefused('Individual', queryOf({ _sort: '-_lastUpdated', _cursor: forge({ s: '-_lastUpdated', v: ['not a time'], i: 1 }) }));
      await assertRefused('Individual', queryOf({ _sort: 'name', _cursor: forge({ s: 'name', v: [{ a: 1 }], i: 1 }) }));
    });

    test('_total=accurate gives the exact number on every page; it is absent otherwise', async () => {
      const first = await search('Individual', { _total: 'accurate', _count: '10', _sort: 'name' });
      assert.equal(first.total, 45);
      assert.equal(first.count, 10);
      const second = await search('Individual', first.links.next!.slice(`${ORIGIN}/api/v2/Individual`.length));
      assert.equal(second.total, 45);
      assert.equal(new URL(first.links.next!).searchParams.get('_total'), 'accurate');
      assert.equal((await search('Individual', { _total: 'accurate', gender: '2' })).total, 22);
      assert.equal((await search('Individual', { _total: 'accurate', name: 'nobody' })).total, 0);
      assert.equal((await search('Individual', { _count: '10' })).total, undefined);
      assert.equal('total' in (await search('Individual', { _total: 'none' })), false);
      assert.equal((await search('Group', { _total: 'accurate' })).total, 0);
    });
  });

  test('unknown parameters and malformed values are refused, never widened', async () => {
    await person('Only', 'One', { birthDate: '2000-01-01', gender: '1' });
    const individualQueries = [
      '?foo=1', '?name=one&foo=1', '?Name=one', '?birthdate=xx2000-01-01', '?birthdate=2023-02-30', '?birthdate=2000-1-1', '?birthdate=2000-01-01T00:00:00Z',
      '?birthdate=', '?identifier=nopipe', '?identifier=national-id%7C', '?identifier=%7CAB123456', '?gender=7', '?gender=male', '?active=maybe',
      '?_count=0', '?_count=101', '?_sort=foo', '?_total=estimate', '?name=', '?name=%20%20', '?name=a&name=b', '?gender=1&gender=2',
      '?_lastUpdated=2024-01-01junk', '?_lastUpdated=gt2023-02-30T00:00:00Z', '?_lastUpdated=2024-13-01', '?_lastUpdated=yesterday', '?_lastUpdated=gt2024-01-01T25:00:00Z',
      '?_lastUpdated=gt2024-01-01T10:00:00.1234567Z', '?_lastUpdated=2024-01-01Z', '?_lastUpdated=ge2024-01-01T10:00:00%2B25:00',
      '?birthdate=ge2000-01-01&birthdate=le2001-01-01&birthdate=ne2000-06-01&birthdate=ne2000-07-01&birthdate=ne2000-08-01',
      '?area=NOPE', '?group=nope', '?groupType=household', '?member=00000000-0000-4000-8000-000000000000', '?_cursor=%%%',
    ];
    for (const query of individualQueries) await assertRefused('Individual', query);
    const groupQueries = ['?foo=1', '?birthdate=2000-01-01', '?gender=1', '?group=00000000-0000-4000-8000-000000000000', '?_sort=birthdate', '?groupType=planet', '?member=x'];
    for (const query of groupQueries) await assertRefused('Group', query);
    assert.equal((await assertRefused('Individual', '?foo=1')).code, 'unknown_parameter');
    assert.deepEqual((await assertRefused('Individual', '?foo=1')).errors, [{ path: 'query:/foo', message: 'is not a known field' }]);
  });

  test('needs a token (401) and the read scope of the resource (403)', async () => {
    for (const resource of ['Individual', 'Group']) {
      const anonymous = await system.http.inject({ method: 'GET', url: `/api/v2/${resource}` });
      assert.equal(anonymous.statusCode, 401);
      assert.equal(anonymous.json().code, 'unauthenticated');
      assert.match(String(anonymous.headers['content-type']), /^application\/problem\+json/);
    }
    const groupReader = await system.authAs('group:read');
    const individualReader = await system.authAs('individual:read');
    const writerOnly = await system.authAs('individual:write', 'group:write');
    for (const [resource, headers] of [['Individual', groupReader], ['Group', individualReader], ['Individual', writerOnly], ['Group', writerOnly]] as const) {
      const response = await system.http.inject({ method: 'GET', url: `/api/v2/${resource}?foo=1`, headers });
      assert.equal(response.statusCode, 403, `${resource} with the wrong scope`);
      assert.equal(response.json().code, 'forbidden');
    }
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Individual', headers: individualReader })).statusCode, 200);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Group', headers: groupReader })).statusCode, 200);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Individual', headers: await system.authAs('individual:*') })).statusCode, 200);
  });
});
