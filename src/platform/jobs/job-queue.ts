import crypto from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../database/database.js';
import { jobs, type JobState } from './jobs.tables.js';

/** A job as the outside world sees it: addressed by uuid, never by the database id. */
export interface JobView {
  id: string;
  type: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  progress: { done: number; total: number | null };
  result: Record<string, unknown> | null;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** The client or user that started the job. */
  createdBy: string | null;
}

export interface EnqueueJobInput<P extends Record<string, unknown> = Record<string, unknown>> {
  type: string;
  payload: P;
  /** Enqueuing the same (type, dedupeKey) again returns the existing job, whatever its state. */
  dedupeKey?: string;
  maxAttempts?: number;
  /** Earliest start; defaults to now. */
  runAt?: Date;
  createdBy?: string;
}

export const jobStates: readonly JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Adds a job. Pass the caller's transaction so the job commits (or rolls back) with the
 * business write that asked for it.
 */
export async function enqueueJob<P extends Record<string, unknown>>(db: Queryable, input: EnqueueJobInput<P>): Promise<JobView> {
  const inserted = await db
    .insert(jobs)
    .values({
      uuid: crypto.randomUUID(),
      type: input.type,
      payload: input.payload,
      dedupeKey: input.dedupeKey ?? null,
      maxAttempts: input.maxAttempts ?? 5,
      runAt: input.runAt, // undefined = the column default, now()
      createdBy: input.createdBy ?? null,
    })
    .onConflictDoNothing({ target: [jobs.type, jobs.dedupeKey] })
    .returning();
  if (inserted[0]) return toJobView(inserted[0]);
  // Only a dedupe conflict skips the insert; nulls never conflict, so dedupeKey is set here.
  const [existing] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.type, input.type), eq(jobs.dedupeKey, input.dedupeKey!)));
  if (!existing) throw new Error(`Job (${input.type}, ${input.dedupeKey}) conflicted but could not be read`);
  return toJobView(existing);
}

export async function findJob(db: Queryable, id: string): Promise<JobView | undefined> {
  if (!UUID.test(id)) return undefined; // the uuid column would reject it with a SQL error
  const [row] = await db.select().from(jobs).where(eq(jobs.uuid, id));
  return row ? toJobView(row) : undefined;
}

/**
 * Cancels a queued or running job and returns it; a finished job is returned unchanged.
 * A running handler notices at its next progress report or heartbeat (its signal aborts).
 */
export async function cancelJob(db: Queryable, id: string): Promise<JobView | undefined> {
  if (!UUID.test(id)) return undefined;
  const [cancelled] = await db
    .update(jobs)
    .set({ state: 'cancelled', lockedBy: null, leaseUntil: null, finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(jobs.uuid, id), inArray(jobs.state, ['queued', 'running'])))
    .returning();
  return cancelled ? toJobView(cancelled) : findJob(db, id);
}

/** Number of jobs in each state (every state present, zero when empty). */
export async function jobQueueStats(db: Queryable): Promise<Record<JobState, number>> {
  const rows = await db
    .select({ state: jobs.state, count: sql<number>`count(*)::int` })
    .from(jobs)
    .groupBy(jobs.state);
  const stats = Object.fromEntries(jobStates.map((state) => [state, 0])) as Record<JobState, number>;
  for (const row of rows) stats[row.state] = row.count;
  return stats;
}

export function toJobView(row: typeof jobs.$inferSelect): JobView {
  return {
    id: row.uuid,
    type: row.type,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    progress: { done: row.progressDone, total: row.progressTotal },
    result: row.result ?? null,
    error: row.lastError,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    createdBy: row.createdBy,
  };
}
