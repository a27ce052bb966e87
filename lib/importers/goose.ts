import type { Row } from '../driver/driver.js';
import { compareDigits, isTrue, safeName, splitAtMarkers, type Conversion, type Importer, type ToolMigration } from './importer.js';

type Annotation = 'up' | 'down' | 'no-transaction' | 'envsub';

// goose's annotations; StatementBegin/StatementEnd stay in the file as the comments they are.
function annotation(line: string): Annotation | undefined {
  const match = /^--\s*\+goose\s+(.+?)\s*$/i.exec(line);
  const command = match?.[1]!.toUpperCase().replace(/\s+/g, ' ');
  if (command === 'UP') return 'up';
  if (command === 'DOWN') return 'down';
  if (command === 'NO TRANSACTION') return 'no-transaction';
  if (command === 'ENVSUB ON') return 'envsub';
  return undefined;
}

/** goose (SQL files): `N_name.sql` with `-- +goose Up` / `-- +goose Down` sections; `goose_db_version` logs each up and down. */
export const goose: Importer = {
  tool: 'goose',
  versionTable: 'goose_db_version',

  convert(files) {
    const migrations: ToolMigration[] = [];
    const problems: Conversion['problems'] = [];
    for (const { file, text } of files) {
      const extension = /\.([^.]+)$/.exec(file)?.[1];
      if (extension !== 'sql' && extension !== 'go') continue;
      const match = /^(\d+)_(.*)\.(sql|go)$/.exec(file);
      if (extension === 'go') {
        problems.push({ file, message: 'a Go migration cannot be converted to SQL: rewrite it as a .sql migration first' });
        continue;
      }
      if (!match || BigInt(match[1]!) < 1n) {
        problems.push({ file, message: 'goose needs <version>_<name>.sql with a version of 1 or more' });
        continue;
      }
      const sections = splitAtMarkers(text, annotation);
      const count = (marker: Annotation) => sections.filter((section) => section.marker === marker).length;
      if (count('envsub') > 0) {
        problems.push({ file, message: '-- +goose ENVSUB ON substitutes environment variables at run time; write the values into the SQL first' });
        continue;
      }
      if (count('up') !== 1 || count('down') > 1) {
        problems.push({ file, message: 'a goose SQL migration needs exactly one "-- +goose Up" line (and at most one "-- +goose Down")' });
        continue;
      }
      // Text before "-- +goose Up" (comments, the NO TRANSACTION line) belongs to the up script; markers are dropped.
      let up = '';
      let down: string | undefined;
      let inDown = false;
      for (const section of sections) {
        if (section.marker === 'down') {
          inDown = true;
          down = '';
        }
        if (inDown) down += section.body;
        else up += section.body;
      }
      const [, digits, name] = match;
      migrations.push({
        id: BigInt(digits!).toString(),
        digits: digits!,
        name: safeName(name!),
        sources: [file],
        up,
        down,
        noTransaction: count('no-transaction') > 0 ? { up: '-- +goose NO TRANSACTION', down: '-- +goose NO TRANSACTION' } : {},
      });
    }
    return { migrations: migrations.sort((a, b) => compareDigits(a.id, b.id)), problems };
  },

  // Each up inserts a row; each down inserts is_applied = false (older goose) or deletes the rows (newer): the latest row per version decides.
  applied(rows: Row[]) {
    const latest = new Map<string, Row>();
    for (const row of [...rows].sort((a, b) => Number(a.id) - Number(b.id))) latest.set(String(row.version_id), row);
    return [...latest].filter(([id, row]) => id !== '0' && isTrue(row.is_applied)).map(([id]) => id);
  },
};
