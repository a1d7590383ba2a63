// `npm run bench`: seeds a national-scale registry, drives the API and the equivalent raw SQL at a
// fixed concurrency, times import/export and the seed, and reports every figure against the
// targets (stdout and bench/results/<timestamp>.json). See docs/PERFORMANCE.md.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApiClient, fetchAccessToken, type ClientCredentials } from './api-client.js';
import { measureExport, measureImport, type BulkFigure } from './bulk-jobs.js';
import { REPOSITORY_ROOT, availableCommands, commonwealEnvironment, killRunningCommands, runCommonweal } from './commonweal-cli.js';
import { CpuMeter, perRequest, percentOfOneCore } from './cpu-meter.js';
import { formatProfile, summariseServerProfile } from './cpu-profile.js';
import {
  analyzeTables, countData, ensureDatabase, holdsSeededHouseholds, pauseAuditSealer, postgresVersion, relationSizes, sampleIndividualUuids,
  unsealedAuditEntries, type DataSize,
} from './database.js';
import { REGION_CODES, commonNameFragments, randomStream, subtreeAreaIds, type KeyPools } from './keys.js';
import { httpLoad, queryLoad } from './load.js';
import { parseOptions, UsageError, type BenchOptions } from './options.js';
import { loadAverage } from './proc.js';
import {
  evaluateTargets, fileStamp, formatReport, writeReport, type BackgroundFigure, type BenchReport, type ScenarioResult, type SeedFigure,
} from './report.js';
import { buildScenarios, type Scenario } from './scenarios.js';
import { explain } from './sql-floor.js';
import { ServerProcess } from './server-process.js';
import { formatRules, measureRules, type RuleFigure } from './rules.js';
import { formatDci, measureDci, type DciFigures } from './dci.js';

const UUID_SAMPLE_SIZE = 10_000;
/** The server's pool: the default of DATABASE_POOL_SIZE, as an operator would run it. */
const SERVER_POOL_SIZE = 10;
const SERVER_JOB_WORKERS = 2;
/** Seconds the idle server is watched before the load, to see what it does on its own (the audit sealer). */
const BACKGROUND_SECONDS = 5;

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

