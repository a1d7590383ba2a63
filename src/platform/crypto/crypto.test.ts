import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openTestDatabase, type TestDatabase } from '../../test-support/test-database.js';
import { BlindIndex } from './blind-index.js';
import { DecryptionError, FieldCipher, UnknownKeyVersionError, keyVersionOf, type DataKeySource } from './field-cipher.js';
import { EncryptionKeyError, LocalKeyProvider, parseKek, resolveKek } from './key-provider.js';
import { KeyRing } from './key-ring.js';
import { encryptionKeys } from './encryption-keys.tables.js';

function staticKeys(keys: Record<number, Buffer>, current: number): DataKeySource {
  return { current: () => ({ version: current, key: keys[current]! }), get: (version) => keys[version] };
}

const context = { table: 'identifiers', column: 'value', record: '42:national-id' };

describe('field cipher (AES-256-GCM)', () => {
  const k1 = crypto.randomBytes(32);
  const cipher = new FieldCipher(staticKeys({ 1: k1 }, 1));

  test('round-trips, in the v1:<version>:<nonce>:<ciphertext+tag> form, with a fresh nonce each time', () => {
    const first = cipher.encrypt('AB1234567', context);
    const second = cipher.encrypt('AB1234567', context);
    assert.match(first, /^v1:1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/=]+$/);
    assert.notEqual(first, second, 'same value, different ciphertexts');
    assert.notEqual(first.split(':')[2], second.split(':')[2], 'different nonces');
    assert.ok(!first.includes('AB1234567'));
    assert.equal(cipher.decrypt(first, context), 'AB1234567');
    assert.equal(Buffer.from(first.split(':')[2]!, 'base64').length, 12);
    assert.deepEqual(cipher.decryptJson(cipher.encryptJson([{ value: '+639171234567' }], context), context), [{ value: '+639171234567' }]);
    assert.equal(keyVersionOf(first), 1);
  });

  test('binds table, column and record: a ciphertext moved elsewhere or altered does not decrypt', () => {
    const ciphertext = cipher.encrypt('AB1234567', context);
    assert.throws(() => cipher.decrypt(ciphertext, { ...context, record: '43:national-id' }), DecryptionError);
    assert.throws(() => cipher.decrypt(ciphertext, { ...context, column: 'other' }), DecryptionError);
    assert.throws(() => cipher.decrypt(ciphertext, { ...context, table: 'registrants' }), DecryptionError);
    const parts = ciphertext.split(':');
    const body = Buffer.from(parts[3]!, 'base64');
    body[0] = body[0]! ^ 1;
    assert.throws(() => cipher.decrypt([...parts.slice(0, 3), body.toString('base64')].join(':'), context), DecryptionError);
    assert.throws(() => cipher.decrypt('AB1234567', context), DecryptionError);
  });

  test('reads every key version it knows; names an unknown one', () => {
    const k2 = crypto.randomBytes(32);
    const old = cipher.encrypt('old', context);
    const rotated = new FieldCipher(staticKeys({ 1: k1, 2: k2 }, 2));
    const fresh = rotated.encrypt('new', context);
    assert.equal(keyVersionOf(fresh), 2);
    assert.equal(rotated.decrypt(old, context), 'old');
    assert.throws(() => cipher.decrypt(fresh, context), (error: unknown) => error instanceof UnknownKeyVersionError && error.version === 2);
  });
});

