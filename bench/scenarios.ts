import type pg from 'pg';
import { householdIdOf, nationalIdOf, pick, pickIndex, type KeyPools } from './keys.js';
import * as floor from './sql-floor.js';

export const PAGE_SIZE = 100;

/** One kind of request, driven through the API and, for its floor, as the same SQL. */
export interface Scenario {
  id: string;
  title: string;
  /** Which latency target applies. */
  kind: 'read' | 'search';
  /** The next request path, from a random stream. */
  path: (random: () => number) => string;
  /** The same request as raw SQL, with the same keys from the same random stream. */
  sql: (pool: pg.Pool, random: () => number) => Promise<number>;
  /** Items a response must hold (checked once before measuring, through the API). */
  expectedItems?: number;
  /** The main statement with the parameters of one request, to show its plan. */
  mainStatement: (random: () => number) => { text: string; values: unknown[] };
}

const encode = encodeURIComponent;

export function buildScenarios(keys: KeyPools): Scenario[] {
  const uuid = (random: () => number) => pick(random, keys.individualUuids);
  const household = (random: () => number) => pickIndex(random, keys.households);
  return [
    {
      id: 'individual-by-uuid',
      title: 'Read individual by UUID',
      kind: 'read',
      path: (random) => `/api/v2/Individual/${uuid(random)}`,
      sql: (pool, random) => floor.individualByUuid(pool, uuid(random)),
      mainStatement: (random) => ({ text: floor.statements.registrantByUuid, values: [uuid(random), 'individual'] }),
    },
    {
      id: 'individual-by-identifier',
      title: 'Read individual by national id',
      kind: 'read',
      path: (random) => `/api/v2/Individual/${encode(`national-id|${nationalIdOf(household(random))}`)}`,
      sql: (pool, random) => floor.individualByIdentifier(pool, 'national-id', nationalIdOf(household(random))),
      mainStatement: (random) => ({ text: floor.statements.registrantByIdentifier, values: floor.identifierLookupValues('national-id', nationalIdOf(household(random)), 'individual') }),
    },
    {
      id: 'name-search',
      title: `Name search, ${PAGE_SIZE} results`,
      kind: 'search',
      expectedItems: PAGE_SIZE,
      path: (random) => `/api/v2/Individual?name=${encode(pick(random, keys.nameFragments))}&_count=${PAGE_SIZE}`,
      sql: (pool, random) => floor.nameSearch(pool, pick(random, keys.nameFragments), PAGE_SIZE),
      mainStatement: (random) => ({ text: floor.statements.nameSearchPage, values: ['individual', `%${pick(random, keys.nameFragments)}%`, PAGE_SIZE + 1] }),
    },
    {
      id: 'area-search',
      title: `Area subtree search (region), ${PAGE_SIZE} results`,
      kind: 'search',
      expectedItems: PAGE_SIZE,
      path: (random) => `/api/v2/Individual?area=${encode(pick(random, keys.regionCodes))}&_count=${PAGE_SIZE}`,
      sql: (pool, random) => floor.areaSearch(pool, pick(random, keys.regionCodes), PAGE_SIZE),
      // The subtree of a region: 1 region, 2 provinces, 4 municipalities, 12 villages (demo areas).
      mainStatement: () => ({ text: floor.statements.areaSearchPage(keys.regionAreaIds.length), values: ['individual', ...keys.regionAreaIds, PAGE_SIZE + 1] }),
    },
    {
      id: 'group-with-members',
      title: 'Read household with members',
      kind: 'read',
      path: (random) => `/api/v2/Group/${encode(`household-id|${householdIdOf(household(random))}`)}`,
      sql: (pool, random) => floor.groupWithMembers(pool, 'household-id', householdIdOf(household(random))),
      mainStatement: (random) => ({ text: floor.statements.registrantByIdentifier, values: floor.identifierLookupValues('household-id', householdIdOf(household(random)), 'group') }),
    },
  ];
}
