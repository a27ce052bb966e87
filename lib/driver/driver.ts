import type BetterSqlite3 from 'better-sqlite3';
import type { Pool, PoolConfig } from 'pg';
import type { ErrorContext } from '../errors.js';
import type { Sql } from '../sql.js';
import type { Statement } from '../migrations/statements.js';

/** The two databases sql-helpers speaks to. */
export type Dialect = 'postgres' | 'sqlite';

// Type-only imports: neither driver is loaded for these; each is loaded at run time only for its URIs.
/** `db.engine` per dialect: the `pg.Pool` or the better-sqlite3 `Database`. */
export interface Engines {
  postgres: Pool;
  sqlite: BetterSqlite3.Database;
}

/** `engineArgs` per dialect: what the `pg.Pool` or the better-sqlite3 `Database` constructor takes. */
export interface EngineArgs {
  postgres: PoolConfig;
  sqlite: BetterSqlite3.Options;
}

/** A result row: column name to value. */
export type Row = Record<string, unknown>;

/** Rows returned and rows affected by one statement. */
export interface QueryResult<R = Row> {
  rows: R[];
  rowCount: number;
}

/** A migration body: the file's text and its statements, split once when the file is read. */
export interface Script {
  text: string;
  statements: Statement[];
}

/** A session that holds a lock another one waits for, as `pg_stat_activity` shows it. */
export interface LockBlocker {
  pid: number;
  applicationName: string;
  user: string | null;
  /** `active`, `idle in transaction`, … */
  state: string | null;
  /** How long its transaction (else its query) has been running, in seconds. */
  seconds: number | null;
  /** The lock modes it holds on the relation waited for (`AccessShareLock`, …), when it is a relation. */
  heldModes: string[];
  /** The start of its current or last query, string literals hidden, at most `QUERY_EXCERPT` characters. */
  query: string;
}

/** What a migration waits for while it waits for a lock, and who holds it. */
export interface LockWait {
  /** The relation (schema-qualified as the server prints it), or `null` for another kind of lock. */
  relation: string | null;
  /** `relation`, `transactionid`, `tuple`, … (pg_locks.locktype). */
  lockType: string;
  /** The mode wanted: `AccessExclusiveLock`, … */
  mode: string;
  blockers: LockBlocker[];
}

/**
 * How long a migration may wait for locks and run. Drivers without a lock queue (SQLite: a writer never blocks
 * readers in WAL mode, and the write lock is bounded by the busy timeout) ignore them.
 */
export interface ScriptLimits {
  /** `lock_timeout` in milliseconds; 0 for none. */
  lockTimeoutMs: number;
  /** `statement_timeout` in milliseconds, 0 for none; `undefined` leaves the server's setting. */
  statementTimeoutMs: number | undefined;
  /** A short ASCII name (the file) shown in `application_name` while the migration runs. */
  label: string;
  /** Called when the script has been waiting for a lock for a while, with what it waits for. */
  onLockWait?: ((wait: LockWait) => void) | undefined;
  /** Called when the limits cannot be enforced on this connection, with why. */
  onUnenforced?: ((reason: string) => void) | undefined;
}

/** Thrown by `runScript`: the driver's error and, when known, the offset in `Script.text` where it happened. */
export class ScriptFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly offset: number | undefined,
    /** What the script was last seen waiting for, when it failed waiting for a lock. */
    readonly lockWait?: LockWait,
  ) {
    super('migration script failed', { cause: error });
  }
}

/** One connection, checked out for the caller alone until `release()`. */
export interface Connection {
  /** Runs one statement with bound values. */
  query<R = Row>(query: Sql): Promise<QueryResult<R>>;
  /** Gives the connection back; `discard` closes it instead, for connections whose session state is unknown. */
  release(discard?: boolean): void;
}

