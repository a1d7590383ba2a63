import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { and, eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Db, Queryable } from '../database/database.js';
import { jobs } from './jobs.tables.js';

type JobRow = typeof jobs.$inferSelect;
type JobChanges = PgUpdateSetSource<typeof jobs>;

export interface JobContext<P> {
  job: {
    id: string;
    type: string;
    payload: P;
    /** 1 on the first run. */
    attempt: number;
    maxAttempts: number;
    /** What the last reportProgress saved, or null on a fresh start. */
    checkpoint: Record<string, unknown> | null;
  };
  /**
   * Saves progress (and the resume point, when given) and extends the lease. Pass `tx` to save the
   * checkpoint in the same transaction as the work it covers (needed on PGlite inside a transaction).
   * Throws JobLostError when the job is no longer this worker's (cancelled, handed back, taken over).
   */
  reportProgress(done: number, total?: number, checkpoint?: Record<string, unknown>, options?: { tx?: Queryable }): Promise<void>;
  /** Aborted when the job is lost or stop() stops waiting for it: stop soon, without saving more. */
  signal: AbortSignal;
}

export type JobHandler<P = Record<string, unknown>> = (context: JobContext<P>) => Promise<Record<string, unknown> | void>;

export interface JobLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface JobRunnerOptions {
  db: Db;
  workerId?: string;
  concurrency: number;
  pollIntervalMs: number;
  leaseSeconds: number;
  logger?: JobLogger;
  /** Delay before retry number `attempt + 1`; defaults to 2^attempt seconds, at most 5 minutes. */
  backoffMs?: (attempt: number) => number;
}

/** How one execution of a job ended. 'lost': cancelled or taken over while it ran. */
export type JobOutcome = 'succeeded' | 'retrying' | 'failed' | 'handed_back' | 'lost';

export interface JobFinishedEvent {
  id: string;
  type: string;
  attempt: number;
  outcome: JobOutcome;
  error?: string;
}

/** Throw from a handler to fail the job at once, without retries. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
  readonly retryable = false;
}

/** The job is no longer held by this worker; whatever the handler does now is not saved. */
export class JobLostError extends Error {
  override name = 'JobLostError';
}

export const defaultBackoffMs = (attempt: number): number => Math.min(2 ** attempt * 1000, 5 * 60_000);

interface Execution {
  row: JobRow;
  lost: boolean;
  handedBack: boolean;
  abort: AbortController;
  heartbeat?: NodeJS.Timeout;
  /** DB writes in flight, awaited before a hand-back so they cannot land after it. */
  writes: Set<Promise<unknown>>;
  done: Promise<void>;
}

const noopLogger: JobLogger = { info() {}, warn() {}, error() {} };

/**
 * Runs jobs from the `jobs` table. Any number of runners (threads of one process or many
 * processes) can share a database: claiming uses FOR UPDATE SKIP LOCKED, and a lease that is not
 * renewed (the worker died) lets another runner take the job over.
 */
export class JobRunner {
  readonly workerId: string;
  private readonly db: Db;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly logger: JobLogger;
  private readonly backoffMs: (attempt: number) => number;
  private readonly handlers = new Map<string, JobHandler<unknown>>();
  private readonly active = new Map<number, Execution>();
  private readonly events = new EventEmitter();
  private started = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  /** Claims run one after another so `concurrency` is never exceeded. */
  private filling: Promise<void> = Promise.resolve();

  constructor(options: JobRunnerOptions) {
    this.db = options.db;
    this.workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
    this.concurrency = Math.max(1, options.concurrency);
    this.pollIntervalMs = options.pollIntervalMs;
    this.leaseMs = Math.max(1, Math.round(options.leaseSeconds * 1000));
    this.logger = options.logger ?? noopLogger;
    this.backoffMs = options.backoffMs ?? defaultBackoffMs;
  }

  register<P>(type: string, handler: JobHandler<P>): void {
    if (this.handlers.has(type)) throw new Error(`A handler for job type ${type} is already registered`);
    this.handlers.set(type, handler as unknown as JobHandler<unknown>);
  }

  /** Calls `listener` after every execution of a job; returns the unsubscribe function. */
  onJobFinished(listener: (event: JobFinishedEvent) => void): () => void {
    this.events.on('finished', listener);
    return () => this.events.off('finished', listener);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.schedule(0);
  }

  isRunning(): boolean {
    return this.started && !this.stopping;
  }

