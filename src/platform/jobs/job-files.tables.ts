import { bigserial, bigint, customType, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { jobs } from './jobs.tables.js';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
});

/**
 * Files that belong to a job: an uploaded import, an export result, an error report. Kept in the
 * database (in chunks, so they stream) so that any server process can read what another wrote.
 */
export const jobFiles = pgTable(
  'job_files',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    uuid: uuid('uuid').notNull().unique(),
    jobId: bigint('job_id', { mode: 'number' }).references(() => jobs.id),
    purpose: text('purpose').notNull(),
    fileName: text('file_name').notNull(),
    contentType: text('content_type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
    chunkCount: integer('chunk_count').notNull().default(0),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (table) => [index('job_files_job_idx').on(table.jobId, table.purpose)],
);

export const jobFileChunks = pgTable(
  'job_file_chunks',
  {
    fileId: bigint('file_id', { mode: 'number' }).notNull().references(() => jobFiles.id),
    sequence: integer('sequence').notNull(),
    bytes: bytea('bytes').notNull(),
  },
  (table) => [primaryKey({ columns: [table.fileId, table.sequence] })],
);
