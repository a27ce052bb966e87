import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type pg from 'pg';
import {
  ConnectionError,
  DatabaseManager,
  LockTimeoutError,
  SyncResult,
  identifier,
  sql,
  type Dialect,
} from '../lib/index.js';
import { BASIC_MIGRATIONS, CLI, TOPOLOGY, admin, dialects, directUri, recordedVersions, tableNames, workspaces } from './support.js';


/** Polls `check` until it returns true; fails after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Backends (other than ours) whose current query contains `marker`. */
async function backendsRunning(marker: string): Promise<number[]> {
  const { rows } = await admin(
    `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%${marker}%' AND state = 'active'`,
  );
  return rows.map((row: { pid: number }) => row.pid);
}

/** Ends the backends running `marker`: only ever ones this file started. */
async function terminate(marker: string): Promise<number> {
  const { rows } = await admin(
    `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%${marker}%'`,
  );
  return rows.length;
}

const versions = (db: DatabaseManager) => recordedVersions(db);

function harness() {
  const { setup: fresh, cleanups } = workspaces();
  const setup = (dialect: Dialect, files: Record<string, string>) => fresh(dialect, files);
  /** Starts the CLI; the child is SIGKILLed at cleanup if still alive. */
  function startCli(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.DATABASE_URL;
    delete env.SQL_HELPERS_UNSAFE_NO_MIGRATION_LOCK;
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    return { child, output: () => output, exited };
  }
  return { setup, startCli, cleanups };
}

const usersOnly = { '001_users.sql': BASIC_MIGRATIONS['001_users.sql']! };

// ---------------------------------------------------------------------------------------------------------------

