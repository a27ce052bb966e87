import type { QueryResult } from './driver/driver.js';
import { fromDriverError } from './errors.js';
import { createDriver } from './driver/load.js';
import type { Sql } from './sql.js';
import { ddlLockPolicy } from './migrations/lock-retry.js';
import { Migrator, SyncResult, type Logger, type MigrationRun } from './migrations/migrator.js';
import { highestVersion, type Comparison, type MigrationListing, type Problem, type Target } from './migrations/plan.js';
import { ConnectionSession, Session, transactionOn, withConnection, type Transaction } from './session.js';

/** What `getStatus()` reports (the seed's names, plus `AHEAD`). */
export const DatabaseStatus = {
  /** Reachable, but no version is recorded. */
  NO_INFO: 'NO_INFO',
  /** Every migration file is applied. */
  UP_TO_DATE: 'UP_TO_DATE',
  /** Some migration files are pending. */
  UPGRADE_AVAILABLE: 'UPGRADE_AVAILABLE',
  /** The database has versions applied that no file here knows: it is newer than this code. */
  AHEAD: 'AHEAD',
} as const;
export type DatabaseStatus = (typeof DatabaseStatus)[keyof typeof DatabaseStatus];

/** The status a comparison of files and version table amounts to. */
export function statusOf(comparison: Comparison, recorded: boolean): DatabaseStatus {
  if (!recorded) return DatabaseStatus.NO_INFO;
  if (comparison.problems.some((problem) => problem.code === 'DATABASE_AHEAD')) return DatabaseStatus.AHEAD;
  return comparison.pending.length > 0 ? DatabaseStatus.UPGRADE_AVAILABLE : DatabaseStatus.UP_TO_DATE;
}

/** Options of `new DatabaseManager(uri, migrationsDir, options)`. */
export interface DatabaseManagerOptions {
  /** Passed to the `pg.Pool` or `better-sqlite3` constructor (e.g. `{ max: 20 }`, `{ timeout: 10000 }`). */
  engineArgs?: Record<string, unknown>;
  /** The version table's name; default `sql_helpers_migrations`. */
  versionTable?: string;
  /**
   * PostgreSQL only: the schema to manage; created if missing, set for each migration's transaction, and first
   * on every pooled connection's search_path (checked: behind a transaction pooler, see the README).
   */
  schema?: string;
  /**
   * PostgreSQL only: run queries with values as named prepared statements. `'auto'` (default) does on direct
   * connections and not through a transaction pooler (detected per connection); `true` always; `false` never.
   */
  preparedStatements?: 'auto' | boolean;
  /** PostgreSQL only: a URL reaching the same database without a pooler, used for the migrations' connections. */
  directUrl?: string;
  /** How long `sync()` and friends wait for another process's migration lock; default 5 minutes. */
  lockTimeoutMs?: number;
  /**
   * PostgreSQL: how long each migration's statements may wait for a table lock (`lock_timeout`, set per migration)
   * before the migration is rolled back and tried again; bounds how long queries queued behind an `ALTER TABLE` stall.
   * Default 5000; 0 waits without limit. A file's `-- sql-helpers:lock-timeout 30s` line overrides it. Not the
   * migration lock's wait: that is `lockTimeoutMs`.
   */
  ddlLockTimeoutMs?: number;
  /** PostgreSQL: how many times a transactional migration that timed out on a lock is tried (timeouts growing up to `ddlLockTimeoutMs`); default 5. */
  ddlLockAttempts?: number;
  /** Apply a pending file even when a newer version is already applied; default false. */
  allowOutOfOrder?: boolean;
  /** Receives one line per migration applied; e.g. `console`. */
  logger?: Logger;
  /** `sqlite::memory:` only: open the database from this serialized image (`Database#serialize()`) instead of empty. */
  sqliteImage?: Buffer;
}

/** The result of `verify()`: `ok` when files and version table agree. */
export interface VerifyReport {
  ok: boolean;
  problems: Problem[];
}

export const DEFAULT_VERSION_TABLE = 'sql_helpers_migrations';
export const DEFAULT_LOCK_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * One database and its migrations folder: runs SQL (it is a `Session`) and manages the schema
 * (`sync`, `upgrade`, `downgrade`, `stamp`, `drop`, status).
 */
export class DatabaseManager extends Session {
  /** The folder holding the numbered `.sql` files. */
  readonly migrationsDir: string;
  /** The lower-level migrator, whose methods also report what they ran. */
  readonly migrator: Migrator;
  #closed = false;

  constructor(uri: string, migrationsDir: string, options: DatabaseManagerOptions = {}) {
    // Checked before the driver opens anything, so a bad value leaves no pool or file handle behind.
    const ddlLock = ddlLockPolicy(options);
    const driver = createDriver(uri, {
      engineArgs: options.engineArgs,
      schema: options.schema,
      preparedStatements: options.preparedStatements,
      directUrl: options.directUrl,
      sqliteImage: options.sqliteImage,
    });
    super(driver);
    this.migrationsDir = migrationsDir;
    this.migrator = new Migrator(this.driver, migrationsDir, {
      versionTable: options.versionTable ?? DEFAULT_VERSION_TABLE,
      schema: options.schema,
      lockTimeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      ddlLock,
      allowOutOfOrder: options.allowOutOfOrder ?? false,
      logger: options.logger,
    });
  }

