import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import { openPostgres, type Db } from '../database/database.js';
import { openTestDatabase, type TestDatabase } from '../../test-support/test-database.js';
import { cancelJob, enqueueJob, findJob, jobQueueStats } from './job-queue.js';
import { JobLostError, JobRunner, PermanentJobError, type JobContext, type JobFinishedEvent, type JobRunnerOptions } from './job-runner.js';
import { jobs } from './jobs.tables.js';

let testDb: TestDatabase;
const runners: JobRunner[] = [];
const closers: Array<() => Promise<void>> = [];

before(async () => {
  testDb = await openTestDatabase();
});
after(async () => {
  await testDb?.close();
});
beforeEach(async () => {
  await testDb.reset();
});
afterEach(async () => {
  // Stop every runner before its database goes away, so nothing is left polling.
  await Promise.all(runners.splice(0).map((runner) => runner.stop(0)));
  for (const close of closers.splice(0)) await close();
});

function newRunner(options: Partial<JobRunnerOptions> = {}): JobRunner {
  const runner = new JobRunner({ db: testDb.db, concurrency: 1, pollIntervalMs: 10, leaseSeconds: 5, backoffMs: () => 0, ...options });
  runners.push(runner);
  return runner;
}

/** A second handle on the test database: its own pool on PostgreSQL; PGlite has only one connection. */
async function secondDb(): Promise<Db> {
  if (!testDb.url) return testDb.db;
  const database = await openPostgres(testDb.url, 5);
  closers.push(() => database.close());
  return database.db;
}

function collectEvents(runner: JobRunner): JobFinishedEvent[] {
  const events: JobFinishedEvent[] = [];
  runner.onJobFinished((event) => events.push(event));
  return events;
}

/** Polls until `check` gives a truthy value; the sleeps also keep the event loop alive. */
async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function jobRow(id: string) {
  const [row] = await testDb.db.select().from(jobs).where(eq(jobs.uuid, id));
  assert.ok(row, `job ${id} exists`);
  return row;
}

