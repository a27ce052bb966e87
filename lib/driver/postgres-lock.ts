import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { ConnectionError, LockTimeoutError, fromDriverError, type ErrorContext } from '../errors.js';
import type { LockWaitReader, Row } from './driver.js';

/** How the migration lock waits, and what it reports. */
export interface AdvisoryLockOptions {
  /** The 64-bit key, as decimal text the server computed. */
  key: string;
  /** For the timeout's message: what the lock is, and what to do when it stays taken. */
  description: string;
  advice: string;
  timeoutMs: number;
  stopWaiting?: ((read: LockWaitReader) => Promise<boolean>) | undefined;
  context: ErrorContext;
}

// While it holds the lock, the lock connection sits idle in a transaction: a query now and then keeps a
// pooler's or the server's idle-in-transaction timeout from ending it (and the lock with it) mid-run.
const HEARTBEAT_MS = 5_000;

/**
 * The migration lock: a transaction-scoped advisory lock, held by a transaction kept open on a connection of
 * its own for the whole run. A transaction pooler pins a server connection to its client for as long as a
 * transaction is open, so the lock holds through PgBouncer in transaction mode; and since it ends with that
 * transaction, it can never be left behind on a pooled server connection, which a session lock can.
 * Waiters never hold a transaction between attempts: they neither pin a pooled server connection nor hold a
 * snapshot that a `CREATE INDEX CONCURRENTLY` run by the holder would wait for.
 */
export class AdvisoryLock {
  readonly #client: Client;
  #heartbeat: NodeJS.Timeout | undefined;
  #lost: unknown;
  #released = false;

  private constructor(client: Client) {
    this.#client = client;
    this.#heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((error: unknown) => this.#lose(error));
    }, HEARTBEAT_MS).unref();
    client.on('end', () => this.#lose(new Error('Connection terminated')));
  }

  /** Polls until the lock is held (an `AdvisoryLock`), `stopWaiting` says to give up (`null`), or the timeout. */
  static async acquire(client: Client, options: AdvisoryLockOptions): Promise<AdvisoryLock | null> {
    if (!/^-?\d+$/.test(options.key)) throw new Error(`unexpected advisory lock key ${JSON.stringify(options.key)}`);
    // One message: the transaction, a timeout that would otherwise end it while migrations run, the attempt.
    const attempt =
      'BEGIN; SET LOCAL idle_in_transaction_session_timeout = 0; ' + `SELECT pg_try_advisory_xact_lock(${options.key}) AS locked`;
    const read: LockWaitReader = async (query) => (await client.query(query.text, query.values)).rows as Row[];
    const deadline = Date.now() + options.timeoutMs;
    try {
      // A short cap: a waiter notices a released lock within 50 ms, and an attempt costs the server next to nothing.
      for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
        const results = (await client.query(attempt)) as unknown as Array<{ rows: Row[] }>;
        if (results.at(-1)?.rows[0]?.locked === true) return new AdvisoryLock(client);
        await client.query('ROLLBACK');
        if (options.stopWaiting && (await options.stopWaiting(read))) return null;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new LockTimeoutError(`timed out after ${options.timeoutMs} ms waiting for ${options.description}; ${options.advice}`);
        }
        await sleep(Math.min(delay, left));
      }
    } catch (error) {
      throw fromDriverError(error, options.context);
    }
  }

  #lose(error: unknown): void {
    if (this.#released || this.#lost !== undefined) return;
    this.#lost = error;
    clearInterval(this.#heartbeat);
  }

  /** Throws when the lock's connection died (and the lock with it): nothing more may be committed under it. */
  assertHeld(context: ErrorContext): void {
    if (this.#lost === undefined) return;
    const reason = fromDriverError(this.#lost, context).message;
    throw new ConnectionError(
      `the migration lock was lost with its connection (${reason}); the current migration was rolled back and ` +
        `nothing more was applied: run sync again`,
      { code: 'LOCK_LOST', cause: this.#lost },
    );
  }

  /** Ends the lock's transaction, which releases the lock, and closes its connection. */
  async release(): Promise<void> {
    this.#released = true;
    clearInterval(this.#heartbeat);
    // A dead connection has already lost its lock with its session.
    await this.#client.query('ROLLBACK').catch(() => undefined);
    await this.#client.end().catch(() => undefined);
  }
}
