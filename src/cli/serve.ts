import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../platform/config.js';
import { createSystem, type System } from '../app.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { sealAuditLog } from '../platform/audit/audit-chain.js';
import { purgeExpiredIdempotencyKeys } from '../platform/http/idempotency.js';
import { seedRegistry } from '../modules/demo-data/seed-registry.js';
import { ensureDemoUsers, type DemoAccount } from '../modules/users/demo-users.js';

const DEMO_CLIENT_ID = 'demo-client';

/** `commonweal serve`: the whole system in one process, with demo data on a first start. */
export async function serveCommand(config: Config): Promise<void> {
  const system = await createSystem(config);
  const { logger } = system;
  let demoCredentials: { clientId: string; clientSecret: string } | undefined;
  let demoAccounts: DemoAccount[] = [];
  if (config.seedDemoData) {
    await loadDemoDataIfEmpty(system);
    demoCredentials = await ensureDemoClient(system);
    demoAccounts = await ensureDemoUsers(system.services.users, system.services.areas, config.dataDir);
  }
  if (config.jobWorkers > 0) {
    system.jobs.start();
    system.dciAsync.start();
  }
  // Idempotency keys are kept 24 hours; sweep the expired ones now and every hour.
  const sweep = () => purgeExpiredIdempotencyKeys(system.database.db).catch((error: unknown) => logger.warn({ err: error }, 'idempotency sweep failed'));
  void sweep();
  setInterval(sweep, 3600_000).unref();
  // Seal new audit entries into the hash chain every few seconds (one process at a time, by lock).
  setInterval(() => void sealAuditLog(system.database.db).catch((error: unknown) => logger.warn({ err: error }, 'audit sealing failed')), 5000).unref();
  await system.http.listen({ port: config.port, host: config.host });

  const lines = [
    '',
    `Commonweal is running on ${config.publicUrl} (${system.database.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL'})`,
    `  API docs:      ${config.publicUrl}/docs`,
    `  OpenAPI:       ${config.publicUrl}/api/v2/openapi.json`,
    `  Token:         POST ${config.publicUrl}/oauth2/client/token`,
  ];
  if (demoCredentials) {
    lines.push(`  Demo client:   client_id=${demoCredentials.clientId} client_secret=${demoCredentials.clientSecret}`);
    lines.push(`  Try:           curl -s -d grant_type=client_credentials -u ${demoCredentials.clientId}:${demoCredentials.clientSecret} ${config.publicUrl}/oauth2/client/token`);
  }
  if (demoAccounts.length > 0) {
    lines.push(`  Sign in:       POST ${config.publicUrl}/auth/login {"username","password"} (demo staff, one per role; kept in ${config.dataDir}/demo-users.json)`);
    for (const account of demoAccounts) lines.push(`    ${account.username.padEnd(32)} ${account.password}`);
  }
  console.log(lines.join('\n'));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests and handing running jobs back');
    const timer = setTimeout(() => process.exit(1), config.shutdownGraceMs + 5000);
    timer.unref();
    await system.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

async function loadDemoDataIfEmpty(system: System): Promise<void> {
  const existing = await system.services.registry.searchGroups({ actor: systemActor('demo') }, { _count: '1' }, '');
  if (existing.items.length > 0) return;
  const households = system.config.demoHouseholds;
  console.log(`First start: loading ${households} demo households…`);
  const result = await seedRegistry(system.services, {
    households,
    onProgress: (done, total) => { if (done === total || done % 50 === 0) process.stdout.write(`\r  ${done}/${total} households`); },
  });
  process.stdout.write('\n');
  console.log(`  ${result.households} households, ${result.individuals} individuals in ${result.seconds.toFixed(1)} s`);
}

/**
 * The demo API client holds every scope. Its secret is random per installation, kept (mode 0600)
 * beside the data so each start can print it again.
 */
async function ensureDemoClient(system: System): Promise<{ clientId: string; clientSecret: string }> {
  const file = path.join(system.config.dataDir, 'demo-client.json');
  const existing = await system.services.apiClients.findClient(DEMO_CLIENT_ID);
  if (existing && fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as { clientId: string; clientSecret: string };
  if (existing) return { clientId: DEMO_CLIENT_ID, clientSecret: '(created earlier; its secret was not kept here: create another client with `commonweal client create`)' };
  const created = await system.services.apiClients.createClient({ actor: systemActor('demo') }, { name: 'Demo client', scopes: ['*'], clientId: DEMO_CLIENT_ID });
  const credentials = { clientId: created.clientId, clientSecret: created.clientSecret };
  fs.mkdirSync(system.config.dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}
