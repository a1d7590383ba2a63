import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';

describe('configuration from the environment', () => {
  test('has working defaults for `npm start`', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.dataDir, path.resolve('./.data'));
    assert.equal(config.publicUrl, 'http://localhost:8080');
    assert.equal(config.seedDemoData, true);
  });

  test('reads and types every variable', () => {
    const config = loadConfig({ PORT: '9000', DATABASE_URL: 'postgres://u@h:5432/db', DATA_DIR: '/tmp/x', JOB_WORKERS: '0', SEED_DEMO_DATA: 'false', PUBLIC_URL: 'https://registry.gov.example/', DEFAULT_PHONE_REGION: 'PH' });
    assert.deepEqual(
      [config.port, config.databaseUrl, config.dataDir, config.jobWorkers, config.seedDemoData, config.publicUrl, config.defaultPhoneRegion],
      [9000, 'postgres://u@h:5432/db', '/tmp/x', 0, false, 'https://registry.gov.example', 'PH'],
    );
  });

  test('fails fast, naming the bad variable', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
      [{ JOB_WORKERS: '-1' }, /JOB_WORKERS/],
      [{ DEMO_HOUSEHOLDS: '2.5' }, /DEMO_HOUSEHOLDS/],
      [{ DATABASE_POOL_SIZE: '0' }, /DATABASE_POOL_SIZE/],
      [{ JOB_LEASE_SECONDS: '0' }, /JOB_LEASE_SECONDS/],
      [{ DEFAULT_PHONE_REGION: 'Philippines' }, /DEFAULT_PHONE_REGION/],
      [{ SEED_DEMO_DATA: 'maybe' }, /SEED_DEMO_DATA/],
    ];
    for (const [environment, name] of cases) {
      assert.throws(() => loadConfig(environment), (error: unknown) => error instanceof ConfigError && name.test(error.message), JSON.stringify(environment));
    }
  });
});
