import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem } from '../../../test-support/test-system.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { DCI, onboardPartner, searchItem, searchMessage, signedEnvelope } from '../dci.test-support.js';

test('a partner over its rate limit (its API client\'s) gets 429 with an ERR acknowledgement err.request.too_many_requests', async () => {
  const system = await createTestSystem({ RATE_LIMIT_PER_MINUTE: '1000' });
  after(() => system.close());
  const partner = await onboardPartner(system);
  const { clientId } = (await system.dci.partners.findActiveBySender(partner.senderId))!;
  await system.dci.partners.update({ actor: systemActor('test') }, partner.senderId, undefined, { rateLimitPerMinute: 2 });
  // The limit travels in the token: take a new one.
  const token = (await system.services.apiClients.issueToken(clientId, (await system.services.apiClients.rotateSecret({ actor: systemActor('test') }, clientId, 0)).clientSecret)).accessToken;
  const send = async () => system.http.inject({
    method: 'POST', url: `${DCI}/registry/sync/search`, headers: { authorization: `Bearer ${token}` },
    payload: await signedEnvelope(partner, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'NOBODY00' } }))),
  });
  assert.equal((await send()).statusCode, 200);
  assert.equal((await send()).statusCode, 200);
  const limited = await send();
  assert.equal(limited.statusCode, 429);
  assert.equal(limited.json().message.ack_status, 'ERR');
  assert.equal(limited.json().message.error.code, 'err.request.too_many_requests');
});
