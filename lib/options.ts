import { ConfigurationError } from './errors.js';
import type { Dialect, EngineArgs } from './driver/driver.js';
import { ddlLockPolicy, type DdlLockPolicy } from './migrations/lock-retry.js';
import type { Logger } from './migrations/migrator.js';
import { quoteIdentifierPart } from './sql.js';

/** Options of `new DatabaseManager(uri, migrationsDir, options)`. */
export interface DatabaseManagerOptions<D extends Dialect = Dialect> {
  /** Passed to the `pg.Pool` or `better-sqlite3` constructor (e.g. `{ max: 20 }`, `{ timeout: 10000 }`). */
  engineArgs?: EngineArgs[D];
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
  /**
   * PostgreSQL: how long one connection attempt (and a wait for a free pooled connection) may take before a
   * `ConnectionError` (`CONNECT_TIMEOUT`). Default: the URI's `?connect_timeout=` (seconds), else no limit (pg's
   * default); the CLI always sets one. Ignored for SQLite.
   */
  connectTimeoutMs?: number;
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
  /**
   * Read values the same way from both databases (numbers for BIGINT and count(*), Dates, booleans, parsed
   * JSON; see docs/api.md); default true. False returns what pg / better-sqlite3 return on their own.
   */
  typeParsing?: boolean;
  /** Receives one line per migration applied; e.g. `console`. */
  logger?: Logger;
  /** `sqlite::memory:` only: open the database from this serialized image (`Database#serialize()`) instead of empty. */
  sqliteImage?: Buffer;
}

/** The options with every default filled in, as the manager uses them. */
export interface ResolvedOptions {
  engineArgs: Record<string, unknown> | undefined;
  versionTable: string;
  schema: string | undefined;
  preparedStatements: 'auto' | boolean | undefined;
  directUrl: string | undefined;
  sqliteImage: Buffer | undefined;
  typeParsing: boolean | undefined;
  lockTimeoutMs: number;
  ddlLock: DdlLockPolicy;
  connectTimeoutMs: number | undefined;
  allowOutOfOrder: boolean;
  logger: Logger | undefined;
}

export const DEFAULT_VERSION_TABLE = 'sql_helpers_migrations';
export const DEFAULT_LOCK_TIMEOUT_MS = 5 * 60 * 1000;
// setTimeout fires at once for delays above this (with a warning), so a longer lock timeout would not wait at all.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const KNOWN = [
  'engineArgs',
  'versionTable',
  'schema',
  'preparedStatements',
  'directUrl',
  'lockTimeoutMs',
  'ddlLockTimeoutMs',
  'ddlLockAttempts',
  'connectTimeoutMs',
  'allowOutOfOrder',
  'logger',
  'sqliteImage',
  'typeParsing',
] as const;

function invalid(message: string): ConfigurationError {
  return new ConfigurationError(message, { code: 'INVALID_OPTION' });
}

/** What a value is, for a message: never the value itself when it might be a secret-bearing object. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

function name(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`option ${key} must be a string (a table or schema name), got ${describeValue(value)}`);
  try {
    quoteIdentifierPart(value);
  } catch (error) {
    throw invalid(`option ${key}: ${(error as Error).message}`);
  }
  return value;
}

/**
 * The one place that checks `DatabaseManager` options: every option's type and range, and unknown keys, with
 * `INVALID_OPTION`, before any connection is made or file created.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) throw invalid(`the options argument must be a plain object, got ${describeValue(options)}`);
  const unknown = Object.keys(options).filter((key) => !(KNOWN as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw invalid(`unknown option(s) ${unknown.map((key) => JSON.stringify(key)).join(', ')}; the options are ${KNOWN.join(', ')}`);
  }
  const { engineArgs, lockTimeoutMs, connectTimeoutMs, allowOutOfOrder, logger, preparedStatements, directUrl, sqliteImage, typeParsing } = options;
  if (typeParsing !== undefined && typeof typeParsing !== 'boolean') {
    throw invalid(`option typeParsing must be true or false, got ${describeValue(typeParsing)}`);
  }
  if (preparedStatements !== undefined && preparedStatements !== 'auto' && typeof preparedStatements !== 'boolean') {
    throw invalid(`option preparedStatements must be 'auto', true or false, got ${describeValue(preparedStatements)}`);
  }
  if (directUrl !== undefined && (typeof directUrl !== 'string' || directUrl === '')) {
    throw invalid(`option directUrl must be a postgres:// URL string, got ${describeValue(directUrl)}`);
  }
  if (sqliteImage !== undefined && !Buffer.isBuffer(sqliteImage)) {
    throw invalid(`option sqliteImage must be a Buffer (from Database#serialize()), got ${describeValue(sqliteImage)}`);
  }
  if (engineArgs !== undefined && !isPlainObject(engineArgs)) {
    throw invalid(`option engineArgs must be a plain object (passed to pg.Pool or better-sqlite3), got ${describeValue(engineArgs)}`);
  }
  if (lockTimeoutMs !== undefined && (typeof lockTimeoutMs !== 'number' || !Number.isInteger(lockTimeoutMs) || lockTimeoutMs < 0 || lockTimeoutMs > MAX_TIMEOUT_MS)) {
    throw invalid(`option lockTimeoutMs must be a whole number of milliseconds from 0 to ${MAX_TIMEOUT_MS}, got ${describeValue(lockTimeoutMs)}`);
  }
  if (connectTimeoutMs !== undefined && (typeof connectTimeoutMs !== 'number' || !Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 1 || connectTimeoutMs > MAX_TIMEOUT_MS)) {
    throw invalid(`option connectTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${describeValue(connectTimeoutMs)}`);
  }
  if (allowOutOfOrder !== undefined && typeof allowOutOfOrder !== 'boolean') {
    throw invalid(`option allowOutOfOrder must be true or false, got ${describeValue(allowOutOfOrder)}; convert environment strings yourself (value === 'true')`);
  }
  if (logger !== undefined) {
    const missing = ['info', 'warn'].filter((method) => typeof (logger as Record<string, unknown> | null)?.[method] !== 'function');
    if (typeof logger !== 'object' || logger === null || missing.length > 0) {
      throw invalid(`option logger must have info() and warn() methods (console works); ${logger === null || typeof logger !== 'object' ? `got ${describeValue(logger)}` : `it lacks ${missing.join(' and ')}()`}`);
    }
  }
  return {
    engineArgs,
    versionTable: name('versionTable', options.versionTable) ?? DEFAULT_VERSION_TABLE,
    schema: name('schema', options.schema),
    preparedStatements,
    directUrl,
    sqliteImage,
    typeParsing,
    lockTimeoutMs: lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    ddlLock: ddlLockPolicy(options),
    connectTimeoutMs,
    allowOutOfOrder: allowOutOfOrder ?? false,
    logger: logger as Logger | undefined,
  };
}
