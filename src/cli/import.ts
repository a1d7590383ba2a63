import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '../platform/config.js';
import type { Db } from '../platform/database/database.js';
import { createSystem } from '../app.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { AppError } from '../platform/errors.js';
import { findJob, type JobView } from '../platform/jobs/job-queue.js';
import { JobRunner } from '../platform/jobs/job-runner.js';
import { jobs } from '../platform/jobs/jobs.tables.js';
import { IMPORT_JOB, type ImportPayload, type ImportRequest } from '../modules/bulk-data/import/import.service.js';
import { formatOf, type ImportFormat } from '../modules/bulk-data/import/import.readers.js';

export interface ImportCommandOptions {
  mapping?: string;
  mappingFile?: string;
  saveMapping?: string;
  format?: ImportFormat;
  batchSize?: number;
  report?: string;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 250;

/**
 * `commonweal import FILE`: the same `registry.import` job the API queues, run by a job runner in
 * this process, with a progress bar. The job is keyed by the file's content hash (and mapping), so
 * running the same command after an interruption continues that job from its last checkpoint.
 */
export async function importCommand(config: Config, file: string, options: ImportCommandOptions): Promise<void> {
  const format = options.format ?? formatOf(file);
  if (!format) throw AppError.validation(`Cannot tell the format of "${file}"; name it .csv or .xlsx, or pass --format csv|xlsx`);
  if (options.mapping && options.mappingFile) throw AppError.validation('Give --mapping NAME or --mapping-file FILE, not both');
  if (options.saveMapping && !options.mappingFile) throw AppError.validation('--save-mapping NAME saves the mapping of --mapping-file FILE; give one');
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw AppError.validation(`No such file: ${file}`);
  if (stat.size === 0) throw AppError.validation(`The file ${file} is empty`);

  const system = await createSystem({ ...config, jobWorkers: 0 });
  const { db } = system.database;
  const imports = system.services.imports;
  const actor = systemActor('cli:import');
  try {
    const request: ImportRequest = options.mappingFile ? { mappingDocument: readJson(options.mappingFile) } : options.mapping ? { mapping: options.mapping } : {};
    const resolved = await imports.resolveMapping(request);
    if (options.saveMapping && resolved.mapping) {
      const { view } = await imports.mappings.put(actor.id, options.saveMapping, { mapping: resolved.mapping });
      console.log(`Saved mapping "${view.name}" (version ${view.version}).`);
    }

    // Same file, same mapping: the same import. A finished one is not reopened; the next gets a new key.
    const keyPrefix = `sha256:${await sha256(file)}:${hash(JSON.stringify([format, resolved.mapping]))}#`;
    const previous = await imports.findJobByKeyPrefix(keyPrefix);
    let job: JobView;
    let headline: string;
    if (previous && !FINISHED.has(previous.state)) {
      job = (await findJob(db, previous.id))!;
      headline = `Continuing import job ${job.id} after ${job.progress.done} rows.`;
    } else {
      const generation = previous ? Number(previous.dedupeKey.slice(keyPrefix.length)) + 1 : 1;
      const upload = await imports.storeUpload(actor, fs.createReadStream(file), { fileName: path.basename(file), contentType: 'application/octet-stream', format });
      try {
        job = await imports.start(actor, upload, request, { batchSize: options.batchSize, dedupeKey: `${keyPrefix}${generation}` });
      } finally {
        await imports.discardUpload(upload.fileId); // only if no job took it (refused, or a twin run enqueued first)
      }
      headline = `Started import job ${job.id}.`;
    }

    const outcome = await runToEnd(system, job.id, headline);
    if (options.report) {
      await imports.writeProblems(job.id, fs.createWriteStream(options.report));
    }
    report(outcome.job, outcome.interrupted, options.report);
    if (outcome.interrupted) process.exitCode = 130;
    else if (outcome.job.state !== 'succeeded') process.exitCode = 1;
  } finally {
    await system.close();
  }
}

/** Runs import jobs here until ours has finished (or Ctrl-C hands it back), with a progress bar. */
async function runToEnd(system: Awaited<ReturnType<typeof createSystem>>, jobId: string, headline: string): Promise<{ job: JobView; interrupted: boolean }> {
  const { db } = system.database;
  const config = system.config;
  if (system.database.kind === 'pglite') {
    // The embedded database is locked to this process, so a "running" job was left by one that died:
    // end its lease now rather than waiting for it to expire.
    await db.update(jobs).set({ leaseUntil: sql`now()` }).where(and(eq(jobs.uuid, jobId), eq(jobs.state, 'running')));
  }
  const runner = new JobRunner({ db, concurrency: 1, pollIntervalMs: 100, leaseSeconds: config.jobLeaseSeconds });
  // Handlers are tracked so that, after a hand-back, the database is not closed under one still winding down.
  const running = new Set<Promise<unknown>>();
  runner.register<ImportPayload>(IMPORT_JOB, (context) => {
    const execution = system.services.imports.runJob(context);
    running.add(execution);
    void execution.catch(() => {}).finally(() => running.delete(execution));
    return execution;
  });

  const bar = new SingleBar({ format: 'Importing [{bar}] {value}/{total} rows | {rate} rows/s | ETA {eta}s', hideCursor: true }, Presets.shades_classic);
  let interrupted = false;
  const interrupt = () => { interrupted = true; };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  console.log(headline); // once Ctrl-C is handled
  const started = Date.now();
  let job = (await findJob(db, jobId))!;
  const doneBefore = job.progress.done;
  bar.start(job.progress.total ?? 0, job.progress.done, { rate: '0' });
  runner.start();
  let toldHeldElsewhere = false;
  try {
    while (!interrupted && !FINISHED.has(job.state)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = (await findJob(db, jobId))!;
      bar.setTotal(Math.max(job.progress.total ?? 0, job.progress.done)); // XLSX: the total is known at the end
      bar.update(job.progress.done, { rate: ((job.progress.done - doneBefore) / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(0) });
      if (!toldHeldElsewhere && job.state === 'running' && (await lockHolder(db, jobId)) !== runner.workerId) {
        toldHeldElsewhere = true;
        console.log(`\nImport job ${jobId} is held by another process (if that process died, it is taken over when its lease expires); following its progress.`);
      }
    }
  } finally {
    // Ctrl-C: the job is handed back at once (queued, checkpoint kept) for the next run of this command.
    await runner.stop(interrupted ? 0 : config.shutdownGraceMs);
    await Promise.allSettled([...running]);
    bar.stop();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  return { job: (await findJob(db, jobId))!, interrupted: interrupted && !FINISHED.has(job.state) };
}

function report(job: JobView, interrupted: boolean, reportFile: string | undefined): void {
  const result = job.result as Record<string, number> | null;
  if (interrupted) {
    console.log(`Interrupted after ${job.progress.done} rows. Run the same command again to continue import job ${job.id}.`);
  } else if (job.state === 'succeeded' && result) {
    console.log(`Imported ${result.rows} rows (${result.rowsPerSecond} rows/s): ${result.created} created, ${result.updated} updated, ${result.rejected} rejected; `
      + `${result.householdsCreated} households and ${result.membershipsCreated} memberships created.`);
  } else {
    console.error(`Import job ${job.id} ${job.state}: ${job.error ?? 'no error recorded'}`);
  }
  if (reportFile) console.log(`Problem report: ${reportFile}`);
  else if ((result?.rejected ?? 0) > 0) console.log('Pass --report FILE.csv to get the rejected rows with their reasons.');
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw AppError.validation(`Cannot read the mapping file ${file}: ${(error as Error).message}`);
  }
}

async function sha256(file: string): Promise<string> {
  const digest = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) digest.update(chunk as Buffer);
  return digest.digest('hex');
}

async function lockHolder(db: Db, jobId: string): Promise<string | null> {
  const [row] = await db.select({ lockedBy: jobs.lockedBy }).from(jobs).where(eq(jobs.uuid, jobId));
  return row?.lockedBy ?? null;
}

const hash = (text: string) => crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
