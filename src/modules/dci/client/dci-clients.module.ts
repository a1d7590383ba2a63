import type { Logger } from 'pino';
import type { Db } from '../../../platform/database/database.js';
import type { KeyRing } from '../../../platform/crypto/key-ring.js';
import { FieldCipher } from '../../../platform/crypto/field-cipher.js';
import type { Routes } from '../../../platform/http/server.js';
import type { ApiClientService } from '../../api-clients/api-clients.service.js';
import type { Dci } from '../dci.module.js';
import type { RegistryService } from '../../registry/registry.service.js';
import type { JobRunner } from '../../../platform/jobs/job-runner.js';
import { DciDataSourceService } from '../data-sources/data-sources.service.js';
import { dciDataSourceRoutes } from '../data-sources/data-sources.routes.js';
import { DciClient, type ClientSettings } from './dci-client.js';
import { DciCallbacks } from './callbacks.js';
import { dciCallbackRoutes } from './callbacks.routes.js';
import { DciSearch } from './search.js';
import { testConnection, type ConnectionReport } from './test-connection.js';
import { CrvsService, CRVS_EVENT_JOB } from '../crvs/crvs.service.js';
import { crvsRoutes } from '../crvs/crvs.routes.js';
import { IbrService } from '../ibr/ibr.service.js';
import { DrService, DR_SYNC_JOB } from '../dr/dr.service.js';
import { ibrDrRoutes } from '../dr/ibr-dr.routes.js';

/** Our DCI clients of other registries (src/modules/dci/README.md, "client/"). */
export interface DciClients {
  sources: DciDataSourceService;
  client: DciClient;
  callbacks: DciCallbacks;
  search: DciSearch;
  test(code: string): Promise<ConnectionReport>;
  crvs: CrvsService;
  ibr: IbrService;
  dr: DrService;
  routes: Routes[];
}

export function createDciClients(dci: Dci, deps: { db: Db; keyRing: KeyRing; apiClients: ApiClientService; registry: RegistryService; jobs: JobRunner; logger: Logger }, settings: { prefix: string; client?: Partial<ClientSettings> }): DciClients {
  const cipher = new FieldCipher(deps.keyRing);
  const sources = new DciDataSourceService(deps.db, deps.apiClients, cipher);
  const client = new DciClient(deps.db, sources, dci.schemas, dci.keys, cipher, deps.logger, settings.client);
  const callbacks = new DciCallbacks(deps.db, sources, client, deps.logger);
  const test = (code: string) => testConnection(code, sources, client);
  const clients = { sources, client, callbacks, search: new DciSearch(client), test } as DciClients;
  clients.crvs = new CrvsService(deps.db, clients, deps.registry, cipher);
  deps.jobs.register(CRVS_EVENT_JOB, () => clients.crvs.runJob());
  clients.ibr = new IbrService(clients, deps.registry);
  clients.dr = new DrService(deps.db, clients, deps.registry);
  deps.jobs.register(DR_SYNC_JOB, (context) => clients.dr.runSync(context as never));
  clients.routes = [dciDataSourceRoutes(deps.db, sources, test), dciCallbackRoutes(settings.prefix, callbacks), crvsRoutes(clients.crvs), ibrDrRoutes(clients.ibr, clients.dr)];
  return clients;
}
