import { inspect, type InspectOptions } from 'node:util';
import type { Dialect, Engines, QueryResult } from './driver/driver.js';
import { ConfigurationError, fromDriverError } from './errors.js';
import { resolveOptions, type DatabaseManagerOptions } from './options.js';
export type { DatabaseManagerOptions } from './options.js';
import { createDriver } from './driver/load.js';
import type { Sql } from './sql.js';
import { Migrator, SyncResult, type MigrationRun, type PlanAction, type PlannedStep, type RepairResult } from './migrations/migrator.js';
import { highestVersion, refusals, type Comparison, type MigrationListing, type Problem, type Target } from './migrations/plan.js';
import { Session, connectionSessionOn, transactionOn, withConnection, type Transaction } from './session.js';

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
  /**
   * The files and the version table disagree so that `sync()` would refuse: an applied file was edited
   * (`CHECKSUM_MISMATCH`) or is gone (`MISSING_FILE`), or a pending file is older than an applied version
   * (`OUT_OF_ORDER`, unless allowed). `verify()` says which.
   */
  DRIFT: 'DRIFT',
} as const;
export type DatabaseStatus = (typeof DatabaseStatus)[keyof typeof DatabaseStatus];

/** The status a comparison of files and version table amounts to. */
export function statusOf(comparison: Comparison, recorded: boolean, allowOutOfOrder = false): DatabaseStatus {
  if (!recorded) return DatabaseStatus.NO_INFO;
  if (comparison.problems.some((problem) => problem.code === 'DATABASE_AHEAD')) return DatabaseStatus.AHEAD;
  if (refusals(comparison, allowOutOfOrder).length > 0) return DatabaseStatus.DRIFT;
  return comparison.pending.length > 0 ? DatabaseStatus.UPGRADE_AVAILABLE : DatabaseStatus.UP_TO_DATE;
}

/**
 * Whether a service starting now would find the database ready, from `readiness()`. `ready`: `sync()` has
 * nothing to do. Otherwise `pending` lists what it would apply, and `problems` why it would refuse instead.
 */
export interface Readiness {
  ready: boolean;
  status: DatabaseStatus;
  /** Versions `sync()` would apply. */
  pending: number[];
  /** What `sync()` would refuse for (drift, out of order, ahead); when not empty, `sync()` throws. */
  problems: Problem[];
}

/** The result of `verify()`: `ok` when files and version table agree. */
export interface VerifyReport {
  ok: boolean;
  problems: Problem[];
}


/**
 * One database and its migrations folder: runs SQL (it is a `Session`) and manages the schema
 * (`sync`, `upgrade`, `downgrade`, `stamp`, `drop`, status). `D` is the dialect, taken from a URI literal
 * (`new DatabaseManager('postgres://…', dir)` is a `DatabaseManager<'postgres'>`), or given
 * (`new DatabaseManager<'postgres'>(process.env.DATABASE_URL!, dir)`); it types `engine` and `engineArgs`.
 */
export class DatabaseManager<D extends Dialect = Dialect> extends Session {
  declare readonly dialect: D;
  /** The folder holding the numbered `.sql` files. */
  readonly migrationsDir: string;
  /** The lower-level migrator, whose methods also report what they ran. */
  readonly migrator: Migrator;
  readonly #allowOutOfOrder: boolean;
  #closed = false;

  // `postgres:…` and `sqlite:…` name their dialect; `postgresql:…` needs its own line; any other string is either.
  constructor(uri: `${D}:${string}`, migrationsDir: string, options?: DatabaseManagerOptions<D>);
  constructor(uri: `${D}ql:${string}`, migrationsDir: string, options?: DatabaseManagerOptions<D>);
  constructor(uri: string | URL, migrationsDir: string, options?: DatabaseManagerOptions<D>);
  constructor(uri: string | URL, migrationsDir: string, options: DatabaseManagerOptions<D> = {}) {
    // Everything is checked before the driver connects or creates a file.
    const resolved = resolveOptions(options);
    if (typeof migrationsDir !== 'string' || migrationsDir === '') {
      throw new ConfigurationError('migrationsDir must be the path of the folder holding the .sql files, as a non-empty string', { code: 'INVALID_OPTION' });
    }
    const driver = createDriver(uri, {
      engineArgs: resolved.engineArgs,
      schema: resolved.schema,
      preparedStatements: resolved.preparedStatements,
      directUrl: resolved.directUrl,
      sqliteImage: resolved.sqliteImage,
      typeParsing: resolved.typeParsing,
      connectTimeoutMs: resolved.connectTimeoutMs,
    });
    super(driver);
    this.migrationsDir = migrationsDir;
    this.migrator = new Migrator(this.driver, migrationsDir, resolved);
    this.#allowOutOfOrder = resolved.allowOutOfOrder;
  }

