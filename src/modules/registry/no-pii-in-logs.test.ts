import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createSystem, type System } from '../../app.js';
import { loadConfig } from '../../platform/config.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { openTestDatabase } from '../../test-support/test-database.js';

// Personal data that must never reach the application log, whatever the flow.
const GIVEN = 'Zenaida';
const FAMILY = 'Quimpo';
const BIRTH_DATE = '1987-06-21';
const NATIONAL_ID = 'QZ8765432';
const PHONE_TYPED = '0917 555 0142';
const PHONE = '+639175550142';
const NEW_PHONE = '+639175550199';
const ADDRESS_LINE = '77 Kalayaan Road';
const EMAIL = 'zenaida.quimpo@example.org';
const SECRETS = [GIVEN, FAMILY, FAMILY.toLowerCase(), BIRTH_DATE, NATIONAL_ID, PHONE, PHONE.slice(1), '9175550142', '917 555 0142', NEW_PHONE, '9175550199', ADDRESS_LINE, EMAIL];

describe('no personal data in application logs', () => {
  const lines: string[] = [];
  let system: System;

  before(async () => {
    const stream = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString('utf8')); done(); } });
    const config = loadConfig({
      LOG_LEVEL: 'debug', JOB_WORKERS: '0', SEED_DEMO_DATA: 'false', PUBLIC_URL: 'http://commonweal.test', DEFAULT_PHONE_REGION: 'PH',
      ENCRYPTION_KEK: crypto.randomBytes(32).toString('base64'),
    });
    system = await createSystem(config, { database: await openTestDatabase(), logger: pino({ level: 'debug' }, stream) });
  });
  after(async () => { await system?.close(); });

  test('create, read, search by identifier, phone and name, update, refusals and an export log no names, identifiers, phones or birth dates', async () => {
    const client = await system.services.apiClients.createClient({ actor: systemActor('test') }, { name: 'logs', scopes: ['individual:read', 'individual:write', 'job:read', 'pii:reveal'] });
    const { accessToken } = await system.services.apiClients.issueToken(client.clientId, client.clientSecret);
    const headers = { authorization: `Bearer ${accessToken}` };
    const request = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, extra: Record<string, string> = {}) => {
      const response = await system.http.inject({ method, url, headers: { ...headers, ...extra }, ...(payload ? { payload: method === 'PATCH' ? JSON.stringify(payload) : payload } : {}) });
      return response;
    };
    const person = {
      name: { given: GIVEN, family: FAMILY }, birthDate: BIRTH_DATE, email: EMAIL,
      phones: [{ value: PHONE_TYPED, use: 'mobile' }], addresses: [{ line: [ADDRESS_LINE], city: 'Pasig' }],
      identifiers: [{ type: 'national-id', value: NATIONAL_ID }],
    };
    const created = await request('POST', '/api/v2/Individual', person);
    assert.equal(created.statusCode, 201, created.body);
    const { id } = created.json();
    assert.equal((await request('GET', `/api/v2/Individual/${id}`)).statusCode, 200);
    assert.equal((await request('GET', `/api/v2/Individual/national-id|${NATIONAL_ID}`)).json().id, id);
    assert.equal((await request('GET', `/api/v2/Individual/${encodeURIComponent(`national-id|${NATIONAL_ID}`)}`)).json().id, id);
    assert.equal((await request('GET', `/api/v2/Individual?identifier=${encodeURIComponent(`national-id|${NATIONAL_ID}`)}`)).json().items.length, 1);
    assert.equal((await request('GET', `/api/v2/Individual?phone=${encodeURIComponent(PHONE_TYPED)}&name=${FAMILY}&birthdate=${BIRTH_DATE}`)).json().items.length, 1);
    const updated = await request('PATCH', `/api/v2/Individual/national-id|${NATIONAL_ID}`, { phones: [{ value: NEW_PHONE }] }, { 'content-type': 'application/merge-patch+json', 'if-match': 'W/"1"' });
    assert.equal(updated.statusCode, 200, updated.body);
    // Refusals quote the values sent back to the caller, but not into the log.
    assert.equal((await request('POST', '/api/v2/Individual', person)).statusCode, 409);
    assert.equal((await request('GET', `/api/v2/Individual/national-id|${NATIONAL_ID}X`)).statusCode, 404);
    assert.equal((await request('GET', `/api/v2/Individual?phone=${FAMILY}`)).statusCode, 400);
    assert.equal((await request('GET', `/api/v2/Nothing/national-id|${NATIONAL_ID}?phone=${encodeURIComponent(PHONE)}`)).statusCode, 404);
    const started = await request('POST', '/api/v2/$export', { resourceType: 'Individual', search: { identifier: `national-id|${NATIONAL_ID}`, name: FAMILY } });
    assert.equal(started.statusCode, 202, started.body);
    await system.jobs.drain();
    const file = await request('GET', `/api/v2/$export/${started.json().id}/file`);
    assert.ok(file.body.includes(NATIONAL_ID), 'the export itself holds the data');

    const log = lines.join('');
    assert.ok(lines.length > 20, 'the flow was logged');
    assert.match(log, /"url":"\/api\/v2\/Individual\/:ref"/, 'the route pattern is logged');
    assert.match(log, /"url":"\/api\/v2\/Individual\?identifier=\*"/, 'query parameter names, not values');
    assert.match(log, /"code":"duplicate_identifier"/, 'refusals are logged by code');
    for (const secret of SECRETS) {
      const at = log.indexOf(secret);
      assert.equal(at, -1, `"${secret}" is in the log: …${log.slice(Math.max(0, at - 200), at + 50)}`);
    }
    // Percent-encoded forms too.
    for (const secret of [encodeURIComponent(PHONE_TYPED), encodeURIComponent(`national-id|${NATIONAL_ID}`)]) assert.ok(!log.includes(secret), secret);
  });
});
