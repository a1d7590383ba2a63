import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../bin/commonweal.mjs');

/** The `commonweal` command as an operator runs it, on a throwaway embedded database. */
describe('commonweal CLI', () => {
  let dataDir: string;
  const environment = () => ({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: '' });
  const commonweal = (...args: string[]) => run(process.execPath, [bin, ...args], { env: environment() });

  before(() => { dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-cli-')); });
  after(() => { fs.rmSync(dataDir, { recursive: true, force: true }); });

  test('client create --json prints the id and a one-time secret that work at the token endpoint', async () => {
    const { stdout } = await commonweal('client', 'create', '--name', 'Ministry dashboard', '--scopes', 'individual:read,group:read', '--json');
    const created = JSON.parse(stdout);
    assert.match(created.clientId, /^cw_[0-9a-f]{16}$/);
    assert.ok(created.clientSecret.length >= 40);
    assert.deepEqual(created.scopes, ['individual:read', 'group:read']);
    const { createSystem } = await import('../app.js');
    const { loadConfig } = await import('../platform/config.js');
    const system = await createSystem(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', JOB_WORKERS: '0', SEED_DEMO_DATA: 'false' }));
    try {
      const grant = await system.services.apiClients.issueToken(created.clientId, created.clientSecret);
      assert.deepEqual(grant.scopes, ['individual:read', 'group:read']);
    } finally {
      await system.close();
    }
    const { stdout: listed } = await commonweal('client', 'list', '--json');
    assert.equal(JSON.parse(listed)[0].name, 'Ministry dashboard');
  });

  test('refuses unknown scopes and bad flags with a message and exit code 2, creating nothing', async () => {
    await assert.rejects(commonweal('client', 'create', '--name', 'X', '--scopes', 'everything:please'), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /Unknown scopes: everything:please/);
      return true;
    });
    await assert.rejects(commonweal('seed', '--households', 'many'), (error: { code: number; stderr: string }) => /must be a positive integer/.test(error.stderr));
    await assert.rejects(run(process.execPath, [bin, 'migrate'], { env: { ...environment(), PORT: 'x' } }), (error: { stderr: string }) => /PORT/.test(error.stderr));
  });

  test('seed --households N shows progress and loads N deterministic households', async () => {
    const { stdout } = await commonweal('seed', '--households', '3', '--seed', '7');
    assert.match(stdout, /Seeded 3 households and \d+ individuals/);
    const again = await commonweal('seed', '--households', '3', '--seed', '7');
    assert.match(again.stdout, /Seeded 0 households/);
  });

  test('audit verify reports an intact chain, then a tampered one with exit code 1', async () => {
    const intact = JSON.parse((await commonweal('audit', 'verify', '--json')).stdout);
    assert.ok(intact.entries > 0);
    assert.deepEqual(intact.problems, []);
    const { openPglite, rawSql } = await import('../platform/database/database.js');
    const database = await openPglite(dataDir);
    try {
      await database.db.execute(rawSql`alter table audit_log disable trigger audit_log_append_only`);
      await database.db.execute(rawSql`update audit_log set actor_id = 'someone-else' where chain_position = 1`);
      await database.db.execute(rawSql`alter table audit_log enable trigger audit_log_append_only`);
    } finally {
      await database.close();
    }
    await assert.rejects(commonweal('audit', 'verify'), (error: { code: number; stdout: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stdout, /position 1 .*edited/);
      assert.match(error.stdout, /TAMPERED/);
      return true;
    });
  });

  test('a second process on the same embedded database is refused instead of corrupting it', async () => {
    const lockFile = path.join(dataDir, 'commonweal.lock');
    fs.writeFileSync(lockFile, String(process.pid));
    try {
      await assert.rejects(commonweal('migrate'), (error: { stderr: string }) => /in use by process/.test(error.stderr));
    } finally {
      fs.rmSync(lockFile);
    }
  });
});
