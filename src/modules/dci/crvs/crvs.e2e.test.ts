import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import type { DciSimulator } from '../simulators/sim-server.js';
import { wireSimulator } from '../client/client.test-support.js';

const context = { actor: systemActor('test') };

describe('CRVS service against the reference CRVS over real HTTP', () => {
  let system: TestSystem;
  let ourUrl: string;
  let sim: DciSimulator;

  before(async () => {
    system = await createTestSystem();
    await system.http.listen({ port: 0, host: '127.0.0.1' });
    const address = system.http.server.address();
    ourUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    Object.assign(system.dciClients.client.settings, { backoffBaseMs: 20, callbackWaitMs: 8_000, pendingCheckMs: 20 });
  });
  after(async () => {
    await system.close();
  });
  beforeEach(async () => {
    await system.reset();
    sim = await wireSimulator(system, 'crvs', ourUrl);
  });
  afterEach(async () => {
    await sim.stop();
  });

  /** The Okello household: Grace (head, UIN 100000001) and Joseph (spouse, UIN 100000002). */
  async function household() {
    const registry = system.services.registry;
    const grace = await registry.createIndividual(context, { name: { given: 'Grace', family: 'Okello' }, birthDate: '1985-06-02', gender: '2', identifiers: [{ type: 'national-id', value: '100000001' }] } as never);
    const joseph = await registry.createIndividual(context, { name: { given: 'Joseph', family: 'Okello' }, birthDate: '1982-01-20', gender: '1', civilStatus: 'single', identifiers: [{ type: 'national-id', value: '100000002' }] } as never);
    const group = await registry.createGroup(context, { groupType: 'household', name: 'Okello household', members: [{ individual: grace.id, role: 'head' }, { individual: joseph.id, role: 'spouse' }] } as never);
    return { grace, joseph, group };
  }

  test('verify a birth by registration number: the record, or null', async () => {
    const birth = await system.dciClients.crvs.verifyBirth('BR-2024-0042');
    assert.equal(birth?.person.birthDate, '2024-03-14');
    assert.deepEqual(birth?.person.parents.map((parent) => parent.value), ['100000001', '100000002']);
    assert.equal(await system.dciClients.crvs.verifyBirth('BR-1999-9999'), null);
  });

  test('is deceased: true for a recorded death, false for the living and the unknown', async () => {
    assert.equal(await system.dciClients.crvs.isDeceased('UIN', '100000099'), true);
    assert.equal(await system.dciClients.crvs.isDeceased('UIN', '100000001'), false);
    assert.equal(await system.dciClients.crvs.isDeceased('UIN', '555555555'), false);
  });

  test('the API: verify-birth needs dci:admin; a registry down is a 503 naming the failure', async () => {
    const denied = await system.http.inject({ method: 'POST', url: '/api/v2/DciCrvs/$verify-birth', headers: await system.authAs('individual:read'), payload: { registrationNumber: 'BR-2024-0042' } });
    assert.equal(denied.statusCode, 403);
    const ok = await system.http.inject({ method: 'POST', url: '/api/v2/DciCrvs/$verify-birth', headers: await system.authAs('dci:admin'), payload: { registrationNumber: 'BR-2024-0042' } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().found, true);
    sim.faults.fail5xx = 10;
    const down = await system.http.inject({ method: 'POST', url: '/api/v2/DciCrvs/$verify-birth', headers: await system.authAs('dci:admin'), payload: { registrationNumber: 'BR-2024-0042' } });
    assert.equal(down.statusCode, 503);
    assert.match(down.json().detail, /http/);
  });

  test('subscribe, then a death notification deactivates the registrant (audited, reversible); a duplicate notify is applied once', async () => {
    const { joseph } = await household();
    const subscriptions = await system.dciClients.crvs.subscribe(['death', 'birth']);
    assert.deepEqual(subscriptions.map((item) => item.status), ['subscribed', 'subscribed']);
    assert.ok(subscriptions.every((item) => item.subscriptionCode));
    sim.faults.duplicateCallbacks = true;
    const notified = await sim.recordEvent('death', { identifier: [{ identifier_type: 'UIN', identifier_value: '100000002' }], name: { given_name: 'Joseph', surname: 'Okello' }, birth_date: '1982-01-20', death_date: '2026-11-01' });
    assert.equal(notified, 1);
    let events = await system.dciClients.crvs.listEvents();
    assert.equal(events.length, 1, 'the second copy of the notify is not stored again');
    assert.equal(events[0]!.status, 'received');
    await system.jobs.drain();
    events = await system.dciClients.crvs.listEvents();
    assert.equal(events[0]!.status, 'processed');
    assert.deepEqual(events[0]!.outcome, { action: 'deactivated', registrant: joseph.id });
    const after = await system.services.registry.getIndividual(context, joseph.id);
    assert.equal(after.isActive, false);
    const history = await system.services.registry.history(context, 'individual', joseph.id);
    assert.ok(history.some((entry) => entry.action === 'deactivate'));
    await system.services.registry.reactivate(context, 'individual', joseph.id);
    assert.equal((await system.services.registry.getIndividual(context, joseph.id)).isActive, true);
  });

  test('a birth notification adds the child to the household matched by a parent; marriage updates civil status (older registry_core shape accepted)', async () => {
    const { group, joseph } = await household();
    await system.dciClients.crvs.subscribe(['birth', 'marriage']);
    await sim.recordEvent('birth', {
      identifier: [{ identifier_type: 'BRN', identifier_value: 'BR-2026-0500' }], name: { given_name: 'Baby', surname: 'Okello' }, sex: 'male', birth_date: '2026-11-10',
      parent1_identifier: { identifier_type: 'UIN', identifier_value: '100000001' },
    });
    // registry_core dci_PersonRecord: identifier_type + identifier, name.sur_name, marriagedate.
    await sim.recordEvent('marriage', { identifier_type: 'UIN', identifier: '100000002', name: { given_name: 'Joseph', sur_name: 'Okello' }, marital_status: 'M', marriagedate: '2026-11-12T00:00:00Z' });
    await system.jobs.drain();
    const events = await system.dciClients.crvs.listEvents();
    assert.deepEqual(events.map((event) => [event.eventType, event.status]).sort(), [['birth', 'processed'], ['marriage', 'processed']]);
    const members = await system.services.registry.listMembers(context, group.id, false);
    assert.equal(members.length, 3);
    const child = await system.services.registry.getIndividual(context, 'birth-registration|BR-2026-0500');
    assert.equal(child.birthDate, '2026-11-10');
    assert.ok(members.some((member) => member.individual === child.id && member.role === 'child'));
    assert.equal((await system.services.registry.getIndividual(context, joseph.id)).civilStatus, 'married');
  });

  test('an event that cannot be applied goes to error; retry from the API processes it again', async () => {
    const { grace } = await household();
    await system.dciClients.crvs.subscribe(['death']);
    // Grace heads a household with another member: deactivation is refused by the registry rules.
    await sim.recordEvent('death', { identifier: [{ identifier_type: 'UIN', identifier_value: '100000001' }], death_date: '2026-11-01' });
    await system.jobs.drain();
    let [event] = await system.dciClients.crvs.listEvents();
    assert.equal(event!.status, 'error');
    assert.match(String(event!.lastError), /heads/);
    const notAgain = await system.http.inject({ method: 'POST', url: '/api/v2/DciExternalEvent/00000000-0000-4000-8000-000000000000/$retry', headers: await system.authAs('dci:admin') });
    assert.equal(notAgain.statusCode, 404);
    // The manager changes the head, then retries.
    const joseph = await system.services.registry.getIndividual(context, 'national-id|100000002');
    const group = (await system.services.registry.getIndividual(context, grace.id)).memberships![0]!.group!;
    await system.services.registry.changeHead(context, group, { individual: joseph.id } as never);
    const retried = await system.http.inject({ method: 'POST', url: `/api/v2/DciExternalEvent/${event!.id}/$retry`, headers: await system.authAs('dci:admin') });
    assert.equal(retried.statusCode, 200, retried.body);
    await system.jobs.drain();
    [event] = await system.dciClients.crvs.listEvents();
    assert.equal(event!.status, 'processed');
    assert.equal((await system.services.registry.getIndividual(context, grace.id)).isActive, false);
    const conflict = await system.http.inject({ method: 'POST', url: `/api/v2/DciExternalEvent/${event!.id}/$retry`, headers: await system.authAs('dci:admin') });
    assert.equal(conflict.statusCode, 409);
  });
});
