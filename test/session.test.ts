import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  ConfigurationError,
  DatabaseManager,
  ForeignKeyViolationError,
  MultipleResultsFound,
  NoResultFound,
  NotNullViolationError,
  QueryError,
  SqlHelpersError,
  UniqueViolationError,
  identifier,
  isSqlite,
  join,
  sql,
} from '../lib/index.js';
import { TOPOLOGY, dialects, fixtureMigrations, migratedDatabase, type TestDatabase } from './support.js';

// users, groups, memberships (the BASIC_MIGRATIONS of the other suites), migrated once into a template.
const BASIC = fixtureMigrations('basic');

for (const dialect of dialects) {
  describe(`sessions on ${dialect}`, () => {
    let database: TestDatabase;
    let db: DatabaseManager;

    before(async () => {
      database = await migratedDatabase(dialect, BASIC);
      db = new DatabaseManager(database.uri, BASIC, database.options);
    });
    after(async () => {
      await db.close();
      await database.cleanup();
    });

    const count = async (session = db) => Number((await session.one<{ n: number | string }>(sql`SELECT count(*) AS n FROM users`)).n);

    it('exposes its dialect and engine', () => {
      assert.equal(db.dialect, dialect);
      assert.equal(isSqlite(db), dialect === 'sqlite');
      assert.equal(typeof db.engine, 'object');
      assert.equal(dialect === 'postgres' ? 'totalCount' in (db.engine as object) : 'pragma' in (db.engine as object), true);
    });

    it('query / one / maybeOne / execute bind values and return rows and counts', async () => {
      assert.equal(await db.execute(sql`INSERT INTO users (id, email) VALUES (${1}, ${"o'brien@example.com"}), (${2}, ${'b@example.com'})`), 2);
      const rows = await db.query<{ id: number; email: string }>(sql`SELECT id, email FROM users WHERE id IN (${join([1, 2])}) ORDER BY id`);
      assert.deepEqual(rows.map((row) => row.email), ["o'brien@example.com", 'b@example.com']);
      assert.equal((await db.one<{ email: string }>(sql`SELECT email FROM users WHERE id = ${1}`)).email, "o'brien@example.com");
      assert.equal(await db.maybeOne(sql`SELECT email FROM users WHERE id = ${99}`), null);
      await assert.rejects(db.one(sql`SELECT id FROM users WHERE id = ${99}`), NoResultFound);
      await assert.rejects(db.one(sql`SELECT id FROM users`), MultipleResultsFound);
      await assert.rejects(db.maybeOne(sql`SELECT id FROM users`), MultipleResultsFound);
      assert.equal(await db.execute(sql`UPDATE users SET email = ${'x@example.com'} WHERE id = ${2}`), 1);
      assert.equal(await db.execute(sql`DELETE FROM users`), 2);
    });

    it('keeps injection strings as values and quotes identifiers', async () => {
      const evil = "'); DROP TABLE users; --";
      await db.execute(sql`INSERT INTO users (id, email) VALUES (${10}, ${evil})`);
      const row = await db.one<{ email: string }>(sql`SELECT ${identifier('email')} FROM ${identifier('users')} WHERE id = ${10}`);
      assert.equal(row.email, evil);
      await db.execute(sql`DELETE FROM users`);
    });

    it('refuses plain strings instead of sql-tagged queries', async () => {
      await assert.rejects(db.query('SELECT 1' as never), (error: ConfigurationError) => error.code === 'NOT_A_SQL_QUERY');
    });

    it('maps constraint violations to typed errors that keep the driver error as cause', async () => {
      await db.execute(sql`INSERT INTO users (id, email) VALUES (${1}, ${'dup@example.com'})`);
      const unique = await db.execute(sql`INSERT INTO users (id, email) VALUES (${2}, ${'dup@example.com'})`).catch((error: unknown) => error);
      assert.ok(unique instanceof UniqueViolationError);
      assert.ok(unique instanceof QueryError && unique instanceof SqlHelpersError);
      assert.equal(unique.code, 'UNIQUE_VIOLATION');
      assert.equal(unique.sqlState, dialect === 'postgres' ? '23505' : 'SQLITE_CONSTRAINT_UNIQUE');
      if (dialect === 'postgres') assert.equal(unique.constraint, 'users_email_key');
      assert.ok(unique.cause);
      await assert.rejects(db.execute(sql`INSERT INTO memberships (user_id, group_id) VALUES (${1}, ${42})`), ForeignKeyViolationError);
      await assert.rejects(db.execute(sql`INSERT INTO users (id, email) VALUES (${3}, ${null})`), NotNullViolationError);
      await assert.rejects(db.query(sql`SELECT * FROM no_such_table`), (error: QueryError) => error.code === 'UNDEFINED_TABLE');
      await db.execute(sql`DELETE FROM users`);
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      const value = await db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO users (id, email) VALUES (${1}, ${'t1@example.com'})`);
        return count(tx as unknown as DatabaseManager);
      });
      assert.equal(value, 1);
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.execute(sql`INSERT INTO users (id, email) VALUES (${2}, ${'t2@example.com'})`);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await count(), 1);
      await db.execute(sql`DELETE FROM users`);
    });

    it('nests transactions as savepoints: an inner failure rolls back only the inner work', async () => {
      await db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO users (id, email) VALUES (${1}, ${'outer@example.com'})`);
        await assert.rejects(
          tx.transaction(async (inner) => {
            await inner.execute(sql`INSERT INTO users (id, email) VALUES (${2}, ${'inner@example.com'})`);
            await inner.execute(sql`INSERT INTO users (id, email) VALUES (${3}, ${'outer@example.com'})`);
          }),
          UniqueViolationError,
        );
        await tx.transaction(async (inner) => {
          await inner.execute(sql`INSERT INTO users (id, email) VALUES (${4}, ${'kept@example.com'})`);
        });
      });
      const ids = (await db.query<{ id: number | string }>(sql`SELECT id FROM users ORDER BY id`)).map((row) => Number(row.id));
      assert.deepEqual(ids, [1, 4]);
      await db.execute(sql`DELETE FROM users`);
    });

    it('refuses a transaction used after it ended', async () => {
      let leaked: { query(q: ReturnType<typeof sql>): Promise<unknown> } | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await assert.rejects(leaked!.query(sql`SELECT 1`), (error: SqlHelpersError) => error.code === 'TRANSACTION_FINISHED');
    });

    it('never interleaves a concurrent caller into another caller’s transaction', async () => {
      // On SQLite both callers share one connection: without serialisation, B's insert would run inside A's
      // transaction and vanish with A's rollback.
      const a = db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO users (id, email) VALUES (${1}, ${'a@example.com'})`);
        await sleep(30);
        throw new Error('A rolls back');
      });
      const b = (async () => {
        await sleep(5);
        await db.execute(sql`INSERT INTO users (id, email) VALUES (${2}, ${'b@example.com'})`);
      })();
      await assert.rejects(a, /A rolls back/);
      await b;
      const ids = (await db.query<{ id: number | string }>(sql`SELECT id FROM users ORDER BY id`)).map((row) => Number(row.id));
      assert.deepEqual(ids, [2]);
      await db.execute(sql`DELETE FROM users`);
    });

    it('binds booleans, dates, null and JSON-able objects', async () => {
      const when = new Date('2026-01-02T03:04:05.000Z');
      const row = await db.one<Record<string, unknown>>(sql`SELECT ${true} AS yes, ${when} AS at, ${null} AS empty_value`);
      assert.equal(row.empty_value, null);
      assert.ok(row.yes === true || row.yes === 1 || row.yes === 'true');
      assert.equal(new Date(String(row.at instanceof Date ? row.at.toISOString() : row.at)).getTime(), when.getTime());
    });
  });
}

describe('SQLite connection hand-off', () => {
  it('fails a db call made inside db.transaction with a LockTimeoutError that says to use tx, instead of hanging', async () => {
    const database = await migratedDatabase('sqlite', BASIC);
    const db = new DatabaseManager(database.uri, BASIC, { engineArgs: { timeout: 100 } });
    try {
      await assert.rejects(
        db.transaction(async () => db.query(sql`SELECT 1 AS one`)),
        (error: SqlHelpersError) => error.code === 'LOCK_TIMEOUT' && /not on db/.test(error.message),
      );
      assert.deepEqual(await db.query(sql`SELECT 1 AS one`), [{ one: 1 }], 'the connection is usable afterwards');
    } finally {
      await db.close();
      await database.cleanup();
    }
  });
});

describe('prepared statements on postgres', () => {
  it('survives a table gaining a column behind a prepared SELECT *, and reports it inside a transaction', async () => {
    const database = await migratedDatabase('postgres', BASIC);
    // One connection, so every call meets the statement it prepared before.
    const db = new DatabaseManager(database.uri, BASIC, { ...database.options, engineArgs: { max: 1 } });
    try {
      await db.execute(sql`INSERT INTO users (id, email) VALUES (${1}, ${'a@example.com'})`);
      const select = (session: { query: DatabaseManager['query'] }) => session.query<Record<string, unknown>>(sql`SELECT * FROM users WHERE id = ${1}`);
      assert.deepEqual(Object.keys((await select(db))[0]!), ['id', 'email']);
      await db.execute(sql`ALTER TABLE users ADD COLUMN nickname TEXT`);
      assert.deepEqual(Object.keys((await select(db))[0]!), ['id', 'email', 'nickname'], 'retried under a fresh statement');

      await select(db); // prepared again, under a new name, with the new columns
      await db.execute(sql`ALTER TABLE users ADD COLUMN age INTEGER`);
      const inTransaction = db.transaction((tx) => select(tx as unknown as DatabaseManager));
      if (TOPOLOGY === 'direct') {
        await assert.rejects(inTransaction, (error: QueryError) => error.sqlState === '0A000' && /cached plan/.test(error.message));
      } else {
        // Through a transaction pooler every statement is unnamed, so there is no plan to go stale.
        assert.deepEqual(Object.keys((await inTransaction)[0]!), ['id', 'email', 'nickname', 'age']);
      }
      assert.deepEqual(Object.keys((await select(db))[0]!), ['id', 'email', 'nickname', 'age'], 'a later call prepares it afresh');
    } finally {
      await db.close();
      await database.cleanup();
    }
  });
});
