import { hasScope, type Actor } from '../../platform/auth/access-tokens.js';
import { recordAuditBulk, type AuditEntry, type RequestContext } from '../../platform/audit/audit.js';
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

type RegistrantRecord = object & { resourceType?: unknown; id?: unknown };

/**
 * THE function deciding what an actor sees of registrant records (views, or views already filtered
 * by consent): with `pii:reveal`, the records as they are, plus which of them showed restricted
 * values (to audit); without it, confidential and restricted fields masked as
 * registry.classification.ts says, each record listing them in `masked`. Used by the registry
 * routes (RegistryDisclosure) and the CSV export.
 */
export function discloseRegistrants<T extends RegistrantRecord>(actor: Actor, records: readonly T[]): { records: T[]; revealed: Revealed[] } {
  if (canReveal(actor)) {
    return { records: [...records], revealed: records.map(revealedIn).filter((revealed): revealed is Revealed => revealed !== undefined) };
  }
  return { records: records.map(maskRecord), revealed: [] };
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
  constructor(private readonly db: Queryable) {}

  async one<T extends RegistrantRecord>(context: RequestContext, record: T): Promise<T> {
    const { records, revealed } = discloseRegistrants(context.actor, [record]);
    await this.audit(context, revealed);
    return records[0]!;
  }

  async page<P extends { items: RegistrantRecord[] }>(context: RequestContext, page: P): Promise<P> {
    const { records, revealed } = discloseRegistrants(context.actor, page.items);
    await this.audit(context, revealed);
    return { ...page, items: records };
  }

  /**
   * A record's change history as an actor sees it: without `pii:reveal`, confidential values in
   * the snapshots masked (restricted ones are digests already, or masked when older than that).
   */
  history(actor: Actor, records: AuditRecord[]): AuditRecord[] {
    if (canReveal(actor)) return records;
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

  private async audit(context: RequestContext, revealed: Revealed[]): Promise<void> {
    if (revealed.length > 0) await recordAuditBulk(this.db, context, revealAuditEntries(revealed));
  }
}
