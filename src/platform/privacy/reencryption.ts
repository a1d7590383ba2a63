import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Db, Queryable } from '../database/database.js';
import type { KeyRing } from '../crypto/key-ring.js';
import { enqueueJob, toJobView, type JobView } from '../jobs/job-queue.js';
import type { JobContext } from '../jobs/job-runner.js';
import { jobs } from '../jobs/jobs.tables.js';

export const REENCRYPT_JOB = 'privacy.reencrypt';

/** A table holding encrypted values, as the re-encryption job walks it (by id). */
export interface ReencryptionTarget {
  name: string;
  /** The highest id (for progress). */
  maxId(db: Queryable): Promise<number>;
  /**
   * Rewrites under the current data key, in `db` (a transaction), up to `limit` rows with an id
   * above `afterId` that hold plaintext or ciphertext of a key older than `version`. `lastId`
   * undefined: none left.
   */
  rewriteBatch(db: Queryable, afterId: number, limit: number, version: number): Promise<{ lastId: number | undefined; rewritten: number }>;
  /** Whether any row still needs rewriting for `version` (may scan the table). */
  pending(db: Queryable, version: number): Promise<boolean>;
  /** Whether plaintext rows from before encryption at rest remain (indexed: cheap). */
  legacy(db: Queryable): Promise<boolean>;
}

interface Checkpoint extends Record<string, unknown> {
  version: number;
  target: number;
  afterId: number;
  rewritten: number;
}

const BATCH_SIZE = 500;

/**
 * `keys reencrypt`: a background job rewriting every ciphertext older than the newest data key
 * (and any plaintext left from before encryption at rest) under the newest key. Resumable: each
 * batch commits with its checkpoint (table, last id), so a job taken over or retried carries on
 * where it stopped. Reads never wait for it: old ciphertexts stay readable throughout.
 */
export class ReencryptionService {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyRing,
    private readonly targets: readonly ReencryptionTarget[],
    private readonly options: { batchSize?: number } = {},
  ) {}

  /** Queues the job, or returns the one already queued or running. */
  async enqueue(createdBy: string): Promise<{ job: JobView; created: boolean }> {
    const [running] = await this.db.select().from(jobs)
      .where(and(eq(jobs.type, REENCRYPT_JOB), inArray(jobs.state, ['queued', 'running']))).orderBy(desc(jobs.id)).limit(1);
    if (running) return { job: toJobView(running), created: false };
    return { job: await enqueueJob(this.db, { type: REENCRYPT_JOB, payload: {}, createdBy, maxAttempts: 10 }), created: true };
  }

  /** Whether plaintext rows from before encryption at rest remain (start-up check; indexed). */
  async legacyRowsPresent(): Promise<boolean> {
    for (const target of this.targets) if (await target.legacy(this.db)) return true;
    return false;
  }

  /** Whether anything is left to rewrite for the newest key (scans the tables). */
  async pending(): Promise<boolean> {
    await this.keys.refresh();
    for (const target of this.targets) if (await target.pending(this.db, this.keys.current().version)) return true;
    return false;
  }

  async runJob({ job, reportProgress, signal }: JobContext<Record<string, unknown>>): Promise<{ version: number; rewritten: number }> {
    await this.keys.refresh(); // a key rotated by another process since this one started
    const saved = job.checkpoint as Checkpoint | null;
    const version = this.keys.current().version;
    // A checkpoint for an older version is still a valid place to resume: rows before it were
    // rewritten under that version only, so start again from the beginning for the newer one.
    let checkpoint: Checkpoint = saved && saved.version === version ? saved : { version, target: 0, afterId: 0, rewritten: 0 };
    const maxIds = await Promise.all(this.targets.map((target) => target.maxId(this.db)));
    const total = maxIds.reduce((sum, max) => sum + max, 0);
    const done = () => maxIds.slice(0, checkpoint.target).reduce((sum, max) => sum + max, 0) + Math.min(checkpoint.afterId, maxIds[checkpoint.target] ?? 0);
    await reportProgress(done(), total, checkpoint);
    for (; checkpoint.target < this.targets.length; checkpoint = { ...checkpoint, target: checkpoint.target + 1, afterId: 0 }) {
      const target = this.targets[checkpoint.target]!;
      for (;;) {
        signal.throwIfAborted();
        const next = await this.db.transaction(async (tx) => {
          const { lastId, rewritten } = await target.rewriteBatch(tx, checkpoint.afterId, this.options.batchSize ?? BATCH_SIZE, version);
          if (lastId === undefined) return undefined;
          const moved: Checkpoint = { ...checkpoint, afterId: lastId, rewritten: checkpoint.rewritten + rewritten };
          await reportProgress(maxIds.slice(0, moved.target).reduce((sum, max) => sum + max, 0) + Math.min(lastId, maxIds[moved.target] ?? lastId), Math.max(total, lastId), moved, { tx });
          return moved;
        });
        if (!next) break;
        checkpoint = next;
      }
    }
    await reportProgress(total, total, { ...checkpoint, target: this.targets.length });
    return { version, rewritten: checkpoint.rewritten };
  }
}
