import crypto from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { and, eq } from 'drizzle-orm';
import { stringify } from 'csv-stringify';
import type { Db } from '../../../platform/database/database.js';
import { AppError, type FieldProblem } from '../../../platform/errors.js';
import { hasScope, type Actor } from '../../../platform/auth/access-tokens.js';
import { createBodyValidator } from '../../../platform/http/validation.js';
import { enqueueJob, type JobView } from '../../../platform/jobs/job-queue.js';
import { PermanentJobError, type JobContext } from '../../../platform/jobs/job-runner.js';
import { createJobFileWriter, deleteJobFiles, findJobFile, openJobFileStream, type JobFile } from '../../../platform/jobs/job-files.js';
import { jobs } from '../../../platform/jobs/jobs.tables.js';
import type { RegistrySearch } from '../../registry/registry.search.js';
import { GroupSearch, IndividualSearch } from '../../registry/registry.routes.js';
import type { GroupView, IndividualView } from '../../registry/registry.views.js';
import type { RegistrantRelease } from '../../consents/registrant-release.js';
import { recordAudit } from '../../../platform/audit/audit.js';
import { groupColumns, headersOf, individualColumns, recordOf } from './export.columns.js';

export const EXPORT_JOB = 'registry.export';
export const EXPORT_FILE_PURPOSE = 'export';
const DEFAULT_PAGE_SIZE = 1000;

export type ExportResourceType = 'Individual' | 'Group';
export type ExportSearch = Record<string, string | string[]>;

export interface ExportRequest {
  resourceType: ExportResourceType;
  /** The parameters of GET /api/v2/{resourceType}, except the paging ones. */
  search?: ExportSearch;
}

/** The actor as saved in a job payload (JSON): its scopes and area limits as arrays. */
interface StoredActor {
  type: Actor['type'];
  id: string;
  scopes: string[];
  /** Permission → area codes (see `Actor.areaLimits`); absent = no limits. */
  areaLimits?: Array<[string, string[]]>;
  /** What the consent filter decides on (clients): legal basis, organisation (type), purpose. */
  legalBasis?: string;
  organisation?: string;
  organisationType?: string;
  purpose?: string;
}

const CONSENT_CLAIMS = ['legalBasis', 'organisation', 'organisationType', 'purpose'] as const;

/** Saved with the job: what to export and who asked (their permissions and area limits apply when it runs). */
interface ExportPayload extends Record<string, unknown> {
  resourceType: ExportResourceType;
  search: ExportSearch;
  actor: StoredActor;
}

function storeActor(actor: Actor): StoredActor {
  const stored: StoredActor = { type: actor.type, id: actor.id, scopes: [...actor.scopes] };
  if (actor.areaLimits && actor.areaLimits.size > 0) stored.areaLimits = [...actor.areaLimits].map(([permission, codes]) => [permission, [...codes]]);
  for (const claim of CONSENT_CLAIMS) if (actor[claim] !== undefined) stored[claim] = actor[claim];
  return stored;
}

function restoreActor(stored: StoredActor): Actor {
  const actor: Actor = {
    type: stored.type, id: stored.id, scopes: new Set(stored.scopes),
    ...(stored.areaLimits ? { areaLimits: new Map(stored.areaLimits) } : {}),
  };
  for (const claim of CONSENT_CLAIMS) if (stored[claim] !== undefined) actor[claim] = stored[claim];
  return actor;
}

export interface ExportProgress {
  signal?: AbortSignal;
  /** Called with 0 first, then after each page; awaited, so it may write. */
  onProgress?: (done: number, total: number) => Promise<void> | void;
  /** Names the export in its `reveal` audit entry (the job id; default a new UUID). */
  exportId?: string;
}

const kinds = { Individual: 'individual', Group: 'group' } as const;
const searchValidators = { Individual: createBodyValidator(IndividualSearch), Group: createBodyValidator(GroupSearch) };

/**
 * CSV exports of registry searches. The job handler and the CLI share `writeCsv`: every match is
 * read in pages of 1,000 and streamed through csv-stringify into any Writable (a job file in the
 * database, a local file, stdout), so memory stays flat whatever the size.
 */
export class ExportService {
  constructor(
    private readonly db: Db,
    private readonly search: RegistrySearch,
    /** What the caller may see of each record: consent filter and masking, as in API responses. */
    private readonly release: Pick<RegistrantRelease, 'forExport' | 'disclosure'>,
    private readonly options: { pageSize?: number } = {},
  ) {}

  /** Validates the request now (403, 400), then queues the export; the 202 body is the job. */
  async start(actor: Actor, request: ExportRequest): Promise<JobView> {
    const search = request.search ?? {};
    await this.prepare(actor, request.resourceType, search);
    const payload: ExportPayload = { resourceType: request.resourceType, search, actor: storeActor(actor) };
    return enqueueJob(this.db, { type: EXPORT_JOB, payload, createdBy: actor.id, maxAttempts: 3 });
  }

