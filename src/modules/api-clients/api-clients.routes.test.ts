import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, createLocalJWKSet, jwtVerify } from 'jose';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';

describe('OAuth 2.0 client credentials: POST /oauth2/client/token', () => {
  let system: TestSystem;
  let client: { clientId: string; clientSecret: string };
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    client = await system.services.apiClients.createClient({ actor: systemActor('test') }, { name: 'Partner', scopes: ['individual:read', 'group:read'] });
  });

  const requestToken = (payload: string, headers: Record<string, string> = {}) => system.http.inject({
    method: 'POST', url: '/oauth2/client/token', payload, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });

  test('issues a signed JWT with the client scopes for form-encoded credentials', async () => {
    const response = await requestToken(`grant_type=client_credentials&client_id=${client.clientId}&client_secret=${client.clientSecret}`);
    assert.equal(response.statusCode, 200);
    const body = response.json();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'individual:read group:read');
    assert.equal(response.headers['cache-control'], 'no-store');
    const jwks = (await system.http.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    const { payload } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), { issuer: 'http://commonweal.test' });
    assert.equal(payload.sub, client.clientId);
  });

  test('accepts HTTP Basic authentication and a narrower scope', async () => {
    const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
    const response = await requestToken('grant_type=client_credentials&scope=group:read', { authorization: `Basic ${basic}` });
    assert.equal(response.statusCode, 200);
    assert.equal(decodeJwt(response.json().access_token).scope, 'group:read');
  });

  test('refuses a wrong secret and an unknown client alike with 401 invalid_client', async () => {
    for (const payload of [`grant_type=client_credentials&client_id=${client.clientId}&client_secret=wrong`, 'grant_type=client_credentials&client_id=nobody&client_secret=x']) {
      const response = await requestToken(payload);
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().error, 'invalid_client');
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    }
  });

  test('refuses other grant types, missing credentials, unknown fields and ungranted scopes with 400', async () => {
    assert.equal((await requestToken('grant_type=password&username=a&password=b')).statusCode, 400);
    assert.equal((await requestToken(`grant_type=client_credentials&client_id=${client.clientId}&client_secret=${client.clientSecret}&scope=individual:write`)).json().error, 'invalid_scope');
    assert.equal((await requestToken('grant_type=client_credentials')).statusCode, 401);
    assert.equal((await requestToken(`grant_type=client_credentials&client_id=${client.clientId}&client_secret=${client.clientSecret}&extra=1`)).statusCode, 400);
  });

  test('a client granted a wildcard may ask for a narrower scope', async () => {
    const wide = await system.services.apiClients.createClient({ actor: systemActor('test') }, { name: 'Wide', scopes: ['individual:*'] });
    const response = await requestToken(`grant_type=client_credentials&client_id=${wide.clientId}&client_secret=${wide.clientSecret}&scope=individual:read`);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().scope, 'individual:read');
    const outside = await requestToken(`grant_type=client_credentials&client_id=${wide.clientId}&client_secret=${wide.clientSecret}&scope=group:read`);
    assert.equal(outside.statusCode, 400);
    assert.deepEqual([outside.json().error, typeof outside.json().error_description], ['invalid_scope', 'string']);
  });

  test('stores only a hash of the secret', async () => {
    const rows = await system.testDatabase.db.query.apiClients.findMany();
    assert.ok(rows.every((row) => !row.secretHash.includes(client.clientSecret) && row.secretHash.startsWith('scrypt$')));
  });
});

describe('Bearer tokens on API routes', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem({ ACCESS_TOKEN_TTL_SECONDS: '1' }); });
  after(async () => { await system.close(); });

  test('401 without a token, with a forged token, and with an expired token; 403 without the scope', async () => {
    const url = '/api/v2/Individual';
    const none = await system.http.inject({ method: 'GET', url });
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /Bearer/);
    const forged = await system.http.inject({ method: 'GET', url, headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' } });
    assert.equal(forged.statusCode, 401);
    const token = await system.tokenFor('group:read');
    const wrongScope = await system.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    assert.equal(wrongScope.statusCode, 403);
    assert.equal(wrongScope.json().code, 'forbidden');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const expired = await system.http.inject({ method: 'GET', url: '/api/v2/Group', headers: { authorization: `Bearer ${token}` } });
    assert.equal(expired.statusCode, 401);
    assert.match(expired.json().detail, /expired/);
  });

  test('a rotated key keeps old tokens valid and is published in the JWKS', async () => {
    const token = await system.tokenFor('group:read');
    await system.keys.rotate();
    const jwks = (await system.http.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    assert.equal(jwks.keys.length, 2);
    const response = await system.http.inject({ method: 'GET', url: '/api/v2/Group', headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.statusCode, 200);
  });
});
