import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigurationError, InvalidIdentifierError, SqlHelpersError } from '../lib/errors.js';
import { MAX_IDENTIFIER_BYTES, Sql, bulk, empty, identifier, join, quoteIdentifierPart, raw, sql } from '../lib/sql.js';
import { ACCEPTED_FORMS, parseDatabaseUri, redactUri } from '../lib/uri.js';

/** Parses `uri`, expecting an INVALID_URI ConfigurationError; returns it. */
function invalidUri(uri: string): ConfigurationError {
  let caught: unknown;
  try {
    parseDatabaseUri(uri);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigurationError, `expected a ConfigurationError for ${uri}, got ${String(caught)}`);
  assert.ok(caught instanceof SqlHelpersError);
  assert.equal(caught.code, 'INVALID_URI');
  return caught;
}

/** The secret appears nowhere a caller or a log could show it. */
function assertHidden(error: Error, secret: string) {
  const own = Object.fromEntries(Object.getOwnPropertyNames(error).map((key) => [key, (error as unknown as Record<string, unknown>)[key]]));
  const places: Record<string, string> = {
    message: error.message,
    string: String(error),
    json: JSON.stringify(error),
    ownFields: JSON.stringify(own),
    stack: error.stack ?? '',
    inspect: inspect(error),
  };
  for (const [where, text] of Object.entries(places)) {
    assert.ok(!text.includes(secret), `${where} leaks the password: ${text}`);
  }
}

describe('parseDatabaseUri: PostgreSQL', () => {
  for (const scheme of ['postgres', 'postgresql']) {
    it(`accepts ${scheme}://user:password@host:port/database`, () => {
      const uri = `${scheme}://app:s3cret@db.example.com:5433/appdb`;
      const target = parseDatabaseUri(uri);
      assert.equal(target.dialect, 'postgres');
      assert.ok(target.dialect === 'postgres');
      assert.equal(target.connectionString, uri);
      assert.equal(target.database, 'appdb');
      assert.equal(target.password, 's3cret');
      assert.equal(target.redacted, `${scheme}://app:***@db.example.com:5433/appdb`);
    });
  }

  it('accepts a URI without password or port; redacted is then unchanged', () => {
    const target = parseDatabaseUri('postgres://postgres@127.0.0.1/test');
    assert.ok(target.dialect === 'postgres');
    assert.equal(target.password, undefined);
    assert.equal(target.database, 'test');
    assert.equal(target.redacted, 'postgres://postgres@127.0.0.1/test');
  });

  it('the scheme is case-insensitive', () => {
    assert.equal(parseDatabaseUri('POSTGRES://u@h/db').dialect, 'postgres');
    assert.equal(parseDatabaseUri('PostgreSQL://u@h/db').dialect, 'postgres');
  });

  it('decodes a percent-encoded password and database name', () => {
    const target = parseDatabaseUri('postgres://u:p%40ss%2Fw%3Ard@h/my%20db');
    assert.ok(target.dialect === 'postgres');
    assert.equal(target.password, 'p@ss/w:rd');
    assert.equal(target.database, 'my db');
    assert.equal(target.redacted, 'postgres://u:***@h/my%20db');
  });

  it('an unencoded @ in the password belongs to the password', () => {
    const target = parseDatabaseUri('postgres://u:p@ss@h/db');
    assert.ok(target.dialect === 'postgres');
    assert.equal(target.password, 'p@ss');
    assert.equal(target.redacted, 'postgres://u:***@h/db');
  });

  it('accepts query parameters and an IPv6 host', () => {
    const target = parseDatabaseUri('postgres://u:pw@[::1]:5432/db?sslmode=require&application_name=x');
    assert.ok(target.dialect === 'postgres');
    assert.equal(target.database, 'db');
    assert.equal(target.redacted, 'postgres://u:***@[::1]:5432/db?sslmode=require&application_name=x');
  });

  it('accepts a Unix socket given as ?host=', () => {
    const target = parseDatabaseUri('postgres:///db?host=/var/run/postgresql');
    assert.ok(target.dialect === 'postgres');
    assert.equal(target.database, 'db');
  });

  it('a password given as ?password= is redacted and known for scrubbing', () => {
    const target = parseDatabaseUri('postgres://u@h/db?sslmode=require&password=qu3rySecret&x=1');
    assert.ok(target.dialect === 'postgres');
    assert.equal(target.password, 'qu3rySecret');
    assert.ok(!target.redacted.includes('qu3rySecret'), target.redacted);
    assert.match(target.redacted, /sslmode=require/);
  });
});

