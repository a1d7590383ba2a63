import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openTestDatabase, type TestDatabase } from '../../test-support/test-database.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { listAuditForEntity } from '../../platform/audit/audit-queries.js';
import { AppError, type ErrorCode } from '../../platform/errors.js';
import { AreaService, type CodeChecker } from './areas.service.js';

const context = { actor: systemActor('test') };
const areaKinds = new Set(['country', 'region', 'province', 'district', 'municipality', 'village']);

/** Stands in for the vocabulary service, which owns the `area-kind` codes. */
const areaKindChecker: CodeChecker = {
  async assertCodes(checks) {
    const unknown = checks.filter((check) => check.vocabulary !== 'area-kind' || !areaKinds.has(check.code));
    if (unknown.length > 0) throw AppError.validation('Unknown codes', unknown.map((check) => ({ path: check.path, message: 'is not a known code' })));
  },
};

async function assertRejects(promise: Promise<unknown>, code: ErrorCode, path?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (path) assert.deepEqual(error.fields.map((field) => field.path), [path]);
    return true;
  });
}

describe('AreaService', () => {
  let database: TestDatabase;
  let service: AreaService;

  before(async () => {
    database = await openTestDatabase();
    service = new AreaService(database.db, areaKindChecker);
  });
  beforeEach(() => database.reset());
  after(() => database.close());

  /** Country C with regions R1 (district D1 with village V1) and R2. */
  async function createSampleTree(): Promise<void> {
    await service.createArea(context, { code: 'C', name: 'Country', kind: 'country' });
    await service.createArea(context, { code: 'R1', name: 'North', kind: 'region', parentCode: 'C' });
    await service.createArea(context, { code: 'R2', name: 'South', kind: 'region', parentCode: 'C' });
    await service.createArea(context, { code: 'D1', name: 'Riverside', kind: 'district', parentCode: 'R1' });
    await service.createArea(context, { code: 'V1', name: 'Mill Village', kind: 'village', parentCode: 'D1' });
  }

  async function idOf(code: string): Promise<number> {
    return (await service.findAreaByCode(code))!.id;
  }

  describe('createArea', () => {
    it('places children under their parent and shows the breadcrumb', async () => {
      await createSampleTree();
      const village = await service.getArea('V1');
      assert.equal(village.parentCode, 'D1');
      assert.equal(village.depth, 3);
      assert.equal(village.version, 1);
      assert.equal(village.isActive, true);
      assert.deepEqual(village.ancestors.map((ancestor) => ancestor.code), ['C', 'R1', 'D1']);
      const reference = await service.findAreaByCode('V1');
      assert.equal(reference?.path, `/${await idOf('C')}/${await idOf('R1')}/${await idOf('D1')}/${reference?.id}/`);
    });

    it('audits the creation under the area code', async () => {
      await service.createArea(context, { code: 'C', name: 'Country', kind: 'country' });
      const [entry] = await listAuditForEntity(database.db, 'area', 'C');
      assert.equal(entry?.action, 'create');
      assert.deepEqual(entry?.after, { code: 'C', name: 'Country', kind: 'country', parentCode: null, depth: 0, isActive: true });
    });

    it('refuses a duplicate code, a bad code, an unknown kind and an unknown or deactivated parent', async () => {
      await createSampleTree();
      await assertRejects(service.createArea(context, { code: 'C', name: 'Again', kind: 'country' }), 'duplicate_identifier');
      await assertRejects(service.createArea(context, { code: '-bad', name: 'Bad', kind: 'country' }), 'validation_failed', '/code');
      await assertRejects(service.createArea(context, { code: 'X', name: 'X', kind: 'galaxy' }), 'validation_failed', '/kind');
      await assertRejects(service.createArea(context, { code: 'X', name: 'X', kind: 'region', parentCode: 'NOPE' }), 'validation_failed', '/parentCode');
      await assertRejects(service.createArea(context, { code: 'X', name: '   ', kind: 'region' }), 'validation_failed', '/name');
      await service.deactivateArea(context, 'R2', { reason: 'merged into R1' });
      await assertRejects(service.createArea(context, { code: 'X', name: 'X', kind: 'district', parentCode: 'R2' }), 'validation_failed', '/parentCode');
    });
  });

  describe('updateArea', () => {
    it('moves a whole subtree, so subtreeAreaIds follows the move', async () => {
      await createSampleTree();
      const moved = await service.updateArea(context, 'D1', 1, { parentCode: 'R2' });
      assert.equal(moved.parentCode, 'R2');
      assert.equal(moved.version, 2);

      const [d1, v1, r1, r2] = await Promise.all(['D1', 'V1', 'R1', 'R2'].map(idOf));
      assert.deepEqual(await service.subtreeAreaIds('R1'), [r1]);
      assert.deepEqual((await service.subtreeAreaIds('R2'))?.sort(), [r2, d1, v1].sort());
      assert.deepEqual((await service.subtreeAreaIds('D1'))?.sort(), [d1, v1].sort());
      assert.equal(await service.subtreeAreaIds('NOPE'), undefined);

      const village = await service.getArea('V1');
      assert.deepEqual(village.ancestors.map((ancestor) => ancestor.code), ['C', 'R2', 'D1']);
      assert.equal((await service.findAreaByCode('V1'))?.path, `/${await idOf('C')}/${r2}/${d1}/${v1}/`);
      assert.equal(village.version, 2, 'descendants get a new version, as their depth or path changed');
    });

    it('moves an area to the root and back, shifting depths of its subtree', async () => {
      await createSampleTree();
      await service.updateArea(context, 'R1', 1, { parentCode: null });
      assert.equal((await service.getArea('V1')).depth, 2);
      assert.equal((await service.getArea('R1')).parentCode, null);
      await service.updateArea(context, 'R1', 2, { parentCode: 'C' });
      assert.equal((await service.getArea('V1')).depth, 3);
    });

    it('refuses to move an area under itself or its own descendant', async () => {
      await createSampleTree();
      await assertRejects(service.updateArea(context, 'R1', 1, { parentCode: 'V1' }), 'business_rule_violated');
      await assertRejects(service.updateArea(context, 'R1', 1, { parentCode: 'R1' }), 'business_rule_violated');
      assert.equal((await service.getArea('R1')).version, 1, 'nothing was written');
    });

    it('checks the version, increments it and audits what changed', async () => {
      await createSampleTree();
      await assertRejects(service.updateArea(context, 'R1', 7, { name: 'Far North' }), 'precondition_failed');
      const renamed = await service.updateArea(context, 'R1', 1, { name: 'Far North', kind: 'province' });
      assert.equal(renamed.version, 2);
      assert.equal(renamed.kind, 'province');
      await assertRejects(service.updateArea(context, 'R1', 1, { name: 'Again' }), 'precondition_failed');
      const entries = await listAuditForEntity(database.db, 'area', 'R1');
      assert.deepEqual(entries.at(-1), { ...entries.at(-1), action: 'update', before: { name: 'North', kind: 'region' }, after: { name: 'Far North', kind: 'province' } });
    });

    it('writes nothing for a change that changes nothing', async () => {
      await createSampleTree();
      const same = await service.updateArea(context, 'R1', 1, { name: 'North', parentCode: 'C' });
      assert.equal(same.version, 1);
      assert.equal((await listAuditForEntity(database.db, 'area', 'R1')).length, 1);
    });

    it('refuses an unknown kind, an unknown parent and an unknown area', async () => {
      await createSampleTree();
      await assertRejects(service.updateArea(context, 'R1', 1, { kind: 'galaxy' }), 'validation_failed', '/kind');
      await assertRejects(service.updateArea(context, 'R1', 1, { parentCode: 'NOPE' }), 'validation_failed', '/parentCode');
      await assertRejects(service.updateArea(context, 'NOPE', 1, { name: 'X' }), 'not_found');
    });
  });

  describe('concurrent writes', () => {
    it('lets one of two creates of the same code win; the other gets duplicate_identifier', async () => {
      const results = await Promise.allSettled([1, 2].map((n) => service.createArea(context, { code: 'C', name: `Country ${n}`, kind: 'country' })));
      assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
      const [failure] = results.filter((result) => result.status === 'rejected');
      assert.equal(((failure as PromiseRejectedResult).reason as AppError).code, 'duplicate_identifier');
    });

    it('refuses the second of two crossing moves, which would make a cycle', async () => {
      await createSampleTree();
      const results = await Promise.allSettled([
        service.updateArea(context, 'R1', 1, { parentCode: 'R2' }),
        service.updateArea(context, 'R2', 1, { parentCode: 'R1' }),
      ]);
      assert.deepEqual(results.map((result) => result.status).sort(), ['fulfilled', 'rejected']);
      const [failure] = results.filter((result) => result.status === 'rejected');
      assert.equal(((failure as PromiseRejectedResult).reason as AppError).code, 'business_rule_violated');
    });
  });

  describe('deactivateArea', () => {
    it('is refused while active children remain, then allowed bottom-up', async () => {
      await createSampleTree();
      await assertRejects(service.deactivateArea(context, 'D1', { reason: 'redistricting' }), 'business_rule_violated');
      await service.deactivateArea(context, 'V1', { reason: 'redistricting' });
      const district = await service.deactivateArea(context, 'D1', { reason: 'redistricting', expectedVersion: 1 });
      assert.equal(district.isActive, false);
      assert.equal(district.version, 2);
      await assertRejects(service.deactivateArea(context, 'D1', { reason: 'again' }), 'conflict');
      const entry = (await listAuditForEntity(database.db, 'area', 'D1')).at(-1);
      assert.deepEqual({ action: entry?.action, after: entry?.after }, { action: 'deactivate', after: { isActive: false, deactivationReason: 'redistricting' } });
    });

    it('checks the version when one is given', async () => {
      await createSampleTree();
      await assertRejects(service.deactivateArea(context, 'V1', { reason: 'gone', expectedVersion: 9 }), 'precondition_failed');
    });
  });

  describe('searchAreas', () => {
    it('filters by parent, ancestor, kind, name and activity, ordered by code', async () => {
      await createSampleTree();
      const codes = async (search: Parameters<AreaService['searchAreas']>[0]) => (await service.searchAreas(search)).items.map((area) => area.code);
      assert.deepEqual(await codes({ parentCode: 'C', limit: 50 }), ['R1', 'R2']);
      assert.deepEqual(await codes({ ancestorCode: 'R1', limit: 50 }), ['D1', 'V1']);
      assert.deepEqual(await codes({ kind: 'region', limit: 50 }), ['R1', 'R2']);
      assert.deepEqual(await codes({ nameContains: 'RIVER', limit: 50 }), ['D1']);
      assert.deepEqual(await codes({ nameContains: '%', limit: 50 }), [], 'LIKE wildcards are matched literally');
      assert.deepEqual(await codes({ parentCode: 'NOPE', limit: 50 }), []);
      await service.deactivateArea(context, 'R2', { reason: 'merged' });
      assert.deepEqual(await codes({ parentCode: 'C', isActive: true, limit: 50 }), ['R1']);
      const [region] = (await service.searchAreas({ code: 'R1', limit: 50 })).items;
      assert.equal(region?.parentCode, 'C');
    });

    it('pages with a continuation code', async () => {
      await createSampleTree();
      const first = await service.searchAreas({ limit: 3 });
      assert.deepEqual(first.items.map((area) => area.code), ['C', 'D1', 'R1']);
      assert.equal(first.nextAfterCode, 'R1');
      const second = await service.searchAreas({ limit: 3, afterCode: first.nextAfterCode });
      assert.deepEqual(second.items.map((area) => area.code), ['R2', 'V1']);
      assert.equal(second.nextAfterCode, undefined);
    });
  });

  describe('codesByIds', () => {
    it('maps ids to codes, ignoring unknown ids', async () => {
      await createSampleTree();
      const [c, v1] = await Promise.all([idOf('C'), idOf('V1')]);
      assert.deepEqual(await service.codesByIds([c, v1, v1, 999_999]), new Map([[c, 'C'], [v1, 'V1']]));
      assert.deepEqual(await service.codesByIds([]), new Map());
    });
  });

  describe('importAreas', () => {
    const rows = [
      { code: 'V9', name: 'Hill Village', kind: 'village', parentCode: 'D9' },
      { code: 'D9', name: 'Hill District', kind: 'district', parentCode: 'R9' },
      { code: 'R9', name: 'Hills', kind: 'region', parentCode: 'C' },
      { code: 'C', name: 'Country', kind: 'country' },
    ];

    it('creates parents before children, and a second run creates nothing', async () => {
      assert.deepEqual(await service.importAreas(context, rows), { created: 4, existing: 0 });
      assert.deepEqual((await service.getArea('V9')).ancestors.map((ancestor) => ancestor.code), ['C', 'R9', 'D9']);
      assert.deepEqual(await service.importAreas(context, rows), { created: 0, existing: 4 });
      assert.equal((await service.searchAreas({ limit: 50 })).items.length, 4);
      assert.equal((await listAuditForEntity(database.db, 'area', 'V9'))[0]?.action, 'import');
    });

    it('attaches to areas already stored', async () => {
      await service.createArea(context, { code: 'C', name: 'Country', kind: 'country' });
      assert.deepEqual(await service.importAreas(context, rows.slice(0, 3)), { created: 3, existing: 0 });
      assert.deepEqual(await service.subtreeAreaIds('C').then((ids) => ids?.length), 4);
    });

    it('refuses the whole import when a parent is missing or a kind is unknown', async () => {
      await assertRejects(service.importAreas(context, rows.slice(0, 3)), 'validation_failed', '/2/parentCode');
      await assertRejects(service.importAreas(context, [{ code: 'Z', name: 'Z', kind: 'galaxy' }]), 'validation_failed', '/0/kind');
      await assertRejects(service.importAreas(context, [rows[3]!, rows[3]!]), 'validation_failed', '/1/code');
      assert.equal((await service.searchAreas({ limit: 50 })).items.length, 0);
    });
  });
});