/** A connection that holds the migration lock, with the two ways of applying a script. */
export interface MigrationConnection {
  /** Runs one statement with bound values. */
  query<R = Row>(query: Sql): Promise<QueryResult<R>>;
  /** Runs `script`, then `record(this)`, as one atomic unit: both or neither; within `limits` where given. */
  applyAtomically(script: Script, record: () => Promise<void>, limits?: ScriptLimits): Promise<void>;
  /** Runs `script` statement by statement outside any transaction, then `record()`; `limits` apply per statement. */
  applyOutsideTransaction(script: Script, record: () => Promise<void>, limits?: ScriptLimits): Promise<void>;
  /** Drops every table, view, sequence and type of the managed schema, atomically where the database can. */
  dropEverything(): Promise<void>;
  /** Finishes any open work, releases the lock and gives the connection back. */
  unlock(): Promise<void>;
  /** Why a no-transaction file cannot run correctly on this connection, or `undefined` when it can. */
  readonly noTransactionBlocker?: string | undefined;
}

/** Reads rows on the connection that waits for the migration lock. */
export type LockWaitReader = (query: Sql) => Promise<Row[]>;

/** How `acquireMigrationLock` waits. */
export interface LockOptions {
  lock?: boolean;
  stopWaiting?: ((read: LockWaitReader) => Promise<boolean>) | undefined;
}

/** The seam: everything that differs between PostgreSQL and SQLite lives behind it. */
export interface Driver {
  readonly dialect: Dialect;
  /** The `pg.Pool` or the better-sqlite3 `Database`. */
  readonly engine: unknown;
  /** The redacted URI and the secret to scrub, for error messages. */
  readonly errorContext: ErrorContext;
  /** The statement that opens a transaction (`BEGIN`, or `BEGIN IMMEDIATE` on SQLite). */
  readonly beginStatement: string;
  /**
   * Checks out a connection (on SQLite, waits for the single connection to be free). `qualifiedOnly`: the caller
   * runs only schema-qualified statements (the migrator's reads), so the managed schema need not be in force.
   */
  acquire(options?: { qualifiedOnly?: boolean }): Promise<Connection>;
  /**
   * Runs one statement at once when that needs no waiting (SQLite with its connection free), skipping the
   * promise hand-off of `acquire()`; returns `undefined` when the caller must `acquire()` instead.
   */
  runIfIdle?<R = Row>(query: Sql): QueryResult<R> | undefined;
  /**
   * Checks out a connection holding the migration lock named `lockName`, waiting at most `timeoutMs`.
   * Between attempts it asks `options.stopWaiting` (given a way to read) whether the wait is still worth it,
   * and returns `null` when it is not. `lock: false` exists only so the concurrency tests can show what goes
   * wrong without the lock.
   */
  acquireMigrationLock(lockName: string, timeoutMs: number, options?: LockOptions): Promise<MigrationConnection | null>;
  /**
   * A query returning one row `{ present }`: whether the table or view `name` (quoted parts, optionally
   * schema-qualified) exists, and when `column` is given, whether it has that column.
   */
  relationExistsQuery(name: string[], column?: string): Sql;
  /**
   * An expression for `RETURNING` after `INSERT … ON CONFLICT DO UPDATE`: true for a row the statement
   * inserted, false for one it updated; `undefined` where the database cannot tell in one statement.
   */
  readonly insertedFlag: Sql | undefined;
  /** The managed schema as SQL text, the same for the same schema (for review diffs); reads only. */
  dumpSchema(): Promise<string>;
  /**
   * Whether getOrCreate should look for the row and insert it in one data-modifying statement (a writable CTE):
   * the database has them, statements are prepared (through a transaction pooler it would be planned on every
   * call, three times a SELECT's server time), and the server takes writes (a hot standby refuses the statement
   * even when the row exists). `undefined` until a connection has been checked out and looked at.
   */
  readonly findOrInsertInOneStatement: boolean | undefined;
  /** Releases every connection. */
  close(): Promise<void>;
}
