// Whether a helper's lookup can match more than one row, from the schema SQLite reports. Where it cannot, the
// driver reads with `.get()`, which stops at the first row, instead of `.all()`, which looks for another.
import type BetterSqlite3 from 'better-sqlite3';
import type { Lookup } from '../sql.js';

// SQLite compares names ignoring the case of ASCII letters only.
const foldCase = (name: string) => name.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());

interface IndexColumn {
  index: string;
  cid: number;
  name: string | null;
}

/**
 * True when at most one row of the lookup's table can have the given (never NULL) values in its columns: the
 * columns include the rowid alias (`INTEGER PRIMARY KEY`), or every key column of a unique index that has no
 * WHERE clause and no expression. For an index, the table must also declare no collation: then each `column = ?`
 * compares as BINARY, the finest there is, so values that the index keeps apart can never both equal the one bound
 * (the same affinity applies to the bound value in every row, and SQLite's equality is transitive). NULLs, which a
 * unique index allows many times over, never equal a value. False when unsure: a view, a name in more than one
 * schema, a collation.
 */
export function matchesAtMostOneRow(db: BetterSqlite3.Database, lookup: Lookup): boolean {
  // An unqualified name may be in several schemas (a temp table shadows main): only a name in one is certain.
  const found = db.prepare('SELECT schema, name, type FROM pragma_table_list(?)').all(lookup.table) as Array<{ schema: string; name: string; type: string }>;
  const tables = found.filter((table) => lookup.schema === undefined || foldCase(table.schema) === foldCase(lookup.schema));
  if (tables.length !== 1 || tables[0]!.type !== 'table') return false;
  const { schema, name } = tables[0]!;
  const columns = new Set(lookup.columns.map(foldCase));

  const indexes = db
    .prepare(
      `SELECT list.name AS "index", list.origin AS origin, info.cid AS cid, info.name AS name
         FROM pragma_index_list(@name, @schema) AS list JOIN pragma_index_xinfo(list.name, @schema) AS info
        WHERE list."unique" AND NOT list.partial AND info.key`,
    )
    .all({ name, schema }) as Array<IndexColumn & { origin: string }>;

  // A rowid table's single-column primary key without an index of its own is the rowid: unique, an integer.
  const keyColumns = (db.prepare('SELECT name FROM pragma_table_info(?, ?) WHERE pk').all(name, schema) as Array<{ name: string }>).map(
    (column) => column.name,
  );
  if (keyColumns.length === 1 && !indexes.some((column) => column.origin === 'pk') && columns.has(foldCase(keyColumns[0]!))) return true;

  // The schema's own name, quoted as it is (names made here follow quoteIdentifierPart's rules; this one is found).
  const definition = db.prepare(`SELECT sql FROM "${schema.replaceAll('"', '""')}".sqlite_schema WHERE type = 'table' AND name = ?`).get(name) as
    | { sql: string }
    | undefined;
  if (definition === undefined || /\bcollate\b/i.test(definition.sql)) return false;
  const keys = new Map<string, IndexColumn[]>();
  for (const column of indexes) {
    const key = keys.get(column.index);
    if (key === undefined) keys.set(column.index, [column]);
    else key.push(column);
  }
  // cid −2 is an expression, −1 the rowid: neither is one of the lookup's columns.
  return [...keys.values()].some((key) => key.every((column) => column.cid >= 0 && columns.has(foldCase(column.name!))));
}
