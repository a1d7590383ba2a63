import type { Db } from '../../platform/database/database.js';
import type { Config } from '../../platform/config.js';
import type { SigningKeyStore } from '../../platform/auth/signing-keys.js';
import type { KeyRing } from '../../platform/crypto/key-ring.js';
import { FieldCipher } from '../../platform/crypto/field-cipher.js';
import type { Routes } from '../../platform/http/server.js';
import type { ApiClientService } from '../api-clients/api-clients.service.js';
import type { AreaService } from '../areas/areas.service.js';
import type { RegistryService, CodeLookup } from '../registry/registry.service.js';
import type { RegistrantRelease } from '../consents/registrant-release.js';
import { loadDciSchemas, type DciSchemas } from './protocol/index.js';
import { DciPartnerService } from './partners/partners.service.js';
import { dciPartnerRoutes } from './partners/partners.routes.js';
import { DciKeys } from './dci-keys.js';
import { MessageIdStore } from './registry-server/message-ids.js';
import { DciInbound } from './registry-server/inbound.js';
import { DciSearchService } from './registry-server/search.js';
import { dciRegistryRoutes } from './registry-server/dci.routes.js';

/** Everything DCI, wired once (see README.md in this folder for what each part offers). */
export interface Dci {
  schemas: DciSchemas;
  partners: DciPartnerService;
  keys: DciKeys;
  messageIds: MessageIdStore;
  inbound: DciInbound;
  search: DciSearchService;
  routes: Routes[];
}

export interface DciDependencies {
  db: Db;
  config: Config;
  signingKeys: SigningKeyStore;
  keyRing: KeyRing;
  apiClients: ApiClientService;
  areas: AreaService;
  registry: RegistryService;
  release: RegistrantRelease;
  vocabularies: CodeLookup;
}

export async function createDci(deps: DciDependencies): Promise<Dci> {
  const { db, config } = deps;
  const schemas = loadDciSchemas();
  const cipher = new FieldCipher(deps.keyRing);
  const partners = new DciPartnerService(db, deps.apiClients, cipher);
  const keys = new DciKeys(db, deps.signingKeys, cipher, config.dci.senderId);
  await keys.load();
  const messageIds = new MessageIdStore(db);
  const inbound = new DciInbound(schemas, partners, messageIds, (kid) => keys.decryptionKey(kid), {
    ourSenderId: config.dci.senderId,
    messageWindowSeconds: config.dci.messageWindowSeconds,
    maxBatchSize: config.dci.maxBatchSize,
  });
  const search = new DciSearchService(db, deps.registry, deps.release, deps.vocabularies, { publicUrl: config.publicUrl });
  const routes: Routes[] = [
    dciPartnerRoutes(partners),
    dciRegistryRoutes({ prefix: config.dci.prefix, ourSenderId: config.dci.senderId, inbound, search, keys, apiClients: deps.apiClients, areas: deps.areas }),
  ];
  return { schemas, partners, keys, messageIds, inbound, search, routes };
}
