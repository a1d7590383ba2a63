import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../platform/config.js';
import { createSystem, type System } from '../app.js';
import { sealAuditLog, verifyAuditChain } from '../platform/audit/audit-chain.js';
import { auditCsv } from '../platform/audit/audit-export.js';

/** `commonweal audit verify`: recomputes the hash chain; exit code 1 when it is broken. */
export async function auditVerifyCommand(config: Config, options: { json?: boolean }): Promise<void> {
  const system = await createSystem({ ...config, jobWorkers: 0 });
  try {
    await sealAuditLog(system.database.db);
    const started = Date.now();
    const result = await verifyAuditChain(system.database.db, (entries) => {
      if (!options.json) process.stderr.write(`\rVerified ${entries} entries (${Math.round(entries / Math.max((Date.now() - started) / 1000, 0.001))}/s)`);
    });
    if (!options.json) process.stderr.write('\n');
    if (options.json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(`Audit chain: ${result.entries} entries, head position ${result.headPosition}, head hash ${result.headHash ?? '(empty)'}`);
      for (const problem of result.problems) console.log(`  position ${problem.position}${problem.auditId ? ` (entry ${problem.auditId})` : ''}: ${problem.problem}`);
      if (result.staleUnsealed > 0) console.log(`  ${result.staleUnsealed} entries older than an hour are not sealed: is the server's sealer running?`);
      console.log(result.problems.length === 0 ? 'OK: no entry was edited or deleted.' : 'TAMPERED: see the problems above.');
    }
    process.exitCode = result.problems.length === 0 ? 0 : 1;
  } finally {
    await system.close();
  }
}

/** `commonweal audit seal`: seals entries now (the server also does it every few seconds). */
export async function auditSealCommand(config: Config): Promise<void> {
  const system = await createSystem({ ...config, jobWorkers: 0 });
  try {
    console.log(`Sealed ${await sealAuditLog(system.database.db, { settleSeconds: 0 })} entries.`);
  } finally {
    await system.close();
  }
}

export interface AuditExportOptions {
  from?: string;
  to?: string;
  actor?: string;
  /** An entity id (UUID or code) of any type. */
  entity?: string;
  entityType?: string;
  registrant?: string;
  action?: string;
}

/** `audit export`: every matching entry as CSV into `destination` (the same columns as the API's `_format=csv`). */
export async function auditExport(system: System, options: AuditExportOptions, destination: Writable): Promise<void> {
  const { entity, ...filters } = options;
  await pipeline(auditCsv(system.database.db, { ...filters, entityId: entity }, '--'), destination);
}

/** `commonweal audit export [--from] [--to] [--actor] [--entity] … > audit.csv` (standard output). */
export async function auditExportCommand(config: Config, options: AuditExportOptions): Promise<void> {
  const system = await createSystem({ ...config, jobWorkers: 0 });
  try {
    await auditExport(system, options, process.stdout);
  } finally {
    await system.close();
  }
}
