import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { findJob } from '../../../platform/jobs/job-queue.js';
import { JobRunner } from '../../../platform/jobs/job-runner.js';
import { auditLog } from '../../../platform/audit/audit.tables.js';
import { jobFileChunks, jobFiles } from '../../../platform/jobs/job-files.tables.js';
import { registrants } from '../../registry/registry.tables.js';
import { IMPORT_JOB, type ImportPayload } from './import.service.js';
import type { MappingDocument } from './import.mapping.js';
import { csv, loadDemoAreas, problemsOf, runImport, startImport, testActor, xlsx } from './import.test-support.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';

const VILLAGE = 'DM01010101';
const OTHER_VILLAGE = 'DM01010102';

/** A ministry's file: its own headers, day-first dates, M/F, yes/no. */
const mapping: MappingDocument = {
  columns: {
    NID: 'identifier:national-id', 'First name': 'given_name', 'Last name': 'family_name', DOB: 'birth_date', Sex: 'gender',
    Village: 'area', Mobile: 'phone', Disabled: 'has_disability', 'Disability types': 'disability_types', Income: 'monthly_income',
    HH: 'household_id', Role: 'household_role',
  },
  defaults: { income_currency: 'PHP' },
  options: { dateFormat: 'DD/MM/YYYY' },
};
const header = ['NID', 'First name', 'Last name', 'DOB', 'Sex', 'Village', 'Mobile', 'Disabled', 'Disability types', 'Income', 'HH', 'Role'];
const people = [
  ['AB100001', 'Ana', 'Reyes', '12/04/1980', 'F', VILLAGE, '+63 917 123 4567', 'no', '', '12,500.50', 'HH-1', 'head'],
  ['AB100002', 'Ben', 'Reyes', '01/02/1978', 'M', VILLAGE, '', 'yes', 'seeing;walking', '', 'HH-1', 'spouse'],
  ['AB100003', 'Cora', 'Reyes', '30/09/2010', '2', VILLAGE, '', '', '', '', 'HH-1', 'child'],
  ['AB100004', 'Dan', 'Cruz', '05/05/1990', 'male', OTHER_VILLAGE, '', '', '', '8000', 'HH-2', 'head'],
  ['AB100005', 'Eva', 'Cruz', '06/06/1992', 'female', OTHER_VILLAGE, '', '', '', '', 'HH-2', 'spouse'],
  ['AB100006', 'Fe', 'Santos', '07/07/1950', 'F', VILLAGE, '', '', '', '', '', ''],
];

