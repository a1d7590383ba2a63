import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import type { DciSimulator } from '../simulators/sim-server.js';
import { wireSimulator } from '../client/client.test-support.js';
import { DciCallError } from '../client/transport.js';

const context = { actor: systemActor('test') };

describe('IBR and DR services against the reference registries over real HTTP', () => {
  let system: TestSystem;
  let ourUrl: string;
  let ibr: DciSimulator;
  let dr: DciSimulator;

  before(async () => {
    system = await createTestSystem();
    await system.http.listen({ port: 0, host: '127.0.0.1' });
    const address = system.http.server.address();
    ourUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    Object.assign(system.dciClients.client.settings, { backoffBaseMs: 20 });
  });
  after(async () => {
    await system.close();
  });
  beforeEach(async () => {
    await system.reset();
    ibr = await wireSimulator(system, 'ibr', ourUrl);
    dr = await wireSimulator(system, 'dr', ourUrl);
  });
  afterEach(async () => {
    await ibr.stop();
    await dr.stop();
  });

  const person = (given: string, uin: string) => system.services.registry.createIndividual(context, { name: { given, family: 'Okello' }, identifiers: [{ type: 'national-id', value: uin }] } as never);

  test('IBR: enrolled elsewhere → duplicate with the programmes; not enrolled → no duplicate; programs see it as their IbrClient', async () => {
    const joseph = await person('Joseph', '100000002');
    const grace = await person('Grace', '100000001');
    assert.deepEqual(await system.dciClients.ibr.checkDuplication(joseph.id), { isDuplicate: true, matchedPrograms: ['National Cash Transfer'] });
    assert.deepEqual(await system.dciClients.ibr.checkDuplication(grace.id), { isDuplicate: false, matchedPrograms: [] });
    assert.deepEqual(await system.dciClients.ibr.findEnrolledElsewhere([grace.id, joseph.id]), [{ registrantUuid: joseph.id, programme: 'National Cash Transfer' }]);
    assert.equal(system.programs.enrolment.hasIbrClient(), true, 'plugged in once ibr_main exists');
  });

  test('IBR: enrolment updates are pushed and the IBR knows the person afterwards', async () => {
    const result = await system.dciClients.ibr.pushEnrolmentUpdates([{ idType: 'UIN', value: '100000001', programme: 'Child Benefit', status: 'active', date: '2026-11-20' }]);
    assert.equal(result.accepted, 1);
    const check = await system.dciClients.ibr.checkIdentifier('UIN', '100000001');
    assert.equal(check.isDuplicate, true);
  });

  test('DR: status with Washington Group scores, is-disabled, and the sync job stores them on the registrant (audited)', async () => {
    const grace = await person('Grace', '100000001');
    const joseph = await person('Joseph', '100000002');
    const status = await system.dciClients.dr.getDisabilityStatus(grace.id);
    assert.equal(status?.hasDisability, true);
    assert.deepEqual(status?.disabilityTypes, ['walking']);
    assert.equal(status?.functionalScores.Mobility, 3);
    assert.equal(await system.dciClients.dr.isDisabled('UIN', '100000001'), true);
    assert.equal(await system.dciClients.dr.isDisabled('UIN', '100000002'), false);
    const response = await system.http.inject({ method: 'POST', url: '/api/v2/DciDr/$sync', headers: await system.authAs('dci:admin'), payload: { registrants: [grace.id, joseph.id] } });
    assert.equal(response.statusCode, 202, response.body);
    await system.jobs.drain();
    const stored = await system.services.registry.getIndividual(context, grace.id);
    assert.deepEqual(stored.disability, { hasDisability: true, types: ['walking'] });
    assert.deepEqual((await system.services.registry.getIndividual(context, joseph.id)).disability, { hasDisability: false, types: [] });
    const history = await system.services.registry.history(context, 'individual', grace.id);
    assert.ok(history.some((entry) => entry.action === 'update'));
    const denied = await system.http.inject({ method: 'POST', url: '/api/v2/DciDr/$sync', headers: await system.authAs('individual:write'), payload: { registrants: [grace.id] } });
    assert.equal(denied.statusCode, 403);
  });

  test('DR: a schema-invalid answer is a clear error and nothing is stored', async () => {
    const grace = await person('Grace', '100000001');
    dr.faults.invalidSchema = true;
    await assert.rejects(system.dciClients.dr.refresh(grace.id), (error: unknown) => error instanceof DciCallError && error.kind === 'schema');
    assert.equal((await system.services.registry.getIndividual(context, grace.id)).disability, null);
  });
});
