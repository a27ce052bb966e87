import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { ConfigurationError, ConnectionError, LockTimeoutError, closedError, fromDriverError } from '../errors.js';
import { identifier, sql, type ShapedSql, type Sql } from '../sql.js';
import type { SqliteTarget } from '../uri.js';
import { checkValues } from '../values.js';
import {
  ScriptFailure,
  type Connection,
  type Driver,
  type LockOptions,
  type LockWaitReader,
  type MigrationConnection,
  type QueryResult,
  type Row,
  type Script,
} from './driver.js';
import { betterSqliteAddon, loadDriverPackage } from './package.js';
import { rowConverter } from './sqlite-types.js';
import { matchesAtMostOneRow } from './sqlite-unique.js';

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

/**
 * A prepared statement and what was learnt from the schema when it was prepared (its converters, whether it reads
 * a single row). The driver forgets them all after a statement through it that may have changed the schema, and
 * after migrations; a change made by another connection is not seen while a statement stays cached.
 */
interface CachedStatement {
  statement: Statement;
  reader: boolean;
  /** A lookup that provably matches at most one row (see sqlite-unique.ts): read with `.get()`, which stops at it. */
  single: boolean;
  convert: ((rows: Row[]) => void) | undefined;
  /** Matches SCHEMA_CHANGE: the cached statements are forgotten once it has run. */
  changesSchema: boolean;
}

// Statements after which the schema may differ: DDL, a different set of attached schemas, a ROLLBACK (it can undo DDL).
const SCHEMA_CHANGE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(?:CREATE|DROP|ALTER|ATTACH|DETACH|ROLLBACK)\b/i;

/** Options the SQLite driver takes from the manager. */
export interface SqliteDriverOptions {
  engineArgs?: BetterSqlite3.Options | undefined;
  /** A serialized database (`Database#serialize()`) to open in memory instead of an empty one; `sqlite::memory:` only. */
  image?: Buffer | undefined;
  /** False: values as better-sqlite3 returns them (see sqlite-types.ts). */
  typeParsing?: boolean | undefined;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Switches a file database to WAL. The switch needs the file to itself, and SQLite answers SQLITE_BUSY at once,
 * without its busy handler, while another connection reads or writes it: processes opening one new file together
 * (a migrating fleet, test processes sharing a lock file) meet that. Retried until `timeoutMs`, or until another
 * connection has made the switch. Blocking, as the constructor that calls it is, but only while the file is busy.
 */
function enableWal(db: Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY') || Date.now() >= deadline) throw error;
    }
    try {
      if (db.pragma('journal_mode', { simple: true }) === 'wal') return;
    } catch {
      // still busy: wait and try again
    }
    Atomics.wait(pause, 0, 0, delay);
  }
}

/** The busy timeout when `engineArgs.timeout` does not set one. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const STATEMENT_CACHE_SIZE = 256;
// SQLITE_MAX_VARIABLE_NUMBER as better-sqlite3 compiles SQLite.
const MAX_PARAMETERS = 32766;

// better-sqlite3 binds only numbers, strings, bigints, buffers and null; map the rest the way pg does.
function toSqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && !ArrayBuffer.isView(value)) {
    return JSON.stringify(value);
  }
  return value;
}

// The common case (strings, numbers, null) binds as it is, without a copy.
function bindable(values: readonly unknown[]): readonly unknown[] {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== null && typeof value !== 'string' && typeof value !== 'number') return values.map(toSqliteValue);
  }
  return values;
}

/**
 * The single better-sqlite3 connection behind the async seam. better-sqlite3 is synchronous, so a
 * transaction spans awaits: `acquire()` hands the connection to one caller at a time, in order.
 */
export class SqliteDriver implements Driver {
  readonly dialect = 'sqlite' as const;
  // IMMEDIATE takes the write lock at BEGIN, where the busy timeout applies; a deferred transaction
  // that later writes fails at once with SQLITE_BUSY when another process holds the lock.
  readonly beginStatement = 'BEGIN IMMEDIATE';
  readonly engine: Database;
  readonly errorContext;
  readonly #filename: string;
  readonly #statements = new Map<string, CachedStatement>();
  #byStrings = new WeakMap<readonly string[], CachedStatement>();
  readonly #typeParsing: boolean;
  readonly #waiters: Array<() => void> = [];
  #busy = false;
  #closed = false;
  readonly #busyTimeoutMs: number;

