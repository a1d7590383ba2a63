import pino, { type Logger } from 'pino';
import type { Config } from './platform/config.js';
import { openDatabase, migrationsAreApplied, rawSql, runMigrations, type Database } from './platform/database/database.js';
import { SigningKeyStore } from './platform/auth/signing-keys.js';
import { AccessTokens } from './platform/auth/access-tokens.js';
import { JobRunner } from './platform/jobs/job-runner.js';
import { jobQueueStats } from './platform/jobs/job-queue.js';
import { buildHttpServer, type HttpServer } from './platform/http/server.js';
import { ApiClientService } from './modules/api-clients/api-clients.service.js';
import { apiClientRoutes } from './modules/api-clients/api-clients.routes.js';
import { VocabularyService } from './modules/vocabularies/vocabularies.service.js';
import { vocabularyRoutes } from './modules/vocabularies/vocabularies.routes.js';
import { AreaService } from './modules/areas/areas.service.js';
import { areaRoutes } from './modules/areas/areas.routes.js';
import { RegistryService } from './modules/registry/registry.service.js';
import { registryRoutes } from './modules/registry/registry.routes.js';
import { BundleService } from './modules/bundles/bundles.service.js';
import { bundleRoutes } from './modules/bundles/bundles.routes.js';
import { jobRoutes } from './platform/jobs/job.routes.js';
import { auditRoutes } from './platform/audit/audit.routes.js';
import { EXPORT_JOB, ExportService } from './modules/bulk-data/export/export.service.js';
import { exportRoutes } from './modules/bulk-data/export/export.routes.js';
import { IMPORT_JOB, ImportService } from './modules/bulk-data/import/import.service.js';
import { ImportMappingService } from './modules/bulk-data/import/import-mappings.service.js';
import { importRoutes } from './modules/bulk-data/import/import.routes.js';

/** Every service of the system, wired once. Modules reach each other only through these. */
export interface Services {
  apiClients: ApiClientService;
  vocabularies: VocabularyService;
  areas: AreaService;
  registry: RegistryService;
  bundles: BundleService;
  exports: ExportService;
  imports: ImportService;
}

export interface System {
  config: Config;
  logger: Logger;
  database: Database;
  keys: SigningKeyStore;
  services: Services;
  jobs: JobRunner;
  http: HttpServer;
  /** Stops taking requests and jobs, waits for in-flight work, closes the database. */
  close(): Promise<void>;
}

/**
 * The composition root: opens the database, applies migrations, wires services and routes.
 * Used by `commonweal serve`, the CLI commands and the tests alike.
 */
export async function createSystem(config: Config, options: { database?: Database; logger?: Logger } = {}): Promise<System> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const database = options.database ?? await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  const { db } = database;
  await runMigrations(database);

  const keys = new SigningKeyStore(db);
  await keys.load();
  const tokens = new AccessTokens(keys, config.publicUrl, config.accessTokenTtlSeconds);

  const vocabularies = new VocabularyService(db);
  await vocabularies.installSystemVocabularies();
  const areas = new AreaService(db, vocabularies);
  const registry = new RegistryService(db, vocabularies, areas, { defaultPhoneRegion: config.defaultPhoneRegion });
  const bundles = new BundleService(db, registry);
  const apiClients = new ApiClientService(db, tokens);
  const exports = new ExportService(db, registry.search);
  const imports = new ImportService(db, registry, new ImportMappingService(db, vocabularies));
  const services: Services = { apiClients, vocabularies, areas, registry, bundles, exports, imports };

  const jobs = new JobRunner({
    db,
    concurrency: config.jobWorkers,
    pollIntervalMs: config.jobPollIntervalMs,
    leaseSeconds: config.jobLeaseSeconds,
    logger: logger.child({ component: 'jobs' }),
  });
  jobs.register(EXPORT_JOB, exports.runJob.bind(exports));
  jobs.register(IMPORT_JOB, imports.runJob.bind(imports));

  const http = await buildHttpServer({
    logger: { level: config.logLevel },
    publicUrl: config.publicUrl,
    db,
    tokens,
    metrics: { jobCounts: () => jobQueueStats(db), poolStats: () => database.poolStats() },
    readiness: async () => ({
      database: await db.execute(rawSql`select 1`).then(() => true, () => false),
      migrations: await migrationsAreApplied(db),
      jobRunner: config.jobWorkers === 0 || jobs.isRunning(),
    }),
    routes: [
      apiClientRoutes(apiClients, keys),
      vocabularyRoutes(vocabularies, config.publicUrl),
      areaRoutes(areas, config.publicUrl),
      registryRoutes(registry, config.publicUrl),
      bundleRoutes(bundles),
      jobRoutes(db),
      auditRoutes(db, config.publicUrl),
      exportRoutes(exports),
      importRoutes(imports),
    ],
  });

  return {
    config, logger, database, keys, services, jobs, http,
    close: async () => {
      await http.close();
      await jobs.stop(config.shutdownGraceMs);
      await database.close();
    },
  };
}
