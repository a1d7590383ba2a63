import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { and, eq, sql } from 'drizzle-orm';
import { openTestDatabase, type TestDatabase } from '../../test-support/test-database.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { auditLog } from '../../platform/audit/audit.tables.js';
import { AppError } from '../../platform/errors.js';
import { vocabularies, vocabularyCodes } from './vocabularies.tables.js';
import { VocabularyService } from './vocabularies.service.js';

const context = { actor: systemActor('test') };

let database: TestDatabase;
let service: VocabularyService;

before(async () => {
  database = await openTestDatabase();
});
after(async () => {
  await database.close();
});
beforeEach(async () => {
  await database.reset();
  service = new VocabularyService(database.db);
  await service.installSystemVocabularies();
});

async function codeCounts(): Promise<Record<string, number>> {
  const rows = await database.db.select({ code: vocabularies.code, count: sql<number>`count(${vocabularyCodes.id})::int` })
    .from(vocabularies).leftJoin(vocabularyCodes, eq(vocabularyCodes.vocabularyId, vocabularies.id)).groupBy(vocabularies.code);
  return Object.fromEntries(rows.map((row) => [row.code, row.count]));
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
  return error;
}

describe('installSystemVocabularies', () => {
  test('installs every system vocabulary with its codes', async () => {
    const counts = await codeCounts();
    assert.equal(counts.gender, 4);
    assert.ok(counts.country! >= 249, `country has ${counts.country}`);
    assert.ok(counts.language! > 7800, `language has ${counts.language}`);
    assert.equal(counts['id-type'], 7);
    assert.equal(counts.relationship, 10);
    assert.equal(counts['membership-role'], 9);
    assert.equal(counts['group-type'], 4);
    assert.equal(counts['civil-status'], 7);
    assert.equal(counts['area-kind'], 6);
    assert.equal(counts['disability-type'], 6);
    const gender = await service.getVocabulary('gender');
    assert.equal(gender.namespaceUri, 'urn:iso:std:iso:5218');
    assert.equal(gender.isSystem, true);
    assert.equal(gender.description, 'Sex of a person, ISO/IEC 5218.');
    assert.equal((await service.getCode('country', 'FR')).properties.alpha3, 'FRA');
  });

  test('is idempotent: a second run writes nothing', async () => {
    const countsBefore = await codeCounts();
    const versionsBefore = await service.listVocabularies();
    const auditBefore = await database.db.$count(auditLog);
    await new VocabularyService(database.db).installSystemVocabularies();
    assert.deepEqual(await codeCounts(), countsBefore);
    assert.deepEqual(await service.listVocabularies(), versionsBefore);
    assert.equal(await database.db.$count(auditLog), auditBefore);
  });

  test('repairs changed content, retires codes no longer shipped and keeps local codes', async () => {
    await service.addLocalCode(context, 'gender', { code: 'x', label: 'Another' });
    const gender = (await database.db.select().from(vocabularies).where(eq(vocabularies.code, 'gender')))[0]!;
    // Simulate a database installed by an older build: other stamp, other label, an extra code.
    await database.db.update(vocabularies).set({ description: 'old' }).where(eq(vocabularies.id, gender.id));
    await database.db.update(vocabularyCodes).set({ label: 'Man' }).where(and(eq(vocabularyCodes.vocabularyId, gender.id), eq(vocabularyCodes.code, '1')));
    await database.db.insert(vocabularyCodes).values({ vocabularyId: gender.id, code: '3', label: 'Retired' });

    await new VocabularyService(database.db).installSystemVocabularies();

    assert.equal((await service.getCode('gender', '1')).label, 'Male');
    assert.equal((await service.getCode('gender', '3')).isActive, false);
    assert.equal((await service.getCode('gender', 'x')).isLocal, true);
    assert.equal((await service.getVocabulary('gender')).description, 'Sex of a person, ISO/IEC 5218.');
  });
});

describe('assertCodes', () => {
  test('accepts known active codes, and an empty list', async () => {
    await service.assertCodes([]);
    await service.assertCodes([
      { vocabulary: 'gender', code: '2', path: '/gender' },
      { vocabulary: 'country', code: 'KE', path: '/country' },
      { vocabulary: 'language', code: 'swh', path: '/language' },
    ]);
  });

  test('reports the one bad code among several, at its path', async () => {
    const error = await rejection(service.assertCodes([
      { vocabulary: 'gender', code: '1', path: '/gender' },
      { vocabulary: 'gender', code: '9x', path: '/members/1/gender' },
      { vocabulary: 'civil-status', code: 'married', path: '/civilStatus' },
    ]));
    assert.equal(error.code, 'validation_failed');
    assert.deepEqual(error.fields, [{ path: '/members/1/gender', message: '"9x" is not a code of vocabulary "gender"' }]);
  });

  test('reports an unknown vocabulary and an inactive code', async () => {
    await service.addLocalCode(context, 'civil-status', { code: 'engaged', label: 'Engaged' });
    await service.setLocalCodeActive(context, 'civil-status', 'engaged', false);
    const error = await rejection(service.assertCodes([
      { vocabulary: 'colour', code: 'red', path: '/colour' },
      { vocabulary: 'civil-status', code: 'engaged', path: '/civilStatus' },
    ]));
    assert.deepEqual(error.fields, [
      { path: '/colour', message: '"colour" is not a known vocabulary' },
      { path: '/civilStatus', message: '"engaged" is no longer an active code of vocabulary "civil-status"' },
    ]);
  });
});