for (const dialect of dialects) {
  describe(`faults on ${dialect}: a migrating process killed with SIGKILL`, () => {
    const { setup, startCli, cleanups } = harness();

    it('leaves the database at the previous version with nothing of the killed migration, and a fresh sync completes', async () => {
      const marker = `killed_${randomBytes(4).toString('hex')}`;
      const slow =
        dialect === 'postgres'
          ? `CREATE TABLE slow_t (id INTEGER, b BYTEA);\nINSERT INTO users (id, email) VALUES (100, 'ghost@x');\nSELECT pg_sleep(5) AS ${marker};\n`
          : 'CREATE TABLE slow_t (id INTEGER, b BLOB);\nINSERT INTO users (id, email) VALUES (100, \'ghost@x\');\n' +
            // ~20 MB of rows, enough to spill uncommitted pages into the -wal file, then seconds of CPU.
            'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) INSERT INTO slow_t SELECT x, randomblob(1000) FROM c;\n' +
            'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) INSERT INTO slow_t SELECT count(*), NULL FROM c;\n';
      const { db, dir, database } = await setup(dialect, usersOnly);
      assert.equal(await db.sync(), SyncResult.CREATED);
      await writeFile(join(dir, '002_slow.sql'), slow);
      const before = await tableNames(db);
      await db.close();
      if (dialect === 'postgres') cleanups.push(async () => void (await terminate(marker)));

      const { child, exited } = startCli(['sync', '--database', database.uri, '--dir', dir, ...database.cliArgs]);
      if (dialect === 'postgres') {
        await until('the migration to reach pg_sleep', async () => (await backendsRunning(marker)).length === 1);
      } else {
        const wal = `${database.uri.slice('sqlite://'.length)}-wal`;
        await until('uncommitted pages of the migration in the -wal file', () => existsSync(wal) && statSync(wal).size > 4_000_000);
      }
      child.kill('SIGKILL');
      assert.equal(await exited, null, 'killed, not exited');

      if (dialect === 'postgres') {
        // The server notices the lost client when pg_sleep returns, and rolls the transaction back.
        await until('the orphaned backend to end', async () => (await backendsRunning(marker)).length === 0);
      }
      const after = new DatabaseManager(database.uri, dir, database.options);
      cleanups.push(() => after.close());
      assert.deepEqual(await versions(after), [1], 'still at the previous version');
      assert.deepEqual(await tableNames(after), before, 'no table of the killed migration');
      assert.deepEqual(await after.query(sql`SELECT id FROM users`), [], 'no row of the killed migration');
      if (dialect === 'sqlite') {
        assert.deepEqual((after.engine as Database.Database).pragma('integrity_check'), [{ integrity_check: 'ok' }]);
      }

      // A pending file may change: make it quick, and a fresh sync applies it.
      await writeFile(join(dir, '002_slow.sql'), "CREATE TABLE slow_t (id INTEGER);\nINSERT INTO users (id, email) VALUES (100, 'ghost@x');\n");
      assert.equal(await after.sync(), SyncResult.UPGRADED);
      assert.deepEqual(await versions(after), [1, 2]);
      assert.ok((await tableNames(after)).includes('slow_t'));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------

describe('faults on postgres: the migration lock', () => {
  const { setup, startCli, cleanups } = harness();

  it('a waiter that reaches its timeout gets a LockTimeoutError naming the lock; the holder dying releases it', async () => {
    const marker = `holder_${randomBytes(4).toString('hex')}`;
    const { db, dir, database, open } = await setup('postgres', usersOnly);
    await db.sync();
    await writeFile(join(dir, '002_hold.sql'), `SELECT pg_sleep(30) AS ${marker};\n`);
    cleanups.push(async () => void (await terminate(marker)));

    const { child, exited } = startCli(['sync', '--database', database.uri, '--dir', dir, ...database.cliArgs]);
    await until('the holder to run its migration', async () => (await backendsRunning(marker)).length === 1);

    const waiter = open(undefined, { lockTimeoutMs: 300 });
    const started = Date.now();
    const error = await waiter.sync().then(
      () => assert.fail('the waiter should time out'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof LockTimeoutError, String(error));
    assert.equal(error.code, 'LOCK_TIMEOUT');
    assert.match(
      error.message,
      new RegExp(
        `^timed out after 300 ms waiting for the migration lock \\(PostgreSQL advisory lock "sql_helpers_migrations"` +
          `${database.options.schema ? ` in schema "${database.options.schema}"` : ''}\\)`,
      ),
    );
    assert.match(
      error.message,
      /another process is migrating this database\. Wait for it, or raise the lock timeout \(lockTimeoutMs, --lock-timeout\); pg_locks \(locktype = 'advisory'\) shows the holder/,
    );
    assert.ok(Date.now() - started >= 290, 'it waited for its timeout');
    assert.deepEqual(await versions(db), [1], 'the waiter changed nothing');

    child.kill('SIGKILL');
    assert.equal(await exited, null);
    // The holder's lock session ended with the process; its work backend may still sleep, holding nothing we need.
    await writeFile(join(dir, '002_hold.sql'), 'SELECT 1;\n');
    const next = open(undefined, { lockTimeoutMs: 10_000 });
    const t0 = Date.now();
    assert.equal(await next.sync(), SyncResult.UPGRADED);
    assert.ok(Date.now() - t0 < 5_000, `the next migrator proceeded at once (${Date.now() - t0} ms), not after the holder's sleep`);
    assert.deepEqual(await versions(next), [1, 2]);
  });

  it('the lock connection terminated mid-migration: LOCK_LOST, that migration rolled back, nothing after it applied', async () => {
    const marker = `lost_${randomBytes(4).toString('hex')}`;
    const { db, dir, open, database } = await setup('postgres', usersOnly);
    await db.sync();
    await writeFile(join(dir, '002_lost.sql'), `CREATE TABLE lost_t (id INTEGER);\nSELECT pg_sleep(1) AS ${marker};\n`);
    await writeFile(join(dir, '003_after.sql'), 'CREATE TABLE after_t (id INTEGER);\n');
    const running = db.sync().then(() => undefined, (caught: unknown) => Promise.reject(caught));
    running.catch(() => undefined);
    await until('the migration to reach pg_sleep', async () => (await backendsRunning(marker)).length === 1);
    // The backend holding this manager's lock key (behind a pooler: the server connection the lock is pinned to).
    const schema = database.options.schema === undefined ? 'NULL' : `'${database.options.schema}'`;
    const { rows } = await admin(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('sql-helpers:' || current_database() || ':' ||
           coalesce(${schema}, current_schema()) || ':sql_helpers_migrations', 0)`,
      directUri(database.uri),
    );
    assert.deepEqual(rows, [{ done: true }]);
    const error = await running.then(
      () => assert.fail('sync should fail'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, 'LOCK_LOST');
    assert.match(error.message, /migration lock was lost .*rolled back.*run sync again/);
    assert.deepEqual(await versions(db), [1]);
    assert.ok(!(await tableNames(db)).some((name) => name === 'lost_t' || name === 'after_t'));
    await writeFile(join(dir, '002_lost.sql'), 'CREATE TABLE lost_t (id INTEGER);\n');
    assert.equal(await open(undefined, { lockTimeoutMs: 2_000 }).sync(), SyncResult.UPGRADED);
    assert.deepEqual(await versions(db), [1, 2, 3]);
  });

  it('a migration whose connection is terminated fails with a ConnectionError, records nothing, and releases the lock', async () => {
    const marker = `cut_${randomBytes(4).toString('hex')}`;
    const { db, dir, open } = await setup('postgres', usersOnly);
    await db.sync();
    await writeFile(join(dir, '002_cut.sql'), `CREATE TABLE cut_t (id INTEGER);\nSELECT pg_sleep(5) AS ${marker};\n`);
    // A handler at once: the rejection must not count as unhandled while the test polls.
    const running = db.sync().then(() => undefined, (caught: unknown) => Promise.reject(caught));
    running.catch(() => undefined);
    await until('the migration to reach pg_sleep', async () => (await backendsRunning(marker)).length === 1);
    assert.equal(await terminate(marker), 1);
    const error = await running.then(
      () => assert.fail('sync should fail'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, 'CONNECTION_FAILED');
    assert.match(error.message, /^cannot use database postgres:\/\/.*: terminating connection due to administrator command/);
    assert.deepEqual(await versions(db), [1]);
    assert.ok(!(await tableNames(db)).includes('cut_t'));
    // The lock went with the failed run: another manager proceeds at once, and so does this one.
    await writeFile(join(dir, '002_cut.sql'), 'CREATE TABLE cut_t (id INTEGER);\n');
    assert.equal(await open(undefined, { lockTimeoutMs: 2_000 }).sync(), SyncResult.UPGRADED);
    assert.equal(await db.sync(), SyncResult.ALREADY_UP_TO_DATE);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('faults on postgres: connections terminated under the pool', () => {
  const { setup } = harness();

  it('an idle pooled connection terminated: the next call simply works, on the same manager', async () => {
    const { db } = await setup('postgres', usersOnly);
    await db.sync();
    const pool = db.engine as pg.Pool;
    const [{ pid }] = (await db.query<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`)) as [{ pid: number }];
    assert.ok(pool.idleCount >= 1);
    const { rows } = await admin(`SELECT pg_terminate_backend(${Number(pid)}) AS done`);
    assert.equal(rows[0].done, true);
    if (TOPOLOGY === 'direct') await until('the pool to drop the dead client', () => pool.idleCount === 0 || pool.totalCount === 0, 5_000);
    else {
      // Behind a pooler the client's connection is to PgBouncer, which drops the dead server connection once it
      // reads the server's goodbye; a call in that moment gets the termination as a ConnectionError, never more.
      await until('PgBouncer to drop the dead server connection', async () =>
        db.query(sql`SELECT 1 AS one`).then(
          () => true,
          (error: unknown) => {
            assert.ok(error instanceof ConnectionError, String(error));
            return false;
          },
        ),
      );
    }
    for (let i = 0; i < 3; i++) assert.deepEqual(await db.query(sql`SELECT 1 AS one`), [{ one: 1 }]);
    assert.deepEqual(await db.transaction((tx) => tx.query(sql`SELECT 2 AS two`)), [{ two: 2 }]);
  });

  it('a connection terminated while a query runs: that call gets a ConnectionError, later calls work without a new manager', async () => {
    const { db } = await setup('postgres', usersOnly);
    await db.sync();
    const marker = `query_${randomBytes(4).toString('hex')}`;
    const running = db.query(sql`SELECT pg_sleep(5) AS ${identifier(marker)}`);
    running.catch(() => undefined);
    await until('the query to run', async () => (await backendsRunning(marker)).length === 1);
    assert.equal(await terminate(marker), 1);
    const error = await running.then(
      () => assert.fail('the query should fail'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, 'CONNECTION_FAILED');
    assert.equal(error.sqlState, '57P01');
    assert.match(error.message, /terminating connection due to administrator command/);
    assert.ok(error.cause, 'keeps the driver error');
    for (let i = 0; i < 3; i++) assert.deepEqual(await db.query(sql`SELECT 1 AS one`), [{ one: 1 }]);
    await db.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'after@x'})`);
    assert.deepEqual(await db.query(sql`SELECT email FROM users`), [{ email: 'after@x' }]);
  });

  it('a connection terminated inside a transaction: ConnectionError, nothing of it committed, the next transaction works', async () => {
    const { db } = await setup('postgres', usersOnly);
    await db.sync();
    const marker = `tx_${randomBytes(4).toString('hex')}`;
    const running = db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'lost@x'})`);
      await tx.query(sql`SELECT pg_sleep(5) AS ${identifier(marker)}`);
    });
    running.catch(() => undefined);
    await until('the transaction to run', async () => (await backendsRunning(marker)).length === 1);
    await terminate(marker);
    const error = await running.then(
      () => assert.fail('the transaction should fail'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(error.code, 'CONNECTION_FAILED');
    assert.deepEqual(await db.query(sql`SELECT email FROM users`), [], 'nothing of the transaction was committed');
    await db.transaction((tx) => tx.execute(sql`INSERT INTO users (id, email) VALUES (2, ${'next@x'})`));
    assert.deepEqual(await db.query(sql`SELECT email FROM users`), [{ email: 'next@x' }]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe('faults on sqlite: a database locked by another connection', () => {
  const { setup, cleanups } = harness();

  it('longer than the busy timeout: a clear LockTimeoutError from sync, transactions and writes, nothing half-written', async () => {
    const { db, dir, database, open } = await setup('sqlite', usersOnly);
    await db.sync();
    await writeFile(join(dir, '002_groups.sql'), BASIC_MIGRATIONS['002_groups.sql']!);
    const file = database.uri.slice('sqlite://'.length);
    const holder = new Database(file);
    cleanups.push(async () => void (holder.open && holder.close()));
    holder.pragma('journal_mode = WAL');
    holder.exec('BEGIN IMMEDIATE');
    holder.exec("INSERT INTO users (id, email) VALUES (9, 'holder@x')");

    const impatient = open(undefined, { engineArgs: { timeout: 300 }, lockTimeoutMs: 300 });
    let started = Date.now();
    await assert.rejects(impatient.sync(), (error: LockTimeoutError) => {
      assert.ok(error instanceof LockTimeoutError, String(error));
      assert.equal(error.code, 'LOCK_TIMEOUT');
      assert.match(error.message, /^timed out after 300 ms waiting for the SQLite write lock on ".*test\.db"; another process is writing or migrating\. Wait for it, or raise lockTimeoutMs\.$/);
      assert.equal(error.sqlState, 'SQLITE_BUSY');
      return true;
    });
    assert.ok(Date.now() - started >= 250, 'it waited for the busy timeout');

    started = Date.now();
    for (const run of [
      () => impatient.transaction((tx) => tx.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'a@x'})`)),
      () => impatient.execute(sql`INSERT INTO users (id, email) VALUES (2, ${'b@x'})`),
    ]) {
      await assert.rejects(run(), (error: LockTimeoutError) => {
        assert.ok(error instanceof LockTimeoutError, String(error));
        assert.equal(error.code, 'LOCK_TIMEOUT');
        assert.match(error.message, /database is locked \(SQLITE_BUSY\); another connection held the SQLite write lock longer than the busy timeout \(engineArgs\.timeout\): retry, or end the long transaction/);
        return true;
      });
    }
    // Reads are not blocked in WAL mode, and see nothing half-written.
    assert.deepEqual(await versions(impatient), [1]);
    assert.deepEqual(await impatient.query(sql`SELECT id FROM users`), []);
    assert.ok(!(await tableNames(impatient)).includes('groups'));

    holder.exec('ROLLBACK');
    holder.close();
    assert.equal(await impatient.sync(), SyncResult.UPGRADED);
    assert.deepEqual(await versions(impatient), [1, 2]);
    await impatient.execute(sql`INSERT INTO users (id, email) VALUES (3, ${'c@x'})`);
    assert.deepEqual(await impatient.query(sql`SELECT id FROM users`), [{ id: 3 }]);
  });

  it('a lock held by another process that dies is released: the next sync proceeds', async () => {
    const { db, dir, database } = await setup('sqlite', usersOnly);
    await db.sync();
    await writeFile(join(dir, '002_groups.sql'), BASIC_MIGRATIONS['002_groups.sql']!);
    const file = database.uri.slice('sqlite://'.length);
    const script =
      "const Database = require('better-sqlite3'); const db = new Database(process.argv[1]); db.pragma('journal_mode = WAL');" +
      "db.exec('BEGIN IMMEDIATE'); db.exec(\"INSERT INTO users (id, email) VALUES (7, 'dead@x')\"); console.log('locked'); setInterval(() => {}, 1000);";
    const child = spawn(process.execPath, ['-e', script, file], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('locked') && resolve());
      child.on('exit', () => reject(new Error('the lock holder exited early')));
    });
    const impatient = new DatabaseManager(database.uri, dir, { lockTimeoutMs: 200 });
    cleanups.push(() => impatient.close());
    await assert.rejects(impatient.sync(), LockTimeoutError);
    child.kill('SIGKILL');
    await exited;
    assert.equal(await impatient.sync(), SyncResult.UPGRADED);
    assert.deepEqual(await versions(impatient), [1, 2]);
    assert.deepEqual(await impatient.query(sql`SELECT id FROM users`), [], 'the dead process wrote nothing');
  });
});
