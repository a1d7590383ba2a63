import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { auditLog } from '../../platform/audit/audit.tables.js';
import { registrants } from '../registry/registry.tables.js';

const BATCH_URL = '/api/v2/$batch';
type Headers = { authorization: string };
interface Entry { fullUrl?: string; request: { method: string; url: string; ifMatch?: string }; resource?: unknown }

const urn = () => `urn:uuid:${crypto.randomUUID()}`;
const individual = (given: string, family: string, extra: Record<string, unknown> = {}) => ({ name: { given, family }, ...extra });
const postIndividual = (resource: unknown, fullUrl?: string): Entry => ({ ...(fullUrl ? { fullUrl } : {}), request: { method: 'POST', url: 'Individual' }, resource });

describe('Bundles: POST /api/v2/$batch', () => {
  let system: TestSystem;
  let writer: Headers;
  let reader: Headers;

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    writer = await system.authAs('individual:write', 'group:write');
    reader = await system.authAs('individual:read', 'group:read');
  });

  const send = (payload: unknown, headers: Headers | Record<string, never> = writer) => system.http.inject({ method: 'POST', url: BATCH_URL, headers, payload: payload as object });
  const transaction = (entries: Entry[]) => ({ resourceType: 'Bundle', type: 'transaction', entries });
  const batch = (entries: Entry[]) => ({ resourceType: 'Bundle', type: 'batch', entries });

  async function total(resource: 'Individual' | 'Group'): Promise<number> {
    const response = await system.http.inject({ method: 'GET', url: `/api/v2/${resource}?_total=accurate`, headers: reader });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().total;
  }

  async function auditCount(): Promise<number> {
    // Changes only: reads record `reveal` entries (who saw restricted values), which a rollback does not undo.
    const [row] = await system.testDatabase.db.select({ count: sql<number>`count(*)::int` }).from(auditLog).where(sql`${auditLog.action} <> 'reveal'`);
    return Number(row!.count);
  }

  /** Everything a failed transaction must leave untouched. */
  async function snapshot() {
    return {
      individuals: await total('Individual'),
      groups: await total('Group'),
      audit: await auditCount(),
      rows: (await system.testDatabase.db.select({ count: sql<number>`count(*)::int` }).from(registrants))[0]!.count,
    };
  }

  function assertProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): any }, status: number, code: string) {
    assert.equal(response.statusCode, status, JSON.stringify(response.json()));
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const body = response.json();
    assert.equal(body.code, code);
    return body;
  }

  async function createIndividualDirectly(resource: unknown): Promise<{ id: string; version: number }> {
    const response = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: writer, payload: resource as object });
    assert.equal(response.statusCode, 201, response.body);
    return response.json();
  }

  test('a transaction creates individuals and a household that refers to them by urn:uuid', async () => {
    const ana = urn();
    const ben = urn();
    const household = urn();
    const response = await send(transaction([
      postIndividual(individual('Ana', 'Reyes', { gender: '2', identifiers: [{ type: 'national-id', value: 'NID000111' }] }), ana),
      postIndividual(individual('Ben', 'Reyes', { gender: '1' }), ben),
      {
        fullUrl: household, request: { method: 'POST', url: 'Group' },
        resource: { groupType: 'household', name: 'Reyes household', members: [{ individual: ben, role: 'spouse' }, { individual: ana.toUpperCase().replace('URN:UUID:', 'urn:uuid:'), role: 'head' }] },
      },
    ]));
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.resourceType, 'Bundle');
    assert.equal(body.type, 'transaction-response');
    assert.equal(body.entries.length, 3);
    const [anaEntry, benEntry, groupEntry] = body.entries;
    for (const [entry, kind] of [[anaEntry, 'Individual'], [benEntry, 'Individual'], [groupEntry, 'Group']] as const) {
      assert.equal(entry.status, '201');
      assert.match(entry.resource.id, /^[0-9a-f-]{36}$/);
      assert.equal(entry.location, `/api/v2/${kind}/${entry.resource.id}`);
      assert.equal(entry.etag, 'W/"1"');
      assert.equal(entry.resource.resourceType, kind);
    }
    assert.equal(anaEntry.resource.name.given, 'Ana');
    assert.equal(anaEntry.resource.identifiers[0].value, 'NID000111');

    const group = await system.http.inject({ method: 'GET', url: `/api/v2/Group/${groupEntry.resource.id}`, headers: reader });
    assert.equal(group.statusCode, 200);
    assert.equal(group.json().size, 2);
    assert.equal(group.json().head, anaEntry.resource.id);
    const members = await system.http.inject({ method: 'GET', url: `/api/v2/Group/${groupEntry.resource.id}/members`, headers: reader });
    assert.deepEqual(
      members.json().items.map((m: { individual: string; role: string }) => `${m.individual}:${m.role}`).sort(),
      [`${anaEntry.resource.id}:head`, `${benEntry.resource.id}:spouse`].sort(),
    );
    const location = await system.http.inject({ method: 'GET', url: anaEntry.location, headers: reader });
    assert.equal(location.json().identifiers[0].value, 'NID000111');
    assert.equal(await total('Individual'), 2);
    assert.equal(await total('Group'), 1);
  });

  test('later entries may use a placeholder in the url, and PATCH needs ifMatch', async () => {
    const existing = await createIndividualDirectly(individual('Old', 'Timer'));
    const ana = urn();
    const household = urn();
    const response = await send(transaction([
      postIndividual(individual('Ana', 'Cruz'), ana),
      { fullUrl: household, request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Cruz household', members: [{ individual: ana, role: 'head' }] } },
      { request: { method: 'POST', url: `Group/${household}/members` }, resource: { individual: existing.id, role: 'parent' } },
      { request: { method: 'PATCH', url: `Individual/${ana}`, ifMatch: 'W/"1"' }, resource: { birthDate: '1990-02-03' } },
      { request: { method: 'PATCH', url: `/api/v2/Individual/${existing.id}`, ifMatch: 'W/"1"' }, resource: { name: { given: 'Older' } } },
    ]));
    assert.equal(response.statusCode, 200, response.body);
    const entries = response.json().entries;
    assert.deepEqual(entries.map((e: { status: string }) => e.status), ['201', '201', '201', '200', '200']);
    assert.equal(entries[2].resource.size, 2);
    assert.equal(entries[2].etag, 'W/"2"');
    assert.equal(entries[3].resource.birthDate, '1990-02-03');
    assert.equal(entries[3].resource.id, entries[0].resource.id);
    assert.equal(entries[3].etag, 'W/"2"');
    assert.equal(entries[4].resource.name.given, 'Older');
    assert.equal(entries[4].etag, 'W/"2"');

    const before = await snapshot();
    const missing = await send(transaction([{ request: { method: 'PATCH', url: `Individual/${existing.id}` }, resource: { name: { given: 'X' } } }]));
    const missingBody = assertProblem(missing, 428, 'precondition_required');
    assert.equal(missingBody.errors[0].path, '/entries/0');
    const stale = await send(transaction([
      postIndividual(individual('Never', 'Written')),
      { request: { method: 'PATCH', url: `Individual/${existing.id}`, ifMatch: 'W/"1"' }, resource: { name: { given: 'Stale' } } },
    ]));
    assertProblem(stale, 412, 'precondition_failed');
    const batched = await send(batch([
      { request: { method: 'PATCH', url: `Individual/${existing.id}`, ifMatch: 'W/"1"' }, resource: { name: { given: 'Stale' } } },
      { request: { method: 'PATCH', url: `Individual/${existing.id}`, ifMatch: 'W/"2"' }, resource: { name: { given: 'Fresh' } } },
      { request: { method: 'PATCH', url: `Individual/${existing.id}` }, resource: { name: { given: 'NoIfMatch' } } },
    ]));
    assert.equal(batched.statusCode, 200, batched.body);
    assert.deepEqual(batched.json().entries.map((e: { status: string }) => e.status), ['412', '200', '428']);
    assert.equal(batched.json().entries[1].etag, 'W/"3"');
    const after = await system.http.inject({ method: 'GET', url: `/api/v2/Individual/${existing.id}`, headers: reader });
    assert.equal(after.json().name.given, 'Fresh');
    assert.equal(after.json().version, 3);
    assert.equal(await total('Individual'), before.individuals);
  });

  test('a failing entry rolls the whole transaction back and is named by its index', async () => {
    await createIndividualDirectly(individual('Already', 'Here', { identifiers: [{ type: 'national-id', value: 'NID999999' }] }));
    const before = await snapshot();
    const ana = urn();
    const ben = urn();

    const twoHeads = await send(transaction([
      postIndividual(individual('Ana', 'Reyes'), ana),
      postIndividual(individual('Ben', 'Reyes'), ben),
      { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Two heads', members: [{ individual: ana, role: 'head' }, { individual: ben, role: 'head' }] } },
    ]));
    const twoHeadsBody = assertProblem(twoHeads, 422, 'business_rule_violated');
    assert.ok(twoHeadsBody.errors.length > 0);
    assert.ok(twoHeadsBody.errors.every((e: { path: string }) => e.path.startsWith('/entries/2/resource/members')), JSON.stringify(twoHeadsBody.errors));
    assert.match(twoHeadsBody.detail, /^Entry 2: /);
    assert.deepEqual(await snapshot(), before);

    const duplicate = await send(transaction([
      postIndividual(individual('Cy', 'One', { identifiers: [{ type: 'national-id', value: 'NID123123' }] })),
      postIndividual(individual('Di', 'Two')),
      postIndividual(individual('Ed', 'Three', { identifiers: [{ type: 'national-id', value: 'NID123123' }] })),
    ]));
    const duplicateBody = assertProblem(duplicate, 409, 'duplicate_identifier');
    assert.deepEqual(duplicateBody.errors.map((e: { path: string }) => e.path), ['/entries/2/resource/identifiers/0/value']);
    assert.deepEqual(await snapshot(), before);

    const alreadyUsed = await send(transaction([
      postIndividual(individual('Fe', 'One')),
      postIndividual(individual('Gi', 'Two')),
      postIndividual(individual('Hu', 'Three', { identifiers: [{ type: 'national-id', value: 'NID999999' }] })),
    ]));
    assert.equal(assertProblem(alreadyUsed, 409, 'duplicate_identifier').errors[0].path, '/entries/2/resource/identifiers/0/value');
    assert.deepEqual(await snapshot(), before);

    const invalid = await send(transaction([
      postIndividual(individual('Io', 'One')),
      postIndividual(individual('Ju', 'Two')),
      postIndividual({ name: { given: 'Ka' }, nickname: 'K' }),
    ]));
    const invalidBody = assertProblem(invalid, 400, 'validation_failed');
    assert.deepEqual(invalidBody.errors, [{ path: '/entries/2/resource/nickname', message: 'is not a known field' }]);
    assert.deepEqual(await snapshot(), before);

    const unknownReference = await send(transaction([
      postIndividual(individual('Lu', 'One')),
      { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Ghost', members: [{ individual: urn(), role: 'head' }] } },
    ]));
    assert.equal(assertProblem(unknownReference, 400, 'validation_failed').errors[0].path, '/entries/1/resource/members/0/individual');
    assert.deepEqual(await snapshot(), before);
  });

  test('a batch runs each entry on its own and reports each outcome', async () => {
    await createIndividualDirectly(individual('Already', 'Here', { identifiers: [{ type: 'national-id', value: 'NID999999' }] }));
    const before = await snapshot();
    const response = await send(batch([
      postIndividual(individual('Ana', 'Good')),
      postIndividual(individual('Ben', 'Bad', { identifiers: [{ type: 'national-id', value: 'lower-case' }] })),
      postIndividual(individual('Cy', 'Good')),
      postIndividual(individual('Di', 'Duplicate', { identifiers: [{ type: 'national-id', value: 'NID999999' }] })),
      { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Headless', members: [] } },
      { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'No head', members: [{ individual: '00000000-0000-4000-8000-000000000000', role: 'child' }] } },
    ]));
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.type, 'batch-response');
    assert.deepEqual(body.entries.map((e: { status: string }) => e.status), ['201', '400', '201', '409', '201', '422']);
    const [good, bad, good2, duplicate] = body.entries;
    assert.equal(good.location, `/api/v2/Individual/${good.resource.id}`);
    assert.equal(good.etag, 'W/"1"');
    assert.equal(good2.resource.name.given, 'Cy');
    assert.equal(bad.resource, undefined);
    assert.equal(bad.location, undefined);
    assert.equal(bad.outcome.code, 'validation_failed');
    assert.deepEqual(bad.outcome.errors.map((e: { path: string }) => e.path), ['/entries/1/resource/identifiers/0/value']);
    assert.equal(duplicate.outcome.code, 'duplicate_identifier');
    assert.equal(body.entries[5].outcome.code, 'business_rule_violated');
    assert.equal(await total('Individual'), before.individuals + 2);
    assert.equal(await total('Group'), before.groups + 1);
    const kept = await system.http.inject({ method: 'GET', url: good.location, headers: reader });
    assert.equal(kept.statusCode, 200);
  });

  test('a batch entry may refer to an earlier one; a failed one leaves its placeholder unresolved', async () => {
    const ana = urn();
    const ghost = urn();
    const response = await send(batch([
      postIndividual(individual('Ana', 'Lim'), ana),
      postIndividual({ name: {} }, ghost),
      { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Lim household', members: [{ individual: ana, role: 'head' }] } },
      { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Ghost household', members: [{ individual: ghost, role: 'head' }] } },
    ]));
    assert.equal(response.statusCode, 200, response.body);
    const entries = response.json().entries;
    assert.deepEqual(entries.map((e: { status: string }) => e.status), ['201', '400', '201', '400']);
    assert.equal(entries[2].resource.head, entries[0].resource.id);
    assert.equal(entries[3].outcome.errors[0].path, '/entries/3/resource/members/0/individual');
  });

  test('an unexpected error fails a transaction as a whole but only its own entry in a batch', async () => {
    const registry = system.services.registry;
    const original = registry.createGroup;
    registry.createGroup = async () => { throw new Error('simulated defect'); };
    try {
      const before = await snapshot();
      const entries: Entry[] = [
        postIndividual(individual('Ana', 'Before')),
        { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'family', name: 'Broken' } },
        postIndividual(individual('Ben', 'After')),
      ];
      const failed = await send(transaction(entries));
      assertProblem(failed, 500, 'internal');
      assert.deepEqual(await snapshot(), before);

      const batched = await send(batch(entries));
      assert.equal(batched.statusCode, 200, batched.body);
      const statuses = batched.json().entries.map((e: { status: string }) => e.status);
      assert.deepEqual(statuses, ['201', '500', '201'], 'the client learns which entries were written');
      assert.equal(batched.json().entries[1].outcome.code, 'internal');
      assert.doesNotMatch(JSON.stringify(batched.json().entries[1]), /simulated defect/, 'internals are not leaked');
      assert.equal(await total('Individual'), before.individuals + 2);
    } finally {
      registry.createGroup = original;
    }
  });

  test('an entry needs the scope of its operation: 403 for a transaction, per entry in a batch', async () => {
    const individualsOnly = await system.authAs('individual:write');
    const before = await snapshot();
    const ana = urn();
    const entries: Entry[] = [
      postIndividual(individual('Ana', 'Scope'), ana),
      { request: { method: 'POST', url: 'Group' }, resource: { groupType: 'household', name: 'Not allowed', members: [{ individual: ana, role: 'head' }] } },
      postIndividual(individual('Ben', 'Scope')),
    ];
    const refused = await send(transaction(entries), individualsOnly);
    const problem = assertProblem(refused, 403, 'forbidden');
    assert.deepEqual(problem.errors.map((e: { path: string }) => e.path), ['/entries/1']);
    assert.match(problem.detail, /group:write/);
    assert.deepEqual(await snapshot(), before);

    const batched = await send(batch(entries), individualsOnly);
    assert.equal(batched.statusCode, 200, batched.body);
    assert.deepEqual(batched.json().entries.map((e: { status: string }) => e.status), ['201', '403', '201']);
    assert.equal(batched.json().entries[1].outcome.code, 'forbidden');
    assert.equal(await total('Individual'), before.individuals + 2);
    assert.equal(await total('Group'), before.groups);

    const readOnly = await system.authAs('individual:read', 'group:read');
    const readOnlyBatch = await send(batch([postIndividual(individual('Cy', 'Reader'))]), readOnly);
    assert.equal(readOnlyBatch.statusCode, 200);
    assert.deepEqual(readOnlyBatch.json().entries.map((e: { status: string }) => e.status), ['403']);
    assertProblem(await send(transaction([postIndividual(individual('Cy', 'Reader'))]), readOnly), 403, 'forbidden');
    assert.equal(await total('Individual'), before.individuals + 2);
  });

  test('an unsupported operation is refused with 400', async () => {
    const before = await snapshot();
    for (const request of [
      { method: 'POST', url: 'Program' },
      { method: 'POST', url: 'Individual/extra/segments/here' },
      { method: 'PATCH', url: 'Individual' },
      { method: 'POST', url: '../admin/Individual' },
      { method: 'POST', url: 'api/v3/Individual' },
    ]) {
      const response = await send(transaction([postIndividual(individual('Ok', 'First')), { request, resource: {} }]));
      const problem = assertProblem(response, 400, 'validation_failed');
      assert.deepEqual(problem.errors.map((e: { path: string }) => e.path), ['/entries/1/request/url'], `${request.method} ${request.url}`);
    }
    assert.deepEqual(await snapshot(), before);
    const batched = await send(batch([{ request: { method: 'POST', url: 'Program' }, resource: {} }, postIndividual(individual('Ok', 'Second'))]));
    assert.deepEqual(batched.json().entries.map((e: { status: string }) => e.status), ['400', '201']);
    assertProblem(await send(transaction([{ request: { method: 'DELETE', url: 'Individual/x' } }])), 400, 'validation_failed');
    assertProblem(await send(transaction([{ request: { method: 'GET', url: 'Individual' } }])), 400, 'validation_failed');
  });

  test('a bad reference in the url is reported at the entry\'s request, never as a 500', async () => {
    const existing = await createIndividualDirectly(individual('Ref', 'Erence', { identifiers: [{ type: 'national-id', value: 'NID424242' }] }));
    const byIdentifier = await send(transaction([{ request: { method: 'PATCH', url: 'Individual/national-id%7CNID424242', ifMatch: 'W/"1"' }, resource: { gender: '2' } }]));
    assert.equal(byIdentifier.statusCode, 200, byIdentifier.body);
    assert.equal(byIdentifier.json().entries[0].resource.id, existing.id);

    const before = await snapshot();
    const badEncoding = await send(transaction([postIndividual(individual('A', 'One')), { request: { method: 'PATCH', url: 'Individual/%E0%A4%A', ifMatch: 'W/"2"' }, resource: {} }]));
    assert.deepEqual(assertProblem(badEncoding, 400, 'validation_failed').errors.map((e: { path: string }) => e.path), ['/entries/1/request/url']);
    const batchedBadEncoding = await send(batch([{ request: { method: 'PATCH', url: 'Individual/%zz', ifMatch: 'W/"2"' }, resource: {} }, postIndividual(individual('B', 'Two'))]));
    assert.equal(batchedBadEncoding.statusCode, 200, batchedBadEncoding.body);
    assert.deepEqual(batchedBadEncoding.json().entries.map((e: { status: string }) => e.status), ['400', '201']);

    const notARef = await send(transaction([{ request: { method: 'PATCH', url: 'Individual/not-a-ref', ifMatch: 'W/"2"' }, resource: {} }]));
    assert.deepEqual(assertProblem(notARef, 400, 'validation_failed').errors.map((e: { path: string }) => e.path), ['/entries/0/request/url']);
    const badIfMatch = await send(transaction([{ request: { method: 'PATCH', url: `Individual/${existing.id}`, ifMatch: 'version two' }, resource: {} }]));
    assert.deepEqual(assertProblem(badIfMatch, 400, 'validation_failed').errors.map((e: { path: string }) => e.path), ['/entries/0/request/ifMatch']);
    const unknown = await send(transaction([{ request: { method: 'PATCH', url: 'Individual/00000000-0000-4000-8000-000000000000', ifMatch: 'W/"1"' }, resource: {} }]));
    assertProblem(unknown, 404, 'not_found');
    assert.equal((await snapshot()).individuals, before.individuals + 1);
  });

  test('a fullUrl used twice is refused and nothing is written', async () => {
    const before = await snapshot();
    const same = urn();
    for (const type of ['transaction', 'batch']) {
      const response = await send({ type, entries: [postIndividual(individual('A', 'One'), same), postIndividual(individual('B', 'Two'), same.toUpperCase().replace('URN:UUID:', 'urn:uuid:'))] });
      const problem = assertProblem(response, 400, 'validation_failed');
      assert.deepEqual(problem.errors.map((e: { path: string }) => e.path), ['/entries/1/fullUrl']);
    }
    assert.deepEqual(await snapshot(), before);
  });

  test('a malformed bundle is refused with 400', async () => {
    const before = await snapshot();
    const entry = postIndividual(individual('A', 'One'));
    const tooMany = Array.from({ length: 501 }, (_, index) => postIndividual(individual('Many', `N${index}`)));
    const cases: unknown[] = [
      { type: 'transaction', entries: [entry], extra: true },
      { type: 'transaction', entries: [{ ...entry, note: 'x' }] },
      { type: 'transaction', entries: [{ ...entry, request: { ...entry.request, body: 'x' } }] },
      { type: 'transaction', entries: [] },
      { type: 'transaction' },
      { type: 'collection', entries: [entry] },
      { entries: [entry] },
      { resourceType: 'Patient', type: 'batch', entries: [entry] },
      { type: 'batch', entries: tooMany },
      { type: 'transaction', entries: [{ ...entry, fullUrl: 'Individual/1' }] },
      { type: 'transaction', entries: [{ resource: {} }] },
      { type: 'transaction', entries: [{ request: { method: 'POST', url: '' } }] },
      [entry],
    ];
    for (const payload of cases) {
      const response = await send(payload);
      assert.equal(response.statusCode, 400, `${JSON.stringify(payload).slice(0, 200)}: ${response.body}`);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.ok(['validation_failed', 'malformed_request'].includes(response.json().code));
    }
    const notJson = await system.http.inject({ method: 'POST', url: BATCH_URL, headers: { ...writer, 'content-type': 'application/json' }, payload: '{"type":' });
    assert.equal(notJson.statusCode, 400);
    assert.deepEqual(await snapshot(), before);

    const exactlyMax = await send(batch(Array.from({ length: 500 }, () => ({ request: { method: 'POST', url: 'Program' } }))));
    assert.equal(exactlyMax.statusCode, 200, '500 entries are allowed');
    assert.equal(exactlyMax.json().entries.length, 500);
  });

  test('needs a token', async () => {
    const response = await send(transaction([postIndividual(individual('A', 'One'))]), {});
    assertProblem(response, 401, 'unauthenticated');
    const forged = await send(transaction([postIndividual(individual('A', 'One'))]), { authorization: 'Bearer nonsense' });
    assert.equal(forged.statusCode, 401);
    assert.equal(await total('Individual'), 0);
  });
});
