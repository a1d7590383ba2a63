import { parseArgs } from 'node:util';

export const DEFAULT_HOUSEHOLDS = 250_000;
export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432';
export const DEFAULT_DATABASE = 'commonweal_bench';

export interface BenchOptions {
  households: number;
  /** Where the registry lives during the run. */
  databaseUrl: string;
  /** True when the URL is our own default database, which the bench may drop and recreate. */
  isDefaultDatabase: boolean;
  reuse: boolean;
  /** Seconds measured per scenario (after the warm-up), for the API and for the SQL floor alike. */
  duration: number;
  /** Seconds of unmeasured load before each measurement. */
  warmup: number;
  /** Requests (or queries) in flight at any time. */
  connections: number;
  skipImport: boolean;
  skipExport: boolean;
  /** Rows in the generated import file. */
  importRows: number;
  /** Run the server with --cpu-prof and summarise where its CPU time went. */
  profileServer: boolean;
  /** Let the server's audit sealer run during the scenarios (by default it is held off while they are measured). */
  withAuditSealer: boolean;
  /** Run only this section (`rules`: the rules engine on the existing bench database, no seeding). */
  only?: 'rules' | 'dci';
  skipRules: boolean;
  skipDci: boolean;
}

const USAGE = `Usage: npm run bench -- [options]

  --households N       households to seed (default ${DEFAULT_HOUSEHOLDS.toLocaleString('en')}, about 4.5 individuals each)
  --database-url URL   PostgreSQL database to use (default ${DEFAULT_ADMIN_URL}/${DEFAULT_DATABASE},
                       created if missing; that default database is dropped and re-seeded unless --reuse)
  --reuse              skip seeding when the database already holds the N households of seed 1
  --duration S         seconds measured per scenario (default 10)
  --warmup S           seconds of unmeasured load before each measurement (default 2)
  --connections C      fixed concurrency: HTTP connections, and pg connections for the SQL floor (default 10)
  --import-rows N      rows of the generated import CSV (default 100000)
  --skip-import        do not measure the import
  --skip-export        do not measure the export
  --profile-server     run the server with --cpu-prof; the report adds where its CPU time went
  --with-audit-sealer  let the server's audit sealer work through its backlog during the scenarios
                       (by default the bench holds its lock while latencies are measured)
  --skip-rules         do not measure the rules engine
  --only rules         only the rules engine, on the database as it is (never seeds or drops it)
  --skip-dci           do not measure the DCI server (sync search, notify throughput)
  --only dci           only the DCI server, on the database as it is (never seeds or drops it)
  --help               show this text`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      households: { type: 'string' },
      'database-url': { type: 'string' },
      reuse: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'import-rows': { type: 'string' },
      'skip-import': { type: 'boolean', default: false },
      'skip-export': { type: 'boolean', default: false },
      'profile-server': { type: 'boolean', default: false },
      'with-audit-sealer': { type: 'boolean', default: false },
      'skip-rules': { type: 'boolean', default: false },
      'skip-dci': { type: 'boolean', default: false },
      only: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const databaseUrl = values['database-url'] ?? `${DEFAULT_ADMIN_URL}/${DEFAULT_DATABASE}`;
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new UsageError('--database-url must be a postgres:// URL');
  return {
    households: integer('--households', values.households, DEFAULT_HOUSEHOLDS, 1),
    databaseUrl,
    isDefaultDatabase: values['database-url'] === undefined,
    reuse: values.reuse ?? false,
    duration: integer('--duration', values.duration, 10, 1),
    warmup: integer('--warmup', values.warmup, 2, 0),
    connections: integer('--connections', values.connections, 10, 1),
    skipImport: values['skip-import'] ?? false,
    skipExport: values['skip-export'] ?? false,
    importRows: integer('--import-rows', values['import-rows'], 100_000, 1),
    profileServer: values['profile-server'] ?? false,
    withAuditSealer: values['with-audit-sealer'] ?? false,
    skipRules: values['skip-rules'] ?? false,
    skipDci: values['skip-dci'] ?? false,
    ...(values.only === undefined ? {} : { only: onlySection(values.only) }),
  };
}

function onlySection(value: string): 'rules' | 'dci' {
  if (value !== 'rules' && value !== 'dci') throw new UsageError('--only takes: rules, dci');
  return value;
}

function integer(name: string, given: string | undefined, fallback: number, minimum: number): number {
  if (given === undefined) return fallback;
  const value = Number(given.replace(/_/g, ''));
  if (!Number.isInteger(value) || value < minimum) throw new UsageError(`${name} must be an integer of at least ${minimum}`);
  return value;
}

export class UsageError extends Error {
  override name = 'UsageError';
  readonly usage = USAGE;
}
