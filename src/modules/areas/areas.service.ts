import type { Db, Queryable } from '../../platform/database/database.js';
import { isUniqueViolation } from '../../platform/database/database-errors.js';
import { AppError } from '../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../platform/audit/audit.js';
import { assertVersion } from '../../platform/versioning.js';
import {
  findAreaRowByCode, findAreaRowsByCodes, findAreaRowsByIds, findCodesByIds, findSubtreeIds, hasActiveChildren,
  insertAreas, lockAreaMoves, lockAreaRowByCode, moveSubtree, reserveAreaIds, searchAreaRows, updateAreaRow,
  type AreaRow, type NewAreaRow,
} from './areas.repository.js';

export const AREA_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const AREA_KIND_VOCABULARY = 'area-kind';
const NAME_MAX_LENGTH = 200;
const IMPORT_CHUNK_SIZE = 500;

/** The slice of the vocabulary service this module needs; optional so areas work on their own. */
export interface CodeChecker {
  assertCodes(checks: Array<{ vocabulary: string; code: string; path: string }>): Promise<void>;
}

/** What other services get: internal id and path included, for their own queries only. */
export interface AreaReference {
  id: number;
  code: string;
  name: string;
  kind: string;
  path: string;
  isActive: boolean;
}

/** An area as the API shows it: codes only, never database ids. */
export interface AreaView {
  code: string;
  name: string;
  kind: string;
  parentCode: string | null;
  depth: number;
  isActive: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface AreaDetail extends AreaView {
  /** From the root down to the parent, for breadcrumbs. */
  ancestors: Array<{ code: string; name: string; kind: string }>;
}

export interface NewArea {
  code: string;
  name: string;
  kind: string;
  parentCode?: string | null;
}

/** Fields left out stay as they are; `parentCode: null` makes the area a root. */
export interface AreaChanges {
  name?: string;
  kind?: string;
  parentCode?: string | null;
}

export interface AreaSearch {
  /** Direct children of this area. */
  parentCode?: string;
  /** Every descendant of this area (not the area itself). */
  ancestorCode?: string;
  kind?: string;
  nameContains?: string;
  code?: string;
  isActive?: boolean;
  /** Paging: areas are ordered by code; continue after this one. */
  afterCode?: string;
  limit: number;
}

/** Administrative areas: a tree kept as materialised paths, changed only with an audit entry. */
export class AreaService {
  constructor(private readonly db: Db, private readonly codes?: CodeChecker) {}

  async findAreaByCode(code: string): Promise<AreaReference | undefined> {
    const row = await findAreaRowByCode(this.db, code);
    return row && { id: row.id, code: row.code, name: row.name, kind: row.kind, path: row.path, isActive: row.deactivatedAt === null };
  }

  /** Ids of the area and all its descendants (active or not); undefined for an unknown code. */
  async subtreeAreaIds(code: string): Promise<number[] | undefined> {
    const row = await findAreaRowByCode(this.db, code);
    return row ? findSubtreeIds(this.db, row.path) : undefined;
  }

  async codesByIds(ids: number[]): Promise<Map<number, string>> {
    const rows = await findCodesByIds(this.db, [...new Set(ids)]);
    return new Map(rows.map((row) => [row.id, row.code]));
  }

  async getArea(code: string): Promise<AreaDetail> {
    const row = await findAreaRowByCode(this.db, code);
    if (!row) throw AppError.notFound(`Area ${code}`);
    return this.toDetail(this.db, row);
  }

  async searchAreas(search: AreaSearch): Promise<{ items: AreaView[]; nextAfterCode?: string }> {
    const [parent, ancestor] = await Promise.all([
      search.parentCode === undefined ? undefined : findAreaRowByCode(this.db, search.parentCode),
      search.ancestorCode === undefined ? undefined : findAreaRowByCode(this.db, search.ancestorCode),
    ]);
    // An unknown parent or ancestor has no descendants: the search simply finds nothing.
    if ((search.parentCode !== undefined && !parent) || (search.ancestorCode !== undefined && !ancestor)) return { items: [] };
    const rows = await searchAreaRows(this.db, {
      parentId: parent?.id,
      descendantsOfPath: ancestor?.path,
      kind: search.kind,
      nameContains: search.nameContains,
      code: search.code,
      isActive: search.isActive,
      afterCode: search.afterCode,
      limit: search.limit + 1,
    });
    const page = rows.slice(0, search.limit);
    const parentCodes = await this.codesByIds(page.flatMap((row) => (row.parentId === null ? [] : [row.parentId])));
    const items = page.map((row) => toView(row, row.parentId === null ? null : parentCodes.get(row.parentId) ?? null));
    return rows.length > search.limit ? { items, nextAfterCode: page.at(-1)!.code } : { items };
  }

