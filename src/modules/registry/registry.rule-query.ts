import { and, asc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import type { Actor } from '../../platform/auth/access-tokens.js';
import type { Db } from '../../platform/database/database.js';
import { areaCondition, isVisible, readPermission } from './registry-access.js';
import { areas } from '../areas/areas.tables.js';
import { listIdentifiersOf, type RegistrantRow } from './registry.repository.js';
import type { RegistryEncryption } from './registry.encryption.js';
import type { RegistrantFacts } from './registry.rule-catalogue.js';
import type { RegistryService } from './registry.service.js';
import { memberships, registrants, type RegistrantKind } from './registry.tables.js';
import { groupView, individualView, type GroupView, type IndividualView } from './registry.views.js';

export interface RuleMatchPage {
  items: Array<IndividualView | GroupView>;
  /** Internal id of the last row, when more may follow (callers make it an opaque cursor). */
  lastId?: number;
}

/**
 * Runs a condition compiled by the rules module (rules.sql.ts, built from registry.rule-catalogue.ts)
 * over registrants of one kind, always within the actor's area scope for reading that kind: a
 * registrant outside it is neither counted, listed nor iterated. Views are the registry's own (the
 * routes then release them through consent filtering and masking like any search).
 */
export class RegistryRuleQuery {
  constructor(
    private readonly db: Db,
    private readonly registry: Pick<RegistryService, 'access' | 'viewContext'>,
    /** Only for `facts` (identifier values in clear, in memory). */
    private readonly encryption?: RegistryEncryption,
  ) {}

  /**
   * One registrant's data for in-memory evaluation (rules.evaluate.ts), with a group's active
   * members; undefined when it does not exist or lies outside the actor's areas.
   */
  async facts(actor: Actor, kind: RegistrantKind, uuid: string): Promise<RegistrantFacts | undefined> {
    const [row] = await this.db.select().from(registrants).where(and(eq(registrants.uuid, uuid), eq(registrants.kind, kind)));
    if (!row || !isVisible(row, await this.registry.access.allowedAreaIds(actor, readPermission(kind)))) return undefined;
    if (kind === 'individual') return (await this.factsOf([row]))[0];
    const members = await this.db.select({ member: registrants, role: memberships.role }).from(memberships)
      .innerJoin(registrants, eq(registrants.id, memberships.individualId))
      .where(and(eq(memberships.groupId, row.id), eq(memberships.isActive, true))).orderBy(asc(memberships.id));
    const [group, ...people] = await this.factsOf([row, ...members.map((m) => m.member)]);
    return { ...group!, members: people.map((person, index) => ({ ...person, role: members[index]!.role })) };
  }

  private async factsOf(rows: RegistrantRow[]): Promise<RegistrantFacts[]> {
    if (!this.encryption) throw new Error('RegistryRuleQuery needs the registry encryption to load facts');
    const areaRows = rows.some((row) => row.areaId !== null)
      ? await this.db.select({ id: areas.id, code: areas.code, path: areas.path }).from(areas)
        .where(inArray(areas.id, [...new Set(rows.flatMap((row) => (row.areaId === null ? [] : [row.areaId])))]))
      : [];
    const ancestorIds = [...new Set(areaRows.flatMap((area) => area.path.split('/').filter(Boolean).map(Number)))];
    const codeOf = new Map((ancestorIds.length > 0 ? await this.db.select({ id: areas.id, code: areas.code }).from(areas).where(inArray(areas.id, ancestorIds)) : []).map((a) => [a.id, a.code]));
    const pathOf = new Map(areaRows.map((area) => [area.id, area.path.split('/').filter(Boolean).map((id) => codeOf.get(Number(id))!).reverse()]));
    const identifierRows = (await listIdentifiersOf(this.db, rows.map((row) => row.id), this.encryption)).filter((identifier) => identifier.isValid);
    return rows.map((row) => ({
      birthDate: row.birthDate, gender: row.gender, civilStatus: row.civilStatus, groupType: row.groupType,
      areaCode: row.areaId === null ? null : (pathOf.get(row.areaId)?.[0] ?? null), areaPath: row.areaId === null ? [] : (pathOf.get(row.areaId) ?? []),
      hasDisability: row.hasDisability, disabilityTypes: row.disabilityTypes, income: row.monthlyIncome === null ? null : Number(row.monthlyIncome),
      incomeCurrency: row.incomeCurrency, isActive: row.isActive, registeredAt: row.createdAt.toISOString(), custom: row.custom,
      identifiers: identifierRows.filter((identifier) => identifier.registrantId === row.id).map((identifier) => ({ type: identifier.idType, value: identifier.value ?? '' })),
    }));
  }

  async count(actor: Actor, kind: RegistrantKind, condition: SQL): Promise<number> {
    const [row] = await this.db.select({ count: sql<number>`count(*)::int` }).from(registrants).where(await this.where(actor, kind, condition));
    return Number(row?.count ?? 0);
  }

  /** One page in internal-id order, after `afterId`. */
  async page(actor: Actor, kind: RegistrantKind, condition: SQL, size: number, afterId = 0): Promise<RuleMatchPage> {
    const rows = await this.db.select().from(registrants)
      .where(and(await this.where(actor, kind, condition), gt(registrants.id, afterId)))
      .orderBy(asc(registrants.id)).limit(size + 1);
    const pageRows = rows.slice(0, size);
    return { items: await this.views(actor, kind, pageRows), ...(rows.length > size ? { lastId: pageRows[pageRows.length - 1]!.id } : {}) };
  }

  /** Every match's UUID, in batches by keyset (for jobs: enrolment, exports). */
  async *uuidBatches(actor: Actor, kind: RegistrantKind, condition: SQL, batchSize = 1000): AsyncGenerator<string[]> {
    const where = await this.where(actor, kind, condition);
    for (let afterId = 0; ;) {
      const rows = await this.db.select({ id: registrants.id, uuid: registrants.uuid }).from(registrants)
        .where(and(where, gt(registrants.id, afterId))).orderBy(asc(registrants.id)).limit(batchSize);
      if (rows.length > 0) yield rows.map((row) => row.uuid);
      if (rows.length < batchSize) return;
      afterId = rows[rows.length - 1]!.id;
    }
  }

  /** The SQL text and parameters a count would run (for EXPLAIN in the benchmark). */
  async countQuery(actor: Actor, kind: RegistrantKind, condition: SQL) {
    return this.db.select({ count: sql<number>`count(*)::int` }).from(registrants).where(await this.where(actor, kind, condition)).toSQL();
  }

  private async where(actor: Actor, kind: RegistrantKind, condition: SQL): Promise<SQL> {
    return and(eq(registrants.kind, kind), areaCondition(await this.registry.access.allowedAreaIds(actor, readPermission(kind))), condition)!;
  }

  /** As the registry search shows results: `size` counts every member, `head` null outside the reader's areas. */
  private async views(actor: Actor, kind: RegistrantKind, rows: RegistrantRow[]): Promise<Array<IndividualView | GroupView>> {
    if (rows.length === 0) return [];
    const context = await this.registry.viewContext(this.db, rows);
    if (kind === 'individual') return rows.map((row) => individualView(row, context));
    const allowed = await this.registry.access.allowedAreaIds(actor, readPermission(kind));
    const memberRows = await this.db.select({ groupId: memberships.groupId, role: memberships.role, individualUuid: registrants.uuid, areaId: registrants.areaId })
      .from(memberships).innerJoin(registrants, eq(registrants.id, memberships.individualId))
      .where(and(inArray(memberships.groupId, rows.map((row) => row.id)), eq(memberships.isActive, true)));
    return rows.map((row) => {
      const members = memberRows.filter((member) => member.groupId === row.id);
      const head = members.find((member) => member.role === 'head');
      return groupView(row, context, { size: members.length, head: head && isVisible(head, allowed) ? head.individualUuid : null });
    });
  }
}
