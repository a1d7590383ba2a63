import { Readable, Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { systemActor, type Actor } from '../../../platform/auth/access-tokens.js';
import { findJob, type JobView } from '../../../platform/jobs/job-queue.js';
import type { TestSystem } from '../../../test-support/test-system.js';
import { DEMO_AREAS } from '../../demo-data/areas.js';
import { formatOf } from './import.readers.js';
import type { ImportRequest } from './import.service.js';

// Helpers shared by the import tests (not a test file itself).

export const testActor: Actor = systemActor('test-import');

export const loadDemoAreas = (system: TestSystem) => system.services.areas.importAreas({ actor: testActor }, [...DEMO_AREAS]);

/** CSV text from rows of cells (quoted where needed). */
export function csv(rows: Array<Array<string | number>>): string {
  return rows.map((row) => row.map((cell) => (/[",\n]/.test(String(cell)) ? `"${String(cell).replace(/"/g, '""')}"` : String(cell))).join(',')).join('\n') + '\n';
}

/** An XLSX workbook (one sheet per entry) built with exceljs; Date cells become date cells. */
export async function xlsx(sheets: Record<string, Array<Array<string | number | Date | null>>>): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const sheet = workbook.addWorksheet(name);
    for (const row of rows) sheet.addRow(row);
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** Uploads a file and queues its import as the service does for the API (no job runs yet). */
export async function startImport(system: TestSystem, content: string | Buffer, options: { fileName?: string; request?: ImportRequest; batchSize?: number; actor?: Actor } = {}): Promise<JobView> {
  const fileName = options.fileName ?? 'people.csv';
  const actor = options.actor ?? testActor;
  const upload = await system.services.imports.storeUpload(actor, Readable.from([Buffer.from(content)]), { fileName, contentType: 'application/octet-stream', format: formatOf(fileName)! });
  return system.services.imports.start(actor, upload, options.request ?? {}, { batchSize: options.batchSize });
}

/** Uploads, runs the import to the end and returns the finished job. */
export async function runImport(system: TestSystem, content: string | Buffer, options: Parameters<typeof startImport>[2] = {}): Promise<JobView> {
  const job = await startImport(system, content, options);
  await system.jobs.drain();
  return (await findJob(system.testDatabase.db, job.id))!;
}

export async function problemsOf(system: TestSystem, jobId: string): Promise<Array<{ row: number; column: string; value: string; reason: string }>> {
  const chunks: Buffer[] = [];
  const sink = new Writable({ write(chunk, _encoding, callback) { chunks.push(Buffer.from(chunk)); callback(); } });
  await system.services.imports.writeProblems(jobId, sink);
  const [, ...lines] = Buffer.concat(chunks).toString('utf8').trim().split('\n');
  return lines.length === 0 ? [] : (parse(lines.join('\n')) as string[][]).map(([row, column, value, reason]) => ({ row: Number(row), column: column!, value: value!, reason: reason! }));
}
