import { ConfigurationError } from '../errors.js';
import { parseDatabaseUri } from '../uri.js';
import type { Driver } from './driver.js';
import { PostgresDriver } from './postgres.js';
import { SqliteDriver } from './sqlite.js';

/** What the manager passes to the driver it asks for. */
export interface DriverOptions {
  engineArgs?: Record<string, unknown> | undefined;
  schema?: string | undefined;
}

/** Picks the driver the URI names. Each driver `require`s its package when constructed, so SQLite users never load `pg`. */
export function createDriver(uri: string | URL, options: DriverOptions): Driver {
  const target = parseDatabaseUri(uri);
  if (target.dialect === 'postgres') return new PostgresDriver(target, options);
  if (options.schema !== undefined) {
    throw new ConfigurationError('the schema option is for PostgreSQL; SQLite has one schema per file, so leave it out', {
      code: 'INVALID_OPTION',
    });
  }
  return new SqliteDriver(target, options);
}
