import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { migrationsAreApplied, migrationsFolder, openPostgres, queryRows, rawSql, runMigrations } from './database.js';
import { openTestDatabase, type TestDatabase } from '../../test-support/test-database.js';

// Runs on PGlite by default and on PostgreSQL when TEST_DATABASE_URL is set: CI does both.
describe(`migrations (${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let database: TestDatabase;
  before(async () => { database = await openTestDatabase(); });
  after(async () => { await database.close(); });

  test('every migration in the journal is applied and the tables exist', async () => {
    assert.equal(await migrationsAreApplied(database.db), true);
    const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    const applied = await queryRows<{ count: number }>(database.db, rawSql`select count(*)::int as count from drizzle.__drizzle_migrations`);
    assert.equal(applied[0]?.count, journal.entries.length);
    const tables = (await queryRows<{ tablename: string }>(database.db, rawSql`select tablename from pg_tables where schemaname = 'public' order by 1`)).map((row) => row.tablename);
    for (const table of ['registrants', 'identifiers', 'memberships', 'relationships', 'areas', 'vocabularies', 'vocabulary_codes', 'audit_log', 'jobs', 'api_clients', 'signing_keys', 'idempotency_keys', 'encryption_keys']) {
      assert.ok(tables.includes(table), `${table} exists`);
    }
  });

  test('running the migrations again changes nothing', async () => {
    await runMigrations(database);
    const applied = await queryRows<{ count: number }>(database.db, rawSql`select count(*)::int as count from drizzle.__drizzle_migrations`);
    const journal = JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    assert.equal(applied[0]?.count, journal.entries.length);
  });

  test('the registry invariants are enforced by the database itself', async () => {
    await database.reset();
    await database.db.execute(rawSql`insert into registrants (id, uuid, kind, display_name, name_search) values
      (1, gen_random_uuid(), 'group', 'G', 'g'), (2, gen_random_uuid(), 'individual', 'A', 'a'), (3, gen_random_uuid(), 'individual', 'B', 'b')`);
    await database.db.execute(rawSql`insert into memberships (uuid, group_id, individual_id, role, start_date) values (gen_random_uuid(), 1, 2, 'head', '2020-01-01')`);
    await assert.rejects(database.db.execute(rawSql`insert into memberships (uuid, group_id, individual_id, role, start_date) values (gen_random_uuid(), 1, 3, 'head', '2020-01-01')`), 'a second active head');
    await assert.rejects(database.db.execute(rawSql`insert into memberships (uuid, group_id, individual_id, role, start_date) values (gen_random_uuid(), 1, 2, 'child', '2020-01-01')`), 'the same individual twice');
    await database.db.execute(rawSql`insert into identifiers (registrant_id, id_type, value) values (2, 'national-id', 'X1')`);
    await assert.rejects(database.db.execute(rawSql`insert into identifiers (registrant_id, id_type, value) values (3, 'national-id', 'X1')`), 'a second live identifier');
    await database.db.execute(rawSql`update identifiers set is_valid = false where value = 'X1'`);
    await database.db.execute(rawSql`insert into identifiers (registrant_id, id_type, value) values (3, 'national-id', 'X1')`);
    // Encrypted identifiers: one live row per (type, blind index).
    await database.db.execute(rawSql`insert into identifiers (registrant_id, id_type, value_encrypted, value_index) values (2, 'passport', 'v1:1:a:b', 'index-1')`);
    await assert.rejects(database.db.execute(rawSql`insert into identifiers (registrant_id, id_type, value_encrypted, value_index) values (3, 'passport', 'v1:1:c:d', 'index-1')`), 'a second live identifier by blind index');
  });

  // PostgreSQL only: PGlite is single-process (a lock file keeps a second process out: see cli.test.ts).
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) test('several processes starting together on an empty PostgreSQL migrate one at a time, without errors', async (t) => {
    const name = `cw_migrate_${crypto.randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const processes = await Promise.all([1, 2, 3].map(() => openPostgres(url.toString(), 2)));
    try {
      await Promise.all(processes.map((each) => runMigrations(each)));
      for (const each of processes) assert.equal(await migrationsAreApplied(each.db), true);
    } finally {
      await Promise.all(processes.map((each) => each.close()));
      await admin.query(`drop database ${name} with (force)`);
      await admin.end();
      t.diagnostic('three concurrent migrators succeeded');
    }
  });
});
