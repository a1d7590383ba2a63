import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../bin/commonweal.mjs');

/** `commonweal keys …` for encryption at rest, as an operator runs them, on a throwaway embedded database. */
describe('commonweal keys: data keys and the key-encryption key', () => {
  let dataDir: string;
  const environment = (extra: Record<string, string> = {}) => ({
    ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: '', ENCRYPTION_KEK: '', ENCRYPTION_KEK_FILE: '', ...extra,
  });
  const commonweal = (args: string[], extra?: Record<string, string>) => run(process.execPath, [bin, ...args], { env: environment(extra) });

  before(() => { dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-keys-')); });
  after(() => { fs.rmSync(dataDir, { recursive: true, force: true }); });

  test('rotate-data-key, reencrypt --run, rotate-kek; a wrong KEK stops the start with exit code 2 and says why', async () => {
    const { stdout: rotated } = await commonweal(['keys', 'rotate-data-key', '--json']);
    assert.deepEqual(JSON.parse(rotated), { version: 2 });
    const kekFile = path.join(dataDir, 'kek.key');
    assert.equal(fs.statSync(kekFile).mode & 0o777, 0o600, 'generated on first start, owner-only');

    const { stdout: reencrypted } = await commonweal(['keys', 'reencrypt', '--run', '--json']);
    assert.equal(JSON.parse(reencrypted).state, 'succeeded');

    const before = fs.readFileSync(kekFile, 'utf8');
    const next = path.join(dataDir, 'next.key');
    const { stdout: rewrapped } = await commonweal(['keys', 'rotate-kek', '--new-kek-file', next, '--generate']);
    assert.match(rewrapped, /^Rewrapped 3 keys under the new key-encryption key \(local:[0-9a-f]{16}\)\. .*kek\.key now holds it\./);
    assert.equal(fs.readFileSync(kekFile, 'utf8'), fs.readFileSync(next, 'utf8'));
    assert.notEqual(fs.readFileSync(kekFile, 'utf8'), before);
    await commonweal(['migrate']); // starts with the new KEK

    const wrong = await commonweal(['migrate'], { ENCRYPTION_KEK: crypto.randomBytes(32).toString('base64') }).then(() => undefined, (error: { code: number; stderr: string }) => error);
    assert.ok(wrong, 'the start is refused');
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /commonweal: The key-encryption key configured \(local:[0-9a-f]{16}\) is not the one this database's encryption keys are wrapped with/);
    const old = await commonweal(['migrate'], { ENCRYPTION_KEK: before.trim() }).then(() => undefined, (error: { code: number }) => error);
    assert.equal(old?.code, 2, 'the old KEK no longer opens it');
    const malformed = await commonweal(['migrate'], { ENCRYPTION_KEK: 'not-a-key' }).then(() => undefined, (error: { code: number; stderr: string }) => error);
    assert.match(malformed?.stderr ?? '', /ENCRYPTION_KEK: must be 32 random bytes in base64/);
  });
});
