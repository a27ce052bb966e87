import { ConfigurationError } from './errors.js';

function refused(index: number, what: string, advice: string): ConfigurationError {
  return new ConfigurationError(`bound value $${index + 1} is ${what}, which no database column stores faithfully; ${advice}`, {
    code: 'INVALID_VALUE',
  });
}

// Objects are sent as JSON (both drivers); what JSON.stringify cannot turn into text (a cycle, a BigInt) fails
// here rather than half-way through binding, where pg would have already named the statement.
function checkJson(value: object, index: number): void {
  try {
    JSON.stringify(value);
  } catch (error) {
    throw refused(index, `an object that cannot be turned into JSON (${(error as Error).message})`, 'pass plain data: no cycles, BigInt as a string');
  }
}

// Node 20 has String.prototype.isWellFormed; the TypeScript lib of this target does not declare it yet.
const isWellFormed = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed();

// Both drivers send text as UTF-8, where a lone surrogate becomes U+FFFD: the value read back would differ.
// PostgreSQL refuses NUL in text outright (and aborts the transaction); SQLite would keep it. Refused on both.
function checkText(value: string, index: number): void {
  if (!isWellFormed(value)) throw refused(index, 'a string with a lone UTF-16 surrogate', 'it would be stored as U+FFFD: pass well-formed text');
  if (value.includes('\0')) throw refused(index, 'a string with a NUL character', 'PostgreSQL text cannot hold it: strip it, or bind binary data as a Buffer');
}

function checkOne(value: unknown, index: number): void {
  switch (typeof value) {
    case 'string':
      return checkText(value, index);
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return;
    case 'number':
      // SQLite binds NaN as NULL (so getOrCreate would match nothing and insert twice); PostgreSQL takes it
      // only into float columns. Refused on both, so that both behave alike.
      if (!Number.isFinite(value)) throw refused(index, String(value), 'pass null, or a finite number');
      return;
    case 'symbol':
    case 'function':
      throw refused(index, `a ${typeof value}`, 'pass its data (a string, number, …) instead');
    default:
      if (value === null || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw refused(index, 'an invalid Date', 'pass a valid Date or null');
        return;
      }
      if (Array.isArray(value)) {
        for (const element of value) if (typeof element !== 'object' || element === null) checkOne(element, index);
      }
      checkJson(value as object, index);
  }
}

/**
 * The one check of bound values, run by both drivers before anything is sent: refuses what a database would
 * store as something else or fail on half-way (Symbols, functions, NaN/Infinity, invalid Dates, objects that
 * are not JSON, text with lone surrogates or NUL), as `INVALID_VALUE`, and more values than the database takes in one statement (`TOO_MANY_VALUES`). Finite numbers cost one typeof; strings one native scan for well-formedness and NUL.
 */
export function checkValues(values: readonly unknown[], maxParameters: number): void {
  if (values.length > maxParameters) {
    throw new ConfigurationError(
      `the statement binds ${values.length} values, more than the ${maxParameters} this database takes in one statement; ` +
        'split the rows into batches (several INSERTs, or one bulk() per chunk)',
      { code: 'TOO_MANY_VALUES' },
    );
  }
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const type = typeof value;
    if (type === 'string') checkText(value as string, i);
    else if (!((type === 'number' && Number.isFinite(value)) || value === null)) checkOne(value, i);
  }
}
