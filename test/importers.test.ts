import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import Postgrator from 'postgrator';
import {
  DatabaseManager,
  MigrationFileError,
  MigrationStateError,
  SyncResult,
  adopt,
  importMigrations,
  raw,
  sql,
  type ImportReport,
} from '../lib/index.js';
import { freshPgDatabase, recordedVersions, runCli, tableNames, workspaces } from './support.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/importers/', import.meta.url));
const fixture = (tool: string) => join(FIXTURES, tool);
const run = promisify(execFile);

/** Runs `fn` on a client of its own (the tools' own connections). */
async function withClient<T>(uri: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const read = (tool: string, file: string) => readFile(join(fixture(tool), file), 'utf8');

/**
 * What each tool does to a PostgreSQL database, done by the tool itself where it ships on npm (dbmate,
 * node-pg-migrate, Postgrator), and otherwise exactly as its source does it: the same version table, the
 * same rows, each file sent as its driver sends it.
 */
const MIGRATE_WITH_TOOL: Record<string, (uri: string) => Promise<void>> = {
  // golang-migrate's postgres driver: schema_migrations(version bigint, dirty boolean); SetVersion truncates and
  // inserts (version, dirty = true) before a file and (version, false) after it; each file is one Exec.
  'golang-migrate': (uri) =>
    withClient(uri, async (client) => {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null)');
      for (const [version, file] of [[1, '000001_create_users.up.sql'], [2, '000002_add_email_index.up.sql'], [3, '000003_posts.up.sql']] as const) {
        await client.query('BEGIN; TRUNCATE schema_migrations; COMMIT');
        await client.query('INSERT INTO schema_migrations (version, dirty) VALUES ($1, true)', [version]);
        await client.query(await read('golang-migrate', file));
        await client.query('BEGIN; TRUNCATE schema_migrations; INSERT INTO schema_migrations (version, dirty) VALUES (' + version + ', false); COMMIT');
      }
    }),
  // goose: goose_db_version with its initial (0, true) row; one row per up, and a down logged as is_applied = false
  // (goose before v3.16; newer versions delete the row instead): here 3 goes down and up again.
  goose: (uri) =>
    withClient(uri, async (client) => {
      await client.query(`CREATE TABLE goose_db_version (
        id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))`);
      await client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true)');
      const section = async (file: string, direction: 'Up' | 'Down') => {
        const text = await read('goose', file);
        const [up, down = ''] = text.split('-- +goose Down');
        return direction === 'Up' ? up!.replace(/^[\s\S]*-- \+goose Up\n/, '') : down;
      };
      const step = async (version: number, file: string, direction: 'Up' | 'Down') => {
        const body = await section(file, direction);
        if (file.includes('email_index')) await client.query(body);
        else await client.query(`BEGIN; ${body}; COMMIT`);
        await client.query('INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, $2)', [version, direction === 'Up']);
      };
      await step(1, '00001_create_users.sql', 'Up');
      await step(2, '00002_add_email_index.sql', 'Up');
      await step(3, '00003_posts.sql', 'Up');
      await step(3, '00003_posts.sql', 'Down');
      await client.query('DROP TABLE posts');
      await step(3, '00003_posts.sql', 'Up');
    }),
  dbmate: async (uri) => {
    const url = new URL(uri);
    url.searchParams.set('sslmode', 'disable');
    await run('npx', ['--no-install', 'dbmate', '--url', url.toString(), '--migrations-dir', fixture('dbmate'), '--no-dump-schema', 'up']);
  },
  // Flyway's PostgreSQL history table, created as Flyway creates it; V1.1 ran outside a transaction (its .conf).
  flyway: (uri) =>
    withClient(uri, async (client) => {
      await client.query(`CREATE TABLE "public"."flyway_schema_history" (
        "installed_rank" INT NOT NULL, "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL, "type" VARCHAR(20) NOT NULL,
        "script" VARCHAR(1000) NOT NULL, "checksum" INTEGER, "installed_by" VARCHAR(100) NOT NULL,
        "installed_on" TIMESTAMP NOT NULL DEFAULT now(), "execution_time" INTEGER NOT NULL, "success" BOOLEAN NOT NULL);
        ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
        CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");`);
      const scripts = [['1', 'create users', 'V1__create_users.sql'], ['1.1', 'add email index', 'V1_1__add_email_index.sql'], ['2', 'posts', 'V2__posts.sql']];
      for (const [rank, [version, description, script]] of scripts.entries()) {
        await client.query(await read('flyway', script!));
        await client.query(
          `INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
           VALUES ($1, $2, $3, 'SQL', $4, $5, 'postgres', 3, true)`,
          [rank + 1, version, description, script, 1000 + rank],
        );
      }
    }),
  'node-pg-migrate': (uri) =>
    runner({ databaseUrl: uri, dir: fixture('node-pg-migrate'), direction: 'up', migrationsTable: 'pgmigrations', log: () => undefined }).then(() => undefined),
  postgrator: (uri) =>
    withClient(uri, async (client) => {
      const postgrator = new Postgrator({
        migrationPattern: join(fixture('postgrator'), '*'),
        driver: 'pg',
        database: new URL(uri).pathname.slice(1),
        execQuery: (query) => client.query(query),
      });
      await postgrator.migrate();
    }),
};

