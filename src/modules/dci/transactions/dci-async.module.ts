import type { Db } from '../../../platform/database/database.js';
import type { KeyRing } from '../../../platform/crypto/key-ring.js';
import { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import type { Routes } from '../../../platform/http/server.js';
import type { JobLogger, JobRunner } from '../../../platform/jobs/job-runner.js';
import type { ApiClientService } from '../../api-clients/api-clients.service.js';
import type { CodeLookup, RegistryService } from '../../registry/registry.service.js';
import type { RegistrantRelease } from '../../consents/registrant-release.js';
import type { Dci } from '../dci.module.js';
import { CallbackDispatcher, type DispatcherOptions } from '../callbacks/callback-dispatcher.js';
import { NotifyRecords } from '../subscriptions/notify-records.js';
import { DciSubscriptionService } from '../subscriptions/subscriptions.service.js';
import { EventRelay } from '../subscriptions/event-relay.js';
import { dciAsyncRoutes } from './async.routes.js';
import { dciAdminRoutes } from './admin.routes.js';
import { DciTransactionAdmin } from './transactions.admin.js';
import { DCI_TRANSACTION_JOB, DciTransactionService, responseContext } from './transactions.service.js';
import { TxnStatusLookup } from './txn-status.js';

/** The asynchronous half of the DCI server: transactions, callbacks, subscriptions, notifications. */
export interface DciAsync {
  transactions: DciTransactionService;
  status: TxnStatusLookup;
  subscriptions: DciSubscriptionService;
  dispatcher: CallbackDispatcher;
  relay: EventRelay;
  admin: DciTransactionAdmin;
  routes: Routes[];
  /** Starts the callback dispatcher and the event relay (the serving process, like the job runner). */
  start(): void;
  stop(): Promise<void>;
}

export interface DciAsyncSettings {
  prefix: string;
  senderId: string;
  publicUrl: string;
  callbackTtlSeconds: number;
  notifyTtlSeconds: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollIntervalMs: number;
  callbackTimeoutMs: number;
  privateNetworkHosts: string[];
}

export interface DciAsyncDependencies {
  db: Db;
  keyRing: KeyRing;
  apiClients: ApiClientService;
  registry: RegistryService;
  release: RegistrantRelease;
  vocabularies: CodeLookup;
  jobs: JobRunner;
  logger?: JobLogger;
}

export function createDciAsync(dci: Dci, deps: DciAsyncDependencies, settings: DciAsyncSettings, dispatcherOverrides: Partial<DispatcherOptions> = {}): DciAsync {
  const { db } = deps;
  const cipher = new FieldCipher(deps.keyRing);
  const dispatcher = new CallbackDispatcher(db, cipher, dci.partners, dci.keys, {
    pollIntervalMs: settings.pollIntervalMs, requestTimeoutMs: settings.callbackTimeoutMs, backoffBaseMs: settings.retryBaseMs, backoffMaxMs: settings.retryMaxMs,
    privateNetworkHosts: settings.privateNetworkHosts, logger: deps.logger, ...dispatcherOverrides,
  });
  const records = new NotifyRecords(deps.registry, deps.release, deps.vocabularies, { publicUrl: settings.publicUrl });
  const subscriptions = new DciSubscriptionService(records, cipher);
  const status = new TxnStatusLookup(db, cipher, responseContext);
  const transactions = new DciTransactionService(db, cipher, dci.search, subscriptions, status, dispatcher, {
    ourSenderId: settings.senderId, callbackTtlMs: settings.callbackTtlSeconds * 1000, maxAttempts: 5,
  });
  deps.jobs.register(DCI_TRANSACTION_JOB, transactions.runJob.bind(transactions));
  const relay = new EventRelay(db, subscriptions, records, dci.partners, deps.apiClients, dispatcher, {
    ourSenderId: settings.senderId, batchSize: 500, pollIntervalMs: settings.pollIntervalMs, notifyTtlMs: settings.notifyTtlSeconds * 1000, logger: deps.logger,
  });
  const admin = new DciTransactionAdmin(db);
  const routes: Routes[] = [
    dciAsyncRoutes({ prefix: settings.prefix, ourSenderId: settings.senderId, db, inbound: dci.inbound, transactions, status, keys: dci.keys }),
    dciAdminRoutes(admin, settings.publicUrl),
  ];
  return {
    transactions, status, subscriptions, dispatcher, relay, admin, routes,
    start: () => {
      dispatcher.start();
      relay.start();
    },
    stop: async () => {
      await relay.stop();
      await dispatcher.stop();
    },
  };
}