describe('parseDatabaseUri: SQLite', () => {
  it('accepts sqlite:relative/path.db', () => {
    assert.deepEqual(parseDatabaseUri('sqlite:relative/path.db'), {
      dialect: 'sqlite',
      filename: 'relative/path.db',
      redacted: 'sqlite:relative/path.db',
      password: undefined,
    });
    assert.equal((parseDatabaseUri('sqlite:./app.db') as { filename: string }).filename, './app.db');
    assert.equal((parseDatabaseUri('sqlite:app.db') as { filename: string }).filename, 'app.db');
  });

  it('accepts sqlite:///absolute/path.db as the absolute path', () => {
    const target = parseDatabaseUri('sqlite:///absolute/path.db');
    assert.ok(target.dialect === 'sqlite');
    assert.equal(target.filename, '/absolute/path.db');
  });

  it('accepts sqlite::memory:', () => {
    const target = parseDatabaseUri('sqlite::memory:');
    assert.ok(target.dialect === 'sqlite');
    assert.equal(target.filename, ':memory:');
  });

  it('keeps spaces and unicode in the path', () => {
    const target = parseDatabaseUri('sqlite:///tmp/my dir/ünï.db');
    assert.ok(target.dialect === 'sqlite');
    assert.equal(target.filename, '/tmp/my dir/ünï.db');
  });
});

describe('parseDatabaseUri: refusals', () => {
  const cases: Record<string, { uri: string; says: RegExp }> = {
    'an unknown scheme': { uri: 'mysql://u@h/db', says: /scheme "mysql:" is not supported/ },
    'no scheme': { uri: 'just-a-file.db', says: /no scheme/ },
    'an empty string': { uri: '', says: /empty/ },
    'whitespace only': { uri: '   ', says: /empty/ },
    'a missing host': { uri: 'postgres://u@/db', says: /host is missing/ },
    'a missing host before a port': { uri: 'postgres://u@:5432/db', says: /host is missing/ },
    'a missing database': { uri: 'postgres://u@h:5432/', says: /database name is missing/ },
    'no path at all': { uri: 'postgres://u@h', says: /database name is missing/ },
    'a port with letters': { uri: 'postgres://u@h:abc/db', says: /port "abc" is not a number/ },
    'port 99999': { uri: 'postgres://u@h:99999/db', says: /99999 is out of range/ },
    'port 0': { uri: 'postgres://u@h:0/db', says: /out of range/ },
    'sqlite://two-slashes': { uri: 'sqlite://two-slashes', says: /three slashes/ },
    'an empty SQLite path': { uri: 'sqlite:', says: /path is empty/ },
    'the SQLite root': { uri: 'sqlite:///', says: /path is empty/ },
    'a NUL in the SQLite path': { uri: 'sqlite:a\0b.db', says: /NUL/ },
  };
  for (const [label, { uri, says }] of Object.entries(cases)) {
    it(`refuses ${label}`, () => {
      const error = invalidUri(uri);
      assert.match(error.message, says);
    });
  }

  it('lists every accepted form in the message', () => {
    const error = invalidUri('mysql://u@h/db');
    for (const form of ACCEPTED_FORMS) assert.ok(error.message.includes(form), form);
    assert.ok(ACCEPTED_FORMS.some((form) => form.startsWith('sqlite::memory:')));
  });

  it('refuses a value that is not a string', () => {
    invalidUri(undefined as unknown as string);
    invalidUri(42 as unknown as string);
  });
});

