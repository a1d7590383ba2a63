import type { Config } from '../platform/config.js';
import { createSystem } from '../app.js';
import { sealAuditLog, verifyAuditChain } from '../platform/audit/audit-chain.js';

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
