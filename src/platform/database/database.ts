import fs from 'node:fs';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { sql, type ExtractTablesWithRelations, type SQL } from 'drizzle-orm';
import pg from 'pg';
import * as schema from './schema.js';
import { transactionAware } from './transaction-context.js';

export type Schema = typeof schema;
/** One typed database handle, the same on PGlite and on PostgreSQL. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that runs queries: the database or an open transaction. */
export type Queryable = Db | Tx;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Runs `work` while holding a session-level advisory lock (PostgreSQL; PGlite has one connection anyway). */
  withExclusiveLock<T>(key: number, work: () => Promise<T>): Promise<T>;
  /** Pool statistics for /metrics (PostgreSQL only). */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  close(): Promise<void>;
}

export const migrationsFolder = path.resolve(import.meta.dirname, '../../../migrations');

// Same value types from both drivers: int8 as number (our ids stay far below 2^53), dates as 'YYYY-MM-DD'.
const INT8 = 20;
const DATE = 1082;

export async function openPostgres(url: string, poolSize = 10): Promise<Database> {
  // Drizzle's node-postgres driver consults pg's global parsers, so they are set process-wide.
  pg.types.setTypeParser(INT8, (value: string) => Number(value));
  pg.types.setTypeParser(DATE, (value: string) => value);
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => { /* an idle client died; the pool replaces it */ });
  const db = transactionAware(drizzlePostgres(pool, { schema }) as unknown as Db);
  return {
    db,
    kind: 'postgres',
    withExclusiveLock: async (key, work) => {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [key]);
        return await work();
      } finally {
        await client.query('select pg_advisory_unlock($1)', [key]).catch(() => undefined);
        client.release();
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
}

/**
 * Embedded PostgreSQL (WASM). `dataDir` undefined = in memory (tests). PGlite takes no lock of its
 * own, and two processes on one directory corrupt it, so we hold a lock file while open.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  let releaseLock = () => {};
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true });
    releaseLock = takeDirectoryLock(dataDir);
  }
  const client = await PGlite.create({
    dataDir,
    extensions: { pg_trgm },
    parsers: { [pgliteTypes.INT8]: (value: string) => Number(value), [DATE]: (value: string) => value },
  });
  const db = transactionAware(drizzlePglite(client, { schema }) as unknown as Db);
  return {
    db,
    kind: 'pglite',
    withExclusiveLock: (_key, work) => work(),
    poolStats: () => undefined,
    close: async () => {
      await client.close();
      releaseLock();
    },
  };
}

export async function openDatabase(options: { databaseUrl?: string; dataDir?: string; poolSize?: number }): Promise<Database> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolSize)
    : openPglite(options.dataDir);
}

/** Any 64-bit number unique to this purpose: processes starting together migrate one at a time. */
const MIGRATION_LOCK_KEY = 727_002;

export async function runMigrations(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    await migratePglite(database.db as never, { migrationsFolder });
  } else {
    await database.withExclusiveLock(MIGRATION_LOCK_KEY, () => migratePostgres(database.db as never, { migrationsFolder }));
  }
}

/** True when every migration shipped with this build has been applied. */
export async function migrationsAreApplied(db: Queryable): Promise<boolean> {
  const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  try {
    const rows = await queryRows<{ count: number }>(db, sql`select count(*)::int as count from drizzle.__drizzle_migrations`);
    return (rows[0]?.count ?? 0) >= journal.entries.length;
  } catch {
    return false; // the migrations table does not exist yet
  }
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function queryRows<T>(db: Queryable, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export { sql as rawSql } from 'drizzle-orm';

function takeDirectoryLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'commonweal.lock');
  const tryCreate = () => fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
  try {
    tryCreate();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number(fs.readFileSync(lockPath, 'utf8'));
    if (holder && isProcessAlive(holder)) {
      throw new Error(`The embedded database in ${dataDir} is in use by process ${holder}. Stop it first, or set DATABASE_URL to share a PostgreSQL server between processes.`, { cause: error });
    }
    fs.rmSync(lockPath, { force: true }); // left behind by a process that died
    tryCreate();
  }
  return () => fs.rmSync(lockPath, { force: true });
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
