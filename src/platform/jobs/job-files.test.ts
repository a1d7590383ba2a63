import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { openTestDatabase, type TestDatabase } from '../../test-support/test-database.js';
import { enqueueJob } from './job-queue.js';
import { CHUNK_SIZE, createJobFileWriter, deleteJobFiles, findJobFile, openJobFileStream, storeJobFile } from './job-files.js';
import { jobFileChunks, jobFiles } from './job-files.tables.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe('job files: chunked files in the database', () => {
  let testDb: TestDatabase;
  before(async () => { testDb = await openTestDatabase(); });
  after(async () => { await testDb?.close(); });
  beforeEach(async () => { await testDb.reset(); });

  test('a multi-chunk file written in odd-sized pieces reads back byte for byte', async () => {
    const job = await enqueueJob(testDb.db, { type: 'test.files', payload: {} });
    const content = crypto.randomBytes(2 * CHUNK_SIZE + 12_345);
    const writer = await createJobFileWriter(testDb.db, { jobId: job.id, purpose: 'export', fileName: 'x.bin', contentType: 'application/octet-stream', createdBy: 'cw_a' });
    for (let offset = 0; offset < content.length; offset += 300_001) await writer.write(content.subarray(offset, offset + 300_001));
    // Not visible until complete.
    assert.equal(await findJobFile(testDb.db, job.id, 'export'), undefined);
    assert.equal(await openJobFileStream(testDb.db, writer.file.uuid), undefined);
    const file = await writer.complete();
    assert.deepEqual([file.sizeBytes, file.chunkCount, file.createdBy], [content.length, 3, 'cw_a']);

    const found = await findJobFile(testDb.db, job.id, 'export');
    assert.equal(found?.uuid, file.uuid);
    const chunks = await testDb.db.select({ sequence: jobFileChunks.sequence }).from(jobFileChunks).where(eq(jobFileChunks.fileId, file.id));
    assert.deepEqual(chunks.map((c) => c.sequence).sort(), [0, 1, 2]);
    const read = await readAll((await openJobFileStream(testDb.db, file.uuid))!);
    assert.ok(read.equals(content));
  });

  test('the Writable form pipes text (multi-byte characters split across writes) and completes on end', async () => {
    const job = await enqueueJob(testDb.db, { type: 'test.files', payload: {} });
    const line = 'Zoë Núñez, São Tomé — 東京\n';
    const lines = Array.from({ length: 60_000 }, () => line);
    const writer = await createJobFileWriter(testDb.db, { jobId: job.id, purpose: 'export', fileName: 'x.csv', contentType: 'text/csv' });
    await pipeline(Readable.from(lines), writer.writable());
    assert.ok(writer.file.completedAt);
    assert.ok(writer.file.chunkCount >= 2);
    const read = await readAll((await openJobFileStream(testDb.db, writer.file.uuid))!);
    assert.equal(read.toString('utf8'), lines.join(''));
  });

  test('small files are stored in one go; an empty file has no chunks', async () => {
    const upload = await storeJobFile(testDb.db, { purpose: 'upload', fileName: 'u.csv', contentType: 'text/csv' }, 'a,b\n1,2\n');
    assert.equal((await readAll((await openJobFileStream(testDb.db, upload.uuid))!)).toString(), 'a,b\n1,2\n');
    const empty = await storeJobFile(testDb.db, { purpose: 'upload', fileName: 'e.csv', contentType: 'text/csv' }, Buffer.alloc(0));
    assert.deepEqual([empty.sizeBytes, empty.chunkCount], [0, 0]);
    assert.equal((await readAll((await openJobFileStream(testDb.db, empty.uuid))!)).length, 0);
  });

  test('deleteJobFiles removes a job\'s files and chunks for one purpose only', async () => {
    const job = await enqueueJob(testDb.db, { type: 'test.files', payload: {} });
    const incomplete = await createJobFileWriter(testDb.db, { jobId: job.id, purpose: 'export', fileName: 'x.csv', contentType: 'text/csv' });
    await incomplete.write(crypto.randomBytes(CHUNK_SIZE + 1));
    const kept = await storeJobFile(testDb.db, { jobId: job.id, purpose: 'upload', fileName: 'u.csv', contentType: 'text/csv' }, 'x');
    assert.equal(await deleteJobFiles(testDb.db, job.id, 'export'), 1);
    const left = await testDb.db.select({ uuid: jobFiles.uuid }).from(jobFiles);
    assert.deepEqual(left.map((f) => f.uuid), [kept.uuid]);
    assert.equal((await testDb.db.select().from(jobFileChunks).where(eq(jobFileChunks.fileId, incomplete.file.id))).length, 0);
  });

  test('discard removes only the writer\'s own file', async () => {
    const job = await enqueueJob(testDb.db, { type: 'test.files', payload: {} });
    const other = await storeJobFile(testDb.db, { jobId: job.id, purpose: 'export', fileName: 'a.csv', contentType: 'text/csv' }, 'a');
    const writer = await createJobFileWriter(testDb.db, { jobId: job.id, purpose: 'export', fileName: 'b.csv', contentType: 'text/csv' });
    await writer.write(crypto.randomBytes(CHUNK_SIZE + 10));
    await writer.discard();
    assert.deepEqual((await testDb.db.select({ uuid: jobFiles.uuid }).from(jobFiles)).map((f) => f.uuid), [other.uuid]);
    assert.deepEqual((await testDb.db.select({ fileId: jobFileChunks.fileId }).from(jobFileChunks)).map((c) => c.fileId), [other.id]);
  });
});