  async createArea(context: RequestContext, input: NewArea): Promise<AreaDetail> {
    const area = normaliseNewArea(input);
    await this.assertKinds([{ kind: area.kind, path: '/kind' }]);
    if (await findAreaRowByCode(this.db, area.code)) throw duplicateCode(area.code);
    return this.inTransaction(async (tx) => {
      const parent = area.parentCode ? await lockActiveParent(tx, area.parentCode, '/parentCode') : undefined;
      const [id] = await reserveAreaIds(tx, 1);
      const [row] = await insertAreas(tx, [{ id: id!, code: area.code, name: area.name, kind: area.kind, parentId: parent?.id ?? null, ...placeUnder(parent, id!) }]);
      const created = await this.toDetail(tx, row!);
      await recordAudit(tx, context, { action: 'create', entityType: 'area', entityId: created.code, after: auditSnapshot(created) });
      return created;
    });
  }

  async updateArea(context: RequestContext, code: string, expectedVersion: number, changes: AreaChanges): Promise<AreaDetail> {
    const name = changes.name === undefined ? undefined : normaliseName(changes.name, '/name');
    if (changes.kind !== undefined) {
      assertKindFormat(changes.kind, '/kind');
      await this.assertKinds([{ kind: changes.kind, path: '/kind' }]);
    }
    return this.inTransaction(async (tx) => {
      if (changes.parentCode !== undefined) await lockAreaMoves(tx);
      const current = await lockAreaRowByCode(tx, code, 'update');
      if (!current) throw AppError.notFound(`Area ${code}`);
      assertVersion(expectedVersion, current.version, `Area ${code}`);
      const before = await this.toDetail(tx, current);
      const parentId = changes.parentCode === undefined || changes.parentCode === before.parentCode
        ? current.parentId
        : await this.moveArea(tx, current, changes.parentCode);
      const values = { name: name ?? current.name, kind: changes.kind ?? current.kind, parentId };
      if (values.name === current.name && values.kind === current.kind && values.parentId === current.parentId) return before;
      const updated = await this.toDetail(tx, await updateAreaRow(tx, current.id, { ...values, version: current.version + 1 }));
      await recordAudit(tx, context, { action: 'update', entityType: 'area', entityId: code, before: auditSnapshot(before), after: auditSnapshot(updated) });
      return updated;
    });
  }

  /** Areas are never deleted (registrants and history refer to them); they are deactivated. */
  async deactivateArea(context: RequestContext, code: string, input: { reason: string; expectedVersion?: number }): Promise<AreaDetail> {
    const reason = input.reason.trim();
    if (!reason) throw AppError.validation('Say why the area is deactivated', [{ path: '/reason', message: 'is required' }]);
    return this.inTransaction(async (tx) => {
      const current = await lockAreaRowByCode(tx, code, 'update');
      if (!current) throw AppError.notFound(`Area ${code}`);
      if (input.expectedVersion !== undefined) assertVersion(input.expectedVersion, current.version, `Area ${code}`);
      if (current.deactivatedAt) throw new AppError('conflict', `Area ${code} is already deactivated`);
      if (await hasActiveChildren(tx, current.id)) {
        throw new AppError('business_rule_violated', `Area ${code} still has active child areas; deactivate or move them first`);
      }
      const before = await this.toDetail(tx, current);
      const updated = await this.toDetail(tx, await updateAreaRow(tx, current.id, { deactivatedAt: new Date(), version: current.version + 1 }));
      await recordAudit(tx, context, {
        action: 'deactivate', entityType: 'area', entityId: code,
        before: auditSnapshot(before), after: { ...auditSnapshot(updated), deactivationReason: reason },
      });
      return updated;
    });
  }

