import sql, { Sql, bulk, empty, join, raw } from 'sql-template-tag';
import { InvalidIdentifierError } from './errors.js';

export { sql, Sql, bulk, empty, join, raw };

/**
 * What a helper's SELECT reads: the rows of one table whose `columns` equal bound values that are never NULL (any
 * other condition is `IS NULL`). A driver that can prove at most one row matches may stop reading at the first.
 */
export interface Lookup {
  readonly schema: string | undefined;
  readonly table: string;
  readonly columns: readonly string[];
}

/** A statement shape the helpers render once: its strings, and what it reads when it is a lookup. */
export interface Shape {
  readonly strings: readonly string[];
  readonly lookup: Lookup | undefined;
}

/** A query of a shared shape: its `lookup` is there for the driver, which reads it when it prepares the statement. */
export type ShapedSql = Sql & { readonly lookup: Lookup | undefined };

// Instances are Sql (instanceof, the `sql` and `text` getters) without Sql's constructor, which would copy the
// strings and values only to have them replaced; and, made with `new`, they are allocated inline where
// Object.create(Sql.prototype) takes a call into the runtime.
class SharedShapeQuery {
  constructor(
    readonly strings: readonly string[],
    readonly values: unknown[],
    readonly lookup: Lookup | undefined,
  ) {}
}
Object.setPrototypeOf(SharedShapeQuery.prototype, Sql.prototype);

/**
 * A statement of a shape the helpers render once: every call of that shape shares `strings`, so a driver can find
 * its prepared statement by the array's identity.
 */
export function sharedShape(shape: Shape, values: unknown[]): ShapedSql {
  return new SharedShapeQuery(shape.strings, values, shape.lookup) as unknown as ShapedSql;
}

/** PostgreSQL silently truncates longer names, so both dialects refuse them. */
export const MAX_IDENTIFIER_BYTES = 63;

// Names repeat (the helpers quote the same columns on every call): remember the quoted form of the recent ones.
const quoted = new Map<string, string>();
const QUOTED_CACHE_SIZE = 1024;

/** Quotes one name part, refusing names that cannot round-trip unchanged. */
export function quoteIdentifierPart(part: string): string {
  const known = quoted.get(part);
  if (known !== undefined) return known;
  const result = quoteUncached(part);
  if (quoted.size >= QUOTED_CACHE_SIZE) quoted.clear();
  quoted.set(part, result);
  return result;
}

function quoteUncached(part: string): string {
  if (typeof part !== 'string' || part.length === 0) {
    throw new InvalidIdentifierError(`an identifier must be a non-empty string, got ${JSON.stringify(part)}`);
  }
  if (part.includes('\0')) {
    throw new InvalidIdentifierError(`identifier ${JSON.stringify(part)} contains a NUL character`);
  }
  // A lone UTF-16 surrogate becomes U+FFFD on the way to the database, so two different ones would name the same table.
  if (/\p{Cs}/u.test(part)) {
    throw new InvalidIdentifierError(`identifier ${JSON.stringify(part)} contains a lone UTF-16 surrogate; use well-formed Unicode text`);
  }
  if (part === '__proto__') {
    // better-sqlite3 builds rows by assignment, where this key sets the prototype and the column vanishes.
    throw new InvalidIdentifierError('identifier "__proto__" cannot be a key of a JavaScript row object (SQLite rows would lose it); choose another name');
  }
  if (Buffer.byteLength(part, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new InvalidIdentifierError(
      `identifier ${JSON.stringify(part)} is longer than ${MAX_IDENTIFIER_BYTES} bytes; PostgreSQL would truncate it, so use a shorter name`,
    );
  }
  return `"${part.replaceAll('"', '""')}"`;
}

/** A quoted, optionally qualified name: `identifier('app', 'users')` renders `"app"."users"`. */
export function identifier(...parts: string[]): Sql {
  if (parts.length === 0) throw new InvalidIdentifierError('identifier() needs at least one name part');
  return raw(parts.map(quoteIdentifierPart).join('.'));
}
