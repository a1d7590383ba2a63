import crypto from 'node:crypto';
import type { Db, Queryable, Tx } from '../../platform/database/database.js';
import { isUniqueViolation } from '../../platform/database/database-errors.js';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../platform/audit/audit.js';
import { listAuditForEntity, type AuditRecord } from '../../platform/audit/audit-queries.js';
import { applyMergePatch, assertVersion } from '../../platform/versioning.js';
import * as repository from './registry.repository.js';
import type { RegistrantRow, NewRegistrantRow } from './registry.repository.js';
import type {
  ChangeHeadInput, DeactivateInput, EndMembershipInput, GroupInput, GroupPatch, IndividualInput, IndividualPatch,
  InvalidateIdentifierInput, MemberInput, RelationshipInput,
} from './registry.schemas.js';
import {
  auditIdentifiers, auditSnapshot, groupView, individualView, membershipView, relationshipView,
  type GroupView, type IndividualView, type MembershipView, type RelationshipView, type ViewContext,
} from './registry.views.js';
import { buildDisplayName, checkBirthDate, checkCustomFields, individualColumns, normalizeForSearch, normalizePhones, sharedColumns } from './registrant-input.js';
import type { RegistrantKind } from './registry.tables.js';
import { RegistrySearch, type SearchCriteriaGuard, type SearchPage } from './registry.search.js';
import { RegistryBulkService } from './bulk/registry-bulk.service.js';
import type { RegistryEncryption } from './registry.encryption.js';
import { RegistryDisclosure } from './registry.disclosure.js';
import { RegistryCriteriaSearch } from './registry.criteria.js';
import {
  RegistryAccess, assertAreaAllowed, assertVisible, isVisible, readPermission, writePermission, type AllowedAreas,
} from './registry-access.js';

/** What the registry needs from the vocabularies module. */
export interface CodeLookup {
  assertCodes(checks: Array<{ vocabulary: string; code: string; path: string }>): Promise<void>;
  findIdType(codeOrSystem: string): Promise<{ code: string; system: string; pattern?: string; isActive?: boolean } | undefined>;
  listIdTypes(): Promise<Array<{ code: string; system: string; pattern?: string; isActive?: boolean }>>;
}

/** What the registry needs from the areas module. */
export interface AreaLookup {
  findAreaByCode(code: string): Promise<{ id: number; code: string; isActive?: boolean } | undefined>;
  subtreeAreaIds(code: string): Promise<number[] | undefined>;
  codesByIds(ids: number[]): Promise<Map<number, string>>;
}

export interface RegistryOptions {
  /** ISO 3166-1 alpha-2 region for phone numbers written without a country code. */
  defaultPhoneRegion?: string;
  /** Conditions on what an actor may search by (the consent module's, for consent-based clients). */
  searchCriteriaGuard?: SearchCriteriaGuard;
}

const HOUSEHOLD = 'household';
const HEAD = 'head';
const today = () => new Date().toISOString().slice(0, 10);

/**
 * The registry of individuals and groups: the rules for creating, reading, changing and
 * deactivating registrants, their identifiers, memberships and relationships. Every write runs in
 * one transaction with its audit record; methods accept an outer transaction (`tx`) so a bundle
 * can make several of them all-or-nothing.
 */
export class RegistryService {
  readonly search: RegistrySearch;
  /** Many records at once (imports, seeding): same rules, a few statements per batch. */
  readonly bulk: RegistryBulkService;
  /** Area scoping: which registrants an actor may reach (see registry-access.ts). */
  readonly access: RegistryAccess;
  /** What an actor may see of the views returned (masking per `pii:reveal`, reveal audit): for the routes. */
  readonly disclosure: RegistryDisclosure;
  /** Structured criteria search for machine partners (DCI): see registry.criteria.ts. */
  readonly criteria: RegistryCriteriaSearch;

  constructor(
    private readonly db: Db,
    private readonly codes: CodeLookup,
    private readonly areas: AreaLookup,
    /** Encryption at rest of the restricted fields; used by the repository layer only. */
    private readonly encryption: RegistryEncryption,
    private readonly options: RegistryOptions = {},
  ) {
    this.bulk = new RegistryBulkService(db, codes, areas, encryption, options);
    this.access = new RegistryAccess(areas);
    this.search = new RegistrySearch(db, codes, areas, (rows) => this.viewContext(db, rows), this.access, { encryption, defaultPhoneRegion: options.defaultPhoneRegion, criteriaGuard: options.searchCriteriaGuard });
    this.disclosure = new RegistryDisclosure(db, areas);
    this.criteria = new RegistryCriteriaSearch(db, codes, areas, (rows) => this.viewContext(db, rows), this.access, encryption);
  }

