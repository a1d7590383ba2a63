import { sql } from 'drizzle-orm';
import { queryRows, type Queryable } from '../../platform/database/database.js';
import { ciphertextPrefix } from '../../platform/crypto/field-cipher.js';
import type { ReencryptionTarget } from '../../platform/privacy/reencryption.js';
import type { Address, Phone } from './registry.tables.js';
import type { RegistryEncryption } from './registry.encryption.js';

// The registry's part of `keys reencrypt` (platform/privacy/reencryption.ts): batches of rows that
// hold plaintext from before encryption at rest, or ciphertext of an older data key, rewritten
// under the newest key. Rows are locked while rewritten, so a concurrent edit is never overwritten
// with older values; versions and timestamps stay as they were (nothing about the record changed).

/** The registry tables holding restricted values, in the order the job converts them. */
export function registryReencryptionTargets(encryption: RegistryEncryption): ReencryptionTarget[] {
  return [
    {
      name: 'registrants',
      maxId: async (db) => (await queryRows<{ max: number | null }>(db, sql`select max(id)::bigint as max from registrants`))[0]?.max ?? 0,
      rewriteBatch: (db, afterId, limit, version) => rewriteRegistrants(db, encryption, afterId, limit, version),
      pending: async (db, version) => (await queryRows<{ pending: boolean }>(db, sql`
        select exists(select 1 from registrants where phones is not null or addresses is not null)
          or exists(select 1 from registrants where ${olderThan('phones_encrypted', version)} or ${olderThan('addresses_encrypted', version)}) as pending`))[0]?.pending ?? false,
      legacy: async (db) => (await queryRows<{ legacy: boolean }>(db, sql`select exists(select 1 from registrants where phones is not null or addresses is not null) as legacy`))[0]?.legacy ?? false,
    },
    {
      name: 'identifiers',
      maxId: async (db) => (await queryRows<{ max: number | null }>(db, sql`select max(id)::bigint as max from identifiers`))[0]?.max ?? 0,
      rewriteBatch: (db, afterId, limit, version) => rewriteIdentifiers(db, encryption, afterId, limit, version),
      pending: async (db, version) => (await queryRows<{ pending: boolean }>(db, sql`
        select exists(select 1 from identifiers where value is not null)
          or exists(select 1 from identifiers where ${olderThan('value_encrypted', version)}) as pending`))[0]?.pending ?? false,
      // Live ones only (indexed); invalidated plaintext rows are converted whenever the job runs.
      legacy: async (db) => (await queryRows<{ legacy: boolean }>(db, sql`select exists(select 1 from identifiers where is_valid and value is not null) as legacy`))[0]?.legacy ?? false,
    },
  ];
}

/** A ciphertext column written with a data key older than `version` (null = nothing stored). */
function olderThan(column: string, version: number) {
  return sql`(${sql.identifier(column)} is not null and ${sql.identifier(column)} not like ${`${ciphertextPrefix(version)}%`})`;
}

interface StoredRegistrant {
  id: number; uuid: string; phones: Phone[] | null; addresses: Address[] | null; phonesEncrypted: string | null; addressesEncrypted: string | null;
}

async function rewriteRegistrants(db: Queryable, encryption: RegistryEncryption, afterId: number, limit: number, version: number) {
  const rows = await queryRows<StoredRegistrant>(db, sql`
    select id, uuid, phones, addresses, phones_encrypted as "phonesEncrypted", addresses_encrypted as "addressesEncrypted"
    from registrants
    where id > ${afterId} and (phones is not null or addresses is not null or ${olderThan('phones_encrypted', version)} or ${olderThan('addresses_encrypted', version)})
    order by id limit ${limit} for update`);
  if (rows.length === 0) return { lastId: undefined, rewritten: 0 };
  await encryption.prepareToRead(rows.flatMap((row) => [row.phonesEncrypted, row.addressesEncrypted]));
  const rewritten = rows.map((row) => ({ id: Number(row.id), ...encryption.encryptContacts(row.uuid, encryption.decryptContacts(row)) }));
  await db.execute(sql`
    update registrants as r set phones = null, addresses = null, phones_encrypted = v."phonesEncrypted",
      addresses_encrypted = v."addressesEncrypted", phone_indexes = coalesce(v."phoneIndexes", '{}')
    from jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb) as v(id bigint, "phonesEncrypted" text, "addressesEncrypted" text, "phoneIndexes" text[])
    where r.id = v.id`);
  return { lastId: Number(rows[rows.length - 1]!.id), rewritten: rows.length };
}

async function rewriteIdentifiers(db: Queryable, encryption: RegistryEncryption, afterId: number, limit: number, version: number) {
  const rows = await queryRows<{ id: number; registrantId: number; idType: string; value: string | null; valueEncrypted: string | null }>(db, sql`
    select id, registrant_id as "registrantId", id_type as "idType", value, value_encrypted as "valueEncrypted"
    from identifiers
    where id > ${afterId} and (value is not null or ${olderThan('value_encrypted', version)})
    order by id limit ${limit} for update`);
  if (rows.length === 0) return { lastId: undefined, rewritten: 0 };
  await encryption.prepareToRead(rows.map((row) => row.valueEncrypted));
  const rewritten = rows.map((row) => {
    const registrantId = Number(row.registrantId);
    const { valueEncrypted, valueIndex } = encryption.encryptIdentifier(registrantId, row.idType, encryption.decryptIdentifier({ ...row, registrantId }));
    return { id: Number(row.id), valueEncrypted, valueIndex };
  });
  await db.execute(sql`
    update identifiers as i set value = null, value_encrypted = v."valueEncrypted", value_index = v."valueIndex"
    from jsonb_to_recordset(${JSON.stringify(rewritten)}::jsonb) as v(id bigint, "valueEncrypted" text, "valueIndex" text)
    where i.id = v.id`);
  return { lastId: Number(rows[rows.length - 1]!.id), rewritten: rows.length };
}