  /**
   * Bulk load for seed and demo data, in one transaction. Rows may come in any order (parents are
   * placed before their children) and may refer to areas already stored; codes already stored are
   * left untouched, so running the same import twice creates nothing the second time.
   */
  async importAreas(context: RequestContext, rows: NewArea[]): Promise<{ created: number; existing: number }> {
    const inputs = rows.map((row, index) => normaliseNewArea(row, `/${index}`));
    assertUniqueCodes(inputs);
    const firstIndexOfKind = new Map<string, number>();
    inputs.forEach((input, index) => { if (!firstIndexOfKind.has(input.kind)) firstIndexOfKind.set(input.kind, index); });
    await this.assertKinds([...firstIndexOfKind].map(([kind, index]) => ({ kind, path: `/${index}/kind` })));
    return this.inTransaction(async (tx) => {
      const referenced = [...new Set(inputs.flatMap((input) => (input.parentCode ? [input.code, input.parentCode] : [input.code])))];
      const stored = new Map((await findAreaRowsByCodes(tx, referenced)).map((row) => [row.code, row]));
      const pending = inputs.map((input, index) => ({ input, index })).filter(({ input }) => !stored.has(input.code));
      const ordered = orderParentsFirst(pending, stored);
      const ids = await reserveAreaIds(tx, ordered.length);
      const placed = new Map<string, Pick<AreaRow, 'id' | 'path' | 'depth' | 'deactivatedAt'>>(stored);
      const values: NewAreaRow[] = ordered.map(({ input }, position) => {
        const id = ids[position]!;
        const parent = input.parentCode ? placed.get(input.parentCode) : undefined;
        const value = { id, code: input.code, name: input.name, kind: input.kind, parentId: parent?.id ?? null, ...placeUnder(parent, id) };
        placed.set(input.code, { ...value, deactivatedAt: null });
        return value;
      });
      for (let start = 0; start < values.length; start += IMPORT_CHUNK_SIZE) await insertAreas(tx, values.slice(start, start + IMPORT_CHUNK_SIZE));
      for (const { input } of ordered) {
        await recordAudit(tx, context, { action: 'import', entityType: 'area', entityId: input.code, after: { ...input, parentCode: input.parentCode ?? null } });
      }
      return { created: values.length, existing: inputs.length - values.length };
    });
  }

  /** Re-roots the area's subtree under its new parent (or as a root); returns the new parent id. */
  private async moveArea(tx: Queryable, area: AreaRow, parentCode: string | null): Promise<number | null> {
    const parent = parentCode === null ? undefined : await lockActiveParent(tx, parentCode, '/parentCode');
    if (parent && parent.path.startsWith(area.path)) {
      throw new AppError('business_rule_violated', `Area ${area.code} cannot move under ${parent.code}, which is ${parent.id === area.id ? 'itself' : 'one of its own descendants'}`);
    }
    await moveSubtree(tx, area, placeUnder(parent, area.id));
    return parent?.id ?? null;
  }

  private async assertKinds(checks: Array<{ kind: string; path: string }>): Promise<void> {
    if (!this.codes || checks.length === 0) return;
    await this.codes.assertCodes(checks.map(({ kind, path }) => ({ vocabulary: AREA_KIND_VOCABULARY, code: kind, path })));
  }

  private async toDetail(db: Queryable, row: AreaRow): Promise<AreaDetail> {
    const ancestors = await findAreaRowsByIds(db, ancestorIdsOf(row.path));
    return {
      ...toView(row, ancestors.at(-1)?.code ?? null),
      ancestors: ancestors.map((ancestor) => ({ code: ancestor.code, name: ancestor.name, kind: ancestor.kind })),
    };
  }

  /** A duplicate code that slipped past the early check (a concurrent create) is still a 409. */
  private async inTransaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(work);
    } catch (error) {
      if (isUniqueViolation(error, 'areas_code_unique')) throw new AppError('duplicate_identifier', 'An area with this code already exists');
      throw error;
    }
  }
}

