import type { RequestContext } from '../../../platform/audit/audit.js';
import type { RegistryService, CodeLookup } from '../../registry/registry.service.js';
import type { RegistrantRelease } from '../../consents/registrant-release.js';
import type { Criterion } from '../../registry/registry.criteria.js';
import { expressionCriterion, idTypeValueCriterion, predicateCriterion, QueryError, type TranslationContext } from '../registry-server/query-translation.js';
import { group, member, type HouseholdView, type PersonView } from '../registry-server/mapping.js';

export const FILTER_TYPES = ['idtype-value', 'predicate', 'expression'] as const;
export type FilterType = (typeof FILTER_TYPES)[number];
export type RecordKind = 'individual' | 'group';

/**
 * The filter's query form: `filter_type` when given, else from its shape (a list is a predicate,
 * `{type, value: {expression}}` an expression, `{type, value}` an identifier). Undefined: not one we run.
 */
export function filterTypeOf(filterType: unknown, filter: unknown): FilterType | undefined {
  if (typeof filterType === 'string' && filterType !== '') {
    const name = filterType.split(':').pop()!.toLowerCase();
    return (FILTER_TYPES as readonly string[]).includes(name) ? name as FilterType : undefined;
  }
  if (Array.isArray(filter)) return 'predicate';
  const value = (filter as { value?: unknown } | null)?.value;
  if (typeof value === 'object' && value !== null && 'expression' in value) return 'expression';
  return typeof filter === 'object' && filter !== null ? 'idtype-value' : undefined;
}

/** The subscription filter as a registry criterion (throws QueryError when it is not one). */
export function filterCriterion(filterType: FilterType, filter: unknown, translation: TranslationContext): Criterion {
  switch (filterType) {
    case 'idtype-value': return idTypeValueCriterion(filter);
    case 'predicate': return predicateCriterion(filter, translation);
    case 'expression': return expressionCriterion(filter, translation).criterion;
  }
}

export { QueryError };

const CHUNK = 1000;

/**
 * Registry records for notifications: those of `uuids` that match the subscription's criterion,
 * read as the partner (its area limits), released as every registry read is (registrants'
 * consents, masking), mapped to the spec's Member or Group. Keyed by registrant uuid.
 */
export class NotifyRecords {
  constructor(
    private readonly registry: Pick<RegistryService, 'criteria'>,
    private readonly release: Pick<RegistrantRelease, 'page'>,
    private readonly codes: Pick<CodeLookup, 'listIdTypes'>,
    private readonly options: { publicUrl: string },
  ) {}

  async translation(): Promise<TranslationContext> {
    const idTypes = await this.codes.listIdTypes();
    const names = new Set(idTypes.flatMap((idType) => [idType.code, idType.system]));
    return { isIdentifierType: (name) => names.has(name) };
  }

  /** Checks a criterion compiles for this kind (attribute names, identifier types, areas): throws the registry's problem. */
  async check(context: RequestContext, kind: RecordKind, where: Criterion): Promise<void> {
    await this.matching(context, kind, where, ['00000000-0000-0000-0000-000000000000']);
  }

  async matching(context: RequestContext, kind: RecordKind, where: Criterion, uuids: string[]): Promise<Map<string, Record<string, unknown>>> {
    const records = new Map<string, Record<string, unknown>>();
    const baseId = `${this.options.publicUrl}/api/v2`;
    for (let start = 0; start < uuids.length; start += CHUNK) {
      const chunk = uuids.slice(start, start + CHUNK);
      const query = { where: { and: [where, { attribute: 'uuid', operator: 'in' as const, value: chunk }] }, sort: [], pageNumber: 1, pageSize: chunk.length };
      if (kind === 'individual') {
        const result = await this.registry.criteria.individuals(context.actor, { ...query, kind: 'individual' });
        const released = await this.released(context, result.items) as PersonView[];
        for (const view of released) records.set(view.id, member(view, baseId));
      } else {
        const result = await this.registry.criteria.groups(context.actor, { ...query, kind: 'group' });
        const households = await this.released(context, result.items) as HouseholdView[];
        const members = await this.released(context, result.items.flatMap((household) => household.memberRecords)) as PersonView[];
        const membersById = new Map(members.map((record) => [record.id, record]));
        households.forEach((household, index) => {
          const memberRecords: PersonView[] = [];
          for (const record of result.items[index]!.memberRecords) {
            const released = membersById.get(record.id);
            if (released) memberRecords.push({ ...released, role: record.role });
          }
          records.set(household.id, group({ ...household, memberRecords }, baseId));
        });
      }
    }
    return records;
  }

  private async released<V extends { id: string; resourceType: 'Individual' | 'Group' }>(context: RequestContext, views: V[]): Promise<unknown[]> {
    if (views.length === 0) return [];
    const { body } = await this.release.page(context, { items: views });
    return body.items;
  }
}
