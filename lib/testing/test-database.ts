import type { DatabaseManager, DatabaseManagerOptions } from '../manager.js';
import { parseDatabaseUri } from '../uri.js';
import type { Clone } from './clone.js';
import { PostgresAdmin } from './postgres-admin.js';
import { removeLeftovers } from './postgres-cleanup.js';
import { clonePostgres, type CloneStrategy } from './postgres-templates.js';
import { removeSqliteLeftovers } from './sqlite-cleanup.js';
import { placeOf } from './sqlite-place.js';
import { cloneSqlite } from './sqlite-templates.js';
import { templateKey } from './template-key.js';

/** Options of `createTestDatabase`: the manager's, plus where and how templates are kept. */
export interface TestDatabaseOptions extends Omit<DatabaseManagerOptions, 'sqliteImage'> {
  /** PostgreSQL 15+: how `CREATE DATABASE … TEMPLATE` copies (default: the faster one measured, see docs/testing.md). */
  strategy?: CloneStrategy;
  /** `sqlite::memory:` only: the folder for template files; default `sql-helpers-templates` in the system temp folder. */
  templateDir?: string;
}

/** Node 20 has `Symbol.asyncDispose` since 20.4 (as `Symbol.for('nodejs.asyncDispose')`); guard for older builds. */
const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);

/** A new database with every migration applied, for one test (or one file of tests). */
export interface TestDatabase {
  /** A ready manager on the new database. */
  readonly db: DatabaseManager;
  /** The new database's URI, usable by other processes (it carries the credentials of the URI given); `sqlite::memory:` for an in-memory one. */
  readonly url: string;
  /** Closes `db` and removes the database. Idempotent. */
  drop(): Promise<void>;
  /** `drop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A new, fully migrated database, in milliseconds: the migrations are applied once to a template (named
 * from their checksums, built once under a lock however many processes ask), which each call then copies.
 * PostgreSQL: `uri` names a database on the server used to create the others. SQLite: `sqlite::memory:`, or
 * a file path beside which templates and copies are kept.
 */
export async function createTestDatabase(uri: string, migrationsDir: string, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const { strategy, templateDir, ...manager } = options;
  const target = parseDatabaseUri(uri);
  const key = await templateKey(target.dialect, migrationsDir, { versionTable: manager.versionTable, schema: manager.schema });
  const clone =
    target.dialect === 'postgres'
      ? await clonePostgres(target, key, migrationsDir, { manager, strategy })
      : await cloneSqlite(target, key, migrationsDir, { manager, templateDir });
  return disposable(clone);
}

function disposable(clone: Clone): TestDatabase {
  let dropped: Promise<void> | undefined;
  const drop = () => {
    dropped ??= clone.db.close().then(() => clone.remove());
    return dropped;
  };
  return { db: clone.db, url: clone.url, drop, [asyncDispose]: drop };
}

/** Options of `cleanupTestDatabases`. */
export interface CleanupOptions {
  /** Remove every template too (the next call rebuilds the one it needs); default: only crashed runs' leftovers. */
  templates?: boolean;
  /** `sqlite::memory:` only: the template folder, as given to `createTestDatabase`. */
  templateDir?: string;
}

/**
 * Removes what test runs left behind (their process is gone) on the server or beside the file `uri` names,
 * and with `templates: true` every template. Never a database or file in use, never one the tool did not
 * create. `createTestDatabase` does the first part by itself once per process; returns the names removed.
 */
export async function cleanupTestDatabases(uri: string, options: CleanupOptions = {}): Promise<string[]> {
  const target = parseDatabaseUri(uri);
  const templates = options.templates ? 'all' : 'keep';
  if (target.dialect === 'postgres') return removeLeftovers(PostgresAdmin.for(target), templates);
  return removeSqliteLeftovers(placeOf(target.filename, options.templateDir), templates);
}
