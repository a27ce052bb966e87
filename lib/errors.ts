import type { LockWait } from './driver/driver.js';

// Every error code, by the class that carries it: `e.code` is one of its class's codes, so comparing it with
// a code that does not exist fails to compile. A new code is one line in its class's union (and docs/errors.md).

/** `SqlHelpersError` itself (thrown where no subclass fits). */
export type RootErrorCode =
  | 'SQL_HELPERS_ERROR'
  | 'TRANSACTION_FINISHED'
  | 'GET_OR_CREATE_EXHAUSTED'
  | 'CLOSED'
  | 'DUMP_FAILED';

export type ConfigurationErrorCode =
  | 'INVALID_CONFIGURATION'
  | 'INVALID_URI'
  | 'INVALID_OPTION'
  | 'NOT_A_SQL_QUERY'
  | 'INVALID_TABLE'
  | 'INVALID_ATTRS'
  | 'EMPTY_ATTRS'
  | 'INVALID_PRIMARY_KEY'
  | 'INVALID_MODEL'
  | 'INVALID_SESSION'
  | 'INVALID_VALUE'
  | 'TOO_MANY_VALUES'
  | 'ATTRS_DEFAULTS_OVERLAP'
  | 'READ_ONLY_DATABASE'
  | 'DRIVER_NOT_INSTALLED'
  | 'SCHEMA_NOT_IN_FORCE'
  | 'NO_TRANSACTION_NEEDS_DIRECT_CONNECTION'
  | 'UNKNOWN_TOOL'
  | 'LINT_PARSER_MISSING'
  | 'ENV_FILE_UNREADABLE'
  | 'PG_DUMP_MISSING'
  | 'PG_DUMP_TOO_OLD';

export type ConnectionErrorCode =
  | 'CONNECTION_FAILED'
  | 'LOCK_LOST'
  | 'CONNECT_TIMEOUT'
  | 'DATABASE_NOT_FOUND'
  | 'WAIT_TIMEOUT';

export type ReadOnlyDatabaseErrorCode =
  | 'READ_ONLY_TRANSACTION'
  | 'READ_ONLY_STANDBY';

export type QueryErrorCode =
  | 'QUERY_FAILED'
  | 'UNIQUE_VIOLATION'
  | 'FOREIGN_KEY_VIOLATION'
  | 'NOT_NULL_VIOLATION'
  | 'CHECK_VIOLATION'
  | 'SERIALIZATION_FAILURE'
  | 'UNDEFINED_TABLE'
  | 'UNDEFINED_COLUMN'
  | 'NO_UNIQUE_CONSTRAINT'
  | 'NOT_A_TABLE'
  | ReadOnlyDatabaseErrorCode;

export type MigrationFileErrorCode =
  | 'MIGRATION_FILE_INVALID'
  | 'BAD_FILE_NAME'
  | 'VERSION_TOO_LARGE'
  | 'NOT_UTF8'
  | 'NUL_BYTE'
  | 'VERSION_ZERO'
  | 'TRANSACTION_CONTROL'
  | 'DUPLICATE_VERSION'
  | 'ORPHAN_DOWN'
  | 'MIGRATIONS_DIR_MISSING'
  | 'MIGRATIONS_DIR_UNREADABLE'
  | 'UNREADABLE_FILE'
  | 'BAD_MARKER'
  | 'UNKNOWN_MARKER'
  | 'UNKNOWN_LINT_RULE'
  | 'IMPORT_NOTHING'
  | 'IMPORT_SOURCE_UNREADABLE'
  | 'IMPORT_TARGET_EXISTS'
  | 'IMPORT_UNCONVERTIBLE';

