// The JS values both drivers return, decided once: the PostgreSQL type parsers and the SQLite column
// converters both call these, so a value reads the same from either database.
import { UnsafeIntegerError } from '../errors.js';

/** An integer from the database as a JS number; `UnsafeIntegerError` when a number would round it. */
export function safeInteger(value: bigint | string, column?: string): number {
  // Up to 15 characters (digits, or a sign and 14 digits) is always within 2^53: no BigInt needed.
  if (typeof value === 'string' && value.length <= 15) return Number(value);
  // Rounding is monotonic and 2^53 is a double: a bigint beyond ±(2^53 − 1) never becomes a safe integer.
  const number = Number(typeof value === 'bigint' ? value : BigInt(value));
  if (!Number.isSafeInteger(number)) throw new UnsafeIntegerError(String(value), column);
  return number;
}

// `YYYY-MM-DD`, optionally ` HH:MM[:SS[.fff…]]` (or `T…`), optionally `Z` or `±HH[:MM[:SS]]`: what SQLite's
// date functions, PostgreSQL's timestamp output and `Date#toISOString()` write.
const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?\s*(?:(Z)|([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/i;

/**
 * A timestamp written as text, as a `Date`. Text without a zone is UTC (what SQLite's `CURRENT_TIMESTAMP`
 * writes, and how sql-helpers writes a `Date`). `undefined` for text in another format.
 */
export function parseTimestamp(text: string): Date | undefined {
  const match = TIMESTAMP.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hours = '0', minutes = '0', seconds = '0', fraction = '', utc, sign, offsetHours, offsetMinutes, offsetSeconds] = match;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps the years 0–99 to 1900–1999.
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hours), Number(minutes), Number(seconds), Number(fraction.padEnd(3, '0').slice(0, 3)));
  if (utc === undefined && sign !== undefined) {
    const offset = (Number(offsetHours) * 3600 + Number(offsetMinutes ?? 0) * 60 + Number(offsetSeconds ?? 0)) * 1000;
    date.setTime(date.getTime() - (sign === '-' ? -offset : offset));
  }
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A date (`YYYY-MM-DD`, anything after the day ignored) as a `Date` at UTC midnight; `undefined` otherwise. */
export function parseDate(text: string): Date | undefined {
  const match = /^(\d{4,})-(\d\d)-(\d\d)/.exec(text);
  if (match === null) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isNaN(date.getTime()) ? undefined : date;
}
