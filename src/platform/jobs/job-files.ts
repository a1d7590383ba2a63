import crypto from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Queryable } from '../database/database.js';
import { jobFileChunks, jobFiles } from './job-files.tables.js';
import { jobs } from './jobs.tables.js';

/** Bytes per stored chunk: large enough for few round trips, small enough to keep memory flat. */
export const CHUNK_SIZE = 1024 * 1024;

export type JobFile = typeof jobFiles.$inferSelect;

export interface JobFileInput {
  /** The owning job: its database id or its uuid. */
  jobId?: number | string;
  /** What the file is to the job, e.g. 'export', 'upload', 'errors'. */
  purpose: string;
  fileName: string;
  contentType: string;
  createdBy?: string | null;
}

export interface JobFileWriter {
  readonly file: JobFile;
  /** Appends bytes; full chunks are inserted before the promise resolves. */
  write(data: Buffer | string): Promise<void>;
  /** Stores the last partial chunk and marks the file complete (readable by others). */
  complete(): Promise<JobFile>;
  /** Deletes this file and its chunks (a failed attempt), whatever was written so far. */
  discard(): Promise<void>;
  /** The writer as a Node Writable (with backpressure); completes the file when ended. */
  writable(): Writable;
}

/**
 * Starts a file stored in the database. Chunks are inserted as they fill up, each in its own
 * statement, so a file of any size never sits in memory and any process can serve it once
 * `complete()` has set `completed_at`.
 */
export async function createJobFileWriter(db: Queryable, input: JobFileInput): Promise<JobFileWriter> {
  const jobId = input.jobId === undefined ? null : await jobDatabaseId(db, input.jobId);
  const [created] = await db.insert(jobFiles).values({
    uuid: crypto.randomUUID(),
    jobId,
    purpose: input.purpose,
    fileName: input.fileName,
    contentType: input.contentType,
    createdBy: input.createdBy ?? null,
  }).returning();
  let file = created!;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let sequence = 0;
  let size = 0;
  let completed = false;

  const insertChunk = async (bytes: Buffer) => {
    await db.insert(jobFileChunks).values({ fileId: file.id, sequence, bytes });
    sequence += 1;
    size += bytes.length;
  };

  const writer: JobFileWriter = {
    get file() { return file; },
    async write(data) {
      if (completed) throw new Error(`Job file ${file.uuid} is already complete`);
      const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (buffer.length === 0) return;
      pending.push(buffer);
      pendingBytes += buffer.length;
      if (pendingBytes < CHUNK_SIZE) return;
      let joined = Buffer.concat(pending, pendingBytes);
      while (joined.length >= CHUNK_SIZE) {
        await insertChunk(joined.subarray(0, CHUNK_SIZE));
        joined = joined.subarray(CHUNK_SIZE);
      }
      // Copy the remainder so the large joined buffer can be freed.
      pending = joined.length > 0 ? [Buffer.from(joined)] : [];
      pendingBytes = joined.length;
    },
    async complete() {
      if (completed) return file;
      if (pendingBytes > 0) await insertChunk(Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
      completed = true;
      const [updated] = await db.update(jobFiles)
        .set({ sizeBytes: size, chunkCount: sequence, completedAt: sql`now()` })
        .where(eq(jobFiles.id, file.id))
        .returning();
      file = updated!;
      return file;
    },
    async discard() {
      completed = true;
      pending = [];
      await db.delete(jobFileChunks).where(eq(jobFileChunks.fileId, file.id));
      await db.delete(jobFiles).where(eq(jobFiles.id, file.id));
    },
    writable() {
      return new Writable({
        write: (chunk: Buffer | string, _encoding, callback) => { writer.write(chunk).then(() => callback(), callback); },
        final: (callback) => { writer.complete().then(() => callback(), callback); },
      });
    },
  };
  return writer;
}

/** Stores a small file (an upload) in one go. */
export async function storeJobFile(db: Queryable, input: JobFileInput, bytes: Buffer | string): Promise<JobFile> {
  const writer = await createJobFileWriter(db, input);
  await writer.write(bytes);
  return writer.complete();
}

/** The newest complete file a job stored for `purpose`, if any. */
export async function findJobFile(db: Queryable, jobUuid: string, purpose: string): Promise<JobFile | undefined> {
  const [row] = await db.select({ file: jobFiles }).from(jobFiles)
    .innerJoin(jobs, eq(jobs.id, jobFiles.jobId))
    .where(and(eq(jobs.uuid, jobUuid), eq(jobFiles.purpose, purpose), isNotNull(jobFiles.completedAt)))
    .orderBy(desc(jobFiles.id))
    .limit(1);
  return row?.file;
}

/** Deletes a job's files for `purpose`, complete or not (a re-run starts its file again). */
export async function deleteJobFiles(db: Queryable, jobId: number | string, purpose: string): Promise<number> {
  const id = await jobDatabaseId(db, jobId);
  const files = await db.select({ id: jobFiles.id }).from(jobFiles).where(and(eq(jobFiles.jobId, id), eq(jobFiles.purpose, purpose)));
  if (files.length === 0) return 0;
  const ids = files.map((file) => file.id);
  await db.delete(jobFileChunks).where(inArray(jobFileChunks.fileId, ids));
  await db.delete(jobFiles).where(inArray(jobFiles.id, ids));
  return ids.length;
}

/**
 * Reads a complete file back one chunk (one query) at a time, as the consumer pulls.
 * Resolves to undefined when there is no such complete file, so callers can answer 404 before
 * they start sending.
 */
export async function openJobFileStream(db: Queryable, fileUuid: string): Promise<Readable | undefined> {
  const [file] = await db.select().from(jobFiles).where(and(eq(jobFiles.uuid, fileUuid), isNotNull(jobFiles.completedAt)));
  if (!file) return undefined;
  async function* chunks() {
    for (let sequence = 0; sequence < file!.chunkCount; sequence += 1) {
      const [chunk] = await db.select({ bytes: jobFileChunks.bytes }).from(jobFileChunks)
        .where(and(eq(jobFileChunks.fileId, file!.id), eq(jobFileChunks.sequence, sequence)));
      if (!chunk) throw new Error(`Job file ${fileUuid} is missing chunk ${sequence}`);
      yield chunk.bytes;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

async function jobDatabaseId(db: Queryable, jobId: number | string): Promise<number> {
  if (typeof jobId === 'number') return jobId;
  const [row] = await db.select({ id: jobs.id }).from(jobs).where(eq(jobs.uuid, jobId));
  if (!row) throw new Error(`Job ${jobId} does not exist`);
  return row.id;
}
