import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../platform/config.js';

test('DCI configuration: defaults, our sender id from PUBLIC_URL, bad values refused', () => {
  const defaults = loadConfig({ PUBLIC_URL: 'https://registry.example.gov:8443/' });
  assert.deepEqual(defaults.dci, { prefix: '/dci', senderId: 'registry.example.gov:8443', messageWindowSeconds: 300, maxBatchSize: 100 });
  const set = loadConfig({ DCI_PREFIX: '/api/dci/v1', DCI_SENDER_ID: 'sr.example.gov', DCI_MESSAGE_WINDOW_SECONDS: '60', DCI_MAX_BATCH_SIZE: '10' });
  assert.deepEqual(set.dci, { prefix: '/api/dci/v1', senderId: 'sr.example.gov', messageWindowSeconds: 60, maxBatchSize: 10 });
  for (const bad of [{ DCI_PREFIX: 'dci' }, { DCI_PREFIX: '/dci/' }, { DCI_MAX_BATCH_SIZE: '0' }, { DCI_MESSAGE_WINDOW_SECONDS: '1.5' }]) {
    assert.throws(() => loadConfig(bad), ConfigError, JSON.stringify(bad));
  }
});
