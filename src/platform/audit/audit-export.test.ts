import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../auth/access-tokens.js';
import { rawSql } from '../database/database.js';
import type { AppError } from '../errors.js';
import { auditExport } from '../../cli/audit.js';

// The auditors' export (API `_format=csv`, CLI `audit export`), and what the log holds of restricted values.

const NATIONAL_ID = 'ZX9081726';
const PASSPORT = 'P55512345';
const PHONE = '+639171234567';
const NEW_PHONE = '+639179876543';
const LINE = '12 Rizal Street';
const POSTAL = '1100';

function collector(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  return { stream: new Writable({ write(chunk: Buffer, _encoding, callback) { parts.push(chunk); callback(); } }), text: () => Buffer.concat(parts).toString('utf8') };
}

describe('Audit export and restricted values in the log', () => {
  let system: TestSystem;
  let personId: string;
  const officer = { actor: systemActor('registrar-1') };

  before(async () => {
    system = await createTestSystem();
    const person = await system.services.registry.createIndividual(officer, {
      name: { given: 'Ana' }, phones: [{ value: PHONE }], identifiers: [{ type: 'national-id', value: NATIONAL_ID }],
      addresses: [{ use: 'home', line: [LINE], city: 'Quezon City', postalCode: POSTAL, country: 'PH' }],
    });
    personId = person.id;
    await system.services.registry.updateIndividual(officer, personId, { phones: [{ value: NEW_PHONE }], addresses: [{ use: 'home', line: ['1 Other Road'], city: 'Quezon City', postalCode: POSTAL, country: 'PH' }] }, 1);
    await system.services.registry.addIdentifier(officer, 'individual', personId, { type: 'passport', value: PASSPORT });
    await system.services.registry.invalidateIdentifier(officer, 'individual', personId, { type: 'passport', value: PASSPORT, reason: 'lost' });
    await system.services.registry.bulk.upsertPeople({ actor: systemActor('importer') }, [{ key: 1, individual: { name: { given: 'Bulk' }, phones: [{ value: '+639170000001' }], identifiers: [{ type: 'national-id', value: 'BK1234567' }] } }]);
  });
  after(async () => { await system.close(); });

  test('current writes keep identifiers and phones as hmac digests and addresses masked, never in clear', async () => {
    const stored = JSON.stringify(await system.testDatabase.db.execute(rawSql`select action, before, after from audit_log`));
    for (const secret of [NATIONAL_ID, PASSPORT, PHONE, NEW_PHONE, '9171234567', LINE, '1 Other Road', 'BK1234567', '+639170000001']) {
      assert.ok(!stored.includes(secret), `the audit log must not hold ${secret}`);
    }
    assert.match(stored, /hmac:/);
    const update = ((await system.testDatabase.db.execute(rawSql`select before, after from audit_log where action = 'update' and entity_id = ${personId}`)) as unknown as { rows: unknown[] }).rows[0] as { before: { phones: unknown; addresses: unknown }; after: { phones: unknown; addresses: unknown } };
    assert.notDeepEqual(update.before.phones, update.after.phones, 'a changed phone still shows as a change');
    assert.notDeepEqual(update.before.addresses, update.after.addresses, 'so does a changed (masked) address line');
  });

  test('API: _format=csv streams every match, with the same filters as the query', async () => {
    const auditor = await system.authAs('audit:read');
    const response = await system.http.inject({ method: 'GET', url: `/api/v2/AuditEvent?registrant=${personId}&_format=csv`, headers: auditor });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/csv/);
    const rows = parse(response.body, { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(rows.map((row) => row.action), ['create', 'update', 'add-identifier', 'invalidate-identifier']);
    assert.ok(!response.body.includes(NATIONAL_ID) && !response.body.includes(PHONE));
    const bad = await system.http.inject({ method: 'GET', url: '/api/v2/AuditEvent?_format=csv&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', headers: auditor });
    assert.equal(bad.statusCode, 400);
    assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/AuditEvent?_format=csv', headers: await system.authAs('individual:read') })).statusCode, 403);
  });

  test('CLI: audit export --actor --entity --from --to writes the CSV; a bad period is refused', async () => {
    const out = collector();
    await auditExport(system, { actor: 'registrar-1', entity: personId, from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() }, out.stream);
    const rows = parse(out.text(), { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, 4);
    assert.ok(rows.every((row) => row.actorId === 'registrar-1' && row.entityId === personId));
    assert.deepEqual(Object.keys(rows[0]!), ['occurredAt', 'actorType', 'actorId', 'action', 'entityType', 'entityId', 'before', 'after', 'requestId', 'chainPosition', 'entryHash']);
    const byImporter = collector();
    await auditExport(system, { actor: 'importer', entityType: 'individual' }, byImporter.stream);
    assert.equal((parse(byImporter.text(), { columns: true }) as unknown[]).length, 1);
    const none = collector();
    await auditExport(system, { from: new Date(Date.now() + 60_000).toISOString() }, none.stream);
    assert.equal(none.text().trim(), 'occurredAt,actorType,actorId,action,entityType,entityId,before,after,requestId,chainPosition,entryHash');
    await assert.rejects(auditExport(system, { from: 'yesterday' }, collector().stream), (error: AppError) => error.code === 'unknown_parameter' && error.fields[0]!.path === '--from');
  });
});
