import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../auth/access-tokens.js';

describe('rate limits per caller', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem({ RATE_LIMIT_PER_MINUTE: '5' }); });
  after(async () => { await system.close(); });

  const tokenOf = async (settings: { rateLimitPerMinute?: number }) => {
    const client = await system.services.apiClients.createClient({ actor: systemActor('test') }, { name: 'Limited', scopes: ['individual:read'], ...settings });
    return `Bearer ${(await system.services.apiClients.issueToken(client.clientId, client.clientSecret)).accessToken}`;
  };
  const search = (authorization: string) => system.http.inject({ method: 'GET', url: '/api/v2/Individual', headers: { authorization } });

  test("a client's own limit applies; beyond it 429 problem+json with Retry-After; other clients are unaffected", async () => {
    const limited = await tokenOf({ rateLimitPerMinute: 2 });
    assert.equal((await search(limited)).statusCode, 200);
    assert.equal((await search(limited)).statusCode, 200);
    const refused = await search(limited);
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().code, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.equal((await search(await tokenOf({}))).statusCode, 200, 'another client has its own budget');
  });

  test('clients without their own limit get the configured default; health probes are never limited', async () => {
    const ordinary = await tokenOf({});
    const statuses = [];
    for (let index = 0; index < 6; index += 1) statuses.push((await search(ordinary)).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    for (let index = 0; index < 8; index += 1) assert.equal((await system.http.inject({ method: 'GET', url: '/health' })).statusCode, 200);
  });
});
