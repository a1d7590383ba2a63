import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ed from '@noble/ed25519';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  checkSignature, DciSchemas, decryptMessage, encryptMessage, EncryptionError, loadDciSchemas, parseDciTimestamp, PartnerKeys, signatureStrategy, staticKeys,
} from './index.js';

const content = {
  header: { version: '1.0.0', message_id: 'm-1', message_ts: '2026-01-02T03:04:05Z', action: 'search', sender_id: 'spmis.example.org', total_count: 1 },
  message: { transaction_id: 't-1', search_request: [{ reference_id: 'r-1', timestamp: '2026-01-02T03:04:05Z', search_criteria: { query_type: 'idtype-value', query: { type: 'UIN', value: 'A1' } } }] },
};

/** A deliberately separate JCS for plain test data (sorted keys, JSON primitives): not the library under test. */
function miniJcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(miniJcs).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${miniJcs((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('DCI schemas (loaded from the official spec files)', () => {
  const schemas = loadDciSchemas();

  it('compiles every named schema of every spec file (the process loads them lazily, so a broken file must fail here)', () => {
    assert.doesNotThrow(() => new DciSchemas().compileAll());
    assert.throws(() => new DciSchemas('/nonexistent-spec-folder').compileAll(), /not found/);
  });

  it('accepts a spec header and refuses one missing a required field', () => {
    assert.deepEqual(schemas.check('header', content.header), { valid: true });
    const { total_count: _omitted, ...withoutCount } = content.header;
    const result = schemas.check('header', withoutCount);
    assert.equal(result.valid, false);
    assert.equal(!result.valid && result.problems[0]!.path, '/total_count');
  });

  it('refuses a header whose total_count is a string (type from the spec)', () => {
    assert.equal(schemas.check('header', { ...content.header, total_count: '1' }).valid, false);
  });

  it('accepts an integer attribute value, which the spec\'s oneOf would refuse', () => {
    const predicate = { ...content.message, search_request: [{ ...content.message.search_request[0]!, search_criteria: { query_type: 'predicate', query: [{ expression1: { attribute_name: 'age', operator: 'lt', attribute_value: 25 } }] } }] };
    assert.deepEqual(schemas.check('searchRequest', predicate), { valid: true });
  });

  it('validates callback headers, acknowledgements, errors and encrypted messages', () => {
    assert.equal(schemas.check('callbackHeader', { message_id: '1', message_ts: 'x', action: 'on-search' }).valid, false, 'status is required');
    assert.equal(schemas.check('ack', { message: { ack_status: 'ACK', timestamp: '2026-01-01T00:00:00Z', correlation_id: 'c' } }).valid, true);
    assert.equal(schemas.check('ack', { message: { ack_status: 'MAYBE', timestamp: '2026-01-01T00:00:00Z', correlation_id: 'c' } }).valid, false);
    assert.equal(schemas.check('error', { code: 'err.request.bad' }).valid, true);
    assert.equal(schemas.check('error', { code: 'err.made.up' }).valid, false);
    assert.equal(schemas.check('encryptedMessage', { header: { alg: 'a', enc: 'e', kid: 'k' }, ciphertext: 'c', encrypted_key: 'k', tag: 't' }).valid, false, 'iv is required');
  });

  it('reads timestamps as the spec writes them (with a zone) and nothing else', () => {
    assert.ok(parseDciTimestamp('2022-12-04T17:20:07-04:00'));
    assert.ok(parseDciTimestamp('2022-12-04T17:20:07.123Z'));
    for (const bad of ['2022-12-04T17:20:07', '2022-02-30T00:00:00Z', '04.12.2022', '', 5]) assert.equal(parseDciTimestamp(bad), undefined, String(bad));
  });
});

describe('signature string strategy (Ed25519 over JCS)', () => {
  it('verifies a signature made by an independent implementation (@noble/ed25519, own JCS, node digest)', async () => {
    const secret = ed.utils.randomSecretKey();
    const publicKey = await ed.getPublicKeyAsync(secret);
    const jwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url'), kid: 'k-noble' };
    const created = Math.floor(Date.now() / 1000);
    const expires = created + 60;
    const digest = crypto.createHash('blake2b512').update(miniJcs({ header: content.header, message: content.message })).digest('base64');
    const signingString = `(created): ${created}\n(expires): ${expires}\ndigest: BLAKE-512=${digest}`;
    const raw = await ed.signAsync(new TextEncoder().encode(signingString), secret);
    const signature = `Signature: namespace="dci", kidId="spmis.example.org|k-noble|ed25519", algorithm="ed25519", created="${created}", expires="${expires}", headers="(created) (expires) digest", signature="${Buffer.from(raw).toString('base64')}"`;
    const keys = staticKeys({ 'spmis.example.org': [jwk] });
    const outcome = await checkSignature(signature, content, 'required', 'signature-string', keys, { senderId: 'spmis.example.org' });
    assert.deepEqual(outcome, { status: 'verified', kid: 'k-noble' });
    // Tampered message: one character of a value changed.
    const tampered = { ...content, message: { ...content.message, transaction_id: 't-2' } };
    assert.equal((await checkSignature(signature, tampered, 'required', 'signature-string', keys, { senderId: 'spmis.example.org' })).status, 'invalid');
  });

  it('signs what an independent verifier (@noble/ed25519) accepts', async () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const signature = await signatureStrategy('signature-string').sign(content, { senderId: 'us', kid: 'k1', algorithm: 'EdDSA', privateKey });
    const parameters = Object.fromEntries([...signature.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    assert.equal(parameters.kidId, 'us|k1|ed25519');
    const digest = crypto.createHash('blake2b512').update(miniJcs(content)).digest('base64');
    const signingString = `(created): ${parameters.created}\n(expires): ${parameters.expires}\ndigest: BLAKE-512=${digest}`;
    const rawPublic = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    assert.equal(await ed.verifyAsync(Buffer.from(parameters.signature!, 'base64'), new TextEncoder().encode(signingString), rawPublic), true);
  });

  it('refuses expired, foreign-sender, unknown-key and malformed signatures', async () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const keys = staticKeys({ spmis: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1' } as JWK] });
    const strategy = signatureStrategy('signature-string');
    const old = await strategy.sign(content, { senderId: 'spmis', kid: 'k1', algorithm: 'EdDSA', privateKey }, { now: new Date(Date.now() - 3600_000), ttlSeconds: 60 });
    assert.equal((await checkSignature(old, content, 'required', 'signature-string', keys, { senderId: 'spmis' })).status, 'expired');
    const fresh = await strategy.sign(content, { senderId: 'spmis', kid: 'k1', algorithm: 'EdDSA', privateKey });
    assert.equal((await checkSignature(fresh, content, 'required', 'signature-string', keys, { senderId: 'other' })).status, 'invalid');
    const unknownKey = await strategy.sign(content, { senderId: 'spmis', kid: 'k9', algorithm: 'EdDSA', privateKey });
    assert.equal((await checkSignature(unknownKey, content, 'required', 'signature-string', keys, { senderId: 'spmis' })).status, 'invalid');
    assert.equal((await checkSignature('unsigned-stub', content, 'required', 'signature-string', keys, { senderId: 'spmis' })).status, 'invalid');
    assert.equal((await checkSignature(undefined, content, 'required', 'signature-string', keys, { senderId: 'spmis' })).status, 'missing');
    assert.equal((await checkSignature('', content, 'required', 'signature-string', keys, { senderId: 'spmis' })).status, 'missing');
  });

  it('under an optional policy accepts no signature or a placeholder, but never a bad one', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const keys = staticKeys({});
    assert.equal((await checkSignature(undefined, content, 'optional', 'signature-string', keys, { senderId: 'spmis' })).status, 'unsigned');
    assert.equal((await checkSignature('unsigned-stub', content, 'optional', 'signature-string', keys, { senderId: 'spmis' })).status, 'unsigned');
    const signed = await signatureStrategy('signature-string').sign(content, { senderId: 'spmis', kid: 'k1', algorithm: 'EdDSA', privateKey });
    assert.equal((await checkSignature(signed, content, 'optional', 'signature-string', keys, { senderId: 'spmis' })).status, 'invalid');
  });
});

describe('JWS strategy (RS256 / ES256 / EdDSA, kid from the sender\'s JWKS)', () => {
  it('verifies a detached JWS made with node:crypto alone (independent of jose)', async () => {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'rsa-1' })).toString('base64url');
    const payload = Buffer.from(miniJcs(content)).toString('base64url');
    const signed = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
    const keys = staticKeys({ spmis: [{ ...publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256' } as JWK] });
    assert.deepEqual(await checkSignature(`${header}..${signed}`, content, 'required', 'jws', keys, { senderId: 'spmis' }), { status: 'verified', kid: 'rsa-1' });
    // Attached payload works too; a payload that is another message does not.
    assert.equal((await checkSignature(`${header}.${payload}.${signed}`, content, 'required', 'jws', keys, { senderId: 'spmis' })).status, 'verified');
    const tampered = { ...content, header: { ...content.header, total_count: 2 } };
    assert.equal((await checkSignature(`${header}..${signed}`, tampered, 'required', 'jws', keys, { senderId: 'spmis' })).status, 'invalid');
    assert.equal((await checkSignature(`${header}.${payload}.${signed}`, tampered, 'required', 'jws', keys, { senderId: 'spmis' })).status, 'invalid');
  });

  for (const alg of ['ES256', 'EdDSA'] as const) {
    it(`signs and verifies ${alg}, and refuses a signature-string when JWS is agreed`, async () => {
      const pair = await generateKeyPair(alg, { extractable: true });
      const keys = staticKeys({ spmis: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1' }] });
      const jws = await signatureStrategy('jws').sign(content, { senderId: 'spmis', kid: 'k1', algorithm: alg, privateKey: pair.privateKey });
      assert.equal((await checkSignature(jws, content, 'required', 'jws', keys, { senderId: 'spmis' })).status, 'verified');
      const expired = await signatureStrategy('jws').sign(content, { senderId: 'spmis', kid: 'k1', algorithm: alg, privateKey: pair.privateKey }, { now: new Date(Date.now() - 3600_000), ttlSeconds: 10 });
      assert.equal((await checkSignature(expired, content, 'required', 'jws', keys, { senderId: 'spmis' })).status, 'expired');
      if (alg === 'EdDSA') {
        const other = await signatureStrategy('signature-string').sign(content, { senderId: 'spmis', kid: 'k1', algorithm: alg, privateKey: pair.privateKey });
        assert.equal((await checkSignature(other, content, 'required', 'jws', keys, { senderId: 'spmis' })).status, 'invalid');
      }
    });
  }
});

describe('partner keys from a JWKS URL', () => {
  let server: http.Server;
  let url: string;
  let served: JWK[] = [];
  let fetches = 0;
  before(async () => {
    server = http.createServer((_request, response) => {
      fetches += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetches once, serves from cache, refetches for an unknown kid (after the cooldown)', async () => {
    const first = crypto.generateKeyPairSync('ed25519');
    const second = crypto.generateKeyPairSync('ed25519');
    served = [{ ...first.publicKey.export({ format: 'jwk' }), kid: 'a' } as JWK];
    const keys = new PartnerKeys(async (sender) => (sender === 'spmis' ? { publicKeys: [], jwksUrl: url } : undefined), { cooldownMs: 0 });
    assert.ok(await keys.resolve('spmis', 'a', 'EdDSA'));
    assert.ok(await keys.resolve('spmis', 'a', 'EdDSA'));
    assert.equal(fetches, 1);
    served = [...served, { ...second.publicKey.export({ format: 'jwk' }), kid: 'b' } as JWK];
    assert.ok(await keys.resolve('spmis', 'b', 'EdDSA'), 'a rotated-in key is found by refetching');
    assert.equal(fetches, 2);
    assert.equal(await keys.resolve('spmis', 'zzz', 'EdDSA'), undefined);
    assert.equal(await keys.resolve('nobody', 'a', 'EdDSA'), undefined);
  });
});

describe('message encryption (flattened JWE)', () => {
  for (const [alg, options] of [['ECDH-ES+A256KW', { crv: 'X25519' }], ['RSA-OAEP-256', {}]] as const) {
    it(`round-trips with ${alg} and refuses an altered ciphertext`, async () => {
      const pair = await generateKeyPair(alg, { extractable: true, ...options });
      const encrypted = await encryptMessage(content.message, { key: pair.publicKey, kid: 'enc-1', alg });
      assert.equal(loadDciSchemas().check('encryptedMessage', encrypted).valid, true);
      assert.deepEqual(await decryptMessage(encrypted, async (kid) => (kid === 'enc-1' ? pair.privateKey : undefined)), content.message);
      const altered = { ...encrypted, ciphertext: `${encrypted.ciphertext.slice(0, -2)}AA` };
      await assert.rejects(decryptMessage(altered, async () => pair.privateKey), EncryptionError);
      await assert.rejects(decryptMessage(encrypted, async () => undefined), EncryptionError);
    });
  }
});
