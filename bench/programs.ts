// Programs at national scale on the existing bench database (never re-seeded or dropped here): a
// household program over every household, then each step timed — enrol (job), prepare one
// cycle's cash entitlements (job), approve (maker-checker), fill a payment batch (job) and produce
// its CSV + pain.001 (job). The program and everything it created are deleted afterwards (the
// append-only audit records stay). Run: `npm run bench:programs` (options: --database-url URL).
import { parseArgs } from 'node:util';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { createSystem } from '../src/app.js';
import { loadConfig } from '../src/platform/config.js';
import { systemActor } from '../src/platform/auth/access-tokens.js';
import { queryRows } from '../src/platform/database/database.js';
import { benchKekEnvironment } from './encryption.js';
import { DEFAULT_ADMIN_URL, DEFAULT_DATABASE } from './options.js';
import { loadAverage } from './proc.js';

const LIMIT_MS = 60_000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'database-url': { type: 'string' }, keep: { type: 'boolean', default: false } } });
  const databaseUrl = values['database-url'] ?? `${DEFAULT_ADMIN_URL}/${DEFAULT_DATABASE}`;
  const config = loadConfig({ ...process.env, ...benchKekEnvironment(), DATABASE_URL: databaseUrl, SEED_DEMO_DATA: 'false', JOB_WORKERS: '0', LOG_LEVEL: 'silent', DATABASE_POOL_SIZE: '4' } as Record<string, string>);
  const system = await createSystem(config, { logger: pino({ level: 'silent' }) });
  const db = system.database.db;
  const code = `BENCH-${Date.now()}`;
  const maker = { actor: { ...systemActor('bench-maker'), type: 'user' as const, id: 'bench-maker' } };
  const checker = { actor: { ...systemActor('bench-checker'), type: 'user' as const, id: 'bench-checker' } };
  const figures: Array<{ step: string; ms: number; rows: number; peakRssMb: number; load: number[] }> = [];
  let peakRss = 0;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 200);
  const step = async (name: string, run: () => Promise<number>) => {
    peakRss = process.memoryUsage().rss;
    const started = performance.now();
    const rows = await run();
    const ms = Math.round(performance.now() - started);
    const figure = { step: name, ms, rows, peakRssMb: Math.round(peakRss / 1048576), load: loadAverage() };
    figures.push(figure);
    console.log(`${name}: ${rows.toLocaleString('en')} rows in ${(ms / 1000).toFixed(1)} s${ms > LIMIT_MS ? ' ✗ (> 60 s)' : ''}, peak RSS ${figure.peakRssMb} MB, load ${figure.load.join(' ')}`);
  };
  const jobResult = async (id: string) => (await queryRows<{ result: Record<string, unknown>; state: string; last_error: string | null }>(db, sql`select result, state, last_error from jobs where uuid = ${id}`))[0]!;
  let programId: number | undefined;
  try {
    const programs = system.programs;
    const program = await programs.programs.create(maker, {
      code, name: 'Bench child grant', targetType: 'group', currency: 'PHP', eligibilityRule: 'household_size >= 1',
      cashFormula: '500 + 100 * (members.count(m, m.age < 18) > 3 ? 3 : members.count(m, m.age < 18))',
    });
    programId = (await queryRows<{ id: number }>(db, sql`select id from programs where uuid = ${program.id}`))[0]!.id;
    await programs.programs.activate(maker, code);
    await programs.programs.deposit(maker, code, { amount: '10000000000.00', reference: 'bench' });
    await step('enrol (job: select eligible, insert memberships and events, promote)', async () => {
      const job = await programs.enrolment.enqueueEnrol(maker, code, { at: '2025-06-30T00:00:00Z' });
      await system.jobs.drain();
      const result = await jobResult(job.id);
      if (result.state !== 'succeeded') throw new Error(`enrol: ${result.last_error}`);
      return Number(result.result.enrolled);
    });
    const cycle = await programs.cycles.create(maker, code, { startDate: '2025-07-01', endDate: '2025-07-31', recurrence: 'monthly' });
    await step('prepare cash entitlements (job: formula compiled to SQL)', async () => {
      const { job } = await programs.cycles.enqueuePrepare(maker, cycle.id);
      await system.jobs.drain();
      const result = await jobResult(job.id);
      if (result.state !== 'succeeded') throw new Error(`prepare: ${result.last_error}`);
      return Number(result.result.cashEntitlements);
    });
    await step('approve (funds check, commitment, entitlements frozen)', async () => (await programs.cycles.approve(checker, cycle.id)).entitlementCount);
    let batchId = '';
    await step('fill payment batch (job)', async () => {
      const { batch, job } = await programs.payments.createBatch(maker, cycle.id, { provider: 'file' });
      batchId = batch.id;
      await system.jobs.drain();
      const result = await jobResult(job.id);
      if (result.state !== 'succeeded') throw new Error(`batch: ${result.last_error}`);
      return Number(result.result.payments);
    });
    await step('payment file: CSV + pain.001 (job)', async () => {
      const job = await programs.payments.send(checker, batchId);
      await system.jobs.drain();
      const result = await jobResult(job.id);
      if (result.state !== 'succeeded') throw new Error(`send: ${result.last_error}`);
      const sizes = await queryRows<{ purpose: string; size: string }>(db, sql`select f.purpose, f.size_bytes::text as size from job_files f join jobs j on j.id = f.job_id where j.uuid = ${job.id}`);
      console.log(`  files: ${sizes.map((file) => `${file.purpose} ${(Number(file.size) / 1048576).toFixed(1)} MB`).join(', ')}`);
      return Number(result.result.sent);
    });
    console.log(JSON.stringify({ households: 250_000, figures }, null, 2));
  } finally {
    clearInterval(sampler);
    if (programId !== undefined && !values.keep) await cleanUp(db, programId);
    await system.close();
  }
}