/** Per tool: the sql-helpers files the fixture becomes, and whether its versions had to be renumbered. */
const EXPECTED: Record<string, { files: string[]; renumbered: boolean; noTransaction: string[] }> = {
  'golang-migrate': {
    files: ['000001_create_users.down.sql', '000001_create_users.sql', '000002_add_email_index.down.sql', '000002_add_email_index.sql', '000003_posts.down.sql', '000003_posts.sql'],
    renumbered: false,
    noTransaction: ['000002_add_email_index.down.sql', '000002_add_email_index.sql', '000003_posts.sql'],
  },
  goose: {
    files: ['00001_create_users.down.sql', '00001_create_users.sql', '00002_add_email_index.down.sql', '00002_add_email_index.sql', '00003_posts.down.sql', '00003_posts.sql'],
    renumbered: false,
    noTransaction: ['00002_add_email_index.down.sql', '00002_add_email_index.sql'],
  },
  dbmate: {
    files: [
      '20240101120000_create_users.down.sql', '20240101120000_create_users.sql', '20240102093000_add_email_index.down.sql',
      '20240102093000_add_email_index.sql', '20240215170000_posts.down.sql', '20240215170000_posts.sql',
    ],
    renumbered: false,
    noTransaction: ['20240102093000_add_email_index.down.sql', '20240102093000_add_email_index.sql'],
  },
  flyway: {
    files: ['001_create_users.sql', '002_add_email_index.sql', '003_posts.down.sql', '003_posts.sql'],
    renumbered: true,
    noTransaction: ['002_add_email_index.sql'],
  },
  'node-pg-migrate': {
    files: ['001_create-users.down.sql', '001_create-users.sql', '002_posts.down.sql', '002_posts.sql'],
    renumbered: true,
    noTransaction: [],
  },
  postgrator: {
    files: ['001_create-users.down.sql', '001_create-users.sql', '002_posts.down.sql', '002_posts.sql', '003_add-email-index.sql'],
    renumbered: false,
    noTransaction: ['003_add-email-index.sql'],
  },
};

describe('import: each tool’s folder in its real format', () => {
  const { tempDir } = workspaces();

  for (const [tool, expected] of Object.entries(EXPECTED)) {
    it(`${tool}: converts every file, keeps the SQL, moves only the markers, writes the mapping`, async () => {
      const target = await tempDir();
      const report = await importMigrations(tool, fixture(tool), target);
      assert.equal(report.renumbered, expected.renumbered);
      assert.deepEqual((await readdir(target)).sort(), [...expected.files, `imported-from-${tool}.json`].sort());
      for (const file of expected.files) {
        const text = await readFile(join(target, file), 'utf8');
        assert.equal(text.startsWith('-- sql-helpers:no-transaction\n'), expected.noTransaction.includes(file), `${file}:\n${text}`);
        assert.doesNotMatch(text, /\+goose (Up|Down|NO TRANSACTION)|migrate:(up|down)|(Up|Down) Migration/, `${file} keeps no section marker`);
      }
      const mapping = JSON.parse(await readFile(report.mappingFile, 'utf8')) as Pick<ImportReport, 'tool' | 'migrations'>;
      assert.equal(mapping.tool, tool);
      assert.deepEqual(mapping.migrations.flatMap((entry) => entry.to).sort(), expected.files);
    });
  }

  it('keeps the SQL byte for byte: goose StatementBegin/End and dollar quotes, golang-migrate files whole', async () => {
    const target = await tempDir();
    await importMigrations('goose', fixture('goose'), target);
    const source = await read('goose', '00001_create_users.sql');
    const up = await readFile(join(target, '00001_create_users.sql'), 'utf8');
    assert.equal(up, source.slice('-- +goose Up\n'.length, source.indexOf('-- +goose Down')));
    assert.equal(await readFile(join(target, '00003_posts.down.sql'), 'utf8'), '-- Posts stay: deleting them would lose data.\n', 'a comment-only down is kept: a no-op');
    const other = await tempDir();
    await importMigrations('golang-migrate', fixture('golang-migrate'), other);
    assert.equal(await readFile(join(other, '000001_create_users.sql'), 'utf8'), await read('golang-migrate', '000001_create_users.up.sql'));
    assert.equal(await readFile(join(other, '000003_posts.sql'), 'utf8'), `-- sql-helpers:no-transaction\n${await read('golang-migrate', '000003_posts.up.sql')}`);
  });
});

