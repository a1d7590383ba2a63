import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db, Tx } from './database.js';

/**
 * Makes the database handle follow the current transaction. While `db.transaction(work)` runs,
 * any query issued through the root `db` in the same async flow (e.g. by another module's service
 * called from inside the transaction) runs inside that transaction instead of beside it.
 *
 * Why: PGlite has one connection guarded by a mutex, so a query outside an open transaction
 * would wait for it forever; on PostgreSQL it would run on another connection and miss the
 * transaction's uncommitted rows. Either way the caller meant "in my transaction".
 */
const ACTIVE_TRANSACTION = Symbol('activeTransaction');

/**
 * The transaction `db` is following right now (a `transactionAware` handle inside
 * `db.transaction`), or `db` itself when it is a transaction; undefined for the root handle
 * outside any transaction. Lets a caller choose work that must not leave the transaction.
 */
export function currentTransaction(db: Db | Tx): Tx | undefined {
  const active = (db as unknown as Record<symbol, Tx | undefined>)[ACTIVE_TRANSACTION];
  if (active) return active;
  return 'rollback' in db ? db : undefined;
}

export function transactionAware(root: Db): Db {
  const current = new AsyncLocalStorage<Tx>();
  const transaction = (work: (tx: Tx) => Promise<unknown>, config?: unknown) => {
    const outer = current.getStore();
    const run = (tx: Tx) => current.run(tx, () => work(tx));
    // Nested: a savepoint inside the outer transaction.
    return outer ? outer.transaction(run) : (root.transaction as (w: typeof run, c?: unknown) => Promise<unknown>)(run, config);
  };
  return new Proxy(root, {
    get(target, property, receiver) {
      if (property === 'transaction') return transaction;
      if (property === ACTIVE_TRANSACTION) return current.getStore();
      const active = current.getStore();
      const source = (active ?? target) as unknown as Record<string | symbol, unknown>;
      const value = active ? source[property] : Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(source) : value;
    },
  });
}
