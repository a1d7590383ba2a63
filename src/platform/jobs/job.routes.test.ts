import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { enqueueJob } from './job-queue.js';

describe('GET /api/v2/Job/:id', () => {
  let system: TestSystem;
  before(async () => { system = await createTestSystem(); });
  after(async () => { await system.close(); });

  const subjectOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;

  test('the creator follows its own job without job:read; others need job:read, else 404', async () => {
    const creatorToken = await system.tokenFor('individual:read');
    const job = await enqueueJob(system.database.db, { type: 'test.anything', payload: {}, createdBy: subjectOf(creatorToken) });
    const asCreator = await system.http.inject({ method: 'GET', url: `/api/v2/Job/${job.id}`, headers: { authorization: `Bearer ${creatorToken}` } });
    assert.equal(asCreator.statusCode, 200);
    assert.deepEqual([asCreator.json().state, asCreator.json().progress], ['queued', { done: 0, total: null }]);
    assert.equal('payload' in asCreator.json(), false, 'the payload stays internal');
    const stranger = await system.http.inject({ method: 'GET', url: `/api/v2/Job/${job.id}`, headers: await system.authAs('individual:read') });
    assert.equal(stranger.statusCode, 404);
    const operator = await system.http.inject({ method: 'GET', url: `/api/v2/Job/${job.id}`, headers: await system.authAs('job:read') });
    assert.equal(operator.statusCode, 200);
  });

  test('unknown job 404, malformed id 400, no token 401', async () => {
    const headers = await system.authAs('job:read');
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Job/00000000-0000-4000-8000-000000000000', headers })).statusCode, 404);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Job/nope', headers })).statusCode, 400);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Job/00000000-0000-4000-8000-000000000000' })).statusCode, 401);
  });
});
