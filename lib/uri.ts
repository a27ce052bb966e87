import { ConfigurationError } from './errors.js';

/** A parsed PostgreSQL URI: the string goes to `pg` untouched, `redacted` is safe to print. */
export interface PostgresTarget {
  dialect: 'postgres';
  connectionString: string;
  database: string;
  redacted: string;
  /** Present so callers can scrub it from text they did not write; never print it. */
  password: string | undefined;
}

/** A parsed SQLite URI: a file path or `:memory:`. */
export interface SqliteTarget {
  dialect: 'sqlite';
  filename: string;
  redacted: string;
  password: undefined;
}

export type DatabaseTarget = PostgresTarget | SqliteTarget;

export const ACCEPTED_FORMS = [
  'postgres://user:password@host:5432/database',
  'postgresql://user:password@host:5432/database',
  'sqlite:relative/path.db',
  'sqlite:///absolute/path.db',
  'sqlite::memory:',
];

function invalid(why: string, shown: string): ConfigurationError {
  return new ConfigurationError(
    `invalid database URI ${JSON.stringify(shown)}: ${why}. Accepted forms: ${ACCEPTED_FORMS.join(', ')}`,
    { code: 'INVALID_URI' },
  );
}

/** Replaces the password of a URI-looking string with `***`, even when the rest does not parse. */
export function redactUri(uri: string): string {
  // The password runs to the last "@" of the authority (an unencoded "@" in it is still the password's); when the
  // authority does not end there (an unencoded "/" in the password, no "//"), hide from the first ":" to the last "@"
  // (for a lone URI only: not for text around one, such as an error message).
  // `pg` also takes the password as a query parameter (`?password=…`): hide that too.
  const text = uri.replace(/([?&]password=)[^&#\s]*/gi, '$1***');
  const parsed = text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)([^/?#]*)@/i, '$1***@');
  if (parsed !== text || /^sqlite:|\s/i.test(text)) return parsed;
  const at = text.lastIndexOf('@');
  const slashes = text.indexOf('://');
  const colon = text.indexOf(':', slashes >= 0 && slashes < at ? slashes + 3 : 0);
  return at < 0 || colon < 0 || colon > at ? text : `${text.slice(0, colon + 1)}***${text.slice(at)}`;
}

function parseSqlite(uri: string, redacted: string): SqliteTarget {
  const rest = uri.slice('sqlite:'.length);
  if (rest === ':memory:' || rest === '//:memory:') return { dialect: 'sqlite', filename: ':memory:', redacted, password: undefined };
  let filename: string;
  if (rest.startsWith('///')) filename = rest.slice(2);
  else if (rest.startsWith('//')) throw invalid('use sqlite:relative/path.db or sqlite:///absolute/path.db (three slashes)', redacted);
  else filename = rest;
  if (filename === '' || filename === '/') throw invalid('the SQLite file path is empty', redacted);
  if (filename.includes('\0')) throw invalid('the SQLite file path contains a NUL character', redacted);
  return { dialect: 'sqlite', filename, redacted, password: undefined };
}

function decodeComponent(value: string, what: string, redacted: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalid(`the ${what} has malformed percent-encoding (write % as %25)`, redacted);
  }
}

function parsePostgres(uri: string, redacted: string): PostgresTarget {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(uri)?.[1] ?? '';
    if (!authority.includes('@') && authority.includes(':') && /^[a-z]+:\/\/[^@]*@/i.test(uri)) {
      throw invalid('the password (or user name) holds a character that must be percent-encoded: / as %2F, ? as %3F, # as %23', redacted);
    }
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
    if (hostPort === '' || hostPort.startsWith(':')) throw invalid('the host is missing (…@host:5432/database)', redacted);
    const port = /:([^:\]]*)$/.exec(hostPort)?.[1];
    if (port !== undefined && !/^\d+$/.test(port)) throw invalid(`the port ${JSON.stringify(port)} is not a number`, redacted);
    if (port !== undefined && Number(port) > 65535) throw invalid(`port ${port} is out of range (1-65535)`, redacted);
    throw invalid('it does not parse as a URL', redacted);
  }
  const password = url.password === '' ? url.searchParams.get('password') || undefined : decodeComponent(url.password, 'password', redacted);
  decodeComponent(url.username, 'user name', redacted);
  const database = decodeComponent(url.pathname.replace(/^\//, ''), 'database name', redacted);
  const socketHost = url.searchParams.get('host');
  if (url.hostname === '' && !socketHost) throw invalid('the host is missing', redacted);
  if (url.port !== '' && (Number(url.port) < 1 || Number(url.port) > 65535)) throw invalid(`port ${url.port} is out of range (1-65535)`, redacted);
  if (database === '' || database.includes('/')) throw invalid('the database name is missing (…/database at the end)', redacted);
  return { dialect: 'postgres', connectionString: uri, database, redacted, password };
}

/** Parses a database URI, or throws a `ConfigurationError` listing the accepted forms (password hidden). */
export function parseDatabaseUri(uri: string): DatabaseTarget {
  if (typeof uri !== 'string' || uri.trim() === '') throw invalid('it is empty', String(uri));
  const redacted = redactUri(uri);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') return parseSqlite(uri, redacted);
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgres(uri, redacted);
  throw invalid(scheme ? `the scheme "${scheme}:" is not supported` : 'it has no scheme', redacted);
}
