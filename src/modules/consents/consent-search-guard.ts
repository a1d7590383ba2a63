import { and, type SQL } from 'drizzle-orm';
import type { Actor } from '../../platform/auth/access-tokens.js';
import { AppError } from '../../platform/errors.js';
import { requiresConsent } from './consent-filter.js';
import { DATA_CATEGORIES, DEFAULT_PURPOSE, toCurie } from './consent-terms.js';
import { coveredByConsentCondition } from './consents.repository.js';

/** Search parameters (Individual and Group searches) → the view field each one matches on. */
const CRITERION_FIELDS: Record<string, string> = {
  name: 'name',
  birthdate: 'birthDate',
  gender: 'gender',
  phone: 'phones',
  identifier: 'identifiers',
  area: 'area',
  group: 'memberships',
  member: 'members',
  groupType: 'groupType',
};

/** Sort keys whose order would tell a consent client values it may not see. */
const SORT_FIELDS: Record<string, string> = { name: 'name', birthdate: 'birthDate' };

/** The DPV-PD categories that release a field (e.g. birthDate: dpv-pd:Age, dpv-pd:BirthDate). */
const categoriesReleasing = (field: string): string[] =>
  Object.entries(DATA_CATEGORIES).filter(([, category]) => category.fields.includes(field)).map(([code]) => code);

/**
 * Search criteria of a client processing under consent match only registrants whose consents
 * (for this client's organisation or type and purpose) release the field the criterion is on:
 * `name=ana` finds the Anas who consented to this client seeing their name, and nobody else, so
 * neither existence nor values leak. Record state (`active`, `_lastUpdated`) is not personal data
 * of a category and stays a free criterion. Sorting by name or birth date is refused (403): the
 * order of records the client may not see would tell their values. Other actors: no condition.
 * Given to the registry search (RegistryOptions.searchCriteriaGuard); applies to exports as well.
 */
export function consentSearchGuard(actor: Actor, query: Record<string, unknown>): SQL | undefined {
  if (!requiresConsent(actor)) return undefined;
  const sortKeys = typeof query._sort === 'string' ? query._sort.split(',').map((key) => key.replace(/^-/, '')) : [];
  const refusedSort = sortKeys.find((key) => SORT_FIELDS[key] !== undefined);
  if (refusedSort) {
    throw new AppError('forbidden', `A client processing under consent cannot sort by ${refusedSort}: the order would reveal values of records whose consent does not release them`, [{ path: 'query:/_sort', message: `cannot sort by ${refusedSort} under consent` }]);
  }
  const purpose = toCurie(actor.purpose ?? DEFAULT_PURPOSE);
  const recipient = { organisation: actor.organisation, organisationType: actor.organisationType };
  const conditions = Object.keys(query)
    .filter((parameter) => CRITERION_FIELDS[parameter] !== undefined && query[parameter] !== undefined)
    .map((parameter) => coveredByConsentCondition(recipient, purpose, categoriesReleasing(CRITERION_FIELDS[parameter]!)));
  return conditions.length > 0 ? and(...conditions) : undefined;
}
