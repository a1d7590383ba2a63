import { areaScopeOf, hasScope, type Actor } from '../../platform/auth/access-tokens.js';
import { AuditBatcher, type AuditEntry, type RequestContext } from '../../platform/audit/audit.js';
import type { AuditRecord } from '../../platform/audit/audit-queries.js';
import type { Queryable } from '../../platform/database/database.js';
import { applyMasking, isMaskedLevel, maskIdentifierValue, REVEAL_PERMISSION, type FieldClassification } from '../../platform/privacy/classification.js';
import { registryClassification } from './registry.classification.js';

/** The restricted fields one record showed in clear (what a `reveal` audit entry names). */
export interface Revealed {
  resourceType: string;
  id: string;
  fields: string[];
}

const classified: Array<[string, FieldClassification]> = Object.entries(registryClassification);
const maskedFields = classified.filter(([, entry]) => isMaskedLevel(entry.level));
const restrictedFields = classified.filter(([, entry]) => entry.level === 'restricted').map(([field]) => field);
/** Audit snapshot keys → the classification of the field they hold. */
const maskedAuditKeys = new Map(maskedFields.flatMap(([field, entry]) => [field, ...(entry.auditKeys ?? [])].map((key) => [key, entry] as const)));

export const canReveal = (actor: Actor): boolean => hasScope(actor.scopes, REVEAL_PERMISSION);

/**
 * Where an actor sees personal data unmasked: nowhere (no `pii:reveal`), everywhere, or in some
 * areas only (a role granting `pii:reveal` bound to areas): then records of other areas, or whose
 * area is not shown, are masked.
 */
export type RevealScope = { kind: 'none' } | { kind: 'everywhere' } | { kind: 'areas'; areaCodes: ReadonlySet<string> };

/** The reveal scope without resolving areas: an area-bound `pii:reveal` counts as none (masks more, never less). */
export function revealScopeOf(actor: Actor): RevealScope {
  if (!canReveal(actor)) return { kind: 'none' };
  return areaScopeOf(actor, REVEAL_PERMISSION) === undefined ? { kind: 'everywhere' } : { kind: 'none' };
}

type RegistrantRecord = object & { resourceType?: unknown; id?: unknown };

/**
 * THE function deciding what an actor sees of registrant records (views, or views already filtered
 * by consent): within its reveal scope (`pii:reveal`), the records as they are, plus which of them
 * showed restricted values (to audit); otherwise confidential and restricted fields masked as
 * registry.classification.ts says, each record listing them in `masked`. Used by the registry
 * routes (RegistryDisclosure) and the CSV export.
 */
export function discloseRegistrants<T extends RegistrantRecord>(scope: RevealScope, records: readonly T[]): { records: T[]; revealed: Revealed[] } {
  const shown: T[] = [];
  const revealed: Revealed[] = [];
  for (const record of records) {
    const area = (record as { area?: unknown }).area;
    if (scope.kind === 'everywhere' || (scope.kind === 'areas' && typeof area === 'string' && scope.areaCodes.has(area))) {
      shown.push(record);
      const fields = revealedIn(record);
      if (fields) revealed.push(fields);
    } else {
      shown.push(maskRecord(record));
    }
  }
  return { records: shown, revealed };
}

function maskRecord<T extends RegistrantRecord>(record: T): T {
  const source = record as Record<string, unknown>;
  const masked: Record<string, unknown> = { ...source };
  const names: string[] = [];
  for (const [field, entry] of maskedFields) {
    if (!(field in source)) continue;
    masked[field] = applyMasking(entry.masking, source[field]);
    names.push(field);
  }
  if (names.length > 0) masked.masked = names;
  return masked as T;
}

function revealedIn(record: RegistrantRecord): Revealed | undefined {
  const source = record as Record<string, unknown>;
  const fields = restrictedFields.filter((field) => Array.isArray(source[field]) ? (source[field] as unknown[]).length > 0 : source[field] !== undefined && source[field] !== null);
  if (fields.length === 0 || typeof source.id !== 'string') return undefined;
  return { resourceType: String(source.resourceType ?? ''), id: source.id, fields };
}