describe('blind index (HMAC-SHA256, HKDF-derived keys)', () => {
  test('is deterministic per purpose and key, and separates purposes and keys', () => {
    const root = crypto.randomBytes(32);
    const index = new BlindIndex(root);
    const value = index.compute('identifiers.value', 'national-id\u0000AB1234567');
    assert.match(value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(new BlindIndex(root).compute('identifiers.value', 'national-id\u0000AB1234567'), value);
    assert.notEqual(index.compute('registrants.phones', 'national-id\u0000AB1234567'), value);
    assert.notEqual(new BlindIndex(crypto.randomBytes(32)).compute('identifiers.value', 'national-id\u0000AB1234567'), value);
    assert.notEqual(crypto.createHmac('sha256', root).update('national-id\u0000AB1234567').digest('base64url'), value, 'not keyed by the root itself');
  });
});

describe('key-encryption key', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-kek-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('wraps and unwraps; another KEK has another id and cannot unwrap', async () => {
    const provider = new LocalKeyProvider(crypto.randomBytes(32));
    const other = new LocalKeyProvider(crypto.randomBytes(32));
    const key = crypto.randomBytes(32);
    const wrapped = await provider.wrap(key, 'commonweal:data:1');
    assert.deepEqual(await provider.unwrap(wrapped, 'commonweal:data:1'), key);
    await assert.rejects(provider.unwrap(wrapped, 'commonweal:data:2'), EncryptionKeyError, 'the context is bound in');
    await assert.rejects(other.unwrap(wrapped, 'commonweal:data:1'), EncryptionKeyError);
    assert.match(provider.id, /^local:[0-9a-f]{16}$/);
    assert.notEqual(provider.id, other.id);
  });

  test('comes from ENCRYPTION_KEK, ENCRYPTION_KEK_FILE, or a DATA_DIR/kek.key generated once with mode 0600 and a warning', () => {
    const text = crypto.randomBytes(32).toString('base64');
    assert.deepEqual(resolveKek({ encryptionKek: text, dataDir: dir }).kek, Buffer.from(text, 'base64'));
    const file = path.join(dir, 'given.key');
    fs.writeFileSync(file, `${text}\n`);
    assert.equal(resolveKek({ encryptionKekFile: file, dataDir: dir }).source, 'ENCRYPTION_KEK_FILE');
    assert.throws(() => resolveKek({ encryptionKekFile: path.join(dir, 'missing.key'), dataDir: dir }), /ENCRYPTION_KEK_FILE: cannot read/);
    assert.throws(() => parseKek('c2hvcnQ=', 'ENCRYPTION_KEK'), /ENCRYPTION_KEK: must be 32 random bytes/);

    const warnings: string[] = [];
    const logger = { warn: (_obj: object, message?: string) => warnings.push(message ?? '') };
    const dataDir = path.join(dir, 'data');
    const first = resolveKek({ dataDir }, logger);
    assert.equal(first.generated, true);
    assert.equal(fs.statSync(path.join(dataDir, 'kek.key')).mode & 0o777, 0o600);
    assert.match(warnings[0]!, /Generated a key-encryption key .*production must supply its own/);
    const second = resolveKek({ dataDir }, logger);
    assert.equal(second.generated, false);
    assert.deepEqual(second.kek, first.kek, 'the same key on every later start');
    assert.match(warnings[1]!, /production must supply its own/);
  });
});

describe('key ring (wrapped data keys in the database)', () => {
  let database: TestDatabase;
  before(async () => { database = await openTestDatabase(); });
  after(async () => database.close());

  test('creates the keys on first open, wrapped (never in clear); a second process sees rotations', async () => {
    await database.reset();
    const kek = new LocalKeyProvider(crypto.randomBytes(32));
    const ring = await KeyRing.open(database.db, kek);
    const rows = await database.db.select().from(encryptionKeys);
    assert.deepEqual(rows.map((row) => `${row.purpose}:${row.version}`).sort(), ['data:1', 'index:1']);
    assert.ok(rows.every((row) => row.kekId === kek.id && !row.wrappedKey.includes(ring.current().key.toString('base64'))));
    assert.equal(ring.current().version, 1);

    const other = await KeyRing.open(database.db, kek, { refreshIntervalMs: 0 });
    assert.deepEqual(other.current().key, ring.current().key, 'the same keys in every process');
    assert.deepEqual(other.indexRootKey(), ring.indexRootKey());
    assert.equal(await ring.rotateDataKey(), 2);
    assert.equal(ring.current().version, 2);
    assert.equal(other.current().version, 1, 'not yet seen');
    await other.ensureVersions([2]);
    assert.deepEqual(other.get(2), ring.get(2), 'a ciphertext naming version 2 loads it');
    await assert.rejects(other.ensureVersions([9]), UnknownKeyVersionError);
    assert.equal(await other.rotateDataKey(), 3);
    await ring.refreshIfStale(); // interval 30 s: not yet
    assert.equal(ring.current().version, 2);
    await ring.refresh();
    assert.equal(ring.current().version, 3);
  });

  test('a wrong KEK fails at open, naming both KEKs; rewrapping moves every key to a new KEK', async () => {
    await database.reset();
    const kek = new LocalKeyProvider(crypto.randomBytes(32));
    const ring = await KeyRing.open(database.db, kek);
    await ring.rotateDataKey();
    const wrong = new LocalKeyProvider(crypto.randomBytes(32));
    await assert.rejects(KeyRing.open(database.db, wrong), (error: unknown) => error instanceof EncryptionKeyError
      && error.message.includes(wrong.id) && error.message.includes(kek.id) && /is not the one this database's encryption keys are wrapped with/.test(error.message));

    const next = new LocalKeyProvider(crypto.randomBytes(32));
    assert.equal(await ring.rewrapAll(next), 3);
    const reopened = await KeyRing.open(database.db, next);
    assert.deepEqual(reopened.get(1), ring.get(1));
    assert.deepEqual(reopened.get(2), ring.get(2));
    assert.deepEqual(reopened.indexRootKey(), ring.indexRootKey());
    await assert.rejects(KeyRing.open(database.db, kek), EncryptionKeyError, 'the old KEK no longer opens it');
    assert.equal(await ring.rotateDataKey(), 3, 'this process carries on with the new KEK');
    assert.ok((await database.db.select().from(encryptionKeys)).every((row) => row.kekId === next.id));
  });
});