describe('import: refusals, before anything is written', () => {
  const { tempDir } = workspaces();
  const folder = async (files: Record<string, string | Uint8Array>) => {
    const dir = await tempDir('sql-helpers-source-');
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    return dir;
  };
  const refuses = async (tool: string, files: Record<string, string | Uint8Array>, code: string, message: RegExp) => {
    const target = await tempDir();
    await assert.rejects(importMigrations(tool, await folder(files), target), (error: MigrationFileError) => {
      assert.ok(error instanceof MigrationFileError);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      return true;
    });
    assert.deepEqual(await readdir(target), [], 'nothing was written');
  };

  it('lists every file it cannot convert: a goose Go migration, ENVSUB, a file without its Up', () =>
    refuses(
      'goose',
      {
        '00001_ok.sql': '-- +goose Up\nCREATE TABLE a (id INT);\n',
        '00002_backfill.go': 'package migrations\n',
        '00003_env.sql': '-- +goose ENVSUB ON\n-- +goose Up\nCREATE ROLE ${ROLE};\n',
        '00004_no_up.sql': 'CREATE TABLE b (id INT);\n',
      },
      'IMPORT_UNCONVERTIBLE',
      /cannot import 3 goose file\(s\); nothing was written:\n- 00002_backfill\.go: a Go migration[^\n]*\n- 00003_env\.sql: [^\n]*ENVSUB[^\n]*\n- 00004_no_up\.sql/,
    ));

  it('refuses Flyway repeatable migrations and placeholders, and non-UTF-8 files', () =>
    refuses(
      'flyway',
      { 'V1__a.sql': 'SELECT 1;', 'R__views.sql': 'CREATE VIEW v AS SELECT 1;', 'V2__p.sql': 'CREATE SCHEMA ${schema};', 'V3__latin1.sql': Uint8Array.from([0xe9, 0x3b]) },
      'IMPORT_UNCONVERTIBLE',
      /R__views\.sql: a repeatable migration[\s\S]*V2__p\.sql: it uses Flyway \$\{placeholders\}[\s\S]*V3__latin1\.sql: it is not valid UTF-8/,
    ));

  it('refuses node-pg-migrate JavaScript migrations and Postgrator generateSql files', async () => {
    await refuses('node-pg-migrate', { '1700000000000_a.js': 'exports.up = () => {};' }, 'IMPORT_UNCONVERTIBLE', /JavaScript/);
    await refuses('postgrator', { '001.do.a.js': 'module.exports.generateSql = () => "";' }, 'IMPORT_UNCONVERTIBLE', /generateSql/);
  });

  it('names each malformed file of every tool', async () => {
    await refuses(
      'golang-migrate',
      { '1_a.up.json': '{}', '2_b.up.sql': 'SELECT 1;', '02_b.up.sql': 'SELECT 2;', '3_c.down.sql': 'SELECT 3;' },
      'IMPORT_UNCONVERTIBLE',
      /1_a\.up\.json: a \.json migration is not SQL[\s\S]*2_b\.up\.sql: version 2 has two up files[\s\S]*3_c\.down\.sql: version 3 has a down file but no up file/,
    );
    await refuses(
      'dbmate',
      { '1_a.sql': 'CREATE TABLE a (id INT);\n', '2_b.sql': 'SELECT 1;\n-- migrate:up\nSELECT 2;\n' },
      'IMPORT_UNCONVERTIBLE',
      /1_a\.sql: a dbmate migration needs exactly one "-- migrate:up" line[\s\S]*2_b\.sql: text before "-- migrate:up"/,
    );
    await refuses(
      'flyway',
      { 'V1__a.sql': 'SELECT 1;', 'V1.0__again.sql': 'SELECT 2;', 'Vx__b.sql': 'SELECT 3;', 'U5__c.sql': 'SELECT 4;' },
      'IMPORT_UNCONVERTIBLE',
      /U5__c\.sql: an undo migration without its versioned migration V5[\s\S]*V1\.0__again\.sql: version 1 is also used by V1__a\.sql[\s\S]*Vx__b\.sql: version "x"/,
    );
    await refuses(
      'node-pg-migrate',
      { 'create.sql': 'SELECT 1;', '1_a.sql': '-- Up Migration\nSELECT 1;\n-- Up Migration\nSELECT 2;\n' },
      'IMPORT_UNCONVERTIBLE',
      /1_a\.sql: more than one "-- Up Migration"[\s\S]*create\.sql: node-pg-migrate orders files by a numeric prefix/,
    );
    await refuses(
      'postgrator',
      { '001.do.a.sql': 'SELECT 1;', '01.do.b.sql': 'SELECT 2;', '002.redo.c.sql': 'SELECT 3;', '003.undo.d.sql': 'SELECT 4;' },
      'IMPORT_UNCONVERTIBLE',
      /002\.redo\.c\.sql: postgrator files are named[\s\S]*003\.undo\.d\.sql: an undo file without its do file[\s\S]*01\.do\.b\.sql: version 1 is also used by 001\.do\.a\.sql/,
    );
    await assert.rejects(importMigrations('goose', join(FIXTURES, 'no-such-folder'), await tempDir()), (error: MigrationFileError) => error.code === 'IMPORT_SOURCE_UNREADABLE');
  });

  it('refuses a folder with nothing of the tool in it, and an unknown tool', async () => {
    await refuses('dbmate', { 'notes.txt': 'hello' }, 'IMPORT_NOTHING', /no dbmate migration found/);
    await assert.rejects(importMigrations('liquibase', await folder({}), await tempDir()), /unknown tool "liquibase"; known tools: golang-migrate, goose, dbmate, flyway, node-pg-migrate, postgrator/);
  });

  it('refuses to overwrite: a second import into the same folder writes nothing', async () => {
    const target = await tempDir();
    await importMigrations('postgrator', fixture('postgrator'), target);
    const before = (await readdir(target)).sort();
    await writeFile(join(target, '001_create-users.sql'), 'edited');
    await assert.rejects(importMigrations('postgrator', fixture('postgrator'), target), (error: MigrationFileError) => error.code === 'IMPORT_TARGET_EXISTS');
    assert.deepEqual((await readdir(target)).sort(), before);
    assert.equal(await readFile(join(target, '001_create-users.sql'), 'utf8'), 'edited');
  });

  it('renumbers only when it must: golang-migrate nanosecond versions above 2^53 become 001, 002 in order', async () => {
    const source = await folder({
      '1700000000000000001_a.up.sql': 'CREATE TABLE a (id INT);\n',
      '1700000000000000002_b.up.sql': 'CREATE TABLE b (id INT);\n',
      '999_first.up.sql': 'CREATE TABLE first (id INT);\n',
    });
    const target = await tempDir();
    const report = await importMigrations('golang-migrate', source, target);
    assert.equal(report.renumbered, true);
    assert.deepEqual(report.migrations.map((entry) => [entry.id, entry.version]), [['999', 1], ['1700000000000000001', 2], ['1700000000000000002', 3]]);
    const kept = await importMigrations('golang-migrate', await folder({ '1700000000000_a.up.sql': 'SELECT 1;' }), await tempDir());
    assert.equal(kept.renumbered, false, 'a 13-digit timestamp fits: kept');
    assert.equal(kept.migrations[0]!.version, 1700000000000);
  });
});

