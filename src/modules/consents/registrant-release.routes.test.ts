import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { and, eq } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor, type Actor } from '../../platform/auth/access-tokens.js';
import { auditLog } from '../../platform/audit/audit.tables.js';
import type { ConsentInput } from './consents.schemas.js';
import { consentClientAuth, signedForm, wfpTerms } from './consents.test-support.js';

// Consent filter and masking on every response that carries registrant data, beyond reads and
// searches: write responses, _history, group members, $batch responses and CSV exports.

const officer = { actor: systemActor('test') };
const ana = {
  name: { given: 'Ana', family: 'Peña' }, birthDate: '1990-04-12', gender: '2', civilStatus: 'married', area: 'DM01',
  phones: [{ value: '+63 917 123 4567' }], email: 'ana@example.org', income: { monthly: 12500, currency: 'PHP' },
  identifiers: [{ type: 'national-id', value: 'AB1234567' }],
};
const WRITE_SCOPES = ['individual:read', 'individual:write', 'group:read', 'group:write'];

describe('Consent filter and masking on every registrant response', () => {
  let system: TestSystem;
  let anaId: string;
  let wfp: { authorization: string };
  let wfpMasked: { authorization: string };

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await system.services.areas.importAreas(officer, [{ code: 'DM', name: 'Demoland', kind: 'country' }, { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' }]);
    anaId = (await system.services.registry.createIndividual(officer, ana)).id;
    wfp = await consentClientAuth(system, { organisation: 'WFP', scopes: [...WRITE_SCOPES, 'pii:reveal'] });
    wfpMasked = await consentClientAuth(system, { organisation: 'WFP', scopes: WRITE_SCOPES });
  });

  const give = (id: string, terms: Partial<ConsentInput> = {}, kind: 'individual' | 'group' = 'individual') =>
    system.services.consents.create(officer, kind, id, { ...wfpTerms, status: 'given', evidence: signedForm, ...terms } as ConsentInput);
  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, headers: Record<string, string>, payload?: unknown, extra: Record<string, string> = {}) =>
    system.http.inject({ method, url, headers: { ...headers, ...extra, ...(method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {}) }, ...(payload === undefined ? {} : { payload: payload as object }) });

  test('write responses: a new registrant without consent comes back as its id only; a covered one with the covered fields', async () => {
    const created = await call('POST', '/api/v2/Individual', wfp, { name: { given: 'Ben' }, birthDate: '1985-01-01', area: 'DM01' });
    assert.equal(created.statusCode, 201);
    assert.equal(created.headers['x-consent-status'], 'none');
    assert.deepEqual(Object.keys(created.json()).sort(), ['id', 'resourceType']);

    await give(anaId, { dataCategories: ['dpv-pd:Name'] });
    const patched = await call('PATCH', `/api/v2/Individual/${anaId}`, wfp, { email: 'new@example.org' }, { 'if-match': 'W/"1"' });
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.headers['x-consent-status'], 'partial');
    assert.equal(patched.headers.etag, 'W/"2"');
    assert.deepEqual(Object.keys(patched.json()).sort(), ['id', 'name', 'resourceType'], 'the email just written is not echoed: no consent covers it');

    const identifier = await call('POST', `/api/v2/Individual/${anaId}/identifiers`, wfp, { type: 'tax-id', value: 'T-99' });
    assert.equal(identifier.statusCode, 201);
    assert.equal(identifier.json().identifiers, undefined);
  });

  test('write responses are masked after the consent filter for a client without pii:reveal', async () => {
    await give(anaId, { dataCategories: ['dpv-pd:Name', 'dpv-pd:Contact', 'dpv-pd:BirthDate'] });
    const patched = await call('PATCH', `/api/v2/Individual/${anaId}`, wfpMasked, { birthDate: '1990-05-12' }, { 'if-match': 'W/"1"' });
    assert.equal(patched.statusCode, 200);
    const body = patched.json();
    assert.equal(body.birthDate, '1990');
    assert.deepEqual(body.phones, [{ value: '+63917***4567' }]);
    assert.deepEqual(body.masked, ['birthDate', 'email', 'phones']);
    assert.equal(body.income, undefined, 'not released, so not even masked');
  });

  test('_history: only entries and fields of released categories; masked without pii:reveal', async () => {
    await system.services.registry.updateIndividual(officer, anaId, { name: { given: 'Anna' }, civilStatus: 'single', birthDate: '1990-04-13' }, 1);
    const none = await call('GET', `/api/v2/Individual/${anaId}/_history`, wfp);
    assert.equal(none.statusCode, 200);
    assert.equal(none.headers['x-consent-status'], 'none');
    assert.deepEqual(none.json().items, []);

    await give(anaId, { dataCategories: ['dpv-pd:Name', 'dpv-pd:BirthDate'] });
    const partial = await call('GET', `/api/v2/Individual/${anaId}/_history`, wfp);
    assert.equal(partial.headers['x-consent-status'], 'partial');
    const items = partial.json().items as Array<{ action: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null }>;
    assert.deepEqual(items.map((item) => item.action), ['create', 'update']);
    const keys = new Set(items.flatMap((item) => [...Object.keys(item.before ?? {}), ...Object.keys(item.after ?? {})]));
    assert.ok(keys.has('birthDate') && (keys.has('givenName') || keys.has('name')));
    for (const withheld of ['civilStatus', 'phones', 'email', 'income', 'area', 'areaId', 'identifiers']) assert.ok(!keys.has(withheld), `${withheld} is withheld`);
    const text = partial.body;
    assert.ok(!text.includes('married') && !text.includes('ana@example.org'));

    const masked = (await call('GET', `/api/v2/Individual/${anaId}/_history`, wfpMasked)).json().items as typeof items;
    assert.equal(masked[1]!.after!.birthDate, '1990', 'then masked like any read');
  });

  test('group members: released with the group\'s family structure only', async () => {
    const group = await system.services.registry.createGroup(officer, { name: 'Peña household', groupType: 'household', area: 'DM01', members: [{ individual: anaId, role: 'head' }] });
    const none = await call('GET', `/api/v2/Group/${group.id}/members`, wfp);
    assert.equal(none.statusCode, 200);
    assert.equal(none.headers['x-consent-status'], 'none');
    assert.deepEqual(none.json().items, []);
    await give(group.id, { dataCategories: ['dpv-pd:FamilyStructure'] }, 'group');
    const full = await call('GET', `/api/v2/Group/${group.id}/members`, wfp);
    assert.equal(full.headers['x-consent-status'], 'full');
    assert.deepEqual(full.json().items.map((item: { individual: string }) => item.individual), [anaId]);
    const staff = await call('GET', `/api/v2/Group/${group.id}/members`, await system.authAs('group:read'));
    assert.equal(staff.headers['x-consent-status'], 'not-required');
    assert.equal(staff.json().items.length, 1);
  });

  test('$batch: each registrant in the response is consent-filtered, then masked, and a reveal is audited', async () => {
    await give(anaId, { dataCategories: ['dpv-pd:Name', 'dpv-pd:Contact'] });
    const bundle = {
      type: 'batch',
      entries: [
        { request: { method: 'POST', url: 'Individual' }, resource: { name: { given: 'Cy' }, area: 'DM01', phones: [{ value: '+63 917 555 0000' }] } },
        { request: { method: 'PATCH', url: `Individual/${anaId}`, ifMatch: 'W/"1"' }, resource: { email: 'b@example.org' } },
      ],
    };
    const response = await call('POST', '/api/v2/$batch', wfpMasked, bundle);
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['x-consent-status'], 'partial');
    const [createdEntry, patchedEntry] = response.json().entries;
    assert.deepEqual(Object.keys(createdEntry.resource).sort(), ['consentStatus', 'id', 'resourceType']);
    assert.equal(createdEntry.resource.consentStatus, 'none');
    assert.deepEqual(Object.keys(patchedEntry.resource).sort(), ['consentStatus', 'email', 'id', 'masked', 'name', 'phones', 'resourceType']);
    assert.deepEqual(patchedEntry.resource.phones, [{ value: '+63917***4567' }]);
    assert.equal(patchedEntry.resource.email, null, 'masked');

    // A client under another legal basis: masked without pii:reveal; with it, the reveal is audited.
    const masked = await call('POST', '/api/v2/$batch', await system.authAsMasked('individual:write'), { type: 'transaction', entries: [bundle.entries[0]] });
    assert.equal(masked.headers['x-consent-status'], 'not-required');
    assert.deepEqual(masked.json().entries[0].resource.phones, [{ value: '+63917***0000' }]);
    assert.ok(masked.json().entries[0].resource.masked.includes('phones'));
    const revealing = await call('POST', '/api/v2/$batch', await system.authAs('individual:write'), { type: 'transaction', entries: [bundle.entries[0]] });
    const created = revealing.json().entries[0].resource;
    assert.deepEqual(created.phones, [{ value: '+639175550000' }]);
    const reveals = await system.testDatabase.db.select().from(auditLog).where(and(eq(auditLog.action, 'reveal'), eq(auditLog.entityId, created.id)));
    assert.equal(reveals.length, 1);
    assert.deepEqual(reveals[0]!.after, { fields: ['phones'] });
  });

  test('CSV export: a consent client gets the covered columns of covered records and the id alone of the others', async () => {
    const ben = await system.services.registry.createIndividual(officer, { name: { given: 'Ben' }, birthDate: '1980-01-01', area: 'DM01', phones: [{ value: '+63 917 222 3333' }] });
    await give(anaId, { dataCategories: ['dpv-pd:Name', 'dpv-pd:Contact'] });
    const actor: Actor = { type: 'client', id: 'cw_export', scopes: new Set(['individual:read']), legalBasis: 'consent', organisation: 'WFP' };
    const parts: Buffer[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, callback) { parts.push(chunk); callback(); } });
    await system.services.exports.writeCsv(actor, { resourceType: 'Individual' }, sink);
    const rows = parse(Buffer.concat(parts).toString('utf8'), { columns: true }) as Array<Record<string, string>>;
    const byId = new Map(rows.map((row) => [row.id, row]));
    const anaRow = byId.get(anaId)!;
    assert.equal(anaRow.given_name, 'Ana');
    assert.equal(anaRow.phones, '+63917***4567', 'released, then masked: no pii:reveal');
    for (const column of ['birth_date', 'area', 'identifiers', 'monthly_income', 'civil_status', 'households', 'version', 'updated_at', 'is_active']) assert.equal(anaRow[column], '', column);
    const benRow = byId.get(ben.id)!;
    assert.deepEqual(Object.entries(benRow).filter(([, value]) => value !== '').map(([column]) => column), ['id'], 'no consent: the id only');
    const text = Buffer.concat(parts).toString('utf8');
    assert.ok(!text.includes('1980') && !text.includes('AB1234567') && !text.includes('Ben'));
  });

  test('an export job keeps the consent claims of the client that asked for it', async () => {
    await give(anaId, { dataCategories: ['dpv-pd:Name'] });
    const started = await call('POST', '/api/v2/$export', wfp, { resourceType: 'Individual' });
    assert.equal(started.statusCode, 202);
    await system.jobs.drain();
    const file = await call('GET', `/api/v2/$export/${started.json().id}/file`, wfp);
    assert.equal(file.statusCode, 200);
    const [row] = parse(file.body, { columns: true }) as Array<Record<string, string>>;
    assert.equal(row!.given_name, 'Ana');
    assert.equal(row!.phones, '');
  });
});
