import crypto from 'node:crypto';
import { dciTimestamp } from '../protocol/index.js';
import type { DciClient } from './dci-client.js';

type Json = Record<string, unknown>;

export interface Predicate {
  attribute: string;
  operator: 'eq' | 'gt' | 'lt' | 'ge' | 'le' | 'in';
  value: unknown;
}

/** One search criterion in the spec's shapes. Identifier values are sent as strings (the spec's identifier_value is a string). */
export type SearchQuery =
  | { kind: 'identifier'; type: string; value: string | number }
  | { kind: 'predicate'; predicates: Predicate[]; condition?: 'and' | 'or' }
  | { kind: 'expression'; expression: Json; type?: string }
  | { kind: 'date-range'; attribute: string; from?: string; to?: string };

export interface SearchOptions {
  regType?: string;
  regRecordType?: string;
  pageSize?: number;
  pageNumber?: number;
  consent?: Json;
}

export function searchCriteria(query: SearchQuery, options: SearchOptions = {}): Json {
  const base: Json = {
    version: '1.0.0',
    ...(options.regType ? { reg_type: options.regType } : {}),
    ...(options.regRecordType ? { reg_record_type: options.regRecordType } : {}),
    ...(options.pageSize ? { pagination: { page_size: options.pageSize, page_number: options.pageNumber ?? 1 } } : {}),
    ...(options.consent ? { consent: options.consent } : {}),
  };
  switch (query.kind) {
    case 'identifier':
      return { ...base, query_type: 'idtype-value', query: { type: query.type, value: String(query.value) } };
    case 'predicate':
      return { ...base, query_type: 'predicate', query: predicateList(query.predicates, query.condition ?? 'and') };
    case 'expression':
      return { ...base, query_type: 'expression', query: { type: query.type ?? 'ns:org:QueryType:expression', value: { expression: query.expression } } };
    case 'date-range': {
      const predicates: Predicate[] = [];
      if (query.from) predicates.push({ attribute: query.attribute, operator: 'ge', value: query.from });
      if (query.to) predicates.push({ attribute: query.attribute, operator: 'le', value: query.to });
      return { ...base, query_type: 'predicate', query: predicateList(predicates, 'and') };
    }
  }
}

/** Pairs predicates as the spec's `[{seq_num, expression1, condition, expression2}]` list (items are and-ed). */
function predicateList(predicates: Predicate[], condition: 'and' | 'or'): Json[] {
  const expression = (predicate: Predicate) => ({ attribute_name: predicate.attribute, operator: predicate.operator, attribute_value: predicate.value });
  if (condition === 'or' && predicates.length === 2) return [{ seq_num: 1, expression1: expression(predicates[0]!), condition: 'or', expression2: expression(predicates[1]!) }];
  return predicates.map((predicate, index) => ({ seq_num: index + 1, expression1: expression(predicate) }));
}

export function searchMessage(queries: Array<{ query: SearchQuery; options?: SearchOptions }>): Json {
  return {
    transaction_id: crypto.randomUUID(),
    search_request: queries.map(({ query, options }) => ({ reference_id: crypto.randomUUID(), timestamp: dciTimestamp(), search_criteria: searchCriteria(query, options) })),
  };
}

export interface SearchResultItem {
  referenceId: string;
  status: string;
  reasonCode?: string;
  reasonMessage?: string;
  records: Json[];
  data?: Json;
}

/** The items of a SearchResponse, records always as a list (some registries send one object). */
export function searchItems(message: Json): SearchResultItem[] {
  const items = (message.search_response as Json[] | undefined) ?? [];
  return items.map((item) => {
    const data = item.data as Json | undefined;
    const records = data?.reg_records;
    return {
      referenceId: String(item.reference_id), status: String(item.status),
      ...(item.status_reason_code ? { reasonCode: String(item.status_reason_code) } : {}),
      ...(item.status_reason_message ? { reasonMessage: String(item.status_reason_message) } : {}),
      // A list, or one object (some specs' form); an empty object is no record.
      records: Array.isArray(records) ? (records as Json[]) : records && typeof records === 'object' && Object.keys(records).length > 0 ? [records as Json] : [],
      ...(data ? { data } : {}),
    };
  });
}

/** Convenience over the base client: search by identifier, predicate, expression, date range; sync or async. */
export class DciSearch {
  constructor(private readonly client: DciClient) {}

  async sync(code: string, query: SearchQuery, options: SearchOptions = {}): Promise<SearchResultItem> {
    const answer = await this.client.callSync<Json>(code, 'sync_search', searchMessage([{ query, options }]));
    return searchItems(answer.message)[0] ?? { referenceId: '', status: 'rjct', records: [] };
  }

  async async(code: string, query: SearchQuery, options: SearchOptions = {}): Promise<SearchResultItem & { answeredBy: 'callback' | 'poll' }> {
    const answer = await this.client.callAsync<Json>(code, 'search', searchMessage([{ query, options }]));
    if ('pending' in answer) throw new Error('unreachable: waited');
    return { ...(searchItems(answer.message)[0] ?? { referenceId: '', status: 'rjct', records: [] }), answeredBy: answer.answeredBy };
  }

  byIdentifier(code: string, type: string, value: string, options?: SearchOptions) {
    return this.sync(code, { kind: 'identifier', type, value }, options);
  }
}
