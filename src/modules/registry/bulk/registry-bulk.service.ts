import crypto from 'node:crypto';
import type { Db, Tx } from '../../../platform/database/database.js';
import { recordAuditBulk, type AuditEntry, type RequestContext } from '../../../platform/audit/audit.js';
import { AppError } from '../../../platform/errors.js';
import type { IndividualInput } from '../registry.schemas.js';
import { listCustomFieldDefinitions } from '../registry.repository.js';
import type { AreaLookup, CodeLookup, RegistryOptions } from '../registry.service.js';
import { BulkValidator, type ValidPerson } from './bulk-validation.js';
import * as bulk from './bulk.repository.js';
import type { RegistryEncryption } from '../registry.encryption.js';
import { protectForAudit } from '../registry.views.js';
import { isVisible, type AllowedAreas } from '../registry-access.js';

/** One person of a bulk write; `key` (e.g. the file row number) comes back with every problem. */
export interface BulkPerson {
  key: number;
  /** An individual in the API's create shape; at least one identifier, by which it is matched. */
  individual: unknown;
  household?: BulkHouseholdLink;
}

export interface BulkHouseholdLink {
  /** The household's identifier (e.g. household-id): existing households are matched by it. */
  identifier: { type: string; value: string };
  role: string;
  /** For a new household: its name (default "Household of <head>") and area (default the head's). */
  name?: string;
  area?: string;
  groupType?: string;
  income?: { monthly: number; currency: string };
  addresses?: Array<Record<string, unknown>>;
  /** When the membership began (default today). */
  startDate?: string;
}

export interface BulkProblem { key: number; path: string; message: string }

/**
 * Where an area-limited writer may create or update (the actor's limits for individual:write and
 * group:write; undefined = everywhere). Rows outside are refused with OUTSIDE_YOUR_AREAS.
 */
export interface BulkAreaScope { individuals: AllowedAreas; households: AllowedAreas }
/** The one message for a row outside the writer's areas, whatever the reason: it names no record. */
export const OUTSIDE_YOUR_AREAS = 'area outside your scope: nothing was written for this row';

export interface BulkResult {
  created: number;
  updated: number;
  householdsCreated: number;
  membershipsCreated: number;
  relationshipsCreated: number;
  problems: BulkProblem[];
  /** Keys written (created or updated). */
  written: number[];
}

const HEAD = 'head';
const HOUSEHOLD = 'household';
const today = () => new Date().toISOString().slice(0, 10);

/**
 * Upserts many individuals (and their households) in one transaction with a handful of
 * statements, for imports and national-scale seeding. Rows are matched by identifier: a known
 * identifier updates its registrant, an unknown one creates a new one, so re-running the same
 * batch writes nothing twice. Invalid rows are reported and skipped; valid rows are written
 * together or not at all. The rules are those of the single-record API.
 */
export class RegistryBulkService {
  constructor(
    private readonly db: Db,
    private readonly codes: CodeLookup,
    private readonly areas: AreaLookup,
    /** Phones, addresses and identifier values are stored encrypted (by the bulk repository). */
    private readonly encryption: RegistryEncryption,
    private readonly options: RegistryOptions = {},
  ) {}

  /** Reference data for validation, loaded once and reused across the batches of one job. */
  async createValidator(): Promise<BulkValidator> {
    return BulkValidator.create(this.codes, this.areas, await listCustomFieldDefinitions(this.db, 'individual'), this.options.defaultPhoneRegion);
  }

