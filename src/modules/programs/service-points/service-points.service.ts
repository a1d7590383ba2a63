import crypto from 'node:crypto';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { recordAudit, type RequestContext } from '../../../platform/audit/audit.js';
import type { Db, Queryable } from '../../../platform/database/database.js';
import { AppError } from '../../../platform/errors.js';
import { assertVersion } from '../../../platform/versioning.js';
import { areas } from '../../areas/areas.tables.js';
import { decodeCursor, iso, pageOf, UUID, type Page } from '../programs.common.js';
import type { ProductInput, ServicePointInput, ServicePointPatch, ServicePointSearchQuery, StockInput } from '../programs.schemas.js';
import { products, servicePoints, servicePointStock } from '../programs.tables.js';

type ServicePointRow = typeof servicePoints.$inferSelect;
type ProductRow = typeof products.$inferSelect;

export interface ServicePointView {
  resourceType: 'ServicePoint';
  id: string;
  code: string;
  name: string;
  type: string;
  area: string | null;
  isActive: boolean;
  stock: Array<{ product: string; onHand: string; committed: string; available: string }>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** What programs need to resolve their in-kind items. */
export interface CatalogueLookup {
  findProduct(db: Queryable, code: string): Promise<ProductRow | undefined>;
  findServicePoint(db: Queryable, code: string): Promise<ServicePointRow | undefined>;
}

export interface AreaLookup { findAreaByCode(code: string): Promise<{ id: number; code: string } | undefined> }

/** Service points (where people collect goods or cash), products and the stock held at each point. */
export class ServicePointService implements CatalogueLookup {
  constructor(private readonly db: Db, private readonly areaLookup: AreaLookup) {}

  async findProduct(db: Queryable, code: string): Promise<ProductRow | undefined> {
    const [row] = await db.select().from(products).where(eq(products.code, code));
    return row;
  }

  async findServicePoint(db: Queryable, ref: string): Promise<ServicePointRow | undefined> {
    const [row] = await db.select().from(servicePoints).where(UUID.test(ref) ? eq(servicePoints.uuid, ref) : eq(servicePoints.code, ref));
    return row;
  }

