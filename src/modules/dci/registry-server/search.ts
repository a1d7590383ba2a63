import { AppError } from '../../../platform/errors.js';
import { recordAudit, type RequestContext } from '../../../platform/audit/audit.js';
import type { Db } from '../../../platform/database/database.js';
import type { RegistryService, CodeLookup } from '../../registry/registry.service.js';
import type { RegistrantRelease } from '../../consents/registrant-release.js';
import type { Criterion, CriteriaQuery } from '../../registry/registry.criteria.js';
import { dciTimestamp, parseDciTimestamp, type SearchStatusReasonCode } from '../protocol/index.js';
import { entityOf, expressionCriterion, idTypeValueCriterion, predicateCriterion, QueryError, sortAttribute, type TranslationContext } from './query-translation.js';
import { group, member, REG_TYPE, type HouseholdView, type PersonView } from './mapping.js';
import type { ItemProblem } from './inbound.js';

/** The parts of a `SearchRequest` message the search reads (validated against the spec before). */
export interface SearchRequestMessage {
  transaction_id: string;
  search_request: SearchItem[];
}

export interface SearchItem {
  reference_id: string;
  timestamp: string;
  search_criteria: {
    version?: string;
    reg_type?: string;
    reg_record_type?: string;
    query_type: string;
    response_entity?: string;
    query: unknown;
    sort?: Array<{ attribute_name?: string; sort_order?: string }>;
    pagination?: { page_size?: number | string; page_number?: number | string };
    consent?: Record<string, unknown>;
    authorize?: Record<string, unknown>;
  };
  locale?: string;
}

export interface SearchResponseItem {
  reference_id: string;
  timestamp: string;
  status: 'succ' | 'rjct';
  status_reason_code?: SearchStatusReasonCode;
  status_reason_message?: string;
  data?: { version: string; reg_type: string; reg_record_type: string; reg_records: unknown[] };
  pagination?: { page_size: number; page_number: number; total_count: number };
  locale?: string;
}

export interface SearchResponseMessage {
  transaction_id: string;
  correlation_id: string;
  search_response: SearchResponseItem[];
}

export const DEFAULT_PAGE_SIZE = 100;

class ItemRejected extends Error {
  constructor(readonly code: SearchStatusReasonCode, message: string) {
    super(message);
  }
}

/**
 * DCI registry search: each item of a batch on its own (one bad item is `rjct` with its reason,
 * the others still answer), translated to registry criteria, run as the partner's client (its
 * area limits), filtered by registrants' consents and masked per `pii:reveal` like every registry
 * read, and mapped to the spec's Group / Member / SRPerson. Used by the sync endpoint now and by
 * the asynchronous search (callbacks) alike.
 */
export class DciSearchService {
  constructor(
    private readonly db: Db,
    private readonly registry: Pick<RegistryService, 'criteria'>,
    /** Consent filter then masking, the one path every registrant response takes. */
    private readonly release: Pick<RegistrantRelease, 'page'>,
    private readonly codes: Pick<CodeLookup, 'listIdTypes'>,
    private readonly options: { publicUrl: string },
  ) {}

  /** `invalidItems`: items that failed their schema (DciInbound), answered `rjct` without running. */
  async search(context: RequestContext, message: SearchRequestMessage, correlationId: string, messageId: string, invalidItems: ReadonlyMap<number, ItemProblem> = new Map()): Promise<SearchResponseMessage> {
    const idTypes = await this.codes.listIdTypes();
    const names = new Set(idTypes.flatMap((idType) => [idType.code, idType.system]));
    const translation: TranslationContext = { isIdentifierType: (name) => names.has(name) };
    const seen = new Set<string>();
    const responses: SearchResponseItem[] = [];
    for (const [index, item] of message.search_request.entries()) {
      const base = { reference_id: typeof item?.reference_id === 'string' ? item.reference_id : '', timestamp: dciTimestamp(), ...(typeof item?.locale === 'string' ? { locale: item.locale } : {}) };
      try {
        const problem = invalidItems.get(index);
        if (problem) throw new ItemRejected(reasonOfSchemaProblem(problem.path), problem.message);
        if (seen.has(item.reference_id)) throw new ItemRejected('rjct.reference_id.duplicate', 'reference_id is repeated in this message');
        seen.add(item.reference_id);
        responses.push({ ...base, status: 'succ', ...(await this.searchItem(context, item, translation)) });
      } catch (error) {
        const rejected = asRejection(error);
        if (!rejected) throw error;
        responses.push({ ...base, status: 'rjct', status_reason_code: rejected.code, status_reason_message: rejected.message.slice(0, 999) });
      }
    }
    await recordAudit(this.db, context, {
      action: 'dci-search', entityType: 'dci_message', entityId: messageId,
      after: {
        transactionId: message.transaction_id, correlationId,
        items: message.search_request.map((item, index) => ({
          referenceId: item?.reference_id, queryType: item?.search_criteria?.query_type, status: responses[index]?.status,
          found: responses[index]?.pagination?.total_count,
          consent: item?.search_criteria?.consent ?? null, authorize: item?.search_criteria?.authorize ?? null,
        })),
      },
    });
    return { transaction_id: message.transaction_id, correlation_id: correlationId, search_response: responses };
  }

