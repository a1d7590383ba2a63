import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { generateHouseholds, type HouseholdPlan } from './household-generator.js';
import { DEMO_AREAS } from './areas.js';
import { seedRegistry } from './seed-registry.js';

const SEED = 7;
const plansOf = (households: number) => [...generateHouseholds({ households, seed: SEED })];
const membersIn = (plans: HouseholdPlan[]) => plans.reduce((sum, plan) => sum + plan.members.length, 0);
const withoutAccents = (text: string) => text.normalize('NFKD').replace(/\p{M}/gu, '');

// The tests build on each other: 20 households, then re-runs and extensions of the same dataset.
describe('seedRegistry on the real system', () => {
  let system: TestSystem;
  const totals = async () => ({
    groups: (await system.services.registry.searchGroups({ actor: systemActor('test') }, { _total: 'accurate' }, 'http://x')).total,
    individuals: (await system.services.registry.searchIndividuals({ actor: systemActor('test') }, { _total: 'accurate' }, 'http://x')).total,
  });

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });

  it('loads the areas and 20 households with their members and relationships', async () => {
    const progress: Array<[number, number]> = [];
    const result = await seedRegistry(system.services, { households: 20, seed: SEED, onProgress: (done, total) => progress.push([done, total]) });
    const plans = plansOf(20);

    assert.equal(result.households, 20);
    assert.equal(result.individuals, membersIn(plans));
    assert.ok(result.seconds > 0);
    assert.deepEqual(progress.at(0), [0, 20]);
    assert.deepEqual(progress.at(-1), [20, 20]);
    assert.deepEqual(await totals(), { groups: 20, individuals: membersIn(plans) });
    assert.equal((await system.services.areas.getArea(DEMO_AREAS.at(-1)!.code)).kind, 'village');

    for (const plan of plans.slice(0, 5)) {
      const group = await system.services.registry.getGroup({ actor: systemActor('test') }, `household-id|${plan.householdId}`);
      const headId = plan.members[0]!.individual.identifiers![0]!;
      const head = await system.services.registry.getIndividual({ actor: systemActor('test') }, `${headId.type}|${headId.value}`);
      assert.equal(group.members!.length, plan.members.length);
      assert.equal(group.members!.find((m) => m.role === 'head')?.individual, head.id);
      assert.equal(group.area, plan.group.area);
      assert.equal(group.head, head.id);
      assert.equal(head.relationships!.length, plan.relationships.filter((r) => r.source === 0).length);
    }
    assert.ok(plans.slice(0, 5).some((plan) => plan.relationships.some((r) => r.source === 0)), 'the sample includes relationships');
  });

  it('finds accented demo names by their unaccented spelling, also through the API', async () => {
    const accented = plansOf(20).flatMap((plan) => plan.members).find((m) => /[^\x20-\x7e]/.test(m.individual.name.family!));
    assert.ok(accented, 'the first 20 households hold an accented family name');
    const query = withoutAccents(accented.individual.name.family!).toLowerCase();
    const found = await system.services.registry.searchIndividuals({ actor: systemActor('test') }, { name: query, _count: '100' }, 'http://x');
    assert.ok(found.items.some((item) => item.name.family === accented.individual.name.family));

    const response = await system.http.inject({ method: 'GET', url: '/api/v2/Group?_total=accurate', headers: await system.authAs('group:read') });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().total, 20);
  });

  it('adds nothing twice when re-run with the same seed, and only the new households when asked for more', async () => {
    const again = await seedRegistry(system.services, { households: 20, seed: SEED });
    assert.deepEqual({ households: again.households, individuals: again.individuals }, { households: 0, individuals: 0 });
    assert.deepEqual(await totals(), { groups: 20, individuals: membersIn(plansOf(20)) });

    const more = await seedRegistry(system.services, { households: 25, seed: SEED });
    assert.deepEqual({ households: more.households, individuals: more.individuals }, { households: 5, individuals: membersIn(plansOf(25).slice(20)) });
    assert.deepEqual(await totals(), { groups: 25, individuals: membersIn(plansOf(25)) });
  });

  it('finishes a household an interrupted run left half-done, reusing the people already created', async () => {
    const [plan] = [...generateHouseholds({ households: 1, seed: SEED, firstIndex: 25 })];
    await system.services.registry.createIndividual({ actor: systemActor('seed') }, plan!.members[0]!.individual);

    const resumed = await seedRegistry(system.services, { households: 26, seed: SEED });
    assert.deepEqual({ households: resumed.households, individuals: resumed.individuals }, { households: 1, individuals: plan!.members.length - 1 });
    assert.deepEqual(await totals(), { groups: 26, individuals: membersIn(plansOf(26)) });
    const group = await system.services.registry.getGroup({ actor: systemActor('test') }, `household-id|${plan!.householdId}`);
    assert.equal(group.members!.length, plan!.members.length);
  });

  it('refuses an invalid seed before writing anything', async () => {
    await assert.rejects(seedRegistry(system.services, { households: 5, seed: -1 }), RangeError);
    assert.deepEqual(await totals(), { groups: 26, individuals: membersIn(plansOf(26)) });
  });

  it('writes the same with two batches in flight (as commonweal seed does on PostgreSQL)', async () => {
    const plans = [...generateHouseholds({ households: 7, seed: SEED + 1 })];
    const progress: number[] = [];
    const result = await seedRegistry(system.services, { households: 7, seed: SEED + 1, batchHouseholds: 2, concurrency: 2, onProgress: (done) => progress.push(done) });
    assert.deepEqual({ households: result.households, individuals: result.individuals }, { households: 7, individuals: membersIn(plans) });
    assert.deepEqual(progress.at(-1), 7);
    assert.deepEqual(await totals(), { groups: 33, individuals: membersIn(plansOf(26)) + membersIn(plans) });
    for (const plan of [plans[0]!, plans[6]!]) {
      const group = await system.services.registry.getGroup({ actor: systemActor('test') }, `household-id|${plan.householdId}`);
      assert.equal(group.members!.length, plan.members.length);
    }
    const again = await seedRegistry(system.services, { households: 7, seed: SEED + 1, batchHouseholds: 2, concurrency: 2 });
    assert.deepEqual({ households: again.households, individuals: again.individuals }, { households: 0, individuals: 0 });
  });
});
