// Two real `commonweal serve` processes on one PostgreSQL database: the proof that the server keeps
// no state of its own (tokens, records, ETags and idempotency keys work across processes) and that
// the database job queue is shared (every job runs exactly once; a killed process's job is taken
// over after its lease expires; a stopping process hands its job back for the other to finish).
//
// These tests need a PostgreSQL server, because the embedded PGlite belongs to one process. They are
// registered only when TEST_DATABASE_URL is set, which is how CI runs the suite's second pass
// (`.ci/run`, "Tests on PostgreSQL"); in the default PGlite pass this file registers no tests.
// Run them alone with:
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test -- test/multi-process/two-servers.test.ts
//
// The job used is the product's own `registry.export` (POST /api/v2/$export): the servers run
// product code only, so a test-only job type cannot be registered in them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { openTestDatabase, type TestDatabase } from '../../src/test-support/test-database.js';
import { jobs } from '../../src/platform/jobs/jobs.tables.js';
import { jobFiles } from '../../src/platform/jobs/job-files.tables.js';
import { registrants } from '../../src/modules/registry/registry.tables.js';
import {
  clientFor, fetchToken, killAll, runCommonweal, sleep, startServer, waitFor, withTimeout, type ServerProcess,
} from './server-process.js';

const SHUTDOWN_GRACE_MS = 1000;
const LEASE_SECONDS = 2;
/** Enough that exporting every individual takes seconds (about 18,000 people), so a job can be interrupted. */
const HOUSEHOLDS = 4000;
const EXPORT_JOB = 'registry.export';

type Name = 'A' | 'B';
const other = (name: Name): Name => (name === 'A' ? 'B' : 'A');