let server: ServerProcess | undefined;
let resumeAuditSealer: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();
  log(`load average ${loadAtStart.join(' ')} on ${os.cpus().length} cores`);
  if (options.only === 'rules') {
    console.log(formatRules(await measureRules(options.databaseUrl, { log: (message) => log(`rules: ${message}`) })));
    log(`load average ${loadAverage().join(' ')} at the end`);
    return;
  }
  if (options.only === 'dci') {
    console.log(formatDci(await measureDci(options.databaseUrl, { seconds: options.duration, log: (message) => log(`dci: ${message}`) })));
    return;
  }

  const seed = await prepareData(options);
  log('ANALYZE (the statistics autovacuum would gather) so plans do not depend on its timing');
  await analyzeTables(options.databaseUrl);
  const data = await countData(options.databaseUrl);
  log(`data: ${data.households.toLocaleString('en')} households, ${data.individuals.toLocaleString('en')} individuals`);
  const commands = await availableCommands();

  log(`starting \`commonweal serve\`${options.profileServer ? ' under --cpu-prof' : ''}`);
  const profileDirectory = options.profileServer ? path.join(REPOSITORY_ROOT, 'bench', 'results', 'profiles', fileStamp(startedAt)) : undefined;
  server = await ServerProcess.start(options.databaseUrl, { poolSize: SERVER_POOL_SIZE, jobWorkers: SERVER_JOB_WORKERS, profileDirectory });
  const credentials = await createApiClient(options.databaseUrl);

  const keys = await collectKeys(options, data);
  log(`keys: ${keys.individualUuids.length} UUIDs, ${keys.nameFragments.length} names with ≥ 100 matches, regions ${keys.regionCodes.join(' ')}`);
  const background = await measureBackground(options, server);
  if (!options.withAuditSealer && background.unsealedAuditEntries !== undefined) {
    log('holding the audit sealer\'s lock while latencies are measured (--with-audit-sealer to let it run)');
    resumeAuditSealer = await pauseAuditSealer(options.databaseUrl);
  }
  const scenarioList = buildScenarios(keys);
  await warmUpServer(scenarioList, options, server, credentials);
  const scenarios: ScenarioResult[] = [];
  for (const [index, scenario] of scenarioList.entries()) {
    scenarios.push(await runScenario(scenario, index, options, server, credentials));
  }
  await resumeAuditSealer?.();
  resumeAuditSealer = undefined;
  const serverPeakRss = server.peakRssBytes;
  await server.stop();
  server = undefined;
  const serverProfile = profileDirectory ? summariseServerProfile(profileDirectory) : undefined;

  log('export');
  const exportFigure: BulkFigure = options.skipExport
    ? { status: 'skipped' }
    : await measureExport(options.databaseUrl, { available: commands.has('export'), areaCode: REGION_CODES[0]! });
  log('import');
  const importSeed = 1_000 + (Math.floor(Date.now() / 1000) % 1_000_000);
  const importFigure: BulkFigure = options.skipImport
    ? { status: 'skipped' }
    : await measureImport(options.databaseUrl, { available: commands.has('import'), rows: options.importRows, seed: importSeed });
  let rules: RuleFigure[] = [];
  if (!options.skipRules) {
    log('rules engine (issue 7): five rules, count / first 50 / compile');
    rules = await measureRules(options.databaseUrl, { log: (message) => log(`rules: ${message}`) });
  }
  let dci: DciFigures | undefined;
  if (!options.skipDci) {
    log('DCI server (issue 5): sync search by identifier, predicate search of 100 records, notify throughput');
    dci = await measureDci(options.databaseUrl, { seconds: options.duration, log: (message) => log(`dci: ${message}`) });
  }

  const withoutTargets: Omit<BenchReport, 'targets'> = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...withoutUrl(options), database: redactPassword(options.databaseUrl) },
    machine: {
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryBytes: os.totalmem(),
      os: `${os.type()} ${os.release()}`,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadAverage(),
    },
    node: process.version,
    postgres: await postgresVersion(options.databaseUrl),
    commit: git(['rev-parse', '--short', 'HEAD']),
    workingTreeDirty: git(['status', '--porcelain']) !== '',
    data: { ...data, relations: await relationSizes(options.databaseUrl) },
    seed,
    server: { poolSize: SERVER_POOL_SIZE, jobWorkers: SERVER_JOB_WORKERS, peakRssBytes: serverPeakRss },
    background: { ...background, auditSealerDuringScenarios: options.withAuditSealer ? 'running' : 'held off' },
    scenarios,
    export: exportFigure,
    import: importFigure,
    ...(serverProfile ? { serverProfile } : {}),
  };
  const report: BenchReport = { ...withoutTargets, targets: evaluateTargets(withoutTargets) };
  const file = writeReport(report, path.join(REPOSITORY_ROOT, 'bench', 'results'));
  console.log(formatReport(report));
  if (serverProfile) console.log(`\n${formatProfile(serverProfile)}`);
  if (rules.length > 0) console.log(`\n## Rules engine\n\n${formatRules(rules)}`);
  if (dci) console.log(`\n## DCI server\n\n${formatDci(dci)}`);
  console.log(`\nWritten to ${path.relative(process.cwd(), file)}`);
}

