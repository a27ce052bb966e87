import { ConfigurationError } from '../errors.js';
import { parseDatabaseUri } from '../uri.js';
import type { Dialect, Driver, EngineArgs } from './driver.js';
import { PostgresDriver, type PreparedStatements } from './postgres.js';
import { SqliteDriver } from './sqlite.js';

/** What the manager passes to the driver it asks for. */
export interface DriverOptions {
  engineArgs?: EngineArgs[Dialect] | undefined;
  schema?: string | undefined;
  preparedStatements?: PreparedStatements | undefined;
  directUrl?: string | undefined;
  typeParsing?: boolean | undefined;
}

/** Picks the driver the URI names. Each driver loads its package when constructed, so SQLite users never load `pg`. */
export function createDriver(uri: string, options: DriverOptions): Driver {
  const target = parseDatabaseUri(uri);
  if (options.typeParsing !== undefined && typeof options.typeParsing !== 'boolean') {
    throw new ConfigurationError(`the typeParsing option must be true or false; got ${JSON.stringify(options.typeParsing) ?? String(options.typeParsing)}`, {
      code: 'INVALID_OPTION',
    });
  }
  // The URI decides the dialect at run time; the manager's type parameter promised engineArgs of that dialect.
  if (target.dialect === 'postgres') return new PostgresDriver(target, { ...options, engineArgs: options.engineArgs as EngineArgs['postgres'] | undefined });
  for (const option of ['schema', 'preparedStatements', 'directUrl'] as const) {
    if (options[option] === undefined) continue;
    throw new ConfigurationError(`the ${option} option is for PostgreSQL; leave it out for SQLite`, { code: 'INVALID_OPTION' });
  }
  return new SqliteDriver(target, { ...options, engineArgs: options.engineArgs as EngineArgs['sqlite'] | undefined });
}
