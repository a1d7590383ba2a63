import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';

describe('Audit API for auditors: GET /api/v2/AuditEvent', () => {
  let system: TestSystem;
  let auditor: { authorization: string };
  let personId: string;
  let writerId: string;

  before(async () => {
    system = await createTestSystem();
    const writerToken = await system.tokenFor('individual:write', 'individual:read');
    writerId = JSON.parse(Buffer.from(writerToken.split('.')[1]!, 'base64url').toString()).sub;
    const writer = { authorization: `Bearer ${writerToken}` };
    const created = await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: writer, payload: { name: { given: 'Ana', family: 'Peña' } } });
    personId = created.json().id;
    await system.http.inject({ method: 'PATCH', url: `/api/v2/Individual/${personId}`, headers: { ...writer, 'if-match': 'W/"1"' }, payload: { civilStatus: 'married' } });
    for (const given of ['Ben', 'Cara', 'Dan']) await system.http.inject({ method: 'POST', url: '/api/v2/Individual', headers: writer, payload: { name: { given } } });
    auditor = await system.authAs('audit:read');
  });
  after(async () => { await system.close(); });

  const get = (url: string, headers = auditor) => system.http.inject({ method: 'GET', url, headers });

  test('by registrant: its create and update, with before and after, oldest first', async () => {
    const body = (await get(`/api/v2/AuditEvent?registrant=${personId}`)).json();
    assert.deepEqual(body.items.map((item: { action: string }) => item.action), ['create', 'update']);
    assert.deepEqual(body.items[1].after, { civilStatus: 'married', version: 2 });
    assert.equal(body.items[1].actor.id, writerId);
  });

  test('by actor and period, paged with a next link', async () => {
    const page = (await get(`/api/v2/AuditEvent?actor=${writerId}&entityType=individual&_count=2`)).json();
    assert.equal(page.count, 2);
    const next = (await get(page.links.next.replace('http://commonweal.test', ''))).json();
    assert.equal(next.count, 2);
    const future = (await get(`/api/v2/AuditEvent?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json();
    assert.equal(future.count, 0);
  });

  test('exports every match as CSV', async () => {
    const response = await get(`/api/v2/AuditEvent?actor=${writerId}&_format=csv`);
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /text\/csv/);
    const rows = parse(response.body, { columns: true }) as Array<{ action: string; entityType: string }>;
    assert.equal(rows.filter((row) => row.entityType === 'individual').length, 5);
  });

  test('bad parameters are 400; other scopes 403; no token 401', async () => {
    assert.equal((await get('/api/v2/AuditEvent?registrant=not-a-uuid')).statusCode, 400);
    assert.equal((await get('/api/v2/AuditEvent?colour=red')).statusCode, 400);
    assert.equal((await get('/api/v2/AuditEvent?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).statusCode, 400);
    assert.equal((await get('/api/v2/AuditEvent', await system.authAs('individual:read'))).statusCode, 403);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/AuditEvent' })).statusCode, 401);
  });
});
