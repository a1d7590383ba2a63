import type { Actor } from '../../platform/auth/access-tokens.js';
import type { RequestContext } from '../../platform/audit/audit.js';
import type { AuditRecord } from '../../platform/audit/audit-queries.js';
import { discloseRegistrants, type RegistryDisclosure, type Revealed, type RevealScope } from '../registry/registry.disclosure.js';
import { registryClassification } from '../registry/registry.classification.js';
import { releaseView, requiresConsent, summariseCoverage, type ConsentCoverage, type RegistrantView } from './consent-filter.js';
import type { ConsentService } from './consents.service.js';

/** A response body as the actor may receive it, and how much consent released (`X-Consent-Status`). */
export interface Released<B> {
  body: B;
  consentStatus: ConsentCoverage;
}

type ReleasedFields = Map<string, ReadonlySet<string>> | undefined;

/** Audit snapshot keys → the view field they hold (`givenName` → `name`, `areaId` → `area`…). */
const FIELD_OF_AUDIT_KEY = new Map<string, string>(Object.entries(registryClassification).flatMap(([field, entry]) => (
  [field, ...('auditKeys' in entry ? entry.auditKeys : [])].map((key): [string, string] => [key, field])
)));

/** The view field an audit entry's key is about: identifier entries name one identifier, change-head the head. */
function fieldOfAuditKey(action: string, key: string): string | undefined {
  if (action.endsWith('-identifier')) return 'identifiers';
  if (action === 'change-head') return 'head';
  if (action === 'add-relationship') return 'relationships';
  return FIELD_OF_AUDIT_KEY.get(key);
}

/**
 * What an actor receives of registrant data, in EVERY response that carries it: first the consent
 * filter (clients whose legal basis is consent get the fields their consents release, else the id
 * only), then the masking of confidential and restricted values for actors without `pii:reveal`
 * (reveals audited). Registry reads, searches, write responses, `_history`, group members,
 * `$batch` responses and CSV exports all go through here, so no path can skip either step.
 */
export class RegistrantRelease {
  constructor(
    private readonly consents: Pick<ConsentService, 'releasedFieldsOf'>,
    readonly disclosure: RegistryDisclosure,
  ) {}

  async one<V extends RegistrantView>(context: RequestContext, view: V): Promise<Released<object>> {
    const released = await this.consents.releasedFieldsOf(context.actor, [view.id]);
    const { view: body, consentStatus } = releaseView(view, released?.get(view.id));
    return { body: await this.disclosure.one(context, body), consentStatus };
  }

  /** Each item filtered (and, for consent clients, marked with its `consentStatus`), then masked; one consent query. */
  async page<P extends { items: RegistrantView[] }>(context: RequestContext, page: P): Promise<Released<P>> {
    const { items, consentStatus } = this.filterItems(page.items, await this.consents.releasedFieldsOf(context.actor, page.items.map((item) => item.id)));
    return { body: await this.disclosure.page(context, { ...page, items }), consentStatus };
  }

  /**
   * A registrant's change history: for a consent client, each entry keeps only the fields of the
   * categories released (entries left with none are dropped); then masked like any read.
   */
  async history(context: RequestContext, records: AuditRecord[], areaOfRecord: () => Promise<string | null>): Promise<Released<AuditRecord[]>> {
    // Every entry of a history is about one record: its UUID is the entries' entityId.
    const subjectId = records[0]?.entityId;
    const released = subjectId === undefined ? undefined : (await this.consents.releasedFieldsOf(context.actor, [subjectId]))?.get(subjectId);
    let items = records;
    let consentStatus: ConsentCoverage = requiresConsent(context.actor) ? 'full' : 'not-required'; // nothing to withhold in an empty history
    if (released) {
      let shown = 0;
      let kept = 0;
      items = records.flatMap((record) => {
        const cut = (side: Record<string, unknown> | null) => {
          if (!side) return side;
          const entries = Object.entries(side);
          shown += entries.length;
          const allowed = entries.filter(([key]) => { const field = fieldOfAuditKey(record.action, key); return field !== undefined && released.has(field); });
          kept += allowed.length;
          return allowed.length > 0 ? Object.fromEntries(allowed) : null;
        };
        const before = cut(record.before);
        const after = cut(record.after);
        return before || after ? [{ ...record, before, after }] : [];
      });
      consentStatus = kept === 0 ? 'none' : kept === shown ? 'full' : 'partial';
    }
    return { body: await this.disclosure.history(context.actor, items, areaOfRecord), consentStatus };
  }

  /** A group's member list: part of the group's family structure, released with its `members` field. */
  async members<M>(context: RequestContext, groupIdOf: () => Promise<string>, items: M[]): Promise<Released<M[]>> {
    if (!requiresConsent(context.actor)) return { body: items, consentStatus: 'not-required' };
    const groupId = await groupIdOf();
    const released = (await this.consents.releasedFieldsOf(context.actor, [groupId]))?.get(groupId) ?? new Set<string>();
    return released.has('members') ? { body: items, consentStatus: 'full' } : { body: [], consentStatus: 'none' };
  }

  /**
   * A page of an export (no audit here: the export records one reveal entry for the whole file).
   * `released` tells, per record, which fields consent released (undefined: everything).
   */
  async forExport<V extends RegistrantView>(actor: Actor, views: readonly V[], scope: RevealScope): Promise<{ records: V[]; revealed: Revealed[]; released: ReleasedFields }> {
    const released = await this.consents.releasedFieldsOf(actor, views.map((view) => view.id));
    const { items } = this.filterItems(views, released);
    const { records, revealed } = discloseRegistrants(scope, items as V[]);
    return { records, revealed, released };
  }

  private filterItems<V extends RegistrantView>(items: readonly V[], released: ReleasedFields): { items: V[]; consentStatus: ConsentCoverage } {
    if (!released) return { items: [...items], consentStatus: 'not-required' };
    const results = items.map((item) => releaseView(item, released.get(item.id)));
    return {
      items: results.map(({ view, consentStatus }) => ({ ...view, consentStatus }) as unknown as V),
      consentStatus: summariseCoverage(results.map((result) => result.consentStatus)),
    };
  }
}
