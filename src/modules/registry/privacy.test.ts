import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { queryRows, rawSql } from '../../platform/database/database.js';
import { isUniqueViolation } from '../../platform/database/database-errors.js';
import { createSystem } from '../../app.js';
import { loadConfig } from '../../platform/config.js';
import { LocalKeyProvider, parseKek } from '../../platform/crypto/key-provider.js';
import { KeyRing } from '../../platform/crypto/key-ring.js';
import { ReencryptionService } from '../../platform/privacy/reencryption.js';
import type { JobContext } from '../../platform/jobs/job-runner.js';
import { keysReencrypt, keysRotateDataKey, keysRotateKek } from '../../cli/data-keys.js';
import { RegistryEncryption } from './registry.encryption.js';
import { registryReencryptionTargets } from './reencryption.repository.js';

// Values chosen so that none can turn up by chance inside base64 ciphertexts or indexes.
const NATIONAL_ID = 'AB1234567';
const PASSPORT = 'P7654321';
const PHONE = '+639171234567';
const ADDRESS_LINE = '12 Rizal Street';
const POSTAL_CODE = '1100 QC';
const RESTRICTED = [NATIONAL_ID, PASSPORT, PHONE, '9171234567', ADDRESS_LINE, POSTAL_CODE];

const ana = {
  name: { given: 'Ana', family: 'Peña' },
  birthDate: '1990-04-12',
  gender: '2',
  civilStatus: 'married',
  phones: [{ value: '+63 917 123 4567', use: 'mobile' }],
  email: 'ana@example.org',
  addresses: [{ use: 'home', line: [ADDRESS_LINE], city: 'Quezon City', postalCode: POSTAL_CODE, country: 'PH' }],
  disability: { hasDisability: true, types: ['seeing'] },
  income: { monthly: 12500.5, currency: 'PHP' },
  identifiers: [{ type: 'national-id', value: NATIONAL_ID }],
};