  /**
   * Stops claiming, waits up to `graceMs` for running handlers, then hands the rest back
   * (queued, unlocked, checkpoint kept) so another runner resumes them.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.filling; // a claim in flight lands in `active` first
    if (this.active.size > 0) {
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.active.values()].map((execution) => execution.done)),
        new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(graceTimer);
      await Promise.all([...this.active.values()].map((execution) => this.handBack(execution)));
    }
    this.started = false;
    this.stopping = false;
  }

  /** Runs jobs until none is runnable now (for tests and one-off commands). */
  async drain(): Promise<void> {
    for (;;) {
      await this.fill();
      if (this.active.size === 0) return;
      await Promise.race([...this.active.values()].map((execution) => execution.done));
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || !this.isRunning()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, delayMs);
    this.timer.unref(); // an idle runner must not keep the process alive
  }

  private async poll(): Promise<void> {
    try {
      await this.fill();
    } catch (error) {
      this.logger.error({ err: error, workerId: this.workerId }, 'Claiming a job failed');
    }
    if (this.active.size < this.concurrency) this.schedule(this.pollIntervalMs);
  }

  private fill(): Promise<void> {
    const run = this.filling.then(async () => {
      while (!this.stopping && this.active.size < this.concurrency) {
        const row = await this.claim();
        if (!row) return;
        this.launch(row);
      }
    });
    this.filling = run.catch(() => {});
    return run;
  }

  private async claim(): Promise<JobRow | undefined> {
    const types = [...this.handlers.keys()];
    if (types.length === 0) return undefined; // unknown types are left for runners that know them
    const [row] = await this.db
      .update(jobs)
      .set({
        state: 'running',
        lockedBy: this.workerId,
        leaseUntil: this.leaseFromNow(),
        attempts: sql`${jobs.attempts} + 1`,
        updatedAt: sql`now()`,
      })
      .where(sql`${jobs.id} = (
        select id from jobs
        where type in (${sql.join(types.map((type) => sql`${type}`), sql`, `)})
          and ((state = 'queued' and run_at <= now()) or (state = 'running' and lease_until < now()))
        order by run_at, id
        limit 1
        for update skip locked)`)
      .returning();
    return row;
  }

  private launch(row: JobRow): void {
    const execution: Execution = {
      row,
      lost: false,
      handedBack: false,
      abort: new AbortController(),
      writes: new Set(),
      done: Promise.resolve(),
    };
    this.active.set(row.id, execution);
    // attempt > 1: a retry after a failure, or a takeover of a job whose worker stopped heartbeating.
    this.logger.info({ jobId: row.uuid, type: row.type, attempt: row.attempts, workerId: this.workerId }, 'Job claimed');
    execution.done = this.execute(execution)
      .catch((error: unknown) => this.logger.error({ err: error, jobId: row.uuid }, 'Job bookkeeping failed'))
      .finally(() => {
        clearInterval(execution.heartbeat);
        // A handed-back execution may end after the job was claimed again under the same id.
        if (this.active.get(row.id) === execution) this.active.delete(row.id);
        if (this.isRunning()) {
          clearTimeout(this.timer);
          this.timer = undefined;
          this.schedule(0); // a slot is free
        }
      });
  }

  private async execute(execution: Execution): Promise<void> {
    const { row } = execution;
    if (row.attempts > row.maxAttempts) {
      // Taken over from a worker that died on the last attempt: a job that kills its worker
      // must not be retried for ever.
      const error = 'The worker running the last attempt stopped responding (its lease expired)';
      await this.finish(execution, 'failed', { state: 'failed', lastError: error, finishedAt: sql`now()` }, error);
      return;
    }
    const handler = this.handlers.get(row.type)!;
    execution.heartbeat = setInterval(() => {
      this.write(execution, () => this.extendLease(execution, {})).catch((error: unknown) => {
        if (!(error instanceof JobLostError)) this.logger.warn({ err: error, jobId: row.uuid }, 'Job heartbeat failed');
      });
    }, Math.max(1, Math.floor(this.leaseMs / 3)));
    execution.heartbeat.unref();

    let result: Record<string, unknown> | void;
    try {
      result = await handler({
        job: {
          id: row.uuid,
          type: row.type,
          payload: row.payload,
          attempt: row.attempts,
          maxAttempts: row.maxAttempts,
          checkpoint: row.checkpoint ?? null,
        },
        signal: execution.abort.signal,
        reportProgress: (done, total, checkpoint, options) =>
          this.write(execution, () =>
            this.extendLease(execution, {
              progressDone: done,
              ...(total === undefined ? {} : { progressTotal: total }),
              ...(checkpoint === undefined ? {} : { checkpoint }),
            }, options?.tx)),
      });
    } catch (error) {
      clearInterval(execution.heartbeat);
      await this.handleFailure(execution, error);
      return;
    }
    clearInterval(execution.heartbeat);
    const values = { state: 'succeeded' as const, result: result ?? null, lastError: null, finishedAt: sql`now()` };
    await this.finish(execution, 'succeeded', values);
  }

