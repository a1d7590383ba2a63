import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';

describe('Group API: /api/v2/Group and memberships', () => {
  let system: TestSystem;
  let writer: { authorization: string };
  let reader: { authorization: string };
  let people: string[];

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    writer = await system.authAs('group:write', 'group:read', 'individual:write', 'individual:read');
    reader = await system.authAs('group:read');
    people = [];
    for (const given of ['Ana', 'Ben', 'Carla', 'Dino']) {
      const response = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: writer, payload: { name: { given, family: 'Reyes' } } });
      people.push(response.json().id);
    }
  });

  const createHousehold = (members: Array<{ individual: string; role: string }>, extra: object = {}) => system.http.inject({
    method: 'POST', url: '/api/v2/Group', headers: writer,
    payload: { groupType: 'household', name: 'Reyes household', members, identifiers: [{ type: 'household-id', value: 'HH-0001' }], ...extra },
  });
  const post = (url: string, payload?: object, headers = writer) => system.http.inject({ method: 'POST', url, headers, ...(payload ? { payload } : {}) });

  test('creates a household with its members in one request, the head listed anywhere', async () => {
    const response = await createHousehold([{ individual: people[1]!, role: 'spouse' }, { individual: people[0]!, role: 'head' }]);
    assert.equal(response.statusCode, 201, response.body);
    const group = response.json();
    assert.equal(group.resourceType, 'Group');
    assert.equal(group.size, 2);
    assert.equal(group.head, people[0]);
    assert.deepEqual(group.members.map((m: { individual: string; role: string }) => [m.individual, m.role]).sort(), [[people[0], 'head'], [people[1], 'spouse']].sort());
    const byIdentifier = await system.http.inject({ method: 'GET', url: '/api/v2/Group/household-id|HH-0001', headers: reader });
    assert.equal(byIdentifier.json().id, group.id);
    const individual = await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${people[0]}`, headers: writer });
    assert.deepEqual(individual.json().memberships.map((m: { group: string; role: string }) => [m.group, m.role]), [[group.id, 'head']]);
  });

  test('a household has exactly one head: none or two given are refused and nothing is written', async () => {
    const before = (await system.testDatabase.db.query.registrants.findMany()).length;
    const noHead = await createHousehold([{ individual: people[0]!, role: 'spouse' }]);
    assert.equal(noHead.statusCode, 422);
    assert.equal(noHead.json().code, 'business_rule_violated');
    const twoHeads = await createHousehold([{ individual: people[0]!, role: 'head' }, { individual: people[1]!, role: 'head' }]);
    assert.equal(twoHeads.statusCode, 422);
    const sameTwice = await createHousehold([{ individual: people[0]!, role: 'head' }, { individual: people[0]!, role: 'child' }]);
    assert.equal(sameTwice.statusCode, 409);
    const unknownRole = await createHousehold([{ individual: people[0]!, role: 'king' }]);
    assert.equal(unknownRole.statusCode, 400);
    const unknownPerson = await createHousehold([{ individual: '00000000-0000-4000-8000-000000000000', role: 'head' }]);
    assert.equal(unknownPerson.statusCode, 400);
    assert.equal(unknownPerson.json().errors[0].path, '/members/0/individual');
    const unknownType = await system.http.inject({ method: 'POST', url: '/api/v2/Group', headers: writer, payload: { groupType: 'tribe', name: 'x' } });
    assert.equal(unknownType.statusCode, 400);
    assert.equal((await system.testDatabase.db.query.registrants.findMany()).length, before);
    assert.equal((await system.testDatabase.db.query.memberships.findMany()).length, 0);
  });

  test('adds members, refuses a second head and a duplicate member, and a first member who is not the head', async () => {
    const empty = (await system.http.inject({ method: 'POST', url: '/api/v2/Group', headers: writer, payload: { groupType: 'household', name: 'Empty' } })).json();
    const notHead = await post(`/api/v2/Group/${empty.id}/members`, { individual: people[0]!, role: 'child' });
    assert.equal(notHead.statusCode, 422);
    const group = (await createHousehold([{ individual: people[0]!, role: 'head' }])).json();
    const added = await post(`/api/v2/Group/${group.id}/members`, { individual: people[2]!, role: 'child', startDate: '2020-01-01' });
    assert.equal(added.statusCode, 201);
    assert.equal(added.json().size, 2);
    assert.equal(added.headers.etag, 'W/"2"');
    const secondHead = await post(`/api/v2/Group/${group.id}/members`, { individual: people[1]!, role: 'head' });
    assert.equal(secondHead.statusCode, 422);
    assert.equal(secondHead.json().errors[0].path, '/role');
    assert.equal((await post(`/api/v2/Group/${group.id}/members`, { individual: people[2]!, role: 'child' })).statusCode, 409);
    assert.equal((await post(`/api/v2/Group/${group.id}/members`, { individual: people[3]!, role: 'child', extra: 1 })).statusCode, 400);
  });

  test('an individual may belong to several groups (e.g. a household and a cooperative)', async () => {
    const household = (await createHousehold([{ individual: people[0]!, role: 'head' }])).json();
    const coop = await system.http.inject({ method: 'POST', url: '/api/v2/Group', headers: writer, payload: { groupType: 'community', name: 'Fishers cooperative', members: [{ individual: people[0]!, role: 'other' }] } });
    assert.equal(coop.statusCode, 201, coop.body);
    const individual = (await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${people[0]}`, headers: writer })).json();
    assert.deepEqual(individual.memberships.map((m: { group: string }) => m.group).sort(), [household.id, coop.json().id].sort());
  });

  test('ends memberships (kept as history); the head cannot leave while others remain', async () => {
    const group = (await createHousehold([{ individual: people[0]!, role: 'head' }, { individual: people[1]!, role: 'spouse' }])).json();
    const headLeaves = await post(`/api/v2/Group/${group.id}/members/${people[0]}/$end`, { reason: 'moved away' });
    assert.equal(headLeaves.statusCode, 422);
    const today = new Date().toISOString().slice(0, 10);
    const ended = await post(`/api/v2/Group/${group.id}/members/${people[1]}/$end`, { reason: 'moved away', endDate: today });
    assert.equal(ended.statusCode, 200);
    assert.equal(ended.json().size, 1);
    assert.equal((await post(`/api/v2/Group/${group.id}/members/${people[1]}/$end`, { reason: 'again' })).statusCode, 404);
    assert.equal((await post(`/api/v2/Group/${group.id}/members/${people[0]}/$end`, { reason: 'x', endDate: '1900-01-01' })).statusCode, 400);
    const current = (await system.http.inject({ method: 'GET', url: `/api/v2/Group/${group.id}/members`, headers: reader })).json().items;
    assert.equal(current.length, 1);
    const history = (await system.http.inject({ method: 'GET', url: `/api/v2/Group/${group.id}/members?history=true`, headers: reader })).json().items;
    assert.equal(history.length, 2);
    const endedMembership = history.find((m: { individual: string }) => m.individual === people[1]);
    assert.deepEqual([endedMembership.isActive, endedMembership.endDate, endedMembership.endReason], [false, today, 'moved away']);
    // The same person may rejoin later: a new membership, the old one stays in the history.
    assert.equal((await post(`/api/v2/Group/${group.id}/members`, { individual: people[1]!, role: 'spouse' })).statusCode, 201);
    assert.equal((await system.http.inject({ method: 'GET', url: `/api/v2/Group/${group.id}/members?history=true`, headers: reader })).json().items.length, 3);
  });

  test('changes the head: the new head must be a member; the former head takes the given role', async () => {
    const group = (await createHousehold([{ individual: people[0]!, role: 'head' }, { individual: people[1]!, role: 'spouse' }])).json();
    assert.equal((await post(`/api/v2/Group/${group.id}/$change-head`, { individual: people[3]! })).statusCode, 422);
    assert.equal((await post(`/api/v2/Group/${group.id}/$change-head`, { individual: people[0]! })).statusCode, 409);
    assert.equal((await post(`/api/v2/Group/${group.id}/$change-head`, { individual: people[1]!, formerHeadRole: 'head' })).statusCode, 400);
    const changed = await post(`/api/v2/Group/${group.id}/$change-head`, { individual: people[1]!, formerHeadRole: 'spouse' });
    assert.equal(changed.statusCode, 200);
    assert.equal(changed.json().head, people[1]);
    const roles = Object.fromEntries(changed.json().members.map((m: { individual: string; role: string }) => [m.individual, m.role]));
    assert.deepEqual(roles, { [people[0]!]: 'spouse', [people[1]!]: 'head' });
    const history = (await system.http.inject({ method: 'GET', url: `/api/v2/Group/${group.id}/_history`, headers: reader })).json().items;
    assert.deepEqual(history.at(-1).after, { head: people[1], formerHeadRole: 'spouse' });
  });

  test('deactivating a member ends their memberships, but not the head of a household with others', async () => {
    const group = (await createHousehold([{ individual: people[0]!, role: 'head' }, { individual: people[1]!, role: 'spouse' }])).json();
    assert.equal((await post(`/api/v2/Individual/${people[0]}/$deactivate`, { reason: 'deceased' })).statusCode, 422);
    assert.equal((await post(`/api/v2/Individual/${people[1]}/$deactivate`, { reason: 'deceased' })).statusCode, 200);
    const after = (await system.http.inject({ method: 'GET', url: `/api/v2/Group/${group.id}`, headers: reader })).json();
    assert.equal(after.size, 1);
    assert.equal((await post(`/api/v2/Group/${group.id}/members`, { individual: people[1]!, role: 'spouse' })).statusCode, 422, 'a deactivated individual cannot join');
  });

  test('updates a group with merge patch and If-Match; deactivated groups refuse member changes', async () => {
    const group = (await createHousehold([{ individual: people[0]!, role: 'head' }])).json();
    const patched = await system.http.inject({ method: 'PATCH', url: `/api/v2/Group/${group.id}`, headers: { ...writer, 'if-match': group.version ? `W/"${group.version}"` : '' }, payload: { name: 'Reyes-Santos household', income: { monthly: 9000, currency: 'PHP' } } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().name, 'Reyes-Santos household');
    assert.equal(patched.json().size, 1);
    assert.equal((await system.http.inject({ method: 'PATCH', url: `/api/v2/Group/${group.id}`, headers: { ...writer, 'if-match': 'W/"1"' }, payload: { name: 'x' } })).statusCode, 412);
    assert.equal((await system.http.inject({ method: 'PATCH', url: `/api/v2/Group/${group.id}`, headers: { ...writer, 'if-match': 'W/"2"' }, payload: { groupType: 'family' } })).statusCode, 400);
    assert.equal((await post(`/api/v2/Group/${group.id}/$deactivate`, { reason: 'household dissolved' })).statusCode, 200);
    assert.equal((await post(`/api/v2/Group/${group.id}/members`, { individual: people[1]!, role: 'spouse' })).statusCode, 422);
  });

  test('permissions: 401 without a token, 403 with read-only or individual-only scopes', async () => {
    const group = (await createHousehold([{ individual: people[0]!, role: 'head' }])).json();
    const individualsOnly = await system.authAs('individual:write', 'individual:read');
    const writes = [
      { url: '/api/v2/Group', payload: { groupType: 'household', name: 'x' } },
      { url: `/api/v2/Group/${group.id}/members`, payload: { individual: people[1]!, role: 'spouse' } },
      { url: `/api/v2/Group/${group.id}/members/${people[0]}/$end`, payload: { reason: 'x' } },
      { url: `/api/v2/Group/${group.id}/$change-head`, payload: { individual: people[0]! } },
      { url: `/api/v2/Group/${group.id}/$deactivate`, payload: { reason: 'x' } },
    ];
    for (const { url, payload } of writes) {
      assert.equal((await system.http.inject({ method: 'POST', url, payload })).statusCode, 401, url);
      assert.equal((await post(url, payload, reader)).statusCode, 403, url);
      assert.equal((await post(url, payload, individualsOnly)).statusCode, 403, url);
    }
    for (const url of [`/api/v2/Group/${group.id}`, `/api/v2/Group/${group.id}/members`, '/api/v2/Group']) {
      assert.equal((await system.http.inject({ method: 'GET', url })).statusCode, 401, url);
      assert.equal((await system.http.inject({ method: 'GET', url, headers: individualsOnly })).statusCode, 403, url);
    }
  });
});
