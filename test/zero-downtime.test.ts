import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DatabaseManager, DdlLockTimeoutError, MigrationFileError, ConfigurationError, sql, type Dialect } from '../lib/index.js';
import { attemptTimeoutMs, backoffMs, ddlLockPolicy } from '../lib/migrations/lock-retry.js';
import { formatDuration, parseDuration } from '../lib/migrations/duration.js';
import { readMarkers } from '../lib/migrations/markers.js';
import { queryExcerpt } from '../lib/driver/postgres-blockers.js';
import { TOPOLOGY, dialects, directUri, freshPgDatabase, migrationsDir, runCli, workspaces, type CliRun } from './support.js';

const HOLDER = 'zdt-holder';
const SETUP = {
  '001_items.sql': "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\nINSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g;\nCREATE TABLE events (version INTEGER NOT NULL);\n",
};
const ALTER = { '002_add_note.sql': 'ALTER TABLE items ADD COLUMN note TEXT;\nINSERT INTO events (version) VALUES (2);\n' };

/** A session that holds ACCESS SHARE on `items` in an open transaction, as a long report query would. */
async function holdLock(uri: string): Promise<{ pid: number; release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: directUri(uri), application_name: HOLDER });
  await client.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  await client.query('BEGIN');
  await client.query("SELECT count(*) FROM items WHERE label <> 'secret-literal'");
  let released = false;
  return {
    pid,
    async release() {
      if (released) return;
      released = true;
      await client.query('COMMIT');
      await client.end();
    },
  };
}

/** Application traffic: `workers` loops of SELECTs on `items` through a pool; `stop()` gives the longest one, in ms. */
function selectStream(uri: string, workers = 2): { stop(): Promise<{ longestMs: number; count: number }> } {
  const pool = new pg.Pool({ connectionString: uri, max: workers });
  pool.on('error', () => undefined);
  let running = true;
  let longestMs = 0;
  let count = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const started = performance.now();
      await pool.query('SELECT count(*) FROM items');
      longestMs = Math.max(longestMs, performance.now() - started);
      count++;
      await sleep(5);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      await pool.end();
      return { longestMs: Math.round(longestMs), count };
    },
  };
}

/** Resolves once some session waits for a lock on `items`: the migration has reached its ALTER (a CLI starts slowly on a busy machine). */
async function migrationWaiting(uri: string): Promise<void> {
  const client = new pg.Client({ connectionString: directUri(uri) });
  await client.connect();
  try {
    for (let tries = 0; tries < 400; tries++) {
      const { rowCount } = await client.query("SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'items'::regclass AND mode = 'AccessExclusiveLock'");
      if (rowCount) return;
      await sleep(25);
    }
    throw new Error('no migration came to wait for a lock on items within 10 s');
  } finally {
    await client.end();
  }
}

async function inspect(uri: string): Promise<{ versions: number[]; events: number; noteColumn: boolean }> {
  const client = new pg.Client({ connectionString: directUri(uri) });
  await client.connect();
  try {
    const versions = (await client.query<{ version: string }>('SELECT version FROM sql_helpers_migrations ORDER BY version')).rows.map((row) => Number(row.version));
    const events = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE version = 2')).rows[0]!.n);
    const noteColumn = (await client.query("SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'")).rowCount === 1;
    return { versions, events, noteColumn };
  } finally {
    await client.end();
  }
}