export type MigrationStateErrorCode =
  | 'MIGRATION_STATE_INVALID'
  | 'CHECKSUM_MISMATCH'
  | 'MISSING_FILE'
  | 'DATABASE_AHEAD'
  | 'OUT_OF_ORDER'
  | 'UNKNOWN_TARGET'
  | 'TARGET_BELOW_CURRENT'
  | 'MISSING_DOWN'
  | 'VERSION_TABLE_SHAPE'
  | 'ALREADY_CREATED'
  | 'NOT_APPLIED'
  | 'ADOPT_ALREADY_RECORDED'
  | 'ADOPT_DIRTY'
  | 'ADOPT_GAP'
  | 'ADOPT_MISSING_FILE'
  | 'ADOPT_NO_MAPPING'
  | 'ADOPT_NO_TABLE'
  | 'ADOPT_UNKNOWN_VERSION';

export type MigrationErrorCode = 'MIGRATION_FAILED' | 'DDL_LOCK_TIMEOUT';

/** Every code any sql-helpers error carries. */
export type ErrorCode =
  | RootErrorCode
  | ConfigurationErrorCode
  | ConnectionErrorCode
  | QueryErrorCode
  | MigrationFileErrorCode
  | MigrationStateErrorCode
  | 'INVALID_IDENTIFIER'
  | 'LOCK_TIMEOUT'
  | 'UNSAFE_INTEGER'
  | 'NO_RESULT_FOUND'
  | 'MULTIPLE_RESULTS_FOUND'
  | MigrationErrorCode;

/** Fields every sql-helpers error may carry; subclasses fill the ones that apply. */
export interface ErrorDetails<Code extends ErrorCode = ErrorCode> {
  /** Stable machine-readable code, e.g. `DUPLICATE_VERSION`. */
  code?: Code;
  /** The error this one wraps (a driver error, a file-system error, …). */
  cause?: unknown;
  /** PostgreSQL SQLSTATE (`23505`) or SQLite extended code (`SQLITE_CONSTRAINT_UNIQUE`); never an OS code. */
  sqlState?: string;
  /** The operating system's or Node's code for a failure below the database protocol (`ECONNREFUSED`, `ETIMEDOUT`). */
  systemCode?: string;
  constraint?: string;
  table?: string;
  column?: string;
}

/** The root of every error this library throws; `code` is stable, `cause` keeps the driver's error. */
export class SqlHelpersError extends Error {
  readonly code: ErrorCode;
  readonly sqlState: string | undefined;
  readonly systemCode: string | undefined;
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code ?? 'SQL_HELPERS_ERROR';
    this.sqlState = details.sqlState;
    this.systemCode = details.systemCode;
    this.constraint = details.constraint;
    this.table = details.table;
    this.column = details.column;
  }
}

/** A URI, option or argument that cannot work; fix the configuration. */
export class ConfigurationError extends SqlHelpersError {
  declare readonly code: ConfigurationErrorCode;

  constructor(message: string, details: ErrorDetails<ConfigurationErrorCode> = {}) {
    super(message, { code: 'INVALID_CONFIGURATION', ...details });
  }
}

/** A table or column name that cannot be quoted safely (empty, NUL, over 63 bytes, unknown column). */
export class InvalidIdentifierError extends SqlHelpersError {
  declare readonly code: 'INVALID_IDENTIFIER';

  constructor(message: string, details: ErrorDetails<'INVALID_IDENTIFIER'> = {}) {
    super(message, { code: 'INVALID_IDENTIFIER', ...details });
  }
}

/** The database could not be reached, or the connection was lost mid-call; later calls may succeed. */
export class ConnectionError extends SqlHelpersError {
  declare readonly code: ConnectionErrorCode;

  constructor(message: string, details: ErrorDetails<ConnectionErrorCode> = {}) {
    super(message, { code: 'CONNECTION_FAILED', ...details });
  }
}

/** The database rejected a statement; `sqlState` says why. */
export class QueryError extends SqlHelpersError {
  declare readonly code: QueryErrorCode;

  constructor(message: string, details: ErrorDetails<QueryErrorCode> = {}) {
    super(message, { code: 'QUERY_FAILED', ...details });
  }
}

