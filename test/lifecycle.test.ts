import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ConnectionError,
  DatabaseManager,
  DatabaseStatus,
  MigrationError,
  MigrationFileError,
  MigrationStateError,
  SyncResult,
  sql,
  type DatabaseManagerOptions,
} from '../lib/index.js';
import { BASIC_MIGRATIONS, dialects, freshDatabase, migrationsDir, recordedVersions, tableNames, workspaces } from './support.js';

for (const dialect of dialects) {
  describe(`schema lifecycle on ${dialect}`, () => {
    const { setup: fresh, cleanups } = workspaces();
    const setup = (files: Record<string, string> = BASIC_MIGRATIONS, options: DatabaseManagerOptions = {}) => fresh(dialect, files, options);

    const versions = (db: DatabaseManager) => recordedVersions(db);

    it('goes NO_INFO → CREATED → UP_TO_DATE → UPGRADE_AVAILABLE → UPGRADED → ALREADY_UP_TO_DATE, and drops twice', async () => {
      const { db, dir } = await setup();
      assert.equal(await db.getStatus(), DatabaseStatus.NO_INFO);
      assert.equal(await db.getCurrentRevision(), null);
      assert.equal(await db.getLatestRevision(), 3);

      assert.equal(await db.sync(), SyncResult.CREATED);
      assert.equal(await db.getStatus(), DatabaseStatus.UP_TO_DATE);
      assert.equal(await db.getCurrentRevision(), 3);
      assert.deepEqual(await tableNames(db), ['groups', 'memberships', 'sql_helpers_migrations', 'users']);

      await writeFile(join(dir, '004_posts.sql'), 'CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\n');
      assert.equal(await db.getLatestRevision(), 4);
      assert.equal(await db.getStatus(), DatabaseStatus.UPGRADE_AVAILABLE);
      assert.equal(await db.sync(), SyncResult.UPGRADED);
      assert.equal(await db.getCurrentRevision(), 4);
      assert.equal(await db.sync(), SyncResult.ALREADY_UP_TO_DATE);
      assert.equal(await db.getStatus(), DatabaseStatus.UP_TO_DATE);

      await db.drop();
      assert.deepEqual(await tableNames(db), []);
      assert.equal(await db.getStatus(), DatabaseStatus.NO_INFO);
      await db.drop();
      assert.equal(await db.sync(), SyncResult.CREATED);
    });

    it('records version, name, checksum, applied time and duration', async () => {
      const { db } = await setup();
      const before = Date.now();
      await db.sync();
      const rows = await db.query<Record<string, unknown>>(sql`SELECT * FROM sql_helpers_migrations ORDER BY version`);
      assert.equal(rows.length, 3);
      assert.deepEqual(Object.keys(rows[0]!).sort(), ['applied_at', 'checksum', 'duration_ms', 'name', 'version']);
      assert.equal(rows[0]!.name, 'users');
      assert.match(String(rows[0]!.checksum), /^[0-9a-f]{64}$/);
      assert.ok(new Date(rows[0]!.applied_at as string).getTime() >= before - 1000);
      assert.ok(Number(rows[0]!.duration_ms) >= 0);
    });

    it('reports a database ahead of its files as AHEAD, never as upgradable, and refuses to sync it', async () => {
      const { db, open } = await setup();
      await db.sync();
      const older = await migrationsDir({ '001_users.sql': BASIC_MIGRATIONS['001_users.sql']!, '002_groups.sql': BASIC_MIGRATIONS['002_groups.sql']! });
      cleanups.push(() => rm(older, { recursive: true, force: true }));
      const oldCode = open(older);
      assert.equal(await oldCode.getStatus(), DatabaseStatus.AHEAD);
      await assert.rejects(oldCode.sync(), (error: MigrationStateError) => error.code === 'DATABASE_AHEAD' && /newer than every file/.test(error.message));
      assert.deepEqual((await oldCode.verify()).problems.map((problem) => problem.code), ['DATABASE_AHEAD']);
    });

    it('rolls a failing migration back entirely, names file, line and column, then applies the fixed file', async () => {
      const { db, dir } = await setup({
        '001_users.sql': BASIC_MIGRATIONS['001_users.sql']!,
        '002_broken.sql': 'CREATE TABLE half_done (id INTEGER);\nINSERT INTO half_done VALUES (1);\nSELEC oops FROM nowhere;\n',
      });
      const error = await db.sync().then(
        () => assert.fail('sync should fail'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof MigrationError, String(error));
      assert.equal(error.code, 'MIGRATION_FAILED');
      assert.equal(error.file, '002_broken.sql');
      assert.equal(error.version, 2);
      assert.equal(error.line, 3);
      assert.equal(error.columnNumber, 1);
      assert.match(error.message, /^002_broken\.sql:3:1: .*syntax error/);
      assert.ok(error.cause, 'keeps the driver error as cause');
      // Migration 1 is applied and recorded; nothing of migration 2 remains.
      assert.deepEqual(await versions(db), [1]);
      assert.ok(!(await tableNames(db)).includes('half_done'));

      await writeFile(join(dir, '002_broken.sql'), 'CREATE TABLE half_done (id INTEGER);\nINSERT INTO half_done VALUES (1);\n');
      assert.equal(await db.sync(), SyncResult.UPGRADED);
      assert.deepEqual(await versions(db), [1, 2]);
      assert.deepEqual(await db.query(sql`SELECT id FROM half_done`), [{ id: 1 }]);
    });

    it('rolls back a runtime error in the middle of a multi-statement file', async () => {
      const { db } = await setup({
        '001_users.sql': BASIC_MIGRATIONS['001_users.sql']!,
        '002_seed.sql': "INSERT INTO users (id, email) VALUES (1, 'a@x');\nINSERT INTO users (id, email) VALUES (2, 'a@x');\nINSERT INTO users (id, email) VALUES (3, 'c@x');\n",
      });
      await assert.rejects(db.sync(), (error: MigrationError) => error instanceof MigrationError && error.file === '002_seed.sql' && /unique/i.test(error.message));
      assert.deepEqual(await db.query(sql`SELECT id FROM users`), []);
      assert.deepEqual(await versions(db), [1]);
    });

    it('refuses an edited applied file before running anything, and accepts a CRLF-only change', async () => {
      const { db, dir } = await setup();
      await db.sync();
      await writeFile(join(dir, '001_users.sql'), BASIC_MIGRATIONS['001_users.sql']!.replace(/\n/g, '\r\n'));
      await writeFile(join(dir, '004_posts.sql'), 'CREATE TABLE posts (id INTEGER PRIMARY KEY);\n');
      assert.equal(await db.sync(), SyncResult.UPGRADED, 'CRLF and LF copies have one checksum');

      await writeFile(join(dir, '001_users.sql'), 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n');
      await writeFile(join(dir, '005_tags.sql'), 'CREATE TABLE tags (id INTEGER PRIMARY KEY);\n');
      await assert.rejects(db.sync(), (error: MigrationStateError) => error.code === 'CHECKSUM_MISMATCH' && /001_users\.sql was changed/.test(error.message));
      await assert.rejects(db.upgrade(), (error: MigrationStateError) => error.code === 'CHECKSUM_MISMATCH');
      assert.ok(!(await tableNames(db)).includes('tags'), 'the pending migration did not run');
      const report = await db.verify();
      assert.equal(report.ok, false);
      assert.deepEqual(report.problems.map((problem) => [problem.code, problem.version]), [['CHECKSUM_MISMATCH', 1]]);
      const listing = await db.listMigrations();
      assert.deepEqual(listing.map((entry) => [entry.version, entry.state]), [[1, 'changed'], [2, 'applied'], [3, 'applied'], [4, 'applied'], [5, 'pending']]);
    });

    it('refuses a deleted applied file and an out-of-order pending file, unless out-of-order is allowed', async () => {
      const { db, dir, open } = await setup({
        '002_users.sql': BASIC_MIGRATIONS['001_users.sql']!,
        '003_groups.sql': BASIC_MIGRATIONS['002_groups.sql']!,
      });
      await db.sync();
      await writeFile(join(dir, '001_early.sql'), 'CREATE TABLE early (id INTEGER);\n');
      await assert.rejects(db.sync(), (error: MigrationStateError) => error.code === 'OUT_OF_ORDER' && error.versions.includes(1));
      assert.equal(await open(dir, { allowOutOfOrder: true }).sync(), SyncResult.UPGRADED);
      assert.ok((await tableNames(db)).includes('early'));

      await rm(join(dir, '002_users.sql'));
      await assert.rejects(db.sync(), (error: MigrationStateError) => error.code === 'MISSING_FILE' && /version 2 \(users\)/.test(error.message));
    });

    it('refuses duplicate versions before anything runs', async () => {
      const { db } = await setup({ ...BASIC_MIGRATIONS, '02_other.sql': 'CREATE TABLE other (id INTEGER);\n' });
      await assert.rejects(db.sync(), (error: MigrationFileError) => error.code === 'DUPLICATE_VERSION' && error.files.includes('02_other.sql') && error.files.includes('002_groups.sql'));
      assert.deepEqual(await tableNames(db), []);
    });

    it('create() applies everything once and refuses a database that already has versions', async () => {
      const { db } = await setup();
      const runs = await db.create();
      assert.deepEqual(runs.map((run) => run.version), [1, 2, 3]);
      await assert.rejects(db.create(), (error: MigrationStateError) => error.code === 'ALREADY_CREATED');
    });

    it('upgrades to a target and downgrades with down files, newest first', async () => {
      const { db } = await setup();
      assert.deepEqual((await db.upgrade(2)).map((run) => run.version), [1, 2]);
      assert.equal(await db.getCurrentRevision(), 2);
      assert.deepEqual((await db.upgrade('head')).map((run) => run.version), [3]);
      const reverted = await db.downgrade(1);
      assert.deepEqual(reverted.map((run) => run.file), ['003_memberships.down.sql', '002_groups.down.sql']);
      assert.deepEqual(await versions(db), [1]);
      assert.deepEqual(await tableNames(db), ['sql_helpers_migrations', 'users']);
      await db.downgrade(0);
      assert.equal(await db.getCurrentRevision(), null);
      await assert.rejects(db.downgrade(7), (error: MigrationStateError) => error.code === 'UNKNOWN_TARGET');
      await assert.rejects(db.upgrade(9), (error: MigrationStateError) => error.code === 'UNKNOWN_TARGET');
    });

    it('refuses a downgrade that lacks a down file, changing nothing', async () => {
      const files = { ...BASIC_MIGRATIONS };
      delete files['002_groups.down.sql'];
      const { db } = await setup(files);
      await db.sync();
      await assert.rejects(db.downgrade(0), (error: MigrationStateError) => error.code === 'MISSING_DOWN' && /002_groups\.sql has no down file/.test(error.message));
      assert.deepEqual(await versions(db), [1, 2, 3]);
      assert.ok((await tableNames(db)).includes('memberships'), 'migration 3 was not reverted either');
    });

    it('stamps an existing schema without running the files', async () => {
      const { db } = await setup();
      await db.execute(sql`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)`);
      assert.deepEqual(await db.stamp(1), [1]);
      assert.equal(await db.getStatus(), DatabaseStatus.UPGRADE_AVAILABLE);
      assert.equal(await db.sync(), SyncResult.UPGRADED);
      assert.deepEqual(await versions(db), [1, 2, 3]);
      await assert.rejects(db.stamp(1), (error: MigrationStateError) => error.code === 'TARGET_BELOW_CURRENT');
      await assert.rejects(db.stamp(42), (error: MigrationStateError) => error.code === 'UNKNOWN_TARGET');
    });

    it('refuses a version table of another shape', async () => {
      const { db } = await setup();
      await db.execute(sql`CREATE TABLE sql_helpers_migrations (id INTEGER PRIMARY KEY, label TEXT)`);
      await assert.rejects(db.sync(), (error: MigrationStateError) => error.code === 'VERSION_TABLE_SHAPE');
      await assert.rejects(db.getStatus(), (error: MigrationStateError) => error.code === 'VERSION_TABLE_SHAPE');
    });

    it('uses a custom version table name', async () => {
      const { db } = await setup(BASIC_MIGRATIONS, { versionTable: 'my versions' });
      await db.sync();
      assert.ok((await tableNames(db)).includes('my versions'));
      assert.equal(await db.getCurrentRevision(), 3);
    });

    it('reads the current revision inside a caller transaction without disturbing it', async () => {
      const { db } = await setup();
      await db.transaction(async (tx) => {
        assert.equal(await db.getCurrentRevision(tx), null);
        assert.deepEqual(await tx.query(sql`SELECT 1 AS one`), [{ one: 1 }]);
      });
      await db.sync();
      assert.equal(await db.transaction((tx) => db.getCurrentRevision(tx)), 3);
    });

    it('configuredConnection runs fn(session, ...args) on a connection of its own', async () => {
      const { db } = await setup();
      await db.sync();
      const countUsers = db.configuredConnection(async (session, email: string) => {
        await session.execute(sql`INSERT INTO users (id, email) VALUES (1, ${email})`);
        return (await session.one<{ n: number | string }>(sql`SELECT count(*) AS n FROM users`)).n;
      });
      assert.equal(Number(await countUsers('x@example.com')), 1);
    });

    it('reports a migration that cannot run in a transaction, and runs it with the no-transaction marker', async () => {
      const statement = dialect === 'postgres' ? 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);' : 'VACUUM;';
      const { db, dir } = await setup({ '001_users.sql': BASIC_MIGRATIONS['001_users.sql']!, '002_index.sql': `${statement}\n` });
      await assert.rejects(db.sync(), (error: MigrationError) => error.file === '002_index.sql' && /sql-helpers:no-transaction/.test(error.message));
      assert.deepEqual(await versions(db), [1]);
      await writeFile(join(dir, '002_index.sql'), `-- sql-helpers:no-transaction\n${statement}\n`);
      assert.equal(await db.sync(), SyncResult.UPGRADED);
      assert.deepEqual(await versions(db), [1, 2]);
    });

    it('throws a ConnectionError for an unreachable database instead of reporting NO_INFO', async () => {
      const { dir } = await setup();
      const uri = dialect === 'postgres' ? 'postgres://postgres:hunter22@127.0.0.1:1/test' : 'sqlite:///nonexistent-dir-sql-helpers/x.db';
      if (dialect === 'sqlite') {
        assert.throws(() => new DatabaseManager(uri, dir), (error: ConnectionError) => error instanceof ConnectionError && /create the directory/.test(error.message));
        return;
      }
      const db = new DatabaseManager(uri, dir);
      try {
        await assert.rejects(db.getStatus(), (error: ConnectionError) => error instanceof ConnectionError && !error.message.includes('hunter22') && error.message.includes('***'));
      } finally {
        await db.close();
      }
    });
  });
}

describe('SQLite specifics', () => {
  it('opens with foreign keys on and WAL, and checks foreign keys of a migration that rebuilds a table', async () => {
    const database = await freshDatabase('sqlite');
    const dir = await migrationsDir({
      ...BASIC_MIGRATIONS,
      // SQLite's documented table rebuild: runs in a transaction because the migrator turns foreign keys off for the run.
      '004_rebuild_users.sql':
        'CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);\n' +
        'INSERT INTO users_new (id, email) SELECT id, email FROM users;\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;\n',
      '005_orphan.sql': 'INSERT INTO memberships (user_id, group_id) VALUES (99, 99);\n',
    });
    const db = new DatabaseManager(database.uri, dir);
    try {
      const engine = db.engine as { pragma(text: string, options: { simple: boolean }): unknown };
      assert.equal(engine.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(engine.pragma('journal_mode', { simple: true }), 'wal');
      await assert.rejects(db.sync(), (error: MigrationError) => error.file === '005_orphan.sql' && /FOREIGN KEY/.test(error.message));
      assert.equal(await db.getCurrentRevision(), 4);
      assert.equal(engine.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are back on after the run');
      await assert.rejects(db.execute(sql`INSERT INTO memberships (user_id, group_id) VALUES (99, 99)`), /FOREIGN KEY/);
    } finally {
      await db.close();
      await database.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts sqlite::memory: and refuses the schema option', async () => {
    const dir = await migrationsDir(BASIC_MIGRATIONS);
    const db = new DatabaseManager('sqlite::memory:', dir);
    try {
      assert.equal(await db.sync(), SyncResult.CREATED);
      assert.equal(await db.getStatus(), DatabaseStatus.UP_TO_DATE);
    } finally {
      await db.close();
    }
    assert.throws(() => new DatabaseManager('sqlite::memory:', dir, { schema: 'x' }), /schema option is for PostgreSQL/);
    await rm(dir, { recursive: true, force: true });
  });
});
