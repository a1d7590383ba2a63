import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { eq } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { systemActor, type Actor } from '../../../platform/auth/access-tokens.js';
import { JobLostError, PermanentJobError, type JobContext } from '../../../platform/jobs/job-runner.js';
import { jobs } from '../../../platform/jobs/jobs.tables.js';
import { jobFiles } from '../../../platform/jobs/job-files.tables.js';
import { findJobFile, openJobFileStream } from '../../../platform/jobs/job-files.js';
import { seedRegistry } from '../../demo-data/seed-registry.js';
import { ExportService, type ExportRequest } from './export.service.js';

type Row = Record<string, string>;

/** A Writable that keeps what it is given, as text. */
function collector(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  const stream = new Writable({ write(chunk: Buffer, _encoding, callback) { parts.push(chunk); callback(); } });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

describe('ExportService: CSV of every match of a search', () => {
  let system: TestSystem;
  const actor = systemActor('test');
  let special: string;

  const exportText = async (request: ExportRequest, service = system.services.exports, who: Actor = actor) => {
    const out = collector();
    const result = await service.writeCsv(who, request, out.stream);
    return { ...result, text: out.text() };
  };
  const exportRows = async (request: ExportRequest) => parse((await exportText(request)).text, { columns: true }) as Row[];
  const searchTotal = async (kind: 'Individual' | 'Group', query: Record<string, string> = {}) => {
    const page = kind === 'Individual'
      ? await system.services.registry.searchIndividuals({ actor }, { ...query, _total: 'accurate' }, 'http://x')
      : await system.services.registry.searchGroups({ actor }, { ...query, _total: 'accurate' }, 'http://x');
    return page.total!;
  };

  before(async () => {
    system = await createTestSystem();
    await seedRegistry(system.services, { households: 15, seed: 11 });
    const created = await system.services.registry.createIndividual({ actor }, {
      name: { given: 'Ana "Annie", Jr.', family: 'Núñez-Peña', additional: 'first line\nsecond line' },
      birthDate: '1990-02-03',
      gender: '2',
      area: 'DM01',
      phones: [{ value: '+63 917 123 4567' }, { value: '+63 917 000 0000' }],
      email: 'ana@example.org',
      disability: { hasDisability: true, types: ['seeing', 'hearing'] },
      income: { monthly: 1234.5, currency: 'PHP' },
      identifiers: [{ type: 'national-id', value: 'AB1234567' }, { type: 'household-id', value: 'X,1' }],
    });
    special = created.id;
  });
  after(async () => { await system?.close(); });

  test('individuals: the header, one row per match, each id once', async () => {
    const { text, rows, total } = await exportText({ resourceType: 'Individual' });
    assert.equal(text.split('\n')[0], 'id,given_name,family_name,additional_name,display_name,birth_date,gender,civil_status,area,phones,email,has_disability,disability_types,monthly_income,income_currency,identifiers,households,is_active,version,updated_at');
    const parsed = parse(text, { columns: true }) as Row[];
    const expected = await searchTotal('Individual');
    assert.ok(expected > 40);
    assert.deepEqual([parsed.length, rows, total], [expected, expected, expected]);
    assert.equal(new Set(parsed.map((row) => row.id)).size, expected);
  });

  test('commas, quotes, newlines and accents survive the round trip; lists are ;-joined', async () => {
    const { text } = await exportText({ resourceType: 'Individual', search: { name: 'nunez-pena' } });
    assert.ok(text.includes('"Ana ""Annie"", Jr."'), 'quotes doubled and the field quoted');
    const [row, ...rest] = parse(text, { columns: true }) as Row[];
    assert.equal(rest.length, 0);
    assert.deepEqual(row, {
      id: special, given_name: 'Ana "Annie", Jr.', family_name: 'Núñez-Peña', additional_name: 'first line\nsecond line',
      display_name: row!.display_name, birth_date: '1990-02-03', gender: '2', civil_status: '', area: 'DM01',
      phones: '+639171234567', email: 'ana@example.org', has_disability: 'true', disability_types: 'seeing;hearing',
      monthly_income: '1234.5', income_currency: 'PHP', identifiers: 'national-id|AB1234567;household-id|X,1', households: '',
      is_active: 'true', version: '1', updated_at: row!.updated_at,
    });
    assert.match(row!.display_name!, /Ana "Annie", Jr\..*Núñez-Peña/s);
    assert.ok(!Number.isNaN(Date.parse(row!.updated_at!)));
  });

  test('honours filters: accent-insensitive name, area subtree, repeated parameters', async () => {
    const byName = await exportRows({ resourceType: 'Individual', search: { name: 'pena' } });
    assert.ok(byName.length > 0);
    assert.equal(byName.length, await searchTotal('Individual', { name: 'pena' }));
    for (const row of byName) assert.match(row.display_name!.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase(), /pena/);

    const region = 'DM02';
    const inRegion = await exportRows({ resourceType: 'Individual', search: { area: region } });
    assert.ok(inRegion.length > 0);
    assert.equal(inRegion.length, await searchTotal('Individual', { area: region }));
    for (const row of inRegion) assert.ok(row.area!.startsWith(region), `${row.area} is under ${region}`);

    const born = await exportRows({ resourceType: 'Individual', search: { birthdate: ['ge1980-01-01', 'lt2000-01-01'] } });
    for (const row of born) assert.ok(row.birth_date! >= '1980-01-01' && row.birth_date! < '2000-01-01');
  });

  test('households and groups: memberships, size and head as the API shows them', async () => {
    const individuals = await exportRows({ resourceType: 'Individual' });
    const groups = await exportRows({ resourceType: 'Group', search: { groupType: 'household' } });
    assert.equal(groups.length, 15);
    assert.deepEqual(Object.keys(groups[0]!), ['id', 'group_type', 'name', 'area', 'size', 'head', 'identifiers', 'is_active', 'version', 'updated_at']);
    for (const group of groups.slice(0, 3)) {
      const view = await system.services.registry.getGroup({ actor }, group.id!);
      assert.deepEqual([group.size, group.head, group.area, group.name], [String(view.size), view.head, view.area, view.name]);
      assert.match(group.identifiers!, /^household-id\|/);
      const members = individuals.filter((row) => row.households!.split(';').includes(group.id!));
      assert.equal(members.length, view.size);
    }
  });

  test('reads in keyset pages: a small page size gives the same file', async () => {
    const paged = new ExportService(system.database.db, system.services.registry.search, system.services.release, { pageSize: 7 });
    const progress: Array<[number, number]> = [];
    const out = collector();
    await paged.writeCsv(actor, { resourceType: 'Individual' }, out.stream, { onProgress: (done, total) => { progress.push([done, total]); } });
    assert.equal(out.text(), (await exportText({ resourceType: 'Individual' })).text);
    const total = progress[0]![1];
    assert.deepEqual(progress[0], [0, total]);
    assert.deepEqual(progress.at(-1), [total, total]);
    assert.equal(progress.length, 1 + Math.ceil(total / 7));
  });

  test('refuses bad searches and callers without the read scope', async () => {
    const refused = async (request: ExportRequest, code: string, who: Actor = actor) => {
      await assert.rejects(exportText(request, undefined, who), (error: { code: string }) => error.code === code);
    };
    await refused({ resourceType: 'Individual', search: { colour: 'red' } }, 'unknown_parameter');
    await refused({ resourceType: 'Group', search: { gender: '1' } }, 'unknown_parameter');
    await refused({ resourceType: 'Individual', search: { _count: '10' } }, 'unknown_parameter');
    await refused({ resourceType: 'Individual', search: { _sort: 'name' } }, 'unknown_parameter');
    await refused({ resourceType: 'Individual', search: { area: 'NOWHERE' } }, 'unknown_parameter');
    await refused({ resourceType: 'Individual', search: { birthdate: 'yesterday' } }, 'unknown_parameter');
    const groupReader: Actor = { type: 'client', id: 'cw_x', scopes: new Set(['group:read']) };
    await refused({ resourceType: 'Individual' }, 'forbidden', groupReader);
    assert.equal((await exportText({ resourceType: 'Group' }, undefined, groupReader)).rows, await searchTotal('Group'));
  });

  test('the job handler writes the file; a re-run starts it again instead of appending', async () => {
    const job = await system.services.exports.start(actor, { resourceType: 'Group', search: { area: 'DM01' } });
    const [stored] = await system.database.db.select().from(jobs).where(eq(jobs.uuid, job.id));
    const context = (): JobContext<never> => ({
      job: { id: job.id, type: job.type, payload: stored!.payload as never, attempt: 1, maxAttempts: 3, checkpoint: null },
      reportProgress: async () => {},
      signal: new AbortController().signal,
    });
    const first = await system.services.exports.runJob(context());
    const second = await system.services.exports.runJob(context());
    assert.equal(first.rows, second.rows);
    assert.notEqual(first.fileId, second.fileId);
    const files = await system.database.db.select().from(jobFiles).where(eq(jobFiles.jobId, stored!.id));
    assert.deepEqual(files.map((file) => file.uuid), [second.fileId]);
    const file = await findJobFile(system.database.db, job.id, 'export');
    const parts: Buffer[] = [];
    for await (const part of (await openJobFileStream(system.database.db, file!.uuid))!) parts.push(part as Buffer);
    assert.equal(Buffer.concat(parts).toString('utf8'), (await exportText({ resourceType: 'Group', search: { area: 'DM01' } })).text);
    assert.equal(file!.contentType, 'text/csv; charset=utf-8');
  });

  test('a failed attempt leaves no file; a search that no longer validates fails the job for good', async () => {
    const job = await system.services.exports.start(actor, { resourceType: 'Individual' });
    const [stored] = await system.database.db.select().from(jobs).where(eq(jobs.uuid, job.id));
    const context = (payload: unknown, reportProgress: JobContext<never>['reportProgress']): JobContext<never> => ({
      job: { id: job.id, type: job.type, payload: payload as never, attempt: 1, maxAttempts: 3, checkpoint: null },
      reportProgress,
      signal: new AbortController().signal,
    });
    const small = new ExportService(system.database.db, system.services.registry.search, system.services.release, { pageSize: 5 });
    let reports = 0;
    const cancelled = async () => { if (++reports > 3) throw new JobLostError('cancelled'); };
    await assert.rejects(small.runJob(context(stored!.payload, cancelled)), JobLostError);
    const filesOf = () => system.database.db.select().from(jobFiles).where(eq(jobFiles.jobId, stored!.id));
    assert.deepEqual(await filesOf(), []);

    const stale = { ...stored!.payload, search: { area: 'GONE' } };
    await assert.rejects(small.runJob(context(stale, async () => {})), (error: Error) => error instanceof PermanentJobError && /GONE/.test(error.message));
    assert.deepEqual(await filesOf(), []);
  });
});
