import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { AccessTokens, areaScopeOf, systemActor } from '../../platform/auth/access-tokens.js';
import { rawSql, queryRows } from '../../platform/database/database.js';

const BASE = '/api/v2/ApiClient';

describe('API client admin API: /api/v2/ApiClient', () => {
  let system: TestSystem;
  let admin: Record<string, string>;
  let reader: Record<string, string>;

  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });
  beforeEach(async () => {
    await system.reset();
    const context = { actor: systemActor('test') };
    await system.services.areas.createArea(context, { code: 'DM', name: 'Demo', kind: 'country' });
    await system.services.areas.createArea(context, { code: 'DM01', name: 'North', kind: 'region', parentCode: 'DM' });
    admin = await system.authAs('client:read', 'client:write');
    reader = await system.authAs('client:read');
  });

  // What the auth hook does with a bearer token: verify it with the server's keys.
  const verifier = () => new AccessTokens(system.keys, 'http://commonweal.test', 3600);
  const inject = (method: 'GET' | 'POST' | 'PATCH', url: string, headers: Record<string, string>, payload?: unknown) =>
    system.http.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  const create = (extra: object = {}, headers = admin) => inject('POST', BASE, headers, { name: 'Ministry dashboard', scopes: ['individual:read'], clientId: 'ministry', ...extra });
  const token = (clientId: string, clientSecret: string) => system.http.inject({
    method: 'POST', url: '/oauth2/client/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `grant_type=client_credentials&client_id=${clientId}&client_secret=${encodeURIComponent(clientSecret)}`,
  });

  test('POST creates a client with its restrictions and shows the secret once', async () => {
    const response = await create({ legalBasis: 'consent', organisation: 'Ministry of Health', organisationType: 'government', areaCodes: ['DM01'], programCodes: ['CCT'], rateLimitPerMinute: 600, tokenTtlSeconds: 300 });
    assert.equal(response.statusCode, 201, response.body);
    assert.equal(response.headers.location, `${BASE}/ministry`);
    assert.equal(response.headers['cache-control'], 'no-store');
    const client = response.json();
    assert.ok(client.clientSecret.length >= 40);
    assert.deepEqual([client.legalBasis, client.areaCodes, client.programCodes, client.rateLimitPerMinute, client.tokenTtlSeconds, client.version], ['consent', ['DM01'], ['CCT'], 600, 300, 1]);
    const read = await inject('GET', `${BASE}/ministry`, reader);
    assert.equal(read.statusCode, 200);
    assert.equal(read.headers.etag, 'W/"1"');
    assert.equal('clientSecret' in read.json(), false);
    assert.equal((await token('ministry', client.clientSecret)).statusCode, 200);
  });

  test('POST refuses unknown scopes, legal bases and areas, limits out of range, unknown fields and taken ids', async () => {
    for (const extra of [{ scopes: ['everything:please'] }, { scopes: [] }, { legalBasis: 'because' }, { areaCodes: ['NOWHERE'] }, { tokenTtlSeconds: 5 }, { rateLimitPerMinute: 0 }, { secret: 'mine' }]) {
      assert.equal((await create(extra)).statusCode, 400, JSON.stringify(extra));
    }
    assert.equal((await create()).statusCode, 201);
    assert.equal((await create()).statusCode, 409);
  });

  test('needs client:read to read and client:write to write (401 without a token, 403 without the scope)', async () => {
    await create();
    const outsider = await system.authAs('individual:read');
    for (const [method, url, payload] of [
      ['GET', BASE], ['GET', `${BASE}/ministry`], ['POST', BASE, { name: 'x', scopes: ['individual:read'] }],
      ['PATCH', `${BASE}/ministry`, { name: 'y' }], ['POST', `${BASE}/ministry/$rotate-secret`, {}],
    ] as const) {
      assert.equal((await inject(method, url, {}, payload)).statusCode, 401, `${method} ${url}`);
      assert.equal((await inject(method, url, outsider, payload)).statusCode, 403, `${method} ${url}`);
      if (method !== 'GET') assert.equal((await inject(method, url, { ...reader, 'if-match': 'W/"1"' }, payload)).statusCode, 403, `${method} ${url}`);
    }
    const list = await inject('GET', BASE, reader);
    assert.equal(list.statusCode, 200);
    assert.ok(list.json().items.some((c: { clientId: string }) => c.clientId === 'ministry'));
    assert.equal((await inject('GET', `${BASE}/nobody`, reader)).statusCode, 404);
  });

  test('PATCH changes settings with If-Match; deactivating stops new tokens', async () => {
    const { clientSecret } = (await create()).json();
    const patch = (payload: unknown, headers: Record<string, string> = {}) => inject('PATCH', `${BASE}/ministry`, { ...admin, 'content-type': 'application/merge-patch+json', ...headers }, payload);
    assert.equal((await patch({ name: 'Dashboard' })).statusCode, 428);
    const changed = await patch({ name: 'Dashboard', scopes: ['individual:read', 'group:read'], areaCodes: ['DM01'], organisation: 'MoH', tokenTtlSeconds: 120 }, { 'if-match': 'W/"1"' });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual([changed.json().name, changed.json().scopes, changed.json().areaCodes, changed.json().tokenTtlSeconds, changed.headers.etag], ['Dashboard', ['individual:read', 'group:read'], ['DM01'], 120, 'W/"2"']);
    const cleared = await patch({ organisation: null, tokenTtlSeconds: null, areaCodes: [] }, { 'if-match': 'W/"2"' });
    assert.deepEqual([cleared.json().organisation, cleared.json().tokenTtlSeconds, cleared.json().areaCodes], [null, null, []]);
    assert.equal((await patch({ name: 'x' }, { 'if-match': 'W/"1"' })).statusCode, 412);
    assert.equal((await patch({ legalBasis: 'whim' }, { 'if-match': 'W/"3"' })).statusCode, 400);
    assert.equal((await patch({ areaCodes: ['XX'] }, { 'if-match': 'W/"3"' })).statusCode, 400);
    assert.equal((await patch({ clientId: 'other' }, { 'if-match': 'W/"3"' })).statusCode, 400);
    assert.equal((await patch({ name: 'x' }, { 'if-match': 'W/"3"', 'content-type': 'text/csv' })).statusCode, 415);
    assert.equal((await inject('PATCH', `${BASE}/nobody`, { ...admin, 'if-match': 'W/"1"' }, {})).statusCode, 404);
    assert.equal((await patch({ isActive: false }, { 'if-match': 'W/"3"' })).statusCode, 200);
    assert.equal((await token('ministry', clientSecret)).statusCode, 401);
  });

  test('$rotate-secret: the new secret works at once, the previous one until its grace period ends, then 401', async () => {
    const { clientSecret: first } = (await create()).json();
    const rotated = await inject('POST', `${BASE}/ministry/$rotate-secret`, admin, { graceSeconds: 3600 });
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal(rotated.headers['cache-control'], 'no-store');
    const { clientSecret: second, previousSecretExpiresAt, secretRotatedAt } = rotated.json();
    assert.notEqual(second, first);
    assert.ok(secretRotatedAt);
    assert.ok(Math.abs(Date.parse(previousSecretExpiresAt) - Date.now() - 3600_000) < 60_000);
    assert.equal((await token('ministry', second)).statusCode, 200);
    assert.equal((await token('ministry', first)).statusCode, 200, 'the old secret works during the grace period');
    await system.testDatabase.db.execute(rawSql`update api_clients set previous_secret_expires_at = now() - interval '1 second'`);
    assert.equal((await token('ministry', first)).statusCode, 401, 'and not after it');
    assert.equal((await inject('GET', `${BASE}/ministry`, reader)).json().previousSecretExpiresAt, null);
    assert.equal((await token('ministry', second)).statusCode, 200);
  });

  test('$rotate-secret defaults to 24 hours of grace; 0 ends the old secret at once; bad input is a 400', async () => {
    const { clientSecret: first } = (await create()).json();
    const defaulted = await inject('POST', `${BASE}/ministry/$rotate-secret`, admin);
    assert.equal(defaulted.statusCode, 200, defaulted.body);
    assert.ok(Math.abs(Date.parse(defaulted.json().previousSecretExpiresAt) - Date.now() - 86_400_000) < 60_000);
    const immediate = await inject('POST', `${BASE}/ministry/$rotate-secret`, admin, { graceSeconds: 0 });
    assert.equal((await token('ministry', defaulted.json().clientSecret)).statusCode, 401);
    assert.equal((await token('ministry', first)).statusCode, 401, 'only the last previous secret is kept');
    assert.equal((await token('ministry', immediate.json().clientSecret)).statusCode, 200);
    assert.equal((await inject('POST', `${BASE}/ministry/$rotate-secret`, admin, { graceSeconds: -1 })).statusCode, 400);
    assert.equal((await inject('POST', `${BASE}/ministry/$rotate-secret`, admin, { grace: 5 })).statusCode, 400);
    assert.equal((await inject('POST', `${BASE}/nobody/$rotate-secret`, admin, {})).statusCode, 404);
  });

  test('tokens carry the client\'s lifetime, areas and legal basis; the actor is limited to those areas', async () => {
    const limited = (await create({ areaCodes: ['DM01'], legalBasis: 'legal-obligation', organisation: 'MoH', organisationType: 'government', tokenTtlSeconds: 120 })).json();
    const response = await token('ministry', limited.clientSecret);
    assert.equal(response.json().expires_in, 120);
    const claims = decodeJwt(response.json().access_token);
    assert.equal(claims.exp! - claims.iat!, 120);
    assert.deepEqual([claims.areas, claims.legal_basis, claims.org, claims.org_type], [['DM01'], 'legal-obligation', 'MoH', 'government']);
    const actor = await verifier().verify(response.json().access_token);
    assert.deepEqual(areaScopeOf(actor, 'individual:read'), ['DM01']);
    assert.deepEqual([actor.legalBasis, actor.organisation, actor.organisationType], ['legal-obligation', 'MoH', 'government']);

    const open = (await create({ clientId: 'open' })).json();
    const openToken = (await token('open', open.clientSecret)).json();
    assert.equal(openToken.expires_in, 3600, 'the server default');
    const openClaims = decodeJwt(openToken.access_token);
    assert.deepEqual([openClaims.areas, openClaims.legal_basis], [undefined, 'public-task']);
    assert.equal(areaScopeOf(await verifier().verify(openToken.access_token), 'individual:read'), undefined);
  });

  test('every write is audited; secrets and their hashes never are', async () => {
    const { clientSecret } = (await create()).json();
    const rotated = (await inject('POST', `${BASE}/ministry/$rotate-secret`, admin, {})).json();
    await inject('PATCH', `${BASE}/ministry`, { ...admin, 'if-match': 'W/"2"' }, { legalBasis: 'consent' });
    const rows = await queryRows<{ action: string; before: unknown; after: unknown }>(system.testDatabase.db, rawSql`select action, before, after from audit_log where entity_type = 'api_client' and entity_id = 'ministry' order by id`);
    assert.deepEqual(rows.map((row) => row.action), ['create', 'rotate-secret', 'update']);
    assert.deepEqual(rows[2]!.after, { legalBasis: 'consent' });
    const text = JSON.stringify(rows);
    assert.ok(!text.includes(clientSecret) && !text.includes(rotated.clientSecret) && !text.includes('scrypt$'));
  });
});