/** Step 1: a database holding N seeded households, from a reused one or by seeding (timed). */
async function prepareData(options: BenchOptions): Promise<SeedFigure> {
  await ensureDatabase(options.databaseUrl, { recreate: false });
  if (options.reuse) {
    const present = await countData(options.databaseUrl);
    if (present.households >= options.households && (await holdsSeededHouseholds(options.databaseUrl, options.households))) {
      log(`--reuse: ${present.households.toLocaleString('en')} households already there, not seeding`);
      return { status: 'reused' };
    }
    log(`--reuse: the database does not hold households 0…${options.households - 1} of seed 1; seeding`);
  }
  if (options.isDefaultDatabase) {
    log(`recreating ${redactPassword(options.databaseUrl)} for a clean seed`);
    await ensureDatabase(options.databaseUrl, { recreate: true });
  }
  const before = await countData(options.databaseUrl);
  if (before.individuals > 0) log(`${before.individuals.toLocaleString('en')} individuals already there (not our default database: not dropped); seeding extends them`);

  log(`seeding ${options.households.toLocaleString('en')} households (about ${Math.round(options.households * 4.5).toLocaleString('en')} individuals)`);
  const progress = setInterval(() => void reportSeedProgress(options.databaseUrl, before), 30_000);
  const args = ['seed', '--households', String(options.households)];
  try {
    const run = await runCommonweal(args, commonwealEnvironment(options.databaseUrl, { JOB_WORKERS: '0' }), { echo: true });
    const after = await countData(options.databaseUrl);
    const individuals = after.individuals - before.individuals;
    const reported = /\((\d+) individuals\/s\)/.exec(run.stdout)?.[1];
    return {
      status: before.individuals > 0 ? 'extended existing data' : 'measured',
      command: `commonweal ${args.join(' ')}`,
      households: after.households - before.households,
      individuals,
      seconds: Math.round(run.seconds * 10) / 10,
      individualsPerSecond: Math.round(individuals / run.seconds),
      ...(reported ? { reportedIndividualsPerSecond: Number(reported) } : {}),
      peakRssBytes: run.peakRssBytes,
    };
  } finally {
    clearInterval(progress);
  }
}

/** The seed's own progress bar is silent without a terminal: a line every 30 s instead. */
async function reportSeedProgress(databaseUrl: string, before: DataSize): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows: [row] } = await client.query<{ inserted: string }>("select coalesce(sum(n_tup_ins), 0)::bigint as inserted from pg_stat_user_tables where relname = 'registrants'");
    log(`  … about ${(Number(row?.inserted ?? 0) - before.households - before.individuals).toLocaleString('en')} registrants written`);
  } catch {
    // progress is best effort
  } finally {
    await client.end().catch(() => {});
  }
}

async function collectKeys(options: BenchOptions, data: DataSize): Promise<KeyPools> {
  const nameFragments = await commonNameFragments(options.databaseUrl, 100);
  if (nameFragments.length === 0) throw new Error('No name matches 100 individuals: seed more households');
  return {
    households: Math.min(options.households, data.households),
    individualUuids: await sampleIndividualUuids(options.databaseUrl, UUID_SAMPLE_SIZE),
    nameFragments,
    regionCodes: REGION_CODES,
    regionAreaIds: await subtreeAreaIds(options.databaseUrl, REGION_CODES[0]!),
  };
}

/**
 * The idle server, before any load: what it and PostgreSQL do on their own. After a bulk load that is
 * mostly the audit sealer working through the new entries.
 */
async function measureBackground(options: BenchOptions, running: ServerProcess): Promise<Omit<BackgroundFigure, 'auditSealerDuringScenarios'>> {
  const unsealed = await unsealedAuditEntries(options.databaseUrl);
  if (unsealed) log(`${unsealed.toLocaleString('en')} audit entries wait to be sealed by the server`);
  log(`watching the idle server for ${BACKGROUND_SECONDS} s`);
  const meter = await CpuMeter.start(options.databaseUrl, running.pid);
  await new Promise((resolve) => setTimeout(resolve, BACKGROUND_SECONDS * 1000));
  const totals = await meter.stop();
  return {
    seconds: BACKGROUND_SECONDS,
    serverCpuPercentOfOneCore: percentOfOneCore(totals.serverMs, totals.elapsedMs),
    postgresCpuPercentOfOneCore: percentOfOneCore(totals.postgresMs, totals.elapsedMs),
    machineBusyPercent: totals.machineBusyPercent,
    loadAverage1m: totals.loadAverage1m,
    ...(unsealed !== undefined ? { unsealedAuditEntries: unsealed } : {}),
  };
}

/**
 * Every scenario once, unmeasured, before the first measurement: JIT-compiles every route's code
 * and opens the server's pool connections, so the first scenario is not the one that pays for it.
 */
async function warmUpServer(scenarios: Scenario[], options: BenchOptions, running: ServerProcess, credentials: ClientCredentials): Promise<void> {
  if (options.warmup === 0) return;
  log(`warming up the server: every scenario for ${options.warmup} s`);
  const token = await fetchAccessToken(running.baseUrl, credentials);
  for (const [index, scenario] of scenarios.entries()) {
    const random = randomStream(104_729 * (index + 1));
    await httpLoad({ baseUrl: running.baseUrl, token, connections: options.connections, seconds: options.warmup, nextPath: () => scenario.path(random) });
  }
}

