import type { Dialect, Row } from '../driver/driver.js';
import { MigrationStateError } from '../errors.js';
import { TRANSACTION_CONTROL, hasNoTransactionMarker, splitStatements } from '../migrations/statements.js';

/** The tools whose migrations folder `import` converts and whose database `adopt` takes over. */
export type ToolName = 'golang-migrate' | 'goose' | 'dbmate' | 'flyway' | 'node-pg-migrate' | 'postgrator';

/** A file of the tool's migrations folder, decoded as UTF-8. */
export interface SourceFile {
  file: string;
  text: string;
}

/** One version of the tool's history, converted to sql-helpers scripts. */
export interface ToolMigration {
  /** The version as the tool's own table records it (a version number, or a file name for node-pg-migrate). */
  id: string;
  /** The digits sql-helpers can keep as its version, or `undefined` when the tool's version is not an integer. */
  digits: string | undefined;
  /** The name part of the sql-helpers file (no dots). */
  name: string;
  /** The tool's files this version came from. */
  sources: string[];
  up: string;
  down: string | undefined;
  /** The tool's marker when it runs the up (or down) script outside a transaction. */
  noTransaction: { up?: string; down?: string };
}

/** A file that cannot be converted, and why. */
export interface ConversionProblem {
  file: string;
  message: string;
}

/** What an importer makes of a folder: the migrations in the tool's order, and what it could not convert. */
export interface Conversion {
  migrations: ToolMigration[];
  problems: ConversionProblem[];
}

/** One foreign tool: its files → sql-helpers scripts, and its version table → the versions it applied. Pure. */
export interface Importer {
  readonly tool: ToolName;
  /** The tool's default version table. */
  readonly versionTable: string;
  /** Converts the folder's files; migrations come back in the order the tool applies them. */
  convert(files: SourceFile[]): Conversion;
  /**
   * The ids the tool recorded as applied, from every row of its version table; `known` lists the converted
   * ids in the tool's order. Throws `MigrationStateError` (`ADOPT_DIRTY`) when the tool left a failed run.
   */
  applied(rows: Row[], known: string[]): string[];
}

const MARKER = '-- sql-helpers:no-transaction';

// Statements PostgreSQL refuses inside a transaction block; tools that send a one-statement file on its own ran them fine.
const OUTSIDE_TRANSACTION = /\bCONCURRENTLY\b|^VACUUM\b|^(CREATE|DROP) DATABASE\b|^ALTER SYSTEM\b|^(CREATE|DROP) TABLESPACE\b/i;

/** Why `text` must run outside a transaction in sql-helpers, or `undefined`: it manages its own, or holds a statement that cannot run in one. */
export function needsNoTransaction(text: string): string | undefined {
  // The database is not known yet: a transaction statement counts when both dialects' splitters see one, so a
  // SQLite trigger's BEGIN … END and a PL/pgSQL body's BEGIN … END are not mistaken for one.
  const control = (dialect: Dialect) => splitStatements(text, dialect).find((statement) => TRANSACTION_CONTROL.has(statement.keyword));
  const found = control('postgres');
  if (found && control('sqlite')) return `it runs ${found.keyword} itself`;
  const statements = splitStatements(text, 'postgres');
  const outside = statements.find((statement) => OUTSIDE_TRANSACTION.test(statement.text));
  return outside ? `"${outside.text.split('\n')[0]!.slice(0, 60)}" cannot run in a transaction` : undefined;
}

/** `text` with the no-transaction marker as its first line, unless it already has one. */
export function withNoTransactionMarker(text: string): string {
  return hasNoTransactionMarker(text) ? text : `${MARKER}\n${text}`;
}

/** A line of a file with its line end, as the file has it. */
export function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A part of a file: the marker line that opens it (`undefined` for the part before the first marker) and what follows it. */
export interface Section<K> {
  marker: K | undefined;
  /** The marker line itself, e.g. `-- +goose Up`. */
  line: string;
  body: string;
}

/** Splits `text` at the lines `classify` recognises as markers; the marker lines are not part of any body. */
export function splitAtMarkers<K>(text: string, classify: (line: string) => K | undefined): Array<Section<K>> {
  const sections: Array<Section<K>> = [{ marker: undefined, line: '', body: '' }];
  for (const line of linesOf(text)) {
    const marker = classify(line.replace(/\r?\n$/, ''));
    if (marker === undefined) sections.at(-1)!.body += line;
    else sections.push({ marker, line, body: '' });
  }
  return sections;
}

/** A file name part that sql-helpers accepts as a name: no dots, not empty. */
export function safeName(name: string): string {
  const cleaned = name.replaceAll('.', '_').trim();
  return cleaned === '' ? 'migration' : cleaned;
}

/** True for the ways databases and drivers spell true (`true`, `1`, `'t'`). */
export function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1' || value === 't' || value === 'true';
}

/** The refusal for a tool whose last run failed half-way. */
export function dirty(tool: ToolName, what: string, fix: string): MigrationStateError {
  return new MigrationStateError(`${tool} recorded a failed migration (${what}); nothing was stamped: ${fix}, then adopt again`, {
    code: 'ADOPT_DIRTY',
  });
}

/** Compares two strings of digits by value. */
export function compareDigits(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
