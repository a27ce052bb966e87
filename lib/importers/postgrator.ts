import type { Row } from '../driver/driver.js';
import { safeName, type Conversion, type Importer, type ToolMigration } from './importer.js';

/** Postgrator: `<version>.do.<name>.sql` and `<version>.undo.<name>.sql`; `schemaversion` has a row per applied version (0 when none). */
export const postgrator: Importer = {
  tool: 'postgrator',
  versionTable: 'schemaversion',

  convert(files) {
    const problems: Conversion['problems'] = [];
    const byVersion = new Map<number, ToolMigration>();
    const undos = new Map<number, { file: string; text: string }>();
    for (const { file, text } of files) {
      const extension = /\.([^.]+)$/.exec(file)?.[1] ?? '';
      if (!['sql', 'js', 'cjs', 'mjs'].includes(extension)) continue;
      // Postgrator splits the name on dots: version, action, name; a version that is not a number is skipped.
      const [rawVersion = '', action, name = ''] = file.slice(0, -extension.length - 1).split('.');
      const version = Number(rawVersion);
      if (rawVersion === '' || Number.isNaN(version)) continue;
      if (extension !== 'sql') {
        problems.push({ file, message: 'a JavaScript migration (generateSql) cannot be converted: write the SQL it generates into a .sql file' });
        continue;
      }
      if (action === 'undo') {
        undos.set(version, { file, text });
        continue;
      }
      if (action !== 'do' || !/^\d+$/.test(rawVersion)) {
        problems.push({ file, message: 'postgrator files are named <version>.do.<name>.sql or <version>.undo.<name>.sql' });
        continue;
      }
      if (byVersion.has(version)) {
        problems.push({ file, message: `version ${version} is also used by ${byVersion.get(version)!.sources[0]}` });
        continue;
      }
      byVersion.set(version, { id: String(version), digits: rawVersion, name: safeName(name), sources: [file], up: text, down: undefined, noTransaction: {} });
    }
    for (const [version, undo] of undos) {
      const migration = byVersion.get(version);
      if (!migration) {
        problems.push({ file: undo.file, message: `an undo file without its do file for version ${version}` });
        continue;
      }
      migration.down = undo.text;
      migration.sources.push(undo.file);
    }
    return { migrations: [...byVersion.values()].sort((a, b) => Number(a.id) - Number(b.id)), problems };
  },

  applied(rows: Row[]) {
    return rows.map((row) => String(row.version)).filter((version) => version !== '0');
  },
};
