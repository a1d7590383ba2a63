import crypto from 'node:crypto';
import { Readable, Writable, pipeline as pipelineCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { stringify } from 'csv-stringify';
import { hasScope, type Actor } from '../../../platform/auth/access-tokens.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import { queryRows, type Db, type Tx } from '../../../platform/database/database.js';
import { AppError } from '../../../platform/errors.js';
import { createJobFileWriter, openJobFileStream } from '../../../platform/jobs/job-files.js';
import { jobFileChunks, jobFiles } from '../../../platform/jobs/job-files.tables.js';
import { enqueueJob, type JobView } from '../../../platform/jobs/job-queue.js';
import { PermanentJobError, type JobContext } from '../../../platform/jobs/job-runner.js';
import { jobs } from '../../../platform/jobs/jobs.tables.js';
import { listCustomFieldDefinitions } from '../../registry/registry.repository.js';
import type { RegistryService } from '../../registry/registry.service.js';
import type { BulkAreaScope, BulkResult } from '../../registry/bulk/registry-bulk.service.js';
import { registryClassification, type RegistryField } from '../../registry/registry.classification.js';
import { maskIdentifierValue, maskPhoneNumber } from '../../../platform/privacy/classification.js';
import { importRowProblems } from '../bulk-data.tables.js';
import type { ImportMappingService } from './import-mappings.service.js';
import { createRowMapper, defaultMapping, normalizeHeader, sourceOf, viewFieldOf, type MappedRow, type MappingDocument, type RowProblem } from './import.mapping.js';
import { readRows, type ImportFormat } from './import.readers.js';

export const IMPORT_JOB = 'registry.import';
export const UPLOAD_PURPOSE = 'import';
export const DEFAULT_BATCH_SIZE = 1000;
export const MAX_BATCH_SIZE = 10_000;
/** A household is never split between batches (its head must be written with it), up to this many rows. */
const MAX_BATCH_GROWTH = 10;

/** An uploaded file, stored in the job file store, not yet attached to a job. */
export interface StoredUpload {
  fileId: string;
  fileName: string;
  format: ImportFormat;
  sizeBytes: number;
  sha256: string;
}

/** How the file's columns are read: a saved mapping by name, or a mapping document; neither = headers are field names. */
export interface ImportRequest {
  mapping?: string;
  mappingDocument?: unknown;
}

/** Saved with the job: everything a run (or a re-run on another process) needs. */
export interface ImportPayload extends Record<string, unknown> {
  fileId: string;
  fileName: string;
  format: ImportFormat;
  /** Resolved when the job was started, so editing the saved mapping later does not change a running import. */
  mapping: MappingDocument;
  mappingName: string | null;
  batchSize: number;
  sha256: string;
  /** Who started it: their permissions and area limits apply when it runs. */
  actor: { type: Actor['type']; id: string; scopes: string[]; areaLimits?: Array<[string, string[]]> };
}

/** Counts so far and the last row written; saved in the transaction of each batch. */
interface ImportCheckpoint extends Record<string, unknown> {
  row: number;
  rows: number;
  created: number;
  updated: number;
  householdsCreated: number;
  membershipsCreated: number;
  rejected: number;
  seconds: number;
  total: number | null;
}

export interface ImportResult extends Record<string, unknown> {
  rows: number;
  created: number;
  updated: number;
  householdsCreated: number;
  membershipsCreated: number;
  rejected: number;
  rowsPerSecond: number;
}

const HOUSEHOLD_FIELDS = new Set(['household_id', 'household_role', 'household_name']);

/**
 * Imports of individuals and households from CSV or XLSX files. The file is stored in the job file
 * store, and a `registry.import` job reads it row by row, maps each row to a person and writes
 * batches through the registry's bulk writer. Each batch, its per-row problems and the job's
 * checkpoint commit together, so a run that dies is resumed after its last committed row.
 */
export class ImportService {
  constructor(
    private readonly db: Db,
    private readonly registry: Pick<RegistryService, 'bulk' | 'access'>,
    readonly mappings: ImportMappingService,
  ) {}

  /** Stores an upload as it streams in (hashing it on the way); the caller discards it if the import is refused. */
  async storeUpload(actor: Actor, source: Readable, file: { fileName: string; contentType: string; format: ImportFormat }): Promise<StoredUpload> {
    const writer = await createJobFileWriter(this.db, { purpose: UPLOAD_PURPOSE, fileName: file.fileName, contentType: file.contentType, createdBy: actor.id });
    const hash = crypto.createHash('sha256');
    // Our own sink (not writer.writable()) so that a failed upload can wait for the chunk insert in flight before deleting.
    let inFlight: Promise<unknown> = Promise.resolve();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        inFlight = writer.write(chunk);
        inFlight.then(() => callback(), callback);
      },
      final(callback) { writer.complete().then(() => callback(), callback); },
    });
    try {
      await pipeline(source, sink);
    } catch (error) {
      await inFlight.catch(() => {});
      await this.discardUpload(writer.file.uuid);
      throw error;
    }
    return { fileId: writer.file.uuid, fileName: file.fileName, format: file.format, sizeBytes: writer.file.sizeBytes, sha256: hash.digest('hex') };
  }

  /** Deletes an upload that no job will read. */
  async discardUpload(fileId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [file] = await tx.select({ id: jobFiles.id }).from(jobFiles).where(and(eq(jobFiles.uuid, fileId), isNull(jobFiles.jobId)));
      if (!file) return;
      await tx.delete(jobFileChunks).where(eq(jobFileChunks.fileId, file.id));
      await tx.delete(jobFiles).where(eq(jobFiles.id, file.id));
    });
  }

  /** The mapping an import request names (400 when it is unknown or invalid); null = from the header row. */
  async resolveMapping(request: ImportRequest): Promise<{ mapping: MappingDocument | null; name: string | null }> {
    if (request.mapping !== undefined && request.mappingDocument !== undefined) {
      throw AppError.validation('Give either a saved mapping name or a mapping document, not both', [{ path: '/mapping', message: 'conflicts with mappingDocument' }]);
    }
    if (request.mapping !== undefined) return { mapping: await this.mappings.resolve(request.mapping), name: request.mapping };
    if (request.mappingDocument !== undefined) return { mapping: await this.mappings.check(request.mappingDocument, '/mappingDocument'), name: null };
    return { mapping: null, name: null };
  }

  /**
   * Checks the request against the stored file (mapping, header row, permissions) and queues the
   * import; the 202 body is the job. Reading the header now turns "wrong columns" into a 400
   * instead of a failed job. `dedupeKey`: the same key again returns the job already queued.
   */
  async start(actor: Actor, upload: StoredUpload, request: ImportRequest, options: { batchSize?: number; dedupeKey?: string } = {}): Promise<JobView> {
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) throw AppError.validation(`The batch size must be 1 to ${MAX_BATCH_SIZE}`);
    if (upload.sizeBytes === 0) throw AppError.validation('The file is empty', [{ path: '/file', message: 'is empty' }]);
    const resolved = await this.resolveMapping(request);
    const headers = await this.readHeader(upload.fileId, upload.format, resolved.mapping?.options?.sheet);
    if (headers.length === 0) throw AppError.validation('The file has no header row', [{ path: '/file', message: 'has no header row' }]);
    const mapping = resolved.mapping ?? await this.mappings.check(defaultMapping(headers), '/file/header');
    createRowMapper(mapping, headers); // throws 400 when mapped columns are missing
    const fields = [...Object.values(mapping.columns), ...Object.keys(mapping.defaults ?? {})];
    if (fields.some((field) => HOUSEHOLD_FIELDS.has(field)) && !hasScope(actor.scopes, 'group:write')) {
      throw new AppError('forbidden', 'The mapping creates households, which needs the scope "group:write" as well, which your client was not granted');
    }
    const payload: ImportPayload = {
      fileId: upload.fileId, fileName: upload.fileName, format: upload.format, mapping, mappingName: resolved.name, batchSize,
      sha256: upload.sha256, actor: storeActor(actor),
    };
    return this.db.transaction(async (tx) => {
      const job = await enqueueJob(tx, { type: IMPORT_JOB, payload, createdBy: actor.id, dedupeKey: options.dedupeKey, maxAttempts: 5 });
      await tx.update(jobFiles).set({ jobId: sql`(select id from ${jobs} where ${jobs.uuid} = ${job.id})` })
        .where(and(eq(jobFiles.uuid, upload.fileId), isNull(jobFiles.jobId)));
      return job;
    });
  }

  /** The newest import job with this dedupe key prefix, e.g. to resume an interrupted CLI import. */
  async findJobByKeyPrefix(prefix: string): Promise<{ id: string; state: string; dedupeKey: string } | undefined> {
    const [row] = await this.db.select({ id: jobs.uuid, state: jobs.state, dedupeKey: jobs.dedupeKey }).from(jobs)
      .where(and(eq(jobs.type, IMPORT_JOB), sql`starts_with(${jobs.dedupeKey}, ${prefix})`))
      .orderBy(sql`${jobs.id} desc`).limit(1);
    return row ? { id: row.id, state: row.state, dedupeKey: row.dedupeKey! } : undefined;
  }

  /** The `registry.import` job. Resumes after `checkpoint.row`; rows up to it are read again but not written. */
  async runJob({ job, reportProgress, signal }: JobContext<ImportPayload>): Promise<ImportResult> {
    const runStarted = performance.now();
    const { payload } = job;
    const saved = job.checkpoint as ImportCheckpoint | null;
    let totals: ImportCheckpoint = saved ?? { row: 1, rows: 0, created: 0, updated: 0, householdsCreated: 0, membershipsCreated: 0, rejected: 0, seconds: 0, total: null };
    const context: RequestContext = { actor: restoreActor(payload.actor), requestId: `job:${job.id}` };
    // A local user or area-bound client writes only inside its areas (rows outside are refused).
    const individuals = await this.registry.access.allowedAreaIds(context.actor, 'individual:write');
    const households = await this.registry.access.allowedAreaIds(context.actor, 'group:write');
    const areaScope: BulkAreaScope | undefined = individuals === undefined && households === undefined ? undefined : { individuals, households };
    const maskers = restrictedColumnMaskers(payload.mapping);
    const jobDbId = await this.jobDatabaseId(job.id);
    if (!saved && payload.format === 'csv') totals = { ...totals, total: await this.countCsvRows(payload.fileId) };
    const source = await openJobFileStream(this.db, payload.fileId);
    if (!source) throw new PermanentJobError(`The uploaded file ${payload.fileId} is missing`);

    const validator = await this.registry.bulk.createValidator();
    const customKinds = new Map((await listCustomFieldDefinitions(this.db, 'individual')).map((definition) => [definition.name, kindOf(definition.valueSchema)]));

    const flush = async (rows: MappedRow[]) => {
      // PGlite answers in microtasks: without a turn of the event loop per batch, a long import
      // would starve this process's timers (heartbeats), signals and HTTP requests.
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw signal.reason ?? new Error('The import was stopped');
      totals = await this.db.transaction(async (tx) => {
        const people = rows.filter((row) => row.problems.length === 0).map((row) => row.person);
        const result = people.length > 0 ? await this.registry.bulk.upsertPeople(context, people, { validator, tx, areaScope }) : undefined;
        const problems = protectProblems(rows, collectProblems(rows, result), maskers);
        await insertProblems(tx, jobDbId, problems);
        const counts: ImportCheckpoint = {
          ...totals,
          row: rows[rows.length - 1]!.rowNumber,
          rows: totals.rows + rows.length,
          created: totals.created + (result?.created ?? 0),
          updated: totals.updated + (result?.updated ?? 0),
          householdsCreated: totals.householdsCreated + (result?.householdsCreated ?? 0),
          membershipsCreated: totals.membershipsCreated + (result?.membershipsCreated ?? 0),
          rejected: totals.rejected + new Set(problems.map((problem) => problem.rowNumber)).size,
          seconds: (saved?.seconds ?? 0) + (performance.now() - runStarted) / 1000,
        };
        await reportProgress(counts.rows, counts.total === null ? undefined : Math.max(counts.total, counts.rows), counts, { tx });
        return counts;
      }); // the totals move on only once the batch is committed
    };

    const batches = batchesOf(source, payload, customKinds, totals.row);
    try {
      let next = batches.next();
      for (;;) {
        const { value: rows, done } = await next;
        if (done) break;
        // The next batch is read and mapped while this one is written.
        next = batches.next();
        next.catch(() => {}); // its error is raised when it is awaited
        await flush(rows);
      }
    } catch (error) {
      // A file that cannot be read or mapped will not be readable on a retry either.
      if (error instanceof AppError) throw new PermanentJobError(error.message);
      throw error;
    } finally {
      await batches.return(undefined);
    }
    await reportProgress(totals.rows, totals.rows); // the line-count estimate gives way to the real count
    return {
      rows: totals.rows,
      created: totals.created,
      updated: totals.updated,
      householdsCreated: totals.householdsCreated,
      membershipsCreated: totals.membershipsCreated,
      rejected: totals.rejected,
      rowsPerSecond: Math.round(totals.rows / Math.max(totals.seconds, 0.001)),
    };
  }

  /** The per-row report as CSV (row, column, value, reason), for the client that started the import; 404 for anyone else. */
  async openProblems(actor: Actor, jobUuid: string): Promise<Readable> {
    const [job] = /^[0-9a-f-]{36}$/i.test(jobUuid)
      ? await this.db.select({ id: jobs.id, createdBy: jobs.createdBy }).from(jobs).where(and(eq(jobs.uuid, jobUuid), eq(jobs.type, IMPORT_JOB)))
      : [];
    if (!job || job.createdBy !== actor.id) throw AppError.notFound(`Import ${jobUuid}`);
    return this.problemsCsv(job.id);
  }

  /** Writes the per-row report of an import job (by uuid) as CSV to `destination`. */
  async writeProblems(jobUuid: string, destination: Writable): Promise<void> {
    await pipeline(this.problemsCsv(await this.jobDatabaseId(jobUuid)), destination);
  }

  private problemsCsv(jobDbId: number): Readable {
    const db = this.db;
    async function* records() {
      let after = { row: 0, id: 0 };
      for (;;) {
        const page = await db.select().from(importRowProblems)
          .where(and(eq(importRowProblems.jobId, jobDbId), sql`(${importRowProblems.rowNumber}, ${importRowProblems.id}) > (${after.row}, ${after.id})`))
          .orderBy(importRowProblems.rowNumber, importRowProblems.id).limit(5000);
        for (const problem of page) yield [problem.rowNumber, problem.columnName ?? '', problem.value ?? '', problem.reason];
        if (page.length < 5000) return;
        after = { row: page[page.length - 1]!.rowNumber, id: page[page.length - 1]!.id };
      }
    }
    const csvText = stringify({ header: true, columns: ['row', 'column', 'value', 'reason'] });
    pipelineCallback(Readable.from(records()), csvText, () => {}); // a failed read destroys csvText, so its reader sees the error
    return csvText;
  }

  /** The header row of a stored file (the first row of the sheet, for XLSX). */
  private async readHeader(fileId: string, format: ImportFormat, sheet: string | undefined): Promise<string[]> {
    const source = await openJobFileStream(this.db, fileId);
    if (!source) throw AppError.validation('The uploaded file is incomplete');
    let headers: string[] | undefined;
    const rows = readRows(source, { format, sheet, onHeader: (names) => { headers = names; } });
    try {
      await rows.next();
    } catch (error) {
      if (!headers) throw error; // a bad data row is the job's to report, with its row number
    } finally {
      await rows.return(undefined);
    }
    return headers ?? [];
  }

  /** Data rows of a CSV, estimated from its line count (exact unless cells hold line breaks). */
  private async countCsvRows(fileId: string): Promise<number | null> {
    const source = await openJobFileStream(this.db, fileId);
    if (!source) return null;
    let lines = 0;
    let last = 10;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) lines += 1;
      if (chunk.length > 0) last = chunk[chunk.length - 1]!;
    }
    return Math.max(0, lines + (last === 10 ? 0 : 1) - 1);
  }

  private async jobDatabaseId(jobUuid: string): Promise<number> {
    const [row] = await this.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.uuid, jobUuid));
    if (!row) throw new Error(`Job ${jobUuid} does not exist`);
    return row.id;
  }
}