describe('registry.import job', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await loadDemoAreas(system);
  });

  const count = async () => (await system.testDatabase.db.select({ id: registrants.id }).from(registrants)).length;

  test('imports a CSV of individuals with households through a mapping', async () => {
    const job = await runImport(system, csv([header, ...people]), { request: { mappingDocument: mapping } });
    assert.equal(job.state, 'succeeded', job.error ?? '');
    const { rowsPerSecond, ...counts } = job.result as Record<string, number>;
    assert.deepEqual(counts, { rows: 6, created: 6, updated: 0, householdsCreated: 2, membershipsCreated: 5, rejected: 0 });
    assert.ok(rowsPerSecond! > 0);
    assert.deepEqual(job.progress, { done: 6, total: 6 });

    const ana = await system.services.registry.getIndividual({ actor: systemActor('test') }, 'national-id|AB100001');
    assert.equal(ana.birthDate, '1980-04-12');
    assert.equal(ana.gender, '2');
    assert.equal(ana.area, VILLAGE);
    assert.deepEqual(ana.phones, [{ value: '+639171234567' }]);
    assert.deepEqual(ana.income, { monthly: 12500.5, currency: 'PHP' });
    const ben = await system.services.registry.getIndividual({ actor: systemActor('test') }, 'national-id|AB100002');
    assert.equal(ben.gender, '1');
    assert.deepEqual(ben.disability, { hasDisability: true, types: ['seeing', 'walking'] });
    const household = await system.services.registry.getGroup({ actor: systemActor('test') }, 'household-id|HH-1');
    assert.equal(household.name, 'Household of Ana Reyes');
    const members = await system.services.registry.listMembers({ actor: systemActor('test') }, 'household-id|HH-1', false);
    assert.deepEqual(members.map((member) => member.role).sort(), ['child', 'head', 'spouse']);
    assert.equal(await count(), 8); // 6 people, 2 households
  });

  test('re-importing the same file changes nothing; a changed row is an audited update', async () => {
    const file = csv([header, ...people]);
    await runImport(system, file, { request: { mappingDocument: mapping } });
    const auditBefore = (await system.testDatabase.db.select().from(auditLog)).length;
    const again = await runImport(system, file, { request: { mappingDocument: mapping } });
    assert.equal(again.state, 'succeeded');
    assert.deepEqual({ ...again.result, rowsPerSecond: 0 }, { rows: 6, created: 0, updated: 0, householdsCreated: 0, membershipsCreated: 0, rejected: 0, rowsPerSecond: 0 });
    assert.equal((await system.testDatabase.db.select().from(auditLog)).length, auditBefore);
    assert.equal(await count(), 8);

    const changed = people.map((row) => (row[0] === 'AB100006' ? [...row.slice(0, 2), 'Santos-Lim', ...row.slice(3)] : row));
    const update = await runImport(system, csv([header, ...changed]), { request: { mappingDocument: mapping } });
    assert.deepEqual([update.result?.created, update.result?.updated], [0, 1]);
    const fe = await system.services.registry.getIndividual({ actor: systemActor('test') }, 'national-id|AB100006');
    assert.equal(fe.name.family, 'Santos-Lim');
    const audit = await system.testDatabase.db.select().from(auditLog).where(eq(auditLog.entityId, fe.id));
    const entry = audit.find((row) => row.action === 'update')!;
    assert.deepEqual([entry.before, entry.after, entry.actorId, entry.requestId], [{ familyName: 'Santos', displayName: 'Fe Santos' }, { familyName: 'Santos-Lim', displayName: 'Fe Santos-Lim' }, 'test-import', `job:${update.id}`]);
    assert.equal(await count(), 8);
  });

  test('imports the named sheet of an XLSX workbook; date and number cells become text', async () => {
    const workbook = await xlsx({
      Notes: [['This sheet is not read']],
      People: [
        ['national_id', 'given_name', 'family_name', 'birth_date', 'gender', 'area', 'household_id', 'household_role', 'monthly_income', 'income_currency'],
        ['XL200001', 'Gil', 'Tan', new Date(Date.UTC(1970, 0, 31)), '1', VILLAGE, 'HX-1', 'head', 15000, 'PHP'],
        ['XL200002', 'Hana', 'Tan', new Date(Date.UTC(1972, 11, 1)), '2', VILLAGE, 'HX-1', 'spouse', null, null],
        [],
        ['XL200003', 'Ivo', 'Lim', '1999-03-03', '1', OTHER_VILLAGE, null, null, null, null],
      ],
    });
    const columns = { national_id: 'identifier:national-id', given_name: 'given_name', family_name: 'family_name', birth_date: 'birth_date', gender: 'gender', area: 'area', household_id: 'household_id', household_role: 'household_role', monthly_income: 'monthly_income', income_currency: 'income_currency' };
    const job = await runImport(system, workbook, { fileName: 'people.xlsx', request: { mappingDocument: { columns, options: { sheet: 'People' } } } });
    assert.equal(job.state, 'succeeded', job.error ?? '');
    assert.deepEqual([job.result?.rows, job.result?.created, job.result?.householdsCreated, job.result?.rejected], [3, 3, 1, 0]);
    const gil = await system.services.registry.getIndividual({ actor: systemActor('test') }, 'national-id|XL200001');
    assert.deepEqual([gil.birthDate, gil.income], ['1970-01-31', { monthly: 15000, currency: 'PHP' }]);
    assert.equal((await system.services.registry.getIndividual({ actor: systemActor('test') }, 'national-id|XL200003')).birthDate, '1999-03-03');
  });

  test('without a mapping, headers that are field names are imported (first sheet of an XLSX)', async () => {
    const workbook = await xlsx({ Sheet1: [['identifier:national-id', 'given_name', 'family_name', 'Comment'], ['DF300001', 'Joy', 'Uy', 'ignored']] });
    const job = await runImport(system, workbook, { fileName: 'people.xlsx' });
    assert.deepEqual([job.state, job.result?.created], ['succeeded', 1]);
    assert.equal((await system.services.registry.getIndividual({ actor: systemActor('test') }, 'national-id|DF300001')).name.given, 'Joy');
  });

  test('reports each refused row with its row, column, value and reason, and writes the good rows', async () => {
    const rows = [
      header,
      ['AB400001', 'Ok', 'One', '01/01/1980', 'F', VILLAGE, '', '', '', '', '', ''], // row 2: good
      ['AB400002', 'Bad', 'Gender', '01/01/1980', 'X', VILLAGE, '', '', '', '', '', ''], // 3
      ['AB400003', 'Bad', 'Date', '31/02/1990', 'F', VILLAGE, '', '', '', '', '', ''], // 4
      ['ab-4', 'Bad', 'Format', '01/01/1980', 'F', VILLAGE, '', '', '', '', '', ''], // 5
      ['AB400001', 'Dup', 'Licate', '01/01/1980', 'F', VILLAGE, '', '', '', '', '', ''], // 6: same NID as row 2
      ['AB400007', 'Head', 'One', '01/01/1980', 'F', VILLAGE, '', '', '', '', 'HH-9', 'head'], // 7
      ['AB400008', 'Head', 'Two', '01/01/1980', 'M', VILLAGE, '', '', '', '', 'HH-9', 'head'], // 8
      ['AB400009', 'Bad', 'Income', '01/01/1980', 'F', VILLAGE, '', '', '', 'lots', '', ''], // 9
      ['AB400010', 'Ok', 'Two', '01/01/1980', 'M', VILLAGE, '', '', '', '', 'HH-8', 'head'], // 10: good
    ];
    const job = await runImport(system, csv(rows), { request: { mappingDocument: mapping } });
    assert.equal(job.state, 'succeeded');
    assert.deepEqual([job.result?.rows, job.result?.created, job.result?.rejected, job.result?.householdsCreated], [9, 2, 7, 1]);
    const problems = await problemsOf(system, job.id);
    const at = (row: number) => problems.filter((problem) => problem.row === row);
    assert.deepEqual(problems.map((problem) => problem.row), [3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(at(3)[0]!.column, 'Sex');
    assert.deepEqual(at(3)[0]!.value, 'X');
    assert.match(at(3)[0]!.reason, /"X" is not a code of vocabulary "gender"/);
    assert.deepEqual([at(4)[0]!.column, at(4)[0]!.value, at(4)[0]!.reason], ['DOB', '31/02/1990', 'is not a real calendar date']);
    assert.deepEqual([at(5)[0]!.column, at(5)[0]!.value], ['NID', '****'], 'identifier values are stored masked');
    assert.match(at(5)[0]!.reason, /does not match the national-id format/);
    assert.deepEqual([at(6)[0]!.column, at(6)[0]!.value, at(6)[0]!.reason], ['NID', 'AB***001', 'national-id AB***001 is also given in row 2']);
    for (const row of [7, 8]) {
      assert.equal(at(row)[0]!.column, 'Role');
      assert.match(at(row)[0]!.reason, /household household-id\|\*\*\*\* has 2 heads/);
    }
    assert.deepEqual([at(9)[0]!.column, at(9)[0]!.value, at(9)[0]!.reason], ['Income', 'lots', 'is not a number']);
    assert.equal(await count(), 3); // two people and the household of the second
    await assert.rejects(system.services.registry.getIndividual({ actor: systemActor('test') }, 'national-id|AB400002'));
  });

  test('a file whose mapped columns are missing, or with no identifier column, is refused before it is queued', async () => {
    await assert.rejects(startImport(system, csv([['NID', 'Name'], ['AB1', 'x']]), { request: { mappingDocument: mapping } }),
      (error: { code: string; message: string }) => error.code === 'validation_failed' && /not in the file: First name/.test(error.message));
    await assert.rejects(startImport(system, csv([['given_name', 'family_name'], ['A', 'B']])),
      (error: { code: string; message: string }) => error.code === 'validation_failed' && /identifier/.test(error.message));
    await assert.rejects(startImport(system, ''), (error: { message: string }) => /empty/.test(error.message));
    await assert.rejects(startImport(system, 'x', { request: { mapping: 'nope' } }), (error: { message: string }) => /no saved import mapping named "nope"/.test(error.message));
  });

  test('an upload cut off midway (e.g. over the size limit) leaves no file behind', async () => {
    async function* cutOff() {
      yield Buffer.alloc(3 * 1024 * 1024, 'a');
      throw Object.assign(new Error('request file too large'), { statusCode: 413 });
    }
    await assert.rejects(system.services.imports.storeUpload(testActor, Readable.from(cutOff()), { fileName: 'big.csv', contentType: 'text/csv', format: 'csv' }), /too large/);
    assert.equal((await system.testDatabase.db.select().from(jobFiles)).length, 0);
    assert.equal((await system.testDatabase.db.select().from(jobFileChunks)).length, 0);
  });

  test('resumes after a crash from the last committed batch: nothing lost, nothing written twice', async () => {
    const rows = [['identifier:national-id', 'given_name', 'family_name', 'gender', 'household_id', 'household_role']];
    for (let household = 0; household < 8; household += 1) {
      for (let member = 0; member < 3; member += 1) {
        rows.push([`RS${household}${member}0000`, `P${member}`, `F${household}`, member === 0 ? '1' : member === 1 ? '2' : 'bad', `RH-${household}`, member === 0 ? 'head' : 'child']);
      }
    }
    const job = await startImport(system, csv(rows), { batchSize: 4 });
    // A runner whose first attempt dies inside the second batch's transaction, after its checkpoint was written.
    const runner = new JobRunner({ db: system.testDatabase.db, concurrency: 1, pollIntervalMs: 10, leaseSeconds: 30, backoffMs: () => 0 });
    const checkpoints: number[] = [];
    runner.register<ImportPayload>(IMPORT_JOB, (context) => system.services.imports.runJob({
      ...context,
      reportProgress: async (done, total, checkpoint, options) => {
        await context.reportProgress(done, total, checkpoint, options);
        if (checkpoint) checkpoints.push(checkpoint.row as number);
        if (context.job.attempt === 1 && checkpoints.length === 2) throw new Error('simulated crash');
      },
    }));
    await runner.drain();
    const finished = (await findJob(system.testDatabase.db, job.id))!;
    assert.equal(finished.state, 'succeeded', finished.error ?? '');
    assert.equal(finished.attempts, 2);
    // Batches of 4 rows grow to the end of a household (6 rows): the second run starts after row 7.
    assert.deepEqual(checkpoints, [7, 13, 13, 19, 25]);
    const { rowsPerSecond, ...counts } = finished.result as Record<string, number>;
    void rowsPerSecond;
    assert.deepEqual(counts, { rows: 24, created: 16, updated: 0, householdsCreated: 8, membershipsCreated: 16, rejected: 8 });
    assert.equal(await count(), 24);
    const problems = await problemsOf(system, job.id);
    assert.equal(problems.length, 8);
    assert.equal(new Set(problems.map((problem) => problem.row)).size, 8);
    await runner.stop(0);
  });

  test('the job uses the mapping as it was when started, even if the saved mapping changes', async () => {
    await system.services.imports.mappings.create('test', { name: 'monthly', mapping });
    const job = await startImport(system, csv([header, people[5]!]), { request: { mapping: 'monthly' } });
    await system.services.imports.mappings.put('test', 'monthly', { mapping: { columns: { NID: 'identifier:national-id', 'First name': 'display_name' } } });
    await system.jobs.drain();
    assert.equal((await findJob(system.testDatabase.db, job.id))?.state, 'succeeded');
    assert.equal((await system.services.registry.getIndividual({ actor: systemActor('test') }, 'national-id|AB100006')).name.family, 'Santos');
  });
});