/**
 * The database refused a write because it is read-only: `READ_ONLY_STANDBY` on a hot standby (writes and
 * migrations belong on the primary), `READ_ONLY_TRANSACTION` in a transaction or session set read-only.
 */
export class ReadOnlyDatabaseError extends QueryError {
  declare readonly code: ReadOnlyDatabaseErrorCode;

  constructor(message: string, details: ErrorDetails<ReadOnlyDatabaseErrorCode> = {}) {
    super(message, { code: 'READ_ONLY_TRANSACTION', ...details });
  }
}

/** A unique or primary-key constraint was violated. */
export class UniqueViolationError extends QueryError {
  declare readonly code: 'UNIQUE_VIOLATION';

  constructor(message: string, details: ErrorDetails<never> = {}) {
    super(message, { ...details, code: 'UNIQUE_VIOLATION' });
  }
}

/** A foreign-key constraint was violated. */
export class ForeignKeyViolationError extends QueryError {
  declare readonly code: 'FOREIGN_KEY_VIOLATION';

  constructor(message: string, details: ErrorDetails<never> = {}) {
    super(message, { ...details, code: 'FOREIGN_KEY_VIOLATION' });
  }
}

/** A NOT NULL constraint was violated. */
export class NotNullViolationError extends QueryError {
  declare readonly code: 'NOT_NULL_VIOLATION';

  constructor(message: string, details: ErrorDetails<never> = {}) {
    super(message, { ...details, code: 'NOT_NULL_VIOLATION' });
  }
}

/** A CHECK constraint was violated. */
export class CheckViolationError extends QueryError {
  declare readonly code: 'CHECK_VIOLATION';

  constructor(message: string, details: ErrorDetails<never> = {}) {
    super(message, { ...details, code: 'CHECK_VIOLATION' });
  }
}

/** A serialization failure or deadlock: retry the whole transaction. */
export class SerializationFailureError extends QueryError {
  declare readonly code: 'SERIALIZATION_FAILURE';

  constructor(message: string, details: ErrorDetails<never> = {}) {
    super(message, { ...details, code: 'SERIALIZATION_FAILURE' });
  }
}

/** A statement named a table that does not exist. */
export class UndefinedTableError extends QueryError {
  declare readonly code: 'UNDEFINED_TABLE';

  constructor(message: string, details: ErrorDetails<never> = {}) {
    super(message, { ...details, code: 'UNDEFINED_TABLE' });
  }
}

/** A statement named a column that the table does not have. */
export class UndefinedColumnError extends QueryError {
  declare readonly code: 'UNDEFINED_COLUMN';

  constructor(message: string, details: ErrorDetails<never> = {}) {
    super(message, { ...details, code: 'UNDEFINED_COLUMN' });
  }
}

/** `ON CONFLICT (columns)` named columns that no unique constraint or index covers exactly. */
export class MissingUniqueConstraintError extends QueryError {
  declare readonly code: 'NO_UNIQUE_CONSTRAINT';

  constructor(message: string, details: ErrorDetails<never> = {}) {
    super(message, { ...details, code: 'NO_UNIQUE_CONSTRAINT' });
  }
}

/** A lock (the migration lock, or a busy SQLite file) was not granted within its timeout. */
export class LockTimeoutError extends SqlHelpersError {
  declare readonly code: 'LOCK_TIMEOUT';

  constructor(message: string, details: ErrorDetails<'LOCK_TIMEOUT'> = {}) {
    super(message, { code: 'LOCK_TIMEOUT', ...details });
  }
}

/**
 * A value read from the database is an integer beyond ±(2^53 − 1), which a JS number cannot hold exactly;
 * thrown instead of a rounded number, on both databases.
 */
export class UnsafeIntegerError extends SqlHelpersError {
  declare readonly code: 'UNSAFE_INTEGER';
  /** The integer, as the database wrote it. */
  readonly value: string;