/**
 * The file's rows after `resumeAfter`, mapped and grouped in batches of `payload.batchSize`. Rows up
 * to `resumeAfter` are mapped too (they claim their identifiers) but not yielded. A batch grows past
 * its size to the end of a household, whose head must be written with its members.
 */
async function* batchesOf(source: Readable, payload: ImportPayload, customKinds: Map<string, 'number' | 'boolean' | 'string'>, resumeAfter: number): AsyncGenerator<MappedRow[]> {
  let mapper: ReturnType<typeof createRowMapper> | undefined;
  const seen = new Map<string, number>(); // identifier → first row: duplicates within the file are refused
  const rows = readRows(source, {
    format: payload.format,
    sheet: payload.mapping.options?.sheet,
    onHeader: (headers) => { mapper = createRowMapper(payload.mapping, headers, customKinds); },
  });
  let batch: MappedRow[] = [];
  for await (const { rowNumber, record } of rows) {
    const row = mapper!.map(rowNumber, record, seen);
    if (rowNumber <= resumeAfter) continue;
    const last = batch[batch.length - 1];
    const sameHousehold = last?.household !== undefined && last.household === row.household;
    if (batch.length >= payload.batchSize && (!sameHousehold || batch.length >= payload.batchSize * MAX_BATCH_GROWTH)) {
      yield batch;
      batch = [];
    }
    batch.push(row);
  }
  if (batch.length > 0) yield batch;
}

