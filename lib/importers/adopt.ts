import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Row } from '../driver/driver.js';
import { MigrationStateError, UndefinedTableError } from '../errors.js';
import type { DatabaseManager } from '../manager.js';
import { identifier, sql } from '../sql.js';
import { mappingFileName, type ImportedMigration } from './convert.js';

/** Options of `adopt(db, tool, options)`. */
export interface AdoptOptions {
  /** The tool's version table when it is not the tool's default (e.g. `goose -table`); `schema.table` allowed. */
  table?: string;
}

/** What `adopt` did: the versions it stamped (none when the database was adopted already). */
export interface AdoptReport {
  tool: string;
  table: string;
  /** The tool's ids it found applied, in its order. */
  applied: string[];
  stamped: number[];
}

async function readMapping(db: DatabaseManager, tool: string): Promise<ImportedMigration[]> {
  const path = join(db.migrationsDir, mappingFileName(tool));
  let text;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MigrationStateError(
      `${path} is missing: adopt maps ${tool}'s versions through the file that "import ${tool}" writes; run import first (into this --dir)`,
      { code: 'ADOPT_NO_MAPPING', cause: error },
    );
  }
  return (JSON.parse(text) as { migrations: ImportedMigration[] }).migrations;
}

/**
 * Takes over a database that `tool` migrated: reads the tool's version table and stamps, in one transaction,
 * the sql-helpers versions it had applied, so nothing runs twice. Refuses, stamping nothing, when the tool
 * left a failed (dirty) run, or when its table and the files disagree.
 */
export async function adopt(db: DatabaseManager, tool: string, options: AdoptOptions = {}): Promise<AdoptReport> {
  // Loaded here, not at the top: the CLI imports this module for every command, and the six tools only for this one.
  const { importerFor } = await import('./registry.js');
  const importer = importerFor(tool);
  const mapping = await readMapping(db, tool);
  const table = options.table ?? importer.versionTable;
  let rows: Row[];
  try {
    rows = await db.query(sql`SELECT * FROM ${identifier(...table.split('.'))}`);
  } catch (error) {
    if (!(error instanceof UndefinedTableError)) throw error;
    throw new MigrationStateError(
      `${tool}'s version table ${table} does not exist in ${db.url}; has ${tool} migrated this database (and this schema)? Name another table with --from-table`,
      { code: 'ADOPT_NO_TABLE', cause: error },
    );
  }
  const applied = importer.applied(rows, mapping.map((entry) => entry.id));
  const versions = new Map(mapping.map((entry) => [entry.id, entry.version]));
  const unknown = applied.filter((id) => !versions.has(id));
  if (unknown.length > 0) {
    throw new MigrationStateError(
      `${tool} applied ${unknown.join(', ')}, which the imported files do not have; nothing was stamped: import again from the folder that migrated this database`,
      { code: 'ADOPT_UNKNOWN_VERSION' },
    );
  }
  const stamped = await db.migrator.stampExactly(applied.map((id) => versions.get(id)!));
  return { tool, table, applied, stamped };
}