  /** The underlying `pg.Pool` or better-sqlite3 `Database`. */
  get engine(): Engines[D] {
    return this.driver.engine as Engines[D];
  }

  /** The URI with its password replaced by `***`: safe to print. */
  get url(): string {
    return this.driver.errorContext.target;
  }

  protected run<R>(query: Sql): Promise<QueryResult<R>> {
    return this.#run<R>(query);
  }

  protected override rowsNow<R>(query: Sql): R[] | undefined {
    try {
      return this.driver.runIfIdle?.<R>(query)?.rows;
    } catch (error) {
      throw fromDriverError(error, this.driver.errorContext);
    }
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

  /**
   * `NO_INFO`, `UP_TO_DATE`, `UPGRADE_AVAILABLE`, `AHEAD` or `DRIFT` (sync would refuse); throws
   * `ConnectionError` when unreachable. `UP_TO_DATE` only when `sync()` would have nothing to do.
   */
  async getStatus(): Promise<DatabaseStatus> {
    return (await this.readiness()).status;
  }

  /** Whether `sync()` would have nothing to do, and if not, what it would apply or why it would refuse. Changes nothing. */
  async readiness(): Promise<Readiness> {
    const { comparison, recorded } = await this.compare();
    const problems = refusals(comparison, this.#allowOutOfOrder);
    const pending = comparison.pending.map((migration) => migration.version);
    return { ready: pending.length === 0 && problems.length === 0, status: statusOf(comparison, recorded, this.#allowOutOfOrder), pending, problems };
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

  /** Reverts the highest applied version with its `.down.sql` file; nothing when nothing is applied. */
  rollback(): Promise<MigrationRun[]> {
    return this.migrator.rollback();
  }

  /** Reverts the highest applied version and applies it again (while writing a migration). */
  redo(): Promise<{ reverted: MigrationRun[]; applied: MigrationRun[] }> {
    return this.migrator.redo();
  }

  /**
   * What `sync`, `upgrade(target)`, `downgrade(target)` or `rollback` would run, with each file's SQL; takes no
   * lock and creates nothing. Throws where the action would refuse.
   */
  plan(action: PlanAction, target?: Target | string): Promise<PlannedStep[]> {
    return this.migrator.plan(this.#reader(), action, target);
  }

  /** Records the current checksum of applied file `version` after a harmless edit; refuses unapplied versions and missing files. */
  repair(version: number | string): Promise<RepairResult> {
    return this.migrator.repair(version);
  }

  /** The managed schema as SQL, deterministic (PostgreSQL: `pg_dump --schema-only`; SQLite: `sqlite_schema`). */
  dumpSchema(): Promise<string> {
    return this.driver.dumpSchema();
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
    return (...args: A) => connectionSessionOn(this.driver, (session) => fn(session, ...args));
  }

  /** What `JSON.stringify(db)` shows: the dialect, the redacted URI and the folder; never the pool or a password. */
  toJSON(): { dialect: string; url: string; migrationsDir: string } {
    return { dialect: this.dialect, url: this.url, migrationsDir: this.migrationsDir };
  }

  /** What `console.log(db)` and `util.inspect(db)` show: the same as `toJSON()`. */
  [inspect.custom](_depth: number, options: InspectOptions, show: typeof inspect): string {
    return `DatabaseManager ${show(this.toJSON(), options)}`;
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
