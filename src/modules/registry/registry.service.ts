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
  auditSnapshot, groupView, individualView, membershipView, relationshipView,
  type GroupView, type IndividualView, type MembershipView, type RelationshipView, type ViewContext,
} from './registry.views.js';
import { buildDisplayName, checkBirthDate, checkCustomFields, individualColumns, normalizeForSearch, normalizePhones, sharedColumns } from './registrant-input.js';
import type { RegistrantKind } from './registry.tables.js';
import { RegistrySearch, type SearchPage } from './registry.search.js';
import { RegistryBulkService } from './bulk/registry-bulk.service.js';

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

  constructor(
    private readonly db: Db,
    private readonly codes: CodeLookup,
    private readonly areas: AreaLookup,
    private readonly options: RegistryOptions = {},
  ) {
    this.bulk = new RegistryBulkService(db, codes, areas, options);
    this.search = new RegistrySearch(db, codes, areas, (rows) => this.viewContext(db, rows));
  }

  // ---- individuals -------------------------------------------------------------------------

  async createIndividual(context: RequestContext, input: IndividualInput, tx?: Tx): Promise<IndividualView> {
    const values = await this.individualValues(input);
    const uuid = crypto.randomUUID();
    return this.inTransaction(tx, async (db) => {
      const row = await repository.insertRegistrant(db, { ...values, uuid, kind: 'individual' });
      await this.addIdentifiers(db, row.id, input.identifiers ?? [], '/identifiers');
      const view = await this.getIndividualView(db, row);
      await recordAudit(db, context, { action: 'create', entityType: 'individual', entityId: uuid, after: { ...auditSnapshot(view), identifiers: view.identifiers } });
      return view;
    });
  }

  async getIndividual(ref: string): Promise<IndividualView> {
    const row = await this.resolve(this.db, ref, 'individual');
    const view = await this.getIndividualView(this.db, row);
    view.memberships = (await repository.listMembershipsOfIndividual(this.db, row.id)).map(membershipView);
    view.relationships = (await repository.listRelationshipsOf(this.db, row.id)).map(relationshipView);
    return view;
  }

  async updateIndividual(context: RequestContext, ref: string, patch: IndividualPatch, expectedVersion: number, tx?: Tx): Promise<IndividualView> {
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, 'individual');
      assertVersion(expectedVersion, row.version, 'This individual');
      const before = await this.getIndividualView(db, row);
      const merged = applyMergePatch(this.individualInputOf(before), patch) as IndividualInput;
      if (!merged.name || !buildDisplayName(merged.name)) throw AppError.validation('An individual needs a name', [{ path: '/name', message: 'must keep at least one name part' }]);
      const values = await this.individualValues(merged);
      const updated = await repository.updateRegistrant(db, row.id, expectedVersion, values);
      if (!updated) throw new AppError('precondition_failed', 'This individual was changed by someone else meanwhile; read it again');
      const after = await this.getIndividualView(db, updated);
      await recordAudit(db, context, { action: 'update', entityType: 'individual', entityId: row.uuid, before: auditSnapshot(before), after: auditSnapshot(after) });
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
    const values = await this.sharedValues(input, 'group');
    const uuid = crypto.randomUUID();
    if (input.groupType === HOUSEHOLD && members.length > 0) {
      const heads = members.filter((member) => member.role === HEAD).length;
      if (heads !== 1) throw new AppError('business_rule_violated', `A household has exactly one head; ${heads} given`, [{ path: '/members', message: 'must have exactly one member with role "head"' }]);
    }
    return this.inTransaction(tx, async (db) => {
      const row = await repository.insertRegistrant(db, {
        ...values, uuid, kind: 'group', groupType: input.groupType, displayName: input.name.trim(), nameSearch: normalizeForSearch(input.name),
      });
      await this.addIdentifiers(db, row.id, input.identifiers ?? [], '/identifiers');
      // The head goes in first, so "a household's first member is its head" holds whatever the order given.
      const headFirst = [...members.entries()].sort(([, a], [, b]) => Number(b.role === HEAD) - Number(a.role === HEAD));
      for (const [index, member] of headFirst) await this.insertMember(db, context, row, member, `/members/${index}`);
      const view = await this.getGroupView(db, row);
      await recordAudit(db, context, { action: 'create', entityType: 'group', entityId: uuid, after: { ...auditSnapshot(view), identifiers: view.identifiers, members: view.members } });
      return view;
    });
  }

  async getGroup(ref: string): Promise<GroupView> {
    return this.getGroupView(this.db, await this.resolve(this.db, ref, 'group'));
  }

  async updateGroup(context: RequestContext, ref: string, patch: GroupPatch, expectedVersion: number, tx?: Tx): Promise<GroupView> {
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, 'group');
      assertVersion(expectedVersion, row.version, 'This group');
      const before = await this.getGroupView(db, row);
      const merged = applyMergePatch(this.sharedInputOf(before), patch) as GroupInput;
      const values = await this.sharedValues(merged, 'group');
      const name = patch.name ?? row.displayName;
      const updated = await repository.updateRegistrant(db, row.id, expectedVersion, { ...values, displayName: name.trim(), nameSearch: normalizeForSearch(name) });
      if (!updated) throw new AppError('precondition_failed', 'This group was changed by someone else meanwhile; read it again');
      const after = await this.getGroupView(db, updated);
      await recordAudit(db, context, { action: 'update', entityType: 'group', entityId: row.uuid, before: auditSnapshot(before), after: auditSnapshot(after) });
      return after;
    });
  }

  // ---- memberships -------------------------------------------------------------------------

  async addMember(context: RequestContext, groupRef: string, input: MemberInput, tx?: Tx): Promise<GroupView> {
    return this.inTransaction(tx, async (db) => {
      const group = await this.lockedGroup(db, groupRef);
      await this.insertMember(db, context, group, input, '');
      return this.touchGroup(db, group);
    });
  }

  async endMember(context: RequestContext, groupRef: string, individualRef: string, input: EndMembershipInput, tx?: Tx): Promise<GroupView> {
    return this.inTransaction(tx, async (db) => {
      const group = await this.lockedGroup(db, groupRef);
      const individual = await this.resolve(db, individualRef, 'individual');
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
      return this.touchGroup(db, group);
    });
  }

  async changeHead(context: RequestContext, groupRef: string, input: ChangeHeadInput, tx?: Tx): Promise<GroupView> {
    const formerHeadRole = input.formerHeadRole ?? 'other';
    await this.codes.assertCodes([{ vocabulary: 'membership-role', code: formerHeadRole, path: '/formerHeadRole' }]);
    if (formerHeadRole === HEAD) throw AppError.validation('The former head needs another role', [{ path: '/formerHeadRole', message: 'must not be "head"' }]);
    return this.inTransaction(tx, async (db) => {
      const group = await this.lockedGroup(db, groupRef);
      const individual = await this.resolve(db, input.individual, 'individual', '/individual');
      const active = await repository.listMembershipsOfGroup(db, group.id, false);
      const next = active.find((m) => m.individualId === individual.id);
      if (!next) throw new AppError('business_rule_violated', 'The new head must be an active member of the group; add them first', [{ path: '/individual', message: 'is not a member of this group' }]);
      if (next.role === HEAD) throw new AppError('conflict', 'This individual is already the head');
      const current = active.find((m) => m.role === HEAD);
      if (current) await repository.setMembershipRole(db, current.id, formerHeadRole);
      await repository.setMembershipRole(db, next.id, HEAD);
      await recordAudit(db, context, { action: 'change-head', entityType: 'group', entityId: group.uuid, before: { head: current?.individualUuid ?? null }, after: { head: individual.uuid, formerHeadRole } });
      return this.touchGroup(db, group);
    });
  }

  async listMembers(groupRef: string, includeEnded: boolean): Promise<MembershipView[]> {
    const group = await this.resolve(this.db, groupRef, 'group');
    return (await repository.listMembershipsOfGroup(this.db, group.id, includeEnded)).map(membershipView);
  }

  // ---- identifiers, relationships, deactivation, history -------------------------------------

  async addIdentifier(context: RequestContext, kind: RegistrantKind, ref: string, input: { type: string; value: string; issuedOn?: string; expiresOn?: string }, tx?: Tx) {
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, kind);
      await this.addIdentifiers(db, row.id, [input], '');
      const bumped = await this.bumpVersion(db, row);
      await recordAudit(db, context, { action: 'add-identifier', entityType: kind, entityId: row.uuid, after: { type: input.type, value: input.value } });
      return kind === 'individual' ? this.getIndividualView(db, bumped) : this.getGroupView(db, bumped);
    });
  }

  async invalidateIdentifier(context: RequestContext, kind: RegistrantKind, ref: string, input: InvalidateIdentifierInput, tx?: Tx) {
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, kind);
      const idType = await this.requireIdType(input.type, '/type');
      const identifier = await repository.findLiveIdentifier(db, idType.code, input.value);
      if (!identifier || identifier.registrantId !== row.id) throw AppError.notFound(`A valid identifier ${idType.code}|${input.value} of this registrant`);
      await repository.invalidateIdentifierRow(db, identifier.id, input.reason);
      const bumped = await this.bumpVersion(db, row);
      await recordAudit(db, context, { action: 'invalidate-identifier', entityType: kind, entityId: row.uuid, before: { type: idType.code, value: input.value, isValid: true }, after: { isValid: false, reason: input.reason } });
      return kind === 'individual' ? this.getIndividualView(db, bumped) : this.getGroupView(db, bumped);
    });
  }

  async addRelationship(context: RequestContext, ref: string, input: RelationshipInput, tx?: Tx): Promise<RelationshipView> {
    await this.codes.assertCodes([{ vocabulary: 'relationship', code: input.type, path: '/type' }]);
    return this.inTransaction(tx, async (db) => {
      const source = await this.resolve(db, ref, 'individual');
      const target = await this.resolve(db, input.target, 'individual', '/target');
      if (source.id === target.id) throw AppError.validation('An individual cannot be related to themselves', [{ path: '/target', message: 'must be another individual' }]);
      const row = await repository.insertRelationship(db, { uuid: crypto.randomUUID(), sourceId: source.id, targetId: target.id, relationship: input.type, startDate: input.startDate ?? null });
      await recordAudit(db, context, { action: 'add-relationship', entityType: 'individual', entityId: source.uuid, after: { relationship: row.uuid, type: input.type, target: target.uuid } });
      return relationshipView({ ...row, targetUuid: target.uuid });
    });
  }

  /** Deactivation keeps the record (no hard delete); an individual's memberships end with it. */
  async deactivate(context: RequestContext, kind: RegistrantKind, ref: string, input: DeactivateInput, tx?: Tx): Promise<IndividualView | GroupView> {
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, kind);
      if (!row.isActive) throw new AppError('conflict', `This ${kind} is already deactivated`);
      const date = input.date ?? today();
      if (kind === 'individual') {
        for (const membership of await repository.listMembershipsOfIndividual(db, row.id)) {
          if (!membership.isActive) continue;
          const group = await repository.lockRegistrant(db, membership.groupId);
          const members = await repository.listMembershipsOfGroup(db, membership.groupId, false);
          if (group?.groupType === HOUSEHOLD && membership.role === HEAD && members.length > 1) {
            throw new AppError('business_rule_violated', `This individual heads household ${membership.groupUuid}, which has other members; change its head first`);
          }
          await repository.endMembershipRow(db, membership.id, date < membership.startDate ? membership.startDate : date, `individual deactivated: ${input.reason}`);
        }
      }
      const updated = await repository.updateRegistrant(db, row.id, row.version, { isActive: false, deactivationReason: input.reason, deactivatedAt: new Date(`${date}T00:00:00Z`) });
      if (!updated) throw new AppError('precondition_failed', 'The record changed meanwhile; retry');
      await recordAudit(db, context, { action: 'deactivate', entityType: kind, entityId: row.uuid, before: { isActive: true }, after: { isActive: false, reason: input.reason, date } });
      return kind === 'individual' ? this.getIndividualView(db, updated) : this.getGroupView(db, updated);
    });
  }

  async reactivate(context: RequestContext, kind: RegistrantKind, ref: string, tx?: Tx): Promise<IndividualView | GroupView> {
    return this.inTransaction(tx, async (db) => {
      const row = await this.resolve(db, ref, kind);
      if (row.isActive) throw new AppError('conflict', `This ${kind} is already active`);
      const updated = await repository.updateRegistrant(db, row.id, row.version, { isActive: true, deactivationReason: null, deactivatedAt: null });
      if (!updated) throw new AppError('precondition_failed', 'The record changed meanwhile; retry');
      await recordAudit(db, context, { action: 'reactivate', entityType: kind, entityId: row.uuid, before: { isActive: false, reason: row.deactivationReason }, after: { isActive: true } });
      return kind === 'individual' ? this.getIndividualView(db, updated) : this.getGroupView(db, updated);
    });
  }

  async history(kind: RegistrantKind, ref: string): Promise<AuditRecord[]> {
    const row = await this.resolve(this.db, ref, kind);
    return listAuditForEntity(this.db, kind, row.uuid);
  }

  searchIndividuals(query: Record<string, unknown>, baseUrl: string): Promise<SearchPage<IndividualView>> {
    return this.search.run('individual', query, baseUrl) as Promise<SearchPage<IndividualView>>;
  }

  searchGroups(query: Record<string, unknown>, baseUrl: string): Promise<SearchPage<GroupView>> {
    return this.search.run('group', query, baseUrl) as Promise<SearchPage<GroupView>>;
  }

  // ---- internals ---------------------------------------------------------------------------

  private inTransaction<T>(tx: Tx | undefined, work: (db: Tx) => Promise<T>): Promise<T> {
    return tx ? work(tx) : this.db.transaction(work);
  }

  /** A registrant by UUID or `idtype|value`; 404 when there is none of this kind. */
  async resolve(db: Queryable, ref: string, kind: RegistrantKind, path?: string): Promise<RegistrantRow> {
    const label = kind === 'individual' ? 'Individual' : 'Group';
    const separator = ref.indexOf('|');
    let row: RegistrantRow | undefined;
    if (separator > 0) {
      const idType = await this.codes.findIdType(ref.slice(0, separator));
      if (!idType) throw AppError.validation(`Unknown identifier type "${ref.slice(0, separator)}"`, [{ path: path ?? 'path:ref', message: 'must be idtype|value with a known id type' }]);
      row = await repository.findRegistrantByIdentifier(db, idType.code, ref.slice(separator + 1), kind);
    } else if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)) {
      row = await repository.findRegistrantByUuid(db, ref.toLowerCase(), kind);
    } else {
      throw AppError.validation(`"${ref}" is neither a UUID nor idtype|value`, [{ path: path ?? 'path:ref', message: 'must be a UUID or idtype|value' }]);
    }
    if (!row) {
      if (path) throw AppError.validation(`${label} ${ref} does not exist`, [{ path, message: `must refer to an existing ${kind}` }]);
      throw AppError.notFound(`${label} ${ref}`);
    }
    return row;
  }

  private async lockedGroup(db: Tx, ref: string): Promise<RegistrantRow> {
    const found = await this.resolve(db, ref, 'group');
    const group = (await repository.lockRegistrant(db, found.id))!;
    if (!group.isActive) throw new AppError('business_rule_violated', 'The group is deactivated; reactivate it to change its members');
    return group;
  }

  private async insertMember(db: Tx, context: RequestContext, group: RegistrantRow, input: MemberInput, basePath: string): Promise<void> {
    await this.codes.assertCodes([{ vocabulary: 'membership-role', code: input.role, path: `${basePath}/role` }]);
    const individual = await this.resolve(db, input.individual, 'individual', `${basePath}/individual`);
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

  private async touchGroup(db: Tx, group: RegistrantRow): Promise<GroupView> {
    return this.getGroupView(db, await this.bumpVersion(db, group));
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
      if (rows.some((row) => row.idType === idType.code && row.value === input.value) || (await repository.findLiveIdentifier(db, idType.code, input.value))) {
        throw new AppError('duplicate_identifier', `The identifier ${idType.code}|${input.value} already belongs to a registrant`, [{ path: `${path}/value`, message: 'is already in use' }]);
      }
      rows.push({ registrantId, idType: idType.code, value: input.value, issuedOn: input.issuedOn ?? null, expiresOn: input.expiresOn ?? null });
    }
    if (problems.length > 0) throw AppError.validation('An identifier is not valid', problems);
    await repository.insertIdentifiers(db, rows).catch((error: unknown) => {
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
    const identifierRows = await repository.listIdentifiersOf(db, rows.map((row) => row.id));
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
    };
  }

  private async getIndividualView(db: Queryable, row: RegistrantRow): Promise<IndividualView> {
    return individualView(row, await this.viewContext(db, [row]));
  }

  private async getGroupView(db: Queryable, row: RegistrantRow): Promise<GroupView> {
    const members = await repository.listMembershipsOfGroup(db, row.id, false);
    const view = groupView(row, await this.viewContext(db, [row]), {
      size: members.length,
      head: members.find((m) => m.role === HEAD)?.individualUuid ?? null,
    });
    view.members = members.map(membershipView);
    return view;
  }
}
