import pg from 'pg';
import { DEMO_AREAS } from '../src/modules/demo-data/areas.js';
import { demoHouseholdId, demoNationalId } from '../src/modules/demo-data/identifiers.js';
import { FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES } from '../src/modules/demo-data/names.js';
import { DEFAULT_DEMO_SEED } from '../src/modules/demo-data/seed-registry.js';
import { normalizeForSearch } from '../src/modules/registry/registrant-input.js';

/**
 * What the scenarios draw their keys from. Identifiers are derived from the demo seed and a household
 * index (src/modules/demo-data/identifiers.ts), so any existing one can be picked without a query;
 * UUIDs are random, so a sample is read once before the run.
 */
export interface KeyPools {
  households: number;
  individualUuids: string[];
  nameFragments: string[];
  regionCodes: string[];
  /** Database ids of the first region's subtree, to show the plan of an area search. */
  regionAreaIds: number[];
}

/** A head is always an adult (18+), so member 0 of every household has a national id. */
export const nationalIdOf = (householdIndex: number) => demoNationalId(DEFAULT_DEMO_SEED, householdIndex, 0);
export const householdIdOf = (householdIndex: number) => demoHouseholdId(DEFAULT_DEMO_SEED, householdIndex);

export const REGION_CODES = DEMO_AREAS.filter((area) => area.kind === 'region').map((area) => area.code);

/** Whole given and family names as a user would type them, normalised as the search normalises them. */
const CANDIDATE_FRAGMENTS = [...new Set([...FAMILY_NAMES, ...MALE_GIVEN_NAMES, ...FEMALE_GIVEN_NAMES].map(normalizeForSearch))];

/**
 * The candidate names that match at least `minimum` individuals, so every name search of the run
 * returns a full page. Counting stops at `minimum` per name: cheap even at national scale.
 */
export async function commonNameFragments(databaseUrl: string, minimum = 100): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const kept: string[] = [];
    for (const fragment of CANDIDATE_FRAGMENTS) {
      const { rows: [row] } = await client.query<{ matches: number }>(
        "select count(*)::int as matches from (select 1 from registrants where kind = 'individual' and name_search like $1 limit $2) as page",
        [`%${fragment.replace(/[\\%_]/g, (character) => `\\${character}`)}%`, minimum],
      );
      if ((row?.matches ?? 0) >= minimum) kept.push(fragment);
    }
    return kept;
  } finally {
    await client.end();
  }
}

/** Ids of an area and its descendants, as AreaService.subtreeAreaIds finds them. */
export async function subtreeAreaIds(databaseUrl: string, code: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number }>(
      "select id from areas where path like (select path from areas where code = $1) || '%' order by id",
      [code],
    );
    return rows.map((row) => Number(row.id));
  } finally {
    await client.end();
  }
}

/**
 * A reproducible stream of random numbers in [0, 1) (mulberry32). The API run and the SQL floor of a
 * scenario each start a stream from the same seed, so both see the same keys in the same order.
 */
export function randomStream(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
export const pickIndex = (random: () => number, size: number): number => Math.floor(random() * size);
