// Import throughput: writes a CSV of generated demo households, imports it through the
// `registry.import` job on a fresh database and prints rows/s. Not part of the test suite.
//   npx tsx src/modules/bulk-data/import/import.bench.ts [individuals=100000] [batch=1000]
// With TEST_DATABASE_URL set it runs on a new PostgreSQL database on that server; else on PGlite.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { createSystem } from '../../../app.js';
import { loadConfig } from '../../../platform/config.js';
import { queryRows, rawSql } from '../../../platform/database/database.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { findJob } from '../../../platform/jobs/job-queue.js';
import { openTestDatabase } from '../../../test-support/test-database.js';
import { DEMO_AREAS } from '../../demo-data/areas.js';
import { generateHouseholds } from '../../demo-data/household-generator.js';

const individuals = Number(process.argv[2] ?? 100_000);
const batchSize = Number(process.argv[3] ?? 1000);
const header = ['identifier:national-id', 'identifier:birth-registration', 'given_name', 'additional_name', 'family_name', 'birth_date', 'gender', 'civil_status', 'area', 'phone',
  'has_disability', 'disability_types', 'household_id', 'household_role', 'household_name'];

const file = path.join(os.tmpdir(), `commonweal-import-bench-${individuals}.csv`);
let rows = 0;
let households = 0;
const lines: string[] = [stringify([header])];
for (const plan of generateHouseholds({ households: Math.ceil(individuals / 3), seed: 11 })) {
  if (rows >= individuals) break;
  households += 1;
  for (const member of plan.members) {
    const person = member.individual;
    const id = (type: string) => person.identifiers?.find((identifier) => identifier.type === type)?.value ?? '';
    lines.push(stringify([[id('national-id'), id('birth-registration'), person.name.given ?? '', person.name.additional ?? '', person.name.family ?? '', person.birthDate, person.gender,
      person.civilStatus ?? '', person.area ?? '', person.phones?.[0]?.value ?? '', person.disability ? String(person.disability.hasDisability) : '',
      (person.disability?.types ?? []).join(';'), plan.householdId, member.role, plan.group.name]]));
    rows += 1;
  }
}
fs.writeFileSync(file, lines.join(''));
console.log(`${rows} rows, ${households} households, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB → ${file}`);

const database = await openTestDatabase();
const system = await createSystem(loadConfig({ ...process.env, JOB_WORKERS: '0', SEED_DEMO_DATA: 'false', LOG_LEVEL: 'silent', DATABASE_URL: '' }), { database });
try {
  const actor = systemActor('bench');
  await system.services.areas.importAreas({ actor }, [...DEMO_AREAS]);
  const upload = await system.services.imports.storeUpload(actor, Readable.from([fs.readFileSync(file)]), { fileName: 'bench.csv', contentType: 'text/csv', format: 'csv' });
  const job = await system.services.imports.start(actor, upload, {}, { batchSize });
  const started = performance.now();
  await system.jobs.drain();
  const seconds = (performance.now() - started) / 1000;
  const done = await findJob(system.database.db, job.id);
  const reasons = await queryRows<{ reason: string; count: number }>(system.database.db,
    rawSql`select left(reason, 80) as reason, count(*)::int as count from import_row_problems group by 1 order by 2 desc limit 5`);
  if (reasons.length > 0) console.log('Most frequent problems:', reasons);
  console.log(JSON.stringify({ database: database.kind, state: done?.state, error: done?.error, result: done?.result, wallSeconds: +seconds.toFixed(2), wallRowsPerSecond: Math.round(rows / seconds), loadAverage: os.loadavg().map((load) => +load.toFixed(2)) }));
} finally {
  await system.close();
}