describe('Privacy: encryption at rest, blind indexes, masking, reveal audit, key rotation', () => {
  let system: TestSystem;
  let writer: { authorization: string };
  let reader: { authorization: string };
  let maskedReader: { authorization: string };
  const db = () => system.testDatabase.db;
  const rows = <T = Record<string, unknown>>(text: string) => queryRows<T>(db(), rawSql.raw(text));

  before(async () => { system = await createTestSystem({ DEFAULT_PHONE_REGION: 'PH' }); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    writer = await system.authAs('individual:write', 'individual:read', 'group:write', 'group:read');
    reader = await system.authAs('individual:read', 'group:read');
    maskedReader = await system.authAsMasked('individual:read', 'group:read');
  });

  const create = async (payload: unknown = ana) => {
    const response = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: writer, payload: payload as object });
    assert.equal(response.statusCode, 201, response.body);
    return response.json() as { id: string; version: number };
  };
  const get = (url: string, headers = reader) => system.http.inject({ method: 'GET', url, headers });
  const auditText = async () => JSON.stringify(await rows('select action, entity_type, entity_id, before, after from audit_log order by id'));

  test('restricted values are stored encrypted: the raw columns never hold them', async () => {
    const { id } = await create();
    const [registrant] = await rows<Record<string, unknown>>(`select * from registrants where uuid = '${id}'`);
    const identifiers = await rows<Record<string, unknown>>('select * from identifiers');
    const stored = JSON.stringify([registrant, identifiers]);
    for (const value of RESTRICTED) assert.ok(!stored.includes(value), `${value} is not stored in clear`);
    assert.equal(registrant!.phones, null);
    assert.equal(registrant!.addresses, null);
    assert.match(String(registrant!.phones_encrypted), /^v1:1:[^:]+:[^:]+$/);
    assert.match(String(registrant!.addresses_encrypted), /^v1:1:[^:]+:[^:]+$/);
    assert.equal((registrant!.phone_indexes as string[]).length, 1);
    assert.equal(identifiers[0]!.value, null);
    assert.match(String(identifiers[0]!.value_encrypted), /^v1:1:/);
    assert.match(String(identifiers[0]!.value_index), /^[A-Za-z0-9_-]{43}$/);

    const body = (await get(`/api/v2/Individual/${id}`)).json();
    assert.deepEqual(body.identifiers.map((identifier: { value: string }) => identifier.value), [NATIONAL_ID]);
    assert.deepEqual(body.phones, [{ value: PHONE, use: 'mobile' }]);
    assert.deepEqual(body.addresses, ana.addresses);
    assert.equal(body.masked, undefined);

    // Responses kept for Idempotency-Key replays hold personal data: stored encrypted too.
    const keyed = () => system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: { ...writer, 'idempotency-key': 'privacy-1' }, payload: { ...ana, identifiers: [{ type: 'passport', value: PASSPORT }] } });
    const firstResponse = await keyed();
    assert.equal(firstResponse.statusCode, 201, firstResponse.body);
    const [kept] = await rows<{ response_body: string }>('select response_body from idempotency_keys');
    assert.match(kept!.response_body, /^v1:1:/);
    for (const value of RESTRICTED) assert.ok(!kept!.response_body.includes(value));
    const replay = await keyed();
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(replay.json(), firstResponse.json());

    // A ciphertext moved to another record does not decrypt: it is bound to its record.
    const other = await create({ name: { given: 'Ben' } });
    await db().execute(rawSql`update registrants set phones_encrypted = ${registrant!.phones_encrypted} where uuid = ${other.id}`);
    assert.equal((await get(`/api/v2/Individual/${other.id}`)).statusCode, 500);
  });

  test('identifier and phone lookups match blind indexes', async () => {
    const { id } = await create();
    await create({ name: { given: 'Ben' }, phones: [{ value: '+63 917 765 4321' }], identifiers: [{ type: 'national-id', value: 'CD7654321' }] });
    assert.equal((await get(`/api/v2/Individual/national-id|${NATIONAL_ID}`)).json().id, id);
    assert.equal((await get(`/api/v2/Individual/${encodeURIComponent(`urn:commonweal:id:national-id|${NATIONAL_ID}`)}`)).json().id, id);
    assert.equal((await get('/api/v2/Individual/national-id|ZZ0000000')).statusCode, 404);
    const search = async (query: string) => (await get(`/api/v2/Individual?${query}`)).json();
    assert.deepEqual((await search(`identifier=national-id|${NATIONAL_ID}`)).items.map((item: { id: string }) => item.id), [id]);
    assert.deepEqual((await search(`phone=${encodeURIComponent(PHONE)}`)).items.map((item: { id: string }) => item.id), [id]);
    assert.deepEqual((await search(`phone=${encodeURIComponent('0917 123 4567')}`)).items.map((item: { id: string }) => item.id), [id], 'read in DEFAULT_PHONE_REGION, normalised to E.164');
    assert.deepEqual((await search(`phone=${encodeURIComponent(PHONE)}&name=ben`)).items, []);
    assert.deepEqual((await search(`phone=${encodeURIComponent('+639990000000')}`)).items, []);
    const bad = await get('/api/v2/Individual?phone=abc');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'unknown_parameter');
  });

  test('live identifiers stay unique on their blind index; bulk upserts match through it', async () => {
    const { id } = await create();
    const duplicate = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: writer, payload: { name: { given: 'Copy' }, identifiers: [{ type: 'national-id', value: NATIONAL_ID }] } });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json().code, 'duplicate_identifier');
    // The database refuses it too, whatever the code does.
    const [row] = await rows<{ registrant_id: number; value_encrypted: string; value_index: string }>('select registrant_id, value_encrypted, value_index from identifiers');
    await assert.rejects(
      db().execute(rawSql`insert into identifiers (registrant_id, id_type, value_encrypted, value_index) values (${row!.registrant_id}, 'national-id', ${row!.value_encrypted}, ${row!.value_index})`),
      (error: unknown) => isUniqueViolation(error, 'identifiers_live_uq'),
    );
    const invalidated = await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${id}/identifiers/$invalidate`, headers: writer, payload: { type: 'national-id', value: NATIONAL_ID, reason: 'reissued' } });
    assert.equal(invalidated.statusCode, 200, invalidated.body);
    const reused = await create({ name: { given: 'New' }, identifiers: [{ type: 'national-id', value: NATIONAL_ID }] });

    const context = { actor: systemActor('test') };
    const upsert = (given: string) => system.services.registry.bulk.upsertPeople(context, [{ key: 1, individual: { name: { given }, phones: [{ value: PHONE }], identifiers: [{ type: 'national-id', value: NATIONAL_ID }] } }]);
    const result = await upsert('Renamed');
    assert.deepEqual([result.created, result.updated, result.problems], [0, 1, []]);
    assert.equal((await get(`/api/v2/Individual/${reused.id}`)).json().name.given, 'Renamed');
    assert.deepEqual((await upsert('Renamed')).updated, 0, 'the same values again change nothing');
    const fresh = await system.services.registry.bulk.upsertPeople(context, [{ key: 1, individual: { name: { given: 'Bulk' }, phones: [{ value: PHONE }], identifiers: [{ type: 'passport', value: PASSPORT }] } }]);
    assert.equal(fresh.created, 1);
    const found = (await get(`/api/v2/Individual?identifier=passport|${PASSPORT}`)).json().items;
    assert.deepEqual(found.map((item: { phones: unknown }) => item.phones), [[{ value: PHONE }]]);
    assert.equal((await get(`/api/v2/Individual?phone=${encodeURIComponent(PHONE)}&_total=accurate`)).json().total, 3, 'ana, the bulk update and the bulk create');
    const stored = JSON.stringify(await rows('select * from registrants')) + JSON.stringify(await rows('select * from identifiers'));
    for (const value of RESTRICTED) assert.ok(!stored.includes(value), `${value} is not stored in clear by bulk writes`);
  });

  test('without pii:reveal, confidential and restricted values are masked, in reads, searches and write responses', async () => {
    const { id } = await create({ ...ana, custom: {} });
    const masked = (await get(`/api/v2/Individual/${id}`, maskedReader)).json();
    assert.deepEqual(masked.identifiers, [{ type: 'national-id', system: 'urn:commonweal:id:national-id', value: 'AB****567', isValid: true }]);
    assert.deepEqual(masked.phones, [{ value: '+63917***4567', use: 'mobile' }]);
    assert.deepEqual(masked.addresses, [{ use: 'home', line: ['***'], city: 'Quezon City', postalCode: '***', country: 'PH' }]);
    assert.equal(masked.birthDate, '1990');
    assert.deepEqual([masked.email, masked.income, masked.disability, masked.civilStatus], [null, null, null, null]);
    assert.deepEqual(masked.custom, {});
    assert.deepEqual(masked.name, { given: 'Ana', family: 'Peña', additional: null, display: 'Ana Peña' }, 'names are internal: shown');
    assert.equal(masked.gender, '2');
    assert.deepEqual(masked.masked, ['birthDate', 'civilStatus', 'disability', 'income', 'email', 'custom', 'identifiers', 'phones', 'addresses']);

    const page = (await get('/api/v2/Individual?name=ana', maskedReader)).json();
    assert.equal(page.items[0].identifiers[0].value, 'AB****567');
    assert.equal(page.items[0].phones[0].value, '+63917***4567');
    assert.ok(page.items[0].masked.includes('income'));

    const writerWithoutReveal = await system.authAsMasked('individual:write', 'individual:read');
    const patched = await system.http.inject({
      method: 'PATCH', url: `/api/v2/Individual/${id}`, payload: JSON.stringify({ civilStatus: 'widowed' }),
      headers: { ...writerWithoutReveal, 'content-type': 'application/merge-patch+json', 'if-match': 'W/"1"' },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual([patched.json().civilStatus, patched.json().identifiers[0].value], [null, 'AB****567']);
    assert.equal((await get(`/api/v2/Individual/${id}`)).json().civilStatus, 'widowed', 'masking is of the answer, not of the data');

    // Staff roles: the viewer sees masked data, the registrar unmasked.
    const viewer = await system.signInAs('registry-viewer');
    assert.equal((await get(`/api/v2/Individual/${id}`, viewer.headers as never)).json().phones[0].value, '+63917***4567');
    const registrar = await system.signInAs('registrar');
    assert.equal((await get(`/api/v2/Individual/${id}`, registrar.headers as never)).json().phones[0].value, PHONE);

    const history = (await get(`/api/v2/Individual/${id}/_history`, maskedReader)).json().items;
    assert.equal(history[0].after.birthDate, '1990');
    assert.equal(history[0].after.email, null);
    assert.equal(history[1].before.civilStatus, null, 'history snapshots are masked too');
    assert.equal((await get(`/api/v2/Individual/${id}/_history`)).json().items[1].before.civilStatus, 'married');
  });

  test('pii:reveal bound to areas reveals only records in those areas', async () => {
    await system.services.areas.importAreas({ actor: systemActor('test') }, [
      { code: 'DM', name: 'Demoland', kind: 'country' },
      { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' },
      { code: 'DM0101', name: 'North town', kind: 'municipality', parentCode: 'DM01' },
      { code: 'DM02', name: 'South', kind: 'region', parentCode: 'DM' },
    ]);
    const north = await create({ ...ana, area: 'DM0101' });
    const south = await create({ ...ana, identifiers: [{ type: 'passport', value: PASSPORT }], area: 'DM02' });
    const user = await system.signInAs('registry-viewer', 'registrar@DM01');
    const read = async (id: string) => (await get(`/api/v2/Individual/${id}`, user.headers as never)).json();
    assert.equal((await read(north.id)).phones[0].value, PHONE, 'in DM01\'s subtree: unmasked');
    assert.equal((await read(south.id)).phones[0].value, '+63917***4567', 'elsewhere: masked');
    const page = (await get('/api/v2/Individual?name=ana&_sort=_created', user.headers as never)).json();
    assert.deepEqual(page.items.map((item: { identifiers: Array<{ value: string }> }) => item.identifiers[0]!.value), [NATIONAL_ID, 'P7***321']);
    assert.equal((await get(`/api/v2/Individual/${south.id}/_history`, user.headers as never)).json().items[0].after.birthDate, '1990');
    assert.equal((await get(`/api/v2/Individual/${north.id}/_history`, user.headers as never)).json().items[0].after.birthDate, ana.birthDate);
  });

  test('every response showing restricted values is audited as a reveal: who, which record, which fields, never the values', async () => {
    const { id } = await create();
    const ben = await create({ name: { given: 'Ben', family: 'Peña' }, phones: [{ value: '+63 917 765 4321' }] });
    await create({ name: { given: 'Cy', family: 'Peña' } });
    const reveals = async () => rows<{ actor_id: string; entity_type: string; entity_id: string; after: { fields: string[] } }>("select actor_id, entity_type, entity_id, after from audit_log where action = 'reveal' order by id");
    const before = (await reveals()).length;

    await get(`/api/v2/Individual/${id}`, maskedReader);
    await get('/api/v2/Individual?name=pena', maskedReader);
    assert.equal((await reveals()).length, before, 'masked answers reveal nothing');

    await get(`/api/v2/Individual/${id}`);
    const [single] = (await reveals()).slice(before);
    assert.deepEqual([single!.entity_type, single!.entity_id, single!.after], ['individual', id, { fields: ['identifiers', 'phones', 'addresses'] }]);
    assert.match(single!.actor_id, /^cw_/);

    await get('/api/v2/Individual?name=pena');
    const fromSearch = (await reveals()).slice(before + 1);
    assert.deepEqual(fromSearch.map((entry) => [entry.entity_id, entry.after.fields]).sort(), [[id, ['identifiers', 'phones', 'addresses']], [ben.id, ['phones']]].sort(), 'one per item with restricted values; none for Cy');
    const history = (await get(`/api/v2/Individual/${id}/_history`)).json().items;
    assert.deepEqual(history.map((entry: { action: string }) => entry.action), ['create'], 'reveals are access, not change history');
    const text = await auditText();
    for (const value of RESTRICTED) assert.ok(!text.includes(value));
  });

  test('the audit log never holds restricted values in clear, only digests tied to the blind index', async () => {
    const { id } = await create();
    const patch = await system.http.inject({
      method: 'PATCH', url: `/api/v2/Individual/${id}`,
      payload: JSON.stringify({ phones: [{ value: '+63 917 000 1111' }], addresses: [{ line: ['34 Mabini Avenue'], city: 'Manila' }] }),
      headers: { ...writer, 'content-type': 'application/merge-patch+json', 'if-match': 'W/"1"' },
    });
    assert.equal(patch.statusCode, 200, patch.body);
    const add = await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${id}/identifiers`, headers: writer, payload: { type: 'passport', value: PASSPORT } });
    assert.equal(add.statusCode, 201, add.body);
    assert.equal((await system.http.inject({ method: 'POST', url: `/api/v2/Individual/${id}/identifiers/$invalidate`, headers: writer, payload: { type: 'passport', value: PASSPORT, reason: 'lost' } })).statusCode, 200);
    const group = await system.http.inject({ method: 'POST', url: '/api/v2/Group', headers: writer, payload: { groupType: 'household', name: 'Peña household', identifiers: [{ type: 'household-id', value: 'HH-4242-XY' }], phones: [{ value: '+63 917 222 3333' }], members: [{ individual: id, role: 'head' }] } });
    assert.equal(group.statusCode, 201, group.body);
    await system.services.registry.bulk.upsertPeople({ actor: systemActor('test') }, [
      { key: 1, individual: { name: { given: 'Ana' }, phones: [{ value: '+63 917 444 5555' }], identifiers: [{ type: 'national-id', value: NATIONAL_ID }] }, household: { identifier: { type: 'household-id', value: 'HH-9898-ZZ' }, role: 'head' } },
    ]);

    const text = await auditText();
    for (const value of [...RESTRICTED, '9170001111', '34 Mabini Avenue', 'HH-4242-XY', 'HH-9898-ZZ', '9172223333', '9174445555']) {
      assert.ok(!text.includes(value), `${value} is not in the audit log`);
    }
    const [created] = await rows<{ after: { identifiers: Array<{ value: string }>; phones: Array<{ value: string }>; addresses: Array<Record<string, unknown>> } }>(
      `select after from audit_log where action = 'create' and entity_id = '${id}'`,
    );
    const [index] = await rows<{ value_index: string }>("select value_index from identifiers where id_type = 'national-id'");
    assert.equal(created!.after.identifiers[0]!.value, `hmac:${index!.value_index.slice(0, 16)}`, 'the digest is the start of the blind index');
    assert.match(created!.after.phones[0]!.value, /^hmac:[A-Za-z0-9_-]{16}$/);
    assert.deepEqual({ ...created!.after.addresses[0], digest: 'x' }, { use: 'home', line: ['***'], city: 'Quezon City', postalCode: '***', country: 'PH', digest: 'x' });
    const [update] = await rows<{ before: Record<string, unknown>; after: Record<string, unknown> }>(`select before, after from audit_log where action = 'update' and entity_id = '${id}'`);
    assert.deepEqual(Object.keys(update!.after).sort(), ['addresses', 'phones', 'version'], 'changes of restricted fields still show as changes');
  });

  test('exports are masked without pii:reveal; an unmasked export is audited once, without values', async () => {
    await create();
    const exportAs = async (headers: { authorization: string }) => {
      const started = await system.http.inject({ method: 'POST', url: '/api/v2/$export', headers, payload: { resourceType: 'Individual', search: { identifier: `national-id|${NATIONAL_ID}` } } });
      assert.equal(started.statusCode, 202, started.body);
      await system.jobs.drain();
      const file = await system.http.inject({ method: 'GET', url: `/api/v2/$export/${started.json().id}/file`, headers });
      assert.equal(file.statusCode, 200, file.body);
      return { jobId: started.json().id as string, csv: file.body };
    };
    const masked = await exportAs(maskedReader);
    assert.ok(masked.csv.includes('national-id|AB****567'));
    assert.ok(masked.csv.includes('+63917***4567'));
    assert.ok(masked.csv.includes(',1990,'));
    assert.ok(!masked.csv.includes(NATIONAL_ID) && !masked.csv.includes(PHONE) && !masked.csv.includes('12500.5'));
    const revealedBefore = (await rows("select 1 from audit_log where action = 'reveal' and entity_type = 'export'")).length;
    assert.equal(revealedBefore, 0);

    const clear = await exportAs(reader);
    assert.ok(clear.csv.includes(`national-id|${NATIONAL_ID}`) && clear.csv.includes(PHONE) && clear.csv.includes('1990-04-12'));
    const entries = await rows<{ entity_id: string; after: Record<string, unknown> }>("select entity_id, after from audit_log where action = 'reveal' and entity_type = 'export'");
    assert.deepEqual(entries, [{ entity_id: clear.jobId, after: { resourceType: 'Individual', fields: ['addresses', 'identifiers', 'phones'], records: 1, searchParameters: ['identifier'] } }]);
  });

  test('data key rotation: new writes use the new key, old ciphertexts stay readable; reencrypt rewrites them all', async () => {
    const { id: first } = await create();
    assert.match(await keysRotateDataKey(system, {}), /New data key version 2/);
    const { id: second } = await create({ name: { given: 'Ben' }, phones: [{ value: '+63 917 765 4321' }], identifiers: [{ type: 'passport', value: PASSPORT }] });
    const versions = async () => (await rows<{ v: string }>(`
      select split_part(phones_encrypted, ':', 2) as v from registrants where phones_encrypted is not null
      union all select split_part(addresses_encrypted, ':', 2) from registrants where addresses_encrypted is not null
      union all select split_part(value_encrypted, ':', 2) from identifiers`)).map((row) => row.v).sort();
    assert.deepEqual(await versions(), ['1', '1', '1', '2', '2']);
    assert.equal((await get(`/api/v2/Individual/${first}`)).json().phones[0].value, PHONE, 'version 1 still reads');
    assert.equal((await get(`/api/v2/Individual/passport|${PASSPORT}`)).json().id, second);

    const output = await keysReencrypt(system, { run: true });
    assert.match(output, /succeeded: 2 rows rewritten under data key version 2/, 'the first registrant (phones and addresses) and its identifier');
    assert.deepEqual(await versions(), ['2', '2', '2', '2', '2']);
    assert.equal((await get(`/api/v2/Individual/national-id|${NATIONAL_ID}`)).json().id, first);
    assert.deepEqual((await get(`/api/v2/Individual?phone=${encodeURIComponent(PHONE)}`)).json().items.map((item: { id: string }) => item.id), [first]);
    assert.deepEqual((await get(`/api/v2/Individual/${first}`)).json().addresses, ana.addresses);
    assert.match(await keysReencrypt(system, { run: true }), /succeeded: 0 rows rewritten/);
    const [rotation] = await rows<{ entity_id: string }>("select entity_id from audit_log where action = 'rotate-data-key'");
    assert.equal(rotation!.entity_id, 'data-v2');
  });

  test('the re-encryption job is resumable: each batch commits with its checkpoint', async () => {
    for (const given of ['A', 'B', 'C', 'D']) await create({ name: { given }, phones: [{ value: '+63 917 765 4321' }] });
    await system.encryption.keyRing.rotateDataKey();
    const encryption = new RegistryEncryption(system.encryption.keyRing);
    const service = new ReencryptionService(system.database.db, system.encryption.keyRing, registryReencryptionTargets(encryption), { batchSize: 1 });
    const saved: Array<Record<string, unknown> | undefined> = [];
    const context = (checkpoint: Record<string, unknown> | null, failAt?: number): JobContext<Record<string, unknown>> => ({
      job: { id: crypto.randomUUID(), type: 'privacy.reencrypt', payload: {}, attempt: 1, maxAttempts: 3, checkpoint },
      signal: new AbortController().signal,
      reportProgress: async (_done, _total, checkpointed) => {
        if (failAt !== undefined && saved.length === failAt) throw new Error('worker died');
        saved.push(checkpointed);
      },
    });
    await assert.rejects(service.runJob(context(null, 3)), /worker died/);
    const stale = async () => (await rows("select 1 from registrants where phones_encrypted not like 'v1:2:%'")).length;
    assert.equal(await stale(), 2, 'two batches of one committed before the failure, the third rolled back');
    const result = await service.runJob(context(saved.at(-1)!));
    assert.deepEqual(result, { version: 2, rewritten: 4 });
    assert.equal(await stale(), 0);
  });

  test('rows from before encryption at rest are found, kept unique, and converted by the job', async () => {
    const uuid = crypto.randomUUID();
    await db().execute(rawSql`insert into registrants (uuid, kind, given_name, display_name, name_search, phones, addresses)
      values (${uuid}, 'individual', 'Old', 'Old', 'old', ${JSON.stringify([{ value: PHONE }])}::jsonb, ${JSON.stringify([{ line: [ADDRESS_LINE] }])}::jsonb)`);
    await db().execute(rawSql`insert into identifiers (registrant_id, id_type, value) select id, 'national-id', ${NATIONAL_ID} from registrants where uuid = ${uuid}`);
    assert.equal(await system.encryption.reencryption.legacyRowsPresent(), true);
    const legacy = (await get(`/api/v2/Individual/national-id|${NATIONAL_ID}`)).json();
    assert.deepEqual([legacy.id, legacy.phones, legacy.addresses], [uuid, [{ value: PHONE }], [{ line: [ADDRESS_LINE] }]]);
    const duplicate = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: writer, payload: { name: { given: 'Copy' }, identifiers: [{ type: 'national-id', value: NATIONAL_ID }] } });
    assert.equal(duplicate.statusCode, 409, 'a plaintext row still counts for uniqueness');

    assert.match(await keysReencrypt(system, { run: true }), /succeeded: 2 rows rewritten/);
    assert.equal(await system.encryption.reencryption.legacyRowsPresent(), false);
    const stored = JSON.stringify(await rows('select * from registrants')) + JSON.stringify(await rows('select * from identifiers'));
    for (const value of RESTRICTED) assert.ok(!stored.includes(value));
    const converted = (await get(`/api/v2/Individual/national-id|${NATIONAL_ID}`)).json();
    assert.deepEqual([converted.id, converted.phones, converted.addresses, converted.version], [uuid, [{ value: PHONE }], [{ line: [ADDRESS_LINE] }], 1]);
    assert.equal((await get(`/api/v2/Individual?phone=${encodeURIComponent(PHONE)}`)).json().items[0].id, uuid);
  });

  test('rotate-kek rewraps the keys; starting with the old KEK then fails at once with a clear error', async () => {
    const { id } = await create();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-kek-'));
    try {
      const file = path.join(dir, 'new.key');
      assert.match(await keysRotateKek(system, { newKekFile: file, generate: true }), /Rewrapped 2 keys under the new key-encryption key/);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const oldKek = system.config.encryptionKek!;
      await assert.rejects(
        createSystem(loadConfig({ ENCRYPTION_KEK: oldKek, JOB_WORKERS: '0', LOG_LEVEL: 'silent', SEED_DEMO_DATA: 'false' }), { database: system.testDatabase }),
        /The key-encryption key configured \(local:[0-9a-f]{16}\) is not the one this database's encryption keys are wrapped with \(local:[0-9a-f]{16}\)/,
      );
      const reopened = await KeyRing.open(system.database.db, new LocalKeyProvider(parseKek(fs.readFileSync(file, 'utf8'), file)));
      assert.deepEqual(reopened.current().key, system.encryption.keyRing.current().key);
      assert.equal((await get(`/api/v2/Individual/${id}`)).json().phones[0].value, PHONE, 'the running system carries on');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
