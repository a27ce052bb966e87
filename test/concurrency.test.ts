import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseManager, SyncResult, identifier, sql, type Dialect } from '../lib/index.js';
import { checksumOf } from '../lib/migrations/files.js';
import { BASIC_MIGRATIONS, admin, dialects, freshDatabase, directUri, freshPgDatabase, migrationsDir, runCli, type CliRun } from './support.js';

const PROCESSES = 12;
const MIGRATIONS = 40;
const ALL_VERSIONS = Array.from({ length: MIGRATIONS }, (_, index) => index + 1);

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env });

const pad = (version: number) => String(version).padStart(3, '0');

/**
 * Forty migrations: the first is slow (so racing processes overlap) and creates the `events` table; every
 * migration inserts one row into `events` (no unique key: a second run of a file would show as a duplicate row),
 * some create a table of their own with a row in it, some hold several statements.
 */
function raceMigrations(slowSql: string): Record<string, string> {
  const files: Record<string, string> = {
    '001_events.sql': 'CREATE TABLE events (version INTEGER NOT NULL, note TEXT NOT NULL);\n',
  };
  // The dialect variants win over 001_events.sql; the plain file only documents the shape.
  for (const variant of ['postgres', 'sqlite'] as const) {
    files[`001_events.${variant}.sql`] =
      'CREATE TABLE events (version INTEGER NOT NULL, note TEXT NOT NULL);\n' +
      `${variant === 'postgres' ? 'SELECT pg_sleep(0.4);' : slowSql}\n` +
      "INSERT INTO events (version, note) VALUES (1, 'events');\n";
  }
  for (let version = 2; version <= MIGRATIONS; version++) {
    const name = `${pad(version)}_step_${version}`;
    if (version === 6) {
      files[`${name}.postgres.sql`] = `SELECT pg_sleep(0.2);\nINSERT INTO events (version, note) VALUES (${version}, 'slow');\n`;
      files[`${name}.sqlite.sql`] = `${slowSql}\nINSERT INTO events (version, note) VALUES (${version}, 'slow');\n`;
    } else if (version % 2 === 0) {
      files[`${name}.sql`] =
        `CREATE TABLE table_${version} (id INTEGER PRIMARY KEY, label TEXT NOT NULL);\n` +
        `INSERT INTO table_${version} (id, label) VALUES (1, 'row ${version}');\n` +
        `INSERT INTO events (version, note) VALUES (${version}, 'table');\n`;
    } else {
      files[`${name}.sql`] = `-- data only\nINSERT INTO events (version, note) VALUES (${version}, 'data');\n`;
    }
  }
  return files;
}

// About 0.3 s of work on an idle core: SQLite has no sleep function.
const SQLITE_SLOW = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c;';

interface Target {
  uri: string;
  cleanup(): Promise<void>;
}

async function freshTarget(dialect: Dialect): Promise<Target> {
  if (dialect === 'postgres') return freshPgDatabase();
  const folder = await mkdtemp(join(tmpdir(), 'sql-helpers-race-'));
  return { uri: `sqlite://${join(folder, 'race.db')}`, cleanup: () => rm(folder, { recursive: true, force: true }) };
}

interface SyncDocument {
  result?: string;
  applied?: Array<{ version: number; name: string; file: string; durationMs: number }>;
  error?: { code: string; message: string };
}

interface RaceOutcome {
  runs: CliRun[];
  documents: Array<SyncDocument | undefined>;
  /** Versions in the applied lists of every process, duplicates kept. */
  appliedVersions: number[];
  recordedVersions: number[];
  /** (version, count) of the rows in `events`. */
  eventCounts: Map<number, number>;
  tableRows: Map<number, number>;
}

