import { systemActor } from '../../platform/auth/access-tokens.js';
import { AppError } from '../../platform/errors.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import type { AreaService } from '../areas/areas.service.js';
import type { RegistryService } from '../registry/registry.service.js';
import { DEMO_AREAS } from './areas.js';
import { generateHouseholds, type HouseholdPlan } from './household-generator.js';

export const DEFAULT_DEMO_SEED = 1;

/** The slice of `Services` seeding uses (a `Pick<Services, 'areas' | 'registry'>` fits). */
export interface SeedServices {
  areas: Pick<AreaService, 'importAreas'>;
  registry: Pick<RegistryService, 'createIndividual' | 'getIndividual' | 'createGroup' | 'getGroup' | 'addRelationship'>;
}

export interface SeedOptions {
  households: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * Runs one household's writes as one database transaction (pass `db.transaction`; the database
   * handle follows the open transaction, so the service calls join it). Several times faster than
   * a commit per write, and each household lands whole or not at all.
   */
  inTransaction?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** What this run created; households already present are skipped and not counted. */
export interface SeedResult {
  households: number;
  individuals: number;
  seconds: number;
}

/**
 * Loads the demo areas and `households` generated households through the registry service, so
 * every record is validated and audited like an API write. That costs a few transactions per
 * person: fine for demo sizes (hundreds to a few thousand households); a later bulk path loads
 * millions. Re-running with the same seed adds nothing twice: a household whose household-id
 * already exists is skipped, and people left behind by an interrupted run are reused.
 */
export async function seedRegistry(services: SeedServices, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const context: RequestContext = { actor: systemActor('seed') };
  const total = options.households;
  const plans = generateHouseholds({ households: total, seed: options.seed ?? DEFAULT_DEMO_SEED });
  await services.areas.importAreas(context, [...DEMO_AREAS]);

  let households = 0;
  let individuals = 0;
  let done = 0;
  options.onProgress?.(0, total);
  for (const plan of plans) {
    const created = options.inTransaction
      ? await options.inTransaction(() => seedHousehold(services, context, plan))
      : await seedHousehold(services, context, plan);
    if (created !== undefined) {
      households += 1;
      individuals += created;
    }
    done += 1;
    options.onProgress?.(done, total);
  }
  return { households, individuals, seconds: (performance.now() - started) / 1000 };
}

/** Creates one household; returns how many individuals it created, or undefined when it was already there. */
async function seedHousehold(services: SeedServices, context: RequestContext, plan: HouseholdPlan): Promise<number | undefined> {
  const { registry } = services;
  const householdRef = `household-id|${plan.householdId}`;
  if (await exists(() => registry.getGroup(householdRef))) return undefined;

  let created = 0;
  const ids: string[] = [];
  for (const member of plan.members) {
    const identifier = member.individual.identifiers![0]!;
    try {
      ids.push((await registry.createIndividual(context, member.individual)).id);
      created += 1;
    } catch (error) {
      // Left over from an interrupted run: the individual exists but its household does not.
      if (!(error instanceof AppError && error.code === 'duplicate_identifier')) throw error;
      ids.push((await registry.getIndividual(`${identifier.type}|${identifier.value}`)).id);
    }
  }
  try {
    await registry.createGroup(context, {
      ...plan.group,
      members: plan.members.map((member, index) => ({ individual: ids[index]!, role: member.role, startDate: member.startDate })),
    });
  } catch (error) {
    // Another seeding run created the same household meanwhile.
    if (error instanceof AppError && error.code === 'duplicate_identifier') return undefined;
    throw error;
  }
  // After the group, so an interrupted run can miss some relationships but never doubles them.
  for (const relationship of plan.relationships) {
    await registry.addRelationship(context, ids[relationship.source]!, { type: relationship.type, target: ids[relationship.target]! });
  }
  return created;
}

async function exists(lookup: () => Promise<unknown>): Promise<boolean> {
  try {
    await lookup();
    return true;
  } catch (error) {
    if (error instanceof AppError && error.code === 'not_found') return false;
    throw error;
  }
}
