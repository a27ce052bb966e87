/**
 * Behind PgBouncer 1.18 in transaction mode, with a plain URL: what only a pooler shows. (`test/run.ts` also
 * runs every PostgreSQL suite through a pooler; this file starts its own, so it runs alone too.)
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ConfigurationError,
  DatabaseManager,
  SyncResult,
  getOrCreate,
  sql,
  table,
  type DatabaseManagerOptions,
} from '../lib/index.js';
import { ADMIN_URL, admin, migrationsDir } from './support.js';
import { startPgBouncer, type Pooler } from './topology/pgbouncer.js';

let pooler: Pooler;
before(async () => {
  pooler = await startPgBouncer({ poolSize: 6 });
});
after(async () => {
  await pooler?.stop();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh database; `pooled` and `direct` are its URLs through the pooler and straight to the server. */
async function database(): Promise<{ name: string; pooled: string; direct: string }> {
  const name = `sql_helpers_pooler_${Math.random().toString(36).slice(2, 10)}`;
  await admin(`CREATE DATABASE ${name}`);
  cleanups.push(async () => void (await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  const direct = new URL(ADMIN_URL);
  direct.pathname = `/${name}`;
  return { name, pooled: pooler.url(name), direct: direct.toString() };
}

function open(uri: string, dir: string, options: DatabaseManagerOptions = {}): DatabaseManager {
  const db = new DatabaseManager(uri, dir, options);
  cleanups.push(() => db.close());
  return db;
}

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await migrationsDir(files);
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const TAGS = { '001_tags.sql': 'CREATE TABLE tags (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n' };
const tags = table<{ id: number; name: string }>('tags', { primaryKey: 'id' });

/** Runs `callers` loops of getOrCreate over `keys` keys at once; counts creations per key and errors. */
async function getOrCreateRace(db: DatabaseManager, callers: number, calls: number, keys: number) {
  const created = new Map<string, number>();
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let call = 0; call < calls; call++) {
        const name = `tag-${(call * callers + caller) % keys}`;
        try {
          const [row, isNew] = await getOrCreate(db, tags, { name });
          assert.equal(row.name, name);
          if (isNew) created.set(name, (created.get(name) ?? 0) + 1);
        } catch (error) {
          errors.push(String((error as Error).message));
        }
      }
    }),
  );
  return { created, errors };
}

