import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rawSql, queryRows } from '../database/database.js';
import { openTestDatabase, type TestDatabase } from '../../test-support/test-database.js';
import { recordAudit, recordAuditBulk, type RequestContext } from './audit.js';
import { sealAuditLog, verifyAuditChain } from './audit-chain.js';
import { systemActor } from '../auth/access-tokens.js';

const context: RequestContext = { actor: systemActor('test'), requestId: 'r-1' };

describe('tamper-evident audit log', () => {
  let database: TestDatabase;
  before(async () => { database = await openTestDatabase(); });
  after(async () => { await database.close(); });
  beforeEach(async () => {
    await database.reset();
    for (let index = 0; index < 5; index += 1) {
      await recordAudit(database.db, context, { action: 'update', entityType: 'individual', entityId: `p-${index}`, before: { name: 'Ana' }, after: { name: `Ana ${index}`, note: 'José' } });
    }
    await recordAuditBulk(database.db, context, [{ action: 'create', entityType: 'group', entityId: 'g-1', after: { size: 3 } }]);
  });

  test('seals committed entries into a chain that verifies; new entries extend it', async () => {
    assert.equal(await sealAuditLog(database.db, { settleSeconds: 0 }), 6);
    assert.equal(await sealAuditLog(database.db, { settleSeconds: 0 }), 0, 'nothing sealed twice');
    const first = await verifyAuditChain(database.db);
    assert.deepEqual([first.entries, first.headPosition, first.problems], [6, 6, []]);
    await recordAudit(database.db, context, { action: 'deactivate', entityType: 'individual', entityId: 'p-9', after: { isActive: false } });
    assert.equal(await sealAuditLog(database.db, { settleSeconds: 0 }), 1);
    const second = await verifyAuditChain(database.db);
    assert.deepEqual([second.entries, second.problems.length], [7, 0]);
    assert.notEqual(second.headHash, first.headHash);
  });

  test('fresh entries wait for the settle time before sealing', async () => {
    assert.equal(await sealAuditLog(database.db, { settleSeconds: 3600 }), 0);
  });

  test('the database refuses to delete entries or change them', async () => {
    await sealAuditLog(database.db, { settleSeconds: 0 });
    const appendOnly = (error: unknown) => /append-only/.test(String((error as { cause?: Error }).cause?.message ?? error));
    await assert.rejects(database.db.execute(rawSql`delete from audit_log where entity_id = 'p-1'`), appendOnly);
    await assert.rejects(database.db.execute(rawSql`update audit_log set after = '{"name":"Eve"}' where entity_id = 'p-1'`), appendOnly);
    await assert.rejects(database.db.execute(rawSql`update audit_log set entry_hash = 'x' where entity_id = 'p-1'`), appendOnly);
  });

  test('an edit or a deletion made around the trigger is detected by verify', async () => {
    await sealAuditLog(database.db, { settleSeconds: 0 });
    await database.db.execute(rawSql`alter table audit_log disable trigger audit_log_append_only`);
    try {
      await database.db.execute(rawSql`update audit_log set after = '{"name":"Eve"}' where entity_id = 'p-1'`);
      await database.db.execute(rawSql`delete from audit_log where entity_id = 'p-3'`);
    } finally {
      await database.db.execute(rawSql`alter table audit_log enable trigger audit_log_append_only`);
    }
    const result = await verifyAuditChain(database.db);
    const [edited] = await queryRows<{ chain_position: number }>(database.db, rawSql`select chain_position from audit_log where entity_id = 'p-1'`);
    assert.ok(result.problems.some((problem) => problem.position === Number(edited!.chain_position) && /edited/.test(problem.problem)), JSON.stringify(result.problems));
    assert.ok(result.problems.some((problem) => /missing \(deleted\)/.test(problem.problem)), JSON.stringify(result.problems));
  });
});