/** Steps 3 and 4 for one scenario: the API under load, then the same SQL under the same load. */
async function runScenario(scenario: Scenario, index: number, options: BenchOptions, running: ServerProcess, credentials: ClientCredentials): Promise<ScenarioResult> {
  const token = await fetchAccessToken(running.baseUrl, credentials);
  await checkScenario(scenario, running.baseUrl, token);
  const seed = 7919 * (index + 1);

  log(`${scenario.title}: API, ${options.warmup} s warm-up + ${options.duration} s`);
  const warmupPaths = randomStream(seed + 1);
  if (options.warmup > 0) await httpLoad({ baseUrl: running.baseUrl, token, connections: options.connections, seconds: options.warmup, nextPath: () => scenario.path(warmupPaths) });
  const apiKeys = randomStream(seed);
  const apiMeter = await CpuMeter.start(options.databaseUrl, running.pid);
  const api = await httpLoad({ baseUrl: running.baseUrl, token, connections: options.connections, seconds: options.duration, nextPath: () => scenario.path(apiKeys) });
  const apiCpu = perRequest(await apiMeter.stop(), api.requests);

  log(`${scenario.title}: raw SQL floor, ${options.warmup} s warm-up + ${options.duration} s`);
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.connections });
  try {
    const warmupKeys = randomStream(seed + 1);
    if (options.warmup > 0) await queryLoad(options.connections, options.warmup, () => scenario.sql(pool, warmupKeys));
    const sqlKeys = randomStream(seed); // the same keys, in the same order, as the API run
    const sqlMeter = await CpuMeter.start(options.databaseUrl);
    const sql = await queryLoad(options.connections, options.duration, () => scenario.sql(pool, sqlKeys));
    const sqlCpu = perRequest(await sqlMeter.stop(), sql.requests);
    const main = scenario.mainStatement(randomStream(seed + 2));
    const plan = await explain(pool, main.text, main.values);
    return {
      id: scenario.id,
      title: scenario.title,
      kind: scenario.kind,
      api: { ...api, cpu: apiCpu },
      sql: { ...sql, cpu: sqlCpu },
      ratio: { p50: round2(api.p50Ms / sql.p50Ms), p99: round2(api.p99Ms / sql.p99Ms) },
      plan,
    };
  } finally {
    await pool.end();
  }
}

/** One request through the API before measuring: it must succeed and, for searches, fill a page. */
async function checkScenario(scenario: Scenario, baseUrl: string, token: string): Promise<void> {
  const path = scenario.path(randomStream(1));
  const response = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.text();
  if (!response.ok) throw new Error(`${scenario.title}: GET ${path} answered ${response.status}: ${body.slice(0, 500)}`);
  if (scenario.expectedItems !== undefined) {
    const { items } = JSON.parse(body) as { items: unknown[] };
    if (items.length !== scenario.expectedItems) throw new Error(`${scenario.title}: GET ${path} returned ${items.length} items, expected ${scenario.expectedItems}`);
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPOSITORY_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const withoutUrl = ({ databaseUrl: _url, ...rest }: BenchOptions) => rest;
const redactPassword = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
const round2 = (value: number) => (Number.isFinite(value) ? Math.round(value * 100) / 100 : NaN);

// The server and any running command are stopped on every way out: success, error, Ctrl-C, kill.
async function shutdown(code: number): Promise<never> {
  killRunningCommands();
  await resumeAuditSealer?.().catch(() => {});
  const stopping = server;
  server = undefined;
  await stopping?.stop().catch(() => stopping.killNow());
  process.exit(code);
}
process.once('SIGINT', () => { log('interrupted'); void shutdown(130); });
process.once('SIGTERM', () => { log('terminated'); void shutdown(143); });
process.once('exit', () => { server?.killNow(); killRunningCommands(); });

try {
  await main();
  await shutdown(0);
} catch (error) {
  if (error instanceof UsageError) console.error(`${error.message}\n\n${error.usage}`);
  else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  if (server) console.error(`Server output:\n${server.recentOutput}`);
  await shutdown(1);
}