  private async searchItem(context: RequestContext, item: SearchItem, translation: TranslationContext): Promise<Pick<SearchResponseItem, 'data' | 'pagination'>> {
    const criteria = item.search_criteria;
    if (!parseDciTimestamp(item.timestamp)) throw new ItemRejected('rjct.timestamp.invalid', 'timestamp must be an ISO 8601 date-time with a time zone');
    if (!item.reference_id) throw new ItemRejected('rjct.reference_id.invalid', 'reference_id is empty');
    // A client processing under consent must say which consent each search relies on.
    if (context.actor.legalBasis === 'consent' && !criteria.consent) {
      throw new ItemRejected('rjct.search_criteria.invalid', 'This partner processes under consent: each search needs its consent block');
    }
    let where: Criterion;
    let collection: string | undefined;
    switch (criteria.query_type) {
      case 'idtype-value': where = idTypeValueCriterion(criteria.query); break;
      case 'predicate': where = predicateCriterion(criteria.query, translation); break;
      case 'expression': ({ criterion: where, collection } = expressionCriterion(criteria.query, translation)); break;
      default: throw new ItemRejected('rjct.search_criteria.invalid', `query_type "${criteria.query_type}" is not supported; use idtype-value, predicate or expression`);
    }
    const kind = entityOf(criteria.response_entity, collection, criteria.reg_record_type);
    const pageSize = pageNumberOf(criteria.pagination?.page_size, DEFAULT_PAGE_SIZE, 'page_size');
    const pageNumber = pageNumberOf(criteria.pagination?.page_number, 1, 'page_number');
    const sort = (criteria.sort ?? []).map((key, index) => {
      if (typeof key?.attribute_name !== 'string' || (key.sort_order !== undefined && key.sort_order !== 'asc' && key.sort_order !== 'desc')) {
        throw new ItemRejected('rjct.sort.invalid', `sort/${index} needs attribute_name and sort_order asc or desc`);
      }
      return { attribute: sortAttribute(key.attribute_name), descending: key.sort_order === 'desc' };
    });
    const query: CriteriaQuery = { kind, where, sort, pageNumber, pageSize };
    const baseId = `${this.options.publicUrl}/api/v2`;
    let records: unknown[];
    let total: number;
    if (kind === 'group') {
      const result = await this.registry.criteria.groups(context.actor, { ...query, kind: 'group' });
      total = result.total;
      const households = await this.released(context, result.items) as HouseholdView[];
      const members = await this.released(context, result.items.flatMap((household) => household.memberRecords)) as PersonView[];
      const membersById = new Map(members.map((record) => [record.id, record]));
      records = households.map((household, index) => group({
        ...household,
        memberRecords: result.items[index]!.memberRecords.flatMap((record) => {
          const released = membersById.get(record.id);
          return released ? [{ ...released, role: record.role }] : [];
        }),
      }, baseId));
    } else {
      const result = await this.registry.criteria.individuals(context.actor, { ...query, kind: 'individual' });
      total = result.total;
      records = (await this.released(context, result.items) as PersonView[]).map((record) => member(record, baseId));
    }
    return {
      data: { version: '1.0.0', reg_type: REG_TYPE, reg_record_type: kind === 'group' ? 'Group' : 'Member', reg_records: records },
      pagination: { page_size: pageSize, page_number: pageNumber, total_count: total },
    };
  }

  /** What the partner may see of these records: registrants' consents, then masking (as every registry read). */
  private async released<V extends { id: string }>(context: RequestContext, views: V[]): Promise<unknown[]> {
    if (views.length === 0) return [];
    const items = views.map((view) => ({ ...view, resourceType: (view as { resourceType?: 'Individual' | 'Group' }).resourceType ?? 'Individual' }));
    const { body } = await this.release.page(context, { items });
    return body.items;
  }
}

/** The reason code for an item that failed its schema, by where the problem is. */
function reasonOfSchemaProblem(path: string): SearchStatusReasonCode {
  if (path.startsWith('/reference_id')) return 'rjct.reference_id.invalid';
  if (path.startsWith('/timestamp')) return 'rjct.timestamp.invalid';
  if (path.startsWith('/search_criteria/sort')) return 'rjct.sort.invalid';
  if (path.startsWith('/search_criteria/pagination')) return 'rjct.pagination.invalid';
  return 'rjct.search_criteria.invalid';
}

function pageNumberOf(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) throw new ItemRejected('rjct.pagination.invalid', `pagination.${name} must be a whole number of at least 1`);
  return number;
}

function asRejection(error: unknown): ItemRejected | undefined {
  if (error instanceof ItemRejected) return error;
  if (error instanceof QueryError) return new ItemRejected('rjct.search_criteria.invalid', error.message);
  if (error instanceof AppError) {
    const part = (error.extra as { criteriaPart?: string }).criteriaPart;
    const code: SearchStatusReasonCode = part === 'sort' ? 'rjct.sort.invalid' : part === 'pagination' ? 'rjct.pagination.invalid' : 'rjct.search_criteria.invalid';
    if (part || error.code === 'unknown_parameter' || error.code === 'validation_failed') return new ItemRejected(code, error.message);
  }
  return undefined;
}
