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
import { apiClientAdminRoutes } from './modules/api-clients/api-clients.admin.routes.js';
import { UserService } from './modules/users/users.service.js';
import { SessionService } from './modules/users/sessions.service.js';
import { userRoutes } from './modules/users/users.routes.js';
import { authRoutes } from './modules/users/auth.routes.js';
import { VocabularyService } from './modules/vocabularies/vocabularies.service.js';
import { vocabularyRoutes } from './modules/vocabularies/vocabularies.routes.js';
import { AreaService } from './modules/areas/areas.service.js';
import { areaRoutes } from './modules/areas/areas.routes.js';
import { RegistryService } from './modules/registry/registry.service.js';
import { registryRoutes } from './modules/registry/registry.routes.js';
import { ConsentService } from './modules/consents/consents.service.js';
import { consentRoutes } from './modules/consents/consents.routes.js';
import { RegistrantRelease } from './modules/consents/registrant-release.js';
import { createDci, type Dci } from './modules/dci/dci.module.js';
import { createDciAsync, type DciAsync } from './modules/dci/transactions/dci-async.module.js';
import { createDciClients, type DciClients } from './modules/dci/client/dci-clients.module.js';
import { consentSearchGuard } from './modules/consents/consent-search-guard.js';
import { BundleService } from './modules/bundles/bundles.service.js';
import { bundleRoutes } from './modules/bundles/bundles.routes.js';
import { jobRoutes } from './platform/jobs/job.routes.js';
import { auditRoutes } from './platform/audit/audit.routes.js';
import { EXPORT_JOB, ExportService } from './modules/bulk-data/export/export.service.js';
import { exportRoutes } from './modules/bulk-data/export/export.routes.js';
import { IMPORT_JOB, ImportService } from './modules/bulk-data/import/import.service.js';
import { LocalKeyProvider, resolveKek, type KeyProvider } from './platform/crypto/key-provider.js';
import { KeyRing } from './platform/crypto/key-ring.js';
import { REENCRYPT_JOB, ReencryptionService } from './platform/privacy/reencryption.js';
import { REINDEX_JOB, ReindexService } from './platform/privacy/reindex.js';
import { registryReindexTargets } from './modules/registry/reindex.repository.js';
import { RegistryEncryption } from './modules/registry/registry.encryption.js';
import { registryReencryptionTargets } from './modules/registry/reencryption.repository.js';
import { ImportMappingService } from './modules/bulk-data/import/import-mappings.service.js';
import { importRoutes } from './modules/bulk-data/import/import.routes.js';
import { RegistryRuleQuery } from './modules/registry/registry.rule-query.js';
import { RuleService } from './modules/rules/rules.service.js';
import { ruleRoutes } from './modules/rules/rules.routes.js';
import { webRoutes } from './modules/web/web.routes.js';
import { createPrograms, type Programs } from './modules/programs/programs.module.js';

/** Every service of the system, wired once. Modules reach each other only through these. */
export interface Services {
  apiClients: ApiClientService;
  users: UserService;
  sessions: SessionService;
  vocabularies: VocabularyService;
  areas: AreaService;
  registry: RegistryService;
  consents: ConsentService;
  /** What an actor receives of registrant data in any response or export (consent filter, masking). */
  release: RegistrantRelease;
  bundles: BundleService;
  exports: ExportService;
  imports: ImportService;
  /** The rules language: validation, compilation to registry queries, in-memory evaluation. */
  rules: RuleService;
}

/** Encryption at rest: the unwrapped keys and the job rewriting ciphertexts under the newest key. */
export interface EncryptionServices {
  keyRing: KeyRing;
  reencryption: ReencryptionService;
  /** Blind-index key rotation: recomputes every index under the new key, then retires the old one. */
  reindex: ReindexService;
}

export interface System {
  config: Config;
  logger: Logger;
  database: Database;
  keys: SigningKeyStore;
  encryption: EncryptionServices;
  services: Services;
  /** DCI (SPDCI): protocol, partners, registry server (src/modules/dci/README.md). */
  dci: Dci;
  /** DCI asynchronous requests, callbacks, subscriptions and notifications (started with the job runner). */
  dciAsync: DciAsync;
  /** DCI clients of other registries (CRVS, IBR, DR): data sources, client, callbacks, domain services. */
  dciClients: DciClients;
  /** Programs: eligibility, enrolment, cycles, entitlements, payments, service points. */
  programs: Programs;
  jobs: JobRunner;
  http: HttpServer;
  /** Stops taking requests and jobs, waits for in-flight work, closes the database. */
  close(): Promise<void>;
}

/**
 * The composition root: opens the database, applies migrations, wires services and routes.
 * Used by `commonweal serve`, the CLI commands and the tests alike.
 */
