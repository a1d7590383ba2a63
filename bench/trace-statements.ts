// Prints the SQL statements the registry sends for one request of each bench scenario, by running
// the services in this process with pg's query method wrapped. Use it to keep bench/sql-floor.ts
// equal to what the API does after the repository or search code changes:
//   npx tsx bench/trace-statements.ts [DATABASE_URL]   (default: the bench database, already seeded)
import pg from 'pg';
import { DEFAULT_ADMIN_URL, DEFAULT_DATABASE } from './options.js';
import { householdIdOf, nationalIdOf, REGION_CODES } from './keys.js';
import { PAGE_SIZE } from './scenarios.js';
import { systemActor } from '../src/platform/auth/access-tokens.js';

const databaseUrl = process.argv[2] ?? `${DEFAULT_ADMIN_URL}/${DEFAULT_DATABASE}`;

let trace: string[] | undefined;
const originalQuery = pg.Client.prototype.query;
// Every query of the pool goes through Client#query; record its text while a trace is open.
pg.Client.prototype.query = function query(this: pg.Client, ...args: unknown[]) {
  const config = args[0] as string | { text?: string } | undefined;
  const text = typeof config === 'string' ? config : config?.text;
  if (trace && text) trace.push(text.replace(/\$(\d+)(, \$\d+)+/g, (match) => `$${match.split(',').length}…`));
  return (originalQuery as (...parameters: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

const { createSystem } = await import('../src/app.js');
const { loadConfig } = await import('../src/platform/config.js');
const system = await createSystem(loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', JOB_WORKERS: '0', SEED_DEMO_DATA: 'false' }));
try {
  const registry = system.services.registry;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows: [sample] } = await client.query<{ uuid: string; name: string }>("select uuid, split_part(name_search, ' ', 1) as name from registrants where kind = 'individual' limit 1");
  await client.end();
  if (!sample) throw new Error(`${databaseUrl} holds no individuals: run the bench (or commonweal seed) first`);

  const requests: Array<[string, () => Promise<unknown>]> = [
    [`GET /api/v2/Individual/${sample.uuid}`, () => registry.getIndividual({ actor: systemActor('bench') }, sample.uuid)],
    [`GET /api/v2/Individual/national-id|${nationalIdOf(0)}`, () => registry.getIndividual({ actor: systemActor('bench') }, `national-id|${nationalIdOf(0)}`)],
    [`GET /api/v2/Individual?name=${sample.name}&_count=${PAGE_SIZE}`, () => registry.searchIndividuals({ actor: systemActor('bench') }, { name: sample.name, _count: String(PAGE_SIZE) }, '')],
    [`GET /api/v2/Individual?area=${REGION_CODES[0]}&_count=${PAGE_SIZE}`, () => registry.searchIndividuals({ actor: systemActor('bench') }, { area: REGION_CODES[0], _count: String(PAGE_SIZE) }, '')],
    [`GET /api/v2/Group/household-id|${householdIdOf(0)}`, () => registry.getGroup({ actor: systemActor('bench') }, `household-id|${householdIdOf(0)}`)],
  ];
  for (const [, run] of requests) await run(); // fill the caches (id types), as a running server has them
  for (const [label, run] of requests) {
    trace = [];
    await run();
    console.log(`\n${label}: ${trace.length} statements`);
    for (const text of trace) console.log(`  ${text}`);
    trace = undefined;
  }
} finally {
  await system.close();
}
