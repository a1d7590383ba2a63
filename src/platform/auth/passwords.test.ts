import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPasswordPolicy, generatePassword, hashPassword, passwordProblems, verifyAgainstDummy, verifyPassword } from './passwords.js';

describe('passwords', () => {
  test('policy: at least 12 characters, at most 256, not the username (any case)', () => {
    assert.deepEqual(passwordProblems('long enough pass', 'ana'), []);
    assert.match(passwordProblems('short', 'ana')[0]!.message, /at least 12/);
    assert.match(passwordProblems('x'.repeat(257), 'ana')[0]!.message, /at most 256/);
    assert.match(passwordProblems('Registrar-North', 'registrar-north')[0]!.message, /not be the username/);
    assert.throws(() => assertPasswordPolicy('short', 'ana'), (error: { code: string; fields: Array<{ path: string }> }) => error.code === 'validation_failed' && error.fields[0]!.path === '/password');
  });

  test('hashes with argon2id, salted, and verifies', async () => {
    const hash = await hashPassword('correct horse battery');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.notEqual(hash, await hashPassword('correct horse battery'), 'a new salt each time');
    assert.equal(await verifyPassword('correct horse battery', hash), true);
    assert.equal(await verifyPassword('correct horse battery!', hash), false);
    assert.equal(await verifyPassword('anything', 'not a hash'), false);
  });

  test('the dummy verification fails and takes about as long as a real one', async () => {
    const hash = await hashPassword('correct horse battery');
    await verifyAgainstDummy('warm up');
    // The fastest of a few runs, so a busy machine does not decide the outcome.
    const time = async (work: () => Promise<unknown>) => {
      let fastest = Infinity;
      for (let run = 0; run < 3; run += 1) {
        const start = performance.now();
        await work();
        fastest = Math.min(fastest, performance.now() - start);
      }
      return fastest;
    };
    const real = await time(() => verifyPassword('wrong password!', hash));
    const dummy = await time(() => verifyAgainstDummy('wrong password!'));
    assert.equal(await verifyAgainstDummy('x'), false);
    assert.ok(dummy > real / 4 && dummy < real * 4, `dummy ${dummy} ms vs real ${real} ms`);
  });

  test('generated passwords meet the policy', () => {
    const password = generatePassword();
    assert.deepEqual(passwordProblems(password, 'ana'), []);
    assert.notEqual(password, generatePassword());
  });
});
