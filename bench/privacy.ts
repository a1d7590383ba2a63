// `npx tsx bench/privacy.ts`: what encryption at rest, blind indexes and masking cost.
//   1. per value, in process: AES-256-GCM encrypt/decrypt, HMAC blind index, masking of a record;
//   2. on a PostgreSQL registry (default: the bench database, postgres://postgres@127.0.0.1:5432/commonweal_bench):
//      converting plaintext rows left from before encryption at rest (if any), identifier lookups by
//      blind index and phone searches (p50/p99, one client, as the service runs them), and a data
//      key rotation with the re-encryption job over every row (--rotate).
// Options: --database-url URL, --households N (seed a fresh database up to N households, default:
// use what is there), --samples N (lookups per figure, default 2000), --rotate. Writes
// bench/results/privacy-<timestamp>.json and prints a markdown table for docs/PERFORMANCE.md.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSystem, type System } from '../src/app.js';
import { loadConfig } from '../src/platform/config.js';
import { systemActor } from '../src/platform/auth/access-tokens.js';
import { queryRows, rawSql } from '../src/platform/database/database.js';
import { BlindIndex } from '../src/platform/crypto/blind-index.js';
import { FieldCipher } from '../src/platform/crypto/field-cipher.js';
import { JobRunner } from '../src/platform/jobs/job-runner.js';
import { findJob } from '../src/platform/jobs/job-queue.js';
import { REENCRYPT_JOB } from '../src/platform/privacy/reencryption.js';
import { discloseRegistrants } from '../src/modules/registry/registry.disclosure.js';
import { RegistryEncryption } from '../src/modules/registry/registry.encryption.js';
import { findRegistrantByIdentifier, findRegistrantByUuid } from '../src/modules/registry/registry.repository.js';
import { demoHouseholdId, demoNationalId } from '../src/modules/demo-data/identifiers.js';
import { planHousehold } from '../src/modules/demo-data/household-generator.js';
import { DEFAULT_DEMO_SEED, seedRegistry } from '../src/modules/demo-data/seed-registry.js';
import { benchKekEnvironment } from './encryption.js';

interface Options { databaseUrl: string; households?: number; samples: number; rotate: boolean }

function parseArguments(argv: string[]): Options {
  const options: Options = { databaseUrl: 'postgres://postgres@127.0.0.1:5432/commonweal_bench', samples: 2000, rotate: false };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    const value = () => argv[++index] ?? '';
    if (argument === '--database-url') options.databaseUrl = value();
    else if (argument === '--households') options.households = Number(value());
    else if (argument === '--samples') options.samples = Number(value());
    else if (argument === '--rotate') options.rotate = true;
    else throw new Error(`Unknown argument ${argument}`);
  }
  return options;
}

