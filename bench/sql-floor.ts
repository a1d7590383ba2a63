import pg from 'pg';
import { loadIdentifierIndexer, type IdentifierIndexer } from './encryption.js';

// The floor: the statements the API runs for a request, sent as raw SQL through `pg` from the bench
// process, one after another as the API sends them, with nothing in between. Texts, parameters and
// row mode are those Drizzle sends (traced from the running code, see docs/PERFORMANCE.md), so
// API time − floor time is what the server adds: HTTP, auth, validation, mapping, JSON.
// Cached lookups (id types) cost the API no query and are not repeated here.

type Row = unknown[];
const query = async (pool: pg.Pool, text: string, values: unknown[]): Promise<Row[]> =>
  (await pool.query<Row>({ text, values, rowMode: 'array', ...(preparedNames.has(text) ? { name: preparedNames.get(text) } : {}) })).rows;

const placeholders = (count: number, first = 1) => Array.from({ length: count }, (_, index) => `$${first + index}`).join(', ');

const REGISTRANT_COLUMNS = ['id', 'uuid', 'kind', 'group_type', 'given_name', 'family_name', 'additional_name', 'display_name', 'name_search', 'birth_date', 'gender', 'civil_status', 'area_id', 'addresses', 'phones', 'addresses_encrypted', 'phones_encrypted', 'phone_indexes', 'email', 'has_disability', 'disability_types', 'monthly_income', 'income_currency', 'custom', 'is_active', 'deactivation_reason', 'deactivated_at', 'source_system', 'version', 'created_at', 'updated_at'];
const registrantColumns = REGISTRANT_COLUMNS.map((column) => `"${column}"`).join(', ');
const qualifiedRegistrantColumns = REGISTRANT_COLUMNS.map((column) => `"registrants"."${column}"`).join(', ');
const IDENTIFIER_COLUMNS = '"id", "registrant_id", "id_type", "value", "value_encrypted", "value_index", "is_valid", "invalid_reason", "issued_on", "expires_on", "created_at", "invalidated_at"';
const MEMBERSHIP_COLUMNS = ['id', 'uuid', 'group_id', 'individual_id', 'role', 'start_date', 'end_date', 'end_reason', 'is_active', 'created_at', 'updated_at'].map((column) => `"memberships"."${column}"`).join(', ');
const RELATIONSHIP_COLUMNS = ['id', 'uuid', 'source_id', 'target_id', 'relationship', 'start_date', 'end_date', 'created_at'].map((column) => `"relationships"."${column}"`).join(', ');
const AREA_COLUMNS = '"id", "code", "name", "kind", "parent_id", "path", "depth", "version", "created_at", "updated_at", "deactivated_at"';

// Column positions in a registrant row (row mode "array").
const ID = 0;
const AREA_ID = REGISTRANT_COLUMNS.indexOf('area_id');

/** The main statements, exported so the report can show their plans (EXPLAIN ANALYZE). */
export const statements = {
  registrantByUuid: `select ${registrantColumns} from "registrants" where ("registrants"."uuid" = $1 and "registrants"."kind" = $2)`,
  registrantByIdentifier: `select ${qualifiedRegistrantColumns} from "identifiers" inner join "registrants" on "registrants"."id" = "identifiers"."registrant_id" where ("identifiers"."id_type" = $1 and "identifiers"."is_valid" and ("identifiers"."value_index" = $2 or "identifiers"."value" = $3) and "registrants"."kind" = $4)`,
  identifiersOf: `select ${IDENTIFIER_COLUMNS} from "identifiers" where "identifiers"."registrant_id" = any($1::bigint[]) order by "identifiers"."id" asc`,
  areaCodesOf: (count: number) => `select "id", "code" from "areas" where "areas"."id" in (${placeholders(count)})`,
  membershipsOfIndividual: `select ${MEMBERSHIP_COLUMNS}, "registrants"."uuid" from "memberships" inner join "registrants" on "registrants"."id" = "memberships"."group_id" where "memberships"."individual_id" = $1 order by "memberships"."is_active" desc, "memberships"."id" asc`,
  relationshipsOf: `select ${RELATIONSHIP_COLUMNS}, "registrants"."uuid" from "relationships" inner join "registrants" on "registrants"."id" = "relationships"."target_id" where "relationships"."source_id" = $1 order by "relationships"."id" asc`,
  activeMembersOfGroup: `select ${MEMBERSHIP_COLUMNS}, "registrants"."uuid" from "memberships" inner join "registrants" on "registrants"."id" = "memberships"."individual_id" where ("memberships"."group_id" = $1 and "memberships"."is_active") order by "memberships"."is_active" desc, "memberships"."id" asc`,
  nameSearchPage: `select ${registrantColumns} from "registrants" where ("registrants"."kind" = $1 and "registrants"."name_search" like $2) order by "registrants"."id" asc limit $3`,
  areaByCode: `select ${AREA_COLUMNS} from "areas" where "areas"."code" = $1`,
  areaSubtreeIds: 'select "id" from "areas" where "areas"."path" like $1',
  areaSearchPage: (areaCount: number) => `select ${registrantColumns} from "registrants" where ("registrants"."kind" = $1 and "registrants"."area_id" in (${placeholders(areaCount, 2)})) order by "registrants"."id" asc limit $${areaCount + 2}`,
};

