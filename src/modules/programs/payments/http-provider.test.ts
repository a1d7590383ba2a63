import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { startPaymentSimulator, type PaymentSimulator } from './payment-simulator.js';
import { HttpDisbursementClient } from './http-provider.js';

type Headers = Record<string, string>;

/** The HTTP provider against the simulated disbursement API (`commonweal sim payments`). */
describe('HTTP payment provider with the simulator', () => {
  let simulator: PaymentSimulator;
  let system: TestSystem;
  let maker: Headers;
  let checker: Headers;
  let batchId: string;

  const call = async (method: 'GET' | 'POST', url: string, headers: Headers, body?: unknown) => system.http.inject({
    method, url, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });

  before(async () => {
    simulator = await startPaymentSimulator({ delayMs: 0, failRate: 0.5 });
    system = await createTestSystem({ PAYMENTS_HTTP_URL: simulator.url });
    const global = { actor: systemActor('test') };
    await system.services.areas.importAreas(global, [{ code: 'C', name: 'Country', kind: 'country' }]);
    for (let index = 0; index < 12; index += 1) {
      await system.services.registry.createIndividual(global, { name: { given: `Elder${index}`, family: 'Test' }, birthDate: `19${40 + index}-01-01`, area: 'C' });
    }
    maker = await system.authAs('program:write', 'program:read', 'enrollment:write', 'entitlement:write', 'payment:write', 'payment:read', 'job:read');
    checker = await system.authAs('entitlement:approve', 'payment:approve', 'job:read');
    await call('POST', '/api/v2/Program', maker, { code: 'P', name: 'Pension', targetType: 'individual', currency: 'KES', eligibilityRule: 'age >= 60', cashFormula: '1000' });
    await call('POST', '/api/v2/Program/P/$activate', maker);
    await call('POST', '/api/v2/Program/P/funds', maker, { amount: '100000', reference: 'budget' });
    await call('POST', '/api/v2/Program/P/$enrol', maker, { at: '2025-03-01T00:00:00Z' });
    await system.jobs.drain();
    const cycle = (await call('POST', '/api/v2/Program/P/cycles', maker, { startDate: '2025-03-01', endDate: '2025-03-31' })).json().id;
    await call('POST', `/api/v2/Cycle/${cycle}/$prepare`, maker);
    await system.jobs.drain();
    assert.equal((await call('POST', `/api/v2/Cycle/${cycle}/$approve`, checker)).statusCode, 200);
    const created = await call('POST', `/api/v2/Cycle/${cycle}/payment-batches`, maker, { provider: 'http' });
    assert.equal(created.statusCode, 202, created.body);
    batchId = created.json().batch.id;
    await system.jobs.drain();
  });
  after(async () => {
    await system.close();
    await simulator.close();
  });

  test('sending submits every pending payment once; polling applies what settled', async () => {
    const send = await call('POST', `/api/v2/PaymentBatch/${batchId}/$send`, checker);
    await system.jobs.drain();
    assert.equal((await call('GET', `/api/v2/Job/${send.json().job.id}`, checker)).json().result.sent, 12);
    assert.deepEqual(simulator.stats(), { payments: 12, duplicateSubmissions: 0 });
    const polled = await call('POST', `/api/v2/PaymentBatch/${batchId}/$poll`, maker);
    assert.equal(polled.statusCode, 200, polled.body);
    const { paid, failed, waiting } = polled.json();
    assert.equal(paid + failed, 12);
    assert.equal(waiting, 0);
    assert.ok(failed > 0 && paid > 0, `a share fails: ${paid} paid, ${failed} failed`);
  });

  test('a resent submission (a crashed sending retried) pays nobody twice', async () => {
    const sent = (await call('GET', `/api/v2/Payment?batch=${batchId}`, maker)).json().items as Array<{ endToEndId: string; amount: string; currency: string; registrant: string; id: string; attempt: number }>;
    const again = await new HttpDisbursementClient(simulator.url).submit(sent.map((payment) => ({ endToEndId: payment.endToEndId, paymentId: payment.id, registrantId: payment.registrant, name: '', amount: payment.amount, currency: payment.currency, attempt: payment.attempt })));
    assert.deepEqual(again, { accepted: 0, duplicates: 12 });
    assert.equal(simulator.stats().payments, 12);
  });

  test('failed payments are retried under new keys: the API sees them as new payments', async () => {
    const failed = (await call('GET', `/api/v2/Payment?batch=${batchId}&state=failed`, maker)).json().count;
    const retry = await call('POST', `/api/v2/PaymentBatch/${batchId}/$retry-failed`, maker);
    assert.deepEqual(retry.json(), { retried: failed });
    await call('POST', `/api/v2/PaymentBatch/${batchId}/$send`, checker);
    await system.jobs.drain();
    assert.equal(simulator.stats().payments, 12 + failed);
    const polled = (await call('POST', `/api/v2/PaymentBatch/${batchId}/$poll`, maker)).json();
    assert.equal(polled.paid + polled.failed, failed);
    const file = await call('POST', `/api/v2/PaymentBatch/${batchId}/$reconcile`, maker, { content: 'end_to_end_id,status\nnope-1,paid' });
    assert.equal(file.statusCode, 400);
  });

  test('a batch of another provider is not polled', async () => {
    const response = await call('POST', '/api/v2/PaymentBatch/00000000-0000-4000-8000-000000000000/$poll', maker);
    assert.equal(response.statusCode, 404);
  });
});