  /** Writes the CSV of every match to `destination` (and ends it). */
  async writeCsv(actor: Actor, request: ExportRequest, destination: Writable, options: ExportProgress = {}): Promise<{ rows: number; total: number }> {
    const { resourceType } = request;
    const matches = await this.prepare(actor, resourceType, request.search ?? {});
    const total = await matches.count();
    await options.onProgress?.(0, total);
    let rows = 0;
    const service = this;
    // Consent-filtered and masked as in API responses (a record a consent client may not see
    // leaves every column but `id` empty); a reveal is audited once for the whole export (which
    // fields, how many records; never the values).
    const revealedFields = new Set<string>();
    let revealedRecords = 0;
    const scope = await this.release.disclosure.scopeFor(actor);
    async function* records(): AsyncGenerator<string[]> {
      for await (const page of matches.pages(service.options.pageSize ?? DEFAULT_PAGE_SIZE)) {
        const { records: shown, revealed, released } = await service.release.forExport(actor, page as Array<IndividualView | GroupView>, scope);
        revealedRecords += revealed.length;
        for (const item of revealed) for (const field of item.fields) revealedFields.add(field);
        if (resourceType === 'Individual') {
          const households = await service.search.householdsOf(actor, page.map((view) => view.id));
          // Households are family structure: released with the individual's memberships.
          const showsHouseholds = (id: string) => released === undefined || released.get(id)?.has('memberships') === true;
          for (const view of shown as IndividualView[]) yield recordOf(individualColumns, { ...view, households: showsHouseholds(view.id) ? households.get(view.id) ?? [] : [] });
        } else {
          for (const view of shown as GroupView[]) yield recordOf(groupColumns, view);
        }
        rows += page.length;
        await options.onProgress?.(rows, Math.max(total, rows));
      }
    }
    const headers = resourceType === 'Individual' ? headersOf(individualColumns) : headersOf(groupColumns);
    await pipeline(Readable.from(records()), stringify({ header: true, columns: headers }), destination, { signal: options.signal });
    if (revealedRecords > 0) {
      await recordAudit(this.db, { actor }, {
        action: 'reveal', entityType: 'export', entityId: options.exportId ?? crypto.randomUUID(),
        after: { resourceType, fields: [...revealedFields].sort(), records: revealedRecords, searchParameters: Object.keys(request.search ?? {}).sort() },
      });
    }
    return { rows, total };
  }

  /** The `registry.export` job: streams the export into a job file; a re-run starts the file again. */
  async runJob({ job, reportProgress, signal }: JobContext<ExportPayload>): Promise<{ rows: number; fileId: string }> {
    const { resourceType, search, actor } = job.payload;
    await deleteJobFiles(this.db, job.id, EXPORT_FILE_PURPOSE);
    const writer = await createJobFileWriter(this.db, {
      jobId: job.id,
      purpose: EXPORT_FILE_PURPOSE,
      fileName: `${kinds[resourceType]}s-${new Date().toISOString().slice(0, 10)}.csv`,
      contentType: 'text/csv; charset=utf-8',
      createdBy: actor.id,
    });
    try {
      const { rows } = await this.writeCsv(restoreActor(actor), { resourceType, search }, writer.writable(), {
        signal,
        onProgress: (done, total) => reportProgress(done, total),
        exportId: job.id,
      });
      await reportProgress(rows, rows); // the count can drift while a live registry is read
      return { rows, fileId: writer.file.uuid };
    } catch (error) {
      // Only this attempt's file: a worker that took the job over may be writing its own.
      await writer.discard().catch(() => {});
      // A search that no longer validates (e.g. its area was removed) will not on a retry either.
      if (error instanceof AppError) throw new PermanentJobError(error.message);
      throw error;
    }
  }

  /** The finished export's file, for the client that asked for it; anyone else gets 404. */
  async openFile(actor: Actor, jobUuid: string): Promise<{ file: JobFile; stream: Readable }> {
    const [job] = await this.db.select().from(jobs).where(and(eq(jobs.uuid, jobUuid), eq(jobs.type, EXPORT_JOB)));
    if (!job || job.createdBy !== actor.id) throw AppError.notFound(`Export ${jobUuid}`);
    this.assertAllowed(actor, (job.payload as ExportPayload).resourceType);
    const file = job.state === 'succeeded' ? await findJobFile(this.db, jobUuid, EXPORT_FILE_PURPOSE) : undefined;
    const stream = file ? await openJobFileStream(this.db, file.uuid) : undefined;
    if (!file || !stream) throw new AppError('not_found', `The file of export ${jobUuid} is not ready (the job is ${job.state}); see /api/v2/Job/${jobUuid}`);
    return { file, stream };
  }

  assertAllowed(actor: Actor, resourceType: ExportResourceType): void {
    const scope = `${kinds[resourceType]}:read`;
    if (!hasScope(actor.scopes, scope)) throw new AppError('forbidden', `Exporting ${kinds[resourceType]}s needs the scope "${scope}", which your client was not granted`);
  }

  /** Scope, then the search parameters: the same schema as the search endpoint, then its own checks. */
  private async prepare(actor: Actor, resourceType: ExportResourceType, search: ExportSearch) {
    this.assertAllowed(actor, resourceType);
    const problems = searchValidators[resourceType](search, '/search');
    if (problems.length > 0) throw new AppError('unknown_parameter', `Unknown or malformed search parameter: ${describe(problems)}`, problems);
    try {
      // The actor's area limits narrow the rows exactly as they narrow a search.
      return await this.search.matches(actor, kinds[resourceType], search);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // The search reports query-string paths (query:/name); here they are body paths (/search/name).
      const fields = error.fields.map((field) => ({ ...field, path: field.path.replace(/^query:\//, '/search/') }));
      throw new AppError(error.code, error.message, fields, error.extra);
    }
  }
}

function describe(problems: FieldProblem[]): string {
  return problems.map((problem) => `${problem.path} ${problem.message}`).join('; ');
}
