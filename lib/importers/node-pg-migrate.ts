import type { Row } from '../driver/driver.js';
import { safeName, splitAtMarkers, type Conversion, type Importer, type ToolMigration } from './importer.js';

// node-pg-migrate's section comments ("-- Up Migration", "-- Down Migration"), matched as it matches them.
function marker(line: string): 'up' | 'down' | undefined {
  const match = /^\s*--[\s-]*(up|down)\s+migration/i.exec(line);
  return match ? (match[1]!.toLowerCase() as 'up' | 'down') : undefined;
}

/** The order node-pg-migrate runs files in: numeric prefix, a 17-digit prefix read as a UTC time (yyyymmddhhmmssSSS). */
function orderKey(prefix: string): number {
  if (prefix.length !== 17) return Number(prefix);
  const [year, month, day, hour, minute, second, ms] = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d{3})$/.exec(prefix)!.slice(1).map(Number) as number[];
  return Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, ms!);
}

/** node-pg-migrate (SQL files): `<prefix>_name.sql` with `-- Up Migration` / `-- Down Migration`; `pgmigrations` lists run files by name. */
export const nodePgMigrate: Importer = {
  tool: 'node-pg-migrate',
  versionTable: 'pgmigrations',

  convert(files) {
    const migrations: Array<ToolMigration & { order: number }> = [];
    const problems: Conversion['problems'] = [];
    for (const { file, text } of files) {
      if (/\.(js|cjs|mjs|ts|cts|mts)$/.test(file)) {
        problems.push({ file, message: 'a JavaScript/TypeScript migration cannot be converted to SQL: rewrite it as a .sql migration first' });
        continue;
      }
      if (!file.endsWith('.sql')) continue;
      const match = /^(\d+)(?:_(.*))?\.sql$/.exec(file);
      if (!match) {
        problems.push({ file, message: 'node-pg-migrate orders files by a numeric prefix, and this one has none' });
        continue;
      }
      const sections = splitAtMarkers(text, marker);
      if (sections.filter((section) => section.marker === 'up').length > 1 || sections.filter((section) => section.marker === 'down').length > 1) {
        problems.push({ file, message: 'more than one "-- Up Migration" or "-- Down Migration" comment' });
        continue;
      }
      // Without markers the whole file is the up migration; with them, text before the first marker is not run.
      const hasMarkers = sections.length > 1;
      const up = hasMarkers ? sections.find((section) => section.marker === 'up')?.body ?? '' : text;
      const down = sections.find((section) => section.marker === 'down')?.body;
      const [, digits, name = ''] = match;
      migrations.push({ id: file.slice(0, -'.sql'.length), digits: digits!, name: safeName(name), sources: [file], up, down, noTransaction: {}, order: orderKey(digits!) });
    }
    migrations.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
    return { migrations: migrations.map(({ order: _order, ...migration }) => migration), problems };
  },

  applied(rows: Row[]) {
    return rows.map((row) => String(row.name));
  },
};