describe('durations, markers and the retry policy (no database)', () => {
  it('parses durations strictly', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('5s'), 5000);
    assert.equal(parseDuration('10min'), 600_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration('off'), 0);
    assert.equal(parseDuration('0'), 0);
    for (const bad of ['', '5 seconds', '1.5s', '-1s', '5m', 's', '3000h', '5sec', 'on']) assert.equal(parseDuration(bad), undefined, bad);
    assert.equal(formatDuration(5000), '5 s');
    assert.equal(formatDuration(600_000), '10 min');
    assert.equal(formatDuration(250), '250 ms');
  });

  it('reads lock-timeout and statement-timeout markers, and refuses bad ones with file:line', () => {
    assert.deepEqual(readMarkers('a.sql', '-- sql-helpers:lock-timeout 30s\n  --sql-helpers: statement-timeout 10min\nSELECT 1;\n'), {
      lockTimeoutMs: 30_000,
      statementTimeoutMs: 600_000,
    });
    // Only a line of its own that starts with -- is a marker.
    assert.deepEqual(readMarkers('a.sql', "SELECT 1; -- sql-helpers:lock-timeout 30s\n/* x\n*/ SELECT '-- sql-helpers:lock-timeout 1s';\n"), {
      lockTimeoutMs: undefined,
      statementTimeoutMs: undefined,
    });
    const refused = (text: string, code: string, line: number, pattern: RegExp) =>
      assert.throws(() => readMarkers('005_x.sql', text), (error: unknown) => {
        assert.ok(error instanceof MigrationFileError);
        assert.equal(error.code, code);
        assert.equal(error.line, line);
        assert.match(error.message, pattern);
        return true;
      });
    refused('SELECT 1;\n-- sql-helpers:lock-timeout 5 seconds\n', 'BAD_MARKER', 2, /^005_x\.sql:2: .*needs a duration.*"5 seconds"/);
    refused('-- sql-helpers:lock-timeout 5s\n-- sql-helpers:lock-timeout 6s\n', 'BAD_MARKER', 2, /given twice/);
    refused('\n\n-- sql-helpers:lock-timout 5s\n', 'UNKNOWN_MARKER', 3, /unknown marker "sql-helpers:lock-timout".*sql-helpers:lock-timeout/);
    refused('-- sql-helpers:no-transaction please\n', 'BAD_MARKER', 1, /takes nothing after it/);
  });

  it('a bad marker stops every command before anything runs, on both dialects', async () => {
    for (const dialect of dialects) {
      const dir = await migrationsDir({ '001_a.sql': 'CREATE TABLE a (id INTEGER);\n', '002_b.sql': '-- sql-helpers:statement-timeout soon\nSELECT 1;\n' });
      const db = new DatabaseManager(dialect === 'sqlite' ? 'sqlite::memory:' : 'postgres://postgres@127.0.0.1:5432/test', dir);
      try {
        await assert.rejects(db.getLatestRevision(), (error: unknown) => error instanceof MigrationFileError && /002_b\.sql:1:/.test(error.message));
      } finally {
        await db.close();
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it('grows each attempt up to the timeout, backs off with jitter, and validates its options', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((attempt) => attemptTimeoutMs(5000, attempt, 5)), [1000, 2000, 3000, 4000, 5000]);
    assert.equal(attemptTimeoutMs(0, 3, 5), 0);
    assert.equal(attemptTimeoutMs(5000, 1, 1), 5000);
    assert.deepEqual([1, 2, 3, 4].map((attempt) => backoffMs(5000, attempt, () => 0.5)), [1000, 2000, 4000, 8000]);
    assert.equal(backoffMs(5000, 1, () => 0), 500);
    assert.equal(backoffMs(5000, 1, () => 0.999), 1499);
    assert.deepEqual(ddlLockPolicy({}), { timeoutMs: 5000, attempts: 5 });
    for (const bad of [{ ddlLockTimeoutMs: -1 }, { ddlLockTimeoutMs: 1.5 }, { ddlLockTimeoutMs: 2 ** 31 }, { ddlLockAttempts: 0 }, { ddlLockAttempts: 101 }]) {
      assert.throws(() => new DatabaseManager('sqlite::memory:', '.', bad), (error: unknown) => error instanceof ConfigurationError && error.code === 'INVALID_OPTION', JSON.stringify(bad));
    }
  });

  it('shows the start of a query with its literals hidden', () => {
    assert.equal(queryExcerpt("ALTER ROLE app PASSWORD 'hunter2'"), "ALTER ROLE app PASSWORD '…'");
    assert.equal(queryExcerpt("SELECT E'it\\'s \\\\', 'a''b', $tag$ secret $tag$, $$x$$, $1\n  FROM t"), "SELECT '…', '…', '…', '…', $1 FROM t");
    assert.equal(queryExcerpt("SELECT 'unterminated secret"), "SELECT '…'");
    const long = queryExcerpt(`SELECT ${'x, '.repeat(100)}1`);
    assert.equal(long.length, 100);
    assert.ok(long.endsWith('…'));
  });
});

for (const dialect of dialects.filter((name): name is Dialect => name === 'sqlite')) {
  describe(`lock timeout markers on ${dialect}`, () => {
    const { setup } = workspaces();
    it('are accepted and change nothing: SQLite has no lock queue (the busy timeout bounds the write lock)', async () => {
      const { db } = await setup(dialect, { '001_a.sql': '-- sql-helpers:lock-timeout 1s\n-- sql-helpers:statement-timeout 1min\nCREATE TABLE a (id INTEGER);\n' }, { ddlLockTimeoutMs: 100, ddlLockAttempts: 2 });
      assert.equal(await db.sync(), 'CREATED');
      assert.deepEqual(await db.query(sql`SELECT count(*) AS n FROM a`), [{ n: 0 }]);
    });
  });
}