if (process.env.TEST_DATABASE_URL) {
  describe('two server processes sharing one PostgreSQL database', { timeout: 900_000 }, () => {
    let database: TestDatabase;
    let dataDir: string;
    const servers = {} as Record<Name, ServerProcess>;
    let credentials: { clientId: string; clientSecret: string };
    let token: string;
    let groups: number;

    // Every process (servers and commands) needs the key-encryption key the database's keys are wrapped with.
    const kek = crypto.randomBytes(32).toString('base64');
    // What a load-balanced deployment gives every process: the same database, public URL and KEK.
    const environment = () => ({
      DATABASE_URL: database.url!,
      ENCRYPTION_KEK: kek,
      PUBLIC_URL: 'http://commonweal.test',
      SEED_DEMO_DATA: 'false',
      RATE_LIMIT_PER_MINUTE: '0',
      JOB_WORKERS: '2',
      JOB_POLL_INTERVAL_MS: '50',
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      DATABASE_POOL_SIZE: '5',
      DATA_DIR: dataDir,
    });
    const start = async (name: Name) => { servers[name] = await startServer(name, environment()); };

    const countOf = async (kind: 'individual' | 'group') =>
      (await database.db.select({ count: sql<number>`count(*)::int` }).from(registrants).where(eq(registrants.kind, kind)))[0]!.count;
    const jobRow = async (id: string) => (await database.db.select().from(jobs).where(eq(jobs.uuid, id)))[0];
    const exportFilesOf = async (id: string) => {
      const [row] = await database.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.uuid, id));
      return database.db.select().from(jobFiles).where(and(eq(jobFiles.jobId, row!.id), eq(jobFiles.purpose, 'export')));
    };
    /** The server process whose job runner holds `row` (the worker id is `host:pid:random`). */
    const holderOf = (row: { lockedBy: string | null }): Name => {
      const pid = Number(/:(\d+):[0-9a-f]+$/.exec(row.lockedBy ?? '')?.[1]);
      const name = (['A', 'B'] as const).find((candidate) => servers[candidate].child.pid === pid);
      assert.ok(name, `the job is held by ${row.lockedBy}, not by A (${servers.A.child.pid}) or B (${servers.B.child.pid})`);
      return name;
    };
    /** "Job …" lines the job runner of `name` logged about job `id`. */
    const jobLogs = (name: Name, id: string) => servers[name].logs().filter((line) => line.component === 'jobs' && line.jobId === id);
    const startExport = async (via: Name, resourceType: 'Individual' | 'Group'): Promise<string> => {
      const response = await clientFor(servers[via], token).post('/api/v2/$export', { resourceType });
      assert.equal(response.status, 202, response.text);
      assert.equal(response.headers.get('location'), `/api/v2/Job/${response.json.id}`);
      return response.json.id as string;
    };
    const waitUntilFinished = (via: Name, id: string, timeoutMs = 120_000) =>
      waitFor(`job ${id} to finish`, async () => {
        const job = (await clientFor(servers[via], token).get(`/api/v2/Job/${id}`)).json;
        return ['succeeded', 'failed', 'cancelled'].includes(job?.state) ? job : undefined;
      }, timeoutMs, 100);
    const waitUntilRunning = (id: string, minimumProgress = 1) =>
      waitFor(`job ${id} to be running with progress ≥ ${minimumProgress}`, async () => {
        const row = await jobRow(id);
        return row?.state === 'running' && row.progressDone >= minimumProgress ? row : undefined;
      }, 60_000, 20);
    /** Downloads an export's CSV through `via` and returns its records. */
    const download = async (via: Name, id: string): Promise<Array<Record<string, string>>> => {
      const response = await clientFor(servers[via], token).get(`/api/v2/$export/${id}/file`);
      assert.equal(response.status, 200, response.text.slice(0, 500));
      return parse(response.text, { columns: true }) as Array<Record<string, string>>;
    };
    const assertCompleteExport = async (records: Array<Record<string, string>>, kind: 'individual' | 'group') => {
      const ids = records.map((record) => record.id!);
      const expected = (await database.db.select({ uuid: registrants.uuid }).from(registrants).where(eq(registrants.kind, kind))).map((row) => row.uuid);
      assert.equal(ids.length, expected.length, 'one row per registrant');
      assert.equal(new Set(ids).size, ids.length, 'no registrant twice');
      assert.deepEqual([...ids].sort(), [...expected].sort(), 'every registrant, none missing');
    };

    before(async () => {
      database = await openTestDatabase();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-multi-'));
      // Both at once, as an orchestrator starts replicas: both install vocabularies and keys on an empty registry.
      await Promise.all([start('A'), start('B')]);
      const cli = { DATABASE_URL: database.url!, ENCRYPTION_KEK: kek };
      const [created] = await Promise.all([
        runCommonweal(['client', 'create', '--name', 'Multi-process test', '--scopes', '*', '--json'], cli),
        runCommonweal(['seed', '--households', String(HOUSEHOLDS)], cli, 300_000),
      ]);
      credentials = JSON.parse(created.stdout) as { clientId: string; clientSecret: string };
      token = await fetchToken(servers.A, credentials.clientId, credentials.clientSecret);
      groups = await countOf('group');
      assert.equal(groups, HOUSEHOLDS);
    }, { timeout: 400_000 });

    after(async () => {
      await killAll();
      await database?.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('a token from server A is accepted by server B; records, ETags and idempotency keys are shared', { timeout: 120_000 }, async () => {
      const tokenFromA = await fetchToken(servers.A, credentials.clientId, credentials.clientSecret);
      const tokenFromB = await fetchToken(servers.B, credentials.clientId, credentials.clientSecret);
      const viaA = clientFor(servers.A, tokenFromA);
      const viaB = clientFor(servers.B, tokenFromA);

      // Written through A, read through B (by UUID and by identifier), with A's token.
      const created = await viaA.post('/api/v2/Individual', {
        name: { given: 'Ana', family: 'Reyes' }, birthDate: '1990-04-12', gender: '2',
        identifiers: [{ type: 'national-id', value: 'MP0000001' }],
      });
      assert.equal(created.status, 201, created.text);
      const id = created.json.id as string;
      const read = await viaB.get(`/api/v2/Individual/${id}`);
      assert.equal(read.status, 200, read.text);
      assert.equal(read.json.name.display, 'Ana Reyes');
      assert.equal(read.headers.get('etag'), 'W/"1"');
      assert.equal((await viaB.get('/api/v2/Individual/national-id|MP0000001')).json.id, id);

      // And B's token works on A: a key one process created is found by the other.
      assert.equal((await clientFor(servers.A, tokenFromB).get(`/api/v2/Individual/${id}`)).status, 200);
      const published = new Set<string>();
      for (const name of ['A', 'B'] as const) {
        for (const key of (await clientFor(servers[name]).get('/.well-known/jwks.json')).json.keys as Array<{ kid: string }>) published.add(key.kid);
      }
      for (const signed of [tokenFromA, tokenFromB]) {
        const { kid } = JSON.parse(Buffer.from(signed.split('.')[0]!, 'base64url').toString()) as { kid: string };
        assert.ok(published.has(kid), 'the signing key is published in the JWKS');
      }

      // Optimistic locking is in the database: a change through B makes A's ETag stale.
      const changed = await viaB.patch(`/api/v2/Individual/${id}`, { civilStatus: 'married' }, { 'if-match': 'W/"1"' });
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.headers.get('etag'), 'W/"2"');
      const stale = await viaA.patch(`/api/v2/Individual/${id}`, { civilStatus: 'single' }, { 'if-match': 'W/"1"' });
      assert.equal(stale.status, 412, stale.text);

      // An Idempotency-Key used on A is known to B: the retry is answered from the stored response.
      const key = `multi-${crypto.randomUUID()}`;
      const body = { name: { given: 'Ben', family: 'Zubiri' }, identifiers: [{ type: 'national-id', value: 'MP0000002' }] };
      const first = await viaA.post('/api/v2/Individual', body, { 'idempotency-key': key });
      assert.equal(first.status, 201, first.text);
      const retry = await viaB.post('/api/v2/Individual', body, { 'idempotency-key': key });
      assert.equal(retry.status, 201, retry.text);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(retry.json.id, first.json.id);
      const found = await viaB.get('/api/v2/Individual?identifier=national-id%7CMP0000002&_total=accurate');
      assert.equal(found.json.total, 1, 'the retry wrote nothing');
    });

    test('the job queue is shared: 20 exports queued through A and B alternately each run exactly once, on both processes', { timeout: 300_000 }, async (t) => {
      const ids: string[] = [];
      for (let i = 0; i < 20; i += 1) ids.push(await startExport(i % 2 === 0 ? 'A' : 'B', 'Group'));
      // Followed through the process it was not queued on.
      const finished = await Promise.all(ids.map((id, i) => waitUntilFinished(i % 2 === 0 ? 'B' : 'A', id, 240_000)));
      for (const job of finished) {
        assert.equal(job.state, 'succeeded', JSON.stringify(job));
        assert.equal(job.attempts, 1, `job ${job.id} ran once`);
        assert.equal(job.result.rows, groups);
        assert.deepEqual(job.progress, { done: groups, total: groups });
        const files = await exportFilesOf(job.id);
        assert.equal(files.length, 1, `job ${job.id} has one export file`);
        assert.ok(files[0]!.completedAt, 'and it is complete');
        assert.equal(files[0]!.uuid, job.result.fileId);
      }

      // Each job shows up in exactly one process's log as succeeded, and both processes ran some.
      const ranBy = new Map<string, Name[]>(ids.map((id) => [id, []]));
      for (const name of ['A', 'B'] as const) {
        for (const line of servers[name].logs()) {
          if (line.msg === 'Job succeeded' && line.type === EXPORT_JOB && ranBy.has(line.jobId)) ranBy.get(line.jobId)!.push(name);
        }
      }
      for (const [id, names] of ranBy) assert.equal(names.length, 1, `job ${id} succeeded in ${JSON.stringify(names)}`);
      const perProcess = { A: 0, B: 0 };
      for (const [, [name]] of ranBy) perProcess[name!] += 1;
      assert.ok(perProcess.A > 0 && perProcess.B > 0, `both processes ran jobs: ${JSON.stringify(perProcess)}`);
      const [stillQueued] = await database.db.select({ count: sql<number>`count(*)::int` }).from(jobs).where(inArray(jobs.state, ['queued', 'running']));
      assert.equal(stillQueued!.count, 0);

      // A file written by one process is served whole by the other.
      for (const [index, id] of ids.slice(0, 4).entries()) {
        await assertCompleteExport(await download(index % 2 === 0 ? 'A' : 'B', id), 'group');
      }
      t.diagnostic(`20 exports of ${groups} groups: A ran ${perProcess.A}, B ran ${perProcess.B}`);
    });

    test('a process killed mid-job (SIGKILL): the other takes the job over after the lease expires and completes it exactly once', { timeout: 300_000 }, async (t) => {
      const individuals = await countOf('individual');
      const id = await startExport('A', 'Individual');
      const running = await waitUntilRunning(id);
      const victim = holderOf(running);
      const survivor = other(victim);
      const killedAt = Date.now();
      servers[victim].kill('SIGKILL');
      assert.deepEqual(await withTimeout(servers[victim].exited, 10_000, `${victim} to die`), { code: null, signal: 'SIGKILL' });

      try {
        // Killed mid-job: nothing finished it, the dead worker still holds it until the lease runs out.
        const orphaned = await jobRow(id);
        assert.equal(orphaned!.state, 'running');
        assert.equal(orphaned!.lockedBy, running.lockedBy);
        assert.ok(orphaned!.progressDone < individuals, 'the export was interrupted part way');

        // Taken over (second attempt claimed) only once the dead worker's lease has run out, by the database's clock.
        const takeover = await waitFor('the takeover', async () => {
          const [row] = await database.db.select({ attempts: jobs.attempts, lockedBy: jobs.lockedBy, now: sql<Date>`now()` }).from(jobs).where(eq(jobs.uuid, id));
          return row && row.attempts >= 2 ? row : undefined;
        }, 60_000, 20);
        const takeoverSeconds = (Date.now() - killedAt) / 1000;
        assert.ok(new Date(takeover.now) >= orphaned!.leaseUntil!, `claimed again at ${new Date(takeover.now).toISOString()}, lease until ${orphaned!.leaseUntil!.toISOString()}`);

        const job = await waitUntilFinished(survivor, id, 180_000);
        const seconds = (Date.now() - killedAt) / 1000;
        assert.equal(job.state, 'succeeded', JSON.stringify(job));
        assert.equal(job.attempts, 2, 'the interrupted attempt and the takeover');
        assert.equal(job.result.rows, individuals);
        assert.deepEqual(jobLogs(survivor, id).map((line) => [line.msg, line.attempt]), [['Job claimed', 2], ['Job succeeded', 2]]);
        assert.deepEqual(jobLogs(victim, id).map((line) => line.msg), ['Job claimed'], 'the killed process claimed it and never finished it');

        // No lost and no duplicated output: the partial file of the killed attempt is gone, the new one is whole.
        const files = await exportFilesOf(id);
        assert.equal(files.length, 1);
        assert.equal(files[0]!.uuid, job.result.fileId);
        assert.ok(files[0]!.completedAt);
        await assertCompleteExport(await download(survivor, id), 'individual');
        t.diagnostic(`SIGKILL of ${victim} after ${running.progressDone}/${individuals} rows; ${survivor} took it over ${takeoverSeconds.toFixed(1)} s after the kill (lease ${LEASE_SECONDS} s) and finished it ${seconds.toFixed(1)} s after the kill`);
      } finally {
        await start(victim); // a replacement process joins the same database for the next test
      }
    });

    test('graceful shutdown (SIGTERM) mid-job: the process exits 0 within SHUTDOWN_GRACE_MS, hands the job back, the other finishes it and keeps answering', { timeout: 300_000 }, async (t) => {
      const individuals = await countOf('individual');
      const id = await startExport('A', 'Individual');
      // As soon as it runs, so that it is sure to outlast the grace period and be handed back.
      const running = await waitUntilRunning(id, 0);
      const stopping = holderOf(running);
      const keeper = other(stopping);

      const viaKeeper = clientFor(servers[keeper], token);
      let probing = true;
      const statuses: number[] = [];
      const probe = (async () => {
        while (probing) {
          statuses.push(await viaKeeper.get('/api/v2/Individual?_count=1').then((response) => response.status, () => 0)); // 0: no answer
          await sleep(20);
        }
      })();
      const stoppedAt = Date.now();
      servers[stopping].kill('SIGTERM');
      const exit = await withTimeout(servers[stopping].exited, SHUTDOWN_GRACE_MS + 15_000, `${stopping} to exit after SIGTERM`);
      const exitMs = Date.now() - stoppedAt;

      assert.deepEqual(exit, { code: 0, signal: null }, servers[stopping].output().slice(-3000));
      assert.ok(exitMs < SHUTDOWN_GRACE_MS + 5000, `exited after ${exitMs} ms (grace ${SHUTDOWN_GRACE_MS} ms)`);
      const stoppingLogs = servers[stopping].logs();
      assert.ok(stoppingLogs.some((line) => line.signal === 'SIGTERM' && /shutting down/.test(line.msg)), 'it logged its shutdown');
      assert.deepEqual(jobLogs(stopping, id).map((line) => line.msg), ['Job claimed', 'Job handed back at shutdown']);

      const job = await waitUntilFinished(keeper, id, 180_000);
      probing = false;
      await probe;
      assert.equal(job.state, 'succeeded', JSON.stringify(job));
      assert.equal(job.attempts, 1, 'a hand-back does not count as an attempt');
      assert.equal(job.result.rows, individuals);
      assert.deepEqual(jobLogs(keeper, id).map((line) => [line.msg, line.attempt]), [['Job claimed', 1], ['Job succeeded', 1]]);
      const files = await exportFilesOf(id);
      assert.equal(files.length, 1);
      assert.ok(files[0]!.completedAt);
      await assertCompleteExport(await download(keeper, id), 'individual');

      assert.ok(statuses.length > 10, `${statuses.length} probes`);
      assert.deepEqual([...new Set(statuses)], [200], `every request to ${keeper} succeeded while ${stopping} stopped`);
      assert.equal((await clientFor(servers[keeper]).get('/ready')).status, 200);
      t.diagnostic(`SIGTERM of ${stopping} after ${running.progressDone}/${individuals} rows: exit 0 after ${exitMs} ms; ${keeper} finished the export; ${statuses.length} requests to ${keeper} meanwhile, all 200`);
    });
  });
}
