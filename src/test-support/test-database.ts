import crypto from 'node:crypto';
import pg from 'pg';
import { openPglite, openPostgres, queryRows, rawSql, runMigrations, type Database } from '../platform/database/database.js';

/**
 * A migrated, empty database for one test file. By default an in-memory PGlite; when
 * TEST_DATABASE_URL is set (CI does), a freshly created PostgreSQL database on that server,
 * dropped again by `close()`, so test files can run in parallel without seeing each other.
 */
export interface TestDatabase extends Database {
  /** Empties every table (keeps the migrations), for isolation between tests of one file. */
  reset(): Promise<void>;
  /** A connection URL for this database (PostgreSQL only), e.g. for a second process. */
  url: string | undefined;
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  let database: Database;
  let url: string | undefined;
  let dropDatabase = async () => {};
  if (serverUrl) {
    const name = `cw_test_${crypto.randomBytes(6).toString('hex')}`;
    await withAdminClient(serverUrl, (client) => client.query(`create database ${name}`));
    url = withDatabaseName(serverUrl, name);
    database = await openPostgres(url, 5);
    dropDatabase = async () => {
      await withAdminClient(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    };
  } else {
    database = await openPglite();
  }
  await runMigrations(database);
  return {
    ...database,
    url,
    reset: async () => {
      const tables = await queryRows<{ tablename: string }>(
        database.db,
        rawSql`select tablename from pg_tables where schemaname = 'public'`,
      );
      const list = tables.map((t) => `"${t.tablename}"`).join(', ');
      if (list) await database.db.execute(rawSql.raw(`truncate ${list} restart identity cascade`));
    },
    close: async () => {
      await database.close();
      await dropDatabase();
    },
  };
}

function withDatabaseName(serverUrl: string, name: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function withAdminClient<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