describe('parseDatabaseUri: the password never appears in an error', () => {
  const secret = 'Hunter2Secret';
  const cases: Record<string, string> = {
    'unknown scheme': `mysql://app:${secret}@h/db`,
    'missing host': `postgres://app:${secret}@/db`,
    'missing database': `postgres://app:${secret}@h:5432/`,
    'port with letters': `postgres://app:${secret}@h:abc/db`,
    'port 99999': `postgres://app:${secret}@h:99999/db`,
    'malformed percent-encoding in the password': `postgres://app:${secret}%ZZ@h/db`,
    'an unencoded / in the password': `postgres://app:${secret}/x@h/db`,
    'an unencoded # in the password': `postgres://app:${secret}#x@h/db`,
    'an unencoded ? in the password': `postgres://app:${secret}?x@h/db`,
    'a password in the query string': `postgres://app@h:abc/db?password=${secret}`,
  };
  for (const [label, uri] of Object.entries(cases)) {
    it(label, () => {
      const error = invalidUri(uri);
      assertHidden(error, secret);
    });
  }

  it('malformed percent-encoding in the password is named as such', () => {
    const error = invalidUri(`postgres://app:${secret}%ZZ@h/db`);
    assert.match(error.message, /password has malformed percent-encoding/);
    assert.ok(error.message.includes('postgres://app:***@h/db'), error.message);
  });

  it('an unencoded / in the password gets a percent-encoding hint', () => {
    const error = invalidUri(`postgres://app:${secret}/x@h/db`);
    assert.match(error.message, /%2F/);
  });
});

describe('redactUri', () => {
  it('replaces the password with ***', () => {
    assert.equal(redactUri('postgres://app:s3cret@h:5432/db'), 'postgres://app:***@h:5432/db');
    assert.equal(redactUri('postgresql://app:s3cret@h/db?sslmode=require'), 'postgresql://app:***@h/db?sslmode=require');
  });

  it('leaves URIs without a password unchanged', () => {
    for (const uri of ['postgres://app@h/db', 'postgres://h/db', 'sqlite:app.db', 'sqlite:///tmp/a:b.db', 'sqlite::memory:']) {
      assert.equal(redactUri(uri), uri);
    }
  });

  it('hides a password holding @, / or # that does not parse as a URL', () => {
    for (const uri of ['postgres://u:p@ss@h/db', 'postgres://u:pa/ss@h/db', 'postgres://u:pa#ss@h/db']) {
      const redacted = redactUri(uri);
      assert.equal(redacted, 'postgres://u:***@h/db', uri);
    }
  });

  it('hides a ?password= query parameter', () => {
    const redacted = redactUri('postgres://u@h/db?password=s3cret&sslmode=require');
    assert.ok(!redacted.includes('s3cret'), redacted);
    assert.match(redacted, /sslmode=require/);
  });

  it('keeps the user name, host and database visible', () => {
    const redacted = redactUri('postgres://alice:pw@db.internal:6543/orders');
    assert.match(redacted, /alice/);
    assert.match(redacted, /db\.internal:6543/);
    assert.match(redacted, /\/orders$/);
  });
});

describe('identifier: quoting', () => {
  it('double-quotes a name', () => {
    const id = identifier('users');
    assert.ok(id instanceof Sql);
    assert.equal(id.text, '"users"');
    assert.equal(id.sql, '"users"');
    assert.deepEqual(id.values, []);
  });

  it('doubles embedded double quotes', () => {
    assert.equal(identifier('a"b').text, '"a""b"');
    assert.equal(identifier('"').text, '""""');
    assert.equal(identifier('x"; DROP TABLE y; --').text, '"x""; DROP TABLE y; --"');
  });

  it('joins schema-qualified parts with a dot', () => {
    assert.equal(identifier('s', 't').text, '"s"."t"');
    assert.equal(identifier('db', 's', 't').text, '"db"."s"."t"');
  });

  it('does not split a single part on dots', () => {
    assert.equal(identifier('s.t').text, '"s.t"');
  });

  it('keeps case, spaces and unicode as written', () => {
    assert.equal(identifier('Mixed Case ünï').text, '"Mixed Case ünï"');
  });

  it('quoteIdentifierPart quotes one part', () => {
    assert.equal(quoteIdentifierPart('a"b'), '"a""b"');
  });
});

