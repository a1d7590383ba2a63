import type { Actor } from '../../platform/auth/access-tokens.js';
import type { ConsentStatus } from './consents.tables.js';
import { DATA_CATEGORIES, DEFAULT_PURPOSE, RELEASABLE_FIELDS, toCurie } from './consent-terms.js';

/** The response header telling a client how much of a registrant its consents released. */
export const CONSENT_STATUS_HEADER = 'x-consent-status';

export type ConsentCoverage = 'full' | 'partial' | 'none' | 'not-required';

/** The terms of a consent the filter looks at (a `consents` row has them all). */
export interface ConsentTerms {
  status: ConsentStatus;
  purposes: string[];
  dataCategories: string[];
  recipientOrganisation: string | null;
  recipientType: string | null;
  expiresAt: Date | null;
}

/** A registrant as the API shows it: what the filter needs of an Individual or Group view. */
export interface RegistrantView {
  resourceType: 'Individual' | 'Group';
  id: string;
}

/** Only clients that declared consent as their legal basis need a registrant's consent. */
export function requiresConsent(actor: Actor): boolean {
  return actor.type === 'client' && actor.legalBasis === 'consent';
}

/** The status as of `now`: a given consent whose `expiresAt` has passed is expired, recorded or not. */
export function effectiveStatus(consent: Pick<ConsentTerms, 'status' | 'expiresAt'>, now = new Date()): ConsentStatus {
  return consent.status === 'given' && consent.expiresAt !== null && consent.expiresAt <= now ? 'expired' : consent.status;
}

/** Active, for this client's organisation (or its type), for the purpose the client declared. */
function coversActor(consent: ConsentTerms, actor: Actor, now: Date): boolean {
  if (effectiveStatus(consent, now) !== 'given') return false;
  const forRecipient = (consent.recipientOrganisation !== null && consent.recipientOrganisation === actor.organisation)
    || (consent.recipientType !== null && consent.recipientType === actor.organisationType);
  return forRecipient && consent.purposes.includes(toCurie(actor.purpose ?? DEFAULT_PURPOSE));
}

/**
 * The view fields `actor`'s consents release of one registrant (given that registrant's consents,
 * any status; only the active ones covering the actor count); undefined when the actor needs no
 * consent (other legal bases, users, the system). The one decision every consent-filtered path uses.
 */
export function releasedFields(actor: Actor, consents: readonly ConsentTerms[], now = new Date()): ReadonlySet<string> | undefined {
  if (!requiresConsent(actor)) return undefined;
  return new Set(consents.filter((consent) => coversActor(consent, actor, now))
    .flatMap((consent) => consent.dataCategories.flatMap((category) => DATA_CATEGORIES[category]?.fields ?? [])));
}

/** A view cut to `released` fields (plus `resourceType` and `id`), with how much of it that is. */
export function releaseView<V extends RegistrantView>(view: V, released: ReadonlySet<string> | undefined): { view: V | (RegistrantView & Record<string, unknown>); consentStatus: ConsentCoverage } {
  if (released === undefined) return { view, consentStatus: 'not-required' };
  const shown = Object.keys(view).filter((field) => RELEASABLE_FIELDS.has(field));
  const kept = shown.filter((field) => released.has(field));
  const filtered: RegistrantView & Record<string, unknown> = { resourceType: view.resourceType, id: view.id };
  for (const field of kept) filtered[field] = (view as unknown as Record<string, unknown>)[field];
  const consentStatus = kept.length === 0 ? 'none' : kept.length === shown.length ? 'full' : 'partial';
  return { view: filtered, consentStatus };
}

/**
 * What `actor` may see of one registrant, given that registrant's consents. Clients under another
 * legal basis, users and the system see the view unchanged (`not-required`). A consent-based client
 * sees the `id` and `resourceType` plus the fields of the data categories its consents cover, and
 * nothing else.
 */
export function filterByConsent<V extends RegistrantView>(
  actor: Actor,
  view: V,
  consents: readonly ConsentTerms[],
  now = new Date(),
): { view: V | (RegistrantView & Record<string, unknown>); consentStatus: ConsentCoverage } {
  return releaseView(view, releasedFields(actor, consents, now));
}

/** One status for a page of results: `full` if every item is, `none` if every item is, else `partial`. */
export function summariseCoverage(statuses: readonly ConsentCoverage[]): ConsentCoverage {
  if (statuses.includes('not-required')) return 'not-required';
  if (statuses.every((status) => status === 'full')) return 'full';
  if (statuses.every((status) => status === 'none')) return 'none';
  return 'partial';
}
