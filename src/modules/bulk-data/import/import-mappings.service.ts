import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../../platform/database/database.js';
import { AppError } from '../../../platform/errors.js';
import { importMappings } from '../bulk-data.tables.js';
import type { CodeLookup } from '../../registry/registry.service.js';
import { checkMapping, type MappingDocument } from './import.mapping.js';

export const MAPPING_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface ImportMappingView {
  name: string;
  description: string | null;
  mapping: MappingDocument;
  version: number;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Saved, named mappings, so a ministry's monthly file is imported the same way every month. */
export class ImportMappingService {
  constructor(
    private readonly db: Db,
    private readonly codes: Pick<CodeLookup, 'listIdTypes'>,
  ) {}

  /** A mapping document checked against the field names and the identifier types in use (400 otherwise). */
  async check(document: unknown, basePath = ''): Promise<MappingDocument> {
    const idTypes = new Set((await this.codes.listIdTypes()).filter((idType) => idType.isActive !== false).map((idType) => idType.code));
    return checkMapping(document, idTypes, basePath);
  }

  async list(): Promise<ImportMappingView[]> {
    return (await this.db.select().from(importMappings).orderBy(asc(importMappings.name))).map(toView);
  }

  async get(name: string): Promise<ImportMappingView> {
    const [row] = MAPPING_NAME.test(name) ? await this.db.select().from(importMappings).where(eq(importMappings.name, name)) : [];
    if (!row) throw AppError.notFound(`Import mapping "${name}"`);
    return toView(row);
  }

  /** The mapping of that name for an import: an unknown name is the request's fault (400), not a missing resource. */
  async resolve(name: string): Promise<MappingDocument> {
    try {
      return (await this.get(name)).mapping;
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') throw AppError.validation(`There is no saved import mapping named "${name}"`, [{ path: '/mapping', message: 'is not a saved mapping' }]);
      throw error;
    }
  }

  async create(createdBy: string, input: { name: string; description?: string; mapping: unknown }): Promise<ImportMappingView> {
    checkName(input.name);
    const mapping = await this.check(input.mapping, '/mapping');
    const [row] = await this.db.insert(importMappings)
      .values({ name: input.name, description: input.description ?? null, mapping, createdBy })
      .onConflictDoNothing({ target: importMappings.name })
      .returning();
    if (!row) throw new AppError('conflict', `An import mapping named "${input.name}" already exists; change it with PUT /api/v2/ImportMapping/${input.name}`);
    return toView(row);
  }

  /** Creates or replaces the mapping of that name; `created` tells which. */
  async put(createdBy: string, name: string, input: { description?: string; mapping: unknown }): Promise<{ view: ImportMappingView; created: boolean }> {
    checkName(name);
    const mapping = await this.check(input.mapping, '/mapping');
    const [row] = await this.db.insert(importMappings)
      .values({ name, description: input.description ?? null, mapping, createdBy })
      .onConflictDoUpdate({
        target: importMappings.name,
        set: { description: input.description ?? null, mapping, version: sql`${importMappings.version} + 1`, updatedAt: sql`now()` },
      })
      .returning();
    return { view: toView(row!), created: row!.version === 1 };
  }
}

function checkName(name: string): void {
  if (!MAPPING_NAME.test(name)) throw AppError.validation('A mapping name is 1 to 100 letters, digits or ._- (starting with a letter or digit)', [{ path: '/name', message: 'is not a valid name' }]);
}

function toView(row: typeof importMappings.$inferSelect): ImportMappingView {
  return {
    name: row.name,
    description: row.description,
    mapping: row.mapping as MappingDocument,
    version: row.version,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
