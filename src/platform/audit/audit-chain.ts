import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { queryRows, type Db, type Queryable } from '../database/database.js';

/** Any 64-bit number unique to this purpose: only one process seals at a time. */
const SEAL_LOCK_KEY = 727_001;
const GENESIS_HASH = '0'.repeat(64);

interface ChainRow {
  id: number;
  chain_position: number | null;
  entry_hash: string | null;
  occurred: string;
  actor_type: string;
  actor_id: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before_text: string | null;
  after_text: string | null;
  request_id: string | null;
}

// Text forms chosen by the database (UTC timestamp with microseconds, jsonb's canonical text), so
// sealing and verifying hash exactly the same bytes on PGlite and PostgreSQL.
const chainColumns = sql`id, chain_position, entry_hash,
  to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred,
  actor_type, actor_id, action, entity_type, entity_id, before::text as before_text, after::text as after_text, request_id`;

export function entryHash(previousHash: string, position: number, row: ChainRow): string {
  const content = JSON.stringify([position, Number(row.id), row.occurred, row.actor_type, row.actor_id, row.action, row.entity_type, row.entity_id, row.before_text, row.after_text, row.request_id]);
  return crypto.createHash('sha256').update(`${previousHash}\n${content}`).digest('hex');
}

/**
 * Adds committed entries to the hash chain, oldest first. Entries are sealed a few seconds after
 * they were written (`settleSeconds`), so a transaction still open does not leave a hole; one that
 * commits later still gets sealed, at the end of the chain. Safe to run from several processes.
 * Returns how many entries it sealed.
 */
export async function sealAuditLog(db: Db, options: { settleSeconds?: number; batchSize?: number } = {}): Promise<number> {
  const settleSeconds = options.settleSeconds ?? 5;
  const batchSize = options.batchSize ?? 5000;
  let sealed = 0;
  for (;;) {
    const count = await db.transaction(async (tx) => {
      const [lock] = await queryRows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${SEAL_LOCK_KEY}) as locked`);
      if (!lock?.locked) return 0;
      const [head] = await queryRows<{ chain_position: number; entry_hash: string }>(tx, sql`
        select chain_position, entry_hash from audit_log where chain_position is not null order by chain_position desc limit 1`);
      const rows = await queryRows<ChainRow>(tx, sql`
        select ${chainColumns} from audit_log
        where entry_hash is null and occurred_at <= now() - make_interval(secs => ${settleSeconds})
        order by id limit ${batchSize}`);
      if (rows.length === 0) return 0;
      let previousHash = head?.entry_hash ?? GENESIS_HASH;
      let position = Number(head?.chain_position ?? 0);
      const seals = rows.map((row) => {
        position += 1;
        previousHash = entryHash(previousHash, position, row);
        return { id: Number(row.id), position, hash: previousHash };
      });
      await tx.execute(sql`
        update audit_log as a set chain_position = s.position, entry_hash = s.hash, sealed_at = now()
        from jsonb_to_recordset(${JSON.stringify(seals)}::jsonb) as s(id bigint, position bigint, hash text)
        where a.id = s.id`);
      return rows.length;
    });
    sealed += count;
    if (count < batchSize) return sealed;
  }
}

export interface ChainProblem { position: number; auditId?: number; problem: string }

export interface ChainVerification {
  entries: number;
  headPosition: number;
  headHash: string | null;
  problems: ChainProblem[];
  /** Entries older than an hour that were never sealed: the sealer is not running, or rows were slipped in. */
  staleUnsealed: number;
}

/**
 * Recomputes the whole chain in order. An edited entry breaks its own hash; a deleted one leaves a
 * gap in the positions; an entry slipped in bypassing the sealer stays unsealed. Keep the printed
 * head hash somewhere else (a ticket, a signed report) to also detect a rewrite of the chain's tail.
 */
export async function verifyAuditChain(db: Queryable, onProgress?: (entries: number) => void): Promise<ChainVerification> {
  const problems: ChainProblem[] = [];
  let previousHash = GENESIS_HASH;
  let expectedPosition = 1;
  let entries = 0;
  for (;;) {
    const rows = await queryRows<ChainRow>(db, sql`
      select ${chainColumns} from audit_log where chain_position >= ${expectedPosition} order by chain_position limit 5000`);
    if (rows.length === 0) break;
    for (const row of rows) {
      const position = Number(row.chain_position);
      if (position !== expectedPosition) {
        problems.push({ position: expectedPosition, problem: `entries ${expectedPosition} to ${position - 1} are missing (deleted)` });
      }
      const recomputed = entryHash(previousHash, position, row);
      if (recomputed !== row.entry_hash) {
        problems.push({ position, auditId: Number(row.id), problem: 'content or hash does not match the chain (edited)' });
      }
      previousHash = row.entry_hash ?? recomputed;
      expectedPosition = position + 1;
      entries += 1;
    }
    onProgress?.(entries);
  }
  const [stale] = await queryRows<{ count: number }>(db, sql`
    select count(*)::int as count from audit_log where entry_hash is null and occurred_at < now() - interval '1 hour'`);
  return { entries, headPosition: expectedPosition - 1, headHash: entries > 0 ? previousHash : null, problems, staleUnsealed: Number(stale?.count ?? 0) };
}