  constructor(target: SqliteTarget, options: SqliteDriverOptions = {}) {
    const Database = loadDriverPackage('better-sqlite3', target.redacted);
    this.#filename = target.filename;
    this.#typeParsing = options.typeParsing !== false;
    this.errorContext = { target: target.redacted };
    this.#busyTimeoutMs = options.engineArgs?.timeout ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (options.image !== undefined && target.filename !== ':memory:') {
      throw new ConfigurationError('sqliteImage opens an in-memory database: use it with sqlite::memory:', { code: 'INVALID_OPTION' });
    }
    if (options.engineArgs?.fileMustExist && target.filename !== ':memory:' && !existsSync(target.filename)) {
      throw new ConnectionError(
        `SQLite database ${JSON.stringify(target.filename)} does not exist, and was not created (fileMustExist); ` +
          'check the path, or create the database by migrating it (sync)',
        { code: 'DATABASE_NOT_FOUND' },
      );
    }
    try {
      this.engine = new Database(options.image ?? target.filename, {
        nativeBinding: betterSqliteAddon(),
        ...options.engineArgs,
        timeout: this.#busyTimeoutMs,
      });
    } catch (error) {
      throw new ConnectionError(
        `cannot open SQLite database ${JSON.stringify(target.filename)}: ${(error as Error).message}` +
          (/directory does not exist/i.test((error as Error).message) ? ' (create the directory first)' : ''),
        { cause: error, code: 'CONNECTION_FAILED' },
      );
    }
    try {
      this.engine.pragma('foreign_keys = ON');
      if (!this.engine.memory && !this.engine.readonly) {
        enableWal(this.engine, this.#busyTimeoutMs);
        // In WAL mode NORMAL loses no committed transaction on an application crash, only on power loss.
        this.engine.pragma('synchronous = NORMAL');
      }
    } catch (error) {
      this.engine.close();
      throw fromDriverError(error, this.errorContext);
    }
  }

