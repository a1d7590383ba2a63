import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { eq } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor, type Actor } from '../../platform/auth/access-tokens.js';
import { actorForUser } from '../../platform/auth/roles.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import { AppError, type ErrorCode } from '../../platform/errors.js';
import { jobs } from '../../platform/jobs/jobs.tables.js';
import { findJobFile, openJobFileStream } from '../../platform/jobs/job-files.js';
import type { JobContext } from '../../platform/jobs/job-runner.js';
import type { ExportRequest } from '../bulk-data/export/export.service.js';
import type { GroupView } from './registry.views.js';

type Row = Record<string, string>;
type Headers = Record<string, string>;

const REGISTRY_SCOPES = ['individual:read', 'individual:write', 'group:read', 'group:write'];

/** Areas: country C with region R1 (district D1 under it) and region R2. */
const AREAS = [
  { code: 'C', name: 'Country', kind: 'country' },
  { code: 'R1', name: 'North', kind: 'region', parentCode: 'C' },
  { code: 'D1', name: 'Riverside', kind: 'district', parentCode: 'R1' },
  { code: 'R2', name: 'South', kind: 'region', parentCode: 'C' },
];

/**
 * Area scoping across every registry path. The fixture (created by a global actor):
 *   anna (D1), dina (R1), bob (R2), carl (no area);
 *   hhN (D1): anna head, bob spouse, dina child;  hhS (R2): bob head, dina child;
 *   hhC (R1): carl head, anna child;  relationships anna→bob, anna→dina.
 * `north` is limited to R1 (so R1 and D1), `clerk` is a registrar limited to D1.
 */
