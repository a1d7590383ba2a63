import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { queryRows } from '../../platform/database/database.js';
import type { RequestContext } from '../../platform/audit/audit.js';

type Headers = Record<string, string>;
const AT = '2025-03-01T00:00:00Z';

/**
 * The whole life of a program through the API: create, enrol (with duplicate review), cycle,
 * entitlements, approval by a second user, payment file, reconciliation, a failed payment retried;
 * with the bad inputs of each step refused and nothing changed. Fixture (ages on 2025-03-01):
 * Ana 74 (D1, phone), Bea 76 (D2), Cleo 85 (D1), Dan 35 (D1, not eligible), "Ána" 74 (same birth
 * date and name as Ana), Fred 73 (Ana's phone), Gus 80 (enrolled elsewhere per the IBR fake).
 */
describe('a program from creation to reconciled payments', () => {
  let system: TestSystem;
  const global: RequestContext = { actor: systemActor('test') };
  const people: Record<string, string> = {};
  let manager: Headers;
  let officer: Headers;
  let approver: Headers;
  let programId: string;
  let cycleId: string;
  let batchId: string;

  const call = async (method: 'GET' | 'POST' | 'PATCH', url: string, headers: Headers, body?: unknown) => system.http.inject({
    method, url, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  const count = async (table: string, where = 'true') => Number((await queryRows<{ n: number }>(system.database.db, sql.raw(`select count(*)::int as n from ${table} where ${where}`)))[0]!.n);

  before(async () => {
    system = await createTestSystem();
    await system.services.areas.importAreas(global, [
      { code: 'C', name: 'Country', kind: 'country' },
      { code: 'D1', name: 'North', kind: 'district', parentCode: 'C' },
      { code: 'D2', name: 'South', kind: 'district', parentCode: 'C' },
    ]);
    const person = async (key: string, given: string, birthDate: string, area: string, extra: object = {}) => {
      people[key] = (await system.services.registry.createIndividual(global, { name: { given, family: 'Test' }, birthDate, area, ...extra })).id;
    };
    await person('ana', 'Ana', '1950-05-05', 'D1', { phones: [{ value: '+254712000001' }], identifiers: [{ type: 'national-id', value: 'AB123456' }] });
    await person('bea', 'Bea', '1948-06-01', 'D2');
    await person('cleo', 'Cleo', '1940-01-01', 'D1');
    await person('dan', 'Dan', '1990-01-01', 'D1');
    await person('ana2', 'Ána', '1950-05-05', 'D2');
    await person('fred', 'Fred', '1951-07-01', 'D1', { phones: [{ value: '+254712000001' }] });
    await person('gus', 'Gus', '1945-01-01', 'D2');
    system.programs.enrolment.useIbrClient({
      findEnrolledElsewhere: async (uuids) => uuids.filter((uuid) => uuid === people.gus).map((uuid) => ({ registrantUuid: uuid, programme: 'OAP-NEIGHBOUR' })),
    });
    manager = (await system.signInAs('program-manager')).headers;
    officer = (await system.signInAs('program-officer')).headers;
    approver = (await system.signInAs('finance-approver')).headers;
  });
  after(async () => { await system.close(); });

  test('a program whose formula does not type-check is refused with its position, and nothing is created', async () => {
    const response = await call('POST', '/api/v2/Program', manager, {
      code: 'BAD', name: 'Bad', targetType: 'individual', currency: 'KES', eligibilityRule: 'age >= 60', cashFormula: 'age + "years"',
    });
    assert.equal(response.statusCode, 400, response.body);
    assert.match(response.headers['content-type'] as string, /problem\+json/);
    assert.match(response.json().detail, /cashFormula/);
    assert.equal(response.json().errors[0].path, '/cashFormula');
    const notBool = await call('POST', '/api/v2/Program', manager, { code: 'BAD', name: 'Bad', targetType: 'individual', currency: 'KES', eligibilityRule: 'age + 1' });
    assert.equal(notBool.statusCode, 400);
    assert.equal(await count('programs'), 0);
  });

  test('create, fund and activate a program', async () => {
    const created = await call('POST', '/api/v2/Program', manager, {
      code: 'OAP', name: 'Old age pension', targetType: 'individual', currency: 'KES', eligibilityRule: 'age >= 60',
      cashFormula: 'age >= 80 ? 1500 : 1000', dedup: { idTypes: ['national-id'], phone: true, nameBirthDate: true, ibr: true },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers.etag, 'W/"1"');
    programId = created.json().id;
    assert.equal(created.json().state, 'draft');
    const deposit = await call('POST', `/api/v2/Program/OAP/funds`, manager, { amount: '10000.00', reference: 'Budget line 7' });
    assert.equal(deposit.statusCode, 201, deposit.body);
    assert.deepEqual(deposit.json().funds, { deposited: '10000.00', committed: '0.00', balance: '10000.00' });
    const badAmount = await call('POST', `/api/v2/Program/OAP/funds`, manager, { amount: '12.345', reference: 'x' });
    assert.equal(badAmount.statusCode, 400);
    const stale = await call('PATCH', `/api/v2/Program/OAP`, { ...manager, 'if-match': 'W/"9"' }, { name: 'Renamed' });
    assert.equal(stale.statusCode, 412);
    const renamed = await call('PATCH', `/api/v2/Program/OAP`, { ...manager, 'if-match': 'W/"1"' }, { description: 'Monthly pension' });
    assert.equal(renamed.statusCode, 200, renamed.body);
    const activated = await call('POST', `/api/v2/Program/${programId}/$activate`, manager);
    assert.equal(activated.json().state, 'active');
    const search = await call('GET', '/api/v2/Program?state=active&_count=1', manager);
    assert.equal(search.json().count, 1);
    assert.equal(search.json().items[0].code, 'OAP');
    assert.match(search.json().links.self, /state=active/);
  });

  test('enrolment job: the eligible become draft, duplicates are suspected, the rest enrolled; re-running adds nobody', async () => {
    const enrol = await call('POST', `/api/v2/Program/OAP/$enrol`, officer, { at: AT });
    assert.equal(enrol.statusCode, 202, enrol.body);
    await system.jobs.drain();
    const job = (await call('GET', `/api/v2/Job/${enrol.json().job.id}`, officer)).json();
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.deepEqual(job.result, { eligible: 6, added: 6, suspectedDuplicates: 3, enrolled: 3 });
    const suspects = (await call('GET', `/api/v2/Program/OAP/duplicates?state=open`, officer)).json().items;
    const byRegistrant = Object.fromEntries(suspects.map((suspect: { registrant: string; reason: string; looksLike: string | null }) => [suspect.registrant, suspect]));
    assert.equal(byRegistrant[people.ana2!].reason, 'name_birth_date');
    assert.equal(byRegistrant[people.ana2!].looksLike, people.ana);
    assert.equal(byRegistrant[people.fred!].reason, 'phone');
    assert.equal(byRegistrant[people.gus!].reason, 'ibr');

    const again = await call('POST', `/api/v2/Program/OAP/$enrol`, officer, { at: AT });
    await system.jobs.drain();
    assert.deepEqual((await call('GET', `/api/v2/Job/${again.json().job.id}`, officer)).json().result, { eligible: 6, added: 0, suspectedDuplicates: 0, enrolled: 0 });
    assert.equal(await count('program_memberships'), 6);
  });

  test('duplicate review: confirmed ones become duplicate, a cleared one is enrolled', async () => {
    const suspects = (await call('GET', `/api/v2/Program/OAP/duplicates?state=open`, officer)).json().items as Array<{ id: string; registrant: string }>;
    const of = (key: string) => suspects.find((suspect) => suspect.registrant === people[key])!.id;
    const noReason = await call('POST', `/api/v2/DuplicateSuspect/${of('ana2')}/$confirm`, officer, {});
    assert.equal(noReason.statusCode, 400);
    assert.equal((await call('POST', `/api/v2/DuplicateSuspect/${of('ana2')}/$confirm`, officer, { reason: 'same person registered twice' })).statusCode, 200);
    assert.equal((await call('POST', `/api/v2/DuplicateSuspect/${of('gus')}/$confirm`, officer, { reason: 'paid by the neighbouring scheme' })).statusCode, 200);
    const cleared = await call('POST', `/api/v2/DuplicateSuspect/${of('fred')}/$clear`, officer, { reason: 'shares a phone with his sister' });
    assert.equal(cleared.json().state, 'cleared');
    const twice = await call('POST', `/api/v2/DuplicateSuspect/${of('fred')}/$clear`, officer, { reason: 'again' });
    assert.equal(twice.statusCode, 409);
    const enrolled = (await call('GET', '/api/v2/ProgramMembership?program=OAP&state=enrolled', officer)).json();
    assert.deepEqual(enrolled.items.map((item: { registrant: { id: string } }) => item.registrant.id).sort(), [people.ana, people.bea, people.cleo, people.fred].sort());
    const duplicates = (await call('GET', '/api/v2/ProgramMembership?program=OAP&state=duplicate', officer)).json();
    assert.equal(duplicates.count, 2);
    const history = (await call('GET', `/api/v2/ProgramMembership/${duplicates.items[0].id}/_history`, officer)).json().items;
    assert.deepEqual(history.map((event: { to: string }) => event.to), ['draft', 'duplicate']);
    assert.match(history[1].reason, /confirmed duplicate/);
  });

  test('a membership transition needs an allowed target and a reason, and is audited', async () => {
    const fred = (await call('GET', '/api/v2/ProgramMembership?program=OAP&state=enrolled', officer)).json().items.find((item: { registrant: { id: string } }) => item.registrant.id === people.fred);
    const bad = await call('POST', `/api/v2/ProgramMembership/${fred.id}/$transition`, officer, { state: 'draft', reason: 'oops' });
    assert.equal(bad.statusCode, 409);
    const paused = await call('POST', `/api/v2/ProgramMembership/${fred.id}/$transition`, officer, { state: 'paused', reason: 'travelling' });
    assert.equal(paused.json().state, 'paused');
    const back = await call('POST', `/api/v2/ProgramMembership/${fred.id}/$transition`, { ...officer, 'if-match': paused.headers.etag as string }, { state: 'enrolled', reason: 'back home' });
    assert.equal(back.json().state, 'enrolled', back.body);
    assert.equal(await count('audit_log', `entity_type = 'program-membership' and entity_id = '${fred.id}'`), 3); // cleared (enrolled), paused, enrolled
  });

  test('a cycle: prepared by one user, refused to the same one, approved by another within the funds', async () => {
    const created = await call('POST', `/api/v2/Program/OAP/cycles`, manager, { startDate: '2025-03-01', endDate: '2025-03-31', recurrence: 'monthly' });
    assert.equal(created.statusCode, 201, created.body);
    cycleId = created.json().id;
    const unapproved = await call('POST', `/api/v2/Cycle/${cycleId}/payment-batches`, manager, { provider: 'file' });
    assert.equal(unapproved.statusCode, 422, unapproved.body);
    assert.match(unapproved.json().detail, /only an approved cycle can be paid/);
    assert.equal(await count('payment_batches'), 0);

    // One client that may both prepare and approve: the maker-checker rule, not the scopes, refuses it.
    const both = await system.authAs('entitlement:write', 'entitlement:approve');
    const prepare = await call('POST', `/api/v2/Cycle/${cycleId}/$prepare`, both);
    assert.equal(prepare.statusCode, 202, prepare.body);
    await system.jobs.drain();
    const prepared = (await call('GET', `/api/v2/Cycle/${cycleId}`, manager)).json();
    assert.equal(prepared.state, 'to_approve');
    assert.equal(prepared.cashTotal, '4500.00'); // Ana, Bea, Fred 1000; Cleo (85) 1500
  
    const entitlements = (await call('GET', `/api/v2/Entitlement?cycle=${cycleId}&_count=2`, manager)).json();
    assert.equal(entitlements.count, 2);
    assert.ok(entitlements.links.next);
    const rest = (await call('GET', entitlements.links.next.replace('http://commonweal.test', ''), manager)).json();
    assert.equal(rest.count, 2);
    assert.equal(rest.links.next, undefined);

    const own = await call('POST', `/api/v2/Cycle/${cycleId}/$approve`, both);
    assert.equal(own.statusCode, 403, own.body);
    assert.match(own.json().detail, /maker-checker/);
    assert.equal((await call('GET', `/api/v2/Cycle/${cycleId}`, manager)).json().state, 'to_approve');
    const officerApproves = await call('POST', `/api/v2/Cycle/${cycleId}/$approve`, officer);
    assert.equal(officerApproves.statusCode, 403);

    const approved = await call('POST', `/api/v2/Cycle/${cycleId}/$approve`, approver);
    assert.equal(approved.statusCode, 200, approved.body);
    assert.equal(approved.json().state, 'approved');
    const program = (await call('GET', '/api/v2/Program/OAP', manager)).json();
    assert.deepEqual(program.funds, { deposited: '10000.00', committed: '4500.00', balance: '5500.00' });
    const reprepare = await call('POST', `/api/v2/Cycle/${cycleId}/$prepare`, manager);
    assert.equal(reprepare.statusCode, 409);
    assert.match(reprepare.json().detail, /frozen/);
  });

  test('the approved list is frozen: later registry edits do not change it', async () => {
    await system.database.db.execute(sql`update registrants set birth_date = '1990-01-01' where uuid = ${people.bea}`);
    const entitlements = (await call('GET', `/api/v2/Entitlement?cycle=${cycleId}`, manager)).json();
    assert.equal(entitlements.count, 4);
    assert.ok(entitlements.items.every((item: { state: string }) => item.state === 'approved'));
    const reverify = await call('POST', '/api/v2/Program/OAP/$reverify', officer, { at: AT });
    await system.jobs.drain();
    assert.deepEqual((await call('GET', `/api/v2/Job/${reverify.json().job.id}`, officer)).json().result, { flaggedNoLongerEligible: 1, eligibleAgain: 0 });
    const flagged = (await call('GET', '/api/v2/ProgramMembership?program=OAP&ineligible=true', officer)).json();
    assert.equal(flagged.count, 1);
    assert.equal(flagged.items[0].registrant.id, people.bea);
    assert.equal(flagged.items[0].state, 'enrolled', 'flagged, not dropped');
  });

  test('payments: a file batch, its CSV and pain.001, reconciliation, a failed payment retried', async () => {
    const created = await call('POST', `/api/v2/Cycle/${cycleId}/payment-batches`, manager, { provider: 'file' });
    assert.equal(created.statusCode, 202, created.body);
    batchId = created.json().batch.id;
    await system.jobs.drain();
    const batch = (await call('GET', `/api/v2/PaymentBatch/${batchId}`, manager)).json();
    assert.equal(batch.paymentCount, 4);
    assert.equal(batch.total, '4500.00');
    const second = await call('POST', `/api/v2/Cycle/${cycleId}/payment-batches`, manager, { provider: 'file' });
    await system.jobs.drain();
    assert.equal((await call('GET', `/api/v2/PaymentBatch/${second.json().batch.id}`, manager)).json().paymentCount, 0, 'an entitlement is paid in one batch only');

    assert.equal((await call('POST', `/api/v2/PaymentBatch/${batchId}/$send`, manager)).statusCode, 403, 'sending needs payment:approve');
    const send = await call('POST', `/api/v2/PaymentBatch/${batchId}/$send`, approver);
    assert.equal(send.statusCode, 202, send.body);
    await system.jobs.drain();
    const job = (await call('GET', `/api/v2/Job/${send.json().job.id}`, approver)).json();
    assert.equal(job.state, 'succeeded', JSON.stringify(job));
    assert.equal(job.result.sent, 4);
    const csv = await call('GET', job.result.files[0].url, manager);
    assert.equal(csv.statusCode, 200, csv.body);
    const lines = csv.body.trim().split('\n');
    assert.equal(lines[0], 'end_to_end_id,payment_id,registrant_id,name,amount,currency,attempt');
    assert.equal(lines.length, 5);
    const xml = await call('GET', job.result.files[1].url, manager);
    assert.match(xml.body, /<NbOfTxs>4<\/NbOfTxs><CtrlSum>4500.00<\/CtrlSum>/);
    assert.equal((xml.body.match(/<CdtTrfTxInf>/g) ?? []).length, 4);
    assert.equal((await call('GET', `/api/v2/Cycle/${cycleId}`, manager)).json().state, 'distributed');
    assert.equal((await call('POST', `/api/v2/PaymentBatch/${batchId}/$send`, approver)).statusCode, 409, 'nothing is sent twice');

    const rows = lines.slice(1).map((line) => line.split(','));
    const keyOf = (registrant: string) => rows.find((row) => row[2] === registrant)![0]!;
    const status = (entries: string[][]) => ['end_to_end_id,status,reference,reason', ...entries.map((entry) => entry.join(','))].join('\n');
    const good = [[keyOf(people.ana!), 'paid', 'TX1', ''], [keyOf(people.bea!), 'paid', 'TX2', ''], [keyOf(people.cleo!), 'paid', 'TX3', ''], [keyOf(people.fred!), 'failed', '', 'account closed']];
    const unknown = await call('POST', `/api/v2/PaymentBatch/${batchId}/$reconcile`, manager, { content: status([...good, ['deadbeef-1', 'paid', 'TX9', '']]) });
    assert.equal(unknown.statusCode, 400, unknown.body);
    assert.match(unknown.json().detail, /nothing was changed/);
    assert.equal(unknown.json().errors[0].path, '/content/line/6');
    const duplicate = await call('POST', `/api/v2/PaymentBatch/${batchId}/$reconcile`, manager, { content: status([...good, good[0]!]) });
    assert.equal(duplicate.statusCode, 400);
    assert.match(duplicate.json().errors[0].message, /repeats/);
    assert.equal(await count('payments', `state = 'sent'`), 4, 'a refused file changes nothing');

    const reconciled = await call('POST', `/api/v2/PaymentBatch/${batchId}/$reconcile`, manager, { content: status(good) });
    assert.equal(reconciled.statusCode, 200, reconciled.body);
    assert.deepEqual(reconciled.json(), { lines: 4, paid: 3, failed: 1, reversed: 0 });
    const failed = (await call('GET', `/api/v2/Payment?batch=${batchId}&state=failed`, manager)).json().items[0];
    assert.equal(failed.failureReason, 'account closed');
    const markByHand = await call('POST', `/api/v2/Payment/${failed.id}/$mark-paid`, manager, { reference: 'R1' });
    assert.equal(markByHand.statusCode, 422, 'a file batch is settled by its status file');

    const retry = await call('POST', `/api/v2/PaymentBatch/${batchId}/$retry-failed`, manager);
    assert.deepEqual(retry.json(), { retried: 1 });
    const pending = (await call('GET', `/api/v2/Payment/${failed.id}`, manager)).json();
    assert.equal(pending.state, 'pending');
    assert.equal(pending.attempt, 2);
    assert.notEqual(pending.endToEndId, failed.endToEndId);
    const resend = await call('POST', `/api/v2/PaymentBatch/${batchId}/$send`, approver);
    await system.jobs.drain();
    const resent = (await call('GET', `/api/v2/Job/${resend.json().job.id}`, approver)).json();
    assert.equal(resent.result.sent, 1);
    const csv2 = (await call('GET', resent.result.files[0].url, manager)).body.trim().split('\n');
    assert.equal(csv2.length, 2);
    assert.ok(csv2[1]!.startsWith(`${pending.endToEndId},`));
    const stale = await call('POST', `/api/v2/PaymentBatch/${batchId}/$reconcile`, manager, { content: status([[failed.endToEndId, 'paid', 'TX4', '']]) });
    assert.equal(stale.statusCode, 400, 'the first attempt\'s key is no longer a payment to settle');
    const last = await call('POST', `/api/v2/PaymentBatch/${batchId}/$reconcile`, manager, { content: status([[pending.endToEndId, 'paid', 'TX4', '']]) });
    assert.equal(last.statusCode, 200, last.body);
    assert.equal((await call('GET', `/api/v2/PaymentBatch/${batchId}`, manager)).json().state, 'closed');
    const history = (await call('GET', `/api/v2/Payment/${failed.id}/_history`, manager)).json().items;
    assert.deepEqual(history.map((event: { to: string }) => event.to), ['pending', 'sent', 'failed', 'pending', 'sent', 'paid']);
  });

  test('figures: memberships by state and area, amounts per cycle, funds', async () => {
    const figures = (await call('GET', '/api/v2/Program/OAP/$figures', officer)).json();
    assert.deepEqual(figures.memberships, { duplicate: 2, enrolled: 4 });
    assert.deepEqual(figures.enrolledByArea, [{ area: 'D1', count: 3 }, { area: 'D2', count: 1 }]);
    assert.equal(figures.cycles.length, 1);
    assert.deepEqual({ ...figures.cycles[0], id: undefined }, { id: undefined, sequence: 1, name: 'OAP cycle 1', state: 'distributed', beneficiaries: 4, planned: '4500.00', approved: '4500.00', paid: '4500.00', failed: '0.00' });
    assert.deepEqual(figures.funds, { deposited: '10000.00', committed: '4500.00', balance: '5500.00' });
  });

  test('over-spending: a cycle whose total exceeds the remaining funds is refused and nothing changes', async () => {
    const next = await call('POST', `/api/v2/Cycle/${cycleId}/$next`, manager);
    assert.equal(next.statusCode, 201, next.body);
    assert.equal(next.json().startDate, '2025-04-01');
    const nextId = next.json().id;
    // Three cycles' worth of money is not there: raise the amounts beyond the 5500 left.
    const program = await call('GET', '/api/v2/Program/OAP', manager);
    const patched = await call('PATCH', '/api/v2/Program/OAP', { ...manager, 'if-match': program.headers.etag as string }, { cashFormula: '2000' });
    assert.equal(patched.statusCode, 200, patched.body);
    await call('POST', `/api/v2/Cycle/${nextId}/$prepare`, manager);
    await system.jobs.drain();
    assert.equal((await call('GET', `/api/v2/Cycle/${nextId}`, manager)).json().cashTotal, '8000.00');
    const refused = await call('POST', `/api/v2/Cycle/${nextId}/$approve`, approver);
    assert.equal(refused.statusCode, 422, refused.body);
    assert.match(refused.json().detail, /exceeds the program's remaining funds 5500.00 KES/);
    assert.equal((await call('GET', `/api/v2/Cycle/${nextId}`, manager)).json().state, 'to_approve');
    assert.equal(await count('program_fund_movements'), 2);
  });
});