  acquire(): Promise<Connection> {
    if (this.#closed) return Promise.reject(closedError(this.errorContext.target));
    return this.#take(this.#busyTimeoutMs).then(() => this.#connection());
  }

  // Waiting for the connection is waiting for a lock held in this process: it gets the busy timeout, as a
  // lock held by another process would. Past it, the likely cause is a `db` call inside `db.transaction`.
  #take(timeoutMs: number): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(
          new LockTimeoutError(
            `waited ${timeoutMs} ms for the SQLite connection, held by a transaction of this process; ` +
              'inside db.transaction(fn), run queries on the session fn receives, not on db',
          ),
        );
      }, timeoutMs);
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(waiter);
    });
  }

  #give(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#busy = false;
  }

  #connection(): Connection {
    let released = false;
    return {
      query: async <R = Row>(query: Sql): Promise<QueryResult<R>> => this.run<R>(query),
      release: () => {
        if (released) return;
        released = true;
        this.#give();
      },
    };
  }

  runIfIdle<R = Row>(query: Sql): QueryResult<R> | undefined {
    if (this.#closed) throw closedError(this.errorContext.target);
    return this.#busy ? undefined : this.run<R>(query);
  }

  /** Runs one statement through the statement cache; synchronous, as better-sqlite3 is. */
  run<R = Row>(query: Sql): QueryResult<R> {
    checkValues(query.values, MAX_PARAMETERS);
    // The helpers reuse one `strings` array per statement shape: found by identity, the text is neither built
    // nor hashed again. Other queries (a new array per call) are found by their text.
    let cached = this.#byStrings.get(query.strings);
    if (cached === undefined) {
      cached = this.#prepared(query.sql, (query as Partial<ShapedSql>).lookup);
      this.#byStrings.set(query.strings, cached);
    }
    const values = bindable(query.values);
    if (cached.reader) {
      // Values as arguments: better-sqlite3 binds an array argument element by element through V8's API. One value,
      // the common case, is passed without a spread, which V8 calls through a slower, generic path.
      const { statement } = cached;
      let rows: R[];
      if (cached.single) {
        const row = (values.length === 1 ? statement.get(values[0]) : statement.get(...values)) as R | undefined;
        rows = row === undefined ? [] : [row];
      } else rows = (values.length === 1 ? statement.all(values[0]) : statement.all(...values)) as R[];
      cached.convert?.(rows as Row[]);
      return { rows, rowCount: rows.length };
    }
    const { changes } = cached.statement.run(...values);
    if (cached.changesSchema) this.#forgetStatements();
    return { rows: [], rowCount: changes };
  }

  #prepared(text: string, lookup: ShapedSql['lookup']): CachedStatement {
    let cached = this.#statements.get(text);
    if (cached === undefined) {
      const statement = this.engine.prepare(text);
      // `reader` is a native getter: read it once per statement, not once per call; so are the columns.
      const reader = statement.reader;
      const convert = reader && this.#typeParsing ? rowConverter(statement.columns()) : undefined;
      if (convert !== undefined) statement.safeIntegers(true);
      // A statement first prepared for a query that is not a lookup keeps reading every row.
      const single = reader && lookup !== undefined && matchesAtMostOneRow(this.engine, lookup);
      cached = { statement, reader, single, convert, changesSchema: !reader && SCHEMA_CHANGE.test(text) };
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        this.#statements.delete(this.#statements.keys().next().value as string);
      }
      this.#statements.set(text, cached);
    }
    return cached;
  }

  #forgetStatements(): void {
    this.#statements.clear();
    this.#byStrings = new WeakMap();
  }

  async acquireMigrationLock(_lockName: string, timeoutMs: number, options: LockOptions = {}): Promise<MigrationConnection | null> {
    if (this.#closed) throw closedError(this.errorContext.target);
    if (this.engine.readonly) {
      throw new ConfigurationError(
        `SQLite database ${JSON.stringify(this.#filename)} is opened read-only (engineArgs.readonly); ` +
          'migrating, stamping and dropping write to it: open it without readonly',
        { code: 'READ_ONLY_DATABASE' },
      );
    }
    await this.#take(timeoutMs);
    const db = this.engine;
    const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
    const done = () => {
      // Migrations run their scripts outside `run`, so they forget the statements prepared before them here.
      this.#forgetStatements();
      this.#restore(busyTimeout);
      this.#give();
    };
    try {
      // foreign_keys cannot change inside a transaction; off for the run, checked per migration instead,
      // so table rebuilds (create new, copy, drop old, rename) work the way SQLite documents them.
      db.pragma('foreign_keys = OFF');
      if (options.lock !== false && !(await this.#pollWriteLock(timeoutMs, options.stopWaiting))) {
        done();
        return null;
      }
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(timeoutMs))}`);
    } catch (error) {
      done();
      throw fromDriverError(error, this.errorContext);
    }
    return new SqliteMigrationConnection(this, done);
  }

  // Polled from the event loop rather than left to SQLite's busy handler, which sleeps the whole thread for up
  // to 100 ms at a time; between attempts the waiter can see that the holder already did its work. False: gave up.
  async #pollWriteLock(timeoutMs: number, stopWaiting: LockOptions['stopWaiting']): Promise<boolean> {
    const db = this.engine;
    db.pragma('busy_timeout = 0');
    const read: LockWaitReader = async (query) => this.run<Row>(query).rows;
    const deadline = Date.now() + timeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 20)) {
      let busy: { code?: unknown };
      try {
        db.exec('BEGIN IMMEDIATE');
        return true;
      } catch (error) {
        busy = error as { code?: unknown };
        if (!String(busy.code).startsWith('SQLITE_BUSY')) throw error;
      }
      if (stopWaiting && (await stopWaiting(read))) return false;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new LockTimeoutError(
          `timed out after ${timeoutMs} ms waiting for the SQLite write lock on ${JSON.stringify(this.#filename)}; ` +
            'another process is writing or migrating. Wait for it, or raise lockTimeoutMs.',
          { cause: busy, sqlState: String(busy.code) },
        );
      }
      await sleep(Math.min(delay, left));
    }
  }

  #restore(busyTimeout: number): void {
    this.engine.pragma('foreign_keys = ON');
    this.engine.pragma(`busy_timeout = ${busyTimeout}`);
  }

  relationExistsQuery(name: string[], column?: string): Sql {
    const table = name.at(-1)!;
    const schema = name.length > 1 ? name[0]! : 'main';
    if (column === undefined) {
      return sql`SELECT count(*) > 0 AS present FROM ${identifier(schema)}.sqlite_master WHERE type IN ('table', 'view') AND name = ${table}`;
    }
    return sql`SELECT count(*) > 0 AS present FROM pragma_table_info(${table}, ${schema}) WHERE name = ${column}`;
  }

  async dumpSchema(): Promise<string> {
    // Tables and indexes by name, then views and triggers in the order they were created (one may use another).
    const objects = this.run<{ sql: string }>(
      sql`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND substr(name, 1, 7) <> 'sqlite_'
          ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, CASE WHEN type IN ('table', 'index') THEN name END, rowid`,
    ).rows;
    return objects.map((object) => `${object.sql};\n`).join('\n');
  }

  // SQLite's upsert cannot say whether it inserted; updateOrCreate selects, then writes, in a write transaction.
  readonly insertedFlag = undefined;

  // SQLite's WITH clauses only read: getOrCreate selects, then inserts.
  readonly findOrInsertInOneStatement = false;

  async close(): Promise<void> {
    this.#closed = true;
    if (this.engine.open) this.engine.close();
  }
}

