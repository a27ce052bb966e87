/** Fields every sql-helpers error may carry; subclasses fill the ones that apply. */
export interface ErrorDetails {
  /** Stable machine-readable code, e.g. `DUPLICATE_VERSION`. */
  code?: string;
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
  readonly code: string;
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
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: 'INVALID_CONFIGURATION', ...details });
  }
}

/** A table or column name that cannot be quoted safely (empty, NUL, over 63 bytes, unknown column). */
export class InvalidIdentifierError extends SqlHelpersError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: 'INVALID_IDENTIFIER', ...details });
  }
}

/** The database could not be reached, or the connection was lost mid-call; later calls may succeed. */
export class ConnectionError extends SqlHelpersError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: 'CONNECTION_FAILED', ...details });
  }
}

/** The database rejected a statement; `sqlState` says why. */
export class QueryError extends SqlHelpersError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: 'QUERY_FAILED', ...details });
  }
}

/**
 * The database refused a write because it is read-only: `READ_ONLY_STANDBY` on a hot standby (writes and
 * migrations belong on the primary), `READ_ONLY_TRANSACTION` in a transaction or session set read-only.
 */
export class ReadOnlyDatabaseError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: 'READ_ONLY_TRANSACTION', ...details });
  }
}

/** A unique or primary-key constraint was violated. */
export class UniqueViolationError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { ...details, code: 'UNIQUE_VIOLATION' });
  }
}

/** A foreign-key constraint was violated. */
export class ForeignKeyViolationError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { ...details, code: 'FOREIGN_KEY_VIOLATION' });
  }
}

/** A NOT NULL constraint was violated. */
export class NotNullViolationError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { ...details, code: 'NOT_NULL_VIOLATION' });
  }
}

/** A CHECK constraint was violated. */
export class CheckViolationError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { ...details, code: 'CHECK_VIOLATION' });
  }
}

/** A serialization failure or deadlock: retry the whole transaction. */
export class SerializationFailureError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { ...details, code: 'SERIALIZATION_FAILURE' });
  }
}

/** A statement named a table that does not exist. */
export class UndefinedTableError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { ...details, code: 'UNDEFINED_TABLE' });
  }
}

/** A statement named a column that the table does not have. */
export class UndefinedColumnError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { ...details, code: 'UNDEFINED_COLUMN' });
  }
}

/** `ON CONFLICT (columns)` named columns that no unique constraint or index covers exactly. */
export class MissingUniqueConstraintError extends QueryError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { ...details, code: 'NO_UNIQUE_CONSTRAINT' });
  }
}

/** A lock (the migration lock, or a busy SQLite file) was not granted within its timeout. */
export class LockTimeoutError extends SqlHelpersError {
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, { code: 'LOCK_TIMEOUT', ...details });
  }
}

/** `one()` / `getOne()` found no row. */
export class NoResultFound extends SqlHelpersError {
  constructor(message = 'no row was found when one was required', details: ErrorDetails = {}) {
    super(message, { code: 'NO_RESULT_FOUND', ...details });
  }
}

/** `one()` / `getOne()` found more than one row. */
export class MultipleResultsFound extends SqlHelpersError {
  constructor(message = 'multiple rows were found when exactly one was required', details: ErrorDetails = {}) {
    super(message, { code: 'MULTIPLE_RESULTS_FOUND', ...details });
  }
}

/** The migrations folder holds something that cannot be planned; nothing has run. */
export class MigrationFileError extends SqlHelpersError {
  /** The files involved, relative to the migrations folder. */
  readonly files: string[];
  readonly line: number | undefined;

  constructor(message: string, details: ErrorDetails & { files?: string[]; line?: number } = {}) {
    super(message, { code: 'MIGRATION_FILE_INVALID', ...details });
    this.files = details.files ?? [];
    this.line = details.line;
  }
}

/** The recorded versions and the files disagree (drift, out of order, unknown target); nothing has run. */
export class MigrationStateError extends SqlHelpersError {
  readonly versions: number[];

  constructor(message: string, details: ErrorDetails & { versions?: number[] } = {}) {
    super(message, { code: 'MIGRATION_STATE_INVALID', ...details });
    this.versions = details.versions ?? [];
  }
}

/** A migration's SQL failed; its transaction was rolled back. Points at file, line and column. */
export class MigrationError extends SqlHelpersError {
  readonly file: string;
  readonly version: number;
  readonly line: number | undefined;
  readonly columnNumber: number | undefined;

  constructor(
    message: string,
    details: ErrorDetails & { file: string; version: number; line?: number; columnNumber?: number },
  ) {
    super(message, { code: 'MIGRATION_FAILED', ...details });
    this.file = details.file;
    this.version = details.version;
    this.line = details.line;
    this.columnNumber = details.columnNumber;
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

type ErrorClass = new (message: string, details: ErrorDetails) => SqlHelpersError;

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