describe('identifier: refusals', () => {
  function refuses(fn: () => unknown) {
    assert.throws(fn, (error: unknown) => {
      assert.ok(error instanceof InvalidIdentifierError);
      assert.ok(error instanceof SqlHelpersError);
      assert.equal(error.code, 'INVALID_IDENTIFIER');
      return true;
    });
  }

  it('refuses an empty name, in any part', () => {
    refuses(() => identifier(''));
    refuses(() => identifier('s', ''));
    refuses(() => identifier('', 't'));
  });

  it('refuses no parts at all', () => {
    refuses(() => identifier());
  });

  it('refuses a NUL character', () => {
    refuses(() => identifier('a\0b'));
    refuses(() => identifier('s', '\0'));
  });

  it('refuses a name that is not a string', () => {
    refuses(() => identifier(42 as unknown as string));
    refuses(() => identifier(null as unknown as string));
  });

  it('accepts 63 bytes and refuses 64', () => {
    assert.equal(MAX_IDENTIFIER_BYTES, 63);
    assert.equal(identifier('x'.repeat(63)).text, `"${'x'.repeat(63)}"`);
    refuses(() => identifier('x'.repeat(64)));
    refuses(() => identifier('s', 'x'.repeat(64)));
  });

  it('counts bytes, not characters', () => {
    // é is 2 bytes in UTF-8: 31 of them + 1 ASCII = 63 bytes; 32 of them = 64 bytes.
    assert.ok(identifier(`${'é'.repeat(31)}x`));
    refuses(() => identifier('é'.repeat(32)));
    refuses(() => identifier('😀'.repeat(16))); // 16 × 4 bytes
  });

  it('the error message names the limit', () => {
    assert.throws(() => identifier('x'.repeat(64)), /63 bytes/);
  });
});

describe('sql tag', () => {
  it('renders $n placeholders in .text and ? in .sql, with values in order', () => {
    const query = sql`SELECT * FROM ${identifier('s', 't')} WHERE id = ${1} AND name = ${'x'}`;
    assert.equal(query.text, 'SELECT * FROM "s"."t" WHERE id = $1 AND name = $2');
    assert.equal(query.sql, 'SELECT * FROM "s"."t" WHERE id = ? AND name = ?');
    assert.deepEqual(query.values, [1, 'x']);
  });

  it('values are never inlined, even when they look like SQL', () => {
    const query = sql`SELECT ${"'; DROP TABLE users; --"}`;
    assert.equal(query.text, 'SELECT $1');
    assert.deepEqual(query.values, ["'; DROP TABLE users; --"]);
  });

  it('nests fragments and renumbers their placeholders', () => {
    const where = sql`a = ${1} AND b = ${2}`;
    const query = sql`SELECT ${3} WHERE ${where}`;
    assert.equal(query.text, 'SELECT $1 WHERE a = $2 AND b = $3');
    assert.equal(query.sql, 'SELECT ? WHERE a = ? AND b = ?');
    assert.deepEqual(query.values, [3, 1, 2]);
  });

  it('join, raw, empty and bulk are re-exported', () => {
    assert.equal(sql`IN (${join([1, 2, 3])})`.text, 'IN ($1,$2,$3)');
    assert.equal(sql`SELECT ${raw('1')}${empty}`.text, 'SELECT 1');
    const rows = bulk([
      [1, 'a'],
      [2, 'b'],
    ]);
    assert.equal(sql`VALUES ${rows}`.text, 'VALUES ($1,$2),($3,$4)');
    assert.deepEqual(sql`VALUES ${rows}`.values, [1, 'a', 2, 'b']);
  });
});