/** Problems of a batch in row order: the mapping's, then the writer's, translated back to file columns. */
function collectProblems(rows: MappedRow[], result: BulkResult | undefined): RowProblem[] {
  const byKey = new Map(rows.map((row) => [row.rowNumber, row]));
  const problems = rows.flatMap((row) => row.problems);
  for (const problem of result?.problems ?? []) {
    const row = byKey.get(problem.key)!;
    const { column, value, exact } = sourceOf(row, problem.path, problem.message);
    // The field is named when the column alone does not say what is wrong (e.g. "income/currency: is required").
    problems.push({ rowNumber: problem.key, column, value, reason: exact || problem.path === '' ? problem.message : `${problem.path.slice(1)}: ${problem.message}` });
  }
  return problems.sort((a, b) => a.rowNumber - b.rowNumber);
}

/** The masking of each file column whose field is restricted (identifiers, phones), by normalised header. */
function restrictedColumnMaskers(mapping: MappingDocument): Map<string, (value: string) => string> {
  const maskers = new Map<string, (value: string) => string>();
  for (const [column, field] of Object.entries(mapping.columns)) {
    const viewField = viewFieldOf(field) as RegistryField | undefined;
    const entry = viewField ? registryClassification[viewField] : undefined;
    if (entry?.level === 'restricted') maskers.set(normalizeHeader(column), entry.masking === 'phone' ? maskPhoneNumber : maskIdentifierValue);
  }
  return maskers;
}