const SAVEPOINT = 'sql_helpers_migration';

/** Holds BEGIN IMMEDIATE for the whole run; each migration is a savepoint inside it. */
class SqliteMigrationConnection implements MigrationConnection {
  constructor(
    readonly driver: SqliteDriver,
    readonly done: () => void,
  ) {}

  get #db(): Database {
    return this.driver.engine;
  }

  async query<R = Row>(query: Sql): Promise<QueryResult<R>> {
    return this.driver.run<R>(query);
  }

  #runStatements(script: Script): void {
    for (const statement of script.statements) {
      try {
        this.#db.exec(statement.text);
      } catch (error) {
        throw new ScriptFailure(error, statement.offset);
      }
    }
  }

  #checkForeignKeys(): void {
    const violations = this.#db.pragma('foreign_key_check') as Array<{ table: string; rowid: number; parent: string }>;
    if (violations.length === 0) return;
    const first = violations[0]!;
    const error = Object.assign(
      new Error(
        `FOREIGN KEY constraint failed: ${violations.length} row(s) violate foreign keys, e.g. ${first.table} rowid ${first.rowid} references a missing row of ${first.parent}`,
      ),
      { code: 'SQLITE_CONSTRAINT_FOREIGNKEY', table: first.table },
    );
    throw new ScriptFailure(error, undefined);
  }

  async applyAtomically(script: Script, record: () => Promise<void>): Promise<void> {
    const db = this.#db;
    if (!db.inTransaction) db.exec('BEGIN IMMEDIATE');
    db.exec(`SAVEPOINT ${SAVEPOINT}`);
    try {
      this.#runStatements(script);
      await record();
      this.#checkForeignKeys();
      db.exec(`RELEASE ${SAVEPOINT}`);
    } catch (error) {
      // Some errors (SQLITE_FULL, I/O) roll the whole transaction back; then there is no savepoint left.
      if (db.inTransaction) {
        db.exec(`ROLLBACK TO ${SAVEPOINT}`);
        db.exec(`RELEASE ${SAVEPOINT}`);
      }
      throw error;
    }
  }

  async applyOutsideTransaction(script: Script, record: () => Promise<void>): Promise<void> {
    const db = this.#db;
    if (db.inTransaction) db.exec('COMMIT');
    this.#runStatements(script);
    db.exec('BEGIN IMMEDIATE');
    await record();
  }

  async dropEverything(): Promise<void> {
    const objects = this.#db
      .prepare("SELECT type, name FROM sqlite_master WHERE type IN ('view', 'table') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type DESC")
      .all() as Array<{ type: string; name: string }>;
    for (const { type, name } of objects) {
      // Existing names are quoted as they are, without the length rule for names we create.
      this.#db.exec(`DROP ${type === 'view' ? 'VIEW' : 'TABLE'} IF EXISTS "${name.replaceAll('"', '""')}"`);
    }
  }

  async unlock(): Promise<void> {
    try {
      if (this.#db.inTransaction) this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw fromDriverError(error, this.driver.errorContext);
    } finally {
      this.done();
    }
  }
}
