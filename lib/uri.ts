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

const SCHEME = String.raw`[a-z][a-z0-9+.-]*:\/\/`;
// user[:password]@: the user part may hold an unencoded "@" (user@name:pass@host), never ":", "/", "?" or "#".
const LONE_USERINFO = new RegExp(String.raw`^(${SCHEME}[^:/?#]*:)[\s\S]*@`, 'i');
// In free text a URI ends at whitespace; quotes are not taken as its end, since a password may hold them.
const EMBEDDED_USERINFO = new RegExp(String.raw`(${SCHEME}[^:/?#\s]*:)\S*@`, 'gi');
// A password's value runs to the next "&key=", a raw "#" or "&" included: they are still the password's.
const QUERY_PARAMETER = /([?&])([^=&#\s]*)=((?:[^&]|&(?![^&=#]+=))*)/g;
const EMBEDDED_QUERY_PARAMETER = /([?&])([^=&#\s]*)=((?:[^&\s]|&(?![^&=#\s]+=))*)/g;

/** `password`, `sslpassword`, and their percent-encoded spellings (`pass%77ord`), which `pg` decodes. */
function isSecretKey(key: string): boolean {
  let decoded = key;
  try {
    decoded = decodeURIComponent(key.replaceAll('+', ' '));
  } catch {
    // A malformed key is compared as written.
  }
  return /pass/i.test(decoded);
}

function hideQuerySecrets(text: string, pattern: RegExp): string {
  return text.replace(pattern, (whole, separator: string, key: string) => (isSecretKey(key) ? `${separator}${key}=***` : whole));
}

/**
 * The one redaction of a lone URI (what `db.url` and every error show): the password of the user-info, which runs
 * from the first ":" after the user name to the last "@" (an unencoded "@", "/", "?" or "#" in it is still the
 * password's), and every query parameter that names a password (`?password=`, `?sslpassword=`, `?pass%77ord=`)
 * up to the next "&" or "#", spaces included. It hides too much rather than too little when a query value holds "@".
 */
export function redactUri(uri: string): string {
  const text = hideQuerySecrets(uri, QUERY_PARAMETER);
  if (/^sqlite:/i.test(text)) return text;
  // Without "//" (user:password@host, a scheme forgotten), everything from the first ":" to the last "@" may be it.
  return LONE_USERINFO.test(text) || /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text.replace(LONE_USERINFO, '$1***@') : text.replace(/^([^:@]*:)[\s\S]*@/, '$1***@');
}

/** Redacts every URI inside free text (an error message, a stack): each one's password as `redactUri` would. */
export function redactText(text: string): string {
  return hideQuerySecrets(text, EMBEDDED_QUERY_PARAMETER).replace(EMBEDDED_USERINFO, '$1***@');
}

function parseSqlite(uri: string, redacted: string): SqliteTarget {
  const rest = uri.slice('sqlite:'.length);
  if (rest.includes('?')) {
    // Never a file named "q.db?mode=ro": SQLite's URI options are not taken here, so they are refused, not ignored.
    throw invalid(
      'SQLite URIs take no query options (?mode=…, ?cache=…); pass them as engineArgs instead, e.g. { readonly: true, fileMustExist: true }',
      redacted,
    );
  }
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

// An "@" after the authority, when the user-info has a password: the password held an unencoded "/", "?" or "#".
function strayAt(uri: string): boolean {
  const afterScheme = uri.indexOf('://') + 3;
  const authorityEnd = uri.slice(afterScheme).search(/[/?#]/);
  if (authorityEnd < 0) return false;
  const authority = uri.slice(afterScheme, afterScheme + authorityEnd);
  const rest = uri.slice(afterScheme + authorityEnd);
  if (!rest.includes('@')) return false;
  const at = authority.lastIndexOf('@');
  const port = /:([^:\]]*)$/.exec(authority.slice(at + 1))?.[1];
  // user:pa/ss@host, or user@corp:pa#ss@host, whose "port" is the start of the password.
  return (at >= 0 && authority.slice(0, at).includes(':')) || (at < 0 && authority.includes(':')) || (port !== undefined && !/^\d*$/.test(port));
}

function parsePostgres(uri: string, redacted: string): PostgresTarget {
  if (strayAt(uri)) {
    throw invalid('the password (or user name) holds a character that must be percent-encoded: / as %2F, ? as %3F, # as %23, @ as %40', redacted);
  }
  let url: URL;
  try {
    // libpq's socket form has no host before the path (postgresql://user@/db?host=/run/postgresql): WHATWG URL
    // refuses an empty host after user-info, so it is checked with a stand-in host; pg gets the string untouched.
    url = new URL(/^[a-z]+:\/\/[^/?#]*@[/?#]/i.test(uri) && /[?&]host=/.test(uri) ? uri.replace(/@(?=[/?#])/, '@localhost') : uri);
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
export function parseDatabaseUri(uri: string | URL): DatabaseTarget {
  // A URL object is taken as its text; anything else that is not a string is described, never printed.
  if (uri instanceof URL) uri = uri.href;
  if (typeof uri !== 'string') throw invalid(`it must be a string (or a URL object), got ${uri === null ? 'null' : typeof uri}`, '');
  if (uri.trim() === '') throw invalid('it is empty', uri);
  const redacted = redactUri(uri);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 'sqlite') return parseSqlite(uri, redacted);
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgres(uri, redacted);
  throw invalid(scheme ? `the scheme "${scheme}:" is not supported` : 'it has no scheme', redacted);
}
