import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { auditLog } from '../audit/audit.tables.js';
import { idempotencyKeys } from './idempotency.tables.js';
import { purgeExpiredIdempotencyKeys } from './idempotency.js';

type Headers = { authorization: string };

describe('Idempotency-Key on POST', () => {
  let system: TestSystem;
  let client: Headers;
  let otherClient: Headers;
  let reader: Headers;

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    client = await system.authAs('individual:write', 'group:write');
    otherClient = await system.authAs('individual:write', 'group:write');
    reader = await system.authAs('individual:read', 'group:read');
  });

  const post = (url: string, payload: unknown, headers: Headers, key?: string) => system.http.inject({
    method: 'POST', url, payload: payload as object, headers: { ...headers, ...(key !== undefined ? { 'idempotency-key': key } : {}) },
  });
  const createIndividual = (payload: unknown, key?: string, headers = client) => post('/api/v2/Individual', payload, headers, key);

  async function total(resource: 'Individual' | 'Group' = 'Individual'): Promise<number> {
    const response = await system.http.inject({ method: 'GET', url: `/api/v2/${resource}?_total=accurate`, headers: reader });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().total;
  }

  async function auditCount(): Promise<number> {
    // Changes only: reads record `reveal` entries (who saw restricted values).
    const [row] = await system.testDatabase.db.select({ count: sql<number>`count(*)::int` }).from(auditLog).where(sql`${auditLog.action} <> 'reveal'`);
    return Number(row!.count);
  }

  const ana = { name: { given: 'Ana', family: 'Reyes' }, birthDate: '1990-04-01', identifiers: [{ type: 'national-id', value: 'NID555000' }] };

  test('a retry with the same key and body replays the first response and writes nothing', async () => {
    const first = await createIndividual(ana, 'create-ana-1');
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const audited = await auditCount();

    for (let attempt = 0; attempt < 2; attempt += 1) {
      const retry = await createIndividual(ana, 'create-ana-1');
      assert.equal(retry.statusCode, 201, retry.body);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.deepEqual(retry.json(), first.json());
      assert.equal(retry.json().id, first.json().id);
      assert.equal(retry.headers.location, first.headers.location);
      assert.equal(retry.headers.etag, first.headers.etag);
      assert.match(String(retry.headers['content-type']), /^application\/json/);
    }
    assert.equal(await total(), 1);
    assert.equal(await auditCount(), audited, 'the replay writes no audit record');

    // Without a key, the same request runs again (and here fails: the identifier is taken).
    const unkeyed = await createIndividual(ana);
    assert.equal(unkeyed.statusCode, 409);
    const anotherKey = await createIndividual({ ...ana, identifiers: [] }, 'create-ana-2');
    assert.equal(anotherKey.statusCode, 201);
    assert.notEqual(anotherKey.json().id, first.json().id);
    assert.equal(await total(), 2);
  });

  test('the same key with a different body is refused with 422 idempotency_key_reused', async () => {
    const first = await createIndividual(ana, 'reused-key');
    assert.equal(first.statusCode, 201);
    for (const [url, payload] of [
      ['/api/v2/Individual', { ...ana, birthDate: '1990-04-02' }],
      ['/api/v2/Individual', { name: { given: 'Ben' } }],
      ['/api/v2/Group', { groupType: 'family', name: 'Reyes family' }],
    ] as const) {
      const response = await post(url, payload, client, 'reused-key');
      assert.equal(response.statusCode, 422, response.body);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.equal(response.json().code, 'idempotency_key_reused');
      assert.equal(response.headers['idempotent-replayed'], undefined);
    }
    assert.equal(await total(), 1);
    assert.equal(await total('Group'), 0);
    const stillReplayed = await createIndividual(ana, 'reused-key');
    assert.equal(stillReplayed.headers['idempotent-replayed'], 'true');
    assert.equal(stillReplayed.json().id, first.json().id);
  });

  test('keys belong to one client: another client with the same key runs normally', async () => {
    const mine = await createIndividual({ name: { given: 'Mine' } }, 'shared-key');
    const theirs = await createIndividual({ name: { given: 'Mine' } }, 'shared-key', otherClient);
    assert.equal(mine.statusCode, 201);
    assert.equal(theirs.statusCode, 201);
    assert.equal(theirs.headers['idempotent-replayed'], undefined);
    assert.notEqual(theirs.json().id, mine.json().id);
    const theirsAgain = await createIndividual({ name: { given: 'Mine' } }, 'shared-key', otherClient);
    assert.equal(theirsAgain.headers['idempotent-replayed'], 'true');
    assert.equal(theirsAgain.json().id, theirs.json().id);
    const mineAgain = await createIndividual({ name: { given: 'Mine' } }, 'shared-key');
    assert.equal(mineAgain.json().id, mine.json().id);
    const theirsDifferent = await createIndividual({ name: { given: 'Other' } }, 'fresh-key', otherClient);
    assert.equal(theirsDifferent.statusCode, 201);
    assert.equal(await total(), 3);
  });

  test('a malformed key is refused with 400 before anything runs', async () => {
    for (const key of ['k'.repeat(300), 'k'.repeat(201), 'has spaces', 'semi;colon', 'ключ', '']) {
      const response = await createIndividual({ name: { given: 'Nobody' } }, key);
      assert.equal(response.statusCode, 400, `key ${JSON.stringify(key.slice(0, 20))}: ${response.body}`);
      assert.equal(response.json().code, 'validation_failed');
      assert.deepEqual(response.json().errors, [{ path: 'header:Idempotency-Key', message: 'is not valid' }]);
    }
    const longest = await createIndividual({ name: { given: 'Somebody' } }, `${'k'.repeat(196)}.:_-`);
    assert.equal(longest.statusCode, 201, '200 characters of letters, digits and ._:- are fine');
    assert.equal(await total(), 1);
    const rows = await system.testDatabase.db.select().from(idempotencyKeys);
    assert.equal(rows.length, 1);
  });

  test('a refused request is replayed as the same refusal', async () => {
    // Refused by the registry (a birth date in the future): the response is kept like any other.
    const future = { name: { given: 'Future' }, birthDate: '2999-01-01' };
    const first = await createIndividual(future, 'future-1');
    assert.equal(first.statusCode, 400);
    assert.equal(first.json().code, 'validation_failed');
    const retry = await createIndividual(future, 'future-1');
    assert.equal(retry.statusCode, 400);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.match(String(retry.headers['content-type']), /^application\/problem\+json/);
    assert.deepEqual(retry.json(), first.json(), 'the same problem document, request id included');

    // A conflict is kept too, even once the conflict is gone.
    const taken = await createIndividual(ana);
    assert.equal(taken.statusCode, 201);
    const conflict = await createIndividual({ ...ana, name: { given: 'Copy' } }, 'conflict-1');
    assert.equal(conflict.statusCode, 409);
    const invalidated = await post(`/api/v2/Individual/${taken.json().id}/identifiers/$invalidate`, { type: 'national-id', value: 'NID555000', reason: 'duplicate' }, client);
    assert.equal(invalidated.statusCode, 200, invalidated.body);
    const conflictAgain = await createIndividual({ ...ana, name: { given: 'Copy' } }, 'conflict-1');
    assert.equal(conflictAgain.statusCode, 409);
    assert.equal(conflictAgain.headers['idempotent-replayed'], 'true');
    assert.deepEqual(conflictAgain.json(), conflict.json());

    // Refused by the request schema: nothing ran, and a retry is refused the same way.
    const malformed = { name: { given: 'Bad' }, nickname: 'B' };
    const schemaFirst = await createIndividual(malformed, 'schema-1');
    const schemaRetry = await createIndividual(malformed, 'schema-1');
    for (const response of [schemaFirst, schemaRetry]) {
      assert.equal(response.statusCode, 400);
      assert.equal(response.json().code, 'validation_failed');
      assert.deepEqual(response.json().errors, [{ path: '/nickname', message: 'is not a known field' }]);
    }
    assert.equal(await total(), 1);
  });

  test('concurrent requests with one key create one record', async () => {
    const responses = await Promise.all(Array.from({ length: 5 }, () => createIndividual({ name: { given: 'Racer' } }, 'race-1')));
    const created = responses.filter((r) => r.statusCode === 201);
    assert.ok(created.length >= 1, responses.map((r) => r.statusCode).join(','));
    assert.equal(new Set(created.map((r) => r.json().id)).size, 1, 'every 201 is the same individual');
    assert.equal(created.filter((r) => r.headers['idempotent-replayed'] === undefined).length, 1);
    for (const response of responses.filter((r) => r.statusCode !== 201)) {
      assert.equal(response.statusCode, 409, response.body);
      assert.equal(response.json().code, 'conflict');
    }
    assert.equal(await total(), 1);
  });

  test('works for POST /api/v2/$batch', async () => {
    const bundle = {
      type: 'transaction',
      entries: [
        { fullUrl: 'urn:uuid:6f1c1d0e-0000-4000-8000-000000000001', request: { method: 'POST', url: 'Individual' }, resource: { name: { given: 'Lia', family: 'Batch' } } },
        { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Batch household', members: [{ individual: 'urn:uuid:6f1c1d0e-0000-4000-8000-000000000001', role: 'head' }] } },
      ],
    };
    const first = await post('/api/v2/$batch', bundle, client, 'bundle-1');
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.json().type, 'transaction-response');
    const audited = await auditCount();
    const retry = await post('/api/v2/$batch', bundle, client, 'bundle-1');
    assert.equal(retry.statusCode, 200);
    assert.equal(retry.headers['idempotent-replayed'], 'true');
    assert.deepEqual(retry.json(), first.json());
    assert.equal(await total(), 1);
    assert.equal(await total('Group'), 1);
    assert.equal(await auditCount(), audited);

    const changed = await post('/api/v2/$batch', { ...bundle, type: 'batch' }, client, 'bundle-1');
    assert.equal(changed.statusCode, 422);
    assert.equal(changed.json().code, 'idempotency_key_reused');

    const failing = { type: 'transaction', entries: [{ request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Headless', members: [{ individual: 'urn:uuid:6f1c1d0e-0000-4000-8000-000000000009', role: 'head' }] } }] };
    const failed = await post('/api/v2/$batch', failing, client, 'bundle-2');
    assert.equal(failed.statusCode, 400);
    const failedAgain = await post('/api/v2/$batch', failing, client, 'bundle-2');
    assert.equal(failedAgain.statusCode, 400);
    assert.equal(failedAgain.headers['idempotent-replayed'], 'true');
    assert.deepEqual(failedAgain.json(), failed.json());

    const other = await post('/api/v2/$batch', bundle, otherClient, 'bundle-1');
    assert.equal(other.statusCode, 200);
    assert.equal(other.headers['idempotent-replayed'], undefined);
    assert.equal(await total(), 2);
  });

  test('GET and PATCH ignore the header; an unauthenticated POST is refused before the key is looked at', async () => {
    const created = await createIndividual({ name: { given: 'Pat' } });
    const id = created.json().id;
    const read = await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${id}`, headers: { ...reader, 'idempotency-key': 'has spaces' } });
    assert.equal(read.statusCode, 200);
    const patch = (given: string, version: number) => system.http.inject({
      method: 'PATCH', url: `/api/v2/Individual/${id}`, payload: { name: { given } }, headers: { ...client, 'if-match': `W/"${version}"`, 'idempotency-key': 'patch-1' },
    });
    assert.equal((await patch('Pat', 1)).statusCode, 200);
    const second = await patch('Pat', 1);
    assert.equal(second.statusCode, 412, 'a PATCH is not replayed; If-Match protects it');
    const anonymous = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', payload: { name: { given: 'X' } }, headers: { 'idempotency-key': 'k'.repeat(300) } });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(await total(), 1);
  });
});

describe('idempotency key retention', () => {
  test('keys older than 24 hours are swept, so the key can be used again', async () => {
    const system = await createTestSystem();
    try {
      await system.testDatabase.db.insert(idempotencyKeys).values([
        { clientId: 'c', key: 'old', requestHash: 'h', createdAt: new Date(Date.now() - 25 * 3600_000) },
        { clientId: 'c', key: 'fresh', requestHash: 'h' },
      ]);
      await purgeExpiredIdempotencyKeys(system.testDatabase.db);
      const left = await system.testDatabase.db.select().from(idempotencyKeys);
      assert.deepEqual(left.map((row) => row.key), ['fresh']);
    } finally {
      await system.close();
    }
  });
});

describe('idempotency after a crash', () => {
  test('a key whose first attempt never finished is usable again after five minutes, not before', async () => {
    const system = await createTestSystem();
    try {
      const token = await system.tokenFor('individual:write');
      const post = () => system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'crashed-1' }, payload: { name: { given: 'Ana' } } });
      assert.equal((await post()).statusCode, 201);
      // As if the process had died after claiming the key and before storing the response.
      await system.testDatabase.db.update(idempotencyKeys).set({ statusCode: null, responseBody: null, createdAt: new Date() });
      assert.equal((await post()).statusCode, 409, 'still in progress');
      await system.testDatabase.db.update(idempotencyKeys).set({ createdAt: new Date(Date.now() - 6 * 60_000) });
      const retried = await post();
      assert.equal(retried.statusCode, 201);
    } finally {
      await system.close();
    }
  });
});
