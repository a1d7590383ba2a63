import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { enqueueJob, findJob } from '../jobs/job-queue.js';

describe('Operations endpoints: health, readiness, metrics, API documents, request ids', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });

  test('GET /health answers while the process is alive, without a token', async () => {
    const response = await system.http.inject({ method: 'GET', url: '/health' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ok' });
  });

  test('GET /ready reports each check; 503 while the job runner is not running', async () => {
    const notRunning = await createTestSystem({ JOB_WORKERS: '1' });
    try {
      const before = await notRunning.http.inject({ method: 'GET', url: '/ready' });
      assert.equal(before.statusCode, 503);
      assert.deepEqual(before.json().checks, { database: true, migrations: true, jobRunner: false });
      notRunning.jobs.start();
      const after = await notRunning.http.inject({ method: 'GET', url: '/ready' });
      assert.equal(after.statusCode, 200);
      assert.equal(after.json().status, 'ready');
    } finally {
      await notRunning.close();
    }
  });

  test('GET /metrics exposes request latency per route and status, job counts and process metrics', async () => {
    await system.http.inject({ method: 'GET', url: '/api/v2/Individual' });
    const response = await system.http.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /http_request_duration_seconds_bucket\{[^}]*route="\/api\/v2\/Individual"[^}]*status_code="401"/);
    assert.match(response.body, /jobs\{state="queued"\} 0/);
    assert.match(response.body, /process_resident_memory_bytes/);
  });

  test('the OpenAPI document lists the API v2 routes with their scopes, and /docs serves the interactive page', async () => {
    const document = (await system.http.inject({ method: 'GET', url: '/api/v2/openapi.json' })).json();
    assert.equal(document.openapi, '3.1.0');
    for (const path of ['/api/v2/Individual', '/api/v2/Individual/{ref}', '/api/v2/Group/{ref}/members', '/api/v2/$batch', '/oauth2/client/token', '/api/v2/Area', '/api/v2/Vocabulary']) {
      assert.ok(document.paths[path], `${path} is documented`);
    }
    assert.ok(document.paths['/api/v2/Individual'].post.requestBody, 'request bodies are documented');
    assert.deepEqual(document.paths['/api/v2/Individual'].post.security, [{ oauth2: ['individual:write'] }], 'each route shows its scope');
    assert.deepEqual(document.paths['/oauth2/client/token'].post.security, []);
    const docs = await system.http.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });

  test('every response carries a request id; a sane X-Request-Id from the caller is kept; errors quote it', async () => {
    const given = await system.http.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'trace-123' } });
    assert.equal(given.headers['x-request-id'], 'trace-123');
    assert.equal(given.statusCode, 404);
    assert.equal(given.json().requestId, 'trace-123');
    assert.equal(given.headers['content-type'], 'application/problem+json; charset=utf-8');
    const generated = await system.http.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('an unsupported content type is a 415 problem, not a 500', async () => {
    const response = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: { ...(await system.authAs('individual:write')), 'content-type': 'text/plain' }, payload: 'hello' });
    assert.equal(response.statusCode, 415);
    assert.equal(response.json().code, 'unsupported_media_type');
  });

  test('graceful shutdown hands a running job back to the queue', async () => {
    const other = await createTestSystem({ JOB_WORKERS: '1', JOB_POLL_INTERVAL_MS: '20', SHUTDOWN_GRACE_MS: '50' });
    let started!: () => void;
    const isStarted = new Promise<void>((resolve) => { started = resolve; });
    other.jobs.register('test.slow', async ({ signal }) => {
      started();
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    });
    const job = await enqueueJob(other.database.db, { type: 'test.slow', payload: {} });
    other.jobs.start();
    await isStarted;
    await other.http.close();
    await other.jobs.stop(50);
    const handedBack = await findJob(other.database.db, job.id);
    assert.equal(handedBack?.state, 'queued');
    await other.close();
  });
});
