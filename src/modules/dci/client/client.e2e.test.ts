import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import type { DciSimulator } from '../simulators/sim-server.js';
import { searchMessage } from './search.js';
import { DciCallError } from './transport.js';
import { wireSimulator } from './client.test-support.js';

type Json = Record<string, any>;

describe('DCI client against the reference CRVS over real HTTP', () => {
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

  const calls = async () => (await system.database.db.execute('select operation, outcome, http_status, attempts, error from dci_outgoing_calls order by id') as unknown as { rows: Json[] }).rows;

  test('sync search by identifier: signed request accepted, signed answer verified, call logged without personal data', async () => {
    const item = await system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-2024-0042');
    assert.equal(item.status, 'succ');
    assert.equal(item.records.length, 1);
    assert.equal(item.records[0]!.birth_date, '2024-03-14');
    const none = await system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-0000-0000');
    assert.equal(none.records.length, 0);
    const log = await calls();
    assert.deepEqual(log.map((row) => [row.operation, row.outcome, row.http_status]), [['sync_search', 'ok', 200], ['sync_search', 'ok', 200]]);
    const raw = JSON.stringify(await system.database.db.execute('select * from dci_outgoing_calls'));
    assert.ok(!raw.includes('BR-2024-0042'), 'no identifier in the call log');
    assert.equal(sim.received.length, 2);
  });

  test('predicate, date range and expression searches are valid to the spec and answered', async () => {
    const byDate = await system.dciClients.search.sync('crvs_main', { kind: 'date-range', attribute: 'birth_date', from: '1980-01-01', to: '1990-12-31' });
    assert.deepEqual(byDate.records.map((record) => record.birth_date).sort(), ['1982-01-20', '1985-06-02']);
    const byPredicate = await system.dciClients.search.sync('crvs_main', { kind: 'predicate', predicates: [{ attribute: 'sex', operator: 'eq', value: 'male' }] });
    assert.equal(byPredicate.records.length, 1);
    const byExpression = await system.dciClients.search.sync('crvs_main', { kind: 'expression', expression: { collection: 'Person', query: { marital_status: 'W' } } });
    assert.equal(byExpression.records.length, 1);
  });

  test('async search: ACK, then the signed on-search callback answers the pending transaction', async () => {
    const answer = await system.dciClients.search.async('crvs_main', { kind: 'identifier', type: 'UIN', value: '100000001' });
    assert.equal(answer.answeredBy, 'callback');
    assert.equal(answer.records.length, 1);
  });

  test('callback that never arrives: txn/status poll wins', async () => {
    sim.faults.dropCallbacks = true;
    const answer = await system.dciClients.search.async('crvs_main', { kind: 'identifier', type: 'UIN', value: '100000002' });
    assert.equal(answer.answeredBy, 'poll');
    assert.equal(answer.records.length, 1);
  });

  test('duplicate callback: acknowledged, applied once', async () => {
    sim.faults.duplicateCallbacks = true;
    const answer = await system.dciClients.search.async('crvs_main', { kind: 'identifier', type: 'UIN', value: '100000002' });
    assert.equal(answer.answeredBy, 'callback');
    await sim.settle();
    const rows = (await system.database.db.execute('select outcome from dci_client_callbacks') as unknown as { rows: Json[] }).rows;
    assert.equal(rows.length, 1, 'the second copy has the same message id and is not recorded again');
  });

  test('registry down: network failure after retries, logged', async () => {
    await sim.stop();
    await assert.rejects(system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-2024-0042'), (error: unknown) => error instanceof DciCallError && error.kind === 'network');
    const log = await calls();
    assert.equal(log[0]!.outcome, 'network');
    assert.equal(log[0]!.attempts, 3);
    sim = await wireSimulatorAgain();
  });

  test('5xx is retried with backoff and then succeeds; slow registry times out', async () => {
    sim.faults.fail5xx = 2;
    const item = await system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-2024-0042');
    assert.equal(item.records.length, 1);
    assert.equal((await calls())[0]!.attempts, 3);
    sim.faults.delayMs = 2_500;
    await assert.rejects(system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-2024-0042'), (error: unknown) => error instanceof DciCallError && error.kind === 'timeout');
    sim.faults.delayMs = 0;
  });

  test('request errors (4xx) are not retried: a schema-invalid request never leaves, a refused one is not repeated', async () => {
    await assert.rejects(system.dciClients.client.callSync('crvs_main', 'sync_search', { transaction_id: 't1', search_request: [{ reference_id: 'r' }] }),
      (error: unknown) => error instanceof DciCallError && error.kind === 'schema' && /\/message\/search_request\/0/.test(error.message));
    assert.equal(sim.received.length, 0);
  });

  test('wrong signature on the answer: refused with a clear error', async () => {
    sim.faults.wrongSignature = true;
    await assert.rejects(system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-2024-0042'), (error: unknown) => error instanceof DciCallError && error.kind === 'signature');
    assert.equal((await calls())[0]!.outcome, 'signature');
  });

  test('schema-invalid answer: clear error, nothing returned', async () => {
    sim.faults.invalidSchema = true;
    await assert.rejects(system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-2024-0042'), (error: unknown) => error instanceof DciCallError && error.kind === 'schema' && /SearchResponse/.test(error.message));
  });

  test('expired token: 401, a fresh token, the call succeeds', async () => {
    sim.faults.tokenTtlSeconds = 1;
    await system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-2024-0042');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    sim.faults.tokenTtlSeconds = 3600;
    const item = await system.dciClients.search.byIdentifier('crvs_main', 'BRN', 'BR-2024-0042');
    assert.equal(item.records.length, 1);
  });

  test('a callback with a wrong signature or from unknown credentials is refused and not applied', async () => {
    const message = searchMessage([{ query: { kind: 'identifier', type: 'UIN', value: '1' } }]);
    const response = await fetch(`${ourUrl}/dci/client/registry/on-search`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(await system.authAs('dci:callback')) },
      body: JSON.stringify({ header: { message_id: crypto.randomUUID() }, message }),
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as Json).message.error.code, 'err.sender_id.invalid');
    sim.faults.wrongSignature = true;
    await assert.rejects(system.dciClients.search.async('crvs_main', { kind: 'identifier', type: 'UIN', value: '100000002' }));
  });

  test('test connection reports each step, and the failing kind', async () => {
    const ok = await system.dciClients.test('crvs_main');
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.deepEqual(ok.steps.map((step) => step.step), ['reach', 'auth', 'keys', 'request']);
    sim.faults.wrongSignature = true;
    const bad = await system.dciClients.test('crvs_main');
    assert.equal(bad.failed, 'signature');
    const view = await system.dciClients.sources.get('crvs_main');
    assert.equal((view.lastTestResult as Json).failed, 'signature');
  });

  async function wireSimulatorAgain(): Promise<DciSimulator> {
    await system.reset();
    return wireSimulator(system, 'crvs', ourUrl);
  }
});
