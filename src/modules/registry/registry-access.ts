import { sql, type SQL } from 'drizzle-orm';
import { areaScopeOf, type Actor } from '../../platform/auth/access-tokens.js';
import { AppError } from '../../platform/errors.js';
import { registrants, type RegistrantKind } from './registry.tables.js';

/**
 * Area scoping of the registry, in one place. An actor whose permission is limited to areas (a
 * staff user with a local role, an API client bound to areas) reaches only registrants whose `area`
 * lies in those areas' subtrees; a registrant without an area is outside every limit. Outside means
 * "does not exist": 404 on reads and on changes, left out of searches, counts, exports and lists.
 */

export type RegistryPermission = `${RegistrantKind}:${'read' | 'write'}`;

/** Where a limited actor may act: the area codes it was given and the ids of their whole subtrees. */
export interface AreaLimit {
  readonly codes: readonly string[];
  readonly ids: ReadonlySet<number>;
}

/** `undefined` = everywhere (no limit for this permission). */
export type AllowedAreas = AreaLimit | undefined;

export interface SubtreeLookup {
  subtreeAreaIds(code: string): Promise<number[] | undefined>;
}

export const readPermission = (kind: RegistrantKind): RegistryPermission => `${kind}:read`;
export const writePermission = (kind: RegistrantKind): RegistryPermission => `${kind}:write`;

/**
 * Resolves an actor's area limits to area ids. Resolved once per actor and set of codes: the
 * actor object lives for one request (or one job run), so the cache never outlives a request and
 * an area added meanwhile is seen by the next one. Several permissions with the same codes (the
 * usual case) share one lookup.
 */
export class RegistryAccess {
  private readonly resolved = new WeakMap<Actor, Map<string, Promise<AreaLimit>>>();

  constructor(private readonly areas: SubtreeLookup) {}

  async allowedAreaIds(actor: Actor, permission: RegistryPermission): Promise<AllowedAreas> {
    const codes = areaScopeOf(actor, permission);
    if (codes === undefined) return undefined;
    const sorted = [...new Set(codes)].sort();
    const key = sorted.join('\u0000');
    let byCodes = this.resolved.get(actor);
    if (!byCodes) this.resolved.set(actor, (byCodes = new Map()));
    let limit = byCodes.get(key);
    if (!limit) {
      limit = this.subtrees(sorted);
      byCodes.set(key, limit);
      const cache = byCodes;
      limit.catch(() => cache.delete(key));
    }
    return limit;
  }

  /** An unknown code (e.g. an area since removed) covers nothing: the limit never widens. */
  private async subtrees(codes: string[]): Promise<AreaLimit> {
    const ids = new Set<number>();
    for (const code of codes) for (const id of (await this.areas.subtreeAreaIds(code)) ?? []) ids.add(id);
    return { codes, ids };
  }
}

export function isVisible(row: { areaId: number | null }, allowed: AllowedAreas): boolean {
  return allowed === undefined || (row.areaId !== null && allowed.ids.has(row.areaId));
}

/** The row when the actor may reach it; otherwise `notFound()`, the same error as for a row that does not exist. */
export function assertVisible<T extends { areaId: number | null }>(row: T | undefined, allowed: AllowedAreas, notFound: () => AppError): T {
  if (!row || !isVisible(row, allowed)) throw notFound();
  return row;
}

/** The SQL condition "inside the allowed areas" on `registrants.area_id`; undefined = no condition. */
export function areaCondition(allowed: AllowedAreas, column = registrants.areaId): SQL | undefined {
  if (allowed === undefined) return undefined;
  // One array parameter however many areas; an empty array matches nothing, nor does a null area.
  return sql`${column} = any(${`{${[...allowed.ids].join(',')}}`}::bigint[])`;
}

/**
 * Refuses to place a registrant (create, or change its area) outside the actor's areas: 400 on
 * `/area`. Here the actor names the area itself, so saying it is outside leaks nothing.
 */
export function assertAreaAllowed(areaId: number | null, allowed: AllowedAreas, path = '/area'): void {
  if (allowed === undefined || (areaId !== null && allowed.ids.has(areaId))) return;
  const within = `must be within your areas (${allowed.codes.join(', ')})`;
  throw AppError.validation(
    areaId === null ? 'A registrant without an area is outside your areas' : 'The area is outside your areas',
    [{ path, message: areaId === null ? `is required: ${within}` : `is outside your areas: ${within}` }],
  );
}
