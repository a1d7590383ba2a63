// The rules engine at national scale: the five representative rules of issue 7 on the bench database
// (already seeded by `npm run bench`; never re-seeded or dropped here). For each: compile time (the
// checker and SQL compiler, symbol table loaded), count p50, first 50 matches p50, and the shape of
// the count's plan. Runs on its own: `npm run bench:rules` (options: --database-url URL --runs N),
// and as the rules section of `npm run bench`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { createSystem, type System } from '../src/app.js';
import { loadConfig } from '../src/platform/config.js';
import { systemActor } from '../src/platform/auth/access-tokens.js';
import { RegistryRuleQuery } from '../src/modules/registry/registry.rule-query.js';
import { checkRule } from '../src/modules/rules/rules.checker.js';
import { compileToSql } from '../src/modules/rules/rules.sql.js';
import type { RuleSubject } from '../src/modules/rules/rules.types.js';
import { benchKekEnvironment } from './encryption.js';
import { DEFAULT_ADMIN_URL, DEFAULT_DATABASE } from './options.js';
import { REGION_CODES } from './keys.js';
import { loadAverage } from './proc.js';

export interface RuleFigure {
  name: string;
  subject: RuleSubject;
  expression: string;
  count: number;
  compileP50Ms: number;
  countP50Ms: number;
  firstPageP50Ms: number;
  /** The count plan's nodes (EXPLAIN ANALYZE, costs and timings off), e.g. "Index Scan using registrants_birth_date_idx". */
  plan: string[];
  targets: { count: boolean; compile: boolean; firstPage: boolean };
}

/** The five rules; the region is the first demo region (a subtree of about a fifth of the country). */
export function benchRules(region = REGION_CODES[0]!): Array<{ name: string; subject: RuleSubject; expression: string }> {
  return [
    { name: 'age threshold', subject: 'individual', expression: 'age >= 60' },
    { name: 'female-headed with a child under 5', subject: 'group', expression: 'female_headed && members.exists(m, m.age < 5)' },
    { name: 'per-capita income below the line, size ≥ 2', subject: 'group', expression: 'per_capita_income < 1500.0 && household_size >= 2' },
    { name: 'has a disabled member', subject: 'group', expression: 'has_disabled_member' },
    { name: `elderly in region ${region}`, subject: 'individual', expression: `age >= 60 && in_area("${region}")` },
  ];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number) => Math.round(value * 100) / 100;

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await run();
  return [result, performance.now() - started];
}

export async function measureRules(databaseUrl: string, options: { runs?: number; log?: (message: string) => void } = {}): Promise<RuleFigure[]> {
  const runs = options.runs ?? 5;
  const log = options.log ?? (() => undefined);
  const config = loadConfig({ ...process.env, ...benchKekEnvironment(), DATABASE_URL: databaseUrl, SEED_DEMO_DATA: 'false', JOB_WORKERS: '0', LOG_LEVEL: 'silent', DATABASE_POOL_SIZE: '4' } as Record<string, string>);
  const system: System = await createSystem(config, { logger: pino({ level: 'silent' }) });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rules = system.services.rules;
    const query = new RegistryRuleQuery(system.database.db, system.services.registry);
    const actor = systemActor('bench');
    const at = '2025-06-30T00:00:00Z';
    const figures: RuleFigure[] = [];
    for (const rule of benchRules()) {
      const input = { expression: rule.expression, subject: rule.subject, at, timeZone: 'Asia/Manila' };
      const compiled = await rules.compile(input);
      const symbols = await rules.symbolTable(rule.subject);
      const areaIds = new Map<string, number[]>();
      for (const { code } of compiled.checked.areaCodes) areaIds.set(code, (await system.services.areas.subtreeAreaIds(code)) ?? []);
      const compileTimes: number[] = [];
      for (let index = 0; index < 200; index += 1) {
        const started = performance.now();
        compileToSql(checkRule(rule.expression, symbols), { today: compiled.evaluation.today, now: compiled.evaluation.now, areaIds, idTypes: [], encryption: { identifierIndex: () => '' } });
        compileTimes.push(performance.now() - started);
      }
      const countTimes: number[] = [];
      let count = 0;
      for (let index = 0; index < runs; index += 1) {
        const [value, ms] = await timed(() => query.count(actor, rule.subject, compiled.condition));
        count = value;
        countTimes.push(ms);
      }
      const pageTimes: number[] = [];
      for (let index = 0; index < runs; index += 1) pageTimes.push((await timed(() => query.page(actor, rule.subject, compiled.condition, 50)))[1]);
      const { sql: text, params } = await query.countQuery(actor, rule.subject, compiled.condition);
      const explained = await client.query(`explain (analyze, costs off, timing off, summary off) ${text}`, params);
      const plan = explained.rows.map((row: Record<string, string>) => row['QUERY PLAN']!)
        .filter((line) => /Scan|Join|Aggregate|SubPlan|InitPlan|Gather|Hash|Limit/.test(line))
        .map((line) => line.replace(/\s+\(actual rows=.*$/, '').trimEnd());
      const figure: RuleFigure = {
        ...rule, count, compileP50Ms: round(median(compileTimes)), countP50Ms: round(median(countTimes)), firstPageP50Ms: round(median(pageTimes)), plan,
        targets: { count: median(countTimes) <= 1000, compile: median(compileTimes) <= 5, firstPage: median(pageTimes) <= 200 },
      };
      log(`${rule.name}: ${count.toLocaleString('en')} matches, compile ${figure.compileP50Ms} ms, count p50 ${figure.countP50Ms} ms, first 50 p50 ${figure.firstPageP50Ms} ms`);
      figures.push(figure);
    }
    return figures;
  } finally {
    await client.end();
    await system.close();
  }
}

export function formatRules(figures: RuleFigure[]): string {
  const lines = ['| rule | matches | compile p50 | count p50 | first 50 p50 |', '|---|---:|---:|---:|---:|'];
  for (const f of figures) {
    const mark = (ok: boolean) => (ok ? '' : ' ✗');
    lines.push(`| ${f.name} (\`${f.expression}\`) | ${f.count.toLocaleString('en')} | ${f.compileP50Ms} ms${mark(f.targets.compile)} | ${f.countP50Ms} ms${mark(f.targets.count)} | ${f.firstPageP50Ms} ms${mark(f.targets.firstPage)} |`);
  }
  for (const f of figures) lines.push('', `${f.name} — count plan:`, '```', ...f.plan, '```');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'database-url': { type: 'string' }, runs: { type: 'string' } }, strict: true });
  const databaseUrl = values['database-url'] ?? `${DEFAULT_ADMIN_URL}/${DEFAULT_DATABASE}`;
  const log = (message: string) => process.stderr.write(`[bench rules ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  log(`load average ${loadAverage().join(' ')} on ${os.cpus().length} cores`);
  const figures = await measureRules(databaseUrl, { runs: Number(values.runs ?? 5), log });
  log(`load average ${loadAverage().join(' ')} after`);
  const file = path.join(import.meta.dirname, 'results', `rules-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ databaseUrl: databaseUrl.replace(/\/\/[^@]*@/, '//'), loadAverage: loadAverage(), figures }, null, 2));
  console.log(formatRules(figures));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