describe('through PgBouncer in transaction mode', () => {
  it('16 callers × 200 getOrCreate on 8 connections: no error, one creation per key; named statements would fail', async () => {
    const { pooled } = await database();
    const dir = await folder(TAGS);
    const db = open(pooled, dir, { engineArgs: { max: 8 } });
    assert.equal(await db.sync(), SyncResult.CREATED);
    const { created, errors } = await getOrCreateRace(db, 16, 200, 300);
    assert.deepEqual(errors.slice(0, 3), []);
    assert.equal(created.size, 300, 'every key created');
    assert.ok([...created.values()].every((count) => count === 1), 'exactly one creation per key');
    const [{ n }] = (await db.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM tags`)) as [{ n: number }];
    assert.equal(n, 300);

    // Negative control: forcing named prepared statements through the pooler is what broke before.
    const named = open(pooled, dir, { engineArgs: { max: 8 }, preparedStatements: true });
    const control = await getOrCreateRace(named, 16, 50, 300);
    assert.ok(control.errors.length > 0, 'named statements through a transaction pooler must fail, or this test proves nothing');
    assert.match(control.errors[0]!, /prepared statement|bind message/);
  });

  it('prepared statements: named on a direct connection, unnamed through the pooler (detected per connection)', async () => {
    const { pooled, direct } = await database();
    const dir = await folder(TAGS);
    const prepared = (db: DatabaseManager) =>
      db.transaction(async (tx) => {
        await tx.query(sql`SELECT ${1}::int AS one`);
        return (await tx.query<{ name: string }>(sql`SELECT name FROM pg_prepared_statements WHERE name LIKE ${'sqlh_%'}`)).length;
      });
    assert.ok((await prepared(open(direct, dir, { engineArgs: { max: 1 } }))) > 0, 'direct: prepared once per connection');
    assert.equal(await prepared(open(pooled, dir, { engineArgs: { max: 1 } })), 0, 'pooled: nothing left on a server connection');
    assert.equal(await prepared(open(direct, dir, { engineArgs: { max: 1 }, preparedStatements: false })), 0, 'opted out');
  });

  it('a pool of one connection migrates and queries', async () => {
    const { pooled } = await database();
    const db = open(pooled, await folder(TAGS), { engineArgs: { max: 1 } });
    assert.equal(await db.sync(), SyncResult.CREATED);
    assert.deepEqual((await getOrCreate(db, tags, { name: 'a' }))[1], true);
    assert.equal(await db.getStatus(), 'UP_TO_DATE');
  });
});

describe('the managed schema through PgBouncer', () => {
  const FILES = {
    '001_items.sql': 'CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\n',
    '002_more.sql': 'CREATE TABLE more_items (id INTEGER PRIMARY KEY);\nCREATE VIEW item_labels AS SELECT label FROM items;\n',
  };

  async function relationsIn(direct: string, schema: string): Promise<string[]> {
    const { rows } = await admin(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = '${schema}' AND c.relkind IN ('r', 'v') ORDER BY 1`, direct);
    return rows.map((row) => row.relname as string);
  }

  it('migrations land in the schema, never in public; application queries get a clear error until the role has it', async () => {
    const { name, pooled, direct } = await database();
    const dir = await folder(FILES);
    const db = open(pooled, dir, { schema: 'app' });
    assert.equal(await db.sync(), SyncResult.CREATED);
    assert.deepEqual(await relationsIn(direct, 'app'), ['item_labels', 'items', 'more_items', 'sql_helpers_migrations']);
    assert.deepEqual(await relationsIn(direct, 'public'), [], 'nothing landed in public');
    assert.equal(await db.getStatus(), 'UP_TO_DATE', 'status reads the qualified version table');

    const refused = await db.query(sql`SELECT * FROM items`).then(
      () => assert.fail('an unqualified query must not silently run in public'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof ConfigurationError);
    assert.equal(refused.code, 'SCHEMA_NOT_IN_FORCE');
    assert.match(refused.message, /schema "app" is not in force .*current schema is "public".*ALTER ROLE … SET search_path = "app", public/);

    // The documented fix: the search_path set for the database (or role); new server connections pick it up.
    await admin(`ALTER DATABASE ${name} SET search_path = app, public`);
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
    const fixed = open(pooled, dir, { schema: 'app' });
    await fixed.execute(sql`INSERT INTO items (id, label) VALUES (${1}, ${'one'})`);
    assert.deepEqual(await fixed.query(sql`SELECT label FROM item_labels`), [{ label: 'one' }]);
  });

  it('a no-transaction file under a schema is refused before anything runs, and runs with a direct URL', async () => {
    const { pooled, direct } = await database();
    const dir = await folder({
      ...FILES,
      '003_index.sql': '-- sql-helpers:no-transaction\nCREATE INDEX CONCURRENTLY items_label ON items (label);\n',
    });
    const error = await open(pooled, dir, { schema: 'app' }).sync().then(
      () => assert.fail('refused'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ConfigurationError, String(error));
    assert.equal(error.code, 'NO_TRANSACTION_NEEDS_DIRECT_CONNECTION');
    assert.match(error.message, /003_index\.sql.*transaction pooler.*directUrl/);
    assert.deepEqual(await relationsIn(direct, 'app'), ['sql_helpers_migrations'], 'nothing of the plan ran');

    const withDirect = open(pooled, dir, { schema: 'app', directUrl: direct });
    assert.equal(await withDirect.sync(), SyncResult.CREATED);
    const { rows } = await admin(`SELECT schemaname FROM pg_indexes WHERE indexname = 'items_label'`, direct);
    assert.deepEqual(rows, [{ schemaname: 'app' }]);
  });

  it('without a schema, a no-transaction file runs through the pooler', async () => {
    const { pooled, direct } = await database();
    const dir = await folder({
      ...FILES,
      '003_index.sql': '-- sql-helpers:no-transaction\nCREATE INDEX CONCURRENTLY items_label ON items (label);\n',
    });
    assert.equal(await open(pooled, dir).sync(), SyncResult.CREATED);
    const { rows } = await admin(`SELECT schemaname FROM pg_indexes WHERE indexname = 'items_label'`, direct);
    assert.deepEqual(rows, [{ schemaname: 'public' }]);
  });

  it('a file that changes the session (SET …) does not leak into later migrations or to application clients', async () => {
    const { pooled, direct } = await database();
    await admin('CREATE SCHEMA elsewhere', direct);
    const dir = await folder({
      '001_set.sql': "SET search_path TO elsewhere;\nSET statement_timeout = '1h';\nCREATE TABLE in_elsewhere (id INTEGER);\n",
      '002_after.sql': 'CREATE TABLE after_set (id INTEGER);\n',
    });
    await writeFile(join(dir, 'README.txt'), 'not a migration');
    assert.equal(await open(pooled, dir, { schema: 'app' }).sync(), SyncResult.CREATED);
    assert.deepEqual(await relationsIn(direct, 'elsewhere'), ['in_elsewhere']);
    assert.deepEqual(await relationsIn(direct, 'app'), ['after_set', 'sql_helpers_migrations']);
    // Six overlapping transactions occupy all six server connections of the pool: none kept the file's settings.
    const app = open(pooled, dir, { engineArgs: { max: 6 } });
    const settings = await Promise.all(
      Array.from({ length: 6 }, () =>
        app.transaction(async (tx) => {
          const [row] = await tx.query<{ timeout: string; path: string }>(
            sql`SELECT current_setting('statement_timeout') AS timeout, current_setting('search_path') AS path, pg_sleep(0.2)::text`,
          );
          return `${row!.timeout} ${row!.path}`;
        }),
      ),
    );
    assert.deepEqual(new Set(settings), new Set(['0 "$user", public']));
  });
});