  constructor(value: string, column?: string) {
    super(
      `the integer ${value}${column === undefined ? '' : ` in column "${column}"`} is beyond ±(2^53 − 1), so a JS number cannot hold it exactly; ` +
        'select it as text (CAST(… AS TEXT)), or open the database with typeParsing: false to get the driver\'s own values',
      { code: 'UNSAFE_INTEGER', column },
    );
    this.value = value;
  }
}

/** `one()` / `getOne()` found no row. */
export class NoResultFound extends SqlHelpersError {
  declare readonly code: 'NO_RESULT_FOUND';

  constructor(message = 'no row was found when one was required', details: ErrorDetails<'NO_RESULT_FOUND'> = {}) {
    super(message, { code: 'NO_RESULT_FOUND', ...details });
  }
}

/** `one()` / `getOne()` found more than one row. */
export class MultipleResultsFound extends SqlHelpersError {
  declare readonly code: 'MULTIPLE_RESULTS_FOUND';

  constructor(message = 'multiple rows were found when exactly one was required', details: ErrorDetails<'MULTIPLE_RESULTS_FOUND'> = {}) {
    super(message, { code: 'MULTIPLE_RESULTS_FOUND', ...details });
  }
}

/** The migrations folder holds something that cannot be planned; nothing has run. */
export class MigrationFileError extends SqlHelpersError {
  declare readonly code: MigrationFileErrorCode;
  /** The files involved, relative to the migrations folder. */
  readonly files: string[];
  readonly line: number | undefined;

  constructor(message: string, details: ErrorDetails<MigrationFileErrorCode> & { files?: string[]; line?: number } = {}) {
    super(message, { code: 'MIGRATION_FILE_INVALID', ...details });
    this.files = details.files ?? [];
    this.line = details.line;
  }
}

/** The recorded versions and the files disagree (drift, out of order, unknown target); nothing has run. */
export class MigrationStateError extends SqlHelpersError {
  declare readonly code: MigrationStateErrorCode;
  readonly versions: number[];

  constructor(message: string, details: ErrorDetails<MigrationStateErrorCode> & { versions?: number[] } = {}) {
    super(message, { code: 'MIGRATION_STATE_INVALID', ...details });
    this.versions = details.versions ?? [];
  }
}

/** A migration's SQL failed; its transaction was rolled back. Points at file, line and column. */
export class MigrationError extends SqlHelpersError {
  declare readonly code: MigrationErrorCode;
  readonly file: string;
  readonly version: number;
  readonly line: number | undefined;
  readonly columnNumber: number | undefined;

  constructor(
    message: string,
    details: ErrorDetails<MigrationErrorCode> & { file: string; version: number; line?: number; columnNumber?: number },
  ) {
    super(message, { code: 'MIGRATION_FAILED', ...details });
    this.file = details.file;
    this.version = details.version;
    this.line = details.line;
    this.columnNumber = details.columnNumber;
  }
}

/**
 * A migration could not get a lock its statements needed within its lock timeout, on every attempt: `lockWait`
 * says which lock and who held it (pid, application, state, the start of its query). Nothing of a transactional
 * migration remains.
 */
export class DdlLockTimeoutError extends MigrationError {
  declare readonly code: 'DDL_LOCK_TIMEOUT';
  readonly lockWait: LockWait | undefined;
  readonly attempts: number;

  constructor(
    message: string,
    details: ErrorDetails<'DDL_LOCK_TIMEOUT'> & { file: string; version: number; line?: number; columnNumber?: number; lockWait: LockWait | undefined; attempts: number },
  ) {
    super(message, { code: 'DDL_LOCK_TIMEOUT', ...details });
    this.lockWait = details.lockWait;
    this.attempts = details.attempts;
  }
}