  async upsertPeople(
    context: RequestContext,
    people: BulkPerson[],
    options: {
      validator?: BulkValidator;
      tx?: Tx;
      relationships?: Array<{ sourceKey: number; targetKey: number; type: string }>;
      /**
       * 'per-record' (default): one audit entry per record written, as for API writes.
       * 'per-batch': one entry for the whole batch naming what it created and updated, for
       * generated data (seeding), where per-record entries would double the database's work.
       */
      audit?: 'per-record' | 'per-batch';
      /** An area-limited writer: rows placing or matching a registrant outside these areas are refused. */
      areaScope?: BulkAreaScope;
    } = {},
  ): Promise<BulkResult> {
    const validator = options.validator ?? (await this.createValidator());
    await validator.prefetch(people.map((person) => person.individual as IndividualInput), people.map((person) => person.household?.area ?? '').filter(Boolean));
    const problems: BulkProblem[] = [];
    const valid = new Map<number, { person: BulkPerson; values: ValidPerson }>();
    for (const person of people) {
      const outcome = validator.validate(person.individual);
      if ('problems' in outcome) problems.push(...outcome.problems.map((problem) => ({ key: person.key, ...problem })));
      else if (outcome.person.identifiers.length === 0) problems.push({ key: person.key, path: '/identifiers', message: 'at least one identifier is needed to match the record' });
      else valid.set(person.key, { person, values: outcome.person });
    }
    await this.checkHouseholdLinks(valid, problems);
    const drop = (key: number, path: string, message: string) => { problems.push({ key, path, message }); valid.delete(key); };
    const scope = options.areaScope;
    if (scope) {
      for (const [key, { values }] of [...valid]) if (!isVisible({ areaId: values.values.areaId ?? null }, scope.individuals)) drop(key, '/area', OUTSIDE_YOUR_AREAS);
    }

    // Two rows of one batch claiming the same identifier: the later one is refused.
    const claimedBy = new Map<string, number>();
    for (const [key, { values }] of valid) {
      for (const identifier of values.identifiers) {
        const id = `${identifier.idType}|${identifier.value}`;
        const earlier = claimedBy.get(id);
        if (earlier !== undefined && earlier !== key) drop(key, '/identifiers', `${id} is also given for row ${earlier}`);
        else claimedBy.set(id, key);
      }
    }

    const write = async (tx: Tx): Promise<BulkResult> => {
      const existing = await bulk.findLiveIdentifiersBulk(tx, [...valid.values()].flatMap(({ values }) => values.identifiers), this.encryption);
      const ownerOf = new Map(existing.map((row) => [`${row.idType}|${row.value}`, row]));
      const existingIdOf = new Map<number, number>();
      for (const [key, { values }] of [...valid]) {
        const owners = new Set(values.identifiers.map((identifier) => ownerOf.get(`${identifier.idType}|${identifier.value}`)).filter((owner) => owner !== undefined));
        if ([...owners].some((owner) => owner.kind !== 'individual')) drop(key, '/identifiers', 'an identifier belongs to a group, not an individual');
        else if (new Set([...owners].map((owner) => owner.registrantId)).size > 1) drop(key, '/identifiers', 'the identifiers belong to different registrants');
        else if (owners.size === 1) existingIdOf.set(key, [...owners][0]!.registrantId);
      }
      if (scope) await this.refuseOutsideScope(tx, scope.individuals, valid, existingIdOf, drop);
      const households = await this.resolveHouseholds(tx, valid, existingIdOf, drop);
      if (scope) await this.refuseHouseholdsOutsideScope(tx, scope.households, valid, households, drop);

      const audit: AuditEntry[] = [];
      const registrantIdOf = new Map<number, number>();
      // New individuals.
      const inserts = [...valid].filter(([key]) => !existingIdOf.has(key)).map(([key, { values }]) => ({ key, uuid: crypto.randomUUID(), values }));
      const insertedIds = await bulk.insertRegistrantsBulk(tx, inserts.map(({ uuid, values }) => ({ ...values.values, uuid, kind: 'individual' as const, groupType: null })) as bulk.RegistrantInsert[], this.encryption);
      const perBatch = options.audit === 'per-batch';
      for (const { key, uuid, values } of inserts) {
        registrantIdOf.set(key, insertedIds.get(uuid)!);
        // The audit log gets digests of phones, addresses and identifier values, never the values.
        // A batch entry names the records only, so their snapshots are not built for it.
        audit.push({ action: 'create', entityType: 'individual', entityId: uuid, after: perBatch ? null : protectForAudit({ ...snapshot(values.values), identifiers: values.identifiers.map((i) => `${i.idType}|${i.value}`) }, this.encryption) });
      }
      // Existing individuals: overwrite with the row's values, audit what changed.
      const updates = [...valid].filter(([key]) => existingIdOf.has(key));
      const before = new Map((await bulk.findRegistrantRowsBulk(tx, updates.map(([key]) => existingIdOf.get(key)!), this.encryption)).map((row) => [row.id, row]));
      const changedRows: Array<Parameters<typeof bulk.updateRegistrantsBulk>[1][number]> = [];
      for (const [key, { values }] of updates) {
        const id = existingIdOf.get(key)!;
        registrantIdOf.set(key, id);
        const current = before.get(id)!;
        const next = snapshot(values.values);
        const previous = snapshot(current as unknown as ValidPerson['values']);
        if (JSON.stringify(previous) === JSON.stringify(next)) continue;
        changedRows.push({ ...(values.values as Omit<bulk.RegistrantInsert, 'uuid' | 'kind' | 'groupType'>), id, uuid: current.uuid });
        audit.push({ action: 'update', entityType: 'individual', entityId: current.uuid, before: protectForAudit(previous, this.encryption), after: protectForAudit(next, this.encryption) });
      }
      await bulk.updateRegistrantsBulk(tx, changedRows, this.encryption);
      // Identifiers not yet on record.
      const newIdentifiers = [...valid].flatMap(([key, { values }]) => values.identifiers
        .filter((identifier) => !ownerOf.has(`${identifier.idType}|${identifier.value}`))
        .map((identifier) => ({ ...identifier, registrantId: registrantIdOf.get(key)! })));
      await bulk.insertIdentifiersBulk(tx, newIdentifiers, this.encryption);

      const householdCounts = await this.writeHouseholds(tx, valid, households, registrantIdOf, audit);
      const relationshipsCreated = await this.writeRelationships(tx, options.relationships ?? [], registrantIdOf, audit);
      const entries = options.audit === 'per-batch' ? [batchAuditEntry(audit)] : await this.withAreaCodes(audit);
      await recordAuditBulk(tx, context, entries);
      return {
        created: inserts.length,
        updated: changedRows.length,
        ...householdCounts,
        relationshipsCreated,
        problems: problems.sort((a, b) => a.key - b.key),
        written: [...valid.keys()],
      };
    };
    return options.tx ? write(options.tx) : this.db.transaction(write);
  }

