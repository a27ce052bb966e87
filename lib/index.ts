export { DatabaseManager, DatabaseStatus, isSqlite, type DatabaseManagerOptions, type Readiness, type VerifyReport } from './manager.js';
export { SyncResult, type Logger, type MigrationRun, type PlanAction, type PlannedStep, type RepairResult } from './migrations/migrator.js';
export { waitForDatabase, type WaitOptions, type WaitResult } from './wait.js';
export { createDatabaseIfMissing } from './driver/load.js';
export type { AppliedMigration, MigrationListing, MigrationState, Problem, Target } from './migrations/plan.js';
export { Session, Transaction } from './session.js';
export { sql, Sql, bulk, empty, join, raw, identifier } from './sql.js';
export type { Dialect, EngineArgs, Engines, LockBlocker, LockWait, Row } from './driver/driver.js';
export { redactUri } from './uri.js';
export { importMigrations, type ImportReport, type ImportedMigration } from './importers/convert.js';
export { lintSql, lintFiles, type LintFinding, type LintReport } from './lint/lint.js';
export { LINT_RULES } from './lint/rules/index.js';
export type { LintRule } from './lint/rule.js';
export { adopt, type AdoptOptions, type AdoptReport } from './importers/adopt.js';
export type { ToolName } from './importers/importer.js';
export {
  SqlHelpersError,
  ConfigurationError,
  InvalidIdentifierError,
  ConnectionError,
  QueryError,
  ReadOnlyDatabaseError,
  UniqueViolationError,
  ForeignKeyViolationError,
  NotNullViolationError,
  CheckViolationError,
  SerializationFailureError,
  UndefinedTableError,
  UndefinedColumnError,
  MissingUniqueConstraintError,
  LockTimeoutError,
  UnsafeIntegerError,
  NoResultFound,
  MultipleResultsFound,
  MigrationFileError,
  MigrationStateError,
  MigrationError,
  DdlLockTimeoutError,
  type ErrorCode,
  type RootErrorCode,
  type ConfigurationErrorCode,
  type ConnectionErrorCode,
  type ReadOnlyDatabaseErrorCode,
  type QueryErrorCode,
  type MigrationFileErrorCode,
  type MigrationStateErrorCode,
  type MigrationErrorCode,
} from './errors.js';
export {
  table,
  getByPk,
  getOne,
  getOrCreate,
  updateOrCreate,
  existsInDb,
  type Model,
  type Attrs,
  type Defaults,
  type DefaultKey,
  type PrimaryKey,
} from './helpers.js';