export async function createSystem(config: Config, options: { database?: Database; logger?: Logger; keyProvider?: KeyProvider } = {}): Promise<System> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const database = options.database ?? await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  const { db } = database;
  await runMigrations(database);

  // The data keys, unwrapped by the KEK (a KMS plugs in as `keyProvider`). A KEK that is not this
  // database's stops the start here, with a message saying so.
  let keyRing: KeyRing;
  try {
    keyRing = await KeyRing.open(db, options.keyProvider ?? new LocalKeyProvider(resolveKek(config, logger).kek));
  } catch (error) {
    if (!options.database) await database.close();
    throw error;
  }
  const registryEncryption = new RegistryEncryption(keyRing);

  const keys = new SigningKeyStore(db);
  await keys.load();
  const tokens = new AccessTokens(keys, config.publicUrl, config.accessTokenTtlSeconds);

  const vocabularies = new VocabularyService(db);
  await vocabularies.installSystemVocabularies();
  const areas = new AreaService(db, vocabularies);
  const registry = new RegistryService(db, vocabularies, areas, registryEncryption, { defaultPhoneRegion: config.defaultPhoneRegion, searchCriteriaGuard: consentSearchGuard });
  const consents = new ConsentService(db, registry);
  const release = new RegistrantRelease(consents, registry.disclosure);
  const bundles = new BundleService(db, registry, release);
  const apiClients = new ApiClientService(db, tokens, areas);
  const users = new UserService(db, areas);
  const sessions = new SessionService(db);
  const exports = new ExportService(db, registry.search, release);
  const imports = new ImportService(db, registry, new ImportMappingService(db, vocabularies));
  const rules = new RuleService(db, { codes: vocabularies, areas, query: new RegistryRuleQuery(db, registry, registryEncryption), encryption: registryEncryption });
  await rules.installStandardVariables();
  const services: Services = { apiClients, users, sessions, vocabularies, areas, registry, consents, release, bundles, exports, imports, rules };
  const dci = await createDci({ db, config, signingKeys: keys, keyRing, apiClients, areas, registry, release, vocabularies });

  const jobs = new JobRunner({
    db,
    concurrency: config.jobWorkers,
    pollIntervalMs: config.jobPollIntervalMs,
    leaseSeconds: config.jobLeaseSeconds,
    logger: logger.child({ component: 'jobs' }),
  });
  jobs.register(EXPORT_JOB, exports.runJob.bind(exports));
  jobs.register(IMPORT_JOB, imports.runJob.bind(imports));
  const reencryption = new ReencryptionService(db, keyRing, registryReencryptionTargets(registryEncryption));
  jobs.register(REENCRYPT_JOB, reencryption.runJob.bind(reencryption));
  const reindex = new ReindexService(db, keyRing, registryReindexTargets(registryEncryption, () => keyRing.blindIndex().writingVersion));
  jobs.register(REINDEX_JOB, reindex.runJob.bind(reindex));
  const programs = createPrograms({ db, rules, codes: vocabularies, areas, access: registry.access, jobs, publicUrl: config.publicUrl, paymentsHttpUrl: config.paymentsHttpUrl });
  const dciAsync = createDciAsync(dci, { db, keyRing, apiClients, registry, release, vocabularies, jobs, logger: logger.child({ component: 'dci' }) }, {
    prefix: config.dci.prefix, senderId: config.dci.senderId, publicUrl: config.publicUrl, callbackTtlSeconds: config.dciCallbacks.ttlSeconds,
    notifyTtlSeconds: config.dciCallbacks.notifyTtlSeconds, retryBaseMs: config.dciCallbacks.retryBaseMs, retryMaxMs: config.dciCallbacks.retryMaxMs,
    pollIntervalMs: config.dciCallbacks.pollIntervalMs, callbackTimeoutMs: config.dciCallbacks.timeoutMs, privateNetworkHosts: config.dciCallbacks.privateNetworkHosts,
  });
  const dciClients = createDciClients(dci, { db, keyRing, apiClients, registry, jobs, logger: logger.child({ component: 'dci-client' }) }, { prefix: config.dci.prefix });
  // Programs get the IBR duplicate check once an active IBR data source (ibr_main) exists.
  const plugIbr = async () => {
    if ((await dciClients.sources.list({ registryType: 'IBR' })).some((source) => source.isActive && source.code === 'ibr_main')) programs.enrolment.useIbrClient(dciClients.ibr);
  };
  dciClients.sources.onSaved(plugIbr);
  await plugIbr();
  // Rows written before encryption at rest (an upgraded database) are converted in the background.
  if (await reencryption.legacyRowsPresent()) {
    const { job } = await reencryption.enqueue('system');
    logger.warn({ jobId: job.id }, 'Personal data written before encryption at rest is still stored in clear: the privacy.reencrypt job converts it (see GET /api/v2/Job/{id})');
  }

  const http = await buildHttpServer({
    logger,
    publicUrl: config.publicUrl,
    db,
    tokens,
    sessions,
    encryptionKeys: keyRing,
    metrics: { jobCounts: () => jobQueueStats(db), poolStats: () => database.poolStats() },
    rateLimitPerMinute: config.rateLimitPerMinute,
    readiness: async () => ({
      database: await db.execute(rawSql`select 1`).then(() => true, () => false),
      migrations: await migrationsAreApplied(db),
      jobRunner: config.jobWorkers === 0 || jobs.isRunning(),
    }),
    routes: [
      apiClientRoutes(apiClients, keys),
      apiClientAdminRoutes(apiClients),
      authRoutes(sessions, config.publicUrl),
      userRoutes(users),
      vocabularyRoutes(vocabularies, config.publicUrl),
      areaRoutes(areas, config.publicUrl),
      registryRoutes(registry, config.publicUrl, release),
      consentRoutes(consents),
      bundleRoutes(bundles),
      jobRoutes(db),
      auditRoutes(db, config.publicUrl),
      exportRoutes(exports),
      importRoutes(imports),
      ...dci.routes,
      ...dciAsync.routes,
      ...dciClients.routes,
      ruleRoutes(rules, release, config.publicUrl),
      ...programs.routes,
      webRoutes(),
    ],
  });

  return {
    config, logger, database, keys, encryption: { keyRing, reencryption, reindex }, services, dci, dciAsync, dciClients, programs, jobs, http,
    close: async () => {
      await http.close();
      await jobs.stop(config.shutdownGraceMs);
      await dciAsync.stop();
      await database.close();
    },
  };
}
