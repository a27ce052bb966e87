/**
 * The locks sql-helpers holds while other work runs (the migration lock, the test-template lock) must not keep a
 * snapshot: `CREATE INDEX CONCURRENTLY` in the same database waits for every transaction holding one. A waiter
 * blocking in pg_advisory_xact_lock does, and so does a transaction whose last statement went through the
 * extended protocol (its unnamed portal keeps the snapshot): the negative controls show the test tells them apart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { AdvisoryLock } from '../lib/driver/postgres-lock.js';
import { DatabaseManager, SyncResult } from '../lib/index.js';
import { PostgresAdmin } from '../lib/testing/postgres-admin.js';
import { parseDatabaseUri, type PostgresTarget } from '../lib/uri.js';
import { freshPgDatabase, migrationsDir } from './support.js';

let database: { uri: string; cleanup(): Promise<void> };
before(async () => {
  database = await freshPgDatabase();
  const client = await connect();
  await client.query('CREATE TABLE items (id INTEGER, label TEXT); INSERT INTO items SELECT g, g::text FROM generate_series(1, 1000) g');
  await client.end();
});
after(async () => {
  await database?.cleanup();
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.uri });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs CREATE INDEX CONCURRENTLY with a lock timeout: true when it finished, false when something stalled it. */
async function concurrentIndexFinishes(): Promise<boolean> {
  const client = await connect();
  try {
    await client.query("SET lock_timeout = '2s'");
    await client.query('DROP INDEX IF EXISTS items_label');
    await client.query('CREATE INDEX CONCURRENTLY items_label ON items (label)');
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== '55P03') throw error;
    await client.query('DROP INDEX IF EXISTS items_label').catch(() => undefined);
    return false;
  } finally {
    await client.end();
  }
}

describe('locks held while CREATE INDEX CONCURRENTLY runs in the same database', () => {
  it('the test-template lock holds no snapshot', async () => {
    const admin = PostgresAdmin.for(parseDatabaseUri(database.uri) as PostgresTarget);
    assert.equal(await admin.withLock('snapshot-check', 5_000, concurrentIndexFinishes), true);
  });

  it('the migration lock holds no snapshot, neither in its holder nor in a process waiting for it', async () => {
    const dir = await migrationsDir({ '001_items.sql': 'CREATE TABLE more_items (id INTEGER);\n' });
    const holder = await connect();
    const db = new DatabaseManager(database.uri, dir, { schema: 'migrating', lockTimeoutMs: 20_000 });
    let lock: AdvisoryLock | null = null;
    try {
      // The lock the migrator takes for this schema, held the way the migrator holds it.
      const { rows } = await holder.query<{ key: string }>(
        "SELECT hashtextextended('sql-helpers:' || current_database() || ':migrating:sql_helpers_migrations', 0)::text AS key",
      );
      lock = await AdvisoryLock.acquire(holder, { key: rows[0]!.key, description: 'test', advice: 'test', timeoutMs: 1_000, context: { target: 'test' } });
      const waiting = db.sync();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await concurrentIndexFinishes(), true);
      await lock!.release();
      lock = null;
      assert.equal(await waiting, SyncResult.CREATED);
    } finally {
      await lock?.release();
      await holder.end().catch(() => undefined);
      await db.close();
    }
  });

  for (const [label, lockQuery] of [
    ['a blocking pg_advisory_xact_lock, extended protocol', { text: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', values: ['x'] }],
    ['a transaction whose last statement used the extended protocol', { text: 'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))', values: ['y'] }],
  ] as const) {
    it(`negative control: ${label} stalls it`, async () => {
      const holder = await connect();
      try {
        await holder.query('BEGIN');
        await holder.query(lockQuery.text, [...lockQuery.values]);
        assert.equal(await concurrentIndexFinishes(), false, 'the naive lock must stall the index build, or this test proves nothing');
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
      }
    });
  }
});
