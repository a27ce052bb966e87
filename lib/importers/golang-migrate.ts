import type { Row } from '../driver/driver.js';
import { compareDigits, dirty, isTrue, safeName, type Conversion, type Importer, type ToolMigration } from './importer.js';

// golang-migrate's own pattern (source.DefaultParse); files that do not match are skipped, as it skips them.
const FILE = /^([0-9]+)_(.*)\.(down|up)\.(.*)$/;

/** golang-migrate: `N_name.up.sql` / `N_name.down.sql`; `schema_migrations(version, dirty)` holds the one current version. */
export const golangMigrate: Importer = {
  tool: 'golang-migrate',
  versionTable: 'schema_migrations',

  convert(files) {
    const byVersion = new Map<string, { name: string; up?: string; down?: string; sources: string[] }>();
    const problems: Conversion['problems'] = [];
    for (const { file, text } of files) {
      const match = FILE.exec(file);
      if (!match) continue;
      const [, digits, name, direction, extension] = match as unknown as [string, string, string, 'up' | 'down', string];
      if (extension !== 'sql') {
        problems.push({ file, message: `a .${extension} migration is not SQL and cannot be converted` });
        continue;
      }
      const id = BigInt(digits).toString();
      const entry = byVersion.get(id) ?? { name, sources: [] };
      if (entry[direction] !== undefined) {
        problems.push({ file, message: `version ${id} has two ${direction} files: ${entry.sources.join(', ')} and ${file}` });
        continue;
      }
      entry[direction] = text;
      entry.sources.push(file);
      if (direction === 'up') entry.name = name;
      byVersion.set(id, entry);
    }
    const migrations: ToolMigration[] = [];
    for (const [id, entry] of byVersion) {
      if (entry.up === undefined) {
        problems.push({ file: entry.sources[0]!, message: `version ${id} has a down file but no up file` });
        continue;
      }
      const digits = /^\d+_/.exec(entry.sources.find((source) => source.includes('.up.'))!)![0].slice(0, -1);
      migrations.push({ id, digits, name: safeName(entry.name), sources: entry.sources.sort(), up: entry.up, down: entry.down, noTransaction: {} });
    }
    return { migrations: migrations.sort((a, b) => compareDigits(a.id, b.id)), problems };
  },

  applied(rows: Row[], known: string[]) {
    const [row] = rows;
    if (row === undefined) return [];
    const version = String(row.version);
    if (isTrue(row.dirty)) {
      throw dirty(
        'golang-migrate',
        `version ${version} is dirty`,
        `repair what version ${version} left half-done and mark it clean with "migrate force ${version}" (or force the version before it)`,
      );
    }
    return known.filter((id) => compareDigits(id, version) <= 0);
  },
};
