import type { Session, Transaction } from '../session.js';

// Thrown out of the transaction callback so that it always rolls back; never seen by the caller.
const ROLLBACK = Symbol('sql-helpers/testing rollback');

/**
 * Runs `fn(tx)` in a transaction (a savepoint when `session` is already one) that is always rolled back, and
 * returns what `fn` returned: a test that needs no committed data leaves nothing behind. Pass `tx` to the
 * helpers and run queries on it; nested `tx.transaction()` calls are savepoints inside it.
 */
export async function withRollback<T>(session: Session, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await session.transaction(async (tx) => {
      result = await fn(tx);
      throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  return result as T;
}
