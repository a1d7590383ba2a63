import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { queryRows } from '../../platform/database/database.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import type { JobContext } from '../../platform/jobs/job-runner.js';

type Headers = Record<string, string>;
const AT = '2025-03-01T00:00:00Z';

/**
 * Households: cash from a formula (a base plus an amount per child, capped), in-kind goods against
 * a service point's stock, the manual provider, identifier duplicates, a resumed enrolment and the
 * area scope of memberships. Fixture: North (D1) a head and one child; Big (D2) a head and five
 * children (income 333.33); Rich (D1) a head, no child.
 */
describe('household program: cash formula, in-kind stock, manual payments', () => {
  let system: TestSystem;
  const global: RequestContext = { actor: systemActor('test') };
  const households: Record<string, string> = {};
  let manager: Headers;
  let approver: Headers;
  let cycleId: string;

  const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, headers: Headers, body?: unknown) => system.http.inject({
    method, url, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  const rows = <T>(query: ReturnType<typeof sql>) => queryRows<T>(system.database.db, query);

  before(async () => {
    system = await createTestSystem();
    await system.services.areas.importAreas(global, [
      { code: 'C', name: 'Country', kind: 'country' },
      { code: 'D1', name: 'North', kind: 'district', parentCode: 'C' },
      { code: 'D2', name: 'South', kind: 'district', parentCode: 'C' },
    ]);
    const registry = system.services.registry;
    const person = async (given: string, birthDate: string, area: string, extra: object = {}) => (await registry.createIndividual(global, { name: { given, family: 'Test' }, birthDate, area, ...extra })).id;
    const household = async (key: string, area: string, income: number, children: number) => {
      const head = await person(`${key} head`, '1980-01-01', area, key === 'north' ? { identifiers: [{ type: 'national-id', value: 'NORTH1234' }] } : {});
      const kids = [];
      for (let index = 0; index < children; index += 1) kids.push({ individual: await person(`${key} child ${index}`, '2018-01-01', area), role: 'child' });
      households[key] = (await registry.createGroup(global, { name: `${key} household`, groupType: 'household', area, income: { monthly: income, currency: 'KES' }, members: [{ individual: head, role: 'head' }, ...kids] })).id;
    };
    await household('north', 'D1', 1000, 1);
    await household('big', 'D2', 333.33, 5);
    await household('rich', 'D1', 90000, 0);
    manager = (await system.signInAs('program-manager')).headers;
    approver = (await system.signInAs('finance-approver')).headers;
  });
  after(async () => { await system.close(); });

  test('service points and products: create, duplicate code refused, change with If-Match, stock received', async () => {
    assert.equal((await call('POST', '/api/v2/Product', manager, { code: 'RICE', name: 'Rice', unit: 'kg' })).statusCode, 201);
    const created = await call('POST', '/api/v2/ServicePoint', manager, { code: 'SP1', name: 'North depot', type: 'warehouse', area: 'D1' });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((await call('POST', '/api/v2/ServicePoint', manager, { code: 'SP1', name: 'Again', type: 'warehouse' })).statusCode, 409);
    assert.equal((await call('POST', '/api/v2/ServicePoint', manager, { code: 'SP2', name: 'Nowhere', type: 'shop', area: 'ZZ' })).statusCode, 400);
    const stale = await call('PATCH', '/api/v2/ServicePoint/SP1', { ...manager, 'if-match': 'W/"7"' }, { name: 'North warehouse' });
    assert.equal(stale.statusCode, 412);
    const changed = await call('PATCH', '/api/v2/ServicePoint/SP1', { ...manager, 'if-match': created.headers.etag as string }, { name: 'North warehouse' });
    assert.equal(changed.json().name, 'North warehouse');
    const stocked = await call('POST', '/api/v2/ServicePoint/SP1/stock', manager, { product: 'RICE', quantity: '10' });
    assert.deepEqual(stocked.json().stock, [{ product: 'RICE', onHand: '10.000', committed: '0.000', available: '10.000' }]);
    const found = (await call('GET', '/api/v2/ServicePoint?area=D1', manager)).json();
    assert.equal(found.count, 1);
    assert.equal((await call('GET', '/api/v2/ServicePoint?area=D2', manager)).json().count, 0);
  });

  test('a household program: cash capped per child, rice per member', async () => {
    const created = await call('POST', '/api/v2/Program', manager, {
      code: 'CG', name: 'Child grant', targetType: 'group', currency: 'KES',
      eligibilityRule: 'members.exists(m, m.age < 18)',
      cashFormula: '500 + 100 * (members.count(m, m.age < 18) > 3 ? 3 : members.count(m, m.age < 18))',
      inKind: [{ product: 'RICE', quantityFormula: 'size * 2', servicePoint: 'SP1' }],
      dedup: { idTypes: ['national-id'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    const badInKind = await call('POST', '/api/v2/Program', manager, { code: 'CG2', name: 'x', targetType: 'group', currency: 'KES', eligibilityRule: 'true', inKind: [{ product: 'BEANS', quantityFormula: '1', servicePoint: 'SP1' }] });
    assert.equal(badInKind.statusCode, 400);
    await call('POST', '/api/v2/Program/CG/$activate', manager);
    await call('POST', '/api/v2/Program/CG/funds', manager, { amount: '5000', reference: 'Donor grant' });
    const enrol = await call('POST', '/api/v2/Program/CG/$enrol', manager, { at: AT });
    await system.jobs.drain();
    assert.deepEqual((await call('GET', `/api/v2/Job/${enrol.json().job.id}`, manager)).json().result, { eligible: 2, added: 2, suspectedDuplicates: 0, enrolled: 2 });
    cycleId = (await call('POST', '/api/v2/Program/CG/cycles', manager, { startDate: '2025-03-01', endDate: '2025-03-31' })).json().id;
    await call('POST', `/api/v2/Cycle/${cycleId}/$prepare`, manager);
    await system.jobs.drain();
    const items = (await call('GET', `/api/v2/Entitlement?cycle=${cycleId}`, manager)).json().items as Array<{ registrant: string; kind: string; amount?: string; quantity?: string; servicePoint?: string }>;
    const cash = Object.fromEntries(items.filter((item) => item.kind === 'cash').map((item) => [item.registrant, item.amount]));
    assert.deepEqual(cash, { [households.north!]: '600.00', [households.big!]: '800.00' });
    const rice = Object.fromEntries(items.filter((item) => item.kind === 'in_kind').map((item) => [item.registrant, [item.quantity, item.servicePoint]]));
    assert.deepEqual(rice, { [households.north!]: ['4.000', 'SP1'], [households.big!]: ['12.000', 'SP1'] });
  });

  test('a double formula is rounded to the currency in exact decimals (no float drift in totals)', async () => {
    const created = await call('POST', '/api/v2/Program', manager, { code: 'DBL', name: 'Third of income', targetType: 'group', currency: 'KES', eligibilityRule: 'members.exists(m, m.age < 18)', cashFormula: 'income / 3.0' });
    assert.equal(created.statusCode, 201, created.body);
    await call('POST', '/api/v2/Program/DBL/$activate', manager);
    await call('POST', '/api/v2/Program/DBL/$enrol', manager, { at: AT });
    await system.jobs.drain();
    const cycle = (await call('POST', '/api/v2/Program/DBL/cycles', manager, { startDate: '2025-03-01', endDate: '2025-03-31' })).json().id;
    await call('POST', `/api/v2/Cycle/${cycle}/$prepare`, manager);
    await system.jobs.drain();
    const items = (await call('GET', `/api/v2/Entitlement?cycle=${cycle}`, manager)).json().items as Array<{ registrant: string; amount: string }>;
    assert.deepEqual(Object.fromEntries(items.map((item) => [item.registrant, item.amount])), { [households.north!]: '333.33', [households.big!]: '111.11' });
    assert.equal((await call('GET', `/api/v2/Cycle/${cycle}`, manager)).json().cashTotal, '444.44');
  });

  test('stock refuses to over-commit: approval refused until enough is received, then committed', async () => {
    const refused = await call('POST', `/api/v2/Cycle/${cycleId}/$approve`, approver);
    assert.equal(refused.statusCode, 422, refused.body);
    assert.match(refused.json().detail, /SP1\/RICE/);
    assert.equal((await call('GET', '/api/v2/ServicePoint/SP1', manager)).json().stock[0].committed, '0.000');
    assert.equal((await call('GET', `/api/v2/Cycle/${cycleId}`, manager)).json().state, 'to_approve');
    await call('POST', '/api/v2/ServicePoint/SP1/stock', manager, { product: 'RICE', quantity: '6.5' });
    const approved = await call('POST', `/api/v2/Cycle/${cycleId}/$approve`, approver);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.deepEqual((await call('GET', '/api/v2/ServicePoint/SP1', manager)).json().stock, [{ product: 'RICE', onHand: '16.500', committed: '16.000', available: '0.500' }]);
    assert.equal((await call('GET', '/api/v2/Program/CG', manager)).json().funds.balance, '3600.00');
  });

  test('manual provider: payments handed over, each marked paid with its reference', async () => {
    const created = await call('POST', `/api/v2/Cycle/${cycleId}/payment-batches`, manager, { provider: 'manual' });
    const batchId = created.json().batch.id;
    await system.jobs.drain();
    const http = await call('POST', `/api/v2/Cycle/${cycleId}/payment-batches`, manager, { provider: 'http' });
    assert.equal(http.statusCode, 400, 'the HTTP provider is not shipped yet');
    const send = await call('POST', `/api/v2/PaymentBatch/${batchId}/$send`, approver);
    await system.jobs.drain();
    assert.deepEqual((await call('GET', `/api/v2/Job/${send.json().job.id}`, approver)).json().result.files, []);
    const payments = (await call('GET', `/api/v2/Payment?batch=${batchId}`, manager)).json().items as Array<{ id: string; state: string }>;
    assert.deepEqual(payments.map((payment) => payment.state), ['sent', 'sent']);
    const noReference = await call('POST', `/api/v2/Payment/${payments[0]!.id}/$mark-paid`, manager, {});
    assert.equal(noReference.statusCode, 400);
    for (const [index, payment] of payments.entries()) {
      const paid = await call('POST', `/api/v2/Payment/${payment.id}/$mark-paid`, manager, { reference: `VOUCHER-${index}` });
      assert.equal(paid.json().state, 'paid', paid.body);
      assert.equal(paid.json().providerReference, `VOUCHER-${index}`);
    }
    assert.equal((await call('POST', `/api/v2/Payment/${payments[0]!.id}/$mark-paid`, manager, { reference: 'again' })).statusCode, 409);
    assert.equal((await call('GET', `/api/v2/PaymentBatch/${batchId}`, manager)).json().state, 'closed');
    const [audited] = await rows<{ n: number }>(sql`select count(*)::int as n from audit_log where action = 'mark-paid'`);
    assert.equal(Number(audited!.n), 2);
  });

  test('the same identifier (an invalidated copy on another household) is a suspected duplicate', async () => {
    // Rich becomes eligible and carries the north head's national id, invalidated: same person re-registered.
    const [richHead] = await rows<{ id: number }>(sql`select m.individual_id as id from memberships m join registrants g on g.id = m.group_id where g.uuid = ${households.rich} and m.role = 'head'`);
    await system.database.db.execute(sql`insert into identifiers (registrant_id, id_type, value_encrypted, value_index, is_valid)
      select ${richHead!.id}, id_type, value_encrypted, value_index, false from identifiers where value_index is not null limit 1`);
    await system.database.db.execute(sql`update registrants set birth_date = '2019-01-01' where id = ${richHead!.id}`);
    const program = await call('GET', '/api/v2/Program/CG', manager);
    await call('PATCH', '/api/v2/Program/CG', { ...manager, 'if-match': program.headers.etag as string }, { eligibilityRule: 'members.exists(m, m.age < 18) || head.age < 18' });
    // Group identifiers are the household's own; the individual-level copy is checked on an individual program.
    const individuals = await call('POST', '/api/v2/Program', manager, { code: 'ID', name: 'Ids', targetType: 'individual', currency: 'KES', eligibilityRule: 'age >= 5 && age < 60', dedup: { idTypes: ['national-id'] } });
    assert.equal(individuals.statusCode, 201, individuals.body);
    await call('POST', '/api/v2/Program/ID/$activate', manager);
    const enrol = await call('POST', '/api/v2/Program/ID/$enrol', manager, { at: AT });
    await system.jobs.drain();
    const result = (await call('GET', `/api/v2/Job/${enrol.json().job.id}`, manager)).json().result;
    assert.equal(result.suspectedDuplicates, 1, JSON.stringify(result));
    const [suspect] = (await call('GET', '/api/v2/Program/ID/duplicates', manager)).json().items;
    assert.equal(suspect.reason, 'identifier');
    assert.equal(suspect.detail, 'national-id');
  });

  test('a resumed enrolment continues after its checkpoint', async () => {
    const created = await call('POST', '/api/v2/Program', manager, { code: 'RES', name: 'Resume', targetType: 'group', currency: 'KES', eligibilityRule: 'true' });
    assert.equal(created.statusCode, 201);
    const [middle] = await rows<{ id: number }>(sql`select id from registrants where uuid = ${households.north}`);
    const progress: unknown[] = [];
    const context = {
      job: { id: '00000000-0000-4000-8000-000000000001', type: 'programs.enrol', attempt: 2, maxAttempts: 3, checkpoint: { afterId: middle!.id, seen: 1, added: 1 },
        payload: { program: created.json().id, at: AT, actor: { type: 'user', id: 'tester' } } },
      reportProgress: async (...args: unknown[]) => { progress.push(args[2]); },
      signal: new AbortController().signal,
    } as unknown as JobContext<never>;
    const result = await system.programs.enrolment.runEnrol(context);
    // Counts carry over from the checkpoint (one seen and added before it); without duplicate checks members are enrolled directly.
    assert.deepEqual(result, { eligible: 3, added: 3, suspectedDuplicates: 0, enrolled: 3 });
    const [members] = await rows<{ n: number }>(sql`select count(*)::int as n from program_memberships pm join programs p on p.id = pm.program_id where p.code = 'RES'`);
    assert.equal(Number(members!.n), 2, 'the household before the checkpoint was not re-read');
    const [states] = await rows<{ states: string }>(sql`select string_agg(distinct pm.state, ',') as states from program_memberships pm join programs p on p.id = pm.program_id where p.code = 'RES'`);
    assert.equal(states!.states, 'enrolled');
  });

  test('memberships are area-scoped: an officer of D1 sees only D1 households', async () => {
    const local = (await system.signInAs('program-officer@D1')).headers;
    const seen = (await call('GET', '/api/v2/ProgramMembership?program=CG', local)).json();
    assert.deepEqual(seen.items.map((item: { registrant: { id: string } }) => item.registrant.id), [households.north]);
    const everyone = (await call('GET', '/api/v2/ProgramMembership?program=CG', manager)).json();
    assert.equal(everyone.count, 2);
    const other = everyone.items.find((item: { registrant: { id: string } }) => item.registrant.id === households.big).id;
    assert.equal((await call('GET', `/api/v2/ProgramMembership/${other}`, local)).statusCode, 404);
    assert.equal((await call('POST', `/api/v2/ProgramMembership/${other}/$transition`, local, { state: 'paused', reason: 'x' })).statusCode, 404);
  });
});