describe('adopt: the real tool migrates PostgreSQL first, then sql-helpers takes over', () => {
  const { tempDir, cleanups } = workspaces();

  for (const tool of Object.keys(EXPECTED)) {
    it(`${tool}: adopt stamps what it applied, sync is up to date, a new file applies`, async () => {
      const database = await freshPgDatabase();
      cleanups.push(() => database.cleanup());
      await MIGRATE_WITH_TOOL[tool]!(database.uri);
      const dir = await tempDir();
      const { migrations } = await importMigrations(tool, fixture(tool), dir);
      const db = new DatabaseManager(database.uri, dir);
      cleanups.push(() => db.close());

      const report = await adopt(db, tool);
      assert.deepEqual(report.stamped, migrations.map((entry) => entry.version));
      assert.deepEqual(await recordedVersions(db), migrations.map((entry) => entry.version));
      assert.equal(await db.sync(), SyncResult.ALREADY_UP_TO_DATE);
      assert.deepEqual(await db.verify(), { ok: true, problems: [] });
      assert.deepEqual((await adopt(db, tool)).stamped, [], 'adopting again changes nothing');

      const next = migrations.at(-1)!.version + 1;
      await writeFile(join(dir, `${next}_comments.sql`), 'CREATE TABLE comments (id SERIAL PRIMARY KEY, post_id INTEGER REFERENCES posts (id));\n');
      assert.equal(await db.sync(), SyncResult.UPGRADED);
      assert.ok((await tableNames(db)).includes('comments'));
      // The tool's own objects were not run twice: one users table, one email index where the history has one.
      const [{ count }] = (await db.query<{ count: string }>(sql`SELECT count(*) AS count FROM pg_indexes WHERE indexname = 'users_email_idx'`)) as [{ count: string }];
      assert.equal(Number(count), tool === 'node-pg-migrate' ? 0 : 1);
    });
  }

  it('the CLI: import then adopt then sync (dbmate)', async () => {
    const database = await freshPgDatabase();
    cleanups.push(() => database.cleanup());
    await MIGRATE_WITH_TOOL.dbmate!(database.uri);
    const dir = join(await tempDir(), 'sql');
    const imported = await runCli(['import', 'dbmate', fixture('dbmate'), '--dir', dir]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /20240102093000_add_email_index\.sql -> 20240102093000_add_email_index\.sql \+ 20240102093000_add_email_index\.down\.sql/);
    assert.match(imported.stdout, /runs outside a transaction \(was -- migrate:up transaction:false\)/);
    assert.match(imported.stdout, /imported 3 dbmate migration\(s\)/);
    const adopted = await runCli(['adopt', 'dbmate', '--dir', dir, '--database', database.uri, '--json']);
    assert.equal(adopted.code, 0, adopted.stderr);
    assert.deepEqual((JSON.parse(adopted.stdout) as { stamped: number[] }).stamped, [20240101120000, 20240102093000, 20240215170000]);
    const synced = await runCli(['sync', '--dir', dir, '--database', database.uri]);
    assert.match(synced.stdout, /already up to date/);
    const usage = await runCli(['import', 'dbmate']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /import needs two arguments: sql-helpers-migrate import <tool> <source-dir>/);
  });
});

