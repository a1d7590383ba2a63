import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Queryable } from '../../../platform/database/database.js';
import { identifiers, registrants } from '../../registry/registry.tables.js';
import { duplicateSuspects, programMemberships, type DedupConfig } from '../programs.tables.js';

/**
 * The IBR (integrated beneficiary registry) check over DCI: is this person already enrolled in
 * another program elsewhere? The DCI client does not exist yet (issue 6): programs depend on this
 * interface only, tests use a fake, and a program cannot turn the check on while none is configured.
 */
export interface IbrClient {
  /** Which of these registrants (by UUID) are enrolled elsewhere, and where. */
  findEnrolledElsewhere(registrantUuids: string[]): Promise<Array<{ registrantUuid: string; programme: string }>>;
}

/**
 * Suspected duplicates among a program's draft memberships, found in SQL and recorded once each
 * (a cleared suspicion is never raised again). Each pair is flagged on its later membership; the
 * earlier one (already enrolled, or first registered) is the one it looks like. Returns how many
 * new suspicions were recorded.
 */
export async function findDuplicateSuspects(db: Queryable, programId: number, config: DedupConfig): Promise<number> {
  let found = 0;
  const m = sql`m`;
  const o = sql`o`;
  const record = async (reason: string, pairs: SQL) => {
    const rows = await queryRows<{ count: number }>(db, sql`
      with pairs as (${pairs}),
      added as (
        insert into ${duplicateSuspects} (uuid, program_id, membership_id, other_registrant_id, reason, detail)
        select gen_random_uuid(), ${programId}, membership_id, other_registrant_id, ${reason}, detail from pairs
        on conflict do nothing returning 1)
      select count(*)::int as count from added`);
    found += Number(rows[0]?.count ?? 0);
  };
  const candidates = sql`${programMemberships} ${m} join ${programMemberships} ${o} on ${o}.program_id = ${m}.program_id and ${o}.id < ${m}.id
    and ${o}.state in ('draft', 'enrolled', 'paused')`;
  const where = sql`${m}.program_id = ${programId} and ${m}.state = 'draft'`;

  if (config.idTypes.length > 0) {
    const types = `{${config.idTypes.join(',')}}`;
    // Blind indexes are keyed by id type, so the same value under the same type; invalidated
    // identifiers count too (a record re-registered under a corrected identity is still a duplicate).
    await record('identifier', sql`select distinct on (${m}.id, ${o}.registrant_id) ${m}.id as membership_id, ${o}.registrant_id as other_registrant_id, i.id_type as detail
      from ${candidates}
      join ${identifiers} i on i.registrant_id = ${m}.registrant_id and i.id_type = any(${types}::text[]) and i.value_index is not null
      join ${identifiers} j on j.registrant_id = ${o}.registrant_id and j.id_type = i.id_type and j.value_index = i.value_index
      where ${where}`);
  }
  if (config.phone) {
    await record('phone', sql`select distinct ${m}.id as membership_id, ${o}.registrant_id as other_registrant_id, null::text as detail
      from ${candidates}
      join ${registrants} a on a.id = ${m}.registrant_id and cardinality(a.phone_indexes) > 0
      join ${registrants} b on b.id = ${o}.registrant_id and b.phone_indexes && a.phone_indexes
      where ${where}`);
  }
  if (config.nameBirthDate) {
    // name_search is already lower-cased and accent-stripped; trigram similarity forgives typos.
    await record('name_birth_date', sql`select ${m}.id as membership_id, ${o}.registrant_id as other_registrant_id,
        round(similarity(a.name_search, b.name_search)::numeric, 2)::text as detail
      from ${candidates}
      join ${registrants} a on a.id = ${m}.registrant_id and a.birth_date is not null
      join ${registrants} b on b.id = ${o}.registrant_id and b.birth_date = a.birth_date
      where ${where} and similarity(a.name_search, b.name_search) >= 0.6`);
  }
  return found;
}

/** Records IBR hits for draft memberships (by registrant UUID); returns how many were new. */
export async function recordIbrHits(db: Queryable, programId: number, hits: Array<{ registrantUuid: string; programme: string }>): Promise<number> {
  let found = 0;
  for (const hit of hits) {
    const rows = await queryRows<{ count: number }>(db, sql`
      with added as (
        insert into ${duplicateSuspects} (uuid, program_id, membership_id, other_registrant_id, reason, detail)
        select gen_random_uuid(), ${programId}, pm.id, null, 'ibr', ${hit.programme}
        from ${programMemberships} pm join ${registrants} r on r.id = pm.registrant_id
        where pm.program_id = ${programId} and pm.state = 'draft' and r.uuid = ${hit.registrantUuid}
        on conflict do nothing returning 1)
      select count(*)::int as count from added`);
    found += Number(rows[0]?.count ?? 0);
  }
  return found;
}
