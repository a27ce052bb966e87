import { setTimeout as sleep } from 'node:timers/promises';
import { ScriptFailure, type Driver, type LockOptions, type LockWaitReader, type MigrationConnection, type ScriptLimits } from '../driver/driver.js';
import { ConfigurationError, ConnectionError, DdlLockTimeoutError, LockTimeoutError, MigrationError, MigrationStateError, SqlHelpersError, UndefinedColumnError, UndefinedTableError, fromDriverError } from '../errors.js';
import { empty, identifier, sql, type Sql } from '../sql.js';
import { readMigrations, type Migration, type MigrationScript } from './files.js';
import {
  compare,
  parseTarget,
  planDowngrade,
  planRollback,
  planStamp,
  planStampExactly,
  planUpgrade,
  type AppliedMigration,
  type Comparison,
  type Target,
} from './plan.js';
import { formatDuration } from './duration.js';
import { attemptTimeoutMs, backoffMs, type DdlLockPolicy } from './lock-retry.js';
import { lockTimeoutMessage, waitingLine } from './lock-report.js';
import { locate } from './statements.js';

/** Where progress lines go; `console` fits, and so does most loggers' `info`/`warn`. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** What the migrator needs from its owner. */
export interface MigratorOptions {
  versionTable: string;
  schema: string | undefined;
  lockTimeoutMs: number;
  /** The lock timeout and attempts of each migration's own statements (not the migration lock's). */
  ddlLock: DdlLockPolicy;
  allowOutOfOrder: boolean;
  logger: Logger | undefined;
}

/** One migration run (or reverted) by this call. */
export interface MigrationRun {
  version: number;
  name: string;
  file: string;
  durationMs: number;
}

/** What `plan()` can plan: the commands that `--dry-run` applies to. */
export type PlanAction = 'sync' | 'upgrade' | 'downgrade' | 'rollback';

/** One step of a plan, as `--dry-run` prints it: the file, which way, whether in a transaction, and its SQL. */
export interface PlannedStep {
  version: number;
  name: string;
  file: string;
  direction: 'up' | 'down';
  transactional: boolean;
  noop: boolean;
  sql: string;
}

/** What `repair(version)` did: `changed` is false when the recorded checksum already matched the file. */
export interface RepairResult {
  version: number;
  name: string;
  file: string;
  changed: boolean;
  previousChecksum: string;
  checksum: string;
}

/** The result of `sync()` (the seed's names). */
export const SyncResult = {
  /** Nothing was recorded: every migration was applied. */
  CREATED: 'CREATED',
  /** Pending migrations were applied. */
  UPGRADED: 'UPGRADED',
  /** Nothing to do. */
  ALREADY_UP_TO_DATE: 'ALREADY_UP_TO_DATE',
} as const;
export type SyncResult = (typeof SyncResult)[keyof typeof SyncResult];

/** A function that runs one query: a session's `query`, or a locked connection's. */
type Reader = (query: Sql) => Promise<Array<Record<string, unknown>>>;

// The negative control of the concurrency tests: migrate without the lock, to show the tests catch it. Never set it.
const UNSAFE_NO_LOCK = process.env.SQL_HELPERS_UNSAFE_NO_MIGRATION_LOCK === '1';

// lock_not_available: a statement of the script waited longer than its lock_timeout.
const isLockTimeout = (error: unknown) => error instanceof ScriptFailure && (error.error as { code?: unknown }).code === '55P03';

const NEEDS_NO_TRANSACTION = /cannot (run|be executed|VACUUM|change).*(inside|within|from within) a (transaction|pipeline)/i;

/** Runs migrations: takes the lock, re-reads the state under it, applies each file atomically with its version row. */
export class Migrator {
  readonly #driver: Driver;
  readonly #dir: string;
  readonly #options: MigratorOptions;
  readonly #tableName: string[];
  readonly #table: Sql;

  constructor(driver: Driver, migrationsDir: string, options: MigratorOptions) {
    this.#driver = driver;
    this.#dir = migrationsDir;
    this.#options = options;
    this.#tableName = options.schema === undefined ? [options.versionTable] : [options.schema, options.versionTable];
    this.#table = identifier(...this.#tableName);
  }

