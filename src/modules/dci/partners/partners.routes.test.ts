import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { dciPartnerCreate, dciPartnerList, dciPartnerUpdate } from '../../../cli/dci.js';

type Json = Record<string, any>;
const BASE = '/api/v2/DciPartner';

describe('DCI partners: admin API (dci:admin), CLI, and the service', () => {
  let system: TestSystem;
  let admin: { authorization: string };
  const publicJwk = () => ({ ...(crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }) as Json), kid: `k-${crypto.randomUUID().slice(0, 6)}` });

  before(async () => {
    system = await createTestSystem();
    admin = await system.authAs('dci:admin');
  });
  after(async () => { await system?.close(); });

  const create = (body: unknown, headers: Record<string, string> = admin) => system.http.inject({ method: 'POST', url: BASE, headers, payload: body as object });

  test('onboards a partner with a new API client (secret shown once), reads, lists and changes it; every write audited', async () => {
    const response = await create({ senderId: 'mis.example.org', name: 'National MIS', publicKeys: [publicJwk()], allowedCallbackHosts: ['mis.example.org', 'Callback.Example.org:8443'], signatureStrategy: 'jws', callbackCredentials: { tokenUrl: 'https://mis.example.org/oauth2/client/token', clientId: 'us', clientSecret: 's3cret' } });
    assert.equal(response.statusCode, 201, response.body);
    const created = response.json() as Json;
    assert.ok(created.clientSecret);
    assert.equal(created.hasCallbackCredentials, true);
    assert.deepEqual(created.allowedCallbackHosts, ['mis.example.org', 'callback.example.org:8443']);
    assert.equal(JSON.stringify(created).includes('s3cret'), false, 'credentials are never shown');
    const client = await system.services.apiClients.getClient(created.clientId);
    assert.deepEqual(client.scopes, ['dci:search']);

    const read = await system.http.inject({ method: 'GET', url: `${BASE}/mis.example.org`, headers: admin });
    assert.equal(read.statusCode, 200);
    assert.equal(read.headers.etag, 'W/"1"');
    const list = (await system.http.inject({ method: 'GET', url: BASE, headers: admin })).json() as Json;
    assert.ok(list.items.some((item: Json) => item.senderId === 'mis.example.org'));

    const noIfMatch = await system.http.inject({ method: 'PATCH', url: `${BASE}/mis.example.org`, headers: { ...admin, 'content-type': 'application/merge-patch+json' }, payload: { signaturePolicy: 'optional' } });
    assert.equal(noIfMatch.statusCode, 428);
    const patched = await system.http.inject({ method: 'PATCH', url: `${BASE}/mis.example.org`, headers: { ...admin, 'content-type': 'application/merge-patch+json', 'if-match': 'W/"1"' }, payload: { signaturePolicy: 'optional', rateLimitPerMinute: 60, callbackCredentials: null } });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal((patched.json() as Json).signaturePolicy, 'optional');
    assert.equal((patched.json() as Json).hasCallbackCredentials, false);
    assert.equal((await system.services.apiClients.getClient(created.clientId)).rateLimitPerMinute, 60, 'client settings go to the linked API client');
    const stale = await system.http.inject({ method: 'PATCH', url: `${BASE}/mis.example.org`, headers: { ...admin, 'content-type': 'application/merge-patch+json', 'if-match': 'W/"1"' }, payload: { name: 'x' } });
    assert.equal(stale.statusCode, 412);

    const audit = await system.database.db.execute(`select action from audit_log where entity_type = 'dci_partner' and entity_id = 'mis.example.org' order by id` as never) as unknown as { rows: Array<{ action: string }> };
    assert.deepEqual(audit.rows.map((row) => row.action), ['create', 'update']);
  });

  test('credentials are stored encrypted and decrypted only on demand', async () => {
    const created = await system.dci.partners.create({ actor: systemActor('test') }, { senderId: 'creds.example.org', name: 'Creds', callbackCredentials: { bearerToken: 'tok-123' } });
    const stored = await system.database.db.execute(`select callback_credentials_encrypted as c from dci_partners where sender_id = 'creds.example.org'` as never) as unknown as { rows: Array<{ c: string }> };
    assert.equal(stored.rows[0]!.c.includes('tok-123'), false);
    const partner = (await system.dci.partners.findActiveBySender(created.senderId))!;
    assert.deepEqual(system.dci.partners.callbackCredentials(partner), { bearerToken: 'tok-123' });
  });

  test('refuses bad input with 400 naming the field, and changes nothing', async () => {
    const before = (await system.dci.partners.list()).length;
    const privateJwk = { ...(crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as Json), kid: 'p' };
    const cases: Array<[unknown, string]> = [
      [{ senderId: 'bad id with spaces', name: 'x' }, '/senderId'],
      [{ senderId: 'a.example.org', name: 'x', publicKeys: [privateJwk] }, '/publicKeys/0'],
      [{ senderId: 'a.example.org', name: 'x', publicKeys: [{ kty: 'OKP', kid: 'k', crv: 'Ed25519', x: 'not-a-key' }] }, '/publicKeys/0'],
      [{ senderId: 'a.example.org', name: 'x', allowedCallbackHosts: ['https://a.example.org/cb'] }, '/allowedCallbackHosts/0'],
      [{ senderId: 'a.example.org', name: 'x', jwksUrl: 'ftp://a.example.org/jwks' }, '/jwksUrl'],
      [{ senderId: 'a.example.org', name: 'x', callbackCredentials: { clientId: 'only-id' } }, '/callbackCredentials/tokenUrl'],
    ];
    for (const [body, path] of cases) {
      const response = await create(body);
      assert.equal(response.statusCode, 400, `${path}: ${response.body}`);
      assert.ok((response.json() as Json).errors.some((error: Json) => error.path === path), response.body);
    }
    const typeError = await create({ senderId: 'a.example.org', name: 'x', signaturePolicy: 'sometimes' });
    assert.equal(typeError.statusCode, 400);
    assert.equal((await create({ senderId: 'mis.example.org', name: 'again' })).statusCode, 409);
    assert.equal((await system.dci.partners.list()).length, before);
  });

  test('permissions: 401 without a token, 403 without dci:admin (even with client:write), 404 for an unknown partner', async () => {
    assert.equal((await system.http.inject({ method: 'GET', url: BASE })).statusCode, 401);
    const clientAdmin = await system.authAs('client:read', 'client:write');
    assert.equal((await system.http.inject({ method: 'GET', url: BASE, headers: clientAdmin })).statusCode, 403);
    assert.equal((await create({ senderId: 'z.example.org', name: 'z' }, clientAdmin)).statusCode, 403);
    assert.equal((await system.http.inject({ method: 'GET', url: `${BASE}/nobody.example.org`, headers: admin })).statusCode, 404);
    const staff = await system.signInAs('administrator');
    assert.equal((await system.http.inject({ method: 'GET', url: BASE, headers: staff.headers })).statusCode, 200, 'the administrator role holds dci:admin');
  });

  test('callback URIs: only agreed hosts (and ports), http(s), no credentials', async () => {
    const partner = { allowedCallbackHosts: ['mis.example.org', 'cb.example.org:8443'] };
    const allowed = (uri: string) => system.dci.partners.checkCallbackUri(partner, uri).allowed;
    assert.equal(allowed('https://mis.example.org/registry/on-search'), true);
    assert.equal(allowed('https://cb.example.org:8443/on-search'), true);
    assert.equal(allowed('https://cb.example.org/on-search'), false);
    assert.equal(allowed('https://evil.example.org/on-search'), false);
    assert.equal(allowed('http://169.254.169.254/latest'), false);
    assert.equal(allowed('https://user:pw@mis.example.org/x'), false);
    assert.equal(allowed('file:///etc/passwd'), false);
    assert.equal(system.dci.partners.checkCallbackUri({ allowedCallbackHosts: [] }, 'https://mis.example.org/x').allowed, false);
  });

  test('CLI: dci partner create (linking an existing client), list, update', async () => {
    const client = await system.services.apiClients.createClient({ actor: systemActor('test') }, { name: 'existing', scopes: ['dci:search'] });
    const output = await dciPartnerCreate(system, { senderId: 'cli.example.org', name: 'CLI partner', clientId: client.clientId, callbackHosts: 'cli.example.org', signatureStrategy: 'signature-string' });
    assert.match(output, /Created DCI partner cli\.example\.org/);
    assert.equal(output.includes('client_secret'), false, 'no secret: the client existed');
    assert.match(await dciPartnerList(system, {}), /cli\.example\.org \(CLI partner\)/);
    assert.match(await dciPartnerUpdate(system, { senderId: 'cli.example.org', signaturePolicy: 'optional', active: false }), /optional.*INACTIVE/);
    await assert.rejects(dciPartnerCreate(system, { senderId: 'cli2.example.org', clientId: client.clientId }), /already linked/);
  });
});
