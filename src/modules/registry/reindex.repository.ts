import { sql } from 'drizzle-orm';
import { queryRows } from '../../platform/database/database.js';
import { indexVersionPrefix } from '../../platform/crypto/blind-index.js';
import type { ReindexTarget } from '../../platform/privacy/reindex.js';
import type { Phone } from './registry.tables.js';
import type { RegistryEncryption } from './registry.encryption.js';

// The registry's part of `keys rotate-index-key` (platform/privacy/reindex.ts): identifier and
// phone blind indexes recomputed under the writing index key, rows locked while rewritten, versions
// and timestamps left alone (nothing about the record changed). Rows still in plaintext (before
// encryption at rest) are the re-encryption job's, which indexes them with the writing key.

/** Not written under the index key `version` (version 1 indexes are bare; later ones are prefixed). */
function notUnder(version: number, column: string) {
  return version === 1 ? sql`${sql.raw(column)} like 'k%.%'` : sql`${sql.raw(column)} not like ${`${indexVersionPrefix(version)}%`}`;
}

export function registryReindexTargets(encryption: RegistryEncryption, writingVersion: () => number): ReindexTarget[] {
  return [
    {
      name: 'identifiers',
      reindexBatch: async (db, afterId, limit) => {
        const rows = await queryRows<{ id: number; registrantId: number; idType: string; value: string | null; valueEncrypted: string | null }>(db, sql`
          select id, registrant_id as "registrantId", id_type as "idType", value, value_encrypted as "valueEncrypted" from identifiers
          where id > ${afterId} and value_encrypted is not null and ${notUnder(writingVersion(), 'value_index')}
          order by id limit ${limit} for update`);
        if (rows.length === 0) return { lastId: undefined, rewritten: 0 };
        await encryption.prepareToRead(rows.map((row) => row.valueEncrypted));
        const rewritten = rows.map((row) => ({ id: Number(row.id), valueIndex: encryption.identifierIndex(row.idType, encryption.decryptIdentifier({ ...row, registrantId: Number(row.registrantId) })) }));
        await db.execute(sql`update identifiers as i set value_index = v."valueIndex"
          from jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb) as v(id bigint, "valueIndex" text) where i.id = v.id`);
        return { lastId: Number(rows[rows.length - 1]!.id), rewritten: rows.length };
      },
    },
    {
      name: 'registrants.phones',
      reindexBatch: async (db, afterId, limit) => {
        const rows = await queryRows<{ id: number; uuid: string; phonesEncrypted: string }>(db, sql`
          select id, uuid, phones_encrypted as "phonesEncrypted" from registrants
          where id > ${afterId} and phones_encrypted is not null and exists (select 1 from unnest(phone_indexes) as x where ${notUnder(writingVersion(), 'x')})
          order by id limit ${limit} for update`);
        if (rows.length === 0) return { lastId: undefined, rewritten: 0 };
        await encryption.prepareToRead(rows.map((row) => row.phonesEncrypted));
        const rewritten = rows.map((row) => {
          const { phones } = encryption.decryptContacts({ uuid: row.uuid, phones: null, addresses: null, phonesEncrypted: row.phonesEncrypted, addressesEncrypted: null });
          return { id: Number(row.id), phoneIndexes: [...new Set((phones as Phone[]).map((phone) => encryption.phoneIndex(phone.value)))] };
        });
        await db.execute(sql`update registrants as r set phone_indexes = v."phoneIndexes"
          from jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb) as v(id bigint, "phoneIndexes" text[]) where r.id = v.id`);
        return { lastId: Number(rows[rows.length - 1]!.id), rewritten: rows.length };
      },
    },
  ];
}