describe('Area scoping of the registry', () => {
  let system: TestSystem;
  const global: RequestContext = { actor: systemActor('test') };
  const northActor: Actor = { type: 'client', id: 'north-client', scopes: new Set(REGISTRY_SCOPES), areaLimits: new Map([['*', ['R1']]]) };
  const north: RequestContext = { actor: northActor };
  const clerk: RequestContext = { actor: actorForUser('clerk', [{ role: 'registrar', areas: ['D1'] }]) };
  const ids: Record<'anna' | 'dina' | 'bob' | 'carl' | 'hhN' | 'hhS' | 'hhC', string> = { anna: '', dina: '', bob: '', carl: '', hhN: '', hhS: '', hhC: '' };

  const registry = () => system.services.registry;
  const sameSet = (actual: string[], expected: string[], message?: string) => assert.deepEqual([...actual].sort(), [...expected].sort(), message);
  const isError = (code: ErrorCode, path?: string) => (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (path) assert.deepEqual(error.fields.map((field) => field.path), [path]);
    return true;
  };
  const notFound = (promise: Promise<unknown>) => assert.rejects(promise, isError('not_found'));

  async function clientHeaders(scopes: string[], areaCodes: string[] = []): Promise<Headers> {
    const client = await system.services.apiClients.createClient(global, { name: `client ${scopes.join(' ')} @${areaCodes.join(',')}`, scopes, areaCodes });
    const grant = await system.services.apiClients.issueToken(client.clientId, client.clientSecret);
    return { authorization: `Bearer ${grant.accessToken}` };
  }

  before(async () => {
    system = await createTestSystem();
    for (const area of AREAS) await system.services.areas.createArea(global, area);
    const person = async (given: string, area: string | undefined, nationalId: string) => (await registry().createIndividual(global, {
      name: { given, family: 'Scoped' }, ...(area ? { area } : {}), identifiers: [{ type: 'national-id', value: nationalId }],
    })).id;
    ids.anna = await person('Anna', 'D1', 'ANNA0001');
    ids.dina = await person('Dina', 'R1', 'DINA0001');
    ids.bob = await person('Bob', 'R2', 'BOBB0001');
    ids.carl = await person('Carl', undefined, 'CARL0001');
    const household = async (name: string, area: string, householdId: string, members: Array<[string, string]>) => (await registry().createGroup(global, {
      groupType: 'household', name, area, identifiers: [{ type: 'household-id', value: householdId }],
      members: members.map(([individual, role]) => ({ individual, role })),
    })).id;
    ids.hhN = await household('North household', 'D1', 'HH-N', [[ids.anna, 'head'], [ids.bob, 'spouse'], [ids.dina, 'child']]);
    ids.hhS = await household('South household', 'R2', 'HH-S', [[ids.bob, 'head'], [ids.dina, 'child']]);
    ids.hhC = await household('Carl household', 'R1', 'HH-C', [[ids.carl, 'head'], [ids.anna, 'child']]);
    await registry().addRelationship(global, ids.anna, { type: 'spouse', target: ids.bob });
    await registry().addRelationship(global, ids.anna, { type: 'parent', target: ids.dina });
  });
  after(async () => { await system?.close(); });

  // ---- reads, service level ------------------------------------------------------------------

  test('fetch by UUID or idtype|value: out of area is 404 (as unknown), in area visible, global actors see all', async () => {
    for (const ref of [ids.anna, 'national-id|ANNA0001', ids.dina, 'national-id|DINA0001']) assert.ok((await registry().getIndividual(north, ref)).id);
    for (const ref of [ids.bob, 'national-id|BOBB0001', ids.carl, 'national-id|CARL0001']) await notFound(registry().getIndividual(north, ref));
    // The same answer as for a registrant that does not exist at all.
    const unknown = await registry().getIndividual(north, '00000000-0000-4000-8000-000000000000').catch((error: AppError) => error);
    const outside = await registry().getIndividual(north, ids.bob).catch((error: AppError) => error);
    assert.equal((outside as AppError).code, (unknown as AppError).code);
    assert.equal((await registry().getGroup(north, 'household-id|HH-N')).id, ids.hhN);
    await notFound(registry().getGroup(north, ids.hhS));
    await notFound(registry().getGroup(north, 'household-id|HH-S'));
    for (const ref of [ids.anna, ids.dina, ids.bob, ids.carl]) assert.equal((await registry().getIndividual(global, ref)).id, ref);
    assert.equal((await registry().getGroup(global, ids.hhS)).id, ids.hhS);
  });

  test('subtrees: a limit to D1 does not reach its parent R1; per-permission limits of a local role apply', async () => {
    assert.equal((await registry().getIndividual(clerk, ids.anna)).id, ids.anna);
    await notFound(registry().getIndividual(clerk, ids.dina));
    await notFound(registry().getGroup(clerk, ids.hhC));
    const hhN = await registry().getGroup(clerk, ids.hhN);
    sameSet(hhN.members!.map((member) => member.individual!), [ids.anna]);
    assert.equal(hhN.size, 3);
  });

  test('_history of a registrant outside is 404', async () => {
    assert.ok((await registry().history(north, 'individual', ids.anna)).length > 0);
    await notFound(registry().history(north, 'individual', ids.bob));
    await notFound(registry().history(north, 'group', ids.hhS));
    assert.ok((await registry().history(global, 'group', ids.hhS)).length > 0);
  });

  test('group members: those outside are left out, size stays the true size, a head outside shows as null', async () => {
    const hhN = await registry().getGroup(north, ids.hhN);
    assert.equal(hhN.size, 3);
    assert.equal(hhN.head, ids.anna);
    sameSet(hhN.members!.map((member) => member.individual!), [ids.anna, ids.dina]);
    const hhC = await registry().getGroup(north, ids.hhC);
    assert.deepEqual([hhC.size, hhC.head], [2, null]);
    sameSet(hhC.members!.map((member) => member.individual!), [ids.anna]);
    sameSet((await registry().listMembers(north, ids.hhN, true)).map((member) => member.individual!), [ids.anna, ids.dina]);
    await notFound(registry().listMembers(north, ids.hhS, false));
    // Global actors: everything.
    const full = await registry().getGroup(global, ids.hhC);
    assert.deepEqual([full.size, full.head, full.members!.length], [2, ids.carl, 2]);
    sameSet((await registry().listMembers(global, ids.hhN, false)).map((member) => member.individual!), [ids.anna, ids.bob, ids.dina]);
  });

  test("an individual's memberships and relationships leave out groups and relatives outside", async () => {
    const dina = await registry().getIndividual(north, ids.dina);
    sameSet(dina.memberships!.map((membership) => membership.group!), [ids.hhN]);
    const anna = await registry().getIndividual(north, ids.anna);
    sameSet(anna.memberships!.map((membership) => membership.group!), [ids.hhN, ids.hhC]);
    sameSet(anna.relationships!.map((relationship) => relationship.target), [ids.dina]);
    const annaGlobal = await registry().getIndividual(global, ids.anna);
    sameSet(annaGlobal.relationships!.map((relationship) => relationship.target), [ids.bob, ids.dina]);
    sameSet((await registry().getIndividual(global, ids.dina)).memberships!.map((membership) => membership.group!), [ids.hhN, ids.hhS]);
  });

  test('search and _total: only registrants inside, combined with the area parameter; references outside match nothing', async () => {
    const individuals = async (context: RequestContext, query: Record<string, unknown> = {}) => {
      const page = await registry().searchIndividuals(context, { ...query, _total: 'accurate' }, 'http://x');
      assert.equal(page.total, page.items.length, 'total counts what the actor may see');
      return page.items.map((item) => item.id);
    };
    const groups = async (context: RequestContext, query: Record<string, unknown> = {}) => {
      const page = await registry().searchGroups(context, { ...query, _total: 'accurate' }, 'http://x');
      assert.equal(page.total, page.items.length);
      return page.items as GroupView[];
    };
    sameSet(await individuals(north), [ids.anna, ids.dina]);
    sameSet(await individuals(north, { area: 'D1' }), [ids.anna]);
    sameSet(await individuals(north, { area: 'R2' }), []);
    sameSet(await individuals(north, { area: 'C' }), [ids.anna, ids.dina]);
    sameSet(await individuals(north, { identifier: 'national-id|BOBB0001' }), []);
    sameSet(await individuals(north, { name: 'scoped' }), [ids.anna, ids.dina]);
    sameSet(await individuals(north, { group: ids.hhN }), [ids.anna, ids.dina]);
    sameSet(await individuals(north, { group: ids.hhS }), []);
    sameSet(await individuals(clerk), [ids.anna]);
    sameSet(await individuals(global), [ids.anna, ids.dina, ids.bob, ids.carl]);
    sameSet(await individuals(global, { group: ids.hhS }), [ids.bob, ids.dina]);

    sameSet((await groups(north)).map((group) => group.id), [ids.hhN, ids.hhC]);
    sameSet((await groups(north, { member: ids.anna })).map((group) => group.id), [ids.hhN, ids.hhC]);
    sameSet((await groups(north, { member: ids.bob })).map((group) => group.id), []);
    sameSet((await groups(global, { member: ids.bob })).map((group) => group.id), [ids.hhN, ids.hhS]);
    const hhC = (await groups(north)).find((group) => group.id === ids.hhC)!;
    assert.deepEqual([hhC.size, hhC.head], [2, null]);
    assert.equal((await groups(global)).find((group) => group.id === ids.hhC)!.head, ids.carl);

    // Paging by cursor stays inside the areas too.
    const first = await registry().searchIndividuals(north, { _count: '1', _sort: 'name' }, 'http://x');
    assert.equal(first.items.length, 1);
    const cursor = new URL(first.links.next!).searchParams.get('_cursor')!;
    const second = await registry().searchIndividuals(north, { _count: '1', _sort: 'name', _cursor: cursor }, 'http://x');
    sameSet([...first.items, ...second.items].map((item) => item.id), [ids.anna, ids.dina]);
    assert.equal(second.links.next, undefined);
  });

  // ---- exports --------------------------------------------------------------------------------

  const exportRows = async (actor: Actor, request: ExportRequest): Promise<Row[]> => {
    const parts: Buffer[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, callback) { parts.push(chunk); callback(); } });
    await system.services.exports.writeCsv(actor, request, sink);
    return parse(Buffer.concat(parts).toString('utf8'), { columns: true }) as Row[];
  };

  test('exports: only rows inside; households and heads outside are left out', async () => {
    const individuals = await exportRows(northActor, { resourceType: 'Individual' });
    sameSet(individuals.map((row) => row.id!), [ids.anna, ids.dina]);
    assert.equal(individuals.find((row) => row.id === ids.dina)!.households, ids.hhN);
    sameSet((await exportRows(northActor, { resourceType: 'Individual', search: { area: 'R2' } })).map((row) => row.id!), []);
    const groups = await exportRows(northActor, { resourceType: 'Group' });
    sameSet(groups.map((row) => row.id!), [ids.hhN, ids.hhC]);
    assert.deepEqual(groups.filter((row) => row.id === ids.hhC).map((row) => [row.size, row.head]), [['2', '']]);
    assert.equal((await exportRows(global.actor, { resourceType: 'Individual' })).length, 4);
    const everyDina = (await exportRows(global.actor, { resourceType: 'Individual' })).find((row) => row.id === ids.dina)!;
    sameSet(everyDina.households!.split(';'), [ids.hhN, ids.hhS]);
  });

  test('an export job stores the area limits with the actor and applies them when it runs', async () => {
    const job = await system.services.exports.start(northActor, { resourceType: 'Individual' });
    const [stored] = await system.database.db.select().from(jobs).where(eq(jobs.uuid, job.id));
    assert.deepEqual((stored!.payload as { actor: unknown }).actor, { type: 'client', id: 'north-client', scopes: REGISTRY_SCOPES, areaLimits: [['*', ['R1']]] });
    const context: JobContext<never> = {
      job: { id: job.id, type: job.type, payload: stored!.payload as never, attempt: 1, maxAttempts: 3, checkpoint: null },
      reportProgress: async () => {},
      signal: new AbortController().signal,
    };
    const result = await system.services.exports.runJob(context);
    assert.equal(result.rows, 2);
    const file = await findJobFile(system.database.db, job.id, 'export');
    const parts: Buffer[] = [];
    for await (const part of (await openJobFileStream(system.database.db, file!.uuid))!) parts.push(part as Buffer);
    sameSet((parse(Buffer.concat(parts).toString('utf8'), { columns: true }) as Row[]).map((row) => row.id!), [ids.anna, ids.dina]);
  });

  // ---- reads over HTTP: an area-bound API client and a staff user with a local role -----------------

  test('routes: an area-bound client gets 404 outside, sees inside, and its searches and counts are limited', async () => {
    const headers = await clientHeaders(['individual:read', 'group:read'], ['R1']);
    const get = (url: string, with_: Headers = headers) => system.http.inject({ method: 'GET', url, headers: with_ });
    for (const url of [`/api/v2/Individual/${ids.bob}`, '/api/v2/Individual/national-id|BOBB0001', `/api/v2/Individual/${ids.carl}`,
      `/api/v2/Individual/${ids.bob}/_history`, `/api/v2/Group/${ids.hhS}`, '/api/v2/Group/household-id|HH-S',
      `/api/v2/Group/${ids.hhS}/members`, `/api/v2/Group/${ids.hhS}/_history`]) {
      const response = await get(url);
      assert.equal(response.statusCode, 404, `${url}: ${response.body}`);
      assert.equal(response.json().code, 'not_found');
    }
    assert.equal((await get(`/api/v2/Individual/${ids.anna}`)).statusCode, 200);
    assert.equal((await get(`/api/v2/Individual/${ids.anna}/_history`)).statusCode, 200);
    const group = (await get(`/api/v2/Group/${ids.hhN}`)).json();
    assert.equal(group.size, 3);
    sameSet(group.members.map((member: { individual: string }) => member.individual), [ids.anna, ids.dina]);
    sameSet((await get(`/api/v2/Group/${ids.hhN}/members?history=true`)).json().items.map((member: { individual: string }) => member.individual), [ids.anna, ids.dina]);
    const search = (await get('/api/v2/Individual?_total=accurate')).json();
    assert.equal(search.total, 2);
    sameSet(search.items.map((item: { id: string }) => item.id), [ids.anna, ids.dina]);
    assert.equal((await get('/api/v2/Group?_total=accurate&area=R2')).json().total, 0);
    // Unlimited clients are unaffected.
    const everywhere = await clientHeaders(['individual:read', 'group:read']);
    assert.equal((await get(`/api/v2/Individual/${ids.bob}`, everywhere)).statusCode, 200);
    assert.equal((await get('/api/v2/Individual?_total=accurate', everywhere)).json().total, 4);
  });

  test('routes: a staff user with a local role (registrar@D1) sees D1 only', async () => {
    const { headers } = await system.signInAs('registrar@D1');
    const get = (url: string) => system.http.inject({ method: 'GET', url, headers });
    assert.equal((await get(`/api/v2/Individual/${ids.anna}`)).statusCode, 200);
    assert.equal((await get(`/api/v2/Individual/${ids.dina}`)).statusCode, 404);
    assert.equal((await get(`/api/v2/Group/${ids.hhC}`)).statusCode, 404);
    const search = (await get('/api/v2/Individual?_total=accurate')).json();
    assert.deepEqual([search.total, search.items.map((item: { id: string }) => item.id)], [1, [ids.anna]]);
    const global_ = await system.signInAs('registrar');
    assert.equal((await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${ids.dina}`, headers: global_.headers })).statusCode, 200);
  });

  test('routes: an export by an area-bound client contains only rows inside', async () => {
    const headers = await clientHeaders(['individual:read', 'group:read', 'job:read'], ['R1']);
    const started = await system.http.inject({ method: 'POST', url: '/api/v2/$export', headers, payload: { resourceType: 'Group' } });
    assert.equal(started.statusCode, 202, started.body);
    await system.jobs.drain();
    const file = await system.http.inject({ method: 'GET', url: `/api/v2/$export/${started.json().id}/file`, headers });
    assert.equal(file.statusCode, 200, file.body);
    sameSet((parse(file.body, { columns: true }) as Row[]).map((row) => row.id!), [ids.hhN, ids.hhC]);
  });

  test('routes: the audit log, which spans every area, is refused to an area-bound client', async () => {
    const limited = await system.http.inject({ method: 'GET', url: `/api/v2/AuditEvent?registrant=${ids.bob}`, headers: await clientHeaders(['audit:read'], ['R1']) });
    assert.equal(limited.statusCode, 403);
    const everywhere = await system.http.inject({ method: 'GET', url: `/api/v2/AuditEvent?registrant=${ids.bob}`, headers: await clientHeaders(['audit:read']) });
    assert.equal(everywhere.statusCode, 200);
    assert.ok(everywhere.json().count > 0);
  });

  // ---- writes (after the reads: they add records) -----------------------------------------------

  test('writes: no registrant may be created outside the areas (400 on /area); inside is fine', async () => {
    const outside = { name: { given: 'Olga', family: 'Outside' }, area: 'R2' };
    await assert.rejects(registry().createIndividual(north, outside), isError('validation_failed', '/area'));
    await assert.rejects(registry().createIndividual(north, { name: { given: 'Nora', family: 'Nowhere' } }), isError('validation_failed', '/area'));
    await assert.rejects(registry().createIndividual(clerk, { name: { given: 'Rita', family: 'Region' }, area: 'R1' }), isError('validation_failed', '/area'));
    await assert.rejects(registry().createGroup(north, { groupType: 'household', name: 'Outside household', area: 'R2' }), isError('validation_failed', '/area'));
    const inside = await registry().createIndividual(north, { name: { given: 'Ines', family: 'Inside' }, area: 'D1' });
    assert.equal((await registry().getIndividual(north, inside.id)).area, 'D1');
    assert.equal((await registry().createIndividual(global, { name: { given: 'Gus', family: 'Global' } })).area, null);
  });

  test('writes: a registrant outside cannot be changed, deactivated or given identifiers (404)', async () => {
    const bob = await registry().getIndividual(global, ids.bob);
    await notFound(registry().updateIndividual(north, ids.bob, { email: 'bob@example.org' }, bob.version));
    await notFound(registry().updateIndividual(north, 'national-id|BOBB0001', { email: 'bob@example.org' }, bob.version));
    await notFound(registry().deactivate(north, 'individual', ids.bob, { reason: 'moved' }));
    await notFound(registry().reactivate(north, 'individual', ids.bob));
    await notFound(registry().addIdentifier(north, 'individual', ids.bob, { type: 'tax-id', value: 'T-1' }));
    await notFound(registry().invalidateIdentifier(north, 'individual', ids.bob, { type: 'national-id', value: 'BOBB0001', reason: 'error' }));
    const hhS = await registry().getGroup(global, ids.hhS);
    await notFound(registry().updateGroup(north, ids.hhS, { name: 'Renamed' }, hhS.version));
    await notFound(registry().deactivate(north, 'group', ids.hhS, { reason: 'moved' }));
    await notFound(registry().addMember(north, ids.hhS, { individual: ids.anna, role: 'other' }));
    await notFound(registry().endMember(north, ids.hhS, ids.dina, { reason: 'left' }));
    await notFound(registry().changeHead(north, ids.hhS, { individual: ids.dina }));
    await notFound(registry().addRelationship(north, ids.bob, { type: 'spouse', target: ids.anna }));
    // Nothing changed.
    assert.deepEqual(await registry().getIndividual(global, ids.bob).then((view) => [view.version, view.email, view.isActive]), [bob.version, null, true]);
    assert.equal((await registry().getGroup(global, ids.hhS)).version, hhS.version);
  });

  test('writes: references to registrants outside are refused as unknown (400 on the field, or 404 in the path)', async () => {
    await assert.rejects(registry().addMember(north, ids.hhN, { individual: ids.carl, role: 'other' }), isError('validation_failed', '/individual'));
    await assert.rejects(registry().changeHead(north, ids.hhN, { individual: ids.bob }), isError('validation_failed', '/individual'));
    await notFound(registry().endMember(north, ids.hhN, ids.bob, { reason: 'left' }));
    await assert.rejects(registry().addRelationship(north, ids.anna, { type: 'sibling', target: ids.bob }), isError('validation_failed', '/target'));
    await assert.rejects(registry().createGroup(north, { groupType: 'family', name: 'Mixed', area: 'D1', members: [{ individual: ids.bob, role: 'other' }] }), isError('validation_failed', '/members/0/individual'));
  });

  test('writes: a registrant inside cannot be moved out of the areas, but may move within them', async () => {
    const dina = await registry().getIndividual(north, ids.dina);
    await assert.rejects(registry().updateIndividual(north, ids.dina, { area: 'R2' }, dina.version), isError('validation_failed', '/area'));
    await assert.rejects(registry().updateIndividual(north, ids.dina, { area: null } as never, dina.version), isError('validation_failed', '/area'));
    const hhC = await registry().getGroup(north, ids.hhC);
    await assert.rejects(registry().updateGroup(north, ids.hhC, { area: 'R2' }, hhC.version), isError('validation_failed', '/area'));
    assert.equal((await registry().getIndividual(global, ids.dina)).area, 'R1');
    const moved = await registry().updateIndividual(north, ids.dina, { area: 'D1' }, dina.version);
    assert.equal(moved.area, 'D1');
    const back = await registry().updateIndividual(north, ids.dina, { area: 'R1' }, moved.version);
    assert.equal(back.area, 'R1');
    // A change answer shows the group as the actor sees it.
    const hhN = await registry().getGroup(north, ids.hhN);
    const renamed = await registry().updateGroup(north, ids.hhN, { name: 'North household (renamed)' }, hhN.version);
    assert.deepEqual([renamed.size, renamed.members!.length], [3, 2]);
  });

  test('bundles: each entry runs with the actor, so an entry outside fails as 404 (a transaction writes nothing)', async () => {
    const bob = await registry().getIndividual(global, ids.bob);
    const before = (await registry().searchIndividuals(global, { _total: 'accurate' }, 'http://x')).total;
    const entries = [
      { request: { method: 'POST' as const, url: 'Individual' }, resource: { name: { given: 'Bea', family: 'Bundle' }, area: 'D1' } },
      { request: { method: 'PATCH' as const, url: `Individual/${ids.bob}`, ifMatch: `W/"${bob.version}"` }, resource: { email: 'bob@example.org' } },
    ];
    await assert.rejects(system.services.bundles.process(north, { type: 'transaction', entries }), (error: AppError) => error.code === 'not_found' && /^Entry 1/.test(error.message));
    assert.equal((await registry().searchIndividuals(global, { _total: 'accurate' }, 'http://x')).total, before);
    const batch = await system.services.bundles.process(north, { type: 'batch', entries });
    assert.deepEqual(batch.entries.map((entry) => entry.status), ['201', '404']);
    const outsideCreate = await system.services.bundles.process(north, { type: 'batch', entries: [{ request: { method: 'POST', url: 'Individual' }, resource: { name: { given: 'Oz' }, area: 'R2' } }] });
    assert.deepEqual([outsideCreate.entries[0]!.status, outsideCreate.entries[0]!.outcome?.errors], ['400', [{ path: '/entries/0/resource/area', message: 'is outside your areas: must be within your areas (R1)' }]]);
    const global_ = await system.services.bundles.process(global, { type: 'batch', entries: [entries[1]!] });
    assert.equal(global_.entries[0]!.status, '200');
  });

  test('routes: writes by an area-bound client outside its areas are 404, creating outside is 400 on /area', async () => {
    const headers = await clientHeaders(REGISTRY_SCOPES, ['R1']);
    const send = (method: 'POST' | 'PATCH', url: string, payload: object, extra: Headers = {}) => system.http.inject({ method, url, headers: { ...headers, ...extra }, payload });
    const bob = await registry().getIndividual(global, ids.bob);
    assert.equal((await send('PATCH', `/api/v2/Individual/${ids.bob}`, { email: 'x@example.org' }, { 'if-match': `W/"${bob.version}"` })).statusCode, 404);
    assert.equal((await send('POST', `/api/v2/Individual/${ids.bob}/$deactivate`, { reason: 'moved' })).statusCode, 404);
    assert.equal((await send('POST', `/api/v2/Individual/${ids.bob}/identifiers`, { type: 'tax-id', value: 'T-2' })).statusCode, 404);
    assert.equal((await send('POST', `/api/v2/Group/${ids.hhS}/members`, { individual: ids.anna, role: 'other' })).statusCode, 404);
    const created = await send('POST', '/api/v2/Individual', { name: { given: 'Out' }, area: 'R2' });
    assert.equal(created.statusCode, 400);
    assert.deepEqual(created.json().errors.map((error: { path: string }) => error.path), ['/area']);
    assert.equal((await send('POST', '/api/v2/Individual', { name: { given: 'In' }, area: 'D1' })).statusCode, 201);
    const batch = await send('POST', '/api/v2/$batch', { type: 'batch', entries: [{ request: { method: 'POST', url: `Individual/${ids.bob}/$deactivate` }, resource: { reason: 'moved' } }] });
    assert.equal(batch.statusCode, 200, batch.body);
    assert.equal(batch.json().entries[0].status, '404');
    assert.equal((await registry().getIndividual(global, ids.bob)).isActive, true);
  });
});
