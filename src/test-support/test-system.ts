import pino from 'pino';
import { createSystem, type System } from '../app.js';
import { loadConfig } from '../platform/config.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { openTestDatabase, type TestDatabase } from './test-database.js';

export interface TestSystem extends System {
  testDatabase: TestDatabase;
  /** An access token for a fresh API client holding exactly these scopes. */
  tokenFor(...scopes: string[]): Promise<string>;
  /** Authorization header for `tokenFor(...scopes)`. */
  authAs(...scopes: string[]): Promise<{ authorization: string }>;
  /** Empties the database between tests and re-installs what start-up installs. */
  reset(): Promise<void>;
}

/**
 * The whole system on a fresh test database, without demo data and without job workers
 * (tests drive jobs explicitly). Call `close()` in an `after` hook.
 */
export async function createTestSystem(environment: Record<string, string> = {}): Promise<TestSystem> {
  const testDatabase = await openTestDatabase();
  const config = loadConfig({ SEED_DEMO_DATA: 'false', JOB_WORKERS: '0', LOG_LEVEL: 'silent', PUBLIC_URL: 'http://commonweal.test', ...environment });
  const system = await createSystem(config, { database: testDatabase, logger: pino({ level: 'silent' }) });
  let clientCounter = 0;
  const tokenFor = async (...scopes: string[]) => {
    clientCounter += 1;
    const client = await system.services.apiClients.createClient({ actor: systemActor('test') }, { name: `test client ${clientCounter}`, scopes });
    const grant = await system.services.apiClients.issueToken(client.clientId, client.clientSecret);
    return grant.accessToken;
  };
  return {
    ...system,
    testDatabase,
    tokenFor,
    authAs: async (...scopes) => ({ authorization: `Bearer ${await tokenFor(...scopes)}` }),
    reset: async () => {
      await testDatabase.reset();
      await system.keys.load();
      await system.services.vocabularies.installSystemVocabularies();
    },
  };
}