if (dialects.includes('postgres')) {
  describe('the lock queue on PostgreSQL: a migration waiting for its lock stalls traffic at most its lock timeout', () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function prepared(): Promise<{ uri: string; dir: string }> {
      const database = await freshPgDatabase();
      const dir = await migrationsDir(SETUP);
      cleanups.push(async () => {
        await database.cleanup();
        await rm(dir, { recursive: true, force: true });
      });
      const db = new DatabaseManager(database.uri, dir);
      await db.sync();
      await db.close();
      for (const [name, content] of Object.entries(ALTER)) await writeFile(join(dir, name), content);
      return { uri: database.uri, dir };
    }

    const sync = (uri: string, dir: string, extra: string[]) => runCli(['sync', '--database', uri, '--dir', dir, ...extra]);

    it('holder commits during the retries: the migration applies once, sync exits 0, SELECTs never stall past the lock timeout', async (t) => {
      const { uri, dir } = await prepared();
      const holder = await holdLock(uri);
      cleanups.push(() => holder.release());
      const stream = selectStream(uri);
      await sleep(200);
      const run = sync(uri, dir, ['--ddl-lock-timeout', '400ms', '--ddl-lock-attempts', '10']);
      await migrationWaiting(uri);
      await sleep(1500);
      await holder.release();
      const result: CliRun = await run;
      const { longestMs, count } = await stream.stop();
      t.diagnostic(`longest SELECT with a 400 ms lock timeout: ${longestMs} ms (${count} SELECTs; the holder kept its lock 1.5 s)`);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stderr, /002_add_note\.sql: lock not granted within \d+ ms \(attempt 1 of 10\); rolled back, retrying in \d+ ms/);
      assert.match(result.stdout + result.stderr, new RegExp(`waiting for AccessExclusiveLock on items, held by pid ${holder.pid} \\(application "${HOLDER}"`));
      assert.match(result.stdout, /applied 002_add_note\.sql/);
      assert.deepEqual(await inspect(uri), { versions: [1, 2], events: 1, noteColumn: true });
      assert.ok(longestMs < 1200, `a SELECT waited ${longestMs} ms, more than the 400 ms lock timeout allows (with slack for a loaded machine)`);
    });

    it('negative control: without a lock timeout every SELECT queues behind the ALTER until the holder ends', async (t) => {
      const { uri, dir } = await prepared();
      const holder = await holdLock(uri);
      cleanups.push(() => holder.release());
      const stream = selectStream(uri);
      await sleep(200);
      const run = sync(uri, dir, ['--ddl-lock-timeout', 'off']);
      await migrationWaiting(uri);
      await sleep(2500);
      await holder.release();
      const result = await run;
      const { longestMs, count } = await stream.stop();
      t.diagnostic(`longest SELECT without a lock timeout: ${longestMs} ms (${count} SELECTs; the holder kept its lock 2.5 s)`);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.ok(longestMs >= 1800, `the SELECTs should have queued behind the ALTER for most of 2.5 s, longest ${longestMs} ms`);
      assert.deepEqual(await inspect(uri), { versions: [1, 2], events: 1, noteColumn: true });
    });

    it('holder never finishes: sync fails naming its pid and application, and nothing of the migration remains', async () => {
      const { uri, dir } = await prepared();
      const holder = await holdLock(uri);
      cleanups.push(() => holder.release());
      const text = await sync(uri, dir, ['--ddl-lock-timeout', '300ms', '--ddl-lock-attempts', '3']);
      assert.equal(text.code, 1, text.stdout + text.stderr);
      assert.match(text.stderr, /^error: 002_add_note\.sql: could not get AccessExclusiveLock on items within 300 ms on each of 3 attempts \(each attempt was rolled back/m);
      assert.match(text.stderr, new RegExp(`held by pid ${holder.pid} \\(application "${HOLDER}"; user \\w+; idle in transaction, in its transaction for \\d+ s; holding AccessShareLock\\)`));
      assert.match(text.stderr, /query: "SELECT count\(\*\) FROM items WHERE label <> '…'"/);
      assert.doesNotMatch(text.stderr, /secret-literal/);
      assert.match(text.stderr, new RegExp(`pg_terminate_backend\\(${holder.pid}\\)`));
      assert.match(text.stderr, /\[DDL_LOCK_TIMEOUT\]$/m);

      // Long enough for the watcher's first look (a connection of its own, then a query) on a loaded CI machine:
      // with 200 ms it sometimes had not looked yet, and the report rightly said it could not name the holder.
      const json = await sync(uri, dir, ['--ddl-lock-timeout', '1s', '--ddl-lock-attempts', '1', '--json']);
      const error = (JSON.parse(json.stdout) as { error: { code: string; file: string; version: number; lockWait: { relation: string; blockers: Array<{ pid: number; applicationName: string }> } } }).error;
      assert.equal(error.code, 'DDL_LOCK_TIMEOUT');
      assert.equal(error.file, '002_add_note.sql');
      assert.equal(error.version, 2);
      assert.equal(error.lockWait.relation, 'items');
      assert.deepEqual(error.lockWait.blockers.map((blocker) => [blocker.pid, blocker.applicationName]), [[holder.pid, HOLDER]]);
      assert.deepEqual(await inspect(uri), { versions: [1], events: 0, noteColumn: false });
    });

    it('the manager throws a DdlLockTimeoutError with the file, version and blocker; a file marker overrides the timeout', async () => {
      const { uri, dir } = await prepared();
      await writeFile(join(dir, '002_add_note.sql'), `-- sql-helpers:lock-timeout 150ms\n${ALTER['002_add_note.sql']}`);
      const holder = await holdLock(uri);
      cleanups.push(() => holder.release());
      const lines: string[] = [];
      const db = new DatabaseManager(uri, dir, { ddlLockTimeoutMs: 60_000, ddlLockAttempts: 2, logger: { info: (line) => lines.push(line), warn: (line) => lines.push(line) } });
      cleanups.push(() => db.close());
      const started = performance.now();
      await assert.rejects(db.sync(), (error: unknown) => {
        assert.ok(error instanceof DdlLockTimeoutError, String(error));
        assert.equal(error.version, 2);
        assert.equal(error.file, '002_add_note.sql');
        assert.equal(error.line, undefined, 'PostgreSQL does not say which statement of a file timed out');
        assert.equal(error.sqlState, '55P03');
        assert.equal(error.attempts, 2);
        assert.equal(error.lockWait?.blockers[0]?.pid, holder.pid);
        return true;
      });
      assert.ok(performance.now() - started < 5000, 'the file marker, not the 60 s option, set the timeout');
      assert.equal(lines.filter((line) => /lock not granted within 75 ms \(attempt 1 of 2\)/.test(line)).length, 1, lines.join('\n'));
    });

    it('a statement-timeout marker bounds a slow migration, which is not retried', async () => {
      const { uri, dir } = await prepared();
      await writeFile(join(dir, '002_add_note.sql'), '-- sql-helpers:statement-timeout 200ms\nSELECT pg_sleep(2);\n');
      const result = await sync(uri, dir, []);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /002_add_note\.sql:2:1: canceling statement due to statement timeout/);
      assert.doesNotMatch(result.stderr, /retrying/);
    });

    it('a no-transaction file gets the timeout per statement and is not retried', async () => {
      const { uri, dir } = await prepared();
      await writeFile(join(dir, '002_add_note.sql'), '-- sql-helpers:no-transaction\nINSERT INTO events (version) VALUES (2);\nALTER TABLE items ADD COLUMN note TEXT;\n');
      const holder = await holdLock(uri);
      cleanups.push(() => holder.release());
      const run = sync(uri, dir, ['--ddl-lock-timeout', '300ms']);
      if (TOPOLOGY === 'pgbouncer') {
        // Through a transaction pooler the file runs without the timeout (a session SET would leak to application
        // connections): it waits for the holder, and says so.
        await migrationWaiting(uri);
        await sleep(600);
        await holder.release();
        const result = await run;
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stderr, /002_add_note\.sql: it runs outside a transaction through a transaction pooler.*runs without lock_timeout\/statement_timeout; give migrations a direct connection/);
        assert.deepEqual(await inspect(uri), { versions: [1, 2], events: 1, noteColumn: true });
        return;
      }
      const result = await run;
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stderr, /002_add_note\.sql:3:1: could not get AccessExclusiveLock on items within 300 ms \(statements before it .* stay applied, the version was not recorded, and it was not retried/);
      assert.match(result.stderr, new RegExp(`pid ${holder.pid}`));
      assert.doesNotMatch(result.stderr, /retrying/);
      assert.deepEqual(await inspect(uri), { versions: [1], events: 1, noteColumn: false });
    });

    it('12 concurrent sync processes with retries apply the migration exactly once', async () => {
      const { uri, dir } = await prepared();
      const holder = await holdLock(uri);
      cleanups.push(() => holder.release());
      const runs = Array.from({ length: 12 }, () => sync(uri, dir, ['--ddl-lock-timeout', '300ms', '--ddl-lock-attempts', '20', '--json']));
      await migrationWaiting(uri);
      await sleep(1200);
      await holder.release();
      const results = await Promise.all(runs);
      for (const [index, result] of results.entries()) assert.equal(result.code, 0, `process ${index}: ${result.stdout} ${result.stderr}`);
      const applied = results.flatMap((result) => (JSON.parse(result.stdout) as { applied: Array<{ version: number }> }).applied.map((run) => run.version));
      assert.deepEqual(applied, [2]);
      assert.deepEqual(await inspect(uri), { versions: [1, 2], events: 1, noteColumn: true });
    });
  });
}