  /**
   * An identifier held by a registrant outside the writer's areas: that registrant is neither
   * updated nor named (the row gets the same problem as a row placed outside).
   */
  private async refuseOutsideScope(tx: Tx, allowed: AllowedAreas, valid: Map<number, unknown>, existingIdOf: Map<number, number>, drop: (key: number, path: string, message: string) => void): Promise<void> {
    const areaOf = await bulk.findRegistrantAreasBulk(tx, [...existingIdOf.values()]);
    for (const [key, id] of [...existingIdOf]) {
      if (valid.has(key) && isVisible({ areaId: areaOf.get(id) ?? null }, allowed)) continue;
      existingIdOf.delete(key);
      if (valid.has(key)) drop(key, '/identifiers', OUTSIDE_YOUR_AREAS);
    }
  }

  /** Households outside the writer's areas (existing ones where they are, new ones where their row places them) get no members. */
  private async refuseHouseholdsOutsideScope(
    tx: Tx, allowed: AllowedAreas, valid: Map<number, { person: BulkPerson; values: ValidPerson }>,
    households: Awaited<ReturnType<RegistryBulkService['resolveHouseholds']>>, drop: (key: number, path: string, message: string) => void,
  ): Promise<void> {
    const areaOf = await bulk.findRegistrantAreasBulk(tx, [...households.values()].flatMap((household) => household.groupId ?? []));
    for (const [id, household] of [...households]) {
      const link = household.memberKeys.map((key) => valid.get(key)?.person.household).find((candidate) => candidate?.area !== undefined);
      const areaId = household.groupId !== undefined ? areaOf.get(household.groupId) ?? null : link?.area !== undefined ? await this.areaIdOrNull(link.area) : undefined;
      if (areaId === undefined || isVisible({ areaId }, allowed)) continue; // a new household without an area of its own takes its head's
      for (const key of household.memberKeys) drop(key, '/household/identifier', OUTSIDE_YOUR_AREAS);
      households.delete(id);
    }
  }

