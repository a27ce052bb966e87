import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Dialect } from '../driver/driver.js';
import { readMigrations } from '../migrations/files.js';

const { version: LIBRARY_VERSION } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** What makes two template databases interchangeable, and what makes one replace another. */
export interface TemplateKey {
  /**
   * Changes whenever the migrated result could: every up file's version, name and checksum, the dialect,
   * the library version, and the options that shape the schema (version table, PostgreSQL schema).
   */
  hash: string;
  /** The migrations folder and those options without the file contents: a template of the same source and another hash is superseded. */
  source: string;
  /** The number of migrations the template holds: a clone is checked against it. */
  head: number | null;
}

/** What besides the files shapes a migrated database. */
export interface TemplateShape {
  versionTable: string | undefined;
  schema: string | undefined;
}

const sha256 = (parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

/** Reads and validates the migrations (a `MigrationFileError` before anything is created) and hashes them. */
export async function templateKey(dialect: Dialect, migrationsDir: string, shape: TemplateShape): Promise<TemplateKey> {
  const migrations = await readMigrations(migrationsDir, dialect);
  const files = migrations.map((m) => [m.version, m.name, m.up.file, m.up.checksum, m.up.transactional]);
  const options = [shape.versionTable ?? null, shape.schema ?? null];
  return {
    hash: sha256(['sql-helpers', LIBRARY_VERSION, dialect, options, files]),
    source: sha256([dialect, resolve(migrationsDir), options]),
    head: migrations.at(-1)?.version ?? null,
  };
}