  // ---- individuals -------------------------------------------------------------------------

  async createIndividual(context: RequestContext, input: IndividualInput, tx?: Tx): Promise<IndividualView> {
    const allowed = await this.access.allowedAreaIds(context.actor, 'individual:write');
    const values = await this.individualValues(input);
    assertAreaAllowed(values.areaId ?? null, allowed);
    const uuid = crypto.randomUUID();
    return this.inTransaction(tx, async (db) => {
      const row = await repository.insertRegistrant(db, { ...values, uuid, kind: 'individual' }, this.encryption);
      await this.addIdentifiers(db, row.id, input.identifiers ?? [], '/identifiers');
      const view = await this.getIndividualView(db, row);
      await recordAudit(db, context, { action: 'create', entityType: 'individual', entityId: uuid, after: { ...auditSnapshot(view, this.encryption), identifiers: auditIdentifiers(view.identifiers, this.encryption) } });
      return view;
    });
  }

  /** 404 outside the reader's areas; groups and relatives outside them are left out of the lists. */
  getIndividual(context: RequestContext, ref: string): Promise<IndividualView>;
  async getIndividual(context: RequestContext, ref: string): Promise<IndividualView> {
    const allowed = await this.access.allowedAreaIds(context.actor, 'individual:read');
    const row = await this.resolve(this.db, ref, 'individual', undefined, allowed);
    const view = await this.getIndividualView(this.db, row);
    view.memberships = (await repository.listMembershipsOfIndividual(this.db, row.id))
      .filter((membership) => isVisible({ areaId: membership.groupAreaId }, allowed)).map(membershipView);
    view.relationships = (await repository.listRelationshipsOf(this.db, row.id))
      .filter((relationship) => isVisible({ areaId: relationship.targetAreaId }, allowed)).map(relationshipView);
    return view;
  }

