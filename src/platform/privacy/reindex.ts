import type { Db, Queryable } from '../database/database.js';
import type { KeyRing } from '../crypto/key-ring.js';
import { enqueueJob, type JobView } from '../jobs/job-queue.js';
import type { JobContext } from '../jobs/job-runner.js';

export const REINDEX_JOB = 'privacy.reindex';

/** A table holding blind indexes, as the re-index job walks it (by id). */
export interface ReindexTarget {
  name: string;
  /**
   * Recomputes under the writing index key, in `db` (a transaction), up to `limit` rows with an id
   * above `afterId` holding an index of another key. `lastId` undefined: none left.
   */
  reindexBatch(db: Queryable, afterId: number, limit: number): Promise<{ lastId: number | undefined; rewritten: number }>;
}

interface Checkpoint extends Record<string, unknown> { pass: number; target: number; afterId: number; rewritten: number }
interface Payload extends Record<string, unknown> { version: number; rotatedAt: number }

/**
 * `keys rotate-index-key`: a new blind-index root key writes at once, lookups try every active key
 * (registry.encryption.ts `identifierIndexes`/`phoneIndexes`), and the `privacy.reindex` job
 * recomputes every stored index under the new key in batches, each committed with its checkpoint
 * (resumable). Once the other processes must have picked the new key up (`settleMs` after the
 * rotation: their key refresh interval) a last pass catches what they wrote meanwhile, and the
 * older keys are retired: lookups stop trying them. No downtime, no moment without a match.
 */
export class ReindexService {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyRing,
    private readonly targets: readonly ReindexTarget[],
    private readonly options: { batchSize?: number; settleMs?: number } = {},
  ) {}

  async rotate(createdBy: string): Promise<{ version: number; job: JobView }> {
    const version = await this.keys.rotateIndexKey();
    const payload: Payload = { version, rotatedAt: Date.now() };
    return { version, job: await enqueueJob(this.db, { type: REINDEX_JOB, payload, createdBy, maxAttempts: 10, dedupeKey: `index-v${version}` }) };
  }

  async runJob({ job, reportProgress, signal }: JobContext<Payload>): Promise<{ version: number; rewritten: number; retired: number }> {
    await this.keys.refresh();
    const version = this.keys.blindIndex().writingVersion; // a later rotation supersedes this one's key
    let checkpoint: Checkpoint = (job.checkpoint as Checkpoint | null) ?? { pass: 1, target: 0, afterId: 0, rewritten: 0 };
    const sweep = async () => {
      for (; checkpoint.target < this.targets.length; checkpoint = { ...checkpoint, target: checkpoint.target + 1, afterId: 0 }) {
        const target = this.targets[checkpoint.target]!;
        for (;;) {
          signal.throwIfAborted();
          const next = await this.db.transaction(async (tx) => {
            const { lastId, rewritten } = await target.reindexBatch(tx, checkpoint.afterId, this.options.batchSize ?? 500);
            if (lastId === undefined) return undefined;
            const moved: Checkpoint = { ...checkpoint, afterId: lastId, rewritten: checkpoint.rewritten + rewritten };
            await reportProgress(moved.rewritten, undefined, moved, { tx });
            return moved;
          });
          if (!next) break;
          checkpoint = next;
        }
      }
    };
    if (checkpoint.pass === 1) {
      await sweep();
      checkpoint = { ...checkpoint, pass: 2, target: 0, afterId: 0 };
      await reportProgress(checkpoint.rewritten, undefined, checkpoint);
    }
    // Processes that have not refreshed their keys yet may still write indexes of the old key.
    const wait = job.payload.rotatedAt + (this.options.settleMs ?? 35_000) - Date.now();
    if (wait > 0) await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, wait);
      signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
    });
    await sweep();
    const retired = await this.keys.retireIndexKeysBefore(version);
    return { version, rewritten: checkpoint.rewritten, retired };
  }
}