const log = (message: string) => process.stderr.write(`[privacy ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(samplesMs: number[]) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), meanMs: sorted.reduce((sum, value) => sum + value, 0) / sorted.length, n: sorted.length };
}

/** Mean µs per call of `work` over `iterations` calls (after a warm-up). */
function perCall(iterations: number, work: (index: number) => unknown): number {
  for (let index = 0; index < Math.min(2000, iterations); index += 1) work(index);
  const started = performance.now();
  for (let index = 0; index < iterations; index += 1) work(index);
  return ((performance.now() - started) * 1000) / iterations;
}

function microBenchmarks() {
  const key = crypto.randomBytes(32);
  const cipher = new FieldCipher({ current: () => ({ version: 1, key }), get: () => key });
  const index = new BlindIndex(crypto.randomBytes(32));
  const context = { table: 'identifiers', column: 'value', record: '123456:national-id' };
  const identifier = 'AB1234567';
  const phones = JSON.stringify([{ value: '+639171234567', use: 'mobile' }]);
  const addresses = JSON.stringify([{ use: 'home', line: ['Purok 3, 12 Rizal Street'], city: 'Quezon City', district: 'District 1', postalCode: '1100', country: 'PH' }]);
  const encrypted = { identifier: cipher.encrypt(identifier, context), phones: cipher.encrypt(phones, context), addresses: cipher.encrypt(addresses, context) };
  const view = {
    resourceType: 'Individual', id: crypto.randomUUID(), birthDate: '1990-04-12', email: 'a@example.org', income: { monthly: 1, currency: 'PHP' },
    disability: null, civilStatus: 'married', custom: {}, identifiers: [{ type: 'national-id', system: 'urn', value: identifier, isValid: true }],
    phones: JSON.parse(phones), addresses: JSON.parse(addresses), name: { display: 'Ana' },
  };
  const masked = { kind: 'none' as const };
  const n = 100_000;
  return {
    encryptIdentifierUs: perCall(n, () => cipher.encrypt(identifier, context)),
    decryptIdentifierUs: perCall(n, () => cipher.decrypt(encrypted.identifier, context)),
    encryptPhonesUs: perCall(n, () => cipher.encrypt(phones, context)),
    decryptPhonesUs: perCall(n, () => cipher.decrypt(encrypted.phones, context)),
    encryptAddressesUs: perCall(n, () => cipher.encrypt(addresses, context)),
    decryptAddressesUs: perCall(n, () => cipher.decrypt(encrypted.addresses, context)),
    blindIndexUs: perCall(n, (i) => index.compute('identifiers.value', `national-id\u0000AB${i}`)),
    maskRecordUs: perCall(n, () => discloseRegistrants(masked, [view])),
    ciphertextBytes: { identifier: encrypted.identifier.length, phones: encrypted.phones.length, addresses: encrypted.addresses.length, blindIndex: 43 },
  };
}

async function counts(system: System) {
  const [row] = await queryRows<{ households: number; individuals: number; identifiers: number; legacyIdentifiers: number; legacyRegistrants: number }>(system.database.db, rawSql`
    select (select count(*) from registrants where kind = 'group')::int as households, (select count(*) from registrants where kind = 'individual')::int as individuals,
      (select count(*) from identifiers)::int as identifiers, (select count(*) from identifiers where value is not null)::int as "legacyIdentifiers",
      (select count(*) from registrants where phones is not null or addresses is not null)::int as "legacyRegistrants"`);
  return row!;
}

/** Runs the privacy.reencrypt job in this process (only it), timed. */
async function reencrypt(system: System): Promise<{ seconds: number; rewritten: number; version: number }> {
  const { job } = await system.encryption.reencryption.enqueue('bench');
  const runner = new JobRunner({ db: system.database.db, concurrency: 1, pollIntervalMs: 500, leaseSeconds: 120 });
  runner.register(REENCRYPT_JOB, system.encryption.reencryption.runJob.bind(system.encryption.reencryption));
  const started = performance.now();
  let last = 0;
  const timer = setInterval(() => {
    void findJob(system.database.db, job.id).then((current) => {
      if (current && current.progress.done !== last) log(`  re-encryption ${current.progress.done.toLocaleString('en')} / ${current.progress.total?.toLocaleString('en')}`);
      last = current?.progress.done ?? last;
    });
  }, 15_000);
  try {
    await runner.drain();
  } finally {
    clearInterval(timer);
  }
  const finished = (await findJob(system.database.db, job.id))!;
  if (finished.state !== 'succeeded') throw new Error(`re-encryption ${finished.state}: ${finished.error}`);
  const result = finished.result as { rewritten: number; version: number };
  return { seconds: (performance.now() - started) / 1000, ...result };
}

async function timed<T>(samples: number, work: (index: number) => Promise<T>): Promise<ReturnType<typeof summarise>> {
  for (let index = 0; index < Math.min(200, samples); index += 1) await work(index); // warm-up
  const times: number[] = [];
  for (let index = 0; index < samples; index += 1) {
    const started = performance.now();
    await work(index);
    times.push(performance.now() - started);
  }
  return summarise(times);
}

async function main(): Promise<void> {
  const options = parseArguments(process.argv.slice(2));
  log('in-process: encryption, blind index, masking (100,000 calls each)');
  const micro = microBenchmarks();

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-privacy-bench-'));
  const config = loadConfig({
    ...process.env, ...benchKekEnvironment(), DATABASE_URL: options.databaseUrl, DATA_DIR: dataDir, JOB_WORKERS: '0', LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'false',
  });
  log(`opening ${options.databaseUrl.replace(/:[^:@/]*@/, ':***@')} (migrations, keys)`);
  const opened = performance.now();
  const system = await createSystem(config);
  const startSeconds = (performance.now() - opened) / 1000;
  const figures: Record<string, unknown> = { startedAt: new Date().toISOString(), host: { cores: os.cpus().length, load: os.loadavg() }, micro, startSeconds };
  try {
    let data = await counts(system);
    if (options.households !== undefined && data.households < options.households) {
      log(`seeding up to ${options.households.toLocaleString('en')} households (bulk writer, encrypted)`);
      const seeded = await seedRegistry(system.services, { households: options.households });
      figures.seed = { ...seeded, individualsPerSecond: Math.round(seeded.individuals / seeded.seconds) };
      data = await counts(system);
    }
    log(`data: ${data.households.toLocaleString('en')} households, ${data.individuals.toLocaleString('en')} individuals, ${data.identifiers.toLocaleString('en')} identifiers`);
    if (data.legacyIdentifiers > 0 || data.legacyRegistrants > 0) {
      log(`converting plaintext rows from before encryption at rest: ${data.legacyRegistrants.toLocaleString('en')} registrants, ${data.legacyIdentifiers.toLocaleString('en')} identifiers`);
      const converted = await reencrypt(system);
      figures.legacyConversion = { ...converted, registrants: data.legacyRegistrants, identifiers: data.legacyIdentifiers, rowsPerSecond: Math.round(converted.rewritten / converted.seconds) };
      log(`  ${converted.rewritten.toLocaleString('en')} rows in ${converted.seconds.toFixed(1)} s`);
      await system.database.db.execute(rawSql`analyze registrants, identifiers`);
    }
    figures.data = await counts(system);

    const encryption = new RegistryEncryption(system.encryption.keyRing);
    const db = system.database.db;
    // Lookups draw from demo households 0…N-1 of seed 1 (identifiers derive from the index): find N.
    const holds = async (index: number) => (await queryRows(db, rawSql`select 1 from identifiers where id_type = 'household-id' and value_index = ${encryption.identifierIndex('household-id', demoHouseholdId(DEFAULT_DEMO_SEED, index))}`)).length === 1;
    let low = 0;
    for (let high = data.households; low < high;) {
      const middle = Math.ceil((low + high) / 2);
      if (await holds(middle)) low = middle; else high = middle - 1;
    }
    const households = low + 1;
    figures.seededHouseholds = households;
    const random = (index: number) => (Math.imul(index + 1, 2654435761) >>> 0) % households;
    const nationalId = (index: number) => demoNationalId(DEFAULT_DEMO_SEED, random(index), 0);
    log(`lookups (${options.samples} each, one client)`);
    const uuids = (await queryRows<{ uuid: string }>(db, rawSql`select uuid from registrants where kind = 'individual' order by id limit 100000`)).map((row) => row.uuid);
    figures.lookups = {
      identifierStatement: await timed(options.samples, async (index) => {
        if (!(await findRegistrantByIdentifier(db, 'national-id', nationalId(index), 'individual', encryption))) throw new Error(`national-id ${nationalId(index)} not found`);
      }),
      uuidStatement: await timed(options.samples, async (index) => findRegistrantByUuid(db, uuids[random(index) % uuids.length]!, 'individual')),
      individualByIdentifier: await timed(options.samples, async (index) => system.services.registry.getIndividual({ actor: systemActor('bench') }, `national-id|${nationalId(index)}`)),
      individualByUuid: await timed(options.samples, async (index) => system.services.registry.getIndividual({ actor: systemActor('bench') }, uuids[random(index) % uuids.length]!)),
      identifierSearch: await timed(options.samples, async (index) => {
        const page = await system.services.registry.searchIndividuals({ actor: systemActor('bench') }, { identifier: `national-id|${nationalId(index)}` }, '');
        if (page.items.length !== 1) throw new Error('identifier search found no one');
      }),
      phoneSearch: await timed(options.samples, async (index) => {
        const phone = planHousehold(DEFAULT_DEMO_SEED, random(index)).members.flatMap((member) => member.individual.phones ?? [])[0]?.value ?? '+639170000000';
        await system.services.registry.searchIndividuals({ actor: systemActor('bench') }, { phone }, '');
      }),
    };
    const plan = await queryRows<{ 'QUERY PLAN': string }>(db, rawSql`explain analyze select r.id from identifiers i join registrants r on r.id = i.registrant_id
      where i.id_type = 'national-id' and (i.value_index = ${encryption.identifierIndex('national-id', nationalId(1))} or i.value = ${nationalId(1)}) and i.is_valid and r.kind = 'individual'`);
    figures.identifierPlan = plan.map((row) => row['QUERY PLAN']);
    const sizes = await queryRows<Record<string, string>>(db, rawSql`select pg_size_pretty(pg_total_relation_size('identifiers')) as identifiers,
      pg_size_pretty(pg_relation_size('identifiers_live_uq')) as "identifiersLiveUq", pg_size_pretty(pg_relation_size('registrants_phone_indexes_idx')) as "phoneIndexGin",
      pg_size_pretty(pg_total_relation_size('registrants')) as registrants`);
    figures.sizes = sizes[0];

    if (options.rotate) {
      log('rotating the data key, then re-encrypting every ciphertext under it');
      await system.encryption.keyRing.rotateDataKey();
      const rotated = await reencrypt(system);
      figures.rotation = { ...rotated, rowsPerSecond: Math.round(rotated.rewritten / rotated.seconds) };
      log(`  ${rotated.rewritten.toLocaleString('en')} rows in ${rotated.seconds.toFixed(1)} s`);
    }
  } finally {
    await system.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const file = path.resolve(import.meta.dirname, 'results', `privacy-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}Z.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures, null, 2));
  log(`written ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
