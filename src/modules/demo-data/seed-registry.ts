import { systemActor } from '../../platform/auth/access-tokens.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import type { AreaService } from '../areas/areas.service.js';
import type { RegistryService } from '../registry/registry.service.js';
import type { BulkPerson } from '../registry/bulk/registry-bulk.service.js';
import { DEMO_AREAS } from './areas.js';
import { generateHouseholds, type HouseholdPlan } from './household-generator.js';

export const DEFAULT_DEMO_SEED = 1;
/** Households written per transaction: large enough to amortise round trips, small enough to keep memory flat. */
export const SEED_BATCH_HOUSEHOLDS = 500;

/** The slice of `Services` seeding uses (a `Pick<Services, 'areas' | 'registry'>` fits). */
export interface SeedServices {
  areas: Pick<AreaService, 'importAreas'>;
  registry: Pick<RegistryService, 'bulk'>;
}

export interface SeedOptions {
  households: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  batchHouseholds?: number;
  /**
   * Batches written at the same time, each in its own transaction (PostgreSQL: 2, so the next
   * batch is generated and validated while the database writes the previous one). PGlite has one
   * connection: keep 1 there.
   */
  concurrency?: number;
}

/** What this run created; households already present are not counted again. */
export interface SeedResult {
  households: number;
  individuals: number;
  seconds: number;
}

/**
 * Loads the demo areas and `households` generated households through the registry's bulk writer:
 * the same validation and audit as an import, a few statements per batch, so a million people
 * load in minutes. Re-running with the same seed adds nothing twice (people and households are
 * matched by their identifiers), and a run cut short is finished by the next one.
 */
export async function seedRegistry(services: SeedServices, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const context: RequestContext = { actor: systemActor('seed') };
  const total = options.households;
  const batchSize = options.batchHouseholds ?? SEED_BATCH_HOUSEHOLDS;
  const plans = generateHouseholds({ households: total, seed: options.seed ?? DEFAULT_DEMO_SEED });
  await services.areas.importAreas(context, [...DEMO_AREAS]);
  const validator = await services.registry.bulk.createValidator();

  let households = 0;
  let individuals = 0;
  let done = 0;
  options.onProgress?.(0, total);
  const write = async (batch: HouseholdPlan[]) => {
    const { people, relationships } = toBulkPeople(batch);
    const result = await services.registry.bulk.upsertPeople(context, people, { validator, relationships, audit: 'per-batch' });
    if (result.problems.length > 0) throw new Error(`Generated demo data failed validation: ${JSON.stringify(result.problems.slice(0, 3))}`);
    households += result.householdsCreated;
    individuals += result.created;
    done += batch.length;
    options.onProgress?.(done, total);
  };
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const flush = async (batch: HouseholdPlan[]) => {
    const writing = write(batch).catch((error: unknown) => { failure ??= error; }).finally(() => inFlight.delete(writing));
    inFlight.add(writing);
    while (inFlight.size >= (options.concurrency ?? 1)) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  };
  let batch: HouseholdPlan[] = [];
  try {
    for (const plan of plans) {
      batch.push(plan);
      if (batch.length >= batchSize) {
        await flush(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await flush(batch);
  } finally {
    await Promise.all(inFlight);
  }
  if (failure !== undefined) throw failure;
  return { households, individuals, seconds: (performance.now() - started) / 1000 };
}

function toBulkPeople(plans: HouseholdPlan[]): { people: BulkPerson[]; relationships: Array<{ sourceKey: number; targetKey: number; type: string }> } {
  const people: BulkPerson[] = [];
  const relationships: Array<{ sourceKey: number; targetKey: number; type: string }> = [];
  for (const plan of plans) {
    const firstKey = people.length;
    for (const member of plan.members) {
      people.push({
        key: people.length,
        individual: member.individual,
        household: {
          identifier: { type: 'household-id', value: plan.householdId },
          role: member.role,
          name: plan.group.name,
          area: plan.group.area,
          income: plan.group.income,
          addresses: plan.group.addresses,
          startDate: member.startDate,
        },
      });
    }
    for (const relationship of plan.relationships) {
      relationships.push({ sourceKey: firstKey + relationship.source, targetKey: firstKey + relationship.target, type: relationship.type });
    }
  }
  return { people, relationships };
}
