import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../auth/access-tokens.js';
import { rawSql } from '../database/database.js';
import { findJob } from '../jobs/job-queue.js';
import { JobRunner } from '../jobs/job-runner.js';
import { REINDEX_JOB, ReindexService } from './reindex.js';
import { registryReindexTargets } from '../../modules/registry/reindex.repository.js';
import { RegistryEncryption } from '../../modules/registry/registry.encryption.js';
import { keysRotateIndexKey } from '../../cli/data-keys.js';

// Blind-index key rotation: identifier and phone lookups keep working before, during (half-done
// job) and after the rotation, and the old key is retired at the end.

const officer = { actor: systemActor('test') };
const rowsOf = async (system: TestSystem, query: ReturnType<typeof rawSql>) => ((await system.testDatabase.db.execute(query)) as unknown as { rows: Array<Record<string, unknown>> }).rows;

describe('keys rotate-index-key', () => {
  let system: TestSystem;
  const people: Array<{ id: string; nid: string; phone: string }> = [];

  before(async () => {
    system = await createTestSystem();
    for (let index = 0; index < 6; index += 1) {
      const nid = `RX${String(1000000 + index)}`;
      const phone = `+6391700000${String(10 + index)}`;
      const created = await system.services.registry.createIndividual(officer, { name: { given: `P${index}` }, phones: [{ value: phone }], identifiers: [{ type: 'national-id', value: nid }] });
      people.push({ id: created.id, nid, phone });
    }
  });
  after(async () => { await system.close(); });

  const assertLookups = async (label: string) => {
    const reader = await system.authAs('individual:read');
    for (const person of people) {
      const byId = await system.http.inject({ method: 'GET', url: `/api/v2/Individual/national-id|${person.nid}`, headers: reader });
      assert.equal(byId.statusCode, 200, `${label}: identifier ${person.nid}`);
      assert.equal(byId.json().id, person.id);
      const byPhone = await system.http.inject({ method: 'GET', url: `/api/v2/Individual?phone=${encodeURIComponent(person.phone)}`, headers: reader });
      assert.deepEqual(byPhone.json().items.map((item: { id: string }) => item.id), [person.id], `${label}: phone ${person.phone}`);
    }
    // Uniqueness still holds whichever key indexed the holder.
    await assert.rejects(system.services.registry.createIndividual(officer, { name: { given: 'Dup' }, identifiers: [{ type: 'national-id', value: people[0]!.nid }] }),
      (error: { code: string }) => error.code === 'duplicate_identifier', `${label}: duplicate refused`);
  };

  test('lookups work before, during (half-done job) and after the rotation; the old key is retired', async () => {
    await assertLookups('before');
    const keyRing = system.encryption.keyRing;
    const service = new ReindexService(system.database.db, keyRing,
      registryReindexTargets(new RegistryEncryption(keyRing), () => keyRing.blindIndex().writingVersion), { batchSize: 2, settleMs: 0 });
    const { version, job } = await service.rotate('test');
    assert.equal(version, 2);
    // Written after the rotation: under the new key.
    const late = await system.services.registry.createIndividual(officer, { name: { given: 'Late' }, phones: [{ value: '+639170000099' }], identifiers: [{ type: 'national-id', value: 'RX2000000' }] });
    people.push({ id: late.id, nid: 'RX2000000', phone: '+639170000099' });
    assert.deepEqual((await rowsOf(system, rawSql`select value_index from identifiers i join registrants r on r.id = i.registrant_id where r.uuid = ${late.id}`)).map((row) => String(row.value_index).slice(0, 3)), ['k2.']);
    await assertLookups('after the rotation, nothing re-indexed yet');

    // Half the job: one batch of each table, then the worker dies (no lease renewal; we just stop).
    const targets = registryReindexTargets(new RegistryEncryption(keyRing), () => keyRing.blindIndex().writingVersion);
    for (const target of targets) await system.database.db.transaction((tx) => target.reindexBatch(tx, 0, 2));
    const mixed = await rowsOf(system, rawSql`select count(*) filter (where value_index like 'k2.%')::int as new, count(*) filter (where value_index not like 'k2.%')::int as old from identifiers`);
    assert.ok(Number(mixed[0]!.new) > 0 && Number(mixed[0]!.old) > 0, 'some rows re-indexed, some not');
    await assertLookups('during');

    const runner = new JobRunner({ db: system.database.db, concurrency: 1, pollIntervalMs: 50, leaseSeconds: 30 });
    runner.register(REINDEX_JOB, service.runJob.bind(service));
    await runner.drain();
    const finished = (await findJob(system.database.db, job.id))!;
    assert.equal(finished.state, 'succeeded', String(finished.error));
    assert.equal((finished.result as { retired: number }).retired, 1);
    const left = await rowsOf(system, rawSql`select
      (select count(*) from identifiers where value_index not like 'k2.%')::int as identifiers,
      (select count(*) from registrants, unnest(phone_indexes) as x where x not like 'k2.%')::int as phones`);
    assert.deepEqual([Number(left[0]!.identifiers), Number(left[0]!.phones)], [0, 0]);
    assert.equal(keyRing.blindIndex().computeAll('x', 'y').length, 1, 'the old key is no longer tried');
    const keys = await rowsOf(system, rawSql`select purpose, version from encryption_keys where purpose like 'index%' order by version`);
    assert.deepEqual(keys.map((row) => `${String(row.purpose)}:${Number(row.version)}`), ['index-retired:1', 'index:2']);
    await assertLookups('after');
  });

  test('CLI: keys rotate-index-key --run rotates again and re-indexes everything', async () => {
    const output = await keysRotateIndexKey({ ...system, encryption: { ...system.encryption, reindex: new ReindexService(system.database.db, system.encryption.keyRing, registryReindexTargets(new RegistryEncryption(system.encryption.keyRing), () => system.encryption.keyRing.blindIndex().writingVersion), { settleMs: 0 }) } }, { run: true });
    assert.match(output, /Blind-index key version 3: \d+ rows re-indexed, 1 older key\(s\) retired/);
    await assertLookups('after a second rotation');
  });
});
