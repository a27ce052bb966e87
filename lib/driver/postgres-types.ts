// PostgreSQL's side of "the same values from both databases": type parsers for one pool (its `types`
// option, never the process-wide `pg.types`, which other code in the process may rely on).
import type { CustomTypesConfig } from 'pg';
import { parseDate, parseTimestamp, safeInteger } from './values.js';

type PgTypes = typeof import('pg').types;
type Parser = (text: string) => unknown;

/**
 * The `types` for a pool or client: `int8` (`BIGINT`, `count(*)`) as a number (`UnsafeIntegerError` past
 * 2^53), `date` as a `Date` at UTC midnight and `timestamp` (without time zone) as UTC, the way SQLite's
 * text timestamps are read. Everything else (including `timestamptz`, `json`, `bytea`) keeps pg's parser.
 */
export function typeParsers(types: PgTypes): CustomTypesConfig {
  const { INT8, DATE, TIMESTAMP } = types.builtins;
  const fallback = (oid: number): Parser => types.getTypeParser(oid, 'text') as Parser;
  // `infinity`, BC dates and other forms the UTC parsers do not read go to pg's own parser.
  const orFallback = (parse: (text: string) => Date | undefined, oid: number): Parser => {
    const other = fallback(oid);
    return (text) => (text.endsWith('BC') ? undefined : parse(text)) ?? other(text);
  };
  const parsers = new Map<number, Parser>([
    [INT8, (text) => safeInteger(text)],
    [DATE, orFallback(parseDate, DATE)],
    [TIMESTAMP, orFallback(parseTimestamp, TIMESTAMP)],
  ]);
  const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
    (format === undefined || format === 'text' ? parsers.get(oid) : undefined) ?? types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'];
  return { getTypeParser };
}

// An invalid Date is left to pg, which reports it.
const isValidDate = (value: unknown): value is Date => value instanceof Date && !Number.isNaN(value.getTime());

/** Values as bound with the parsers above: a `Date` is sent as UTC ISO text, so a `timestamp` column reads it back unchanged. */
export function bindUtcDates(values: readonly unknown[]): readonly unknown[] {
  for (let i = 0; i < values.length; i++) {
    if (values[i] instanceof Date) return values.map((value) => (isValidDate(value) ? value.toISOString() : value));
  }
  return values;
}