describe('job queue', () => {
  test('a job enqueued in a transaction that rolls back does not exist', async () => {
    await assert.rejects(
      testDb.db.transaction(async (tx) => {
        await enqueueJob(tx, { type: 'report', payload: {} });
        throw new Error('business write failed');
      }),
      /business write failed/,
    );
    assert.equal((await jobQueueStats(testDb.db)).queued, 0);

    const committed = await testDb.db.transaction((tx) => enqueueJob(tx, { type: 'report', payload: {} }));
    assert.equal((await findJob(testDb.db, committed.id))?.state, 'queued');
  });

  test('the same (type, dedupeKey) yields the same job', async () => {
    const first = await enqueueJob(testDb.db, { type: 'import', payload: { file: 'a' }, dedupeKey: 'batch-1' });
    const again = await enqueueJob(testDb.db, { type: 'import', payload: { file: 'b' }, dedupeKey: 'batch-1' });
    const otherType = await enqueueJob(testDb.db, { type: 'export', payload: {}, dedupeKey: 'batch-1' });
    const noKey = [await enqueueJob(testDb.db, { type: 'import', payload: {} }), await enqueueJob(testDb.db, { type: 'import', payload: {} })];
    assert.equal(again.id, first.id);
    assert.notEqual(otherType.id, first.id);
    assert.notEqual(noKey[0]!.id, noKey[1]!.id);
    assert.equal((await jobQueueStats(testDb.db)).queued, 4);
  });

  test('the external view hides the database id; unknown or malformed ids are not found', async () => {
    const job = await enqueueJob(testDb.db, { type: 'report', payload: {}, createdBy: 'user-1' });
    assert.deepEqual(Object.keys(job).sort(), ['attempts', 'createdAt', 'createdBy', 'error', 'finishedAt', 'id', 'maxAttempts', 'progress', 'result', 'state', 'type', 'updatedAt']);
    assert.equal(job.createdBy, 'user-1');
    assert.match(job.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(job.progress, { done: 0, total: null });
    assert.equal(job.maxAttempts, 5);
    assert.equal(await findJob(testDb.db, '00000000-0000-4000-8000-000000000000'), undefined);
    assert.equal(await findJob(testDb.db, 'not-a-uuid'), undefined);
    assert.equal(await cancelJob(testDb.db, 'not-a-uuid'), undefined);
  });
});

describe('job runner', () => {
  test('runs a job and stores its result and progress', async () => {
    const runner = newRunner();
    const events = collectEvents(runner);
    runner.register<{ numbers: number[] }>('sum', async ({ job, reportProgress }) => {
      let sum = 0;
      for (const [index, n] of job.payload.numbers.entries()) {
        sum += n;
        await reportProgress(index + 1, job.payload.numbers.length);
      }
      return { sum };
    });
    const queued = await enqueueJob(testDb.db, { type: 'sum', payload: { numbers: [1, 2, 3] } });
    await runner.drain();

    const done = await findJob(testDb.db, queued.id);
    assert.equal(done?.state, 'succeeded');
    assert.deepEqual(done?.result, { sum: 6 });
    assert.deepEqual(done?.progress, { done: 3, total: 3 });
    assert.equal(done?.attempts, 1);
    assert.equal(done?.error, null);
    assert.ok(done?.finishedAt);
    const row = await jobRow(queued.id);
    assert.equal(row.lockedBy, null);
    assert.equal(row.leaseUntil, null);
    assert.deepEqual(events.map((e) => [e.id, e.outcome]), [[queued.id, 'succeeded']]);
  });

  test('a started runner picks up jobs enqueued later, several at once', async () => {
    const runner = newRunner({ concurrency: 3 });
    let running = 0;
    let maxRunning = 0;
    runner.register('slow', async () => {
      maxRunning = Math.max(maxRunning, ++running);
      await sleep(50);
      running--;
    });
    runner.start();
    assert.equal(runner.isRunning(), true);
    for (let i = 0; i < 6; i++) await enqueueJob(testDb.db, { type: 'slow', payload: {} });
    await waitFor('all jobs to succeed', async () => (await jobQueueStats(testDb.db)).succeeded === 6);
    assert.ok(maxRunning > 1 && maxRunning <= 3, `ran ${maxRunning} at once`);
    await runner.stop(0);
    assert.equal(runner.isRunning(), false);
  });

  test('a failing job is retried after a backoff and then succeeds', async () => {
    const backoffs: number[] = [];
    const runner = newRunner({ backoffMs: (attempt) => (backoffs.push(attempt), 0) });
    const events = collectEvents(runner);
    runner.register('flaky', async ({ job }) => {
      if (job.attempt < 3) throw new Error(`attempt ${job.attempt} failed`);
      return { attempt: job.attempt };
    });
    const queued = await enqueueJob(testDb.db, { type: 'flaky', payload: {} });
    await runner.drain();

    const done = await findJob(testDb.db, queued.id);
    assert.equal(done?.state, 'succeeded');
    assert.equal(done?.attempts, 3);
    assert.deepEqual(done?.result, { attempt: 3 });
    assert.equal(done?.error, null);
    assert.deepEqual(backoffs, [1, 2]);
    assert.deepEqual(events.map((e) => e.outcome), ['retrying', 'retrying', 'succeeded']);
  });

  test('a retry waits for its backoff before it runs again', async () => {
    const runner = newRunner({ backoffMs: () => 60_000 });
    let runs = 0;
    runner.register('flaky', async () => {
      runs++;
      throw new Error('service down');
    });
    const queued = await enqueueJob(testDb.db, { type: 'flaky', payload: {} });
    await runner.drain(); // the retry is not runnable yet, so drain returns after one run

    assert.equal(runs, 1);
    const row = await jobRow(queued.id);
    assert.equal(row.state, 'queued');
    assert.equal(row.attempts, 1);
    assert.equal(row.lastError, 'service down');
    assert.equal(row.lockedBy, null);
    const [{ delay }] = (await testDb.db
      .select({ delay: sql<number>`extract(epoch from ${jobs.runAt} - now())::float8` })
      .from(jobs)) as [{ delay: number }];
    assert.ok(delay > 50 && delay <= 60, `retry in ${delay}s`);
  });

  test('fails for good after maxAttempts, keeping the last error', async () => {
    const runner = newRunner();
    const events = collectEvents(runner);
    runner.register('broken', async ({ job }) => {
      throw new Error(`boom ${job.attempt}`);
    });
    const queued = await enqueueJob(testDb.db, { type: 'broken', payload: {}, maxAttempts: 3 });
    await runner.drain();

    const failed = await findJob(testDb.db, queued.id);
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.attempts, 3);
    assert.equal(failed?.error, 'boom 3');
    assert.ok(failed?.finishedAt);
    assert.deepEqual(events.map((e) => e.outcome), ['retrying', 'retrying', 'failed']);
  });

  test('PermanentJobError, or any error with retryable === false, fails at once', async () => {
    const runner = newRunner();
    runner.register<{ kind: string }>('invalid', async ({ job }) => {
      if (job.payload.kind === 'class') throw new PermanentJobError('the file is not a CSV');
      throw Object.assign(new Error('the programme is closed'), { retryable: false });
    });
    const byClass = await enqueueJob(testDb.db, { type: 'invalid', payload: { kind: 'class' } });
    const byProperty = await enqueueJob(testDb.db, { type: 'invalid', payload: { kind: 'property' } });
    await runner.drain();

    for (const [id, message] of [[byClass.id, 'the file is not a CSV'], [byProperty.id, 'the programme is closed']] as const) {
      const failed = await findJob(testDb.db, id);
      assert.equal(failed?.state, 'failed');
      assert.equal(failed?.attempts, 1);
      assert.equal(failed?.error, message);
    }
  });

  test('unknown job types are left alone', async () => {
    const runner = newRunner();
    runner.register('known', async () => ({ ok: true }));
    const unknown = await enqueueJob(testDb.db, { type: 'nobody-handles-this', payload: {} });
    await enqueueJob(testDb.db, { type: 'known', payload: {} });
    await runner.drain();

    const untouched = await findJob(testDb.db, unknown.id);
    assert.equal(untouched?.state, 'queued');
    assert.equal(untouched?.attempts, 0);
    assert.deepEqual(await jobQueueStats(testDb.db), { queued: 1, running: 0, succeeded: 1, failed: 0, cancelled: 0 });
  });

  test('a job handed back at shutdown resumes from its checkpoint, each item done exactly once', async () => {
    const ITEMS = 10;
    const processed: number[] = [];
    const checkpointsSeen: unknown[] = [];
    let handlerExits = 0;
    const handler = async ({ job, reportProgress, signal }: JobContext<unknown>) => {
      checkpointsSeen.push(job.checkpoint);
      try {
        for (let next = (job.checkpoint?.next as number | undefined) ?? 0; next < ITEMS; next++) {
          await sleep(15); // the work for item `next`
          if (signal.aborted) return {};
          // An item counts as done once its checkpoint is saved; a lost job saves nothing.
          await reportProgress(next + 1, ITEMS, { next: next + 1 });
          processed.push(next);
        }
        return { processed: ITEMS };
      } finally {
        handlerExits++;
      }
    };

    const first = newRunner({ workerId: 'first' });
    const firstEvents = collectEvents(first);
    first.register('batch', handler);
    const queued = await enqueueJob(testDb.db, { type: 'batch', payload: {} });
    first.start();
    await waitFor('three items', () => processed.length >= 3);
    await first.stop(0);
    await waitFor('the first handler to notice', () => handlerExits === 1);

    const handedBack = await jobRow(queued.id);
    assert.equal(handedBack.state, 'queued');
    assert.equal(handedBack.lockedBy, null);
    assert.equal(handedBack.leaseUntil, null);
    assert.equal(handedBack.attempts, 0, 'a graceful hand-back gives the attempt back');
    assert.deepEqual(handedBack.checkpoint, { next: processed.length });
    assert.ok(processed.length < ITEMS);
    assert.deepEqual(firstEvents.map((e) => e.outcome), ['handed_back']);

    const second = newRunner({ workerId: 'second' });
    second.register('batch', handler);
    await second.drain();

    assert.deepEqual(processed, Array.from({ length: ITEMS }, (_, i) => i), 'no item twice, none lost');
    assert.deepEqual(checkpointsSeen, [null, { next: handedBack.checkpoint!.next }]);
    const done = await findJob(testDb.db, queued.id);
    assert.equal(done?.state, 'succeeded');
    assert.equal(done?.attempts, 1);
    assert.deepEqual(done?.progress, { done: ITEMS, total: ITEMS });
  });

  test('stop waits for handlers that finish within the grace period', async () => {
    const runner = newRunner();
    runner.register('short', async () => {
      await sleep(50);
      return { finished: true };
    });
    const queued = await enqueueJob(testDb.db, { type: 'short', payload: {} });
    runner.start();
    await waitFor('the job to start', async () => (await findJob(testDb.db, queued.id))?.state === 'running');
    await runner.stop(5_000);
    assert.equal((await findJob(testDb.db, queued.id))?.state, 'succeeded');
  });

  test('a job whose worker crashed (lease expired) is taken over with its checkpoint', async () => {
    const queued = await enqueueJob(testDb.db, { type: 'resumable', payload: {} });
    await testDb.db
      .update(jobs)
      .set({ state: 'running', lockedBy: 'crashed-worker', attempts: 1, checkpoint: { next: 7 }, leaseUntil: sql`now() - interval '1 minute'` })
      .where(eq(jobs.uuid, queued.id));
    const runner = newRunner({ workerId: 'rescuer' });
    const seen: Array<{ attempt: number; checkpoint: unknown }> = [];
    runner.register('resumable', async ({ job }) => {
      seen.push({ attempt: job.attempt, checkpoint: job.checkpoint });
      return { resumedAt: job.checkpoint?.next };
    });
    await runner.drain();

    assert.deepEqual(seen, [{ attempt: 2, checkpoint: { next: 7 } }]);
    const done = await findJob(testDb.db, queued.id);
    assert.equal(done?.state, 'succeeded');
    assert.deepEqual(done?.result, { resumedAt: 7 });
  });

  test('a job that keeps killing its worker fails once its attempts are used up', async () => {
    const queued = await enqueueJob(testDb.db, { type: 'poison', payload: {}, maxAttempts: 2 });
    await testDb.db
      .update(jobs)
      .set({ state: 'running', lockedBy: 'crashed-worker', attempts: 2, leaseUntil: sql`now() - interval '1 second'` })
      .where(eq(jobs.uuid, queued.id));
    const runner = newRunner();
    let runs = 0;
    runner.register('poison', async () => {
      runs++;
    });
    await runner.drain();

    assert.equal(runs, 0);
    const failed = await findJob(testDb.db, queued.id);
    assert.equal(failed?.state, 'failed');
    assert.match(failed?.error ?? '', /lease expired/);
  });

  test('the heartbeat keeps the lease of a silent handler, so no other runner takes it over', async () => {
    let executions = 0;
    const silent = async () => {
      executions++;
      await sleep(1_000); // more than three leases, without a progress report
      return {};
    };
    const owner = newRunner({ leaseSeconds: 0.3, workerId: 'owner' });
    owner.register('silent', silent);
    const rival = newRunner({ db: await secondDb(), leaseSeconds: 0.3, workerId: 'rival' });
    rival.register('silent', silent);
    const queued = await enqueueJob(testDb.db, { type: 'silent', payload: {} });
    owner.start();
    await waitFor('the owner to claim', async () => (await jobRow(queued.id)).lockedBy === 'owner');
    rival.start();
    await waitFor('the job to finish', async () => (await findJob(testDb.db, queued.id))?.state === 'succeeded');

    assert.equal(executions, 1);
    assert.equal((await findJob(testDb.db, queued.id))?.attempts, 1);
  });

  test('two runners on one database run each of 50 jobs exactly once', async () => {
    const runs = new Map<number, number>();
    const byWorker = new Map<string, number>();
    const makeHandler = (worker: string) => async ({ job }: JobContext<{ n: number }>) => {
      runs.set(job.payload.n, (runs.get(job.payload.n) ?? 0) + 1);
      byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
      await sleep(5);
      return { n: job.payload.n };
    };
    for (let n = 0; n < 50; n++) await enqueueJob(testDb.db, { type: 'work', payload: { n } });
    const one = newRunner({ concurrency: 3, workerId: 'one' });
    const two = newRunner({ db: await secondDb(), concurrency: 3, workerId: 'two' });
    one.register('work', makeHandler('one'));
    two.register('work', makeHandler('two'));
    one.start();
    two.start();
    await waitFor('50 jobs to succeed', async () => (await jobQueueStats(testDb.db)).succeeded === 50);

    assert.equal(runs.size, 50);
    assert.deepEqual([...runs.values()].filter((count) => count !== 1), [], 'every job ran exactly once');
    assert.ok((byWorker.get('one') ?? 0) > 0 && (byWorker.get('two') ?? 0) > 0, `shared: ${JSON.stringify([...byWorker])}`);
    assert.deepEqual(await jobQueueStats(testDb.db), { queued: 0, running: 0, succeeded: 50, failed: 0, cancelled: 0 });
  });

  test('a cancelled queued job never runs', async () => {
    const runner = newRunner();
    let runs = 0;
    runner.register('report', async () => {
      runs++;
    });
    const queued = await enqueueJob(testDb.db, { type: 'report', payload: {} });
    const cancelled = await cancelJob(testDb.db, queued.id);
    assert.equal(cancelled?.state, 'cancelled');
    assert.ok(cancelled?.finishedAt);
    await runner.drain();
    assert.equal(runs, 0);
    assert.equal((await findJob(testDb.db, queued.id))?.state, 'cancelled');

    const finished = await enqueueJob(testDb.db, { type: 'report', payload: {} });
    await runner.drain();
    assert.equal((await cancelJob(testDb.db, finished.id))?.state, 'succeeded', 'a finished job is not cancelled');
  });

  test('a cancelled running job stops at its next progress report and stays cancelled', async () => {
    const runner = newRunner();
    const events = collectEvents(runner);
    let stoppedWith: unknown;
    let abortedSignal = false;
    runner.register('endless', async ({ reportProgress, signal }) => {
      try {
        for (let i = 1; ; i++) {
          await sleep(10);
          await reportProgress(i);
        }
      } catch (error) {
        stoppedWith = error;
        abortedSignal = signal.aborted;
        throw error;
      }
    });
    const queued = await enqueueJob(testDb.db, { type: 'endless', payload: {} });
    runner.start();
    await waitFor('some progress', async () => ((await findJob(testDb.db, queued.id))?.progress.done ?? 0) >= 2);
    assert.equal((await cancelJob(testDb.db, queued.id))?.state, 'cancelled');
    await waitFor('the handler to stop', () => events.length === 1);

    assert.ok(stoppedWith instanceof JobLostError);
    assert.equal(abortedSignal, true);
    assert.equal(events[0]?.outcome, 'lost');
    const row = await jobRow(queued.id);
    assert.equal(row.state, 'cancelled');
    assert.equal(row.lockedBy, null);
  });
});