  /** The underlying `pg.Pool` or better-sqlite3 `Database`. */
  get engine(): unknown {
    return this.driver.engine;
  }

  /** The URI with its password replaced by `***`: safe to print. */
  get url(): string {
    return this.driver.errorContext.target;
  }

  protected run<R>(query: Sql): Promise<QueryResult<R>> {
    return this.#run<R>(query);
  }

  #run<R>(query: Sql, options?: { qualifiedOnly?: boolean }): Promise<QueryResult<R>> {
    try {
      const now = this.driver.runIfIdle?.<R>(query);
      if (now !== undefined) return Promise.resolve(now);
    } catch (error) {
      return Promise.reject(fromDriverError(error, this.driver.errorContext));
    }
    return withConnection(
      this.driver,
      (connection) =>
        connection.query<R>(query).catch((error: unknown) => {
          throw fromDriverError(error, this.driver.errorContext);
        }),
      options,
    );
  }

  /** Runs `fn(tx)` in a transaction on one pooled connection; commits on success, rolls back on throw. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return transactionOn(this.driver, fn);
  }

  // The migrator's own reads name the version table with its schema, so they work where the managed schema is
  // not in force (behind a transaction pooler); a caller's session is used as it is.
  #reader(session?: Session) {
    if (session !== undefined) return (query: Sql) => session.query(query);
    return async (query: Sql) => (await this.#run<Record<string, unknown>>(query, { qualifiedOnly: true })).rows;
  }

  /** Applies every migration to an empty database; refuses (`ALREADY_CREATED`) when versions are recorded. */
  create(): Promise<MigrationRun[]> {
    return this.migrator.create();
  }

  /** Drops every table, view, sequence, type and routine of the managed schema, and the version table. Idempotent. */
  drop(): Promise<void> {
    return this.migrator.drop();
  }

  /** The highest applied version, or `null` when none is recorded. */
  async getCurrentRevision(session?: Session): Promise<number | null> {
    const applied = await this.migrator.readApplied(this.#reader(session));
    return applied === null ? null : highestVersion(applied);
  }

  /** The highest version among the files, or `null` when there are none. */
  async getLatestRevision(): Promise<number | null> {
    return (await this.migrator.migrations()).at(-1)?.version ?? null;
  }

  /** `NO_INFO`, `UP_TO_DATE`, `UPGRADE_AVAILABLE` or `AHEAD`; throws `ConnectionError` when unreachable. */
  async getStatus(): Promise<DatabaseStatus> {
    const { comparison, recorded } = await this.compare();
    return statusOf(comparison, recorded);
  }

  /** @internal The files compared with the version table, for the CLI's status. */
  compare(): Promise<{ comparison: Comparison; recorded: boolean }> {
    return this.migrator.compare(this.#reader());
  }

  /** `CREATED` (nothing was recorded), `UPGRADED` (pending applied) or `ALREADY_UP_TO_DATE`. Safe to call from many processes at once. */
  async sync(): Promise<SyncResult> {
    return (await this.migrator.sync(this.#reader())).result;
  }

  /** Applies pending migrations up to `target` (a version, or `'head'`); returns what ran. */
  upgrade(target: Target | string = 'head'): Promise<MigrationRun[]> {
    return this.migrator.upgrade(target);
  }

  /** Reverts applied migrations above `target` (0 for all) with their `.down.sql` files; refuses, changing nothing, if one is missing. */
  downgrade(target: Target | string): Promise<MigrationRun[]> {
    return this.migrator.downgrade(target);
  }

  /** Records the files up to `target` as applied without running them, to adopt an existing database. */
  stamp(target: Target | string): Promise<number[]> {
    return this.migrator.stamp(target);
  }

  /** Every migration, from the files and the version table, with its state. */
  async listMigrations(): Promise<MigrationListing[]> {
    return (await this.migrator.compare(this.#reader())).comparison.listing;
  }

  /** Reports drift without changing anything: edited or missing applied files, out-of-order or unknown versions. */
  async verify(): Promise<VerifyReport> {
    const { problems } = (await this.migrator.compare(this.#reader())).comparison;
    return { ok: problems.length === 0, problems };
  }

  /** Wraps `fn` so that it runs as `fn(session, ...args)` on a connection of its own, configured for schema work. */
  configuredConnection<A extends unknown[], T>(fn: (session: Session, ...args: A) => Promise<T>): (...args: A) => Promise<T> {
    return (...args: A) => withConnection(this.driver, (connection) => fn(new ConnectionSession(this.driver, connection), ...args));
  }

  /** Closes the pool or the SQLite file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.driver.close();
  }
}

/** True when `x` (the manager or any session) talks to SQLite. */
export function isSqlite(x: { dialect: string }): boolean {
  return x.dialect === 'sqlite';
}