// Identifier values are encrypted at rest: the API finds them by blind index (HMAC of type and
// value, computed in the server), or in clear in rows from before encryption not yet converted.
// The statements the registry prepares (registry.repository.ts) run as named statements there,
// parsed and planned once per connection: so they do here, under the same names.
const preparedNames = new Map<string, string>([
  [statements.registrantByUuid, 'cw_registrant_by_uuid_kind'],
  [statements.registrantByIdentifier, 'cw_registrant_by_identifier_kind'],
  [statements.identifiersOf, 'cw_identifiers_of'],
  [statements.membershipsOfIndividual, 'cw_memberships_of'],
  [statements.relationshipsOf, 'cw_relationships_of'],
  [statements.activeMembersOfGroup, 'cw_members_of_active'],
]);

let indexer: IdentifierIndexer | undefined;
const indexerLoads = new Map<string, Promise<void>>();

async function ensureIndexer(pool: pg.Pool): Promise<void> {
  const url = (pool as unknown as { options: { connectionString: string } }).options.connectionString;
  let load = indexerLoads.get(url);
  if (!load) {
    load = loadIdentifierIndexer(url).then((loaded) => { indexer = loaded; });
    indexerLoads.set(url, load);
  }
  await load;
}

/** The parameters of `statements.registrantByIdentifier` (after a floor query has loaded the keys). */
export function identifierLookupValues(idType: string, value: string, kind: 'individual' | 'group'): unknown[] {
  return [idType, indexer ? indexer(idType, value) : null, value, kind];
}

/** What every view needs besides the rows: their identifiers and area codes (RegistryService.viewContext). */
async function viewContext(pool: pg.Pool, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const ids = rows.map((row) => row[ID]);
  await query(pool, statements.identifiersOf, [`{${ids.join(',')}}`]);
  const areaIds = [...new Set(rows.map((row) => row[AREA_ID]).filter((id) => id !== null))];
  if (areaIds.length > 0) await query(pool, statements.areaCodesOf(areaIds.length), areaIds);
}

/** GET /api/v2/Individual/:uuid — registrant, view context, memberships, relationships. */
export async function individualByUuid(pool: pg.Pool, uuid: string): Promise<number> {
  const rows = await query(pool, statements.registrantByUuid, [uuid, 'individual']);
  return individualDetails(pool, rows);
}

/** GET /api/v2/Individual/national-id|VALUE — the same, found through the identifier. */
export async function individualByIdentifier(pool: pg.Pool, idType: string, value: string): Promise<number> {
  await ensureIndexer(pool);
  const rows = await query(pool, statements.registrantByIdentifier, identifierLookupValues(idType, value, 'individual'));
  return individualDetails(pool, rows);
}

async function individualDetails(pool: pg.Pool, rows: Row[]): Promise<number> {
  const row = rows[0];
  if (!row) throw new Error('no such individual');
  await viewContext(pool, [row]);
  await query(pool, statements.membershipsOfIndividual, [row[ID]]);
  await query(pool, statements.relationshipsOf, [row[ID]]);
  return 1;
}

/** GET /api/v2/Group/household-id|VALUE — group, active members, view context. */
export async function groupWithMembers(pool: pg.Pool, idType: string, value: string): Promise<number> {
  await ensureIndexer(pool);
  const [row] = await query(pool, statements.registrantByIdentifier, identifierLookupValues(idType, value, 'group'));
  if (!row) throw new Error('no such group');
  const members = await query(pool, statements.activeMembersOfGroup, [row[ID]]);
  await viewContext(pool, [row]);
  return members.length;
}

/** GET /api/v2/Individual?name=…&_count=100 — keyset page (count + 1 rows) and its view context. */
export async function nameSearch(pool: pg.Pool, normalizedFragment: string, count: number): Promise<number> {
  const pattern = `%${normalizedFragment.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
  const rows = await query(pool, statements.nameSearchPage, ['individual', pattern, count + 1]);
  const page = rows.slice(0, count);
  await viewContext(pool, page);
  return page.length;
}

/** GET /api/v2/Individual?area=CODE&_count=100 — area, its subtree, keyset page and view context. */
export async function areaSearch(pool: pg.Pool, areaCode: string, count: number): Promise<number> {
  const [area] = await query(pool, statements.areaByCode, [areaCode]);
  if (!area) throw new Error(`no area ${areaCode}`);
  const path = area[5] as string;
  const subtree = (await query(pool, statements.areaSubtreeIds, [`${path}%`])).map((row) => row[0]);
  const rows = await query(pool, statements.areaSearchPage(subtree.length), ['individual', ...subtree, count + 1]);
  const page = rows.slice(0, count);
  await viewContext(pool, page);
  return page.length;
}

/** EXPLAIN (ANALYZE, BUFFERS) of one statement, as text lines, for the report. */
export async function explain(pool: pg.Pool, text: string, values: unknown[]): Promise<string[]> {
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>({ text: `explain (analyze, buffers) ${text}`, values });
  return rows.map((row) => row['QUERY PLAN']);
}