  /** Household links must name a known id type, a known role; new households get exactly one head. */
  private async checkHouseholdLinks(valid: Map<number, { person: BulkPerson; values: ValidPerson }>, problems: BulkProblem[]): Promise<void> {
    const links = [...valid.values()].map(({ person }) => person.household).filter((link): link is BulkHouseholdLink => link !== undefined);
    if (links.length === 0) return;
    const checks = new Map<string, { vocabulary: string; code: string; path: string }>();
    for (const link of links) {
      checks.set(`role:${link.role}`, { vocabulary: 'membership-role', code: link.role, path: `role:${link.role}` });
      checks.set(`type:${link.groupType ?? HOUSEHOLD}`, { vocabulary: 'group-type', code: link.groupType ?? HOUSEHOLD, path: `type:${link.groupType ?? HOUSEHOLD}` });
    }
    const unknown = new Set<string>();
    await this.codes.assertCodes([...checks.values()]).catch((error: unknown) => {
      if (!(error instanceof AppError)) throw error;
      for (const field of error.fields) unknown.add(field.path);
    });
    const idTypes = new Map((await this.codes.listIdTypes()).flatMap((idType) => [[idType.code, idType.code], [idType.system, idType.code]]));
    for (const [key, { person }] of [...valid]) {
      const link = person.household;
      if (!link) continue;
      const reason = unknown.has(`role:${link.role}`) ? ['/household/role', `"${link.role}" is not a membership role`]
        : unknown.has(`type:${link.groupType ?? HOUSEHOLD}`) ? ['/household/groupType', `"${link.groupType}" is not a group type`]
          : !idTypes.has(link.identifier.type) ? ['/household/identifier/type', `"${link.identifier.type}" is not an identifier type`]
            : undefined;
      if (reason) {
        problems.push({ key, path: reason[0]!, message: reason[1]! });
        valid.delete(key);
      } else {
        link.identifier = { type: idTypes.get(link.identifier.type)!, value: link.identifier.value };
      }
    }
  }

  /** Finds or plans each household of the batch and enforces one head per household. */
  private async resolveHouseholds(tx: Tx, valid: Map<number, { person: BulkPerson; values: ValidPerson }>, existingIdOf: Map<number, number>, drop: (key: number, path: string, message: string) => void) {
    const byHousehold = new Map<string, number[]>();
    for (const [key, { person }] of valid) {
      if (!person.household) continue;
      const id = `${person.household.identifier.type}|${person.household.identifier.value}`;
      byHousehold.set(id, [...(byHousehold.get(id) ?? []), key]);
    }
    const found = await bulk.findLiveIdentifiersBulk(tx, [...byHousehold.keys()].map((id) => ({ idType: id.split('|')[0]!, value: id.slice(id.indexOf('|') + 1) })), this.encryption);
    const groupOf = new Map(found.map((row) => [`${row.idType}|${row.value}`, row]));
    const memberships = await bulk.findActiveMembershipsBulk(tx, found.filter((row) => row.kind === 'group').map((row) => row.registrantId));
    const households = new Map<string, { groupId?: number; memberKeys: number[]; members: Array<{ individualId: number; role: string }> }>();
    for (const [id, keys] of byHousehold) {
      const group = groupOf.get(id);
      if (group && group.kind !== 'group') {
        for (const key of keys) drop(key, '/household/identifier', `${id} identifies an individual, not a household`);
        continue;
      }
      const members = group ? memberships.filter((m) => m.groupId === group.registrantId) : [];
      const currentHead = members.find((m) => m.role === HEAD);
      const isHousehold = (valid.get(keys[0]!)?.person.household?.groupType ?? HOUSEHOLD) === HOUSEHOLD;
      const headKeys = keys.filter((key) => valid.get(key)!.person.household!.role === HEAD);
      if (isHousehold && headKeys.length > 1) {
        for (const key of keys) drop(key, '/household/role', `household ${id} has ${headKeys.length} heads in this batch; it needs exactly one`);
        continue;
      }
      if (isHousehold && headKeys.length === 1 && currentHead && currentHead.individualId !== existingIdOf.get(headKeys[0]!)) {
        drop(headKeys[0]!, '/household/role', `household ${id} already has a head; change the head through the API first`);
      }
      if (isHousehold && !currentHead && headKeys.length === 0) {
        for (const key of keys) drop(key, '/household/role', `household ${id} has no head; one row of it needs role "head"`);
        continue;
      }
      households.set(id, { groupId: group?.registrantId, memberKeys: keys.filter((key) => valid.has(key)), members });
    }
    return households;
  }

