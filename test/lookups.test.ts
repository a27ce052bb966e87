/**
 * A helper's lookup reports every row that matches. The SQLite driver reads one with `.get()` (stopping at the first
 * row) only where the schema proves that no second row can match: each refusal below is a schema under which two
 * rows can. And it forgets the proof when the schema changes through it, so a dropped unique index (by a statement,
 * a migration, or a rolled-back transaction that had created it) brings MultipleResultsFound back, on both databases.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MultipleResultsFound, getByPk, getOne, sql, table, type DatabaseManager } from '../lib/index.js';
import { matchesAtMostOneRow } from '../lib/driver/sqlite-unique.js';
import { dialects, workspaces } from './support.js';

function database(schema: string): Database.Database {
  const db = new Database(':memory:');
  db.exec(schema);
  return db;
}

const lookup = (table: string, columns: string[], schema?: string) => ({ schema, table, columns });

describe('SQLite: which lookups match at most one row', () => {
  it('the rowid alias, a primary key, a unique column or every column of a unique index, in any letter case', () => {
    const db = database(`
      CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, a INT, b INT, UNIQUE (a, b));
      CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID;
      CREATE TABLE pairs (x TEXT, y TEXT, PRIMARY KEY (x, y));
      CREATE TABLE descending (id INTEGER PRIMARY KEY DESC, v TEXT);`);
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['id'])), true);
    assert.equal(matchesAtMostOneRow(db, lookup('USERS', ['ID'])), true);
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['email'])), true);
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['name', 'email'])), true, 'more columns than the index: still one row');
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['b', 'a'])), true);
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['id'], 'main')), true);
    assert.equal(matchesAtMostOneRow(db, lookup('codes', ['code'])), true);
    assert.equal(matchesAtMostOneRow(db, lookup('pairs', ['y', 'x'])), true);
    // Not the rowid (DESC), but its primary key index is unique all the same.
    assert.equal(matchesAtMostOneRow(db, lookup('descending', ['id'])), true);
    db.close();
  });

  it('refuses part of a unique key, a plain column and a composite primary key given in part', () => {
    const db = database(`
      CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT, a INT, b INT, UNIQUE (a, b));
      CREATE TABLE pairs (x TEXT, y TEXT, PRIMARY KEY (x, y));
      CREATE INDEX users_name ON users (name);`);
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['name'])), false, 'an index that is not unique');
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['a'])), false);
    assert.equal(matchesAtMostOneRow(db, lookup('pairs', ['x'])), false);
    assert.equal(matchesAtMostOneRow(db, lookup('users', [])), false, 'only IS NULL conditions');
    db.close();
  });

  it('refuses a unique index with a WHERE clause or on an expression', () => {
    const db = database(`
      CREATE TABLE items (id INTEGER PRIMARY KEY, code TEXT, kind TEXT);
      CREATE UNIQUE INDEX items_code ON items (code) WHERE kind = 'a';
      CREATE UNIQUE INDEX items_kind ON items (lower(kind));`);
    assert.equal(matchesAtMostOneRow(db, lookup('items', ['code'])), false);
    assert.equal(matchesAtMostOneRow(db, lookup('items', ['kind'])), false);
    db.close();
  });

  it('refuses a unique index on a table that declares a collation: the index may be finer than the comparison', () => {
    const db = database(`
      CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE);
      CREATE UNIQUE INDEX people_name ON people (name COLLATE BINARY);
      INSERT INTO people (name) VALUES ('Ada'), ('ada');`);
    assert.equal(db.prepare('SELECT count(*) FROM people WHERE name = ?').pluck().get('ADA'), 2, 'two rows match: the fast path would hide one');
    assert.equal(matchesAtMostOneRow(db, lookup('people', ['name'])), false);
    assert.equal(matchesAtMostOneRow(db, lookup('people', ['id'])), true, 'the rowid compares as an integer, whatever the collations');
    db.close();
  });

  it('refuses a view, a name that is in more than one schema unless the schema is given, and a table that is not there', () => {
    const db = database(`
      CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE);
      CREATE VIEW user_view AS SELECT * FROM users;
      CREATE TEMP TABLE users (id TEXT, email TEXT);`);
    assert.equal(matchesAtMostOneRow(db, lookup('user_view', ['id'])), false);
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['id'])), false, 'the temp table shadows main.users, and has no key');
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['id'], 'main')), true);
    assert.equal(matchesAtMostOneRow(db, lookup('users', ['id'], 'temp')), false);
    assert.equal(matchesAtMostOneRow(db, lookup('missing', ['id'])), false);
    db.close();
  });
});

interface Tag {
  id: number;
  code: string;
  kind: string | null;
}

const TAGS = {
  '001_tags.sql': 'CREATE TABLE tags (id INTEGER PRIMARY KEY, code TEXT NOT NULL, kind TEXT);\nCREATE UNIQUE INDEX tags_code ON tags (code);\n',
};
const tags = table<Tag>('tags', { primaryKey: 'id' });

for (const dialect of dialects) {
  describe(`lookups report every matching row on ${dialect}`, () => {
    const { setup } = workspaces();

    async function withTwins(db: DatabaseManager, code: string): Promise<void> {
      await db.execute(sql`INSERT INTO tags (id, code, kind) VALUES (${100}, ${code}, ${'a'}), (${101}, ${code}, ${'b'})`);
    }

    it('getByPk on a model whose primaryKey is not unique in the table', async () => {
      const { db } = await setup(dialect, TAGS);
      await db.sync();
      await db.execute(sql`INSERT INTO tags (id, code, kind) VALUES (${1}, ${'x'}, ${'same'}), (${2}, ${'y'}, ${'same'})`);
      const byKind = table<Tag, 'kind'>('tags', { primaryKey: 'kind' });
      await assert.rejects(getByPk('same', { session: db, model: byKind }), MultipleResultsFound);
      assert.equal((await getByPk(1, { session: db, model: tags }))?.code, 'x');
    });

    it('getOne after the unique index it relied on is dropped by a statement', async () => {
      const { db } = await setup(dialect, TAGS);
      await db.sync();
      await db.execute(sql`INSERT INTO tags (id, code) VALUES (${1}, ${'a'})`);
      assert.equal((await getOne(db, tags, { code: 'a' })).id, 1);
      await db.execute(sql`DROP INDEX tags_code`);
      await withTwins(db, 'a');
      await assert.rejects(getOne(db, tags, { code: 'a' }), MultipleResultsFound);
    });

    it('getOne after a migration drops the unique index', async () => {
      const { db, dir } = await setup(dialect, TAGS);
      await db.sync();
      await db.execute(sql`INSERT INTO tags (id, code) VALUES (${1}, ${'a'})`);
      assert.equal((await getOne(db, tags, { code: 'a' })).id, 1);
      await writeFile(join(dir, '002_drop_unique.sql'), 'DROP INDEX tags_code;\n');
      await db.sync();
      await withTwins(db, 'a');
      await assert.rejects(getOne(db, tags, { code: 'a' }), MultipleResultsFound);
    });

    it('getOne after the transaction that created the unique index rolls back', async () => {
      const { db } = await setup(dialect, { '001_tags.sql': 'CREATE TABLE tags (id INTEGER PRIMARY KEY, code TEXT NOT NULL, kind TEXT);\n' });
      await db.sync();
      await db.execute(sql`INSERT INTO tags (id, code) VALUES (${1}, ${'a'})`);
      const undone = new Error('undo the index');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.execute(sql`CREATE UNIQUE INDEX tags_code ON tags (code)`);
          assert.equal((await getOne(tx, tags, { code: 'a' })).id, 1);
          throw undone;
        }),
        (error: unknown) => error === undone,
      );
      await withTwins(db, 'a');
      await assert.rejects(getOne(db, tags, { code: 'a' }), MultipleResultsFound);
    });
  });
}
