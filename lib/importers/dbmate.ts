import type { Row } from '../driver/driver.js';
import { compareDigits, safeName, splitAtMarkers, type Conversion, type Importer, type ToolMigration } from './importer.js';

interface Marker {
  direction: 'up' | 'down';
  transaction: boolean;
}

// dbmate's section lines: "-- migrate:up" / "-- migrate:down", optionally followed by "transaction:false".
function marker(line: string): Marker | undefined {
  const match = /^--\s*migrate:(up|down)\b(.*)$/.exec(line);
  if (!match) return undefined;
  return { direction: match[1] as Marker['direction'], transaction: !/\btransaction:\s*false\b/.test(match[2]!) };
}

/** dbmate: `<version>_name.sql` with `-- migrate:up` / `-- migrate:down`; `schema_migrations(version)` lists each applied version. */
export const dbmate: Importer = {
  tool: 'dbmate',
  versionTable: 'schema_migrations',

  convert(files) {
    const migrations: ToolMigration[] = [];
    const problems: Conversion['problems'] = [];
    for (const { file, text } of files) {
      // dbmate's own pattern: the digits at the start are the version.
      const match = /^(\d+)(?:_(.*))?\.sql$/.exec(file);
      if (!match) continue;
      const sections = splitAtMarkers(text, marker);
      const ups = sections.filter((section) => section.marker?.direction === 'up');
      const downs = sections.filter((section) => section.marker?.direction === 'down');
      if (ups.length !== 1 || downs.length > 1) {
        problems.push({ file, message: 'a dbmate migration needs exactly one "-- migrate:up" line (and at most one "-- migrate:down")' });
        continue;
      }
      if (sections[0]!.body.trim() !== '') {
        problems.push({ file, message: 'text before "-- migrate:up" is not part of any migration in dbmate; move it below the marker or delete it' });
        continue;
      }
      const outside = (section: (typeof sections)[number] | undefined) => (section && !section.marker!.transaction ? section.line.trim() : undefined);
      const [, digits, name = ''] = match;
      migrations.push({
        id: digits!,
        digits: digits!,
        name: safeName(name),
        sources: [file],
        up: ups[0]!.body,
        down: downs[0]?.body,
        noTransaction: { up: outside(ups[0]), down: outside(downs[0]) },
      });
    }
    return { migrations: migrations.sort((a, b) => compareDigits(a.id, b.id)), problems };
  },

  applied(rows: Row[]) {
    return rows.map((row) => String(row.version));
  },
};