  async updateIndividual(context: RequestContext, ref: string, patch: IndividualPatch, expectedVersion: number, tx?: Tx): Promise<IndividualView> {
    const allowed = await this.access.allowedAreaIds(context.actor, 'individual:write');
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, 'individual', undefined, allowed);
      assertVersion(expectedVersion, row.version, 'This individual');
      const before = await this.getIndividualView(db, row);
      const merged = applyMergePatch(this.individualInputOf(before), patch) as IndividualInput;
      if (!merged.name || !buildDisplayName(merged.name)) throw AppError.validation('An individual needs a name', [{ path: '/name', message: 'must keep at least one name part' }]);
      const values = await this.individualValues(merged);
      assertAreaAllowed(values.areaId ?? null, allowed);
      const updated = await repository.updateRegistrantDetails(db, row, expectedVersion, values, this.encryption);
      if (!updated) throw new AppError('precondition_failed', 'This individual was changed by someone else meanwhile; read it again');
      const after = await this.getIndividualView(db, updated);
      await recordAudit(db, context, { action: 'update', entityType: 'individual', entityId: row.uuid, before: auditSnapshot(before, this.encryption), after: auditSnapshot(after, this.encryption) });
      return after;
    });
  }

  // ---- groups ------------------------------------------------------------------------------

  async createGroup(context: RequestContext, input: GroupInput, tx?: Tx): Promise<GroupView> {
    const members = input.members ?? [];
    await this.codes.assertCodes([
      { vocabulary: 'group-type', code: input.groupType, path: '/groupType' },
      ...members.map((member, index) => ({ vocabulary: 'membership-role', code: member.role, path: `/members/${index}/role` })),
    ]);
    const allowed = await this.access.allowedAreaIds(context.actor, 'group:write');
    const values = await this.sharedValues(input, 'group');
    assertAreaAllowed(values.areaId, allowed);
    const uuid = crypto.randomUUID();
    if (input.groupType === HOUSEHOLD && members.length > 0) {
      const heads = members.filter((member) => member.role === HEAD).length;
      if (heads !== 1) throw new AppError('business_rule_violated', `A household has exactly one head; ${heads} given`, [{ path: '/members', message: 'must have exactly one member with role "head"' }]);
    }
    return this.inTransaction(tx, async (db) => {
      const row = await repository.insertRegistrant(db, {
        ...values, uuid, kind: 'group', groupType: input.groupType, displayName: input.name.trim(), nameSearch: normalizeForSearch(input.name),
      }, this.encryption);
      await this.addIdentifiers(db, row.id, input.identifiers ?? [], '/identifiers');
      // The head goes in first, so "a household's first member is its head" holds whatever the order given.
      const headFirst = [...members.entries()].sort(([, a], [, b]) => Number(b.role === HEAD) - Number(a.role === HEAD));
      for (const [index, member] of headFirst) await this.insertMember(db, context, row, member, `/members/${index}`);
      // The audit record keeps every member; the answer shows the actor only the members it may see.
      const view = await this.getGroupView(db, row);
      await recordAudit(db, context, { action: 'create', entityType: 'group', entityId: uuid, after: { ...auditSnapshot(view, this.encryption), identifiers: auditIdentifiers(view.identifiers, this.encryption), members: view.members } });
      return allowed ? this.getGroupView(db, row, allowed) : view;
    });
  }

  /** 404 outside the reader's areas; members outside them are left out (`size` stays the true size). */
  getGroup(context: RequestContext, ref: string): Promise<GroupView>;
  async getGroup(context: RequestContext, ref: string): Promise<GroupView> {
    const allowed = await this.access.allowedAreaIds(context.actor, 'group:read');
    return this.getGroupView(this.db, await this.resolve(this.db, ref, 'group', undefined, allowed), allowed);
  }

  async updateGroup(context: RequestContext, ref: string, patch: GroupPatch, expectedVersion: number, tx?: Tx): Promise<GroupView> {
    const allowed = await this.access.allowedAreaIds(context.actor, 'group:write');
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, 'group', undefined, allowed);
      assertVersion(expectedVersion, row.version, 'This group');
      const before = await this.getGroupView(db, row);
      const merged = applyMergePatch(this.sharedInputOf(before), patch) as GroupInput;
      const values = await this.sharedValues(merged, 'group');
      assertAreaAllowed(values.areaId, allowed);
      const name = patch.name ?? row.displayName;
      const updated = await repository.updateRegistrantDetails(db, row, expectedVersion, { ...values, displayName: name.trim(), nameSearch: normalizeForSearch(name) }, this.encryption);
      if (!updated) throw new AppError('precondition_failed', 'This group was changed by someone else meanwhile; read it again');
      const after = await this.getGroupView(db, updated);
      await recordAudit(db, context, { action: 'update', entityType: 'group', entityId: row.uuid, before: auditSnapshot(before, this.encryption), after: auditSnapshot(after, this.encryption) });
      return allowed ? this.getGroupView(db, updated, allowed) : after;
    });
  }

  // ---- memberships -------------------------------------------------------------------------

  async addMember(context: RequestContext, groupRef: string, input: MemberInput, tx?: Tx): Promise<GroupView> {
    const allowed = await this.access.allowedAreaIds(context.actor, 'group:write');
    return this.inTransaction(tx, async (db) => {
      const group = await this.lockedGroup(db, groupRef, allowed);
      await this.insertMember(db, context, group, input, '');
      return this.touchGroup(db, group, allowed);
    });
  }

  async endMember(context: RequestContext, groupRef: string, individualRef: string, input: EndMembershipInput, tx?: Tx): Promise<GroupView> {
    const allowed = await this.access.allowedAreaIds(context.actor, 'group:write');
    const people = await this.access.allowedAreaIds(context.actor, 'individual:read');
    return this.inTransaction(tx, async (db) => {
      const group = await this.lockedGroup(db, groupRef, allowed);
      const individual = await this.resolve(db, individualRef, 'individual', undefined, people);
      const active = await repository.listMembershipsOfGroup(db, group.id, false);
      const membership = active.find((m) => m.individualId === individual.id);
      if (!membership) throw AppError.notFound('An active membership of this individual in this group');
      if (group.groupType === HOUSEHOLD && membership.role === HEAD && active.length > 1) {
        throw new AppError('business_rule_violated', 'The head cannot leave a household that has other members; change the head first');
      }
      const endDate = input.endDate ?? today();
      if (endDate < membership.startDate) throw AppError.validation('The end date is before the membership started', [{ path: '/endDate', message: `must be on or after ${membership.startDate}` }]);
      await repository.endMembershipRow(db, membership.id, endDate, input.reason);
      await recordAudit(db, context, { action: 'end', entityType: 'membership', entityId: membership.uuid, before: { isActive: true, endDate: null }, after: { isActive: false, endDate, endReason: input.reason, group: group.uuid, individual: individual.uuid } });
      return this.touchGroup(db, group, allowed);
    });
  }

  async changeHead(context: RequestContext, groupRef: string, input: ChangeHeadInput, tx?: Tx): Promise<GroupView> {
    const formerHeadRole = input.formerHeadRole ?? 'other';
    await this.codes.assertCodes([{ vocabulary: 'membership-role', code: formerHeadRole, path: '/formerHeadRole' }]);
    if (formerHeadRole === HEAD) throw AppError.validation('The former head needs another role', [{ path: '/formerHeadRole', message: 'must not be "head"' }]);
    const allowed = await this.access.allowedAreaIds(context.actor, 'group:write');
    const people = await this.access.allowedAreaIds(context.actor, 'individual:read');
    return this.inTransaction(tx, async (db) => {
      const group = await this.lockedGroup(db, groupRef, allowed);
      const individual = await this.resolve(db, input.individual, 'individual', '/individual', people);
      const active = await repository.listMembershipsOfGroup(db, group.id, false);
      const next = active.find((m) => m.individualId === individual.id);
      if (!next) throw new AppError('business_rule_violated', 'The new head must be an active member of the group; add them first', [{ path: '/individual', message: 'is not a member of this group' }]);
      if (next.role === HEAD) throw new AppError('conflict', 'This individual is already the head');
      const current = active.find((m) => m.role === HEAD);
      if (current) await repository.setMembershipRole(db, current.id, formerHeadRole);
      await repository.setMembershipRole(db, next.id, HEAD);
      await recordAudit(db, context, { action: 'change-head', entityType: 'group', entityId: group.uuid, before: { head: current?.individualUuid ?? null }, after: { head: individual.uuid, formerHeadRole } });
      return this.touchGroup(db, group, allowed);
    });
  }

  /** 404 outside the reader's areas; members outside them are left out. */
  listMembers(context: RequestContext, groupRef: string, includeEnded: boolean): Promise<MembershipView[]>;
  async listMembers(context: RequestContext, groupRef: string, includeEnded: boolean): Promise<MembershipView[]> {
    const allowed = await this.access.allowedAreaIds(context.actor, 'group:read');
    const group = await this.resolve(this.db, groupRef, 'group', undefined, allowed);
    return (await repository.listMembershipsOfGroup(this.db, group.id, includeEnded))
      .filter((member) => isVisible({ areaId: member.individualAreaId }, allowed)).map(membershipView);
  }

  // ---- identifiers, relationships, deactivation, history -------------------------------------

  async addIdentifier(context: RequestContext, kind: RegistrantKind, ref: string, input: { type: string; value: string; issuedOn?: string; expiresOn?: string }, tx?: Tx) {
    const allowed = await this.access.allowedAreaIds(context.actor, writePermission(kind));
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, kind, undefined, allowed);
      await this.addIdentifiers(db, row.id, [input], '');
      const bumped = await this.bumpVersion(db, row);
      await recordAudit(db, context, { action: 'add-identifier', entityType: kind, entityId: row.uuid, after: { type: input.type, value: this.encryption.identifier((await this.codes.findIdType(input.type))?.code ?? input.type, input.value) } });
      return kind === 'individual' ? this.getIndividualView(db, bumped) : this.getGroupView(db, bumped, allowed);
    });
  }

  async invalidateIdentifier(context: RequestContext, kind: RegistrantKind, ref: string, input: InvalidateIdentifierInput, tx?: Tx) {
    const allowed = await this.access.allowedAreaIds(context.actor, writePermission(kind));
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, kind, undefined, allowed);
      const idType = await this.requireIdType(input.type, '/type');
      const identifier = await repository.findLiveIdentifier(db, idType.code, input.value, this.encryption);
      if (!identifier || identifier.registrantId !== row.id) throw AppError.notFound(`A valid identifier ${idType.code}|${input.value} of this registrant`);
      await repository.invalidateIdentifierRow(db, identifier.id, input.reason);
      const bumped = await this.bumpVersion(db, row);
      await recordAudit(db, context, { action: 'invalidate-identifier', entityType: kind, entityId: row.uuid, before: { type: idType.code, value: this.encryption.identifier(idType.code, input.value), isValid: true }, after: { isValid: false, reason: input.reason } });
      return kind === 'individual' ? this.getIndividualView(db, bumped) : this.getGroupView(db, bumped, allowed);
    });
  }

  async addRelationship(context: RequestContext, ref: string, input: RelationshipInput, tx?: Tx): Promise<RelationshipView> {
    await this.codes.assertCodes([{ vocabulary: 'relationship', code: input.type, path: '/type' }]);
    const allowed = await this.access.allowedAreaIds(context.actor, 'individual:write');
    const people = await this.access.allowedAreaIds(context.actor, 'individual:read');
    return this.inTransaction(tx, async (db) => {
      const source = await this.resolve(db, ref, 'individual', undefined, allowed);
      const target = await this.resolve(db, input.target, 'individual', '/target', people);
      if (source.id === target.id) throw AppError.validation('An individual cannot be related to themselves', [{ path: '/target', message: 'must be another individual' }]);
      const row = await repository.insertRelationship(db, { uuid: crypto.randomUUID(), sourceId: source.id, targetId: target.id, relationship: input.type, startDate: input.startDate ?? null });
      await recordAudit(db, context, { action: 'add-relationship', entityType: 'individual', entityId: source.uuid, after: { relationship: row.uuid, type: input.type, target: target.uuid } });
      return relationshipView({ ...row, targetUuid: target.uuid });
    });
  }

  /** Deactivation keeps the record (no hard delete); an individual's memberships end with it. */
  async deactivate(context: RequestContext, kind: RegistrantKind, ref: string, input: DeactivateInput, tx?: Tx): Promise<IndividualView | GroupView> {
    const allowed = await this.access.allowedAreaIds(context.actor, writePermission(kind));
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, kind, undefined, allowed);
      if (!row.isActive) throw new AppError('conflict', `This ${kind} is already deactivated`);
      const date = input.date ?? today();
      if (kind === 'individual') {
        for (const membership of await repository.listMembershipsOfIndividual(db, row.id)) {
          if (!membership.isActive) continue;
          const group = await repository.lockRegistrant(db, membership.groupId);
          const members = await repository.listMembershipsOfGroup(db, membership.groupId, false);
          if (group?.groupType === HOUSEHOLD && membership.role === HEAD && members.length > 1) {
            // The household may lie outside the actor's areas: then it is not named.
            const household = isVisible({ areaId: membership.groupAreaId }, allowed) ? `household ${membership.groupUuid}` : 'a household';
            throw new AppError('business_rule_violated', `This individual heads ${household}, which has other members; change its head first`);
          }
          await repository.endMembershipRow(db, membership.id, date < membership.startDate ? membership.startDate : date, `individual deactivated: ${input.reason}`);
        }
      }
      const updated = await repository.updateRegistrant(db, row.id, row.version, { isActive: false, deactivationReason: input.reason, deactivatedAt: new Date(`${date}T00:00:00Z`) });
      if (!updated) throw new AppError('precondition_failed', 'The record changed meanwhile; retry');
      await recordAudit(db, context, { action: 'deactivate', entityType: kind, entityId: row.uuid, before: { isActive: true }, after: { isActive: false, reason: input.reason, date } });
      return kind === 'individual' ? this.getIndividualView(db, updated) : this.getGroupView(db, updated, allowed);
    });
  }

  async reactivate(context: RequestContext, kind: RegistrantKind, ref: string, tx?: Tx): Promise<IndividualView | GroupView> {
    const allowed = await this.access.allowedAreaIds(context.actor, writePermission(kind));
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, kind, undefined, allowed);
      if (row.isActive) throw new AppError('conflict', `This ${kind} is already active`);
      const updated = await repository.updateRegistrant(db, row.id, row.version, { isActive: true, deactivationReason: null, deactivatedAt: null });
      if (!updated) throw new AppError('precondition_failed', 'The record changed meanwhile; retry');
      await recordAudit(db, context, { action: 'reactivate', entityType: kind, entityId: row.uuid, before: { isActive: false, reason: row.deactivationReason }, after: { isActive: true } });
      return kind === 'individual' ? this.getIndividualView(db, updated) : this.getGroupView(db, updated, allowed);
    });
  }

  async history(context: RequestContext, kind: RegistrantKind, ref: string): Promise<AuditRecord[]> {
    const allowed = await this.access.allowedAreaIds(context.actor, readPermission(kind));
    const row = await this.resolve(this.db, ref, kind, undefined, allowed);
    return listAuditForEntity(this.db, kind, row.uuid);
  }

  /** Only matches inside the reader's areas, in the items and in `total`. */
  searchIndividuals(context: RequestContext, query: Record<string, unknown>, baseUrl: string): Promise<SearchPage<IndividualView>>;
  searchIndividuals(context: RequestContext, query: Record<string, unknown>, baseUrl: string): Promise<SearchPage<IndividualView>> {
    return this.search.run(context.actor, 'individual', query, baseUrl) as Promise<SearchPage<IndividualView>>;
  }

  /** Only matches inside the reader's areas, in the items and in `total`. */
  searchGroups(context: RequestContext, query: Record<string, unknown>, baseUrl: string): Promise<SearchPage<GroupView>>;
  searchGroups(context: RequestContext, query: Record<string, unknown>, baseUrl: string): Promise<SearchPage<GroupView>> {
    return this.search.run(context.actor, 'group', query, baseUrl) as Promise<SearchPage<GroupView>>;
  }

  // ---- internals ---------------------------------------------------------------------------

  private inTransaction<T>(tx: Tx | undefined, work: (db: Tx) => Promise<T>): Promise<T> {
    return tx ? work(tx) : this.db.transaction(work);
  }

  /**
   * A registrant by UUID or `idtype|value`; 404 when there is none of this kind, or when it lies
   * outside `allowed` (the caller's areas for the permission at hand; undefined = everywhere):
   * the same answer, so existence does not leak. With `path` (a reference in a body) a 400 instead.
   */
  async resolve(db: Queryable, ref: string, kind: RegistrantKind, path?: string, allowed?: AllowedAreas): Promise<RegistrantRow> {
    const label = kind === 'individual' ? 'Individual' : 'Group';
    const separator = ref.indexOf('|');
    let row: RegistrantRow | undefined;
    if (separator > 0) {
      const idType = await this.codes.findIdType(ref.slice(0, separator));
      if (!idType) throw AppError.validation(`Unknown identifier type "${ref.slice(0, separator)}"`, [{ path: path ?? 'params:/ref', message: 'must be idtype|value with a known id type' }]);
      row = await repository.findRegistrantByIdentifier(db, idType.code, ref.slice(separator + 1), kind, this.encryption);
    } else if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)) {
      row = await repository.findRegistrantByUuid(db, ref.toLowerCase(), kind);
    } else {
      throw AppError.validation(`"${ref}" is neither a UUID nor idtype|value`, [{ path: path ?? 'params:/ref', message: 'must be a UUID or idtype|value' }]);
    }
    return assertVisible(row, allowed, () => (path
      ? AppError.validation(`${label} ${ref} does not exist`, [{ path, message: `must refer to an existing ${kind}` }])
      : AppError.notFound(`${label} ${ref}`)));
  }

  private async lockedGroup(db: Tx, ref: string, allowed: AllowedAreas): Promise<RegistrantRow> {
    const found = await this.resolve(db, ref, 'group', undefined, allowed);
    const group = (await repository.lockRegistrant(db, found.id))!;
    if (!group.isActive) throw new AppError('business_rule_violated', 'The group is deactivated; reactivate it to change its members');
    return group;
  }

  private async insertMember(db: Tx, context: RequestContext, group: RegistrantRow, input: MemberInput, basePath: string): Promise<void> {
    await this.codes.assertCodes([{ vocabulary: 'membership-role', code: input.role, path: `${basePath}/role` }]);
    // A member must be someone the actor can see: outside its areas they "do not exist" (400).
    const people = await this.access.allowedAreaIds(context.actor, 'individual:read');
    const individual = await this.resolve(db, input.individual, 'individual', `${basePath}/individual`, people);
    if (!individual.isActive) throw new AppError('business_rule_violated', 'A deactivated individual cannot join a group', [{ path: `${basePath}/individual`, message: 'is deactivated' }]);
    const active = await repository.listMembershipsOfGroup(db, group.id, false);
    if (active.some((m) => m.individualId === individual.id)) {
      throw new AppError('conflict', 'This individual is already an active member of the group', [{ path: `${basePath}/individual`, message: 'is already a member' }]);
    }
    if (group.groupType === HOUSEHOLD) {
      const hasHead = active.some((m) => m.role === HEAD);
      if (input.role === HEAD && hasHead) throw new AppError('business_rule_violated', 'The household already has a head; use $change-head to replace it', [{ path: `${basePath}/role`, message: 'a second head is not allowed' }]);
      if (input.role !== HEAD && !hasHead) {
        throw new AppError('business_rule_violated', 'A household\'s first member must be its head', [{ path: `${basePath}/role`, message: 'must be "head" for the first member' }]);
      }
    }
    const startDate = input.startDate ?? today();
    const membership = await repository.insertMembership(db, { uuid: crypto.randomUUID(), groupId: group.id, individualId: individual.id, role: input.role, startDate })
      .catch((error: unknown) => {
        if (isUniqueViolation(error)) throw new AppError('conflict', 'The membership conflicts with a concurrent change; retry');
        throw error;
      });
    await recordAudit(db, context, { action: 'add', entityType: 'membership', entityId: membership.uuid, after: { group: group.uuid, individual: individual.uuid, role: input.role, startDate } });
  }

  private async touchGroup(db: Tx, group: RegistrantRow, allowed: AllowedAreas): Promise<GroupView> {
    return this.getGroupView(db, await this.bumpVersion(db, group), allowed);
  }

  private async bumpVersion(db: Tx, row: RegistrantRow): Promise<RegistrantRow> {
    const updated = await repository.updateRegistrant(db, row.id, row.version, {});
    if (!updated) throw new AppError('precondition_failed', 'The record changed meanwhile; retry');
    return updated;
  }

  private async requireIdType(type: string, path: string, options: { forNewIdentifier?: boolean } = {}) {
    const idType = await this.codes.findIdType(type);
    if (!idType) throw AppError.validation(`Unknown identifier type "${type}"`, [{ path, message: 'must be an id-type code or namespace URI' }]);
    if (idType.isActive === false && options.forNewIdentifier) throw AppError.validation(`The identifier type "${idType.code}" is no longer in use`, [{ path, message: 'is deactivated; new identifiers of this type are not accepted' }]);
    return idType;
  }

  private async addIdentifiers(db: Tx, registrantId: number, inputs: Array<{ type: string; value: string; issuedOn?: string; expiresOn?: string }>, basePath: string): Promise<void> {
    const problems: FieldProblem[] = [];
    const rows: Array<{ registrantId: number; idType: string; value: string; issuedOn: string | null; expiresOn: string | null }> = [];
    for (const [index, input] of inputs.entries()) {
      const path = basePath === '' ? '' : `${basePath}/${index}`;
      const idType = await this.requireIdType(input.type, `${path}/type`, { forNewIdentifier: true });
      if (idType.pattern && !new RegExp(idType.pattern).test(input.value)) {
        problems.push({ path: `${path}/value`, message: `does not match the ${idType.code} format ${idType.pattern}` });
      }
      if (rows.some((row) => row.idType === idType.code && row.value === input.value) || (await repository.findLiveIdentifier(db, idType.code, input.value, this.encryption))) {
        throw new AppError('duplicate_identifier', `The identifier ${idType.code}|${input.value} already belongs to a registrant`, [{ path: `${path}/value`, message: 'is already in use' }]);
      }
      rows.push({ registrantId, idType: idType.code, value: input.value, issuedOn: input.issuedOn ?? null, expiresOn: input.expiresOn ?? null });
    }
    if (problems.length > 0) throw AppError.validation('An identifier is not valid', problems);
    await repository.insertIdentifiers(db, rows, this.encryption).catch((error: unknown) => {
      if (isUniqueViolation(error, 'identifiers_live_uq')) throw new AppError('duplicate_identifier', 'An identifier was registered concurrently by another request');
      throw error;
    });
  }

  private async individualValues(input: IndividualInput): Promise<Omit<NewRegistrantRow, 'uuid' | 'kind'>> {
    const displayName = buildDisplayName(input.name);
    if (!displayName) throw AppError.validation('An individual needs a name', [{ path: '/name', message: 'must have a given, family or display name' }]);
    checkBirthDate(input.birthDate, '/birthDate');
    const checks = [
      ...(input.gender ? [{ vocabulary: 'gender', code: input.gender, path: '/gender' }] : []),
      ...(input.civilStatus ? [{ vocabulary: 'civil-status', code: input.civilStatus, path: '/civilStatus' }] : []),
      ...(input.disability?.types ?? []).map((code, index) => ({ vocabulary: 'disability-type', code, path: `/disability/types/${index}` })),
    ];
    if (checks.length > 0) await this.codes.assertCodes(checks);
    const shared = await this.sharedValues(input, 'individual');
    return individualColumns(input, { areaId: shared.areaId, phones: shared.phones });
  }

  private async sharedValues(input: Pick<IndividualInput, 'area' | 'addresses' | 'phones' | 'email' | 'income' | 'custom' | 'sourceSystem'>, kind: RegistrantKind) {
    let areaId: number | null = null;
    if (input.area) {
      const area = await this.areas.findAreaByCode(input.area);
      if (!area) throw AppError.validation(`Unknown area "${input.area}"`, [{ path: '/area', message: 'must be the code of an existing area' }]);
      if (area.isActive === false) throw AppError.validation(`The area "${input.area}" is deactivated`, [{ path: '/area', message: 'must be an active area' }]);
      areaId = area.id;
    }
    checkCustomFields(input.custom ?? {}, await repository.listCustomFieldDefinitions(this.db, kind));
    return sharedColumns(input, { areaId, phones: normalizePhones(input.phones ?? [], this.options.defaultPhoneRegion, '/phones') });
  }

  /** The writable fields of a view, as an input document, so a merge patch can be applied to it. */
  private individualInputOf(view: IndividualView): Record<string, unknown> {
    const name = Object.fromEntries(Object.entries({ given: view.name.given, family: view.name.family, additional: view.name.additional }).filter(([, v]) => v));
    return {
      ...this.sharedInputOf(view),
      name,
      ...(view.birthDate ? { birthDate: view.birthDate } : {}),
      ...(view.gender ? { gender: view.gender } : {}),
      ...(view.civilStatus ? { civilStatus: view.civilStatus } : {}),
      ...(view.disability ? { disability: view.disability } : {}),
    };
  }

  private sharedInputOf(view: IndividualView | GroupView): Record<string, unknown> {
    return {
      ...(view.area ? { area: view.area } : {}),
      addresses: view.addresses,
      phones: view.phones,
      ...(view.email ? { email: view.email } : {}),
      ...(view.income ? { income: view.income } : {}),
      custom: view.custom,
      ...(view.sourceSystem ? { sourceSystem: view.sourceSystem } : {}),
    };
  }

  async viewContext(db: Queryable, rows: RegistrantRow[]): Promise<ViewContext> {
    const areaIds = [...new Set(rows.map((row) => row.areaId).filter((id): id is number => id !== null))];
    const identifierRows = await repository.listIdentifiersOf(db, rows.map((row) => row.id), this.encryption);
    const identifiersByRegistrant = new Map<number, typeof identifierRows>();
    for (const identifier of identifierRows) {
      const list = identifiersByRegistrant.get(identifier.registrantId) ?? [];
      list.push(identifier);
      identifiersByRegistrant.set(identifier.registrantId, list);
    }
    const idTypes = identifierRows.length > 0 ? await this.codes.listIdTypes() : [];
    return {
      areaCodes: areaIds.length > 0 ? await this.areas.codesByIds(areaIds) : new Map(),
      identifiersByRegistrant,
      idTypeSystems: new Map(idTypes.map((idType) => [idType.code, idType.system])),
      contacts: await repository.contactsOf(rows, this.encryption),
    };
  }

  private async getIndividualView(db: Queryable, row: RegistrantRow): Promise<IndividualView> {
    return individualView(row, await this.viewContext(db, [row]));
  }

  /**
   * The group as an actor limited to `allowed` sees it: members outside those areas are left out
   * (the head too: then `head` is null), while `size` stays the true size, which benefits depend
   * on and which names no one. Without `allowed`, every member (e.g. for the audit record).
   */
  private async getGroupView(db: Queryable, row: RegistrantRow, allowed?: AllowedAreas): Promise<GroupView> {
    const members = await repository.listMembershipsOfGroup(db, row.id, false);
    const visible = members.filter((m) => isVisible({ areaId: m.individualAreaId }, allowed));
    const view = groupView(row, await this.viewContext(db, [row]), {
      size: members.length,
      head: visible.find((m) => m.role === HEAD)?.individualUuid ?? null,
    });
    view.members = visible.map(membershipView);
    return view;
  }
}
