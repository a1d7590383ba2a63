import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eq, sql } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { consents } from './consents.tables.js';
import { signedForm, wfpTerms } from './consents.test-support.js';

const ana = { name: { given: 'Ana', family: 'Peña' }, birthDate: '1990-04-12', identifiers: [{ type: 'national-id', value: 'AB1234567' }] };

describe('Consent API: /api/v2/Individual/:ref/consents, /api/v2/Consent/:id', () => {
  let system: TestSystem;
  let officer: { authorization: string };
  let anaId: string;

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    anaId = (await system.services.registry.createIndividual({ actor: systemActor('test') }, ana)).id;
    officer = await system.authAs('consent:read', 'consent:write');
  });

  const post = (url: string, payload: unknown, headers = officer) => system.http.inject({ method: 'POST', url, headers, payload: payload as object });
  const get = (url: string, headers = officer) => system.http.inject({ method: 'GET', url, headers });
  const record = (payload: unknown = wfpTerms, ref = anaId) => post(`/api/v2/Individual/${ref}/consents`, payload);
  const act = (id: string, operation: string, payload: unknown) => post(`/api/v2/Consent/${id}/${operation}`, payload);
  const history = async (id: string) => (await get(`/api/v2/Consent/${id}/_history`)).json().items as Array<{ from: string | null; to: string; reason: string | null }>;
  const consentAudit = async () => (await system.testDatabase.db.query.auditLog.findMany()).filter((row) => row.entityType === 'consent');

  test('records a requested consent: 201, Location, ETag, terms as DPV CURIEs, a creation event and an audit record', async () => {
    const response = await record({ ...wfpTerms, purposes: ['https://w3id.org/dpv#ServiceProvision'], dataCategories: ['pd:Name', 'dpv-pd:Contact', 'dpv-pd:Name'] });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(response.headers.location, `/api/v2/Consent/${body.id}`);
    assert.equal(response.headers.etag, 'W/"1"');
    assert.equal(body.resourceType, 'Consent');
    assert.deepEqual(body.subject, { resourceType: 'Individual', id: anaId });
    assert.equal(body.status, 'requested');
    assert.deepEqual(body.purposes, ['dpv:ServiceProvision']);
    assert.deepEqual(body.dataCategories, ['dpv-pd:Name', 'dpv-pd:Contact']);
    assert.deepEqual(body.processingOperations, ['dpv:Use', 'dpv:Share']);
    assert.deepEqual(body.recipient, { organisation: 'WFP' });
    assert.ok(body.requestedAt);
    assert.equal(body.givenAt, null);
    assert.deepEqual((await get(`/api/v2/Consent/${body.id}`)).json(), body);
    assert.deepEqual((await history(body.id)).map((event) => [event.from, event.to]), [[null, 'requested']]);
    const audit = await consentAudit();
    assert.deepEqual(audit.map((row) => [row.action, row.entityId]), [['create', body.id]]);
    assert.match(audit[0]?.actorId ?? '', /^cw_/);
  });

  test('records a consent directly as given, with its evidence (required)', async () => {
    const missing = await record({ ...wfpTerms, status: 'given' });
    assert.equal(missing.statusCode, 400);
    assert.ok(missing.json().errors.some((problem: { path: string }) => problem.path === '/evidence'));
    const response = await record({ ...wfpTerms, status: 'given', evidence: signedForm, recipient: { organisationType: 'un-agency' } });
    assert.equal(response.statusCode, 201, response.body);
    const body = response.json();
    assert.equal(body.status, 'given');
    assert.deepEqual(body.evidence, signedForm);
    assert.deepEqual(body.recipient, { organisationType: 'un-agency' });
    assert.equal(body.requestedAt, null);
    assert.ok(body.givenAt);
    assert.deepEqual((await history(body.id)).map((event) => [event.from, event.to]), [[null, 'given']]);
  });

  test('requested → given → withdrawn: dates set, versions bumped, every change in the history and the audit log', async () => {
    const id = (await record()).json().id;
    const given = await act(id, '$give', { evidence: { type: 'thumbprint', witness: 'Officer Cruz' } });
    assert.equal(given.statusCode, 200, given.body);
    assert.equal(given.json().status, 'given');
    assert.ok(given.json().givenAt);
    assert.equal(given.headers.etag, 'W/"2"');
    const withdrawn = await act(id, '$withdraw', { reason: 'Moved away' });
    assert.equal(withdrawn.statusCode, 200, withdrawn.body);
    assert.equal(withdrawn.json().status, 'withdrawn');
    assert.ok(withdrawn.json().withdrawnAt);
    assert.deepEqual((await history(id)).map((event) => [event.from, event.to, event.reason]), [
      [null, 'requested', null], ['requested', 'given', null], ['given', 'withdrawn', 'Moved away'],
    ]);
    const audit = await consentAudit();
    assert.deepEqual(audit.map((row) => row.action), ['create', 'give', 'withdraw']);
    assert.deepEqual(audit[2]?.before, { status: 'given', withdrawnAt: null, reason: null });
    assert.equal((audit[2]?.after as Record<string, unknown>).reason, 'Moved away');
  });

  test('refused is final; transitions out of order are refused with 409 and change nothing', async () => {
    const refusedId = (await record()).json().id;
    assert.equal((await act(refusedId, '$refuse', undefined)).json().status, 'refused', 'no body needed');
    const withReason = (await record()).json().id;
    assert.ok((await act(withReason, '$refuse', { reason: 'Does not want to share' })).json().refusedAt);
    assert.deepEqual((await history(withReason)).at(-1), { ...(await history(withReason)).at(-1)!, from: 'requested', to: 'refused', reason: 'Does not want to share' });
    const requestedId = (await record()).json().id;
    const givenId = (await record({ ...wfpTerms, status: 'given', evidence: signedForm })).json().id;
    const cases: Array<[string, string, unknown]> = [
      [refusedId, '$withdraw', { reason: 'x' }], // cannot withdraw a refused consent
      [refusedId, '$give', { evidence: signedForm }],
      [refusedId, '$refuse', {}],
      [requestedId, '$withdraw', { reason: 'x' }], // only a given consent can be withdrawn
      [givenId, '$give', { evidence: signedForm }], // cannot give twice
      [givenId, '$refuse', {}],
    ];
    const auditBefore = (await consentAudit()).length;
    for (const [id, operation, payload] of cases) {
      const response = await act(id, operation, payload);
      assert.equal(response.statusCode, 409, `${operation}: ${response.body}`);
      assert.equal(response.json().code, 'conflict');
    }
    assert.match((await act(givenId, '$give', { evidence: signedForm })).json().detail, /already given/);
    assert.equal((await consentAudit()).length, auditBefore);
    assert.equal((await history(givenId)).length, 1);
  });

  test('$withdraw needs a reason; $give needs evidence', async () => {
    const id = (await record()).json().id;
    assert.equal((await act(id, '$give', {})).statusCode, 400);
    assert.equal((await act(id, '$give', { evidence: { type: 'telepathy' } })).statusCode, 400);
    await act(id, '$give', { evidence: signedForm });
    const response = await act(id, '$withdraw', undefined);
    assert.equal(response.statusCode, 400);
    assert.ok(response.json().errors.some((problem: { path: string }) => problem.path === '/reason'));
  });

  test('terms never change: PATCH and PUT answer 405; a change of terms is a new record', async () => {
    const id = (await record({ ...wfpTerms, status: 'given', evidence: signedForm })).json().id;
    for (const method of ['PATCH', 'PUT'] as const) {
      const response = await system.http.inject({ method, url: `/api/v2/Consent/${id}`, headers: { ...officer, 'content-type': 'application/json' }, payload: { dataCategories: ['dpv-pd:Income'] } });
      assert.equal(response.statusCode, 405, method);
      assert.match(response.json().detail, /record a new consent/);
    }
    assert.deepEqual((await get(`/api/v2/Consent/${id}`)).json().dataCategories, ['dpv-pd:Name', 'dpv-pd:Contact']);
    const wider = await record({ ...wfpTerms, status: 'given', evidence: signedForm, dataCategories: ['dpv-pd:Name', 'dpv-pd:Contact', 'dpv-pd:Income'] });
    assert.equal(wider.statusCode, 201);
    assert.equal((await get(`/api/v2/Individual/${anaId}/consents`)).json().items.length, 2);
  });

  test('a given consent past expiresAt reads as expired; the first read records the expiry, dated expiresAt', async () => {
    const id = (await record({ ...wfpTerms, status: 'given', evidence: signedForm, expiresAt: new Date(Date.now() + 3_600_000).toISOString() })).json().id;
    const expiresAt = new Date(Date.now() - 60_000);
    await system.testDatabase.db.update(consents).set({ expiresAt }).where(eq(consents.uuid, id));
    const response = await get(`/api/v2/Consent/${id}`);
    assert.equal(response.json().status, 'expired');
    assert.equal(response.headers.etag, 'W/"2"');
    const events = (await get(`/api/v2/Consent/${id}/_history`)).json().items;
    assert.deepEqual(events.map((event: { to: string }) => event.to), ['given', 'expired']);
    assert.deepEqual(events[1].actor, { type: 'system', id: 'consent-expiry' });
    assert.equal(events[1].occurredAt, expiresAt.toISOString());
    assert.equal((await get(`/api/v2/Individual/${anaId}/consents`)).json().items[0].status, 'expired');
    assert.deepEqual((await consentAudit()).map((row) => row.action), ['create', 'expire'], 'recorded once, however often read');
    assert.equal((await act(id, '$withdraw', { reason: 'x' })).statusCode, 409);
  });

  test('$give is refused (422) when the requested consent\'s expiresAt has already passed', async () => {
    const id = (await record({ ...wfpTerms, expiresAt: new Date(Date.now() + 3_600_000).toISOString() })).json().id;
    await system.testDatabase.db.update(consents).set({ expiresAt: sql`now() - interval '1 minute'` }).where(eq(consents.uuid, id));
    assert.equal((await get(`/api/v2/Consent/${id}`)).json().status, 'requested');
    const response = await act(id, '$give', { evidence: signedForm });
    assert.equal(response.statusCode, 422, response.body);
  });

  test('bad input is refused with 400 naming the field, and nothing is written', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const cases: Array<[unknown, string]> = [
      [{ ...wfpTerms, purposes: ['dpv:Marketing'] }, '/purposes/0'],
      [{ ...wfpTerms, purposes: ['dpv:ServiceProvision', 'ServiceProvision'] }, '/purposes/1'],
      [{ ...wfpTerms, dataCategories: ['dpv-pd:Religion'] }, '/dataCategories/0'],
      [{ ...wfpTerms, processingOperations: ['dpv:Sell'] }, '/processingOperations/0'],
      [{ ...wfpTerms, purposes: [] }, '/purposes'],
      [{ ...wfpTerms, recipient: {} }, '/recipient'],
      [{ ...wfpTerms, recipient: { organisation: 'WFP', organisationType: 'un-agency' } }, '/recipient'],
      [{ ...wfpTerms, expiresAt: past }, '/expiresAt'],
      [{ ...wfpTerms, evidence: signedForm }, '/evidence'],
      [{ ...wfpTerms, status: 'withdrawn' }, '/status'],
      [{ ...wfpTerms, status: 'given', evidence: { ...signedForm, capturedAt: new Date(Date.now() + 86_400_000).toISOString() } }, '/evidence/capturedAt'],
      [{ ...wfpTerms, colour: 'blue' }, '/colour'],
    ];
    for (const [payload, path] of cases) {
      const response = await record(payload);
      assert.equal(response.statusCode, 400, `${path}: ${response.body}`);
      assert.ok(response.json().errors.some((problem: { path: string }) => problem.path === path), `${path}: ${response.body}`);
    }
    assert.equal((await system.testDatabase.db.select().from(consents)).length, 0);
  });

  test('unknown registrant or consent: 404; malformed consent id: 400', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    assert.equal((await record(wfpTerms, unknown)).statusCode, 404);
    assert.equal((await record(wfpTerms, 'national-id|NOPE')).statusCode, 404);
    assert.equal((await get(`/api/v2/Individual/${unknown}/consents`)).statusCode, 404);
    assert.equal((await get(`/api/v2/Consent/${unknown}`)).statusCode, 404);
    assert.equal((await get(`/api/v2/Consent/${unknown}/_history`)).statusCode, 404);
    assert.equal((await act(unknown, '$withdraw', { reason: 'x' })).statusCode, 404);
    assert.equal((await get('/api/v2/Consent/not-a-uuid')).statusCode, 400);
    const group = await system.services.registry.createGroup({ actor: systemActor('test') }, { groupType: 'household', name: 'Peña household' });
    assert.equal((await record(wfpTerms, group.id)).statusCode, 404, 'a group is not an Individual');
  });

  test('lists a registrant\'s consents newest first, by UUID or idtype|value; groups have consents too', async () => {
    const first = (await record()).json().id;
    const second = (await record({ ...wfpTerms, recipient: { organisation: 'UNICEF' } })).json().id;
    for (const ref of [anaId, 'national-id|AB1234567']) {
      const response = await get(`/api/v2/Individual/${encodeURIComponent(ref)}/consents`);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json().items.map((item: { id: string }) => item.id), [second, first]);
    }
    const group = await system.services.registry.createGroup({ actor: systemActor('test') }, { groupType: 'household', name: 'Peña household' });
    const created = await post(`/api/v2/Group/${group.id}/consents`, { ...wfpTerms, dataCategories: ['dpv-pd:FamilyStructure'] });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().subject, { resourceType: 'Group', id: group.id });
    assert.deepEqual((await get(`/api/v2/Group/${group.id}/consents`)).json().items.map((item: { id: string }) => item.id), [created.json().id]);
  });

  test('a deactivated registrant gets no new consent (422)', async () => {
    await system.services.registry.deactivate({ actor: systemActor('test') }, 'individual', anaId, { reason: 'deceased' } as never);
    assert.equal((await record()).statusCode, 422);
  });

  test('reading needs consent:read, writing consent:write: 401 without a token, 403 without the scope', async () => {
    const id = (await record()).json().id;
    const reader = await system.authAs('consent:read');
    const registryOnly = await system.authAs('individual:read', 'individual:write');
    const anonymous = {} as { authorization: string };
    const reads = [`/api/v2/Individual/${anaId}/consents`, `/api/v2/Consent/${id}`, `/api/v2/Consent/${id}/_history`];
    for (const url of reads) {
      assert.equal((await get(url, anonymous)).statusCode, 401, url);
      assert.equal((await get(url, registryOnly)).statusCode, 403, url);
      assert.equal((await get(url, reader)).statusCode, 200, url);
    }
    const writes: Array<[string, unknown]> = [[`/api/v2/Individual/${anaId}/consents`, wfpTerms], [`/api/v2/Consent/${id}/$give`, { evidence: signedForm }]];
    for (const [url, payload] of writes) {
      assert.equal((await post(url, payload, anonymous)).statusCode, 401, url);
      assert.equal((await post(url, payload, reader)).statusCode, 403, url);
    }
    assert.equal((await consentAudit()).length, 1);
  });
});

describe('consents and area scoping', () => {
  test('an actor limited to other areas cannot record or list consents of a registrant outside them', async () => {
    const system = await createTestSystem();
    try {
      const person = await system.services.registry.createIndividual({ actor: systemActor('test') }, { name: { given: 'Outside' } });
      const limited = { actor: { type: 'client' as const, id: 'area-bound', scopes: new Set(['consent:read', 'consent:write', 'individual:read']), areaLimits: new Map([['*', ['NOWHERE']]]) } };
      await assert.rejects(system.services.consents.listFor(limited, 'individual', person.id), (error: { code?: string }) => error.code === 'not_found');
      await assert.rejects(system.services.consents.create(limited, 'individual', person.id, { status: 'requested', ...wfpTerms } as never), (error: { code?: string }) => error.code === 'not_found');
      assert.deepEqual(await system.services.consents.listFor({ actor: systemActor('test') }, 'individual', person.id), []);
    } finally {
      await system.close();
    }
  });
});