  private async writeHouseholds(
    tx: Tx,
    valid: Map<number, { person: BulkPerson; values: ValidPerson }>,
    households: Awaited<ReturnType<RegistryBulkService['resolveHouseholds']>>,
    registrantIdOf: Map<number, number>,
    audit: AuditEntry[],
  ): Promise<{ householdsCreated: number; membershipsCreated: number }> {
    const newGroups: Array<{ id: string; uuid: string; row: bulk.RegistrantInsert }> = [];
    for (const [id, household] of households) {
      if (household.groupId !== undefined || household.memberKeys.length === 0) continue;
      const headKey = household.memberKeys.find((key) => valid.get(key)!.person.household!.role === HEAD) ?? household.memberKeys[0]!;
      const head = valid.get(headKey)!;
      const link = head.person.household!;
      const name = link.name ?? `Household of ${head.values.values.displayName}`;
      newGroups.push({
        id, uuid: crypto.randomUUID(),
        row: {
          uuid: '', kind: 'group', groupType: link.groupType ?? HOUSEHOLD, givenName: null, familyName: null, additionalName: null,
          displayName: name, nameSearch: name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase(), birthDate: null, gender: null, civilStatus: null,
          areaId: link.area ? (await this.areaIdOrNull(link.area)) : (head.values.values.areaId ?? null),
          addresses: link.addresses ?? [], phones: [], email: null, hasDisability: null, disabilityTypes: null,
          monthlyIncome: link.income ? link.income.monthly.toFixed(2) : null, incomeCurrency: link.income?.currency ?? null, custom: {}, sourceSystem: head.values.values.sourceSystem ?? null,
        },
      });
    }
    const groupIds = await bulk.insertRegistrantsBulk(tx, newGroups.map((group) => ({ ...group.row, uuid: group.uuid })), this.encryption);
    const identifiers = [];
    for (const group of newGroups) {
      const groupId = groupIds.get(group.uuid)!;
      households.get(group.id)!.groupId = groupId;
      const separator = group.id.indexOf('|');
      identifiers.push({ registrantId: groupId, idType: group.id.slice(0, separator), value: group.id.slice(separator + 1), issuedOn: null, expiresOn: null });
      audit.push({ action: 'create', entityType: 'group', entityId: group.uuid, after: protectForAudit({ groupType: group.row.groupType, name: group.row.displayName, identifiers: [group.id] }, this.encryption) });
    }
    await bulk.insertIdentifiersBulk(tx, identifiers, this.encryption);

    const memberships = [];
    const uuidOfGroup = new Map(newGroups.map((group) => [groupIds.get(group.uuid)!, group.uuid]));
    for (const household of households.values()) {
      for (const key of household.memberKeys) {
        const individualId = registrantIdOf.get(key)!;
        if (household.members.some((member) => member.individualId === individualId)) continue;
        memberships.push({ uuid: crypto.randomUUID(), groupId: household.groupId!, individualId, role: valid.get(key)!.person.household!.role, startDate: valid.get(key)!.person.household!.startDate ?? today() });
      }
    }
    // Heads first, so the "one head" index sees a consistent household at every row.
    memberships.sort((a, b) => Number(b.role === HEAD) - Number(a.role === HEAD));
    await bulk.insertMembershipsBulk(tx, memberships);
    for (const membership of memberships) {
      audit.push({ action: 'add', entityType: 'membership', entityId: membership.uuid, after: { group: uuidOfGroup.get(membership.groupId) ?? String(membership.groupId), role: membership.role, startDate: membership.startDate } });
    }
    return { householdsCreated: newGroups.length, membershipsCreated: memberships.length };
  }