async function inspect(uri: string, dir: string): Promise<Pick<RaceOutcome, 'recordedVersions' | 'eventCounts' | 'tableRows'>> {
  const db = new DatabaseManager(uri, dir);
  try {
    const versionRows = await db
      .query<{ version: string | number }>(sql`SELECT version FROM ${identifier('sql_helpers_migrations')} ORDER BY version`)
      .catch(() => []);
    const eventCounts = new Map<number, number>();
    const tableRows = new Map<number, number>();
    const events = await db.query<{ version: string | number; n: string | number }>(
      sql`SELECT version, count(*) AS n FROM events GROUP BY version ORDER BY version`,
    ).catch(() => []);
    for (const row of events) eventCounts.set(Number(row.version), Number(row.n));
    for (let version = 2; version <= MIGRATIONS; version += 2) {
      if (version === 6) continue;
      const rows = await db.query<{ n: string | number }>(sql`SELECT count(*) AS n FROM ${identifier(`table_${version}`)}`).catch(() => [{ n: -1 }]);
      tableRows.set(version, Number(rows[0]?.n));
    }
    return { recordedVersions: versionRows.map((row) => Number(row.version)), eventCounts, tableRows };
  } finally {
    await db.close();
  }
}

/** Advisory locks held on `uri`'s database by any backend, pooled server connections included. */
async function advisoryLocksHeld(uri: string): Promise<number> {
  const { rows } = await admin(
    `SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory' AND granted
       AND database = (SELECT oid FROM pg_database WHERE datname = '${new URL(uri).pathname.slice(1)}')`,
  );
  return rows[0].held as number;
}

/** Starts PROCESSES `sync --json` at once on one fresh database and collects what each said and what the database holds. */
async function race(uri: string, dir: string, extraEnv: Record<string, string> = {}): Promise<RaceOutcome> {
  const runs = await Promise.all(Array.from({ length: PROCESSES }, () => cli(['sync', '--json', '--database', uri, '--dir', dir], extraEnv)));
  const documents = runs.map((run) => {
    try {
      return JSON.parse(run.stdout) as SyncDocument;
    } catch {
      return undefined;
    }
  });
  const appliedVersions = documents.flatMap((document) => document?.applied?.map((run) => run.version) ?? []);
  return { runs, documents, appliedVersions, ...(await inspect(uri, dir)) };
}

/** What went wrong in a race, or [] when every promise of the spec held. */
function problems(outcome: RaceOutcome): string[] {
  const found: string[] = [];
  outcome.runs.forEach((run, index) => {
    const error = outcome.documents[index]?.error;
    if (run.code !== 0) found.push(`process ${index} exited ${run.code}: ${error ? `${error.code}: ${error.message}` : run.stderr.trim()}`);
    if (outcome.documents[index] === undefined) found.push(`process ${index} printed no JSON document: ${JSON.stringify(run.stdout)}`);
  });
  const seen = new Map<number, number>();
  for (const version of outcome.appliedVersions) seen.set(version, (seen.get(version) ?? 0) + 1);
  for (const [version, count] of seen) if (count > 1) found.push(`version ${version} applied by ${count} processes`);
  for (const [version, count] of outcome.eventCounts) if (count !== 1) found.push(`events holds ${count} rows of version ${version}`);
  for (const [version, count] of outcome.tableRows) if (count !== 1) found.push(`table_${version} holds ${count} rows`);
  return found;
}

