import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { DatabaseManager, InvalidIdentifierError, SqlHelpersError, getByPk, getOrCreate, identifier, redactUri, sql, table } from '../lib/index.js';
import { quoteIdentifierPart } from '../lib/sql.js';
import { hasNoTransactionMarker, splitStatements } from '../lib/migrations/statements.js';
import { parseDatabaseUri, redactText } from '../lib/uri.js';
import { PG_URL, dialects, workspaces } from './support.js';

// Every property runs a fixed number of cases from a seed printed on failure; FC_SEED replays one.
const runs = (numRuns: number) => ({ numRuns, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) });

// ---------------------------------------------------------------------------------------------------------------
// The URI parser and redaction: no generated password ever shows
// ---------------------------------------------------------------------------------------------------------------

/** Every output surface of an error: message, String(), inspect with the cause chain, stacks, the CLI's JSON fields. */
function surfacesOf(error: unknown): string[] {
  const out = [String(error), inspect(error, { depth: 20 }), JSON.stringify(error)];
  for (let current: unknown = error; current instanceof Error; current = current.cause) out.push(current.message, String(current.stack), redactText(String(current.stack)));
  return out;
}

// A password with markers at both ends: a leak of its start or of its end (after a stray "@", "/", "#") shows one.
const HEAD = 'Qz7Head';
const TAIL = 'Tail7zQ';
const passwordPart = fc.string({ unit: fc.constantFrom(...'aZ9@/?#:;% +&=\'"[]\\é😀'.split(/(?:)/u)), maxLength: 12 });
const password = passwordPart.map((middle) => `${HEAD}${middle}${TAIL}`);

/** The ways a caller writes a password into a URI, raw or encoded, in the user-info or the query. */
const uriForms: Array<[string, (secret: string) => string]> = [
  ['raw in the user-info', (secret) => `postgres://app:${secret}@db.example:5432/orders`],
  ['encoded in the user-info', (secret) => `postgresql://app:${encodeURIComponent(secret)}@db.example/orders?sslmode=disable`],
  ['raw in ?password=', (secret) => `postgres://app@db.example/orders?password=${secret}`],
  ['encoded in ?password=', (secret) => `postgres://app@db.example/orders?application_name=x&password=${encodeURIComponent(secret)}`],
  ['in ?pass%77ord=', (secret) => `postgres://app@db.example/orders?pass%77ord=${encodeURIComponent(secret)}`],
  ['raw, with a user name holding @', (secret) => `postgres://app@corp:${secret}@db.example/orders`],
];

function assertHidden(text: string, secret: string): void {
  for (const piece of [secret, HEAD, TAIL, encodeURIComponent(secret)]) assert.ok(!text.includes(piece), `"${piece}" shows in: ${text}`);
}

describe('property: URI parsing and redaction never show a password', () => {
  for (const [form, build] of uriForms) {
    it(`a password ${form}: redactUri, redactText, the parse error or the target, and the manager`, async () => {
      await fc.assert(
        fc.asyncProperty(password, async (secret) => {
          // A raw "&key=" in a query value starts another parameter by the URL grammar (pg reads it so too): a
          // query password must encode "&" there, as any query value must. Everything else may be raw.
          if (form === 'raw in ?password=') fc.pre(!/&[^&=#]+=/.test(secret));
          const uri = build(secret);
          assertHidden(redactUri(uri), secret);
          // In free text a URI ends at whitespace, so a password with a raw space cannot be told from the words
          // after it; library messages never hold a raw URI (they embed the redacted one), this is a second net.
          if (!/\s/.test(secret)) assertHidden(redactText(`error: cannot use database ${uri}: refused`), secret);
          let target;
          try {
            target = parseDatabaseUri(uri);
          } catch (error) {
            assert.ok(error instanceof SqlHelpersError, inspect(error));
            for (const surface of surfacesOf(error)) assertHidden(surface, secret);
            return;
          }
          assertHidden(target.redacted, secret);
          const db = new DatabaseManager(uri, '/nonexistent');
          try {
            for (const surface of [db.url, inspect(db, { depth: 20 }), JSON.stringify(db), inspect(db.engine, { depth: 20 })]) assertHidden(surface, secret);
          } finally {
            await db.close();
          }
        }),
        runs(150),
      );
    });
  }

  it('a correctly encoded password parses back to itself', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), (secret) => {
        const target = parseDatabaseUri(`postgres://app:${encodeURIComponent(secret)}@h/db`);
        assert.equal(target.password, secret);
        assert.equal(target.redacted, 'postgres://app:***@h/db');
      }),
      runs(300),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Identifier quoting: every name round-trips through the database, or is refused
// ---------------------------------------------------------------------------------------------------------------

// Strings of any UTF-16 units: quotes, NUL, lone surrogates, long multi-byte names.
const anyName = fc.oneof(
  fc.string({ unit: 'binary', minLength: 0, maxLength: 40 }),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)), fc.constantFrom('"', '\0', '__proto__')), { maxLength: 6 }).map((parts) => parts.join('')),
);
const unquote = (quoted: string) => quoted.slice(1, -1).replaceAll('""', '"');