/** Deletes the bench program and everything it created (the audit log is append-only and stays). */
async function cleanUp(db: Parameters<typeof queryRows>[0], programId: number): Promise<void> {
  const started = performance.now();
  await db.execute(sql`delete from job_file_chunks where file_id in (select f.id from job_files f join jobs j on j.id = f.job_id where j.type like 'programs.%' and (j.payload->>'batch') in (select b.uuid::text from payment_batches b join cycles c on c.id = b.cycle_id where c.program_id = ${programId}))`);
  await db.execute(sql`delete from job_files where job_id in (select j.id from jobs j where j.type like 'programs.%' and (j.payload->>'batch') in (select b.uuid::text from payment_batches b join cycles c on c.id = b.cycle_id where c.program_id = ${programId}))`);
  await db.execute(sql`delete from payment_events where payment_id in (select p.id from payments p join payment_batches b on b.id = p.batch_id join cycles c on c.id = b.cycle_id where c.program_id = ${programId})`);
  await db.execute(sql`delete from payments where batch_id in (select b.id from payment_batches b join cycles c on c.id = b.cycle_id where c.program_id = ${programId})`);
  await db.execute(sql`delete from payment_batches where cycle_id in (select id from cycles where program_id = ${programId})`);
  await db.execute(sql`delete from entitlements where cycle_id in (select id from cycles where program_id = ${programId})`);
  await db.execute(sql`delete from program_fund_movements where program_id = ${programId}`);
  await db.execute(sql`delete from cycles where program_id = ${programId}`);
  await db.execute(sql`delete from duplicate_suspects where program_id = ${programId}`);
  await db.execute(sql`delete from program_membership_events where membership_id in (select id from program_memberships where program_id = ${programId})`);
  // Every row referring to these memberships is gone by now, but the foreign-key check from
  // entitlements.membership_id (no index of its own) would scan the dead entitlement rows once per
  // membership whenever a long transaction elsewhere holds vacuum back: skip the checks (the bench
  // connects as the PostgreSQL superuser).
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql`delete from program_memberships where program_id = ${programId}`);
    await tx.execute(sql`delete from programs where id = ${programId}`);
  });
  console.log(`cleaned up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
