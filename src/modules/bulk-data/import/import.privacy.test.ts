import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { and, eq } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { systemActor, type Actor } from '../../../platform/auth/access-tokens.js';
import { rawSql } from '../../../platform/database/database.js';
import { auditLog } from '../../../platform/audit/audit.tables.js';
import type { MappingDocument } from './import.mapping.js';
import { csv, loadDemoAreas, problemsOf, runImport } from './import.test-support.js';

// Imports by area-limited writers (local users, area-bound clients), and what the problem report keeps.

const VILLAGE = 'DM01010101';
const OTHER_VILLAGE = 'DM01010102';
const officer = { actor: systemActor('test') };
const mapping: MappingDocument = {
  columns: { NID: 'identifier:national-id', 'First name': 'given_name', Village: 'area', Mobile: 'phone', HH: 'household_id', Role: 'household_role' },
};
const header = ['NID', 'First name', 'Village', 'Mobile', 'HH', 'Role'];
/** A registrar bound to one village, as a local role gives it (every permission limited to it). */
const localRegistrar: Actor = {
  type: 'user', id: 'local-registrar', scopes: new Set(['individual:read', 'individual:write', 'group:read', 'group:write']),
  areaLimits: new Map([['*', [VILLAGE]]]),
};

describe('Import: area scoping and the problem report', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await loadDemoAreas(system);
  });

  test('a local writer creates and updates only inside its areas; rows outside get one problem and write nothing', async () => {
    const zed = await system.services.registry.createIndividual(officer, { name: { given: 'Zed' }, area: OTHER_VILLAGE, identifiers: [{ type: 'national-id', value: 'AB900001' }] });
    const inside = await system.services.registry.createIndividual(officer, { name: { given: 'Ina' }, area: VILLAGE, identifiers: [{ type: 'national-id', value: 'AB900002' }] });
    const head = await system.services.registry.createIndividual(officer, { name: { given: 'Oto' }, area: OTHER_VILLAGE, identifiers: [{ type: 'national-id', value: 'AB900003' }] });
    await system.services.registry.createGroup(officer, { name: 'Far household', groupType: 'household', area: OTHER_VILLAGE, identifiers: [{ type: 'household-id', value: 'HH-FAR' }], members: [{ individual: head.id, role: 'head' }] });

    const job = await runImport(system, csv([
      header,
      ['AB100001', 'Ana', VILLAGE, '', '', ''], // 2: new, inside
      ['AB100002', 'Ben', OTHER_VILLAGE, '', '', ''], // 3: new, outside
      ['AB900001', 'Zed renamed', VILLAGE, '', '', ''], // 4: matches Zed, who lives outside
      ['AB900002', 'Ina renamed', VILLAGE, '', '', ''], // 5: matches Ina, inside: updated
      ['AB100005', 'Cy', VILLAGE, '', 'HH-FAR', 'child'], // 6: joins a household outside
      ['AB100006', 'Di', '', '', '', ''], // 7: no area at all
    ]), { request: { mappingDocument: mapping }, actor: localRegistrar });
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    assert.deepEqual([job.result?.created, job.result?.updated, job.result?.rejected, job.result?.membershipsCreated], [1, 1, 4, 0]);
    const problems = await problemsOf(system, job.id);
    assert.deepEqual(problems.map((problem) => problem.row), [3, 4, 6, 7]);
    for (const problem of problems) assert.match(problem.reason, /area outside your scope/);
    assert.ok(problems.every((problem) => !problem.reason.includes(zed.id) && !problem.reason.includes('Zed') && !problem.reason.includes(OTHER_VILLAGE)),
      'the refusal names no record and no area');

    const zedNow = await system.services.registry.getIndividual(officer, zed.id);
    assert.deepEqual([zedNow.name.given, zedNow.area, zedNow.version], ['Zed', OTHER_VILLAGE, 1], 'untouched');
    assert.equal((await system.services.registry.getIndividual(officer, inside.id)).name.given, 'Ina renamed');
    await assert.rejects(system.services.registry.getIndividual(officer, 'national-id|AB100002'));
    await assert.rejects(system.services.registry.getIndividual(officer, 'national-id|AB100005'));
    const touchedOutside = await system.testDatabase.db.select().from(auditLog)
      .where(and(eq(auditLog.actorId, 'local-registrar'), eq(auditLog.entityId, zed.id)));
    assert.deepEqual(touchedOutside, []);
    const farHousehold = await system.services.registry.getGroup(officer, 'household-id|HH-FAR');
    assert.equal(farHousehold.size, 1);

    // The same file by a national registrar writes every row.
    const national = await runImport(system, csv([header, ['AB100002', 'Ben', OTHER_VILLAGE, '', '', '']]), { request: { mappingDocument: mapping } });
    assert.equal(national.result?.created, 1);
  });

  test('the problem report stores identifier and phone values masked, in the value and in the reason', async () => {
    const job = await runImport(system, csv([
      header,
      ['AB400001', 'Ok', VILLAGE, '+63 917 123 4567', '', ''], // 2: good
      ['AB400001', 'Dup', VILLAGE, '', '', ''], // 3: same NID as row 2
      ['ab-4', 'Bad format', VILLAGE, '', '', ''], // 4: national-id format
      ['AB400005', 'Bad phone', VILLAGE, '+63 1', '', ''], // 5: not a phone number
      ['AB400006', 'Two heads', VILLAGE, '', 'HH-SECRET-77', 'head'], // 6
      ['AB400007', 'Two heads', VILLAGE, '', 'HH-SECRET-77', 'head'], // 7
    ]), { request: { mappingDocument: mapping } });
    assert.equal(job.state, 'succeeded');
    const problems = await problemsOf(system, job.id);
    const at = (row: number) => problems.find((problem) => problem.row === row)!;
    assert.deepEqual([at(3).column, at(3).value, at(3).reason], ['NID', 'AB***001', 'national-id AB***001 is also given in row 2']);
    assert.deepEqual([at(4).column, at(4).value], ['NID', '****']);
    assert.deepEqual([at(5).column, at(5).value], ['Mobile', '***']);
    assert.match(at(6).reason, /household-id\|HH\*+-77/);

    const stored = await system.testDatabase.db.execute(rawSql`select coalesce(value, '') || ' ' || reason as text from import_row_problems`);
    const text = JSON.stringify(stored);
    for (const secret of ['AB400001', 'ab-4', '+63 1', 'HH-SECRET-77']) assert.ok(!text.includes(secret), `the raw column must not hold ${secret}`);
  });
});