for (const dialect of dialects) {
  describe(`concurrent sync processes on ${dialect}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setup(): Promise<{ uri: string; dir: string }> {
      const target = await freshTarget(dialect);
      const dir = await migrationsDir(raceMigrations(SQLITE_SLOW));
      cleanups.push(async () => {
        await target.cleanup();
        await rm(dir, { recursive: true, force: true });
      });
      return { uri: target.uri, dir };
    }

    it(`${PROCESSES} processes syncing one fresh database apply every migration exactly once, and none fails`, async () => {
      const { uri, dir } = await setup();
      const outcome = await race(uri, dir);

      assert.deepEqual(problems(outcome), []);
      for (const [index, run] of outcome.runs.entries()) {
        assert.equal(run.code, 0, `process ${index}: ${run.stdout} ${run.stderr}`);
        assert.equal(run.stderr, '', `process ${index} wrote to stderr`);
      }
      const results = outcome.documents.map((document) => document?.result);
      assert.equal(results.filter((result) => result === 'CREATED').length, 1, `results: ${results.join(', ')}`);
      for (const result of results) assert.ok(result === 'CREATED' || result === 'ALREADY_UP_TO_DATE' || result === 'UPGRADED', `result ${result}`);
      // The creator applied everything; nobody else applied anything.
      const creator = outcome.documents.find((document) => document?.result === 'CREATED');
      assert.deepEqual(creator?.applied?.map((run) => run.version), ALL_VERSIONS);
      assert.equal(creator?.applied?.[0]?.file, `001_events.${dialect}.sql`, 'the dialect variant wins over the plain file');
      assert.deepEqual([...outcome.appliedVersions].sort((a, b) => a - b), ALL_VERSIONS);

      assert.deepEqual(outcome.recordedVersions, ALL_VERSIONS);
      assert.deepEqual([...outcome.eventCounts.entries()], ALL_VERSIONS.map((version) => [version, 1]));
      assert.deepEqual([...outcome.tableRows.values()], Array.from(outcome.tableRows.keys(), () => 1));
      assert.equal(outcome.tableRows.size, MIGRATIONS / 2 - 1);
      if (dialect === 'postgres') assert.equal(await advisoryLocksHeld(uri), 0, 'no backend still holds an advisory lock');

      // And a later process finds nothing to do.
      const again = await cli(['sync', '--json', '--database', uri, '--dir', dir]);
      assert.equal(again.code, 0);
      assert.deepEqual(JSON.parse(again.stdout), { command: 'sync', database: uri, dir, ok: true, exitCode: 0, result: 'ALREADY_UP_TO_DATE', applied: [] });
    });

    it('negative control: without the migration lock the same race is caught', async (t) => {
      const attempts: string[][] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const { uri, dir } = await setup();
        const outcome = await race(uri, dir, { SQL_HELPERS_UNSAFE_NO_MIGRATION_LOCK: '1' });
        const found = problems(outcome);
        attempts.push(found);
        if (found.length > 0) break;
      }
      const caught = attempts.find((found) => found.length > 0) ?? [];
      t.diagnostic(`unlocked race caught on attempt ${attempts.length}: ${caught.length} problem(s), e.g. ${caught.slice(0, 3).join(' | ')}`);
      assert.ok(
        attempts.some((found) => found.length > 0),
        `${attempts.length} unlocked races showed no problem: the harness cannot tell a missing lock`,
      );
    });
  });
}

describe('waiting for the migration lock', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('on PostgreSQL, a sync with --lock-timeout 200 gives up with LOCK_TIMEOUT while another process migrates', async () => {
    const database = await freshPgDatabase();
    const dir = await migrationsDir({
      '001_slow.sql': 'SELECT pg_sleep(3);\nCREATE TABLE slow (id INTEGER PRIMARY KEY);\n',
      '002_after.sql': 'CREATE TABLE after_slow (id INTEGER PRIMARY KEY);\n',
    });
    cleanups.push(async () => {
      await database.cleanup();
      await rm(dir, { recursive: true, force: true });
    });
    const holder = cli(['sync', '--database', database.uri, '--dir', dir]);

    // Wait until the holder has the advisory lock of that database.
    const client = new pg.Client({ connectionString: database.uri });
    await client.connect();
    try {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await client.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        );
        if (Number(rows[0]?.n) > 0) break;
        assert.ok(Date.now() < deadline, 'the first process never took the migration lock');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await client.end();
    }

    const [json, text] = await Promise.all([
      cli(['sync', '--json', '--lock-timeout', '200', '--database', database.uri, '--dir', dir]),
      cli(['upgrade', '--lock-timeout', '200', '--database', database.uri, '--dir', dir]),
    ]);
    assert.equal(json.code, 1, json.stdout);
    const document = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    assert.equal(document.error.code, 'LOCK_TIMEOUT');
    assert.match(document.error.message, /lock/);
    assert.match(document.error.message, /200 ms/);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stderr, /migration lock.*\[LOCK_TIMEOUT\]/);
    assert.doesNotMatch(text.stderr, /^\s+at /m);

    // They gave up while the holder was still at work: it finishes normally.
    const first = await holder;
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /applied 001_slow\.sql in \d+ ms/);
    assert.match(first.stdout, /applied 002_after\.sql in \d+ ms/);
    const after = await inspect(database.uri, dir).catch(() => undefined);
    assert.deepEqual(after?.recordedVersions, [1, 2]);
  });

  it('on SQLite, a sync with --lock-timeout 200 gives up with LOCK_TIMEOUT while another connection holds the write lock', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'sql-helpers-lock-'));
    const dir = await migrationsDir({ '001_t.sql': 'CREATE TABLE t (id INTEGER PRIMARY KEY);\n' });
    const file = join(folder, 'lock.db');
    const holder = new Database(file);
    cleanups.push(async () => {
      if (holder.open) holder.close();
      await rm(folder, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    });
    holder.pragma('journal_mode = WAL');
    holder.exec('BEGIN IMMEDIATE');

    const blocked = await cli(['sync', '--json', '--lock-timeout', '200', '--database', `sqlite://${file}`, '--dir', dir]);
    assert.equal(blocked.code, 1, blocked.stdout);
    const document = JSON.parse(blocked.stdout) as { error: { code: string; message: string } };
    assert.equal(document.error.code, 'LOCK_TIMEOUT');
    assert.match(document.error.message, /lock/);

    holder.exec('ROLLBACK');
    holder.close();
    const free = await cli(['sync', '--json', '--lock-timeout', '200', '--database', `sqlite://${file}`, '--dir', dir]);
    assert.equal(free.code, 0, free.stdout);
    assert.equal((JSON.parse(free.stdout) as SyncDocument).result, 'CREATED');
  });
});

