// The plan and execution time of the name search's page query for every common name the bench
// draws from, slowest first: which names get a bad plan, and how far the estimate was off.
//   npx tsx bench/name-search-plans.ts [DATABASE_URL]   (default: the bench database, already seeded)
import pg from 'pg';
import { commonNameFragments } from './keys.js';
import { DEFAULT_ADMIN_URL, DEFAULT_DATABASE } from './options.js';
import { PAGE_SIZE } from './scenarios.js';
import { statements } from './sql-floor.js';

interface PlanNode { 'Node Type': string; 'Index Name'?: string; 'Plan Rows': number; Plans?: PlanNode[] }

const databaseUrl = process.argv[2] ?? `${DEFAULT_ADMIN_URL}/${DEFAULT_DATABASE}`;
const shape = (node: PlanNode): string =>
  `${node['Node Type']}${node['Index Name'] ? ` (${node['Index Name']})` : ''}${node.Plans ? ` > ${node.Plans.map(shape).join(', ')}` : ''}`;
// The scan under Limit/Sort/Gather: the node whose row estimate is the matches the planner expected.
const scanOf = (node: PlanNode): PlanNode => (node.Plans?.[0] && !/Scan/.test(node['Node Type']) ? scanOf(node.Plans[0]) : node);

const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
try {
  const rows: Array<{ name: string; ms: number; matches: number; estimated: number; plan: string }> = [];
  for (const name of await commonNameFragments(databaseUrl, PAGE_SIZE)) {
    const pattern = `%${name}%`;
    const { rows: [explained] } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
      { text: `explain (analyze, format json) ${statements.nameSearchPage}`, values: ['individual', pattern, PAGE_SIZE + 1] },
    );
    const { rows: [counted] } = await client.query<{ matches: number }>("select count(*)::int as matches from registrants where kind = 'individual' and name_search like $1", [pattern]);
    const result = explained!['QUERY PLAN'][0]!;
    rows.push({ name, ms: result['Execution Time'], matches: counted?.matches ?? 0, estimated: scanOf(result.Plan)['Plan Rows'], plan: shape(result.Plan) });
  }
  rows.sort((a, b) => b.ms - a.ms);
  console.log('| name | execution ms | matches | planner expected | plan |');
  console.log('|---|---:|---:|---:|---|');
  for (const row of rows.slice(0, 15)) console.log(`| ${row.name} | ${row.ms.toFixed(1)} | ${row.matches} | ${row.estimated} | ${row.plan} |`);
  const median = rows[Math.floor(rows.length / 2)]?.ms ?? NaN;
  console.log(`\n${rows.length} names; median ${median.toFixed(2)} ms; slower than 20 ms: ${rows.filter((row) => row.ms > 20).map((row) => row.name).join(', ') || 'none'}`);
} finally {
  await client.end();
}
