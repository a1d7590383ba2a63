import fs from 'node:fs';
import path from 'node:path';
import type { BulkFigure } from './bulk-jobs.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { CpuFigures } from './cpu-meter.js';
import type { LatencySummary } from './load.js';
import type { BenchOptions } from './options.js';

export interface ScenarioResult {
  id: string;
  title: string;
  kind: 'read' | 'search';
  api: LatencySummary & { cpu: CpuFigures };
  sql: LatencySummary & { cpu: CpuFigures };
  /** API latency divided by floor latency. */
  ratio: { p50: number; p99: number };
  /** EXPLAIN (ANALYZE, BUFFERS) of the main statement for one key, after the run. */
  plan: string[];
}

export interface SeedFigure {
  status: 'measured' | 'reused' | 'extended existing data';
  households?: number;
  individuals?: number;
  seconds?: number;
  individualsPerSecond?: number;
  reportedIndividualsPerSecond?: number;
  peakRssBytes?: number;
  command?: string;
}

/** The idle server before the load (mostly the audit sealer after a bulk load). */
export interface BackgroundFigure {
  seconds: number;
  serverCpuPercentOfOneCore?: number;
  postgresCpuPercentOfOneCore?: number;
  machineBusyPercent?: number;
  loadAverage1m: number;
  unsealedAuditEntries?: number;
  auditSealerDuringScenarios: 'held off' | 'running';
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  options: Omit<BenchOptions, 'databaseUrl'> & { database: string };
  machine: { cpuModel: string; cores: number; memoryBytes: number; os: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  node: string;
  postgres: string;
  commit: string;
  /** Uncommitted changes in the working tree when it ran (files other engineers were editing). */
  workingTreeDirty: boolean;
  data: { households: number; individuals: number; relations: Record<string, { tableBytes: number; indexBytes: number }> };
  seed: SeedFigure;
  server: { poolSize: number; jobWorkers: number; peakRssBytes: number };
  background: BackgroundFigure;
  scenarios: ScenarioResult[];
  export: BulkFigure;
  import: BulkFigure;
  /** With --profile-server: where the server's CPU time went. */
  serverProfile?: ProfileSummary;
  targets: TargetResult[];
}

export interface TargetResult {
  target: string;
  subject: string;
  limit: string;
  value: string;
  /** null: not measured in this run. */
  pass: boolean | null;
}

export const TARGETS = {
  readP99Ms: 10,
  searchP99Ms: 50,
  apiOverSqlRatio: 2,
  importIndividualsPerSecond: 20_000,
  seedIndividualsPerSecond: 50_000,
  serverRssBytes: 1024 ** 3,
};

export function evaluateTargets(report: Omit<BenchReport, 'targets'>): TargetResult[] {
  const results: TargetResult[] = [];
  for (const scenario of report.scenarios) {
    const limit = scenario.kind === 'read' ? TARGETS.readP99Ms : TARGETS.searchP99Ms;
    results.push({
      target: scenario.kind === 'read' ? 'read p99 ≤ 10 ms' : '100-result search p99 ≤ 50 ms',
      subject: scenario.title,
      limit: `${limit} ms`,
      value: `${ms(scenario.api.p99Ms)} ms`,
      pass: Number.isFinite(scenario.api.p99Ms) && scenario.api.errors === 0 ? scenario.api.p99Ms <= limit : false,
    });
  }
  for (const scenario of report.scenarios) {
    results.push({
      target: 'API time ≤ 2× raw SQL (p50 and p99)',
      subject: scenario.title,
      limit: `${TARGETS.apiOverSqlRatio}×`,
      value: `p50 ${ratio(scenario.ratio.p50)}, p99 ${ratio(scenario.ratio.p99)}`,
      pass: scenario.ratio.p50 <= TARGETS.apiOverSqlRatio && scenario.ratio.p99 <= TARGETS.apiOverSqlRatio,
    });
  }
  const importRate = report.import.status === 'measured' ? report.import.rowsPerSecond : undefined;
  results.push({
    target: 'import ≥ 20,000 individuals/s',
    subject: 'commonweal import',
    limit: '20,000/s',
    value: importRate === undefined ? report.import.status : `${thousands(importRate)}/s`,
    pass: importRate === undefined ? null : importRate >= TARGETS.importIndividualsPerSecond,
  });
  const seedRate = report.seed.status === 'reused' ? undefined : report.seed.individualsPerSecond;
  results.push({
    target: 'seed ≥ 50,000 individuals/s',
    subject: 'commonweal seed',
    limit: '50,000/s',
    value: seedRate === undefined ? 'not measured (database reused)' : `${thousands(seedRate)}/s`,
    pass: seedRate === undefined ? null : seedRate >= TARGETS.seedIndividualsPerSecond,
  });
  results.push({
    target: 'server RSS ≤ 1 GiB',
    subject: 'commonweal serve (VmHWM)',
    limit: '1024 MiB',
    value: `${mib(report.server.peakRssBytes)} MiB`,
    pass: report.server.peakRssBytes > 0 ? report.server.peakRssBytes <= TARGETS.serverRssBytes : null,
  });
  return results;
}

/** The human-readable summary: Markdown tables, so they can go into docs/PERFORMANCE.md as they are. */
export function formatReport(report: BenchReport): string {
  const lines: string[] = [];
  lines.push(`Commonweal bench — ${report.startedAt} — commit ${report.commit}${report.workingTreeDirty ? ' (+ uncommitted changes)' : ''}`);
  lines.push(`Machine: ${report.machine.cpuModel}, ${report.machine.cores} cores, ${(report.machine.memoryBytes / 1024 ** 3).toFixed(1)} GiB; Node ${report.node}; ${report.postgres.split(' on ')[0]}`);
  lines.push(`Load average (uptime) at start ${report.machine.loadAverageAtStart.join(' ')}, at end ${report.machine.loadAverageAtEnd.join(' ')}`);
  lines.push(`Data: ${thousands(report.data.households)} households, ${thousands(report.data.individuals)} individuals; ${report.options.connections} connections, ${report.options.duration} s per measurement after ${report.options.warmup} s warm-up; server pool ${report.server.poolSize}`);
  const background = report.background;
  lines.push(`Idle server before the load (${background.seconds} s): server ${pct(background.serverCpuPercentOfOneCore)} of a core, PostgreSQL ${pct(background.postgresCpuPercentOfOneCore)}, machine ${pct(background.machineBusyPercent)} busy`
    + `${background.unsealedAuditEntries !== undefined ? `; ${thousands(background.unsealedAuditEntries)} audit entries unsealed, sealer ${background.auditSealerDuringScenarios} during the scenarios` : ''}`);
  lines.push('');
  lines.push('| Scenario | API p50 ms | API p99 ms | API req/s | SQL p50 ms | SQL p99 ms | SQL req/s | API/SQL p50 | API/SQL p99 | server CPU ms/req | PG CPU ms/req | errors |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of report.scenarios) {
    lines.push(`| ${s.title} | ${ms(s.api.p50Ms)} | ${ms(s.api.p99Ms)} | ${thousands(s.api.requestsPerSecond)} | ${ms(s.sql.p50Ms)} | ${ms(s.sql.p99Ms)} | ${thousands(s.sql.requestsPerSecond)} | ${ratio(s.ratio.p50)} | ${ratio(s.ratio.p99)} | ${ms(s.api.cpu.serverMsPerRequest)} | ${ms(s.api.cpu.postgresMsPerRequest)} | ${s.api.errors + s.sql.errors} |`);
  }
  lines.push('');
  lines.push('| Bulk work | rows | seconds | rows/s (wall clock) | rows/s (as printed) | peak RSS MiB |');
  lines.push('|---|---:|---:|---:|---:|---:|');
  const seed = report.seed;
  lines.push(seed.status === 'reused'
    ? '| Seed (`commonweal seed`) | — | — | reused database, not measured | — | — |'
    : `| Seed (\`commonweal seed\`)${seed.status === 'measured' ? '' : ` (${seed.status})`} | ${thousands(seed.individuals)} individuals | ${seed.seconds} | ${thousands(seed.individualsPerSecond)} | ${thousands(seed.reportedIndividualsPerSecond)} | ${mib(seed.peakRssBytes)} |`);
  for (const [label, figure] of [['Export (`commonweal export`, one region)', report.export], ['Import (`commonweal import`)', report.import]] as const) {
    lines.push(figure.status === 'measured'
      ? `| ${label} | ${thousands(figure.rows)} | ${figure.seconds} | ${thousands(figure.rowsPerSecond)} | ${thousands(figure.reportedRowsPerSecond)} | ${mib(figure.peakRssBytes)} |`
      : `| ${label} | — | — | ${figure.status}${figure.note ? `: ${figure.note}` : ''} | — | — |`);
  }
  lines.push(`| Server (\`commonweal serve\`) during the run | — | — | — | — | ${mib(report.server.peakRssBytes)} |`);
  lines.push('');
  lines.push('| Target | Subject | Limit | Measured | Result |');
  lines.push('|---|---|---:|---:|---|');
  for (const t of report.targets) lines.push(`| ${t.target} | ${t.subject} | ${t.limit} | ${t.value} | ${t.pass === null ? 'not measured' : t.pass ? 'PASS' : 'FAIL'} |`);
  return lines.join('\n');
}

/** An ISO 8601 timestamp in basic format, e.g. 20250101T120000Z: no colons, so it can name a file anywhere. */
export const fileStamp = (isoTimestamp: string) => isoTimestamp.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** bench/results/<ISO 8601 basic timestamp>.json. */
export function writeReport(report: BenchReport, directory: string): string {
  fs.mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${fileStamp(report.startedAt)}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

const ms = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '—' : value < 10 ? value.toFixed(2) : value.toFixed(1));
const pct = (value: number | undefined) => (value === undefined ? '—' : `${value}%`);
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '—');
const thousands = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '—' : Math.round(value).toLocaleString('en'));
const mib = (bytes: number | undefined) => (bytes === undefined || bytes <= 0 ? '—' : Math.round(bytes / 1024 ** 2).toLocaleString('en'));