  private async handleFailure(execution: Execution, error: unknown): Promise<void> {
    const { row } = execution;
    const message = errorMessage(error);
    const permanent = error instanceof PermanentJobError || (error as { retryable?: unknown } | null)?.retryable === false;
    if (!permanent && row.attempts < row.maxAttempts) {
      const delayMs = Math.max(0, Math.round(this.backoffMs(row.attempts)));
      const runAt = sql`now() + ${delayMs}::int * interval '1 millisecond'`;
      await this.finish(execution, 'retrying', { state: 'queued', runAt, lastError: message }, message);
    } else {
      await this.finish(execution, 'failed', { state: 'failed', lastError: message, finishedAt: sql`now()` }, message);
    }
  }

  /** Writes the end of an execution, if the job is still ours, and reports it. */
  private async finish(
    execution: Execution,
    outcome: JobOutcome,
    values: JobChanges,
    error?: string,
  ): Promise<void> {
    if (execution.handedBack) return; // reported when handed back
    const { row } = execution;
    let owned = false;
    if (!execution.lost) {
      await Promise.allSettled([...execution.writes]); // a late heartbeat must not land after the final write
      owned = await this.write(execution, async () => {
        const updated = await this.db
          .update(jobs)
          .set({ ...values, lockedBy: null, leaseUntil: null, updatedAt: sql`now()` })
          .where(this.ownedBy(execution))
          .returning({ id: jobs.id });
        return updated.length > 0;
      }).catch((e: unknown) => (e instanceof JobLostError ? false : Promise.reject(e)));
    }
    if (execution.handedBack) return;
    const finalOutcome = owned ? outcome : 'lost';
    const log = finalOutcome === 'succeeded' ? 'info' : 'warn';
    this.logger[log]({ jobId: row.uuid, type: row.type, attempt: row.attempts, outcome: finalOutcome, error, workerId: this.workerId }, `Job ${finalOutcome}`);
    this.emit({ id: row.uuid, type: row.type, attempt: row.attempts, outcome: finalOutcome, ...(error ? { error } : {}) });
  }

  private async handBack(execution: Execution): Promise<void> {
    const { row } = execution;
    execution.lost = true;
    execution.handedBack = true;
    clearInterval(execution.heartbeat);
    execution.abort.abort(new JobLostError('The runner is stopping'));
    this.active.delete(row.id);
    await Promise.allSettled([...execution.writes]); // a checkpoint being saved must land first
    await this.db
      .update(jobs)
      // A graceful stop is not the job's fault: give the attempt back.
      .set({ state: 'queued', lockedBy: null, leaseUntil: null, attempts: sql`greatest(${jobs.attempts} - 1, 0)`, updatedAt: sql`now()` })
      .where(this.ownedBy(execution));
    this.logger.warn({ jobId: row.uuid, type: row.type, workerId: this.workerId }, 'Job handed back at shutdown');
    this.emit({ id: row.uuid, type: row.type, attempt: row.attempts, outcome: 'handed_back' });
  }

  /** Extends the lease (with optional progress fields); marks the job lost if it is no longer ours. */
  private async extendLease(execution: Execution, values: JobChanges, tx?: Queryable): Promise<void> {
    const updated = await (tx ?? this.db)
      .update(jobs)
      .set({ ...values, leaseUntil: this.leaseFromNow(), updatedAt: sql`now()` })
      .where(this.ownedBy(execution))
      .returning({ id: jobs.id });
    if (updated.length === 0) {
      this.markLost(execution);
      throw new JobLostError(`Job ${execution.row.uuid} is no longer held by this worker`);
    }
  }

  /** Runs a write for a live execution and tracks it until it settles. */
  private write<T>(execution: Execution, work: () => Promise<T>): Promise<T> {
    if (execution.lost) return Promise.reject(new JobLostError(`Job ${execution.row.uuid} is no longer held by this worker`));
    const pending = work();
    execution.writes.add(pending);
    void pending.catch(() => {}).finally(() => execution.writes.delete(pending));
    return pending;
  }

  private markLost(execution: Execution): void {
    if (execution.lost) return;
    execution.lost = true;
    clearInterval(execution.heartbeat);
    execution.abort.abort(new JobLostError('The job was cancelled or taken over'));
  }

  private ownedBy(execution: Execution) {
    return and(eq(jobs.id, execution.row.id), eq(jobs.lockedBy, this.workerId), eq(jobs.state, 'running'));
  }

  private leaseFromNow() {
    return sql`now() + ${this.leaseMs}::int * interval '1 millisecond'`;
  }

  private emit(event: JobFinishedEvent): void {
    try {
      this.events.emit('finished', event);
    } catch (error) {
      this.logger.error({ err: error }, 'A job event listener threw');
    }
  }
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  return message.slice(0, 2000);
}
