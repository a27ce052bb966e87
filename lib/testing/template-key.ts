import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
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

// Per process: the key of each folder, with the fingerprint it was computed for. Reading and hashing 500 files
// takes ~20 ms, stating them ~1 ms: a call re-reads only when a file was added, removed or changed.
const known = new Map<string, { fingerprint: string; key: TemplateKey }>();

/** Names, sizes and change times of the folder's `.sql` files; `undefined` when it cannot be read (reading reports why). */
function fingerprintOf(dir: string): string | undefined {
  try {
    const names = readdirSync(dir).filter((name) => name.endsWith('.sql')).sort();
    return names.map((name) => {
      const stats = statSync(join(dir, name));
      return `${name}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
    }).join('/');
  } catch {
    return undefined;
  }
}

/** Reads and validates the migrations (a `MigrationFileError` before anything is created) and hashes them. */
export async function templateKey(dialect: Dialect, migrationsDir: string, shape: TemplateShape): Promise<TemplateKey> {
  const options = [shape.versionTable ?? null, shape.schema ?? null];
  const id = JSON.stringify([dialect, resolve(migrationsDir), options]);
  const fingerprint = fingerprintOf(migrationsDir);
  const cached = known.get(id);
  if (cached !== undefined && fingerprint !== undefined && cached.fingerprint === fingerprint) return cached.key;
  const migrations = await readMigrations(migrationsDir, dialect);
  const files = migrations.map((m) => [m.version, m.name, m.up.file, m.up.checksum, m.up.transactional]);
  const key = {
    hash: sha256(['sql-helpers', LIBRARY_VERSION, dialect, options, files]),
    source: sha256([dialect, resolve(migrationsDir), options]),
    head: migrations.at(-1)?.version ?? null,
  };
  if (fingerprint !== undefined) known.set(id, { fingerprint, key });
  return key;
}
