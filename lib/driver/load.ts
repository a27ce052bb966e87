import { ConfigurationError } from '../errors.js';
import { parseDatabaseUri } from '../uri.js';
import type { Dialect, Driver, EngineArgs } from './driver.js';
import { PostgresDriver, type PreparedStatements } from './postgres.js';
import { createPostgresDatabase } from './postgres-create.js';
import { SqliteDriver } from './sqlite.js';

/** What the manager passes to the driver it asks for. */
export interface DriverOptions {
  engineArgs?: EngineArgs[Dialect] | undefined;
  schema?: string | undefined;
  preparedStatements?: PreparedStatements | undefined;
  directUrl?: string | undefined;
  sqliteImage?: Buffer | undefined;
  typeParsing?: boolean | undefined;
  connectTimeoutMs?: number | undefined;
}

/** Picks the driver the URI names. Each driver loads its package when constructed, so SQLite users never load `pg`. */
export function createDriver(uri: string | URL, options: DriverOptions): Driver {
  const target = parseDatabaseUri(uri);
  if (target.dialect === 'postgres') {
    if (options.sqliteImage !== undefined) {
      throw new ConfigurationError('the sqliteImage option is for sqlite::memory:; leave it out for PostgreSQL', { code: 'INVALID_OPTION' });
    }
    // The URI decides the dialect at run time; the manager's type parameter promised engineArgs of that dialect.
    return new PostgresDriver(target, { ...options, engineArgs: options.engineArgs as EngineArgs['postgres'] | undefined });
  }
  for (const option of ['schema', 'preparedStatements', 'directUrl'] as const) {
    if (options[option] === undefined) continue;
    throw new ConfigurationError(`the ${option} option is for PostgreSQL; leave it out for SQLite`, { code: 'INVALID_OPTION' });
  }
  return new SqliteDriver(target, {
    engineArgs: options.engineArgs as EngineArgs['sqlite'] | undefined,
    image: options.sqliteImage,
    typeParsing: options.typeParsing,
  });
}

/**
 * Creates the database `uri` names when it does not exist: PostgreSQL through the maintenance database
 * `postgres`; true when this call created it. A SQLite file is created by the first write, so this is false there.
 */
export async function createDatabaseIfMissing(uri: string | URL, options: { connectTimeoutMs?: number } = {}): Promise<boolean> {
  const target = parseDatabaseUri(uri);
  if (target.dialect === 'sqlite') return false;
  return createPostgresDatabase(target, options.connectTimeoutMs);
}