/** What a driver error looks like to us: `pg`'s DatabaseError, better-sqlite3's SqliteError or a Node system error. */
interface DriverErrorShape {
  message?: string;
  code?: unknown;
  constraint?: string;
  table?: string;
  column?: string;
}

// Constructed with the driver's details only: each class sets its own code.
type ErrorClass = new (message: string, details: ErrorDetails<never>) => SqlHelpersError;

const bySqlState: Record<string, ErrorClass> = {
  '23505': UniqueViolationError,
  '23503': ForeignKeyViolationError,
  '23502': NotNullViolationError,
  '23514': CheckViolationError,
  '40001': SerializationFailureError,
  '40P01': SerializationFailureError,
  '42P01': UndefinedTableError,
  '42703': UndefinedColumnError,
  '42P10': MissingUniqueConstraintError,
  '55P03': LockTimeoutError,
  '25006': ReadOnlyDatabaseError,
  '3D000': ConnectionError,
  '57P01': ConnectionError,
  '57P02': ConnectionError,
  '57P03': ConnectionError,
  // too_many_connections: the server's or the role's connection limit.
  '53300': ConnectionError,
  SQLITE_CONSTRAINT_UNIQUE: UniqueViolationError,
  SQLITE_CONSTRAINT_PRIMARYKEY: UniqueViolationError,
  SQLITE_CONSTRAINT_FOREIGNKEY: ForeignKeyViolationError,
  SQLITE_CONSTRAINT_NOTNULL: NotNullViolationError,
  SQLITE_CONSTRAINT_CHECK: CheckViolationError,
  SQLITE_BUSY: LockTimeoutError,
  SQLITE_BUSY_TIMEOUT: LockTimeoutError,
  SQLITE_BUSY_SNAPSHOT: SerializationFailureError,
  SQLITE_LOCKED: LockTimeoutError,
  SQLITE_CANTOPEN: ConnectionError,
};

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);
const lostConnection = /Connection terminated|connection error and is not queryable|not queryable|timeout expired|timeout exceeded when trying to connect/i;

function classify(code: string | undefined, message: string): ErrorClass {
  if (code !== undefined) {
    const known = bySqlState[code];
    if (known) return known;
    // Class 08 is "connection exception", class 28 "invalid authorization".
    if (/^(08|28)/.test(code) || networkCodes.has(code)) return ConnectionError;
    if (code === 'SQLITE_ERROR') {
      // SQLite reports these under the generic SQLITE_ERROR; its message is the only distinction.
      if (/^no such table/.test(message)) return UndefinedTableError;
      if (/^no such column|has no column named/.test(message)) return UndefinedColumnError;
      if (/ON CONFLICT clause does not match/.test(message)) return MissingUniqueConstraintError;
    }
  }
  if (lostConnection.test(message)) return ConnectionError;
  return QueryError;
}

/** Where an error happened, for connection errors: the redacted URI, and a secret to scrub from driver text. */
export interface ErrorContext {
  target: string;
  secret?: string | undefined;
  /** The connection is to a hot standby (`pg_is_in_recovery()`): a refused write is for that reason. */
  hotStandby?: boolean;
}

function scrub(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 3) return text;
  return text.split(secret).join('***').split(encodeURIComponent(secret)).join('***');
}

