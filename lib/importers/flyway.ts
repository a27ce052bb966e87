import type { Row } from '../driver/driver.js';
import { dirty, isTrue, safeName, type Conversion, type Importer, type ToolMigration } from './importer.js';

// V<version>__<description>.sql; the version's underscores stand for dots (V1_1__x.sql is version 1.1).
const FILE = /^([VURB])(.*?)__(.+)\.sql$/;

/** Flyway's version order: numeric parts compared one by one, trailing zeros ignored (1.0 = 1). */
function normalize(version: string): string {
  const parts = version.split('.').map((part) => BigInt(part).toString());
  while (parts.length > 1 && parts.at(-1) === '0') parts.pop();
  return parts.join('.');
}

function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(BigInt);
  const y = b.split('.').map(BigInt);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? 0n;
    const q = y[i] ?? 0n;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/** Flyway (SQL migrations): `V<ver>__name.sql`, undo `U<ver>__name.sql`; `flyway_schema_history` logs every run. */
export const flyway: Importer = {
  tool: 'flyway',
  versionTable: 'flyway_schema_history',

  convert(files) {
    const problems: Conversion['problems'] = [];
    const texts = new Map(files.map(({ file, text }) => [file, text]));
    const versioned = new Map<string, ToolMigration>();
    const undos = new Map<string, { file: string; text: string }>();
    for (const { file, text } of files) {
      if (file.endsWith('.sql.conf') || !file.endsWith('.sql')) continue;
      const match = FILE.exec(file);
      if (!match) continue;
      const [, prefix, rawVersion, description] = match as unknown as [string, string, string, string];
      if (prefix === 'R' || prefix === 'B') {
        const kind = prefix === 'R' ? 'a repeatable migration (R__) runs again whenever it changes' : 'a baseline migration (B) replaces the versions below it';
        problems.push({ file, message: `${kind}; sql-helpers has no equivalent: fold it into a versioned file` });
        continue;
      }
      const version = rawVersion.replaceAll('_', '.');
      if (!/^\d+(\.\d+)*$/.test(version)) {
        problems.push({ file, message: `version "${rawVersion}" is not made of numbers and dots` });
        continue;
      }
      const id = normalize(version);
      if (/\$\{[^}]+\}/.test(text)) {
        problems.push({ file, message: 'it uses Flyway ${placeholders}, which Flyway replaces at run time; write the values into the SQL first' });
        continue;
      }
      if (prefix === 'U') {
        undos.set(id, { file, text });
        continue;
      }
      if (versioned.has(id)) {
        problems.push({ file, message: `version ${id} is also used by ${versioned.get(id)!.sources[0]}` });
        continue;
      }
      // Flyway reads per-script settings from <file>.conf; executeInTransaction=false runs it outside a transaction.
      const conf = texts.get(`${file}.conf`);
      const outside = conf !== undefined && /^\s*executeInTransaction\s*=\s*false\s*$/m.test(conf) ? `${file}.conf: executeInTransaction=false` : undefined;
      versioned.set(id, {
        id,
        digits: /^\d+$/.test(version) ? version : undefined,
        name: safeName(description),
        sources: conf === undefined ? [file] : [file, `${file}.conf`],
        up: text,
        down: undefined,
        noTransaction: { up: outside },
      });
    }
    for (const [id, undo] of undos) {
      const migration = versioned.get(id);
      if (!migration) {
        problems.push({ file: undo.file, message: `an undo migration without its versioned migration V${id}__…` });
        continue;
      }
      migration.down = undo.text;
      migration.sources.push(undo.file);
    }
    return { migrations: [...versioned.values()].sort((a, b) => compareVersions(a.id, b.id)), problems };
  },

  // Rows in installed_rank order: a failed row is a dirty state; a baseline covers every version up to it; an undo takes one back.
  applied(rows: Row[], known: string[]) {
    const applied = new Set<string>();
    for (const row of [...rows].sort((a, b) => Number(a.installed_rank) - Number(b.installed_rank))) {
      const type = String(row.type);
      if (!isTrue(row.success)) {
        throw dirty('flyway', `${row.script} failed (installed_rank ${row.installed_rank})`, 'fix the database by hand and run "flyway repair"');
      }
      if (row.version === null || row.version === undefined || type === 'SCHEMA' || type === 'DELETE') continue;
      const id = normalize(String(row.version));
      if (type === 'BASELINE') {
        for (const version of known) if (compareVersions(version, id) <= 0) applied.add(version);
      } else if (type.startsWith('UNDO')) applied.delete(id);
      else applied.add(id);
    }
    return [...applied];
  },
};
