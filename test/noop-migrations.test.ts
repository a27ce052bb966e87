import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { DatabaseStatus, MigrationStateError, SyncResult, sql, type DatabaseManager } from '../lib/index.js';
import { checksumOf } from '../lib/migrations/files.js';
import { dialects, recordedVersions, runCli, tableNames, workspaces } from './support.js';

/**
 * A history like the ones real projects ship: placeholders, down files with nothing to undo, a version
 * that does nothing on SQLite, one that exists on PostgreSQL only (no-transaction), and one for SQLite
 * alone at the top.
 */
const HISTORY: Record<string, string> = {
  '001_users.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n',
  '001_users.down.sql': 'DROP TABLE users;\n',
  '002_placeholder.sql': '-- generated to ensure that all dialects are represented\n',
  '002_placeholder.down.sql': '',
  '003_bigint.postgres.sql': 'ALTER TABLE users ALTER COLUMN id TYPE BIGINT;\n',
  '003_bigint.sqlite.sql': "-- Integer size in SQLite is already i64, so we don't need to do anything\n",
  '003_bigint.down.sql': '-- This file should undo anything in up.sql\n',
  '004_email_index.postgres.sql': '-- sql-helpers:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email);\n',
  '004_email_index.postgres.down.sql': 'DROP INDEX users_email;\n',
  '005_bom.sql': '\uFEFF/* nothing; really */\r\n-- still nothing\r\n\r\n',
  '005_bom.down.sql': '   \n\t\n',
  '006_fts.sqlite.sql': 'CREATE TABLE lite_only (id INTEGER PRIMARY KEY);\n',
  '006_fts.sqlite.down.sql': 'DROP TABLE lite_only;\n',
};

/** Per dialect, which versions run nothing. */
const NOOPS = { sqlite: [2, 3, 4, 5], postgres: [2, 5, 6] };

async function hasIndex(db: DatabaseManager, name: string): Promise<boolean> {
  if (db.dialect === 'sqlite') return (await db.query(sql`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ${name}`)).length > 0;
  return (await db.query(sql`SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${name}`)).length > 0;
}