/**
 * The problem report never stores restricted values in clear: a refused cell of an identifier or
 * phone column is stored masked (as API responses mask it), and any restricted cell of the row
 * quoted in a reason (e.g. "national-id AB100001 is also given in row 2") is masked there too.
 */
function protectProblems(rows: MappedRow[], problems: RowProblem[], maskers: Map<string, (value: string) => string>): RowProblem[] {
  if (maskers.size === 0 || problems.length === 0) return problems;
  const maskerOf = (column: string | null) => (column === null ? undefined : maskers.get(normalizeHeader(column)));
  const secretsOf = new Map<number, Array<[string, string]>>();
  for (const row of rows) {
    const secrets = new Map<string, string>();
    for (const { column, value } of row.sources.values()) {
      const mask = maskerOf(column);
      if (!mask || value === '') continue;
      secrets.set(value, mask(value));
      secrets.set(value.replace(/[\s()-]/g, ''), mask(value.replace(/[\s()-]/g, ''))); // a phone as normalised in messages
    }
    // Longest first, so a value is not half-replaced through a shorter one it contains.
    secretsOf.set(row.rowNumber, [...secrets].sort(([a], [b]) => b.length - a.length));
  }
  return problems.map((problem) => {
    const mask = maskerOf(problem.column);
    let reason = problem.reason;
    for (const [secret, masked] of secretsOf.get(problem.rowNumber) ?? []) reason = reason.split(secret).join(masked);
    return { ...problem, value: problem.value !== null && mask ? mask(problem.value) : problem.value, reason };
  });
}