describe('a waiting sync on postgres', () => {
  it('returns ALREADY_UP_TO_DATE without the lock once the lock holder has applied everything', async () => {
    const database = await freshDatabase('postgres');
    const dir = await migrationsDir(BASIC_MIGRATIONS);
    const schema = database.options.schema ?? null;
    const first = new DatabaseManager(database.uri, dir, { ...database.options });
    await first.upgrade(2);
    const holder = new pg.Client({ connectionString: directUri(database.uri) });
    await holder.connect();
    const waiter = new DatabaseManager(database.uri, dir, { ...database.options, lockTimeoutMs: 10_000 });
    try {
      const key = sql`hashtextextended('sql-helpers:' || current_database() || ':' || coalesce(${schema}::text, current_schema()) || ':' || ${'sql_helpers_migrations'}::text, 0)`;
      const lock = sql`SELECT pg_advisory_lock(${key})`;
      await holder.query(lock.text, lock.values);
      const waiting = waiter.sync();
      await sleep(150);
      // The "other process" applies migration 3 while it keeps holding the lock.
      const body = BASIC_MIGRATIONS['003_memberships.sql']!;
      if (schema !== null) await holder.query(`SET search_path TO "${schema}"`);
      await holder.query(body);
      await holder.query(
        'INSERT INTO sql_helpers_migrations (version, name, checksum, applied_at, duration_ms) VALUES (3, $1, $2, now(), 1)',
        ['memberships', checksumOf(body)],
      );
      assert.equal(await waiting, SyncResult.ALREADY_UP_TO_DATE);
      const { rows } = await holder.query(
        "SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted",
      );
      assert.equal(rows[0].held, 1, 'the holder still holds the lock: the waiter never took it');
    } finally {
      await holder.end();
      await first.close();
      await waiter.close();
      await database.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
