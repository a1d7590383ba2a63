import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { AppError } from '../../platform/errors.js';
import { eq } from 'drizzle-orm';
import { registrants } from '../registry/registry.tables.js';
import { ExternalValues, type ExternalValueFetcher } from './rules.external.js';
import { insertVariable } from './rules.repository.js';
import type { RuleVariable } from './rules.types.js';

/** A DCI registry stand-in: answers from a map, or fails; counts its calls. */
class FakeDci implements ExternalValueFetcher {
  calls = 0;
  failing = false;
  constructor(readonly answers: Map<string, unknown>) {}
  fetch(_variable: RuleVariable, registrant: { uuid: string }): Promise<unknown> {
    this.calls += 1;
    return this.failing ? Promise.reject(new Error('registry down')) : Promise.resolve(this.answers.get(registrant.uuid) ?? null);
  }
}

describe('external variables: cache with TTL and failure policies; compiled rules read the cache', () => {
  let system: TestSystem;
  let clock: Date;
  const actor = systemActor('test');

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    clock = new Date('2025-03-01T08:00:00Z');
  });

  async function fixture(failurePolicy: RuleVariable['failurePolicy']) {
    const variable = await insertVariable(system.database.db, {
      code: 'dci_disability', subject: 'individual', kind: 'external', resultType: 'bool', description: 'Disability status from the disability registry',
      ttlSeconds: 3600, failurePolicy, source: { registry: 'disability', attribute: 'has_disability' },
    });
    const person = await system.services.registry.createIndividual({ actor }, { name: { given: 'Ana' } });
    const [row] = await system.database.db.select({ id: registrants.id }).from(registrants).where(eq(registrants.uuid, person.id));
    return { variable, uuid: person.id, id: row!.id };
  }

  test('a fresh cached value is used without fetching; an expired one is fetched again', async () => {
    const { variable, uuid, id } = await fixture('null');
    const dci = new FakeDci(new Map([[uuid, true]]));
    const values = new ExternalValues(system.database.db, dci, () => clock);
    assert.equal(await values.resolve(variable, { id, uuid }), true);
    assert.equal(await values.resolve(variable, { id, uuid }), true);
    assert.equal(dci.calls, 1);
    clock = new Date(clock.getTime() + 3601_000);
    dci.answers.set(uuid, false);
    assert.equal(await values.resolve(variable, { id, uuid }), false);
    assert.equal(dci.calls, 2);
  });

  test('failure policies: null, last known, fail', async () => {
    const { variable, uuid, id } = await fixture('null');
    const dci = new FakeDci(new Map([[uuid, true]]));
    const values = new ExternalValues(system.database.db, dci, () => clock);
    await values.resolve(variable, { id, uuid });
    clock = new Date(clock.getTime() + 7200_000);
    dci.failing = true;
    assert.equal(await values.resolve(variable, { id, uuid }), null);
    assert.equal(await values.resolve({ ...variable, failurePolicy: 'last_known' }, { id, uuid }), true);
    await assert.rejects(values.resolve({ ...variable, failurePolicy: 'fail' }, { id, uuid }), (error: AppError) => error.code === 'unavailable');
  });

  test('a compiled rule reads fresh cached values (and any age for last_known)', async () => {
    const { variable, uuid, id } = await fixture('null');
    const values = new ExternalValues(system.database.db, new FakeDci(new Map([[uuid, true]])), () => clock);
    await values.resolve(variable, { id, uuid });
    const preview = (at: string) => system.services.rules.preview(actor, { expression: 'dci_disability', subject: 'individual', at });
    assert.equal((await preview('2025-03-01T08:30:00Z')).count, 1);
    assert.equal((await preview('2025-03-01T10:00:00Z')).count, 0, 'expired: unknown');
    const inMemory = await system.services.rules.evaluate({ expression: 'dci_disability && true', subject: 'individual' }, {
      birthDate: null, gender: null, civilStatus: null, groupType: null, areaCode: null, areaPath: [], hasDisability: null, disabilityTypes: null,
      income: null, incomeCurrency: null, isActive: true, registeredAt: clock.toISOString(), custom: {}, identifiers: [],
    }, { dci_disability: true });
    assert.equal(inMemory, true);
  });
});
