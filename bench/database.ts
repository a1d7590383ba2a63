import pg from 'pg';
import { DEFAULT_DEMO_SEED } from '../src/modules/demo-data/seed-registry.js';
import { demoHouseholdId } from '../src/modules/demo-data/identifiers.js';
import { loadIdentifierIndexer } from './encryption.js';

// The bench's own direct access to the database: preparing it, counting what it holds, and sampling
// keys before the run. Nothing here runs while latencies are measured.

// Same value types as the application (src/platform/database/database.ts): int8 as number, dates as text.
pg.types.setTypeParser(20, (value: string) => Number(value));
pg.types.setTypeParser(1082, (value: string) => value);

export interface DataSize {
  households: number;
  individuals: number;
}

/** The database name and a URL of the same server's `postgres` database, to create or drop it. */
function splitUrl(databaseUrl: string): { name: string; adminUrl: string } {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`${databaseUrl} names no database`);
  url.pathname = '/postgres';
  return { name, adminUrl: url.toString() };
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quoteIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Creates the database when it does not exist; `recreate` drops it first (only ever our own bench database). */
export async function ensureDatabase(databaseUrl: string, options: { recreate: boolean }): Promise<void> {
  const { name, adminUrl } = splitUrl(databaseUrl);
  await withClient(adminUrl, async (client) => {
    if (options.recreate) await client.query(`drop database if exists ${quoteIdentifier(name)} with (force)`);
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) await client.query(`create database ${quoteIdentifier(name)}`);
  });
}

/** Households and individuals on record (0 and 0 before the first migration). */
export async function countData(databaseUrl: string): Promise<DataSize> {
  return withClient(databaseUrl, async (client) => {
    const { rows: [table] } = await client.query<{ exists: boolean }>("select to_regclass('public.registrants') is not null as exists");
    if (!table?.exists) return { households: 0, individuals: 0 };
    const { rows: [counts] } = await client.query<{ households: number; individuals: number }>(
      "select count(*) filter (where kind = 'group')::int as households, count(*) filter (where kind = 'individual')::int as individuals from registrants",
    );
    return { households: counts?.households ?? 0, individuals: counts?.individuals ?? 0 };
  });
}

/**
 * True when the database holds households 0…N-1 of the demo seed, which the bench's keys are drawn
 * from. Seeding writes households in index order and finishes a cut-short run, so the last one
 * standing means all of them do.
 */
export async function holdsSeededHouseholds(databaseUrl: string, households: number): Promise<boolean> {
  const ids = [demoHouseholdId(DEFAULT_DEMO_SEED, 0), demoHouseholdId(DEFAULT_DEMO_SEED, households - 1)];
  // Identifier values are encrypted at rest: found by blind index (or in clear, in rows not yet converted).
  const indexer = await loadIdentifierIndexer(databaseUrl).catch(() => undefined);
  return withClient(databaseUrl, async (client) => {
    const { rows: [table] } = await client.query<{ exists: boolean }>("select to_regclass('public.identifiers') is not null as exists");
    if (!table?.exists) return false;
    const { rowCount } = indexer
      ? await client.query(
        "select 1 from identifiers where id_type = 'household-id' and (value_index = any($1) or value = any($2)) and is_valid",
        [ids.map((id) => indexer('household-id', id)), ids],
      )
      : await client.query("select 1 from identifiers where id_type = 'household-id' and value = any($1) and is_valid", [ids]);
    return rowCount === 2;
  });
}

export async function postgresVersion(databaseUrl: string): Promise<string> {
  return withClient(databaseUrl, async (client) => {
    const { rows: [row] } = await client.query<{ version: string }>('select version()');
    return row?.version ?? 'unknown';
  });
}

/** A uniform random sample of individuals' UUIDs, read once before the run. */
export async function sampleIndividualUuids(databaseUrl: string, size: number): Promise<string[]> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ uuid: string }>("select uuid from registrants where kind = 'individual' order by random() limit $1", [size]);
    return rows.map((row) => row.uuid);
  });
}

/** The ANALYZE the autovacuum daemon would run sooner or later, so plans do not depend on its timing. */
export async function analyzeTables(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    await client.query('analyze registrants, identifiers, memberships, relationships, areas');
  });
}

/** Process ids of the server-side backends connected to this database (to read their CPU time). */
export async function backendPids(databaseUrl: string): Promise<number[]> {
  const { name } = splitUrl(databaseUrl);
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
    return rows.map((row) => row.pid);
  });
}

/** Sizes on disk of the main tables and their indexes, for the report. */
export async function relationSizes(databaseUrl: string): Promise<Record<string, { tableBytes: number; indexBytes: number }>> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ name: string; table_bytes: number; index_bytes: number }>(
      `select relname as name, pg_table_size(oid)::bigint as table_bytes, pg_indexes_size(oid)::bigint as index_bytes
         from pg_class where relname = any($1) and relkind = 'r' order by relname`,
      [['registrants', 'identifiers', 'memberships', 'relationships', 'audit_log']],
    );
    return Object.fromEntries(rows.map((row) => [row.name, { tableBytes: Number(row.table_bytes), indexBytes: Number(row.index_bytes) }]));
  });
}

/**
 * Audit entries not yet sealed into the hash chain (src/platform/audit/audit-chain.ts); undefined
 * when this build has no chain. A bulk seed or import leaves one entry per record written, which
 * the server's sealer then works through in the background.
 */
export async function unsealedAuditEntries(databaseUrl: string): Promise<number | undefined> {
  return withClient(databaseUrl, async (client) => {
    const { rowCount } = await client.query("select 1 from information_schema.columns where table_name = 'audit_log' and column_name = 'entry_hash'");
    if (rowCount === 0) return undefined;
    const { rows: [row] } = await client.query<{ count: number }>('select count(*)::int as count from audit_log where entry_hash is null');
    return row?.count ?? 0;
  });
}

/** The advisory lock the server's audit sealer takes per batch (SEAL_LOCK_KEY in src/platform/audit/audit-chain.ts). */
const AUDIT_SEAL_LOCK_KEY = 727_001;

/**
 * Holds the audit sealer's lock, so the server's sealer (which tries the lock and skips when another
 * process holds it) stays idle while latencies are measured. Waits for a batch in progress to end.
 */
export async function pauseAuditSealer(databaseUrl: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("set statement_timeout = '120s'");
    await client.query('select pg_advisory_lock($1)', [AUDIT_SEAL_LOCK_KEY]);
  } catch (error) {
    await client.end();
    throw error;
  }
  return async () => {
    await client.query('select pg_advisory_unlock($1)', [AUDIT_SEAL_LOCK_KEY]).catch(() => {});
    await client.end();
  };
}