  private async writeRelationships(tx: Tx, relationships: Array<{ sourceKey: number; targetKey: number; type: string }>, registrantIdOf: Map<number, number>, audit: AuditEntry[]): Promise<number> {
    const rows = relationships
      .filter((relationship) => registrantIdOf.has(relationship.sourceKey) && registrantIdOf.has(relationship.targetKey))
      .map((relationship) => ({ uuid: crypto.randomUUID(), sourceId: registrantIdOf.get(relationship.sourceKey)!, targetId: registrantIdOf.get(relationship.targetKey)!, relationship: relationship.type }));
    await bulk.insertRelationshipsBulk(tx, rows);
    for (const row of rows) audit.push({ action: 'add-relationship', entityType: 'relationship', entityId: row.uuid, after: { type: row.relationship } });
    return rows.length;
  }

  /** Audit records name areas by code, never by database id. */
  private async withAreaCodes(audit: AuditEntry[]): Promise<AuditEntry[]> {
    const ids = new Set<number>();
    for (const entry of audit) for (const side of [entry.before, entry.after]) if (typeof side?.areaId === 'number') ids.add(side.areaId);
    const codes = ids.size > 0 ? await this.areas.codesByIds([...ids]) : new Map<number, string>();
    const rename = (side: Record<string, unknown> | null | undefined) => {
      if (!side || !('areaId' in side)) return side;
      const { areaId, ...rest } = side;
      return { ...rest, area: typeof areaId === 'number' ? codes.get(areaId) ?? null : null };
    };
    return audit.map((entry) => ({ ...entry, before: rename(entry.before), after: rename(entry.after) }));
  }

  private readonly areaCache = new Map<string, number | null>();
  private async areaIdOrNull(code: string): Promise<number | null> {
    if (!this.areaCache.has(code)) this.areaCache.set(code, (await this.areas.findAreaByCode(code))?.id ?? null);
    return this.areaCache.get(code)!;
  }
}

/** The audited fields of a person, comparable between a stored row and incoming values. */
function snapshot(values: ValidPerson['values']): Record<string, unknown> {
  return {
    givenName: values.givenName ?? null, familyName: values.familyName ?? null, additionalName: values.additionalName ?? null,
    displayName: values.displayName, birthDate: values.birthDate ?? null, gender: values.gender ?? null, civilStatus: values.civilStatus ?? null,
    areaId: values.areaId === null || values.areaId === undefined ? null : Number(values.areaId), phones: values.phones ?? [], email: values.email ?? null,
    hasDisability: values.hasDisability ?? null, disabilityTypes: values.disabilityTypes ?? null,
    monthlyIncome: values.monthlyIncome === null || values.monthlyIncome === undefined ? null : Number(values.monthlyIncome).toFixed(2),
    incomeCurrency: values.incomeCurrency ?? null, custom: values.custom ?? {}, addresses: values.addresses ?? [], sourceSystem: values.sourceSystem ?? null,
  };
}

/** One audit entry summarising a batch: counts per entity type and action, and the ids written. */
function batchAuditEntry(entries: AuditEntry[]): AuditEntry {
  const counts: Record<string, number> = {};
  for (const entry of entries) counts[`${entry.entityType}:${entry.action}`] = (counts[`${entry.entityType}:${entry.action}`] ?? 0) + 1;
  const ids = entries.filter((entry) => entry.entityType === 'individual' || entry.entityType === 'group').map((entry) => entry.entityId);
  return { action: 'bulk-upsert', entityType: 'batch', entityId: crypto.randomUUID(), after: { counts, registrants: ids } };
}