describe('adopt: refusals, stamping nothing', () => {
  const { setup, tempDir } = workspaces();

  /** A database (PostgreSQL schema or SQLite file) with the tool's table made by `tableSql`, and a manager on the imported files. */
  const adopted = async (dialect: 'sqlite' | 'postgres', tool: string, files: Record<string, string>, tableSql: string[]) => {
    const source = await tempDir('sql-helpers-source-');
    for (const [name, content] of Object.entries(files)) await writeFile(join(source, name), content);
    const { db, database, open } = await setup(dialect, {});
    const dir = await tempDir();
    await importMigrations(tool, source, dir);
    for (const statement of tableSql) await db.execute(raw(statement));
    return { db: open(dir), database };
  };
  const GOLANG = { '1_a.up.sql': 'CREATE TABLE a (id INTEGER);\n', '1_a.down.sql': 'DROP TABLE a;\n', '2_b.up.sql': 'CREATE TABLE b (id INTEGER);\n', '3_c.up.sql': 'CREATE TABLE c (id INTEGER);\n' };

  for (const dialect of ['sqlite', 'postgres'] as const) {
    it(`golang-migrate on ${dialect}: a dirty version is refused; a clean one stamps every version up to it`, async () => {
      const table = 'CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null)';
      const dirty = await adopted(dialect, 'golang-migrate', GOLANG, [table, 'INSERT INTO schema_migrations VALUES (2, true)']);
      await assert.rejects(adopt(dirty.db, 'golang-migrate'), (error: MigrationStateError) => {
        assert.equal(error.code, 'ADOPT_DIRTY');
        assert.match(error.message, /version 2 is dirty[\s\S]*migrate force 2/);
        return true;
      });
      assert.equal(await dirty.db.getCurrentRevision(), null, 'nothing stamped');
      await dirty.db.execute(sql`UPDATE schema_migrations SET dirty = false`);
      assert.deepEqual((await adopt(dirty.db, 'golang-migrate')).stamped, [1, 2]);
      assert.deepEqual((await dirty.db.upgrade()).map((run) => run.version), [3]);
    });

    it(`goose on ${dialect}: the latest row per version decides; a version it applied that the files lack is refused`, async () => {
      const table = dialect === 'sqlite'
        ? "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))"
        : 'CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))';
      const files = { '1_a.sql': '-- +goose Up\nCREATE TABLE a (id INTEGER);\n', '2_b.sql': '-- +goose Up\nCREATE TABLE b (id INTEGER);\n-- +goose Down\nDROP TABLE b;\n' };
      const rows = "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (2, false)";
      const { db } = await adopted(dialect, 'goose', files, [table, rows.replaceAll('true', dialect === 'sqlite' ? '1' : 'true').replaceAll('false', dialect === 'sqlite' ? '0' : 'false')]);
      assert.deepEqual((await adopt(db, 'goose')).stamped, [1]);
      await db.execute(sql`DELETE FROM sql_helpers_migrations`);
      await db.execute(sql`INSERT INTO goose_db_version (version_id, is_applied) VALUES (7, ${dialect === 'sqlite' ? 1 : true})`);
      await assert.rejects(adopt(db, 'goose'), (error: MigrationStateError) => error.code === 'ADOPT_UNKNOWN_VERSION' && /goose applied 7/.test(error.message));
      assert.equal(await db.getCurrentRevision(), null);
    });
  }

  it('refuses a Flyway failed run, a missing table, a missing mapping, a gap, and a database sql-helpers already tracks', async () => {
    const history = `CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
      type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL,
      installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL)`;
    const files = { 'V1__a.sql': 'CREATE TABLE a (id INT);\n', 'V2__b.sql': 'CREATE TABLE b (id INT);\n', 'V3__c.sql': 'CREATE TABLE c (id INT);\n' };
    const { db } = await adopted('postgres', 'flyway', files, [history]);
    const row = (rank: number, version: string | null, type: string, success: boolean) =>
      db.execute(sql`INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, installed_by, execution_time, success)
        VALUES (${rank}, ${version}, 'x', ${type}, ${`V${version}__x.sql`}, 'me', 1, ${success})`);
    await row(1, '1', 'SQL', true);
    await row(2, '2', 'SQL', false);
    await assert.rejects(adopt(db, 'flyway'), (error: MigrationStateError) => error.code === 'ADOPT_DIRTY' && /flyway repair/.test(error.message));
    await db.execute(sql`DELETE FROM flyway_schema_history WHERE installed_rank = 2`);
    await row(2, '3', 'SQL', true);
    await assert.rejects(adopt(db, 'flyway'), (error: MigrationStateError) => error.code === 'ADOPT_GAP' && error.versions.includes(2));
    await row(3, '3', 'UNDO_SQL', true);
    assert.deepEqual((await adopt(db, 'flyway')).stamped, [1], 'an undo takes a version back');
    await db.execute(sql`INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, installed_by, execution_time, success)
      VALUES (4, '2', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', 'me', 0, true)`);
    await assert.rejects(adopt(db, 'flyway'), (error: MigrationStateError) => error.code === 'ADOPT_ALREADY_RECORDED');
    await assert.rejects(adopt(db, 'flyway', { table: 'no_such_history' }), (error: MigrationStateError) => error.code === 'ADOPT_NO_TABLE');
    await assert.rejects(adopt(db, 'goose'), (error: MigrationStateError) => error.code === 'ADOPT_NO_MAPPING' && /run import first/.test(error.message));
    await db.execute(sql`DELETE FROM sql_helpers_migrations`);
    assert.deepEqual((await adopt(db, 'flyway')).stamped, [1, 2], 'a baseline covers every version up to it');
  });
});
