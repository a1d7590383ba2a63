import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor, type Actor } from '../../platform/auth/access-tokens.js';
import type { ConsentInput } from './consents.schemas.js';
import { consentClientAuth, signedForm, wfpTerms } from './consents.test-support.js';

// A consent client's search criteria match only registrants whose consents release the field searched on.

const officer = { actor: systemActor('test') };

describe('Search criteria of consent-based clients', () => {
  let system: TestSystem;
  let anaId: string;
  let anabelId: string;
  let wfp: { authorization: string };

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await system.services.areas.importAreas(officer, [{ code: 'DM', name: 'Demoland', kind: 'country' }, { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' }]);
    anaId = (await system.services.registry.createIndividual(officer, {
      name: { given: 'Ana', family: 'Peña' }, birthDate: '1990-04-12', area: 'DM01', phones: [{ value: '+63 917 123 4567' }], identifiers: [{ type: 'national-id', value: 'AB1234567' }],
    })).id;
    anabelId = (await system.services.registry.createIndividual(officer, {
      name: { given: 'Anabel', family: 'Cruz' }, birthDate: '1990-04-12', area: 'DM01', phones: [{ value: '+63 917 765 4321' }], identifiers: [{ type: 'national-id', value: 'CD7654321' }],
    })).id;
    wfp = await consentClientAuth(system, { organisation: 'WFP' });
  });

  const give = (id: string, dataCategories: string[], terms: Partial<ConsentInput> = {}) =>
    system.services.consents.create(officer, 'individual', id, { ...wfpTerms, dataCategories, status: 'given', evidence: signedForm, ...terms } as ConsentInput);
  const search = async (query: string, headers = wfp) => {
    const response = await system.http.inject({ method: 'GET', url: `/api/v2/Individual?${query}&_total=accurate`, headers });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json() as { total: number; items: Array<{ id: string }> };
    return { total: body.total, ids: body.items.map((item) => item.id).sort() };
  };

  test('name: only registrants who consented to this client seeing their name match, in items and total', async () => {
    await give(anaId, ['dpv-pd:Name']);
    await give(anabelId, ['dpv-pd:Contact']);
    assert.deepEqual(await search('name=ana'), { total: 1, ids: [anaId] });
    const staff = await system.authAs('individual:read');
    assert.deepEqual(await search('name=ana', staff), { total: 2, ids: [anaId, anabelId].sort() }, 'other actors: unchanged');
  });

  test('birthdate, identifier and phone need the categories releasing them (any of them: BirthDate or Age)', async () => {
    await give(anaId, ['dpv-pd:Name']);
    assert.deepEqual(await search('birthdate=1990-04-12'), { total: 0, ids: [] });
    assert.deepEqual(await search('identifier=national-id|AB1234567'), { total: 0, ids: [] });
    assert.deepEqual(await search('phone=%2B639171234567'), { total: 0, ids: [] });
    await give(anaId, ['dpv-pd:Age', 'dpv-pd:Identifier', 'dpv-pd:TelephoneNumber']);
    assert.deepEqual(await search('birthdate=1990-04-12'), { total: 1, ids: [anaId] });
    assert.deepEqual(await search('identifier=national-id|AB1234567'), { total: 1, ids: [anaId] });
    assert.deepEqual(await search('phone=%2B639171234567'), { total: 1, ids: [anaId] });
    assert.deepEqual(await search('name=ana&birthdate=1990-04-12&area=DM01'), { total: 0, ids: [] }, 'every criterion must be covered: area is not');
  });

  test('withdrawn consents, other recipients and other purposes do not open a criterion', async () => {
    const consent = await give(anaId, ['dpv-pd:Name']);
    await system.services.consents.withdraw(officer, consent.id, { reason: 'no longer' });
    await give(anabelId, ['dpv-pd:Name'], { recipient: { organisation: 'UNICEF' } });
    assert.deepEqual(await search('name=ana'), { total: 0, ids: [] });
    await give(anaId, ['dpv-pd:Name'], { purposes: ['dpv:ResearchAndDevelopment'] });
    assert.deepEqual(await search('name=ana'), { total: 0, ids: [] });
    const researcher = await consentClientAuth(system, { organisation: 'WFP', purpose: 'dpv:ResearchAndDevelopment' });
    assert.deepEqual(await search('name=ana', researcher), { total: 1, ids: [anaId] });
  });

  test('record-state criteria stay free; sorting by name or birth date is refused', async () => {
    assert.deepEqual(await search('active=true'), { total: 2, ids: [anaId, anabelId].sort() });
    const sorted = await system.http.inject({ method: 'GET', url: '/api/v2/Individual?_sort=-birthdate', headers: wfp });
    assert.equal(sorted.statusCode, 403);
    assert.equal(sorted.json().code, 'forbidden');
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Individual?_sort=_lastUpdated', headers: wfp })).statusCode, 200);
  });

  test('exports apply the same rule to their search', async () => {
    await give(anaId, ['dpv-pd:Name']);
    const actor: Actor = { type: 'client', id: 'cw_wfp', scopes: new Set(['individual:read']), legalBasis: 'consent', organisation: 'WFP' };
    const parts: Buffer[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, callback) { parts.push(chunk); callback(); } });
    const result = await system.services.exports.writeCsv(actor, { resourceType: 'Individual', search: { name: 'ana' } }, sink);
    assert.equal(result.rows, 1);
    const rows = parse(Buffer.concat(parts).toString('utf8'), { columns: true }) as Array<{ id: string }>;
    assert.deepEqual(rows.map((row) => row.id), [anaId]);
  });
});