for (const dialect of dialects) {
  describe(`no-op and single-dialect migrations on ${dialect}`, () => {
    const { setup, tempDir } = workspaces();

    it('sync applies and records every version, the no-ops included; status, listing and verify agree', async () => {
      const { db } = await setup(dialect, HISTORY);
      assert.equal(await db.getLatestRevision(), 6, 'both databases see the same latest revision');
      assert.equal(await db.sync(), SyncResult.CREATED);
      assert.deepEqual(await recordedVersions(db), [1, 2, 3, 4, 5, 6]);
      assert.equal(await db.getCurrentRevision(), 6);
      assert.equal(await db.getStatus(), DatabaseStatus.UP_TO_DATE);
      assert.deepEqual(await db.verify(), { ok: true, problems: [] });
      assert.equal(await db.sync(), SyncResult.ALREADY_UP_TO_DATE);

      const listing = await db.listMigrations();
      assert.deepEqual(listing.filter((entry) => entry.noop).map((entry) => entry.version), NOOPS[dialect]);
      assert.ok(listing.every((entry) => entry.state === 'applied'));
      // A no-op is checksummed like any file: the recorded checksum is its text's (BOM and CRLF ignored).
      const [row] = await db.query<{ checksum: string }>(sql`SELECT checksum FROM sql_helpers_migrations WHERE version = 5`);
      assert.equal(row?.checksum, checksumOf(HISTORY['005_bom.sql']!));

      const tables = await tableNames(db);
      assert.equal(tables.includes('lite_only'), dialect === 'sqlite');
      assert.equal(await hasIndex(db, 'users_email'), dialect === 'postgres');
    });

    it('editing a no-op after it was applied is drift, like any file', async () => {
      const { db, dir, open } = await setup(dialect, HISTORY);
      await db.sync();
      await writeFile(`${dir}/002_placeholder.sql`, '-- generated to ensure that all dialects are represented (edited)\n');
      const report = await open().verify();
      assert.deepEqual(report.problems.map((problem) => [problem.code, problem.version]), [['CHECKSUM_MISMATCH', 2]]);
    });

    it('downgrades through no-op down files (removing their rows) and syncs again', async () => {
      const { db } = await setup(dialect, HISTORY);
      await db.sync();
      const reverted = await db.downgrade(1);
      assert.deepEqual(reverted.map((run) => run.version), [6, 5, 4, 3, 2]);
      assert.deepEqual(await recordedVersions(db), [1]);
      assert.equal(await hasIndex(db, 'users_email'), false);
      assert.ok(!(await tableNames(db)).includes('lite_only'));
      assert.equal(await db.getStatus(), DatabaseStatus.UPGRADE_AVAILABLE);
      await db.downgrade(0);
      assert.deepEqual(await recordedVersions(db), []);
      assert.deepEqual(await tableNames(db), ['sql_helpers_migrations']);
      assert.equal(await db.sync(), SyncResult.CREATED);
      assert.deepEqual(await recordedVersions(db), [1, 2, 3, 4, 5, 6]);
    });

    it('a no-op without a down file still blocks a downgrade through it (negative control)', async () => {
      const files = { ...HISTORY };
      delete files['005_bom.down.sql'];
      const { db } = await setup(dialect, files);
      await db.sync();
      await assert.rejects(db.downgrade(4), (error: MigrationStateError) => error.code === 'MISSING_DOWN' && error.versions.includes(5));
      assert.deepEqual(await recordedVersions(db), [1, 2, 3, 4, 5, 6]);
    });

    it('stamps no-ops and single-dialect versions, then upgrades step by step through them', async () => {
      const { db } = await setup(dialect, HISTORY);
      assert.deepEqual(await db.stamp(2), [1, 2]);
      assert.deepEqual((await db.listMigrations()).map((entry) => entry.state), ['applied', 'applied', 'pending', 'pending', 'pending', 'pending']);
      await db.query(sql`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)`);
      for (const target of [3, 4, 5, 6]) {
        const runs = await db.upgrade(target);
        assert.deepEqual(runs.map((run) => run.version), [target]);
      }
      assert.equal(await db.getStatus(), DatabaseStatus.UP_TO_DATE);
    });

    it('a history of hundreds of comment-only files, single-dialect and no-transaction versions applies', async () => {
      const files: Record<string, string> = {};
      for (let version = 1; version <= 300; version++) {
        const base = `${String(version).padStart(4, '0')}_step_${version}`;
        if (version % 5 === 0) files[`${base}.sql`] = `CREATE TABLE t${version} (id INTEGER PRIMARY KEY);\n`;
        else if (version % 5 === 1) files[`${base}.sql`] = `-- step ${version}: nothing on purpose\n`;
        else if (version % 5 === 2) files[`${base}.postgres.sql`] = `-- sql-helpers:no-transaction\nCREATE TABLE p${version} (id INTEGER);\n`;
        else if (version % 5 === 3) files[`${base}.sqlite.sql`] = `CREATE TABLE s${version} (id INTEGER);\n`;
        else files[`${base}.sql`] = '';
        if (version % 5 === 2) files[`${base}.postgres.down.sql`] = `DROP TABLE p${version};\n`;
        else if (version % 5 === 3) files[`${base}.sqlite.down.sql`] = `DROP TABLE s${version};\n`;
        else files[`${base}.down.sql`] = version % 5 === 0 ? `DROP TABLE t${version};\n` : '-- nothing to undo\n';
      }
      const { db } = await setup(dialect, files);
      assert.equal(await db.sync(), SyncResult.CREATED);
      assert.equal((await recordedVersions(db)).length, 300);
      const tables = await tableNames(db);
      assert.equal(tables.filter((name) => /^t\d+$/.test(name)).length, 60);
      assert.equal(tables.filter((name) => /^p\d+$/.test(name)).length, dialect === 'postgres' ? 60 : 0);
      assert.equal(tables.filter((name) => /^s\d+$/.test(name)).length, dialect === 'sqlite' ? 60 : 0);
      await db.downgrade(0);
      assert.deepEqual(await tableNames(db), ['sql_helpers_migrations']);
    });

    it('the CLI: `new` then status, verify, stamp and sync work on the fresh comment-only file', async () => {
      const { database } = await setup(dialect, {});
      const dir = await tempDir();
      const cli = (...args: string[]) => runCli([...args, '--dir', dir, '--database', database.uri, ...database.cliArgs]);
      assert.equal((await cli('new', 'add thing', '--down')).code, 0);
      assert.deepEqual((await readdir(dir)).sort(), ['001_add_thing.down.sql', '001_add_thing.sql']);
      const status = await cli('status');
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /1\s+add_thing\s+pending \(no-op\)/);
      const json = JSON.parse((await cli('status', '--json')).stdout) as { migrations: Array<{ noop: boolean }> };
      assert.equal(json.migrations[0]?.noop, true);
      assert.equal((await cli('verify')).code, 0);
      const stamp = await cli('stamp', 'head');
      assert.equal(stamp.code, 0, stamp.stderr);
      assert.match(stamp.stdout, /stamped 1 version\(s\): 1/);
      assert.equal((await cli('downgrade', '0')).code, 0);
      const sync = await cli('sync');
      assert.equal(sync.code, 0, sync.stderr);
      assert.match(sync.stdout, /applied 001_add_thing\.sql/);
      assert.equal((await cli('status', '--check')).code, 0);
    });
  });
}