describe('id types', () => {
  test('are found by code or namespace URI, with their pattern', async () => {
    const byCode = await service.findIdType('national-id');
    assert.deepEqual(byCode, { code: 'national-id', system: 'urn:commonweal:id:national-id', pattern: '^[A-Z0-9]{6,20}$', label: 'National ID', isActive: true });
    assert.equal(await service.findIdType('urn:commonweal:id:passport').then((t) => t?.code), 'passport');
    assert.equal((await service.findIdType('tax-id'))?.pattern, undefined);
    assert.equal(await service.findIdType('library-card'), undefined);
    assert.equal((await service.listIdTypes()).length, 7);
  });

  test('are re-read on a miss, so one added elsewhere is found', async () => {
    assert.equal(await service.findIdType('library-card'), undefined);
    const other = new VocabularyService(database.db);
    await other.addLocalCode(context, 'id-type', { code: 'library-card', label: 'Library card', properties: { pattern: '^L[0-9]+$' } });
    assert.deepEqual(await service.findIdType('urn:commonweal:id:library-card'), {
      code: 'library-card', system: 'urn:commonweal:id:library-card', pattern: '^L[0-9]+$', label: 'Library card', isActive: true,
    });
  });

  test('a local id type needs a free namespace URI and a valid pattern', async () => {
    const clash = await rejection(service.addLocalCode(context, 'id-type', { code: 'nid', label: 'NID', properties: { system: 'urn:commonweal:id:national-id' } }));
    assert.equal(clash.code, 'conflict');
    const badPattern = await rejection(service.addLocalCode(context, 'id-type', { code: 'nid', label: 'NID', properties: { pattern: '([' } }));
    assert.deepEqual(badPattern.fields, [{ path: '/properties/pattern', message: 'must be a valid regular expression' }]);
  });
});

describe('local vocabularies and codes', () => {
  test('create a vocabulary, add, relabel and deactivate a code, all audited', async () => {
    const created = await service.createVocabulary(context, { code: 'benefit-kind', name: 'Benefit kind' });
    assert.equal(created.namespaceUri, 'urn:commonweal:local:vocabulary:benefit-kind');
    assert.equal(created.isSystem, false);
    const added = await service.addLocalCode(context, 'benefit-kind', { code: 'cash', label: 'Cash' });
    assert.equal(added.version, 1);
    const relabelled = await service.patchLocalCode(context, 'benefit-kind', 'cash', { label: 'Cash transfer' }, 1);
    assert.equal(relabelled.label, 'Cash transfer');
    assert.equal(relabelled.version, 2);
    const deactivated = await service.setLocalCodeActive(context, 'benefit-kind', 'cash', false, 2);
    assert.equal(deactivated.isActive, false);
    assert.equal((await service.getVocabulary('benefit-kind')).version, 4);

    const audit = await database.db.select().from(auditLog).where(sql`${auditLog.entityType} in ('vocabulary', 'vocabulary_code') and ${auditLog.actorId} = 'test'`).orderBy(auditLog.id);
    assert.deepEqual(audit.map((row) => [row.action, row.entityType, row.entityId]), [
      ['create', 'vocabulary', 'benefit-kind'],
      ['create', 'vocabulary_code', 'benefit-kind#cash'],
      ['update', 'vocabulary_code', 'benefit-kind#cash'],
      ['deactivate', 'vocabulary_code', 'benefit-kind#cash'],
    ]);
    assert.deepEqual(audit[2]?.after, { label: 'Cash transfer' });
  });

  test('refuses duplicates, reserved namespaces, system code changes and stale versions', async () => {
    assert.equal((await rejection(service.createVocabulary(context, { code: 'gender', name: 'Again' }))).code, 'conflict');
    assert.equal((await rejection(service.createVocabulary(context, { code: 'mine', name: 'Mine', namespaceUri: 'urn:commonweal:vocabulary:mine' }))).code, 'validation_failed');
    assert.equal((await rejection(service.addLocalCode(context, 'gender', { code: '1', label: 'Male again' }))).code, 'conflict');
    assert.equal((await rejection(service.patchLocalCode(context, 'gender', '1', { label: 'Man' }, 1))).code, 'business_rule_violated');
    assert.equal((await rejection(service.setLocalCodeActive(context, 'gender', '1', false))).code, 'business_rule_violated');
    await service.addLocalCode(context, 'gender', { code: 'x', label: 'Another' });
    assert.equal((await rejection(service.patchLocalCode(context, 'gender', 'x', { label: 'Other' }, 7))).code, 'precondition_failed');
    assert.equal((await rejection(service.addLocalCode(context, 'nothing', { code: 'a', label: 'A' }))).code, 'not_found');
  });

  test('pages through a large vocabulary with a cursor and filters by code prefix and label', async () => {
    const total = (await service.getVocabulary('language')).codeCount;
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await service.listCodes('language', { count: 1000, cursor });
      seen.push(...page.items.map((item) => item.code));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    const en = await service.listCodes('language', { count: 1000, codePrefix: 'en' });
    assert.ok(en.items.length > 1 && en.items.every((item) => item.code.startsWith('en')));
    const english = await service.listCodes('language', { count: 10, labelContains: 'ENGLISH' });
    assert.ok(english.items.some((item) => item.code === 'eng'));
    const escaped = await service.listCodes('language', { count: 10, codePrefix: '_' });
    assert.equal(escaped.items.length, 0);
  });
});