function storeActor(actor: Actor): ImportPayload['actor'] {
  return {
    type: actor.type, id: actor.id, scopes: [...actor.scopes],
    ...(actor.areaLimits && actor.areaLimits.size > 0 ? { areaLimits: [...actor.areaLimits].map(([permission, codes]): [string, string[]] => [permission, [...codes]]) } : {}),
  };
}

function restoreActor(stored: ImportPayload['actor']): Actor {
  return { type: stored.type, id: stored.id, scopes: new Set(stored.scopes), ...(stored.areaLimits ? { areaLimits: new Map(stored.areaLimits) } : {}) };
}

async function insertProblems(tx: Tx, jobId: number, problems: RowProblem[]): Promise<void> {
  for (let start = 0; start < problems.length; start += 5000) {
    const rows = problems.slice(start, start + 5000).map((problem) => ({ r: problem.rowNumber, c: problem.column, v: problem.value, m: problem.reason }));
    await queryRows(tx, sql`
      insert into import_row_problems (job_id, row_number, column_name, value, reason)
      select ${jobId}, v.r, v.c, v.v, v.m from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(r int, c text, v text, m text)`);
  }
}

function kindOf(schema: Record<string, unknown>): 'number' | 'boolean' | 'string' {
  const type = schema.type;
  if (type === 'number' || type === 'integer') return 'number';
  if (type === 'boolean') return 'boolean';
  return 'string';
}
