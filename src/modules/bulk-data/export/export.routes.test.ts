import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { AccessTokens, systemActor } from '../../../platform/auth/access-tokens.js';
import { jobQueueStats } from '../../../platform/jobs/job-queue.js';
import { seedRegistry } from '../../demo-data/seed-registry.js';
import type { ExportRequest } from './export.service.js';

describe('Export API: POST /api/v2/$export, then the job, then the file', () => {
  let system: TestSystem;
  let reader: { authorization: string };
  let jobReader: { authorization: string };

  const startExport = (payload: object, headers: Record<string, string> = reader) =>
    system.http.inject({ method: 'POST', url: '/api/v2/$export', headers, payload });
  const download = (jobId: string, headers: Record<string, string> = reader) =>
    system.http.inject({ method: 'GET', url: `/api/v2/$export/${jobId}/file`, headers });
  const queued = async () => Object.values(await jobQueueStats(system.database.db)).reduce((sum, count) => sum + count, 0);

  /** The CSV the service writes for the same request, to compare downloads with. */
  const expectedCsv = async (request: ExportRequest) => {
    const parts: Buffer[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, callback) { parts.push(chunk); callback(); } });
    await system.services.exports.writeCsv(systemActor('test'), request, sink);
    return Buffer.concat(parts).toString('utf8');
  };

  before(async () => {
    system = await createTestSystem();
    await seedRegistry(system.services, { households: 15, seed: 5 });
    reader = await system.authAs('individual:read', 'group:read');
    jobReader = await system.authAs('job:read');
  });
  after(async () => { await system?.close(); });

  test('202 with the job, which runs with progress; the creator downloads the CSV', async () => {
    const search = { area: 'DM01', active: 'true' };
    const started = await startExport({ resourceType: 'Individual', search });
    assert.equal(started.statusCode, 202, started.body);
    const job = started.json();
    assert.equal(started.headers.location, `/api/v2/Job/${job.id}`);
    assert.deepEqual([job.type, job.state], ['registry.export', 'queued']);
    const early = await download(job.id);
    assert.equal(early.statusCode, 404);
    assert.match(early.json().detail, /not ready/);

    await system.jobs.drain();
    const finished = (await system.http.inject({ method: 'GET', url: `/api/v2/Job/${job.id}`, headers: jobReader })).json();
    assert.equal(finished.state, 'succeeded', finished.error);
    const expected = await expectedCsv({ resourceType: 'Individual', search });
    const rows = parse(expected, { columns: true }) as unknown[];
    assert.ok(rows.length > 5);
    assert.deepEqual(finished.progress, { done: rows.length, total: rows.length });
    assert.equal(finished.result.rows, rows.length);
    assert.match(finished.result.fileId, /^[0-9a-f-]{36}$/);

    const file = await download(job.id);
    assert.equal(file.statusCode, 200);
    assert.equal(file.headers['content-type'], 'text/csv; charset=utf-8');
    assert.match(String(file.headers['content-disposition']), /^attachment; filename="individuals-\d{4}-\d{2}-\d{2}\.csv"$/);
    assert.equal(Number(file.headers['content-length']), Buffer.byteLength(file.body));
    assert.equal(file.body, expected);
  });

  test('groups need group:read; only the client that started an export may download it', async () => {
    const groupsOnly = await system.authAs('group:read');
    const started = await startExport({ resourceType: 'Group', search: { groupType: 'household' } }, groupsOnly);
    assert.equal(started.statusCode, 202, started.body);
    await system.jobs.drain();
    const file = await download(started.json().id, groupsOnly);
    assert.equal(file.statusCode, 200);
    assert.equal((parse(file.body, { columns: true }) as unknown[]).length, 15);

    const other = await download(started.json().id, await system.authAs('individual:read', 'group:read'));
    assert.equal(other.statusCode, 404);
    assert.equal((await download('00000000-0000-4000-8000-000000000000', groupsOnly)).statusCode, 404);
  });

  test('401 without a token, 403 without the read scope, 400 on a bad search: nothing is queued', async () => {
    const before = await queued();
    const anonymous = await system.http.inject({ method: 'POST', url: '/api/v2/$export', payload: { resourceType: 'Individual' } });
    assert.equal(anonymous.statusCode, 401);
    const groupsOnly = await system.authAs('group:read', 'job:read');
    const forbidden = await startExport({ resourceType: 'Individual' }, groupsOnly);
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().code, 'forbidden');

    const bad = async (payload: object, path: string) => {
      const response = await startExport(payload);
      assert.equal(response.statusCode, 400, `${JSON.stringify(payload)}: ${response.body}`);
      assert.equal(response.json().errors?.[0]?.path, path);
    };
    await bad({ resourceType: 'Individual', search: { colour: 'red' } }, '/search/colour');
    await bad({ resourceType: 'Individual', search: { area: 'NOWHERE' } }, '/search/area');
    await bad({ resourceType: 'Individual', search: { _count: '10' } }, '/search/_count');
    await bad({ resourceType: 'Group', search: { birthdate: 'ge2000-01-01' } }, '/search/birthdate');
    await bad({ resourceType: 'Individual', search: { active: true } }, '/search/active');
    await bad({ resourceType: 'Household' }, '/resourceType');
    assert.equal(await queued(), before);

    const noToken = await system.http.inject({ method: 'GET', url: '/api/v2/$export/00000000-0000-4000-8000-000000000000/file' });
    assert.equal(noToken.statusCode, 401);
  });

  test('the creator holding no read scope any more gets 403', async () => {
    const started = await startExport({ resourceType: 'Individual', search: { name: 'pena' } });
    await system.jobs.drain();
    // A token for the same client with fewer scopes (its grant was narrowed meanwhile).
    const clientId = JSON.parse(Buffer.from(reader.authorization.split('.')[1]!, 'base64url').toString()).sub as string;
    const tokens = new AccessTokens(system.keys, system.config.publicUrl, 60);
    const narrowed = { authorization: `Bearer ${(await tokens.issue(clientId, ['job:read'])).token}` };
    assert.equal((await download(started.json().id, narrowed)).statusCode, 403);
    assert.equal((await download(started.json().id)).statusCode, 200);
  });
});