  async createProduct(context: RequestContext, input: ProductInput) {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.insert(products).values({ uuid: crypto.randomUUID(), ...input }).onConflictDoNothing({ target: products.code }).returning();
      if (!row) throw new AppError('duplicate_identifier', `A product with code ${input.code} already exists`, [{ path: '/code', message: 'is already used' }]);
      await recordAudit(tx, context, { action: 'create', entityType: 'product', entityId: row.code, after: input });
      return productView(row);
    });
  }

  async listProducts() {
    return (await this.db.select().from(products).orderBy(asc(products.code))).map(productView);
  }

  async create(context: RequestContext, input: ServicePointInput): Promise<ServicePointView> {
    const areaId = input.area === undefined ? null : await this.areaId(input.area, '/area');
    return this.db.transaction(async (tx) => {
      const [row] = await tx.insert(servicePoints).values({ uuid: crypto.randomUUID(), code: input.code, name: input.name, type: input.type, areaId })
        .onConflictDoNothing({ target: servicePoints.code }).returning();
      if (!row) throw new AppError('duplicate_identifier', `A service point with code ${input.code} already exists`, [{ path: '/code', message: 'is already used' }]);
      const view = await this.view(tx, row);
      await recordAudit(tx, context, { action: 'create', entityType: 'service-point', entityId: row.uuid, after: { ...view, stock: undefined } });
      return view;
    });
  }

  async get(ref: string): Promise<ServicePointView> {
    return this.view(this.db, await this.getRow(this.db, ref));
  }

  async search(query: ServicePointSearchQuery): Promise<Page<ServicePointView>> {
    const areaId = query.area === undefined ? undefined : await this.areaId(query.area, 'query:/area');
    const rows = await this.db.select().from(servicePoints).where(and(
      gt(servicePoints.id, decodeCursor(query._cursor)),
      areaId !== undefined ? eq(servicePoints.areaId, areaId) : undefined,
      query.type !== undefined ? eq(servicePoints.type, query.type) : undefined,
    )).orderBy(asc(servicePoints.id)).limit(query._count + 1);
    const page = pageOf(rows, query._count, (row) => row);
    return { ...page, items: await Promise.all(page.items.map((row) => this.view(this.db, row))) };
  }

  async update(context: RequestContext, ref: string, expectedVersion: number, patch: ServicePointPatch): Promise<ServicePointView> {
    const areaId = patch.area === undefined ? undefined : patch.area === null ? null : await this.areaId(patch.area, '/area');
    return this.db.transaction(async (tx) => {
      const row = await this.getRow(tx, ref, true);
      assertVersion(expectedVersion, row.version, `Service point ${row.code}`);
      const before = await this.view(tx, row);
      const [updated] = await tx.update(servicePoints).set({
        ...(patch.name !== undefined ? { name: patch.name } : {}), ...(patch.type !== undefined ? { type: patch.type } : {}),
        ...(areaId !== undefined ? { areaId } : {}), ...(patch.isActive !== undefined ? { isActive: patch.isActive } : {}),
        version: sql`${servicePoints.version} + 1`, updatedAt: new Date(),
      }).where(eq(servicePoints.id, row.id)).returning();
      const after = await this.view(tx, updated!);
      await recordAudit(tx, context, { action: 'update', entityType: 'service-point', entityId: row.uuid, before: { ...before, stock: undefined }, after: { ...after, stock: undefined } });
      return after;
    });
  }

  /** Goods received at a service point: adds to what is on hand. */
  async receiveStock(context: RequestContext, ref: string, input: StockInput): Promise<ServicePointView> {
    return this.db.transaction(async (tx) => {
      const point = await this.getRow(tx, ref, true);
      const product = await this.findProduct(tx, input.product);
      if (!product) throw AppError.validation(`Unknown product ${input.product}`, [{ path: '/product', message: 'is not a product code' }]);
      if (Number(input.quantity) === 0) throw AppError.validation('quantity must be more than zero', [{ path: '/quantity', message: 'must be more than zero' }]);
      await tx.insert(servicePointStock).values({ servicePointId: point.id, productId: product.id, onHand: input.quantity })
        .onConflictDoUpdate({ target: [servicePointStock.servicePointId, servicePointStock.productId], set: { onHand: sql`${servicePointStock.onHand} + ${input.quantity}::numeric`, updatedAt: new Date() } });
      await recordAudit(tx, context, { action: 'receive-stock', entityType: 'service-point', entityId: point.uuid, after: { product: product.code, quantity: input.quantity } });
      return this.view(tx, point);
    });
  }

  private async getRow(db: Queryable, ref: string, lock = false): Promise<ServicePointRow> {
    const query = db.select().from(servicePoints).where(UUID.test(ref) ? eq(servicePoints.uuid, ref) : eq(servicePoints.code, ref));
    const [row] = lock ? await query.for('update') : await query;
    if (!row) throw AppError.notFound(`Service point ${ref}`);
    return row;
  }

  private async areaId(code: string, path: string): Promise<number> {
    const area = await this.areaLookup.findAreaByCode(code);
    if (!area) throw AppError.validation(`Unknown area ${code}`, [{ path, message: 'is not an area code' }]);
    return area.id;
  }

  private async view(db: Queryable, row: ServicePointRow): Promise<ServicePointView> {
    const [area] = row.areaId === null ? [] : await db.select({ code: areas.code }).from(areas).where(eq(areas.id, row.areaId));
    const stock = await db.select({ product: products.code, onHand: servicePointStock.onHand, committed: servicePointStock.committed, available: sql<string>`(${servicePointStock.onHand} - ${servicePointStock.committed})::text` })
      .from(servicePointStock).innerJoin(products, eq(products.id, servicePointStock.productId))
      .where(eq(servicePointStock.servicePointId, row.id)).orderBy(asc(products.code));
    return {
      resourceType: 'ServicePoint', id: row.uuid, code: row.code, name: row.name, type: row.type, area: area?.code ?? null, isActive: row.isActive,
      stock: stock.map((item) => ({ product: item.product, onHand: item.onHand, committed: item.committed, available: item.available })),
      version: row.version, createdAt: iso(row.createdAt)!, updatedAt: iso(row.updatedAt)!,
    };
  }
}

function productView(row: ProductRow) {
  return { resourceType: 'Product' as const, id: row.uuid, code: row.code, name: row.name, unit: row.unit };
}
