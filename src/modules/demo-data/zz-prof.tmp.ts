import { createTestSystem } from '../../test-support/test-system.js';
import { generateHouseholds } from './household-generator.js';
import { DEMO_AREAS } from './areas.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
const system = await createTestSystem();
const ctx = { actor: systemActor('seed') };
await system.services.areas.importAreas(ctx, [...DEMO_AREAS]);
const times: Record<string, number[]> = { ind: [], group: [], rel: [], get: [] };
const lap = async <T>(k: string, f: () => Promise<T>) => { const t = performance.now(); const r = await f(); times[k]!.push(performance.now() - t); return r; };
for (const plan of generateHouseholds({ households: 60, seed: 3 })) {
  await lap('get', () => system.services.registry.getGroup(`household-id|${plan.householdId}`).catch(() => undefined));
  const ids: string[] = [];
  for (const m of plan.members) ids.push((await lap('ind', () => system.services.registry.createIndividual(ctx, m.individual))).id);
  await lap('group', () => system.services.registry.createGroup(ctx, { ...plan.group, members: plan.members.map((m, i) => ({ individual: ids[i]!, role: m.role, startDate: m.startDate })) }));
  for (const r of plan.relationships) await lap('rel', () => system.services.registry.addRelationship(ctx, ids[r.source]!, { type: r.type, target: ids[r.target]! }));
}
for (const [k, v] of Object.entries(times)) console.log(k, v.length, (v.reduce((a, b) => a + b, 0) / v.length).toFixed(1), 'ms avg', (v.reduce((a, b) => a + b, 0)/1000).toFixed(1), 's total');
await system.close();