describe('property: identifier quoting round-trips or refuses', () => {
  it('quoteIdentifierPart either refuses with InvalidIdentifierError or quotes so that unquoting gives the name back', () => {
    fc.assert(
      fc.property(anyName, (name) => {
        let quoted: string;
        try {
          quoted = quoteIdentifierPart(name);
        } catch (error) {
          assert.ok(error instanceof InvalidIdentifierError, inspect(error));
          return;
        }
        assert.match(quoted, /^"[^]*"$/);
        assert.equal(unquote(quoted), name);
        assert.ok(!/(^|[^"])"([^"]|$)/.test(quoted.slice(1, -1)), 'no lone quote inside');
      }),
      runs(2000),
    );
  });

  for (const dialect of dialects) {
    it(`every accepted name comes back from ${dialect} as the same column name`, async () => {
      const db = new DatabaseManager(dialect === 'sqlite' ? 'sqlite::memory:' : PG_URL, '/nonexistent');
      try {
        await fc.assert(
          fc.asyncProperty(anyName, async (name) => {
            let alias;
            try {
              alias = identifier(name);
            } catch (error) {
              assert.ok(error instanceof InvalidIdentifierError);
              return;
            }
            const [row] = await db.query<Record<string, unknown>>(sql`SELECT 1 AS ${alias}`);
            assert.deepEqual(Object.keys(row!), [name]);
          }),
          runs(150),
        );
      } finally {
        await db.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Statement splitting and the marker: never inside a string, dollar quote or comment
// ---------------------------------------------------------------------------------------------------------------

const MARKER = '-- sql-helpers:no-transaction';
// Text that would end a statement or look like the marker if the lexer were fooled.
const trap = fc.constantFrom(';', ';;', `\n${MARKER}\n`, '--', '/*', '*/', '$$', "''", '""', 'BEGIN;', '\n', ' ', 'x', 'é');
const trapText = fc.array(trap, { maxLength: 6 }).map((parts) => parts.join(''));

/** One statement whose only semicolons and marker lookalikes are inside a quote, a dollar quote or a comment. */
function statementArb(dialect: 'postgres' | 'sqlite') {
  const pieces = [
    trapText.map((text) => `'${text.replaceAll("'", "''")}'`),
    trapText.map((text) => `"${text.replaceAll('"', '""')}"`),
    trapText.map((text) => `/* ${text.replaceAll('*/', '* /').replaceAll('/*', '/ *')} */`),
    ...(dialect === 'postgres' ? [trapText.map((text) => `$q$${text.replaceAll('$q$', '')}$q$`)] : []),
  ];
  return fc.array(fc.oneof(...pieces), { minLength: 1, maxLength: 4 }).map((parts) => `SELECT ${parts.join(', ')}`);
}

describe('property: statement splitting and marker detection', () => {
  for (const dialect of ['postgres', 'sqlite'] as const) {
    it(`on ${dialect}: a script of statements splits back into exactly them, and the marker counts only as a comment line`, () => {
      fc.assert(
        fc.property(fc.array(statementArb(dialect), { minLength: 1, maxLength: 5 }), fc.boolean(), (statements, marked) => {
          const script = `${marked ? `${MARKER}\n` : ''}${statements.join(';\n')};\n`;
          assert.deepEqual(
            splitStatements(script, dialect).map((statement) => statement.text),
            statements,
          );
          assert.equal(hasNoTransactionMarker(script, dialect), marked);
        }),
        runs(1000),
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// The helpers' values: whatever is accepted round-trips on both databases
// ---------------------------------------------------------------------------------------------------------------

const VALUES_TABLE = {
  postgres: 'CREATE TABLE v (id BIGINT PRIMARY KEY, t TEXT, n DOUBLE PRECISION, i BIGINT, b BOOLEAN);\n',
  sqlite: 'CREATE TABLE v (id INTEGER PRIMARY KEY, t TEXT, n REAL, i INTEGER, b INTEGER);\n',
};

// fast-check's 'binary' unit never yields a lone surrogate half: mix them in, with NUL, on purpose.
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const hostileText = fc
  .array(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), loneSurrogate, fc.constant('\0'), fc.constant("'; DROP TABLE v; --")), { maxLength: 5 })
  .map((parts) => parts.join(''));

const row = fc.record({
  t: fc.option(hostileText),
  n: fc.option(fc.oneof(fc.double(), fc.integer())),
  i: fc.option(fc.maxSafeInteger()),
  b: fc.option(fc.boolean()),
});

for (const dialect of dialects) {
  describe(`property: helper values round-trip on ${dialect}`, () => {
    const { setup } = workspaces();
    it('getOrCreate then getByPk gives back every accepted value; refusals are typed and store nothing', async () => {
      const { db } = await setup(dialect, { '001_v.sql': VALUES_TABLE[dialect] });
      await db.sync();
      const v = table<{ id: number; t: string | null; n: number | null; i: number | null; b: boolean | null }>('v', { primaryKey: 'id' });
      let id = 0;
      await fc.assert(
        fc.asyncProperty(row, async (values) => {
          id++;
          let created;
          try {
            [, created] = await getOrCreate(db, v, { id }, { defaults: values });
          } catch (error) {
            assert.ok(error instanceof SqlHelpersError, inspect(error));
            assert.equal(await getByPk(id, { session: db, model: v }), null, 'a refused value stores nothing');
            return;
          }
          assert.equal(created, true);
          const stored = await getByPk(id, { session: db, model: v });
          assert.ok(stored);
          assert.equal(stored.t, values.t);
          assert.equal(stored.n === null ? null : Number(stored.n), values.n === null ? null : values.n === 0 ? 0 : values.n, `n of ${inspect(values)}`);
          assert.equal(stored.i === null ? null : Number(stored.i), values.i);
          assert.equal(stored.b === null ? null : Boolean(stored.b), values.b);
        }),
        runs(200),
      );
    });
  });
}