function toView(row: AreaRow, parentCode: string | null): AreaView {
  return {
    code: row.code,
    name: row.name,
    kind: row.kind,
    parentCode,
    depth: row.depth,
    isActive: row.deactivatedAt === null,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function auditSnapshot(area: AreaView): Record<string, unknown> {
  return { code: area.code, name: area.name, kind: area.kind, parentCode: area.parentCode, depth: area.depth, isActive: area.isActive };
}

/** Path and depth of an area with this id under this parent; roots are at depth 0 (admin level 0). */
function placeUnder(parent: { path: string; depth: number } | undefined, id: number): { path: string; depth: number } {
  return parent ? { path: `${parent.path}${id}/`, depth: parent.depth + 1 } : { path: `/${id}/`, depth: 0 };
}

function ancestorIdsOf(path: string): number[] {
  return path.split('/').filter(Boolean).slice(0, -1).map(Number);
}

async function lockActiveParent(tx: Queryable, parentCode: string, fieldPath: string): Promise<AreaRow> {
  const parent = await lockAreaRowByCode(tx, parentCode, 'share');
  if (!parent) throw AppError.validation(`Parent area ${parentCode} does not exist`, [{ path: fieldPath, message: 'is not a known area' }]);
  if (parent.deactivatedAt) throw AppError.validation(`Parent area ${parentCode} is deactivated`, [{ path: fieldPath, message: 'is a deactivated area' }]);
  return parent;
}

/** Rows whose parent is stored or placed earlier come first; rows whose parent never appears are refused. */
function orderParentsFirst<T extends { input: NewArea; index: number }>(pending: T[], stored: Map<string, AreaRow>): T[] {
  const placedCodes = new Set<string>();
  const ordered: T[] = [];
  let remaining = pending;
  while (remaining.length > 0) {
    const next: T[] = [];
    for (const item of remaining) {
      const parentCode = item.input.parentCode;
      const storedParent = parentCode ? stored.get(parentCode) : undefined;
      if (storedParent?.deactivatedAt) {
        throw AppError.validation(`Parent area ${parentCode} is deactivated`, [{ path: `/${item.index}/parentCode`, message: 'is a deactivated area' }]);
      }
      if (!parentCode || storedParent || placedCodes.has(parentCode)) {
        ordered.push(item);
        placedCodes.add(item.input.code);
      } else {
        next.push(item);
      }
    }
    if (next.length === remaining.length) throw unplaceableRows(next);
    remaining = next;
  }
  return ordered;
}

/** Names the root cause: parents missing altogether, or else (all parents present) a cycle. */
function unplaceableRows(rows: Array<{ input: NewArea; index: number }>): AppError {
  const codesInRows = new Set(rows.map((row) => row.input.code));
  const missingParent = rows.filter((row) => !codesInRows.has(row.input.parentCode!));
  return missingParent.length > 0
    ? AppError.validation('Some areas refer to parents that are neither stored nor in the import', missingParent.map((row) => ({ path: `/${row.index}/parentCode`, message: 'is not a known area' })))
    : AppError.validation('Some areas are their own ancestors', rows.map((row) => ({ path: `/${row.index}/parentCode`, message: 'forms a cycle' })));
}

function assertUniqueCodes(inputs: NewArea[]): void {
  const seen = new Set<string>();
  inputs.forEach((input, index) => {
    if (seen.has(input.code)) throw AppError.validation(`Area code ${input.code} appears twice in the import`, [{ path: `/${index}/code`, message: 'is repeated' }]);
    seen.add(input.code);
  });
}

/** The HTTP schema checks these too; services are also called by imports and other modules. */
function normaliseNewArea(input: NewArea, pointer = ''): NewArea {
  if (!AREA_CODE_PATTERN.test(input.code)) {
    throw AppError.validation(`Area code ${JSON.stringify(input.code)} is not valid`, [{ path: `${pointer}/code`, message: `must match ${AREA_CODE_PATTERN.source}` }]);
  }
  assertKindFormat(input.kind, `${pointer}/kind`);
  if (input.parentCode !== undefined && input.parentCode !== null && !AREA_CODE_PATTERN.test(input.parentCode)) {
    throw AppError.validation(`Parent code ${JSON.stringify(input.parentCode)} is not valid`, [{ path: `${pointer}/parentCode`, message: 'is not a known area' }]);
  }
  return { code: input.code, name: normaliseName(input.name, `${pointer}/name`), kind: input.kind, parentCode: input.parentCode ?? null };
}

function normaliseName(name: string, path: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > NAME_MAX_LENGTH) {
    throw AppError.validation(`An area name must be 1 to ${NAME_MAX_LENGTH} characters`, [{ path, message: `must be 1 to ${NAME_MAX_LENGTH} characters` }]);
  }
  return trimmed;
}

function assertKindFormat(kind: string, path: string): void {
  if (!AREA_CODE_PATTERN.test(kind)) throw AppError.validation(`Area kind ${JSON.stringify(kind)} is not valid`, [{ path, message: 'is not a code' }]);
}

function duplicateCode(code: string): AppError {
  return new AppError('duplicate_identifier', `An area with code ${code} already exists`);
}
