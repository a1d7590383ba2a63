import type { Db } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { findExternalValue, storeExternalValue } from './rules.repository.js';
import type { RuleVariable } from './rules.types.js';

/**
 * Where external variables come from: a DCI registry query (e.g. a disability registry) per
 * registrant. The real fetcher needs the DCI client (not built yet); until then
 * `DciClientPending` answers that it is unavailable, and tests use a fake.
 */
export interface ExternalValueFetcher {
  fetch(variable: RuleVariable, registrant: { uuid: string }): Promise<unknown>;
}

export class DciClientPending implements ExternalValueFetcher {
  fetch(variable: RuleVariable): Promise<unknown> {
    return Promise.reject(new Error(`No DCI client is configured to fetch ${variable.code}`));
  }
}

/**
 * External values with a cache per (variable, registrant): a value younger than the variable's TTL
 * is used as is; otherwise it is fetched and stored. When fetching fails, the variable's failure
 * policy decides: `null` (unknown: rules on it do not match), `last_known` (the cached value
 * whatever its age, else unknown) or `fail` (the evaluation fails: 503).
 * Compiled SQL reads the same cache (rules.sql.ts): fresh values, or any age for `last_known`.
 */
export class ExternalValues {
  constructor(private readonly db: Db, private readonly fetcher: ExternalValueFetcher, private readonly clock: () => Date = () => new Date()) {}

  async resolve(variable: RuleVariable, registrant: { id: number; uuid: string }): Promise<unknown> {
    if (variable.id === undefined) throw new Error(`external variable ${variable.code} has no id`);
    const now = this.clock();
    const cached = await findExternalValue(this.db, variable.id, registrant.id);
    const ttlMs = (variable.ttlSeconds ?? 0) * 1000;
    if (cached && now.getTime() - cached.fetchedAt.getTime() < ttlMs) return cached.value;
    try {
      const value = await this.fetcher.fetch(variable, { uuid: registrant.uuid });
      await storeExternalValue(this.db, variable.id, registrant.id, value, now);
      return value;
    } catch (error) {
      switch (variable.failurePolicy ?? 'null') {
        case 'null': return null;
        case 'last_known': return cached ? cached.value : null;
        case 'fail': throw new AppError('unavailable', `The external value ${variable.code} could not be fetched: ${(error as Error).message}`);
      }
    }
  }
}
