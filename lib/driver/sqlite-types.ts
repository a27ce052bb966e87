// SQLite's side of "the same values from both databases". SQLite stores integers, reals, text and blobs;
// the declared type of the column a result comes from (better-sqlite3's `statement.columns()`) says what
// the value means. Statements run with `safeIntegers`, so an INTEGER arrives as a bigint and is turned
// into a number only when that is exact, as PostgreSQL's int8 is.
import type BetterSqlite3 from 'better-sqlite3';
import type { Row } from './driver.js';
import { parseDate, parseTimestamp, safeInteger } from './values.js';

type Convert = (value: unknown, column: string) => unknown;

const integer: Convert = (value, column) => (typeof value === 'bigint' ? safeInteger(value, column) : value);

const boolean: Convert = (value, column) =>
  typeof value === 'bigint' || typeof value === 'number' ? Number(value) !== 0 : integer(value, column);

const timestamp: Convert = (value, column) => (typeof value === 'string' ? (parseTimestamp(value) ?? value) : integer(value, column));

const date: Convert = (value, column) => (typeof value === 'string' ? (parseDate(value) ?? value) : integer(value, column));

const json: Convert = (value, column) => {
  if (typeof value !== 'string') return integer(value, column);
  try {
    return JSON.parse(value) as unknown;
  } catch {
    // Text that is not JSON (a column declared JSON holds whatever was stored) is returned as stored.
    return value;
  }
};

/** How values of a declared column type are read; `undefined` where they are returned as stored. */
function converterFor(declared: string | null): Convert | undefined {
  // An expression (count(*), a CASE, a literal) has no declared type: only its integers need a look.
  if (declared === null) return integer;
  const type = declared.toUpperCase().replace(/\s*\(.*$/, '').trim();
  if (type === 'BOOLEAN' || type === 'BOOL') return boolean;
  if (type === 'DATE') return date;
  if (type === 'DATETIME' || type.startsWith('TIMESTAMP')) return timestamp;
  if (type === 'JSON' || type === 'JSONB') return json;
  // SQLite's affinity rules: TEXT and REAL columns never hold an integer; every other kind can.
  if (/CHAR|CLOB|TEXT|REAL|FLOA|DOUB/.test(type)) return undefined;
  return integer;
}

/**
 * Converts the rows of one statement in place, from its result columns; `undefined` when no column needs it.
 * Built once per prepared statement, so a query pays only for the columns that need a conversion.
 */
export function rowConverter(columns: BetterSqlite3.ColumnDefinition[]): ((rows: Row[]) => void) | undefined {
  // better-sqlite3 keeps the last of several result columns with one name; so does this.
  const byName = new Map<string, Convert>();
  for (const column of columns) {
    const convert = converterFor(column.type);
    if (convert === undefined) byName.delete(column.name);
    else byName.set(column.name, convert);
  }
  if (byName.size === 0) return undefined;
  const names = [...byName.keys()];
  const converts = [...byName.values()];
  return (rows) => {
    for (const row of rows) {
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        const value = row[name];
        if (value !== null) row[name] = converts[i]!(value, name);
      }
    }
  };
}
