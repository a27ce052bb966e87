import { ConfigurationError } from '../errors.js';
import type { DatabaseManager, DatabaseManagerOptions } from '../manager.js';
import { describeValue } from '../options.js';
import { parseDatabaseUri } from '../uri.js';
import type { Clone } from './clone.js';
import { PostgresAdmin } from './postgres-admin.js';
import { removeLeftovers } from './postgres-cleanup.js';
import { clonePostgres, serverGroup, type CloneStrategy } from './postgres-templates.js';
import { removeSqliteLeftovers } from './sqlite-cleanup.js';
import { placeOf } from './sqlite-place.js';
import { releaseSpares } from './spares.js';
import { cloneSqlite, placeGroup } from './sqlite-templates.js';
import { templateKey } from './template-key.js';

/** Options of `createTestDatabase`: the manager's, plus where and how templates are kept. */
export interface TestDatabaseOptions extends Omit<DatabaseManagerOptions, 'sqliteImage'> {
  /** PostgreSQL 15+: how `CREATE DATABASE … TEMPLATE` copies (default: the faster one measured, see docs/testing.md). */
  strategy?: CloneStrategy;
  /** `sqlite::memory:` only: the folder for template files; default `sql-helpers-templates` in the system temp folder. */
  templateDir?: string;
  /**
   * PostgreSQL and SQLite files: how many databases to keep made ahead per template, from a process's second
   * call on (default 1; 0: none). A call then takes one that is ready while the next is copied.
   */
  spares?: number;
}

const STRATEGIES: readonly CloneStrategy[] = ['WAL_LOG', 'FILE_COPY'];
const MAX_SPARES = 8;

/** The testing options besides the manager's, checked: a strategy is written into the SQL, so only the two names pass. */
function checked(options: TestDatabaseOptions): { strategy: CloneStrategy | undefined; spares: number } {
  const { strategy, spares = 1 } = options;
  if (strategy !== undefined && !STRATEGIES.includes(strategy)) {
    throw new ConfigurationError(`option strategy must be 'WAL_LOG' or 'FILE_COPY', got ${describeValue(strategy)}`, { code: 'INVALID_OPTION' });
  }
  if (!Number.isInteger(spares) || spares < 0 || spares > MAX_SPARES) {
    throw new ConfigurationError(`option spares must be a whole number from 0 to ${MAX_SPARES}, got ${describeValue(spares)}`, { code: 'INVALID_OPTION' });
  }
  return { strategy, spares };
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
  const { strategy: _strategy, templateDir, spares: _spares, ...manager } = options;
  const { strategy, spares } = checked(options);
  const target = parseDatabaseUri(uri);
  const key = await templateKey(target.dialect, migrationsDir, { versionTable: manager.versionTable, schema: manager.schema });
  const clone =
    target.dialect === 'postgres'
      ? await clonePostgres(target, key, migrationsDir, { manager, strategy, spares })
      : await cloneSqlite(target, key, migrationsDir, { manager, templateDir, spares });
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
 * Removes this process's spares on the server or beside the file `uri` names, then what test runs left
 * behind (their process is gone), and with `templates: true` every template. Never a database or file in
 * use, never one the tool did not create. `createTestDatabase` does the second part by itself once per
 * process, and spares go when the process's event loop empties; returns the names removed by the cleanup.
 */
export async function cleanupTestDatabases(uri: string, options: CleanupOptions = {}): Promise<string[]> {
  const target = parseDatabaseUri(uri);
  const templates = options.templates ? 'all' : 'keep';
  if (target.dialect === 'postgres') {
    await releaseSpares(serverGroup(target));
    return removeLeftovers(PostgresAdmin.for(target), templates);
  }
  const place = placeOf(target.filename, options.templateDir);
  await releaseSpares(placeGroup(place));
  return removeSqliteLeftovers(place, templates);
}