/** An identifier in an audit snapshot: a view (`{type, value, …}`) or `type|value` (bulk writes). */
function maskAuditedIdentifier(item: unknown): unknown {
  if (typeof item === 'string') {
    const separator = item.indexOf('|');
    return separator > 0 ? `${item.slice(0, separator + 1)}${maskIdentifierValue(item.slice(separator + 1))}` : maskIdentifierValue(item);
  }
  return (applyMasking('identifier', [item]) as unknown[])[0];
}

/** `reveal` audit entries: who saw which restricted fields of which record (never the values). */
export function revealAuditEntries(revealed: readonly Revealed[]): AuditEntry[] {
  return revealed.map((item) => ({ action: 'reveal', entityType: item.resourceType === 'Group' ? 'group' : 'individual', entityId: item.id, after: { fields: item.fields } }));
}

/**
 * Masks the registry's API responses per permission and audits every reveal, in one statement per
 * response. Only the routes call it: services return plaintext to their callers.
 */
export class RegistryDisclosure {
  private readonly scopes = new WeakMap<Actor, Promise<RevealScope>>();

  constructor(
    private readonly db: Queryable,
    private readonly areas: { subtreeAreaIds(code: string): Promise<number[] | undefined>; codesByIds(ids: number[]): Promise<Map<number, string>> },
  ) {}

  /** The actor's reveal scope, its areas resolved to every area code of their subtrees (once per actor, i.e. per request). */
  scopeFor(actor: Actor): Promise<RevealScope> {
    let scope = this.scopes.get(actor);
    if (!scope) {
      scope = this.resolveScope(actor);
      this.scopes.set(actor, scope);
    }
    return scope;
  }

  private async resolveScope(actor: Actor): Promise<RevealScope> {
    if (!canReveal(actor)) return { kind: 'none' };
    const codes = areaScopeOf(actor, REVEAL_PERMISSION);
    if (codes === undefined) return { kind: 'everywhere' };
    const ids = (await Promise.all(codes.map((code) => this.areas.subtreeAreaIds(code)))).flatMap((subtree) => subtree ?? []);
    return { kind: 'areas', areaCodes: new Set(ids.length > 0 ? (await this.areas.codesByIds([...new Set(ids)])).values() : []) };
  }

  async one<T extends RegistrantRecord>(context: RequestContext, record: T): Promise<T> {
    const { records, revealed } = discloseRegistrants(await this.scopeFor(context.actor), [record]);
    await this.audit(context, revealed);
    return records[0]!;
  }

  async page<P extends { items: RegistrantRecord[] }>(context: RequestContext, page: P): Promise<P> {
    const { records, revealed } = discloseRegistrants(await this.scopeFor(context.actor), page.items);
    await this.audit(context, revealed);
    return { ...page, items: records };
  }

  /**
   * A record's change history as an actor sees it: without `pii:reveal`, confidential values in
   * the snapshots masked (restricted ones are digests already, or masked when older than that).
   */
  async history(actor: Actor, records: AuditRecord[], areaOfRecord: () => Promise<string | null>): Promise<AuditRecord[]> {
    const scope = await this.scopeFor(actor);
    if (scope.kind === 'everywhere') return records;
    if (scope.kind === 'areas') {
      const area = await areaOfRecord();
      if (area !== null && scope.areaCodes.has(area)) return records;
    }
    const mask = (side: Record<string, unknown> | null, action: string) => {
      if (!side) return side;
      const masked: Record<string, unknown> = { ...side };
      for (const [key, value] of Object.entries(side)) {
        const entry = maskedAuditKeys.get(key);
        if (entry) masked[key] = entry.masking === 'identifier' && Array.isArray(value) ? value.map(maskAuditedIdentifier) : applyMasking(entry.masking, value);
      }
      // add-identifier / invalidate-identifier entries name one identifier: { type, value }.
      if (action.endsWith('identifier') && typeof side.value === 'string') masked.value = maskIdentifierValue(side.value);
      return masked;
    };
    return records.map((record) => ({ ...record, before: mask(record.before, record.action), after: mask(record.after, record.action) }));
  }

  /** Reveals of concurrent requests share one insert and commit (each response waits for its own). */
  private reveals?: AuditBatcher;

  private async audit(context: RequestContext, revealed: Revealed[]): Promise<void> {
    if (revealed.length > 0) await (this.reveals ??= new AuditBatcher(this.db)).record(context, revealAuditEntries(revealed));
  }
}
