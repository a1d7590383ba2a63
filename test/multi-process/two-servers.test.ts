// Two real `commonweal serve` processes on one PostgreSQL database: the proof that the server keeps
// no state of its own (tokens, records, ETags and idempotency keys work across processes) and that
// the database job queue is shared (every job runs exactly once; a killed process's job is taken
// over; a stopped process hands its job back).
//
// These tests need a PostgreSQL server, because the embedded PGlite belongs to one process. They are
// registered only when TEST_DATABASE_URL is set, which is how CI runs the suite's second pass
// (`.ci/run`, "Tests on PostgreSQL"); in the default PGlite pass this file registers no tests.
// Run them alone with:
//   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test -- test/multi-process/two-servers.test.ts
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openTestDatabase, type TestDatabase } from '../../src/test-support/test-database.js';
import {
  clientFor, fetchToken, killAll, runCommonweal, sleep, startServer, waitFor, withTimeout, type ServerProcess,
} from './server-process.js';

const SHUTDOWN_GRACE_MS = 3000;
const LEASE_SECONDS = 2;

if (process.env.TEST_DATABASE_URL) {
  describe('two server processes sharing one PostgreSQL database', { timeout: 600_000 }, () => {
    let database: TestDatabase;
    let dataDir: string;
    let a: ServerProcess;
    let b: ServerProcess;
    let credentials: { clientId: string; clientSecret: string };

    // What a load-balanced deployment gives every process: the same database and the same public URL.
    const environment = () => ({
      DATABASE_URL: database.url!,
      PUBLIC_URL: 'http://commonweal.test',
      SEED_DEMO_DATA: 'false',
      JOB_WORKERS: '2',
      JOB_POLL_INTERVAL_MS: '50',
      JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      DATABASE_POOL_SIZE: '5',
      DATA_DIR: dataDir,
    });
    const start = (name: string) => startServer(name, environment());

    before(async () => {
      database = await openTestDatabase();
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-multi-'));
      // Both at once, as an orchestrator starts replicas: both install vocabularies and keys on an empty registry.
      [a, b] = await Promise.all([start('A'), start('B')]);
      const { stdout } = await runCommonweal(['client', 'create', '--name', 'Multi-process test', '--scopes', '*', '--json'], { DATABASE_URL: database.url! });
      credentials = JSON.parse(stdout) as { clientId: string; clientSecret: string };
    });

    after(async () => {
      await killAll();
      await database?.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('a token from server A is accepted by server B; records, ETags and idempotency keys are shared', async () => {
      const tokenFromA = await fetchToken(a, credentials.clientId, credentials.clientSecret);
      const tokenFromB = await fetchToken(b, credentials.clientId, credentials.clientSecret);
      const viaA = clientFor(a, tokenFromA);
      const viaB = clientFor(b, tokenFromA);

      // Written through A, read through B (by UUID and by identifier), with A's token.
      const created = await viaA.post('/api/v2/Individual', {
        name: { given: 'Ana', family: 'Reyes' }, birthDate: '1990-04-12', gender: '2',
        identifiers: [{ type: 'national-id', value: 'MP0000001' }],
      });
      assert.equal(created.status, 201, created.text);
      const id = created.json.id as string;
      const read = await viaB.get(`/api/v2/Individual/${id}`);
      assert.equal(read.status, 200, read.text);
      assert.equal(read.json.name.display, 'Ana Reyes');
      assert.equal(read.headers.get('etag'), 'W/"1"');
      assert.equal((await viaB.get('/api/v2/Individual/national-id|MP0000001')).json.id, id);

      // And B's token works on A: both processes sign with keys both can verify.
      assert.equal((await clientFor(a, tokenFromB).get(`/api/v2/Individual/${id}`)).status, 200);
      const jwksA = (await clientFor(a).get('/.well-known/jwks.json')).json.keys.map((key: { kid: string }) => key.kid).sort();
      const jwksB = (await clientFor(b).get('/.well-known/jwks.json')).json.keys.map((key: { kid: string }) => key.kid).sort();
      assert.ok(jwksA.length >= 1);
      for (const token of [tokenFromA, tokenFromB]) {
        const { kid } = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
        assert.ok(jwksA.includes(kid) || jwksB.includes(kid), 'the signing key is published');
      }

      // Optimistic locking is in the database: a change through B makes A's ETag stale.
      const changed = await viaB.patch(`/api/v2/Individual/${id}`, { civilStatus: 'married' }, { 'if-match': 'W/"1"' });
      assert.equal(changed.status, 200, changed.text);
      assert.equal(changed.headers.get('etag'), 'W/"2"');
      const stale = await viaA.patch(`/api/v2/Individual/${id}`, { civilStatus: 'single' }, { 'if-match': 'W/"1"' });
      assert.equal(stale.status, 412, stale.text);

      // An Idempotency-Key used on A is known to B: the retry is answered from the stored response.
      const key = `multi-${crypto.randomUUID()}`;
      const body = { name: { given: 'Ben', family: 'Cruz' }, identifiers: [{ type: 'national-id', value: 'MP0000002' }] };
      const first = await viaA.post('/api/v2/Individual', body, { 'idempotency-key': key });
      assert.equal(first.status, 201, first.text);
      const retry = await viaB.post('/api/v2/Individual', body, { 'idempotency-key': key });
      assert.equal(retry.status, 201, retry.text);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(retry.json.id, first.json.id);
      const bens = await viaB.get('/api/v2/Individual?name=ben%20cruz&_total=accurate');
      assert.equal(bens.json.items.length, 1, 'the retry wrote nothing');
    });

    test('graceful shutdown: SIGTERM makes A exit 0 within SHUTDOWN_GRACE_MS while B keeps answering', async () => {
      const token = await fetchToken(b, credentials.clientId, credentials.clientSecret);
      const viaB = clientFor(b, token);
      let stop = false;
      const statuses: number[] = [];
      const probing = (async () => {
        while (!stop) {
          statuses.push((await viaB.get('/api/v2/Individual?_count=1')).status);
          await sleep(20);
        }
      })();
      const started = Date.now();
      a.kill('SIGTERM');
      const exit = await withTimeout(a.exited, SHUTDOWN_GRACE_MS + 10_000, 'A to exit after SIGTERM');
      const seconds = (Date.now() - started) / 1000;
      await sleep(300);
      stop = true;
      await probing;
      assert.deepEqual(exit, { code: 0, signal: null }, a.output());
      assert.ok(seconds * 1000 < SHUTDOWN_GRACE_MS + 5000, `A took ${seconds} s`);
      assert.ok(a.logs().some((line) => line.signal === 'SIGTERM' && /shutting down/.test(line.msg)), 'A logged its shutdown');
      assert.ok(statuses.length > 5);
      assert.deepEqual([...new Set(statuses)], [200], 'every request to B succeeded');
      assert.equal((await clientFor(b).get('/ready')).status, 200);
    });
  });
}