/** The one place that turns a driver's error (`pg`, better-sqlite3, Node) into ours, keeping it as `cause`. */
export function fromDriverError(error: unknown, context?: ErrorContext): SqlHelpersError {
  if (error instanceof SqlHelpersError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as DriverErrorShape;
  const code = typeof shape.code === 'string' ? shape.code : undefined;
  const raw = shape.message || (code ? `driver error ${code}` : 'unknown driver error');
  const ErrorType = classify(code, raw);
  let message = scrub(raw, context?.secret);
  if (code && !message.includes(code)) message += ` (${code})`;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_TIMEOUT') {
    message += '; another connection held the SQLite write lock longer than the busy timeout (engineArgs.timeout): retry, or end the long transaction';
  }
  if (code?.startsWith('SQLITE_READONLY')) {
    message += '; the SQLite file was opened read-only (engineArgs.readonly) or it or its folder is not writable: open it read-write';
  }
  if (ErrorType === ConnectionError && context) message = `cannot use database ${context.target}: ${message}`;
  if (ErrorType === ReadOnlyDatabaseError && context?.hotStandby) {
    return new ReadOnlyDatabaseError(
      `${context.target} is a read-only hot standby (a replica): ${message}. Writes and migrations must run against the ` +
        'primary: point the URL (--database, DATABASE_URL) at it. Reads, getStatus() and a sync() with nothing pending work here.',
      { cause: error, ...codeFields(code), code: 'READ_ONLY_STANDBY' },
    );
  }
  const where = { constraint: shape.constraint, table: shape.table, column: shape.column, ...namedInMessage(ErrorType, code, raw) };
  return new ErrorType(message, {
    cause: error,
    ...codeFields(code),
    constraint: shape.constraint ?? where.constraint,
    table: shape.table ?? where.table,
    column: shape.column ?? where.column,
  });
}

/** A SQLSTATE (five characters of digits and capitals) or a SQLite code is `sqlState`; anything else (ECONNREFUSED) is `systemCode`. */
export function codeFields(code: string | undefined): Pick<ErrorDetails, 'sqlState' | 'systemCode'> {
  if (code === undefined) return {};
  return /^[0-9A-Z]{5}$/.test(code) || code.startsWith('SQLITE_') ? { sqlState: code } : { systemCode: code };
}

// SQLite names what failed only in its message: "UNIQUE constraint failed: accounts.email" (several columns
// separated by ", "), "CHECK constraint failed: positive_amount"; PostgreSQL's undefined-table error names the
// relation only in its message too.
function namedInMessage(ErrorType: ErrorClass, code: string | undefined, message: string): Pick<ErrorDetails, 'constraint' | 'table' | 'column'> {
  if (ErrorType === UndefinedTableError) {
    const table = /^relation "([^"]+)" does not exist/.exec(message)?.[1] ?? /^no such table: (?:main\.)?(\S+)/.exec(message)?.[1];
    return table === undefined ? {} : { table };
  }
  if (!code?.startsWith('SQLITE_CONSTRAINT')) return {};
  const failed = /^(?:UNIQUE|NOT NULL|CHECK) constraint failed: (.+)$/.exec(message)?.[1];
  if (failed === undefined) return {};
  const columns = failed.split(', ').map((part) => /^([^.]+)\.(.+)$/.exec(part));
  if (code === 'SQLITE_CONSTRAINT_CHECK' || columns.some((match) => match === null)) return { constraint: failed };
  const tables = new Set(columns.map((match) => match![1]));
  return {
    constraint: failed,
    table: tables.size === 1 ? columns[0]![1] : undefined,
    column: columns.length === 1 ? columns[0]![2] : undefined,
  };
}

/**
 * For failures while connecting: whatever the driver reports there (a role without CONNECT, a connection limit,
 * SSL refused, an unreadable sslrootcert file) means the database cannot be used, so it is a `ConnectionError`.
 */
export function fromConnectError(error: unknown, context: ErrorContext): SqlHelpersError {
  const mapped = fromDriverError(error, context);
  if (mapped instanceof ConnectionError) return mapped;
  return new ConnectionError(
    `cannot connect to database ${context.target}: ${mapped.message}; check the URI, its SSL settings and the role's rights (CONNECT, connection limit)`,
    { cause: error, sqlState: mapped.sqlState, systemCode: mapped.systemCode },
  );
}

/** The error of any call on a `DatabaseManager` after `close()`. */
export function closedError(target: string): SqlHelpersError {
  return new SqlHelpersError(`the DatabaseManager for ${target} was closed (db.close()); create a new one to use the database again`, {
    code: 'CLOSED',
  });
}
