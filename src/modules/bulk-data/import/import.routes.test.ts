import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { jobFiles } from '../../../platform/jobs/job-files.tables.js';
import { jobs } from '../../../platform/jobs/jobs.tables.js';
import { csv, loadDemoAreas } from './import.test-support.js';

type Part = { name: string; value: string | Buffer; fileName?: string; contentType?: string };

/** A multipart/form-data body, as a browser or curl -F sends it. */
function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----commonweal-test-boundary';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.fileName ? `; filename="${part.fileName}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.fileName ? `Content-Type: ${part.contentType ?? 'text/csv'}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(part.value) ? part.value : Buffer.from(part.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const mapping = { columns: { NID: 'identifier:national-id', Given: 'given_name', Family: 'family_name', HH: 'household_id', Role: 'household_role' } };
const file = csv([
  ['NID', 'Given', 'Family', 'HH', 'Role'],
  ['AP000001', 'Ana', 'Reyes', 'H-1', 'head'],
  ['AP000002', 'Ben', 'Reyes', 'H-1', 'spouse'],
  ['bad id', 'Cid', 'Reyes', 'H-1', 'child'],
]);

describe('Import API: /api/v2/$import and /api/v2/ImportMapping', () => {
  let system: TestSystem;
  let importer: { authorization: string };
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    await loadDemoAreas(system);
    importer = await system.authAs('individual:write', 'group:write', 'job:read');
  });

  const upload = (parts: Part[], headers: Record<string, string> = importer) => {
    const body = multipart(parts);
    return system.http.inject({ method: 'POST', url: '/api/v2/$import', headers: { ...headers, ...body.headers }, payload: body.payload });
  };
  const storedFiles = async () => (await system.testDatabase.db.select().from(jobFiles)).length;

  test('multipart upload → 202 with the job → the job succeeds → the creator downloads the problems CSV', async () => {
    const response = await upload([{ name: 'mappingDocument', value: JSON.stringify(mapping) }, { name: 'file', value: file, fileName: 'people.csv' }]);
    assert.equal(response.statusCode, 202, response.body);
    const accepted = response.json();
    assert.equal(response.headers.location, `/api/v2/Job/${accepted.id}`);
    assert.deepEqual([accepted.type, accepted.state], ['registry.import', 'queued']);

    await system.jobs.drain();
    const job = (await system.http.inject({ method: 'GET', url: response.headers.location as string, headers: importer })).json();
    assert.equal(job.state, 'succeeded');
    assert.deepEqual([job.result.rows, job.result.created, job.result.householdsCreated, job.result.membershipsCreated, job.result.rejected], [3, 2, 1, 2, 1]);
    const [file1] = await system.testDatabase.db.select().from(jobFiles);
    assert.equal(file1?.purpose, 'import');
    assert.ok(file1?.jobId, 'the upload belongs to its job');

    const report = await system.http.inject({ method: 'GET', url: `/api/v2/$import/${accepted.id}/problems.csv`, headers: importer });
    assert.equal(report.statusCode, 200);
    assert.match(String(report.headers['content-type']), /^text\/csv/);
    assert.match(String(report.headers['content-disposition']), /attachment; filename="import-.*-problems\.csv"/);
    const rows = parse(report.body) as string[][];
    assert.deepEqual(rows[0], ['row', 'column', 'value', 'reason']);
    assert.deepEqual(rows.slice(1).map((row) => row.slice(0, 3)), [['4', 'NID', 'b****d']], 'identifier values are stored masked');
    assert.match(rows[1]![3]!, /national-id format/);

    // Anyone else — even with the same scopes — learns nothing: 404.
    const other = await system.authAs('individual:write', 'group:write');
    assert.equal((await system.http.inject({ method: 'GET', url: `/api/v2/$import/${accepted.id}/problems.csv`, headers: other })).statusCode, 404);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/$import/00000000-0000-4000-8000-000000000000/problems.csv', headers: importer })).statusCode, 404);
  });

  test('a saved mapping by name; the mapping field may come after the file', async () => {
    const saved = await system.http.inject({ method: 'POST', url: '/api/v2/ImportMapping', headers: importer, payload: { name: 'ministry-monthly', mapping } });
    assert.equal(saved.statusCode, 201, saved.body);
    const response = await upload([{ name: 'file', value: file, fileName: 'people.csv' }, { name: 'mapping', value: 'ministry-monthly' }]);
    assert.equal(response.statusCode, 202, response.body);
    await system.jobs.drain();
    const [row] = await system.testDatabase.db.select().from(jobs);
    assert.deepEqual([row?.state, (row?.payload as { mappingName: string }).mappingName], ['succeeded', 'ministry-monthly']);
  });

  test('refusals: unknown mapping 400, wrong file type 415, empty file 400, no file 400 — and no file is left behind', async () => {
    const unknown = await upload([{ name: 'file', value: file, fileName: 'people.csv' }, { name: 'mapping', value: 'no-such-mapping' }]);
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.json().detail, /no saved import mapping named "no-such-mapping"/);
    const first = await upload([{ name: 'mapping', value: 'no-such-mapping' }, { name: 'file', value: file, fileName: 'people.csv' }]);
    assert.equal(first.statusCode, 400);
    const badDocument = await upload([{ name: 'mappingDocument', value: JSON.stringify({ columns: { NID: 'national_idd' } }) }, { name: 'file', value: file, fileName: 'people.csv' }]);
    assert.equal(badDocument.statusCode, 400);
    assert.match(badDocument.json().errors[0].message, /"national_idd" is not a field/);

    const pdf = await upload([{ name: 'file', value: '%PDF-1.4', fileName: 'people.pdf', contentType: 'application/pdf' }]);
    assert.equal(pdf.statusCode, 415);
    assert.equal(pdf.headers['content-type'], 'application/problem+json; charset=utf-8');
    const json = await system.http.inject({ method: 'POST', url: '/api/v2/$import', headers: importer, payload: { file: 'x' } });
    assert.equal(json.statusCode, 415);

    const empty = await upload([{ name: 'file', value: '', fileName: 'people.csv' }]);
    assert.equal(empty.statusCode, 400);
    assert.match(empty.json().detail, /empty/);
    const none = await upload([{ name: 'mapping', value: 'x' }]);
    assert.equal(none.statusCode, 400);
    const missingColumns = await upload([{ name: 'mappingDocument', value: JSON.stringify(mapping) }, { name: 'file', value: 'NID,Given\nAP1,A\n', fileName: 'people.csv' }]);
    assert.equal(missingColumns.statusCode, 400);
    assert.match(missingColumns.json().detail, /not in the file: Family, HH, Role/);

    assert.equal(await storedFiles(), 0);
    assert.equal((await system.testDatabase.db.select().from(jobs)).length, 0);
  });

  test('permissions: 401 without a token, 403 without individual:write, 403 for households without group:write', async () => {
    assert.equal((await upload([{ name: 'file', value: file, fileName: 'people.csv' }], {})).statusCode, 401);
    const reader = await system.authAs('individual:read', 'group:write');
    assert.equal((await upload([{ name: 'file', value: file, fileName: 'people.csv' }], reader)).statusCode, 403);
    const noGroups = await system.authAs('individual:write');
    const refused = await upload([{ name: 'mappingDocument', value: JSON.stringify(mapping) }, { name: 'file', value: file, fileName: 'people.csv' }], noGroups);
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().detail, /group:write/);
    assert.equal(await storedFiles(), 0);
    // Without household columns individual:write is enough.
    const individualsOnly = await upload([{ name: 'file', value: csv([['identifier:national-id', 'given_name'], ['AP000009', 'Ida']]), fileName: 'people.csv' }], noGroups);
    assert.equal(individualsOnly.statusCode, 202);
    for (const url of ['/api/v2/ImportMapping', '/api/v2/ImportMapping/x']) {
      assert.equal((await system.http.inject({ method: 'GET', url })).statusCode, 401);
      assert.equal((await system.http.inject({ method: 'GET', url, headers: reader })).statusCode, 403);
    }
  });

  test('saved mappings: create, read, list, replace (version), validation and conflicts', async () => {
    const create = (payload: unknown) => system.http.inject({ method: 'POST', url: '/api/v2/ImportMapping', headers: importer, payload: payload as object });
    const created = await create({ name: 'm1', description: 'Monthly file', mapping: { ...mapping, defaults: { household_role: 'other' }, options: { dateFormat: 'DD/MM/YYYY' } } });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers.location, '/api/v2/ImportMapping/m1');
    assert.equal(created.json().version, 1);
    assert.equal((await create({ name: 'm1', mapping })).statusCode, 409);

    const read = await system.http.inject({ method: 'GET', url: '/api/v2/ImportMapping/m1', headers: importer });
    assert.deepEqual([read.statusCode, read.json().description, read.json().mapping.options], [200, 'Monthly file', { dateFormat: 'DD/MM/YYYY' }]);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/ImportMapping/nope', headers: importer })).statusCode, 404);

    const replaced = await system.http.inject({ method: 'PUT', url: '/api/v2/ImportMapping/m1', headers: importer, payload: { mapping: { columns: { ID: 'identifier:passport' } } } });
    assert.deepEqual([replaced.statusCode, replaced.json().version, replaced.json().mapping], [200, 2, { columns: { ID: 'identifier:passport' } }]);
    const put = await system.http.inject({ method: 'PUT', url: '/api/v2/ImportMapping/m2', headers: importer, payload: { mapping } });
    assert.deepEqual([put.statusCode, put.headers.location], [201, '/api/v2/ImportMapping/m2']);
    const list = await system.http.inject({ method: 'GET', url: '/api/v2/ImportMapping', headers: importer });
    assert.deepEqual(list.json().map((entry: { name: string }) => entry.name), ['m1', 'm2']);

    const invalid = [
      { mapping: { columns: { A: 'shoe_size', B: 'identifier:national-id' } }, error: /"shoe_size" is not a field/ },
      { mapping: { columns: { A: 'identifier:tax-number' } }, error: /"tax-number" is not an identifier type/ },
      { mapping: { columns: { A: 'given_name' } }, error: /at least one column to identifier/ },
      { mapping: { columns: { A: 'given_name', B: 'given_name', C: 'identifier:national-id' } }, error: /already mapped from column "A"/ },
      { mapping: { columns: { A: 'identifier:national-id' }, defaults: { has_disability: 'maybe' } }, error: /true\/false/ },
      { mapping: { columns: { A: 'identifier:national-id' }, defaults: { bogus: 'x' } }, error: /"bogus" is not a field/ },
      { mapping: { columns: { A: 'identifier:national-id' }, options: { dateFormat: 'YY/MM/DD' } }, error: /dateFormat/ },
    ];
    for (const [index, { mapping: document, error }] of invalid.entries()) {
      const response = await create({ name: `bad${index}`, mapping: document });
      assert.equal(response.statusCode, 400, `${index}: ${response.body}`);
      const problem = response.json() as { detail: string; errors?: Array<{ message: string }> };
      assert.match([problem.detail, ...(problem.errors ?? []).map((field) => field.message)].join(' '), error, `${index}`);
    }
    assert.equal((await create({ name: 'has space', mapping })).statusCode, 400);
  });
});
