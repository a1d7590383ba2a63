import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { generateHouseholds } from '../src/modules/demo-data/household-generator.js';
import { runCommonweal, commonwealEnvironment } from './commonweal-cli.js';
import { countData } from './database.js';

// Import and export throughput, through the `commonweal import` and `commonweal export` commands.

export interface BulkFigure {
  status: 'measured' | 'not yet available' | 'skipped' | 'failed';
  note?: string;
  rows?: number;
  /** Wall clock of the command, start-up (tsx, migrations check) included. */
  seconds?: number;
  rowsPerSecond?: number;
  /** What the command itself reported, start-up excluded, when it prints it. */
  reportedRowsPerSecond?: number;
  peakRssBytes?: number;
  fileBytes?: number;
  command?: string;
}

/**
 * The columns of the generated import file, named as the import's fields so that no mapping is
 * needed (src/modules/bulk-data/import/import.mapping.ts: a header that is a field name maps to it).
 * Adults carry a national id, children a birth registration, as in the seeded data. Household
 * income is not an individual's field, so it is left out.
 */
const IMPORT_COLUMNS = [
  'identifier:national-id', 'identifier:birth-registration', 'given_name', 'family_name', 'additional_name', 'birth_date',
  'gender', 'civil_status', 'area', 'phone', 'has_disability', 'disability_types', 'household_id', 'household_role', 'household_name',
] as const;

/**
 * Writes `rows` people (whole households, the last one possibly cut short after its head) of the
 * demo dataset `seed` as CSV. A seed other than the bench dataset's gives people not yet on record.
 */
export async function writeImportCsv(file: string, rows: number, seed: number): Promise<void> {
  function* records(): Generator<string[]> {
    yield [...IMPORT_COLUMNS];
    let written = 0;
    for (const plan of generateHouseholds({ households: rows, seed })) {
      for (const member of plan.members) {
        if (written >= rows) return;
        const person = member.individual;
        const identifier = (type: string) => person.identifiers?.find((candidate) => candidate.type === type)?.value ?? '';
        yield [
          identifier('national-id'), identifier('birth-registration'),
          person.name.given ?? '', person.name.family ?? '', person.name.additional ?? '', person.birthDate, person.gender,
          person.civilStatus ?? '', person.area ?? '', person.phones?.[0]?.value ?? '',
          String(person.disability?.hasDisability ?? false), (person.disability?.types ?? []).join(';'),
          plan.householdId, member.role, plan.group.name,
        ];
        written += 1;
      }
    }
  }
  await pipeline(Readable.from(records()), stringify(), fs.createWriteStream(file));
}

/** `commonweal import FILE` on a generated file; individuals/s from the registry's count before and after. */
export async function measureImport(databaseUrl: string, options: { available: boolean; rows: number; seed: number }): Promise<BulkFigure> {
  if (!options.available) return { status: 'not yet available', note: '`commonweal import` is not in this build (see `commonweal --help`)' };
  const file = path.join(os.tmpdir(), `commonweal-bench-import-${process.pid}.csv`);
  try {
    await writeImportCsv(file, options.rows, options.seed);
    const before = await countData(databaseUrl);
    const args = ['import', file];
    const run = await runCommonweal(args, commonwealEnvironment(databaseUrl, { JOB_WORKERS: '0' }), { echo: true, allowFailure: true });
    if (run.code !== 0) return { status: 'failed', note: (run.stderr || run.stdout).trim().split('\n').slice(-5).join(' / '), command: `commonweal ${args.join(' ')}`, seconds: round(run.seconds) };
    const after = await countData(databaseUrl);
    const created = after.individuals - before.individuals;
    return {
      status: 'measured',
      command: `commonweal import <${options.rows}-row CSV, seed ${options.seed}>`,
      rows: created,
      seconds: round(run.seconds),
      rowsPerSecond: Math.round(created / run.seconds),
      reportedRowsPerSecond: reportedRate(run.stdout + run.stderr),
      peakRssBytes: run.peakRssBytes,
      fileBytes: fs.statSync(file).size,
      ...(created < options.rows ? { note: `${options.rows - created} rows did not create an individual (already on record, or refused): ${/Imported .*/.exec(run.stdout)?.[0] ?? ''}` } : {}),
    };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** `commonweal export --resource individual --area CODE`: every individual of a region, as CSV. */
export async function measureExport(databaseUrl: string, options: { available: boolean; areaCode: string }): Promise<BulkFigure> {
  if (!options.available) return { status: 'not yet available', note: '`commonweal export` is not in this build (see `commonweal --help`)' };
  const file = path.join(os.tmpdir(), `commonweal-bench-export-${process.pid}.csv`);
  const args = ['export', '--resource', 'individual', '--area', options.areaCode, '--out', file];
  try {
    const run = await runCommonweal(args, commonwealEnvironment(databaseUrl, { JOB_WORKERS: '0' }), { allowFailure: true });
    if (run.code !== 0) return { status: 'failed', note: (run.stderr || run.stdout).trim().split('\n').slice(-5).join(' / '), command: `commonweal ${args.slice(0, -2).join(' ')}`, seconds: round(run.seconds) };
    const rows = Number(/Exported (\d+)/.exec(run.stderr)?.[1] ?? NaN);
    return {
      status: 'measured',
      command: `commonweal ${args.slice(0, -1).join(' ')} <file>`,
      rows,
      seconds: round(run.seconds),
      rowsPerSecond: Math.round(rows / run.seconds),
      reportedRowsPerSecond: reportedRate(run.stderr),
      peakRssBytes: run.peakRssBytes,
      fileBytes: fs.statSync(file).size,
    };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** "(12345 rows/s)" or "(12345 individuals/s)" as the commands print it. */
function reportedRate(output: string): number | undefined {
  const match = /\((\d+) (?:rows|individuals)\/s\)/.exec(output);
  return match ? Number(match[1]) : undefined;
}

const round = (value: number) => Math.round(value * 100) / 100;