  /** The migration files, validated; throws `MigrationFileError` before anything runs. */
  migrations(): Promise<Migration[]> {
    return readMigrations(this.#dir, this.#driver.dialect);
  }

  /**
   * The migration files, read while `databaseRead` (already started) waits for the server: opening a connection
   * costs round trips that reading hundreds of files can hide. A problem with the files is reported first, as
   * when nothing had been asked of the database.
   */
  async #whileReadingFiles<T>(databaseRead: Promise<T>): Promise<[Migration[], T]> {
    let migrations: Migration[];
    try {
      migrations = await this.migrations();
    } catch (error) {
      databaseRead.catch(() => undefined);
      throw error;
    }
    return [migrations, await databaseRead];
  }

  /**
   * `readApplied` in one round trip rather than two, for a `read` outside any transaction of the caller's: the
   * SELECT that fails for a missing table would abort one.
   */
  #selectAppliedIfAny(read: Reader): Promise<AppliedMigration[] | null> {
    return this.#selectApplied(read).catch((error: unknown) => {
      if (fromDriverError(error) instanceof UndefinedTableError) return null;
      throw error;
    });
  }

  /** The version table's rows, or `null` when the table does not exist; safe inside a transaction. */
  async readApplied(read: Reader): Promise<AppliedMigration[] | null> {
    const [existence] = await read(this.#driver.relationExistsQuery(this.#tableName));
    if (!existence?.present) return null;
    return this.#selectApplied(read);
  }

  async #selectApplied(read: Reader): Promise<AppliedMigration[]> {
    let rows;
    try {
      rows = await read(sql`SELECT version, name, checksum, applied_at, duration_ms FROM ${this.#table} ORDER BY version`);
    } catch (error) {
      const mapped = fromDriverError(error, this.#driver.errorContext);
      // Only a missing column means another shape; a closed manager, a refused connection or a permission error
      // is reported as what it is.
      if (mapped instanceof UndefinedColumnError) {
        throw new MigrationStateError(
          `version table ${this.#table.sql} exists but lacks the columns version, name, checksum, applied_at, duration_ms ` +
            `(${mapped.message}); it may belong to another tool: choose another versionTable`,
          { code: 'VERSION_TABLE_SHAPE', cause: error },
        );
      }
      throw mapped;
    }
    return rows.map((row) => ({
      version: Number(row.version),
      name: String(row.name),
      checksum: String(row.checksum),
      appliedAt: row.applied_at instanceof Date ? row.applied_at : new Date(String(row.applied_at)),
      durationMs: Number(row.duration_ms),
    }));
  }

  /** Files and version table compared, for status, listing and verify. */
  async compare(read: Reader): Promise<{ comparison: Comparison; recorded: boolean }> {
    const [migrations, applied] = await this.#whileReadingFiles(this.#selectAppliedIfAny(read));
    return { comparison: compare(migrations, applied ?? []), recorded: applied !== null && applied.length > 0 };
  }

  /** Applies what is pending; `CREATED` when nothing was recorded before. One read, no lock, when up to date. */
  async sync(read: Reader): Promise<{ result: SyncResult; applied: MigrationRun[] }> {
    const [migrations, known] = await this.#whileReadingFiles(this.#selectAppliedIfAny(read));
    // Up to date: something is recorded, nothing is pending, and nothing disagrees.
    const upToDate = (applied: AppliedMigration[] | null) => {
      if (applied === null || applied.length === 0) return false;
      const { pending, problems } = compare(migrations, applied);
      return pending.length === 0 && problems.length === 0;
    };
    if (upToDate(known)) return { result: SyncResult.ALREADY_UP_TO_DATE, applied: [] };
    if ((known === null || known.length === 0) && migrations.length === 0) {
      // Nothing to apply and nothing recorded: create nothing (not even the version table), but say so, since an
      // empty folder is more often a wrong --dir or an unshipped sql/ folder than a new project.
      this.#options.logger?.warn(`no migration files in ${JSON.stringify(this.#dir)}: nothing to apply`);
      return { result: SyncResult.ALREADY_UP_TO_DATE, applied: [] };
    }
    // Another process holding the lock is most likely applying these same files: while waiting, check whether
    // it is done, and if so return without ever taking the lock.
    const holderIsDone = async (read: LockWaitReader) => upToDate(await this.#selectApplied(read).catch(() => null));
    const outcome = await this.#locked(async (connection) => {
      const applied = await this.#ensureTable(connection);
      const plan = planUpgrade(compare(migrations, applied), migrations, { allowOutOfOrder: this.#options.allowOutOfOrder });
      const runs = await this.#applyAll(connection, plan);
      const result = applied.length === 0 ? SyncResult.CREATED : runs.length > 0 ? SyncResult.UPGRADED : SyncResult.ALREADY_UP_TO_DATE;
      return { result, applied: runs };
    }, holderIsDone);
    return outcome ?? { result: SyncResult.ALREADY_UP_TO_DATE, applied: [] };
  }

  /** Applies pending migrations up to `target`. */
  async upgrade(target: Target | string = 'head'): Promise<MigrationRun[]> {
    const migrations = await this.migrations();
    return this.#exclusive(async (connection) => {
      const applied = await this.#ensureTable(connection);
      const plan = planUpgrade(compare(migrations, applied), migrations, { target, allowOutOfOrder: this.#options.allowOutOfOrder });
      return this.#applyAll(connection, plan);
    });
  }

  /** Applies every migration to a database with nothing recorded; refuses one that has versions. */
  async create(): Promise<MigrationRun[]> {
    const migrations = await this.migrations();
    return this.#exclusive(async (connection) => {
      const applied = await this.#ensureTable(connection);
      if (applied.length > 0) {
        throw new MigrationStateError(
          `the database already has ${applied.length} version(s) recorded (latest ${applied.at(-1)!.version}); use sync() or upgrade()`,
          { code: 'ALREADY_CREATED', versions: applied.map((row) => row.version) },
        );
      }
      return this.#applyAll(connection, planUpgrade(compare(migrations, applied), migrations));
    });
  }

  /** Reverts applied migrations above `target`, newest first, each with its down file. */
  async downgrade(target: Target | string): Promise<MigrationRun[]> {
    const migrations = await this.migrations();
    return this.#exclusive(async (connection) => {
      const applied = await this.#ensureTable(connection);
      return this.#revertAll(connection, planDowngrade(compare(migrations, applied), migrations, target));
    });
  }

  /** Reverts the highest applied version with its down file; nothing when nothing is applied. */
  async rollback(): Promise<MigrationRun[]> {
    const migrations = await this.migrations();
    return this.#exclusive(async (connection) => {
      const applied = await this.#ensureTable(connection);
      return this.#revertAll(connection, planRollback(compare(migrations, applied), migrations));
    });
  }

  /** Reverts the highest applied version and applies it again, under one lock: for a migration being written. */
  async redo(): Promise<{ reverted: MigrationRun[]; applied: MigrationRun[] }> {
    const migrations = await this.migrations();
    return this.#exclusive(async (connection) => {
      const before = await this.#ensureTable(connection);
      const plan = planRollback(compare(migrations, before), migrations);
      const reverted = await this.#revertAll(connection, plan);
      return { reverted, applied: await this.#applyAll(connection, plan) };
    });
  }

  async #revertAll(connection: MigrationConnection, plan: Migration[]): Promise<MigrationRun[]> {
    this.#assertRunnable(connection, plan.map((migration) => migration.down!));
    const runs: MigrationRun[] = [];
    for (const migration of plan) {
      const forget = sql`DELETE FROM ${this.#table} WHERE version = ${migration.version}`;
      runs.push(await this.#apply(connection, migration, migration.down!, () => forget, 'reverted'));
    }
    return runs;
  }

  /**
   * What `action` would run, read without the lock and without creating anything (not even the version table):
   * the plan `--dry-run` prints. Refuses exactly where the action would.
   */
  async plan(read: Reader, action: PlanAction, target?: Target | string): Promise<PlannedStep[]> {
    const migrations = await this.migrations();
    const comparison = compare(migrations, (await this.readApplied(read)) ?? []);
    const allowOutOfOrder = this.#options.allowOutOfOrder;
    if (action === 'sync' || action === 'upgrade') {
      const plan = planUpgrade(comparison, migrations, { target: action === 'sync' ? 'head' : (target ?? 'head'), allowOutOfOrder });
      return plan.map((migration) => step(migration, migration.up, 'up'));
    }
    if (action === 'downgrade' && target === undefined) throw new MigrationStateError('downgrade needs a target version (0 for all)', { code: 'UNKNOWN_TARGET' });
    const plan = action === 'rollback' ? planRollback(comparison, migrations) : planDowngrade(comparison, migrations, target!);
    return plan.map((migration) => step(migration, migration.down!, 'down'));
  }

  /**
   * Accepts the current content of applied file `version` after a harmless edit: records its checksum (and
   * name) in place of the old one. Refuses a version that is not applied or has no file; never touches others.
   */
  async repair(version: number | string): Promise<RepairResult> {
    const parsed = parseTarget(version);
    if (parsed === 'head') throw new MigrationStateError('repair needs a version number, not "head"', { code: 'UNKNOWN_TARGET' });
    const migrations = await this.migrations();
    return this.#exclusive(async (connection) => {
      const applied = (await this.readApplied(async (query) => (await connection.query(query)).rows)) ?? [];
      const row = applied.find((candidate) => candidate.version === parsed);
      if (row === undefined) {
        throw new MigrationStateError(
          `version ${parsed} is not applied (applied: ${applied.map((candidate) => candidate.version).join(', ') || 'none'}); ` +
            'repair only records the new content of an applied file',
          { code: 'NOT_APPLIED', versions: [parsed] },
        );
      }
      const migration = migrations.find((candidate) => candidate.version === parsed);
      if (migration === undefined) {
        throw new MigrationStateError(`version ${parsed} (${row.name}) is applied but has no file to take the content from; restore the file first`, {
          code: 'MISSING_FILE',
          versions: [parsed],
        });
      }
      const result = { version: parsed, name: migration.name, file: migration.up.file, previousChecksum: row.checksum, checksum: migration.up.checksum };
      if (row.checksum === migration.up.checksum && row.name === migration.name) return { ...result, changed: false };
      await connection.applyAtomically({ text: '', statements: [] }, async () => {
        await connection.query(sql`UPDATE ${this.#table} SET checksum = ${migration.up.checksum}, name = ${migration.name} WHERE version = ${parsed}`);
      });
      this.#options.logger?.info(`repaired ${migration.up.file}: recorded its current checksum ${migration.up.checksum.slice(0, 12)}… (was ${row.checksum.slice(0, 12)}…)`);
      return { ...result, changed: true };
    });
  }

  /** Records every file up to `target` as applied without running it. */
  async stamp(target: Target | string): Promise<number[]> {
    const migrations = await this.migrations();
    return this.#exclusive(async (connection) => {
      const applied = await this.#ensureTable(connection);
      const plan = planStamp(compare(migrations, applied), migrations, target);
      return this.#record(connection, plan);
    });
  }

  /** Records exactly `versions` as applied without running them, in one transaction (adopting another tool's database). */
  async stampExactly(versions: number[]): Promise<number[]> {
    const migrations = await this.migrations();
    return this.#exclusive(async (connection) => {
      const applied = await this.#ensureTable(connection);
      return this.#record(connection, planStampExactly(compare(migrations, applied), migrations, versions, this.#options.allowOutOfOrder));
    });
  }

  async #record(connection: MigrationConnection, plan: Migration[]): Promise<number[]> {
    if (plan.length === 0) return [];
    await connection.applyAtomically({ text: '', statements: [] }, async () => {
      for (const migration of plan) await connection.query(this.#versionRow(migration, 0));
    });
    for (const migration of plan) this.#options.logger?.info(`stamped ${migration.up.file} (not run)`);
    return plan.map((migration) => migration.version);
  }

  /** Drops every object of the managed schema, the version table included. */
  drop(): Promise<void> {
    return this.#exclusive((connection) => connection.dropEverything());
  }

  /** Runs `fn` holding the lock; `null` when `stopWaiting` decided, while waiting, that there is nothing left to do. */
  async #locked<T>(fn: (connection: MigrationConnection) => Promise<T>, stopWaiting?: LockOptions['stopWaiting']): Promise<T | null> {
    const connection = await this.#driver.acquireMigrationLock(this.#options.versionTable, this.#options.lockTimeoutMs, {
      lock: !UNSAFE_NO_LOCK,
      stopWaiting,
    });
    if (connection === null) return null;
    let result: T;
    try {
      result = await fn(connection);
    } catch (error) {
      await connection.unlock().catch(() => undefined);
      throw error instanceof SqlHelpersError ? error : fromDriverError(error, this.#driver.errorContext);
    }
    await connection.unlock();
    return result;
  }

  /** `#locked` for operations that always need the lock. */
  async #exclusive<T>(fn: (connection: MigrationConnection) => Promise<T>): Promise<T> {
    return (await this.#locked(fn))!;
  }

  // Created under the lock: two processes racing on CREATE TABLE IF NOT EXISTS can both fail on PostgreSQL.
  async #ensureTable(connection: MigrationConnection): Promise<AppliedMigration[]> {
    await connection.query(
      sql`CREATE TABLE IF NOT EXISTS ${this.#table} (
        version BIGINT PRIMARY KEY,
        name TEXT NOT NULL,
        checksum TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL,
        duration_ms INTEGER NOT NULL
      )`,
    );
    return this.#selectApplied(async (query) => (await connection.query(query)).rows);
  }

  // A no-transaction file on SQLite runs outside the lock, so a racing process may record it first: tolerate that.
  #versionRow(migration: Migration, durationMs: number): Sql {
    const conflict = migration.up.transactional ? empty : sql` ON CONFLICT (version) DO NOTHING`;
    return sql`INSERT INTO ${this.#table} (version, name, checksum, applied_at, duration_ms)
      VALUES (${migration.version}, ${migration.name}, ${migration.up.checksum}, ${new Date()}, ${durationMs})${conflict}`;
  }

  // Checked for the whole plan before any of it runs, so a refusal changes nothing.
  #assertRunnable(connection: MigrationConnection, scripts: MigrationScript[]): void {
    const blocker = connection.noTransactionBlocker;
    const outside = scripts.filter((script) => !script.transactional);
    if (blocker === undefined || outside.length === 0) return;
    throw new ConfigurationError(`cannot run ${outside.map((script) => script.file).join(', ')}: ${blocker}`, {
      code: 'NO_TRANSACTION_NEEDS_DIRECT_CONNECTION',
    });
  }

  async #applyAll(connection: MigrationConnection, plan: Migration[]): Promise<MigrationRun[]> {
    this.#assertRunnable(connection, plan.map((migration) => migration.up));
    const runs: MigrationRun[] = [];
    let recorded = new Set<number>();
    for (const migration of plan) {
      if (recorded.has(migration.version)) continue;
      runs.push(await this.#apply(connection, migration, migration.up, (ms) => this.#versionRow(migration, ms), 'applied'));
      if (!migration.up.transactional) {
        // The lock may have been let go while the file ran (SQLite): re-read what others applied meanwhile.
        const applied = await this.#selectApplied(async (query) => (await connection.query(query)).rows);
        recorded = new Set(applied.map((row) => row.version));
      }
    }
    return runs;
  }

  async #apply(
    connection: MigrationConnection,
    migration: Migration,
    script: MigrationScript,
    recordQuery: (durationMs: number) => Sql,
    verb: 'applied' | 'reverted',
  ): Promise<MigrationRun> {
    let started = performance.now();
    let durationMs = 0;
    const record = async () => {
      durationMs = Math.round(performance.now() - started);
      await connection.query(recordQuery(durationMs));
    };
    const logger = this.#options.logger;
    const capMs = script.lockTimeoutMs ?? this.#options.ddlLock.timeoutMs;
    // Only a transaction is retried: it was rolled back whole. A no-transaction file may have applied statements
    // before the one that timed out, so it gets one attempt with the full timeout per statement.
    const attempts = script.transactional && capMs > 0 ? this.#options.ddlLock.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      const lockTimeoutMs = script.transactional ? attemptTimeoutMs(capMs, attempt, attempts) : capMs;
      const limits: ScriptLimits = {
        lockTimeoutMs,
        statementTimeoutMs: script.statementTimeoutMs,
        label: script.file,
        onLockWait: (wait) => logger?.warn(waitingLine(script.file, wait, lockTimeoutMs, attempt, attempts)),
        onUnenforced: (reason) => logger?.warn(`${script.file}: ${reason}`),
      };
      started = performance.now();
      try {
        if (script.transactional) await connection.applyAtomically(script, record, limits);
        else await connection.applyOutsideTransaction(script, record, limits);
        break;
      } catch (error) {
        if (!isLockTimeout(error) || attempt >= attempts) throw this.#migrationError(migration, script, error, { lockTimeoutMs, attempts });
        const pause = backoffMs(capMs, attempt);
        logger?.warn(
          `${script.file}: lock not granted within ${formatDuration(lockTimeoutMs)} (attempt ${attempt} of ${attempts}); ` +
            `rolled back, retrying in ${pause} ms`,
        );
        await sleep(pause);
      }
    }
    this.#options.logger?.info(`${verb} ${script.file} in ${durationMs} ms`);
    return { version: migration.version, name: migration.name, file: script.file, durationMs };
  }

  #migrationError(
    migration: Migration,
    script: MigrationScript,
    error: unknown,
    tried: { lockTimeoutMs: number; attempts: number },
  ): SqlHelpersError {
    const failure = error instanceof ScriptFailure ? error : undefined;
    const mapped = fromDriverError(failure ? failure.error : error, this.#driver.errorContext);
    const where = failure?.offset === undefined ? undefined : locate(script.text, failure.offset);
    const position = where ? `:${where.line}:${where.column}` : '';
    if (isLockTimeout(error)) {
      return new DdlLockTimeoutError(
        lockTimeoutMessage({ where: `${script.file}${position}`, transactional: script.transactional, ...tried, wait: failure!.lockWait }),
        {
          file: script.file,
          version: migration.version,
          line: where?.line,
          columnNumber: where?.column,
          sqlState: mapped.sqlState,
          lockWait: failure!.lockWait,
          attempts: tried.attempts,
          cause: failure!.error,
        },
      );
    }
    // A lost connection or lock is not the file's fault: report it as what it is.
    if (mapped instanceof ConnectionError || mapped instanceof LockTimeoutError) return mapped;
    const hint =
      script.transactional && (mapped.sqlState === '25001' || NEEDS_NO_TRANSACTION.test(mapped.message))
        ? '; this statement cannot run in a transaction: add the line "-- sql-helpers:no-transaction" to the file'
        : '';
    const outcome = script.transactional
      ? 'the migration was rolled back, nothing of it remains'
      : 'statements before it in this no-transaction file stay applied; the version was not recorded';
    return new MigrationError(`${script.file}${position}: ${mapped.message}${hint} (${outcome})`, {
      file: script.file,
      version: migration.version,
      line: where?.line,
      columnNumber: where?.column,
      sqlState: mapped.sqlState,
      constraint: mapped.constraint,
      table: mapped.table,
      column: mapped.column,
      cause: failure ? failure.error : error,
    });
  }
}

function step(migration: Migration, script: MigrationScript, direction: 'up' | 'down'): PlannedStep {
  return { version: migration.version, name: migration.name, file: script.file, direction, transactional: script.transactional, noop: script.noop, sql: script.text };
}
