import crypto from 'node:crypto';
import pino from 'pino';
import { createSystem, type System } from '../app.js';
import { loadConfig } from '../platform/config.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { parseRoleSpec } from '../platform/auth/roles.js';
import { SESSION_COOKIE } from '../platform/auth/session-auth.js';
import { openTestDatabase, type TestDatabase } from './test-database.js';

export interface TestSystem extends System {
  testDatabase: TestDatabase;
  /**
   * An access token for a fresh API client holding these scopes and `pii:reveal`, so responses show
   * personal data unmasked (as every test written before masking expects).
   */
  tokenFor(...scopes: string[]): Promise<string>;
  /** Authorization header for `tokenFor(...scopes)`. */
  authAs(...scopes: string[]): Promise<{ authorization: string }>;
  /** Authorization header for a client holding exactly these scopes: without `pii:reveal`, responses are masked. */
  authAsMasked(...scopes: string[]): Promise<{ authorization: string }>;
  /**
   * A new staff user holding these roles (`role` or `role@AREA,AREA`; the areas must exist), signed
   * in: the headers of their session (cookie and CSRF token) for `inject`.
   */
  signInAs(...roles: string[]): Promise<{ username: string; password: string; headers: { cookie: string; 'x-csrf-token': string } }>;
  /** Empties the database between tests and re-installs what start-up installs. */
  reset(): Promise<void>;
}

/**
 * The whole system on a fresh test database, without demo data and without job workers
 * (tests drive jobs explicitly). Call `close()` in an `after` hook.
 */
export async function createTestSystem(environment: Record<string, string> = {}): Promise<TestSystem> {
  const testDatabase = await openTestDatabase();
  // A key-encryption key of its own (nothing written to DATA_DIR), unless the test gives one.
  const config = loadConfig({
    SEED_DEMO_DATA: 'false', JOB_WORKERS: '0', LOG_LEVEL: 'silent', PUBLIC_URL: 'http://commonweal.test', RATE_LIMIT_PER_MINUTE: '0',
    ...(environment.ENCRYPTION_KEK_FILE ? {} : { ENCRYPTION_KEK: crypto.randomBytes(32).toString('base64') }), ...environment,
  });
  const system = await createSystem(config, { database: testDatabase, logger: pino({ level: 'silent' }) });
  let clientCounter = 0;
  const exactTokenFor = async (...scopes: string[]) => {
    clientCounter += 1;
    const client = await system.services.apiClients.createClient({ actor: systemActor('test') }, { name: `test client ${clientCounter}`, scopes });
    const grant = await system.services.apiClients.issueToken(client.clientId, client.clientSecret);
    return grant.accessToken;
  };
  const tokenFor = (...scopes: string[]) => exactTokenFor(...(scopes.includes('pii:reveal') ? scopes : [...scopes, 'pii:reveal']));
  let userCounter = 0;
  const signInAs = async (...roles: string[]) => {
    userCounter += 1;
    const username = `test-user-${userCounter}`;
    const password = `correct horse ${userCounter} battery`;
    await system.services.users.createUser({ actor: systemActor('test') }, { username, displayName: `Test user ${userCounter}`, password, roles: roles.map(parseRoleSpec) });
    const session = await system.services.sessions.login(username, password);
    return { username, password, headers: { cookie: `${SESSION_COOKIE}=${session.token}`, 'x-csrf-token': session.csrfToken } };
  };
  return {
    ...system,
    testDatabase,
    tokenFor,
    signInAs,
    authAs: async (...scopes) => ({ authorization: `Bearer ${await tokenFor(...scopes)}` }),
    authAsMasked: async (...scopes) => ({ authorization: `Bearer ${await exactTokenFor(...scopes)}` }),
    reset: async () => {
      await testDatabase.reset();
      await system.keys.load();
      await system.encryption.keyRing.reinitialise();
      await system.services.vocabularies.installSystemVocabularies();
      await system.services.rules.installStandardVariables();
    },
  };
}
