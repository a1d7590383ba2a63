import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { consents } from './consents.tables.js';
import type { ConsentInput } from './consents.schemas.js';
import { consentClientAuth, signedForm, wfpTerms } from './consents.test-support.js';

const officer = { actor: systemActor('test') };
const ana = {
  name: { given: 'Ana', family: 'Peña' }, birthDate: '1990-04-12', gender: '2', civilStatus: 'married', area: 'DM01',
  phones: [{ value: '+63 917 123 4567' }], email: 'ana@example.org', income: { monthly: 12500, currency: 'PHP' },
  disability: { hasDisability: false }, identifiers: [{ type: 'national-id', value: 'AB1234567' }], custom: {},
};
const ALL_CATEGORIES = [
  'dpv-pd:Name', 'dpv-pd:BirthDate', 'dpv-pd:Gender', 'dpv-pd:Contact', 'dpv-pd:Address', 'dpv-pd:Identifier',
  'dpv-pd:Disability', 'dpv-pd:Income', 'dpv-pd:FamilyStructure', 'dpv-pd:CivilStatus',
];
const keys = (body: object) => Object.keys(body).sort();

describe('Consent filter on registry reads (X-Consent-Status)', () => {
  let system: TestSystem;
  let anaId: string;
  let benId: string;
  let wfp: { authorization: string };

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await system.services.areas.importAreas(officer, [{ code: 'DM', name: 'Demoland', kind: 'country' }, { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' }]);
    anaId = (await system.services.registry.createIndividual(officer, ana)).id;
    benId = (await system.services.registry.createIndividual(officer, { name: { given: 'Ben', family: 'Peña' }, gender: '1' })).id;
    wfp = await consentClientAuth(system, { organisation: 'WFP', organisationType: 'un-agency' });
  });

  const give = (id: string, terms: Partial<ConsentInput> = {}, kind: 'individual' | 'group' = 'individual') =>
    system.services.consents.create(officer, kind, id, { ...wfpTerms, status: 'given', evidence: signedForm, ...terms } as ConsentInput);
  const read = (url: string, headers: Record<string, string>) => system.http.inject({ method: 'GET', url, headers });

  test('a consent client sees exactly the covered fields of a registrant: partial', async () => {
    await give(anaId);
    const response = await read(`/api/v2/Individual/${anaId}`, wfp);
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['x-consent-status'], 'partial');
    assert.equal(response.headers.etag, 'W/"1"');
    assert.deepEqual(response.json(), { resourceType: 'Individual', id: anaId, name: { given: 'Ana', family: 'Peña', additional: null, display: 'Ana Peña' }, phones: [{ value: '+639171234567' }], email: 'ana@example.org' });
  });

  test('every category covered (over several consents, by organisation or its type): full, and still nothing uncategorised', async () => {
    await give(anaId, { dataCategories: ALL_CATEGORIES.slice(0, 5) });
    await give(anaId, { dataCategories: ALL_CATEGORIES.slice(5), recipient: { organisationType: 'un-agency' } });
    const response = await read(`/api/v2/Individual/${anaId}`, wfp);
    assert.equal(response.headers['x-consent-status'], 'full');
    assert.deepEqual(keys(response.json()), [
      'addresses', 'area', 'birthDate', 'civilStatus', 'disability', 'email', 'gender', 'id', 'identifiers', 'income',
      'memberships', 'name', 'phones', 'relationships', 'resourceType',
    ]);
  });

  test('withdrawn, expired, other-organisation and other-purpose consents release the id only: none', async () => {
    const withdrawn = await give(anaId);
    await system.services.consents.withdraw(officer, withdrawn.id, { reason: 'changed mind' });
    const expired = await give(benId, { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    await system.testDatabase.db.update(consents).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(consents.uuid, expired.id));
    const idOnly = async (id: string, headers: Record<string, string>, label: string) => {
      const response = await read(`/api/v2/Individual/${id}`, headers);
      assert.equal(response.statusCode, 200, label);
      assert.equal(response.headers['x-consent-status'], 'none', label);
      assert.deepEqual(response.json(), { resourceType: 'Individual', id }, label);
    };
    await idOnly(anaId, wfp, 'withdrawn');
    await idOnly(benId, wfp, 'expired');
    await give(anaId);
    await idOnly(anaId, await consentClientAuth(system, { organisation: 'UNICEF', organisationType: 'un-fund' }), 'other organisation');
    await idOnly(anaId, await consentClientAuth(system, { organisation: 'WFP', purpose: 'dpv:ResearchAndDevelopment' }), 'other purpose');
    assert.equal((await read(`/api/v2/Individual/${anaId}`, wfp)).headers['x-consent-status'], 'partial', 'while the new consent does cover WFP');
  });

  test('the purpose claim of the token selects the consents for that purpose', async () => {
    await give(anaId, { purposes: ['dpv:ResearchAndDevelopment'], dataCategories: ['dpv-pd:Age'] });
    const research = await consentClientAuth(system, { organisation: 'WFP', purpose: 'https://w3id.org/dpv#ResearchAndDevelopment' });
    const response = await read(`/api/v2/Individual/${anaId}`, research);
    assert.deepEqual(response.json(), { resourceType: 'Individual', id: anaId, birthDate: '1990-04-12' });
    assert.equal((await read(`/api/v2/Individual/${anaId}`, wfp)).headers['x-consent-status'], 'none', 'default purpose: service provision');
  });

  test('clients under another legal basis and staff see everything: not-required', async () => {
    const publicTask = await system.authAs('individual:read');
    const staff = (await system.signInAs('registrar')).headers;
    const unfiltered = (await system.services.registry.getIndividual({ actor: systemActor('test') }, anaId));
    for (const headers of [publicTask, staff]) {
      const response = await read(`/api/v2/Individual/${anaId}`, headers);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['x-consent-status'], 'not-required');
      assert.deepEqual(keys(response.json()), keys(JSON.parse(JSON.stringify(unfiltered))));
    }
  });

  test('search results are filtered per item, each with its consentStatus; the header sums them up', async () => {
    await give(anaId);
    // A record-state criterion: a name criterion would match consented names only (consent-search-guard.test.ts).
    const search = (headers: Record<string, string>) => read('/api/v2/Individual?active=true', headers);
    const mixed = await search(wfp);
    assert.equal(mixed.statusCode, 200, mixed.body);
    assert.equal(mixed.headers['x-consent-status'], 'partial');
    const body = mixed.json();
    assert.equal(body.resourceType, 'SearchResult');
    assert.deepEqual(body.items, [
      { resourceType: 'Individual', id: anaId, name: { given: 'Ana', family: 'Peña', additional: null, display: 'Ana Peña' }, phones: [{ value: '+639171234567' }], email: 'ana@example.org', consentStatus: 'partial' },
      { resourceType: 'Individual', id: benId, consentStatus: 'none' },
    ]);
    const nobody = await search(await consentClientAuth(system, { organisation: 'UNICEF' }));
    assert.equal(nobody.headers['x-consent-status'], 'none');
    assert.deepEqual(nobody.json().items.map((item: object) => keys(item)), [['consentStatus', 'id', 'resourceType'], ['consentStatus', 'id', 'resourceType']]);
    await give(anaId, { dataCategories: ALL_CATEGORIES });
    await give(benId, { dataCategories: ALL_CATEGORIES });
    assert.equal((await search(wfp)).headers['x-consent-status'], 'full');
    const publicTask = await search(await system.authAs('individual:read'));
    assert.equal(publicTask.headers['x-consent-status'], 'not-required');
    assert.ok(publicTask.json().items.every((item: Record<string, unknown>) => item.consentStatus === undefined && item.custom !== undefined));
  });

  test('groups: a group\'s own consent covers the group record (its members need their own)', async () => {
    const group = await system.services.registry.createGroup(officer, { groupType: 'household', name: 'Peña household', members: [{ individual: anaId, role: 'head' }] });
    await give(group.id, { dataCategories: ['dpv-pd:FamilyStructure'] }, 'group');
    const response = await read(`/api/v2/Group/${group.id}`, wfp);
    assert.equal(response.headers['x-consent-status'], 'partial');
    assert.deepEqual(keys(response.json()), ['groupType', 'head', 'id', 'members', 'resourceType', 'size']);
    assert.equal(response.json().head, anaId);
    const page = await read('/api/v2/Group', wfp);
    assert.equal(page.headers['x-consent-status'], 'partial');
    assert.deepEqual(keys(page.json().items[0]), ['consentStatus', 'groupType', 'head', 'id', 'resourceType', 'size']);
    assert.deepEqual((await read(`/api/v2/Individual/${anaId}`, wfp)).json(), { resourceType: 'Individual', id: anaId });
  });

  test('a consent client still needs the read scope, and unknown registrants are 404', async () => {
    const noScope = await consentClientAuth(system, { organisation: 'WFP', scopes: ['group:read'] });
    assert.equal((await read(`/api/v2/Individual/${anaId}`, noScope)).statusCode, 403);
    assert.equal((await read(`/api/v2/Individual/${anaId}`, {})).statusCode, 401);
    assert.equal((await read('/api/v2/Individual/00000000-0000-4000-8000-000000000000', wfp)).statusCode, 404);
  });
});
