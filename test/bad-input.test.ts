import assert from 'node:assert/strict';
import { mkdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import {
  ConfigurationError,
  ConnectionError,
  DatabaseManager,
  DatabaseStatus,
  InvalidIdentifierError,
  MigrationError,
  MigrationFileError,
  MigrationStateError,
  MissingUniqueConstraintError,
  NoResultFound,
  NotNullViolationError,
  QueryError,
  SqlHelpersError,
  SyncResult,
  UndefinedColumnError,
  UndefinedTableError,
  getByPk,
  getOne,
  getOrCreate,
  identifier,
  redactUri,
  sql,
  table,
  updateOrCreate,
  type Session,
  type Transaction,
} from '../lib/index.js';
import { BASIC_MIGRATIONS, PG_URL, dialects, migrationsDir, runCli, tableNames, workspaces, withPassword as withSecret } from './support.js';

/** A password the server ignores (trust auth) and that must never be printed. */
const SECRET = 'Hunter2Secret';

type ErrorClass = abstract new (...args: never[]) => SqlHelpersError;

/**
 * Asserts that `run` fails with exactly this kind of error: class, stable code, and a message that says what is
 * wrong and what to do (`says`, every pattern must match). Returns the error for further checks.
 */
async function expectError<E extends SqlHelpersError>(
  run: () => unknown,
  Class: ErrorClass,
  code: string,
  says: RegExp[],
): Promise<E> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${Class.name} ${code}, but nothing was thrown`);
  assert.ok(caught instanceof Class, `expected ${Class.name}, got ${inspect(caught)}`);
  assert.ok(caught instanceof SqlHelpersError, 'every error has the one root class');
  assert.equal(caught.code, code, `code of: ${caught.message}`);
  for (const pattern of says) assert.match(caught.message, pattern);
  return caught as E;
}

/** What "the database is exactly as it was" means here: its tables, the version rows, and row counts. */
interface Snapshot {
  tables: string[];
  versions: Array<{ version: number; name: string; checksum: string }>;
  rows: Record<string, number>;
}

async function snapshot(db: DatabaseManager, versionTable = 'sql_helpers_migrations'): Promise<Snapshot> {
  const tables = await tableNames(db);
  const rows: Record<string, number> = {};
  for (const name of tables) {
    const [count] = await db.query<{ n: number | string }>(sql`SELECT count(*) AS n FROM ${identifier(name)}`);
    rows[name] = Number(count?.n);
  }
  let versions: Snapshot['versions'] = [];
  if (tables.includes(versionTable)) {
    try {
      const recorded = await db.query<{ version: number | string; name: string; checksum: string }>(
        sql`SELECT version, name, checksum FROM ${identifier(versionTable)} ORDER BY version`,
      );
      versions = recorded.map((row) => ({ version: Number(row.version), name: row.name, checksum: row.checksum }));
    } catch {
      versions = []; // a version table of another shape: its rows are covered by the row counts
    }
  }
  return { tables, versions, rows };
}

async function assertUnchanged(db: DatabaseManager, before: Snapshot): Promise<void> {
  assert.deepEqual(await snapshot(db), before, 'the database is exactly as it was');
}

const recordedVersions = (snap: Snapshot) => snap.versions.map((row) => row.version);

const harness = workspaces;

const cli = (args: string[], cwd: string) => runCli(args, { cwd });

const withPassword = (uri: string, port?: number) => withSecret(uri, SECRET, port);

/** Every way an error can be shown: message, String(), util.inspect() with its whole cause chain, and the stack. */
function everyRendering(error: unknown): string {
  const parts = [String(error), inspect(error, { depth: 20 })];
  for (let current: unknown = error; current instanceof Error; current = current.cause) parts.push(current.message, String(current.stack));
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// URIs
// ---------------------------------------------------------------------------------------------------------------

describe('bad input: database URIs', () => {
  const { tempDir, cleanups } = harness();
  const listsForms = /Accepted forms: postgres:\/\/user:password@host:5432\/database, .*sqlite::memory:/;
  const construct = (uri: string) => () => new DatabaseManager(uri, tmpdir());

  it('an unknown scheme lists the accepted forms, password hidden', async () => {
    const error = await expectError(construct(`mysql://root:${SECRET}@db.example/app`), ConfigurationError, 'INVALID_URI', [
      /the scheme "mysql:" is not supported/,
      listsForms,
    ]);
    assert.ok(error.message.includes('mysql://root:***@db.example/app'), error.message);
    assert.ok(!everyRendering(error).includes(SECRET));
  });

  it('a URI without a scheme (user:password@host) is refused without printing the password', async () => {
    const error = await expectError(construct(`app:${SECRET}@db.example/app`), ConfigurationError, 'INVALID_URI', [/not supported|no scheme/, listsForms]);
    assert.ok(!everyRendering(error).includes(SECRET), error.message);
  });

  it('a missing host says the host is missing', async () => {
    for (const uri of ['postgres:///app', `postgres://u:${SECRET}@/app`, `postgresql://u:${SECRET}@:5432/app`]) {
      const error = await expectError(construct(uri), ConfigurationError, 'INVALID_URI', [/the host is missing/, listsForms]);
      assert.ok(!everyRendering(error).includes(SECRET), error.message);
    }
  });

  it('a missing database name says to add /database', async () => {
    for (const uri of [`postgres://u:${SECRET}@localhost:5432`, `postgres://u:${SECRET}@localhost:5432/`]) {
      const error = await expectError(construct(uri), ConfigurationError, 'INVALID_URI', [/the database name is missing \(…\/database at the end\)/, listsForms]);
      assert.ok(error.message.includes('postgres://u:***@localhost:5432'), error.message);
    }
  });

  it('a port that is not a number, or out of range, is named', async () => {
    await expectError(construct(`postgres://u:${SECRET}@localhost:abc/app`), ConfigurationError, 'INVALID_URI', [/the port "abc" is not a number/, listsForms]);
    await expectError(construct(`postgres://u:${SECRET}@localhost:70000/app`), ConfigurationError, 'INVALID_URI', [/port 70000 is out of range \(1-65535\)/]);
    const zero = await expectError(construct(`postgres://u:${SECRET}@localhost:0/app`), ConfigurationError, 'INVALID_URI', [/port 0 is out of range/]);
    assert.ok(!everyRendering(zero).includes(SECRET));
  });

  it('malformed percent-encoding names the part and says to write % as %25', async () => {
    const password = await expectError(construct(`postgres://u:${SECRET}%zz@localhost/app`), ConfigurationError, 'INVALID_URI', [
      /the password has malformed percent-encoding \(write % as %25\)/,
    ]);
    assert.ok(!everyRendering(password).includes(SECRET));
    await expectError(construct('postgres://u@localhost/app%E0%A4%A'), ConfigurationError, 'INVALID_URI', [/the database name has malformed percent-encoding/]);
    await expectError(construct('postgres://%zzuser@localhost/app'), ConfigurationError, 'INVALID_URI', [/the user name has malformed percent-encoding/]);
  });

  it('a password with an unencoded @ or / is hidden whole, and the / case says what to encode', async () => {
    // "@" in a password: the last "@" of the authority ends it, for the URL parser and for the redaction alike.
    assert.equal(redactUri(`postgres://u:${SECRET}@x@localhost/app`), 'postgres://u:***@localhost/app');
    const db = new DatabaseManager(`postgres://u:${SECRET}@x@127.0.0.1:1/app`, tmpdir());
    cleanups.push(() => db.close());
    assert.equal(db.url, 'postgres://u:***@127.0.0.1:1/app');
    const error = await expectError(construct(`postgres://u:pa/${SECRET}@localhost/app`), ConfigurationError, 'INVALID_URI', [
      /must be percent-encoded: \/ as %2F/,
    ]);
    assert.ok(!everyRendering(error).includes(SECRET), error.message);
  });

  it('the password never appears: errors (with their cause chain), the logger, db.url, and the CLI text and --json', async () => {
    const dir = await migrationsDir({ '001_secret_t.sql': 'CREATE TABLE secret_t (id INTEGER);\n', '002_broken.sql': 'SELEC 1;\n' });
    const schema = `t_secret_${process.pid}`;
    const uri = withPassword(PG_URL);
    const lines: string[] = [];
    const logger = { info: (line: string) => lines.push(line), warn: (line: string) => lines.push(line) };
    const db = new DatabaseManager(uri, dir, { schema, logger });
    cleanups.push(async () => {
      await db.drop().catch(() => undefined);
      await db.query(sql`DROP SCHEMA IF EXISTS ${identifier(schema)} CASCADE`);
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });
    assert.ok(db.url.includes(':***@') && !db.url.includes(SECRET), db.url);
    // A migration failure on a URI with a password: the message, String(), inspect() and the cause chain.
    const failed = await expectError(() => db.sync(), MigrationError, 'MIGRATION_FAILED', [/^002_broken\.sql:1:1: syntax error/]);
    assert.ok(!everyRendering(failed).includes(SECRET));
    assert.ok(lines.some((line) => line.startsWith('applied 001_secret_t.sql')), lines.join('\n'));
    assert.ok(!lines.join('\n').includes(SECRET));
    // An unreachable server.
    const unreachable = new DatabaseManager(withPassword(PG_URL, 1), dir, { logger });
    cleanups.push(() => unreachable.close());
    const lost = await expectError(() => unreachable.sync(), ConnectionError, 'CONNECTION_FAILED', [/^cannot use database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: .*ECONNREFUSED/]);
    assert.ok(!everyRendering(lost).includes(SECRET));
    // The CLI, text and --json, on success, on a failing migration and on an unreachable server.
    const cwd = await tempDir();
    for (const args of [
      ['status', '--database', uri, '--dir', dir, '--schema', schema],
      ['sync', '--database', uri, '--dir', dir, '--schema', schema],
      ['sync', '--database', withPassword(PG_URL, 1), '--dir', dir],
      ['sync', '--database', `postgres://u:${SECRET}@localhost:abc/x`, '--dir', dir],
    ]) {
      for (const json of [[], ['--json'], ['--stack']]) {
        const run = await cli([...args, ...json], cwd);
        assert.ok(!(run.stdout + run.stderr).includes(SECRET), `${args[0]} ${json.join(' ')} printed the password`);
        if (json[0] !== '--json') assert.ok((run.stdout + run.stderr).includes(':***@'), run.stdout + run.stderr);
      }
    }
  });

  it('a SQLite path in a missing directory is a ConnectionError that says to create the directory', async () => {
    const missing = join(await tempDir(), 'no', 'such', 'dir', 'app.db');
    await expectError(construct(`sqlite://${missing}`), ConnectionError, 'CONNECTION_FAILED', [
      /^cannot open SQLite database ".*\/no\/such\/dir\/app\.db": /,
      /create the directory first/,
    ]);
  });

  it('a relative sqlite://path with two slashes says to use one or three', async () => {
    await expectError(construct('sqlite://data/app.db'), ConfigurationError, 'INVALID_URI', [/use sqlite:relative\/path\.db or sqlite:\/\/\/absolute\/path\.db/]);
    await expectError(construct('sqlite:'), ConfigurationError, 'INVALID_URI', [/the SQLite file path is empty/]);
  });

  it('a read-only SQLite database (readonly: true) refuses to migrate, changing nothing, and says why on writes', async () => {
    const folder = await tempDir();
    const file = join(folder, 'ro.db');
    const dir = await migrationsDir({ '001_users.sql': BASIC_MIGRATIONS['001_users.sql']! });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const writer = new DatabaseManager(`sqlite://${file}`, dir);
    assert.equal(await writer.sync(), SyncResult.CREATED);
    await writer.close();
    await writeFile(join(dir, '002_groups.sql'), BASIC_MIGRATIONS['002_groups.sql']!);

    // As root, chmod 0444 does not stop writes; SQLite's read-only mode does, and is what a read-only mount gives.
    const db = new DatabaseManager(`sqlite://${file}`, dir, { engineArgs: { readonly: true } });
    cleanups.push(() => db.close());
    const before = await snapshot(db);
    assert.deepEqual(recordedVersions(before), [1]);
    await expectError(() => db.sync(), ConfigurationError, 'READ_ONLY_DATABASE', [/is opened read-only \(engineArgs\.readonly\)/, /open it without readonly/]);
    await expectError(() => db.stamp(2), ConfigurationError, 'READ_ONLY_DATABASE', [/read-only/]);
    await expectError(() => db.drop(), ConfigurationError, 'READ_ONLY_DATABASE', [/read-only/]);
    const write = await expectError<QueryError>(() => db.execute(sql`INSERT INTO users (email) VALUES (${'a@x'})`), QueryError, 'QUERY_FAILED', [
      /attempt to write a readonly database/,
      /opened read-only \(engineArgs\.readonly\) or it or its folder is not writable: open it read-write/,
    ]);
    assert.equal(write.sqlState, 'SQLITE_READONLY');
    // Reading still works, and reports the pending file.
    assert.equal(await db.getStatus(), DatabaseStatus.UPGRADE_AVAILABLE);
    await assertUnchanged(db, before);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Migration folders: everything is refused before anything runs, the database stays as it was.
// ---------------------------------------------------------------------------------------------------------------

interface FolderCase {
  title: string;
  /** Added next to 001_users.sql (applied before the case runs). */
  files?: Record<string, string | Uint8Array>;
  /** Extra preparation of the folder. */
  prepare?: (dir: string) => Promise<void>;
  code: string;
  says: RegExp[];
  files_named?: string[];
}

const FOLDER_CASES: FolderCase[] = [
  {
    title: 'two files with one version',
    files: { '002_groups.sql': 'CREATE TABLE groups (id INTEGER);\n', '002_teams.sql': 'CREATE TABLE teams (id INTEGER);\n' },
    code: 'DUPLICATE_VERSION',
    says: [/version 2 is used by more than one migration: 002_groups\.sql, 002_teams\.sql; give each its own number/],
    files_named: ['002_groups.sql', '002_teams.sql'],
  },
  {
    title: 'leading zeros colliding (02_a.sql, 2_b.sql)',
    files: { '02_a.sql': 'CREATE TABLE a (id INTEGER);\n', '2_b.sql': 'CREATE TABLE b (id INTEGER);\n' },
    code: 'DUPLICATE_VERSION',
    says: [/version 2 is used by more than one migration: 02_a\.sql, 2_b\.sql/],
    files_named: ['02_a.sql', '2_b.sql'],
  },
  {
    title: 'a down file without its up file',
    files: { '002_groups.down.sql': 'DROP TABLE groups;\n' },
    code: 'ORPHAN_DOWN',
    says: [/down migration 002_groups\.down\.sql has no up migration for version 2; add it or delete the down file/],
    files_named: ['002_groups.down.sql'],
  },
  {
    title: 'a version beyond 2^53',
    files: { '9007199254740993_huge.sql': 'CREATE TABLE huge (id INTEGER);\n' },
    code: 'VERSION_TOO_LARGE',
    says: [/has version 9007199254740993, beyond the largest exact integer \(9007199254740991\); use a smaller number/],
  },
  {
    title: 'a file that is not UTF-8 (Latin-1)',
    files: { '002_latin1.sql': Buffer.from("CREATE TABLE cafe (name TEXT DEFAULT 'caf\u00e9');\n", 'latin1') },
    code: 'NOT_UTF8',
    says: [/"002_latin1\.sql" is not valid UTF-8 \(line 1\); save it as UTF-8/],
  },
  {
    title: 'a name with a dot in it',
    files: { '002_add.groups.sql': 'CREATE TABLE groups (id INTEGER);\n' },
    code: 'BAD_FILE_NAME',
    says: [/"002_add\.groups\.sql" does not follow <digits>_<name>\[\.postgres\|\.sqlite\]\[\.down\]\.sql \(the name after the version may not contain dots\)/],
  },
  {
    title: 'the dialect written after .down',
    files: { '002_groups.sql': 'CREATE TABLE groups (id INTEGER);\n', '002_groups.down.sqlite.sql': 'DROP TABLE groups;\n' },
    code: 'BAD_FILE_NAME',
    says: [/write the dialect before \.down: 002_groups\.sqlite\.down\.sql/],
  },
  {
    title: 'a file replaced by a dangling symlink (unreadable)',
    prepare: (dir) => symlink(join(dir, 'gone', 'nowhere.sql'), join(dir, '002_groups.sql')),
    code: 'UNREADABLE_FILE',
    says: [/cannot read migration file "002_groups\.sql": ENOENT/, /it must be a readable file/],
  },
  {
    title: 'a directory named like a migration (unreadable)',
    prepare: (dir) => mkdir(join(dir, '002_groups.sql')),
    code: 'UNREADABLE_FILE',
    says: [/migration file "002_groups\.sql" is not a regular file \(a folder, FIFO, socket or device\)/, /migrations must be regular files/],
  },
  {
    title: 'BEGIN/COMMIT in a transactional file',
    files: { '002_own_tx.sql': 'CREATE TABLE own_tx (id INTEGER);\nBEGIN;\nINSERT INTO own_tx VALUES (1);\nCOMMIT;\n' },
    code: 'TRANSACTION_CONTROL',
    says: [/^002_own_tx\.sql:2:1: BEGIN would end the transaction that each migration runs in; remove it, or add the line "-- sql-helpers:no-transaction"/],
  },
  {
    title: 'a COMMIT alone in a transactional file',
    files: { '002_commit.sql': 'CREATE TABLE committed (id INTEGER);\n\n  COMMIT;\n' },
    code: 'TRANSACTION_CONTROL',
    says: [/^002_commit\.sql:3:3: COMMIT would end the transaction/],
  },
];

for (const dialect of dialects) {
  describe(`bad input: migration folders on ${dialect}`, () => {
    const { setup, tempDir } = harness();

    for (const folderCase of FOLDER_CASES) {
      it(`refuses ${folderCase.title} before anything runs`, async () => {
        const { db, dir } = await setup(dialect, { '001_users.sql': BASIC_MIGRATIONS['001_users.sql']! });
        assert.equal(await db.sync(), SyncResult.CREATED);
        const before = await snapshot(db);
        for (const [name, content] of Object.entries(folderCase.files ?? {})) await writeFile(join(dir, name), content);
        await folderCase.prepare?.(dir);
        // A valid pending file as well: it must not run either.
        await writeFile(join(dir, '005_later.sql'), 'CREATE TABLE later (id INTEGER);\n');
        for (const run of [() => db.sync(), () => db.upgrade(), () => db.getStatus(), () => db.stamp('head')]) {
          const error = await expectError<MigrationFileError>(run, MigrationFileError, folderCase.code, folderCase.says);
          if (folderCase.files_named) assert.deepEqual(error.files, folderCase.files_named);
          else assert.equal(error.files.length, 1);
        }
        await assertUnchanged(db, before);
      });
    }

    it('refuses a missing migrations folder, creating nothing', async () => {
      const { db, open } = await setup(dialect);
      const before = await snapshot(db);
      const missing = join(await tempDir(), 'sql');
      const elsewhere = open(missing);
      for (const run of [() => elsewhere.sync(), () => elsewhere.getStatus(), () => elsewhere.getLatestRevision()]) {
        await expectError(run, MigrationFileError, 'MIGRATIONS_DIR_MISSING', [/migrations folder ".*\/sql" does not exist; create it or pass the right folder \(--dir\)/]);
      }
      await assertUnchanged(db, before);
    });

    it('sync on an empty folder changes nothing (not even a version table) and warns', async () => {
      const { database } = await setup(dialect);
      const empty = await tempDir();
      const warnings: string[] = [];
      const db = new DatabaseManager(database.uri, empty, { ...database.options, logger: { info: () => undefined, warn: (line) => warnings.push(line) } });
      try {
        const before = await snapshot(db);
        assert.equal(await db.sync(), SyncResult.ALREADY_UP_TO_DATE);
        assert.equal(await db.sync(), SyncResult.ALREADY_UP_TO_DATE);
        assert.deepEqual(warnings.length, 2);
        assert.match(warnings[0]!, /^no migration files in ".*": nothing to apply$/);
        assert.equal(await db.getStatus(), DatabaseStatus.NO_INFO);
        assert.equal(await db.getLatestRevision(), null);
        await assertUnchanged(db, before);
      } finally {
        await db.close();
      }
    });

    it('an empty folder with versions recorded is refused as DATABASE_AHEAD, not taken as "nothing to do"', async () => {
      const { db, open } = await setup(dialect);
      await db.sync();
      const before = await snapshot(db);
      const emptied = open(await tempDir());
      await expectError(() => emptied.sync(), MigrationStateError, 'DATABASE_AHEAD', [/newer than every file here \(latest none\)/, /deploy the newer ones/]);
      assert.equal(await emptied.getStatus(), DatabaseStatus.AHEAD);
      await assertUnchanged(db, before);
    });

    it('accepts names with spaces and unicode, and ignores non-.sql files, dotfiles and plain subfolders', async () => {
      const { db, dir } = await setup(dialect, {
        '001_create users table.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY);\n',
        '002_café_ünïcødé_表.sql': 'CREATE TABLE "café" (id INTEGER PRIMARY KEY);\n',
        'README.md': '# not a migration\n',
        '.003_hidden.sql': 'SELEC broken;\n',
        '003_notes.sql.bak': 'SELEC broken;\n',
      });
      await mkdir(join(dir, 'archive'));
      await writeFile(join(dir, 'archive', '004_old.sql'), 'SELEC broken;\n');
      assert.equal(await db.sync(), SyncResult.CREATED);
      const { versions, tables } = await snapshot(db);
      assert.deepEqual(
        versions.map((row) => [row.version, row.name]),
        [
          [1, 'create users table'],
          [2, 'café_ünïcødé_表'],
        ],
      );
      assert.ok(tables.includes('café'));
      assert.deepEqual((await db.listMigrations()).map((entry) => entry.state), ['applied', 'applied']);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Migration content
// ---------------------------------------------------------------------------------------------------------------

for (const dialect of dialects) {
  describe(`bad input: migration content on ${dialect}`, () => {
    const { setup } = harness();
    const usersOnly = { '001_users.sql': BASIC_MIGRATIONS['001_users.sql']! };

    it('a syntax error names file, line and column (the statement start on SQLite) and rolls the file back', async () => {
      const { db } = await setup(dialect, {
        ...usersOnly,
        '002_bad.sql': '-- the second migration\nCREATE TABLE ok_table (id INTEGER);\n\nINSERT INTO ok_table (id)\n  VALUES (1)) ;\n',
      });
      const error = await expectError<MigrationError>(() => db.sync(), MigrationError, 'MIGRATION_FAILED', [
        /syntax error/,
        /\(the migration was rolled back, nothing of it remains\)$/,
      ]);
      assert.equal(error.file, '002_bad.sql');
      assert.equal(error.version, 2);
      const [line, column] = dialect === 'postgres' ? [5, 13] : [4, 1];
      assert.equal(error.line, line);
      assert.equal(error.columnNumber, column);
      assert.ok(error.message.startsWith(`002_bad.sql:${line}:${column}: `), error.message);
      assert.equal(error.sqlState, dialect === 'postgres' ? '42601' : 'SQLITE_ERROR');
      assert.ok(error.cause instanceof Error, 'keeps the driver error');
      const after = await snapshot(db);
      assert.deepEqual(recordedVersions(after), [1]);
      assert.ok(!after.tables.includes('ok_table'));
    });

    it('a runtime error in the middle of a multi-statement file names its line, and nothing of the file remains', async () => {
      const { db } = await setup(dialect, usersOnly);
      await db.sync();
      const before = await snapshot(db);
      const dir = db.migrationsDir;
      await writeFile(
        join(dir, '002_seed.sql'),
        "CREATE TABLE seeds (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\nINSERT INTO seeds VALUES (1, 'a');\nINSERT INTO users (id, email) VALUES (1, 'x@y');\n" +
          "INSERT INTO seeds VALUES (2, NULL);\nINSERT INTO seeds VALUES (3, 'c');\n",
      );
      const error = await expectError<MigrationError>(() => db.sync(), MigrationError, 'MIGRATION_FAILED', [
        /^002_seed\.sql:4:1: /,
        /null value|NOT NULL constraint failed/i,
        /rolled back, nothing of it remains/,
      ]);
      assert.equal(error.line, 4);
      assert.equal(error.sqlState, dialect === 'postgres' ? '23502' : 'SQLITE_CONSTRAINT_NOTNULL');
      await assertUnchanged(db, before);
    });

    it('a no-transaction file runs statement by statement: when statement 2 of 3 fails, 1 stays, 3 never ran, the version is not recorded', async () => {
      const { db, dir } = await setup(dialect, usersOnly);
      await db.sync();
      await writeFile(
        join(dir, '002_loose.sql'),
        '-- sql-helpers:no-transaction\nCREATE TABLE loose_one (id INTEGER);\nINSERT INTO missing_table VALUES (1);\nCREATE TABLE loose_three (id INTEGER);\n',
      );
      const error = await expectError<MigrationError>(() => db.sync(), MigrationError, 'MIGRATION_FAILED', [
        /^002_loose\.sql:3:\d+: /,
        /missing_table/,
        /statements before it in this no-transaction file stay applied; the version was not recorded/,
      ]);
      assert.equal(error.line, 3);
      assert.equal(error.sqlState, dialect === 'postgres' ? '42P01' : 'SQLITE_ERROR');
      const after = await snapshot(db);
      assert.deepEqual(recordedVersions(after), [1]);
      assert.ok(after.tables.includes('loose_one'), 'statement 1 stays applied');
      assert.ok(!after.tables.includes('loose_three'), 'statement 3 never ran');
      assert.deepEqual((await db.listMigrations()).map((entry) => entry.state), ['applied', 'pending']);
      // Made idempotent, the file runs again from the top and is recorded.
      await writeFile(
        join(dir, '002_loose.sql'),
        '-- sql-helpers:no-transaction\nCREATE TABLE IF NOT EXISTS loose_one (id INTEGER);\nCREATE TABLE loose_three (id INTEGER);\n',
      );
      assert.equal(await db.sync(), SyncResult.UPGRADED);
      assert.deepEqual(recordedVersions(await snapshot(db)), [1, 2]);
    });

    it('a statement that cannot run in a transaction, without the marker, hints at the marker and changes nothing', async () => {
      const { db, dir } = await setup(dialect, usersOnly);
      await db.sync();
      const before = await snapshot(db);
      const statement = dialect === 'postgres' ? 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);' : 'VACUUM;';
      await writeFile(join(dir, '002_index.sql'), `CREATE TABLE before_index (id INTEGER);\n${statement}\n`);
      const error = await expectError<MigrationError>(() => db.sync(), MigrationError, 'MIGRATION_FAILED', [
        /^002_index\.sql:2:1: /,
        /cannot (run inside a transaction block|VACUUM from within a transaction)/,
        /this statement cannot run in a transaction: add the line "-- sql-helpers:no-transaction" to the file/,
      ]);
      if (dialect === 'postgres') assert.equal(error.sqlState, '25001');
      await assertUnchanged(db, before);
    });

    it('a BEGIN inside a function body or trigger is not mistaken for transaction control', async () => {
      const body =
        dialect === 'postgres'
          ? 'CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.email := lower(NEW.email);\n  RETURN NEW;\nEND;\n$$;\n' +
            'CREATE TRIGGER users_touch BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION touch();\n'
          : 'CREATE TRIGGER users_touch AFTER INSERT ON users BEGIN\n  UPDATE users SET email = lower(NEW.email) WHERE id = NEW.id;\nEND;\n';
      const { db } = await setup(dialect, { ...usersOnly, '002_trigger.sql': body });
      assert.equal(await db.sync(), SyncResult.CREATED);
      await db.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'MiXeD@X'})`);
      assert.deepEqual(await db.query(sql`SELECT email FROM users`), [{ email: 'mixed@x' }]);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// State: the files and the version table disagree
// ---------------------------------------------------------------------------------------------------------------

for (const dialect of dialects) {
  describe(`bad input: recorded state on ${dialect}`, () => {
    const { setup, tempDir } = harness();

    async function applied() {
      const env = await setup(dialect);
      assert.equal(await env.db.sync(), SyncResult.CREATED);
      return { ...env, before: await snapshot(env.db) };
    }
    const pending4 = (dir: string) => writeFile(join(dir, '004_posts.sql'), 'CREATE TABLE posts (id INTEGER);\n');

    it('an applied file that was edited stops sync and upgrade before anything runs', async () => {
      const { db, dir, before } = await applied();
      await writeFile(join(dir, '002_groups.sql'), 'CREATE TABLE groups (id INTEGER PRIMARY KEY, name TEXT, extra TEXT);\n');
      await pending4(dir);
      for (const run of [() => db.sync(), () => db.upgrade()]) {
        const error = await expectError<MigrationStateError>(run, MigrationStateError, 'CHECKSUM_MISMATCH', [
          /002_groups\.sql was changed after it was applied \(recorded checksum [0-9a-f]{12}…, file [0-9a-f]{12}…\); restore it and put the change in a new migration/,
        ]);
        assert.deepEqual(error.versions, [2]);
      }
      assert.deepEqual((await db.verify()).problems.map((problem) => problem.code), ['CHECKSUM_MISMATCH']);
      await assertUnchanged(db, before);
    });

    it('an applied file that was deleted stops sync, naming the file to restore', async () => {
      const { db, dir, before } = await applied();
      await unlink(join(dir, '002_groups.sql'));
      await unlink(join(dir, '002_groups.down.sql'));
      await pending4(dir);
      const error = await expectError<MigrationStateError>(() => db.sync(), MigrationStateError, 'MISSING_FILE', [
        /version 2 \(groups\) was applied but its file is gone; restore 002_groups\.sql/,
      ]);
      assert.deepEqual(error.versions, [2]);
      await assertUnchanged(db, before);
    });

    it('a renamed file with the same version and content is the same migration: the checksum covers content only', async () => {
      const { db, dir, before } = await applied();
      await rename(join(dir, '002_groups.sql'), join(dir, '002_teams.sql'));
      await rename(join(dir, '002_groups.down.sql'), join(dir, '002_teams.down.sql'));
      assert.equal(await db.sync(), SyncResult.ALREADY_UP_TO_DATE);
      assert.deepEqual(await db.verify(), { ok: true, problems: [] });
      const entry = (await db.listMigrations()).find((listing) => listing.version === 2);
      assert.equal(entry?.state, 'applied');
      assert.equal(entry?.name, 'teams', 'the listing shows the file name; the version row keeps the name it was applied with');
      await assertUnchanged(db, before);
    });

    it('a renumbered applied file is a missing version plus an out-of-order one: refused', async () => {
      const { db, dir, before } = await applied();
      await rename(join(dir, '002_groups.sql'), join(dir, '004_groups.sql'));
      await unlink(join(dir, '002_groups.down.sql'));
      const error = await expectError<MigrationStateError>(() => db.sync(), MigrationStateError, 'MISSING_FILE', [/^version 2 \(groups\) was applied but its file is gone/]);
      assert.deepEqual(error.versions, [2]);
      await assertUnchanged(db, before);
    });

    it('a pending file older than the newest applied one is refused unless out-of-order is allowed', async () => {
      const { db, dir, open } = await setup(dialect, { '001_users.sql': BASIC_MIGRATIONS['001_users.sql']!, '003_later.sql': 'CREATE TABLE later (id INTEGER);\n' });
      await db.sync();
      const before = await snapshot(db);
      await writeFile(join(dir, '002_late.sql'), 'CREATE TABLE late (id INTEGER);\n');
      const error = await expectError<MigrationStateError>(() => db.sync(), MigrationStateError, 'OUT_OF_ORDER', [
        /002_late\.sql is pending but the newer version 3 is already applied; renumber it above the applied versions, or allow out-of-order migrations/,
      ]);
      assert.deepEqual(error.versions, [2]);
      await assertUnchanged(db, before);
      assert.equal(await open(dir, { allowOutOfOrder: true }).sync(), SyncResult.UPGRADED);
      assert.deepEqual(recordedVersions(await snapshot(db)), [1, 2, 3]);
    });

    it('a database ahead of its files is AHEAD, never upgradable, and sync refuses it', async () => {
      const { db, before, open } = await applied();
      const older = await migrationsDir({ '001_users.sql': BASIC_MIGRATIONS['001_users.sql']!, '002_groups.sql': BASIC_MIGRATIONS['002_groups.sql']! });
      const oldCode = open(older);
      try {
        assert.equal(await oldCode.getStatus(), DatabaseStatus.AHEAD);
        const error = await expectError<MigrationStateError>(() => oldCode.sync(), MigrationStateError, 'DATABASE_AHEAD', [
          /the database has version 3 \(memberships\) applied, newer than every file here \(latest 2\); these files are older than the database: deploy the newer ones/,
        ]);
        assert.deepEqual(error.versions, [3]);
        await expectError(() => oldCode.upgrade(), MigrationStateError, 'DATABASE_AHEAD', [/newer than every file/]);
      } finally {
        await rm(older, { recursive: true, force: true });
      }
      await assertUnchanged(db, before);
    });

    it('a version table of another shape is refused by sync and status, and left alone', async () => {
      const { db } = await setup(dialect);
      await db.execute(sql`CREATE TABLE sql_helpers_migrations (id INTEGER PRIMARY KEY, script TEXT)`);
      await db.execute(sql`INSERT INTO sql_helpers_migrations (id, script) VALUES (1, ${'V1__init.sql'})`);
      const before = await snapshot(db);
      for (const run of [() => db.sync(), () => db.getStatus(), () => db.upgrade(), () => db.getCurrentRevision()]) {
        await expectError(run, MigrationStateError, 'VERSION_TABLE_SHAPE', [
          /version table (".+"\.)?"sql_helpers_migrations" exists but lacks the columns version, name, checksum, applied_at, duration_ms/,
          /it may belong to another tool: choose another versionTable/,
        ]);
      }
      await assertUnchanged(db, before);
    });

    it('stamp, upgrade and downgrade to a version that does not exist are refused, listing the known ones', async () => {
      const { db, before } = await applied();
      await expectError(() => db.stamp(7), MigrationStateError, 'UNKNOWN_TARGET', [/there is no migration with version 7; known versions: 1, 2, 3$/]);
      await expectError(() => db.upgrade(99), MigrationStateError, 'UNKNOWN_TARGET', [/no migration with version 99/]);
      await expectError(() => db.downgrade(5), MigrationStateError, 'UNKNOWN_TARGET', [/no migration with version 5; known versions: 1, 2, 3 \(or 0 for none\)/]);
      for (const target of ['banana', '-1', '1.5', '']) {
        await expectError(() => db.downgrade(target), MigrationStateError, 'UNKNOWN_TARGET', [/is neither "head" nor a version number/]);
      }
      await assertUnchanged(db, before);
    });

    it('upgrade or stamp to a version below the current one says to use downgrade', async () => {
      const { db, before } = await applied();
      await expectError(() => db.upgrade(1), MigrationStateError, 'TARGET_BELOW_CURRENT', [/version 3 is applied, above the target 1; use downgrade to go back/]);
      await expectError(() => db.stamp(2), MigrationStateError, 'TARGET_BELOW_CURRENT', [/use downgrade to go back/]);
      await assertUnchanged(db, before);
    });

    it('downgrade with a missing down file refuses, changing nothing, and names the file to add', async () => {
      const { db, dir, before } = await applied();
      await unlink(join(dir, '002_groups.down.sql'));
      const error = await expectError<MigrationStateError>(() => db.downgrade(0), MigrationStateError, 'MISSING_DOWN', [
        /^cannot downgrade to 0, nothing was changed: 002_groups\.sql has no down file \(002_groups\.down\.sql\)$/,
      ]);
      assert.deepEqual(error.versions, [2]);
      await assertUnchanged(db, before);
      // Above the gap it still works.
      await db.downgrade(2);
      assert.deepEqual(recordedVersions(await snapshot(db)), [1, 2]);
    });

    it('create() on a database that has versions refuses and says to use sync', async () => {
      const { db, before } = await applied();
      const error = await expectError<MigrationStateError>(() => db.create(), MigrationStateError, 'ALREADY_CREATED', [
        /the database already has 3 version\(s\) recorded \(latest 3\); use sync\(\) or upgrade\(\)/,
      ]);
      assert.deepEqual(error.versions, [1, 2, 3]);
      await assertUnchanged(db, before);
    });

    it('a migrations folder that vanished after start fails cleanly', async () => {
      const { db, open, before } = await applied();
      const gone = await tempDir();
      const late = open(gone);
      await rm(gone, { recursive: true, force: true });
      await expectError(() => late.sync(), MigrationFileError, 'MIGRATIONS_DIR_MISSING', [/does not exist/]);
      await assertUnchanged(db, before);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers: bad input only (their normal behaviour is tested elsewhere)
// ---------------------------------------------------------------------------------------------------------------

const HELPER_MIGRATIONS: Record<string, string> = {
  ...BASIC_MIGRATIONS,
  '004_notes.sql': 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n',
  '005_unicode.sql': 'CREATE TABLE "ünïcødé" ("ñame" TEXT NOT NULL UNIQUE, "x;y" TEXT);\n',
};

interface UserRow {
  id: number;
  email: string;
}

describe('bad input: table() descriptions (no database)', () => {
  it('a name over 63 bytes is refused, counted in UTF-8 bytes, and 63 is fine', async () => {
    await expectError(() => table('t'.repeat(64), { primaryKey: 'id' }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [
      /is longer than 63 bytes; PostgreSQL would truncate it, so use a shorter name/,
    ]);
    await expectError(() => table('é'.repeat(32), { primaryKey: 'id' }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/longer than 63 bytes/]);
    await expectError(() => table('users', { primaryKey: 'c'.repeat(64) }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/longer than 63 bytes/]);
    assert.equal(table('t'.repeat(63), { primaryKey: 'id' }).name, 't'.repeat(63));
  });

  it('empty names, NUL characters, two dots and an empty primary key are refused', async () => {
    await expectError(() => table('', { primaryKey: 'id' }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/must be a non-empty string/]);
    await expectError(() => table('us\0ers', { primaryKey: 'id' }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/contains a NUL character/]);
    await expectError(() => table('a.b.c', { primaryKey: 'id' }), ConfigurationError, 'INVALID_TABLE', [/has more than one dot; use table\(name, \{ schema \}\)/]);
    await expectError(() => table('users', { primaryKey: [] }), ConfigurationError, 'INVALID_TABLE', [/needs at least one primary-key column/]);
  });
});

for (const dialect of dialects) {
  describe(`bad input: helpers on ${dialect}`, () => {
    const { setup } = harness();
    const users = table<UserRow>('users', { primaryKey: 'id' });
    const memberships = table<{ user_id: number; group_id: number }, 'user_id' | 'group_id'>('memberships', { primaryKey: ['user_id', 'group_id'] });
    const notes = table<{ id: number; body: string }>('notes', { primaryKey: 'id' });

    async function seeded() {
      const env = await setup(dialect, HELPER_MIGRATIONS);
      await env.db.sync();
      await env.db.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'a@x'}), (2, ${'b@x'})`);
      await env.db.execute(sql`INSERT INTO groups (id, name) VALUES (1, ${'admins'})`);
      await env.db.execute(sql`INSERT INTO memberships (user_id, group_id) VALUES (1, 1)`);
      return { ...env, before: await snapshot(env.db) };
    }

    it('empty attrs (or only undefined values) are refused by every matching helper', async () => {
      const { db, before } = await seeded();
      await expectError(() => getOne(db, users, {}), ConfigurationError, 'EMPTY_ATTRS', [/getOne on users needs at least one column in attrs/]);
      await expectError(() => getOrCreate(db, users, { email: undefined }), ConfigurationError, 'EMPTY_ATTRS', [/getOrCreate on users needs at least one column/]);
      await expectError(() => updateOrCreate(db, users, {}, { defaults: { email: 'z@x' } }), ConfigurationError, 'EMPTY_ATTRS', [/updateOrCreate on users/]);
      await expectError(() => getOne(db, users, [] as never), ConfigurationError, 'INVALID_ATTRS', [/attrs for users must be an object of column → value/]);
      await assertUnchanged(db, before);
    });

    it('an unknown column is an UndefinedColumnError naming the helper and table', async () => {
      const { db, before } = await seeded();
      const loose = users as unknown as ReturnType<typeof table>;
      await expectError(() => getOne(db, loose, { nope: 1 }), UndefinedColumnError, 'UNDEFINED_COLUMN', [
        /^getOne on users: .*nope/,
        /check the column names in attrs and defaults/,
      ]);
      await expectError(() => getOrCreate(db, loose, { nope: 'x' }), UndefinedColumnError, 'UNDEFINED_COLUMN', [/^getOrCreate on users: /]);
      await expectError(() => getOrCreate(db, loose, { email: 'new@x' }, { defaults: { nope: 1 } }), UndefinedColumnError, 'UNDEFINED_COLUMN', [/nope/]);
      await expectError(() => updateOrCreate(db, loose, { email: 'a@x' }, { defaults: { nope: 1 } }), UndefinedColumnError, 'UNDEFINED_COLUMN', [/nope/]);
      await assertUnchanged(db, before);
    });

    it('attrs and defaults naming the same column are refused before any query', async () => {
      const { db, before } = await seeded();
      await expectError(() => getOrCreate(db, users, { email: 'c@x' }, { defaults: { email: 'd@x', id: 9 } }), ConfigurationError, 'ATTRS_DEFAULTS_OVERLAP', [
        /defaults repeat the attrs column\(s\) email of users; a column goes in one or the other/,
      ]);
      await expectError(() => getOrCreate(db, users, { email: 'c@x' }, { defaults: () => ({ email: 'd@x' }) }), ConfigurationError, 'ATTRS_DEFAULTS_OVERLAP', [
        /defaults repeat/,
      ]);
      // (On SQLite an object createDefaults is only checked when the row is created: see the report of issue 4.)
      await expectError(() => updateOrCreate(db, users, { email: 'new@x' }, { createDefaults: { email: 'e@x' } }), ConfigurationError, 'ATTRS_DEFAULTS_OVERLAP', [
        /createDefaults repeat the attrs column\(s\) email/,
      ]);
      await assertUnchanged(db, before);
    });

    it('getOrCreate / updateOrCreate on columns without a unique constraint say to add one, inserting nothing', async () => {
      const { db, before } = await seeded();
      for (const run of [() => getOrCreate(db, notes, { body: 'hello' }), () => updateOrCreate(db, notes, { body: 'hello' }, { defaults: { id: 5 } })]) {
        const error = await expectError(run, MissingUniqueConstraintError, 'NO_UNIQUE_CONSTRAINT', [
          /needs a unique constraint or index on exactly \(body\) to be atomic/,
          /CREATE UNIQUE INDEX ON notes \(body\)/,
        ]);
        assert.ok(error.cause, 'keeps the database error');
      }
      await assertUnchanged(db, before);
    });

    it('NULL: a null primary key is refused; null in attrs matches IS NULL; null into NOT NULL is a typed error', async () => {
      const { db, before } = await seeded();
      await expectError(() => getByPk(null as never, { session: db, model: users }), ConfigurationError, 'INVALID_PRIMARY_KEY', [
        /primary key of users must be a value or \{ id \}; got null/,
      ]);
      await expectError(() => getByPk(undefined as never, { session: db, model: users }), ConfigurationError, 'INVALID_PRIMARY_KEY', [/got undefined/]);
      await expectError(() => getOne(db, users, { email: null }), NoResultFound, 'NO_RESULT_FOUND', [
        /no row of users matches \(email\)/,
      ]);
      const notNull = await expectError(() => getOrCreate(db, users, { email: null }), NotNullViolationError, 'NOT_NULL_VIOLATION', [/null|NOT NULL/i]);
      assert.equal(notNull.sqlState, dialect === 'postgres' ? '23502' : 'SQLITE_CONSTRAINT_NOTNULL');
      await assertUnchanged(db, before);
    });

    it('quotes, semicolons and unicode in names stay names: no injection, a clear error when absent, and they work when present', async () => {
      const { db, before } = await seeded();
      const evil = table('users"; DROP TABLE users; --', { primaryKey: 'id' });
      await expectError(() => getOne(db, evil, { id: 1 }), UndefinedTableError, 'UNDEFINED_TABLE', [/users"; DROP TABLE users; --|no such table/]);
      const loose = users as unknown as ReturnType<typeof table>;
      await expectError(() => getOne(db, loose, { 'email" = email OR "1': 'x' }), UndefinedColumnError, 'UNDEFINED_COLUMN', [/getOne on users/]);
      await expectError(() => getOne(db, loose, { 'id; DELETE FROM users': 1 }), UndefinedColumnError, 'UNDEFINED_COLUMN', [/getOne on users/]);
      await assertUnchanged(db, before);
      // Present names with unicode and a semicolon are just names.
      const unicode = table<{ ñame: string; 'x;y': string | null }, 'ñame'>('ünïcødé', { primaryKey: 'ñame' });
      const [row, created] = await getOrCreate(db, unicode, { ñame: 'zoë' }, { defaults: { 'x;y': '; DROP TABLE users' } });
      assert.equal(created, true);
      assert.deepEqual({ ...row }, { ñame: 'zoë', 'x;y': '; DROP TABLE users' });
      assert.ok((await tableNames(db)).includes('users'));
    });

    it('a column name over 63 bytes in attrs is refused before any query', async () => {
      const { db, before } = await seeded();
      const loose = users as unknown as ReturnType<typeof table>;
      await expectError(() => getOne(db, loose, { ['c'.repeat(64)]: 1 }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/longer than 63 bytes/]);
      await expectError(() => getOrCreate(db, users, { email: 'q@x' }, { defaults: { ['é'.repeat(32)]: 1 } as never }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [
        /longer than 63 bytes/,
      ]);
      await assertUnchanged(db, before);
    });

    it('a composite primary key given in the wrong shape says which shapes work', async () => {
      const { db, before } = await seeded();
      const shape = /primary key of memberships must be \{ user_id, group_id \} or \[user_id, group_id\]; got /;
      for (const pk of [1, [1], [1, 1, 1], { user_id: 1 }, { user_id: 1, group_id: 1, role: 'x' }, { user_id: 1, group_id: null }, 'user_id=1']) {
        await expectError(() => getByPk(pk as never, { session: db, model: memberships }), ConfigurationError, 'INVALID_PRIMARY_KEY', [shape]);
      }
      assert.deepEqual({ ...(await getByPk([1, 1], { session: db, model: memberships })) }, { user_id: 1, group_id: 1 });
      await expectError(() => getByPk({ id: 1, other: 2 } as never, { session: db, model: users }), ConfigurationError, 'INVALID_PRIMARY_KEY', [/must be a value or \{ id \}/]);
      await assertUnchanged(db, before);
    });

    it('a plain string instead of the sql tag is refused with how to write it', async () => {
      const { db, before } = await seeded();
      await expectError(() => db.query('DELETE FROM users' as never), ConfigurationError, 'NOT_A_SQL_QUERY', [/must be built with the sql tag .* got a plain string/]);
      await expectError(() => db.execute('DELETE FROM users' as never), ConfigurationError, 'NOT_A_SQL_QUERY', [/sql tag/]);
      await assertUnchanged(db, before);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------------------------

describe('bad input: the CLI', () => {
  const { setup, tempDir } = harness();

  async function usage(args: string[], says: RegExp) {
    const cwd = await tempDir();
    const text = await cli(args, cwd);
    assert.equal(text.code, 2, `${args.join(' ')} → ${text.code}: ${text.stderr}`);
    assert.equal(text.stdout, '');
    assert.match(text.stderr, /^usage error: /);
    assert.match(text.stderr, says);
    assert.match(text.stderr, /run with --help for usage$/m);
    assert.ok(text.stderr.trim().split('\n').length <= 2, text.stderr);
    const json = await cli(['--json', ...args], cwd);
    assert.equal(json.code, 2);
    const doc = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'USAGE');
    assert.match(doc.error.message, says);
    assert.equal(json.stderr, '');
  }

  it('an unknown command exits 2 listing the commands', async () => {
    await usage(['migrate'], /unknown command "migrate"; commands: sync, status, current, upgrade, downgrade, stamp, create, drop, new, verify, history/);
  });

  it('an unknown flag exits 2 naming it', async () => {
    await usage(['sync', '--databse', 'sqlite:x.db'], /Unknown option '--databse'/);
  });

  it('a missing argument exits 2 with the command line to write', async () => {
    await usage(['downgrade'], /downgrade needs a target: sql-helpers-migrate downgrade <target>/);
    await usage(['stamp'], /stamp needs a target/);
  });

  it('a flag missing its value exits 2', async () => {
    await usage(['sync', '--dir'], /Option '--dir <value>' argument missing/);
    await usage(['sync', '--dir', '--yes'], /Option '--dir' argument is ambiguous\. Did you forget to specify the option argument for '--dir'\?/);
  });

  for (const dialect of dialects) {
    it(`drop without --yes exits 2 on ${dialect} and drops nothing`, async () => {
      const { db, dir, database } = await setup(dialect);
      await db.sync();
      const before = await snapshot(db);
      const cwd = await tempDir();
      const run = await cli(['drop', '--database', database.uri, '--dir', dir, ...database.cliArgs], cwd);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^usage error: drop deletes every table, view, sequence and type of the schema; run it again with --yes/);
      await assertUnchanged(db, before);
    });

    it(`a bad target on ${dialect} exits 1 with the error code, changing nothing`, async () => {
      const { db, dir, database } = await setup(dialect);
      await db.sync();
      const before = await snapshot(db);
      const cwd = await tempDir();
      const run = await cli(['downgrade', 'banana', '--database', database.uri, '--dir', dir, ...database.cliArgs], cwd);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^error: target "banana" is neither "head" nor a version number \[UNKNOWN_TARGET\]$/m);
      const json = await cli(['downgrade', 'banana', '--json', '--database', database.uri, '--dir', dir, ...database.cliArgs], cwd);
      assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'UNKNOWN_TARGET');
      await assertUnchanged(db, before);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Round two, class 1: a transaction's lifetime never leaks into another caller's (pool of one connection)
// ---------------------------------------------------------------------------------------------------------------

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asserts that `call()` returns a promise (never throws synchronously) that rejects with TRANSACTION_FINISHED. */
async function expectFinished(call: () => Promise<unknown>): Promise<void> {
  let promise: Promise<unknown>;
  assert.doesNotThrow(() => void (promise = call()), 'refused as a rejected promise, never a synchronous throw');
  await expectError(() => promise, SqlHelpersError, 'TRANSACTION_FINISHED', [/has already ended/, /inside the transaction callback/]);
}

for (const dialect of dialects) {
  describe(`bad input: statements from a transaction that has ended on ${dialect}`, () => {
    const { setup } = harness();
    async function onePool() {
      const env = await setup(dialect, BASIC_MIGRATIONS, dialect === 'postgres' ? { engineArgs: { max: 1 } } : {});
      await env.db.sync();
      return env;
    }
    const emails = async (db: DatabaseManager) =>
      (await db.query<{ email: string }>(sql`SELECT email FROM users ORDER BY email`)).map((row) => row.email);

    it('every statement of an ended transaction or savepoint is a rejected TRANSACTION_FINISHED, even while a second caller holds the connection', async () => {
      const { db } = await onePool();
      let outer!: Transaction;
      let inner!: Transaction;
      await db.transaction(async (tx) => {
        outer = tx;
        await tx.transaction(async (sp) => void (inner = sp));
      });
      const before = await snapshot(db);
      // A second caller now holds the only connection; the late statements must not land in its transaction.
      await db.transaction(async (second) => {
        await second.execute(sql`INSERT INTO users (id, email) VALUES (10, ${'second@x'})`);
        for (const late of [outer, inner]) {
          await expectFinished(() => late.execute(sql`INSERT INTO users (id, email) VALUES (11, ${'late@x'})`));
          await expectFinished(() => late.query(sql`SELECT 1`));
          await expectFinished(() => late.one(sql`SELECT 1`));
          await expectFinished(() => late.transaction(async () => undefined));
        }
        await second.execute(sql`INSERT INTO users (id, email) VALUES (12, ${'second2@x'})`);
      });
      assert.deepEqual(await emails(db), ['second2@x', 'second@x']);
      assert.deepEqual((await snapshot(db)).rows.users, before.rows.users! + 2);
    });

    it('an unawaited nested transaction is waited for: the parent commits only after it, and the next caller is untouched', async () => {
      const { db } = await onePool();
      let childDone = false;
      await db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'parent@x'})`);
        void tx.transaction(async (sp) => {
          await pause(30);
          await sp.execute(sql`INSERT INTO users (id, email) VALUES (2, ${'child@x'})`);
          childDone = true;
        });
      });
      assert.ok(childDone, 'the parent did not commit before its savepoint ended');
      await db.transaction(async (second) => void (await second.execute(sql`INSERT INTO users (id, email) VALUES (3, ${'second@x'})`)));
      assert.deepEqual(await emails(db), ['child@x', 'parent@x', 'second@x']);
    });

    it('an unawaited nested transaction that fails fails its parent with that error, and nothing of either remains', async () => {
      const { db } = await onePool();
      const before = await snapshot(db);
      const failure = db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'parent@x'})`);
        tx.transaction(async (sp) => {
          await pause(20);
          await sp.execute(sql`INSERT INTO users (id, email) VALUES (2, ${'parent@x'})`);
        }).catch(() => undefined);
      });
      await expectError(() => failure, QueryError, 'UNIQUE_VIOLATION', [/users/]);
      await assertUnchanged(db, before);
    });

    it('when the parent fails while a savepoint still runs, the savepoint\'s later statements are refused, never run in the next caller\'s transaction', async () => {
      const { db } = await onePool();
      const before = await snapshot(db);
      let lateStatement: Promise<unknown> = Promise.resolve();
      const failure = db.transaction(async (tx) => {
        void tx.transaction(async (sp) => {
          await sp.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'child@x'})`);
          await pause(50);
          lateStatement = sp.execute(sql`INSERT INTO users (id, email) VALUES (2, ${'late@x'})`);
          await lateStatement;
        }).catch(() => undefined);
        await pause(10);
        throw new Error('the parent gives up');
      });
      await assert.rejects(failure, /the parent gives up/);
      // The second caller begins on the same connection while the savepoint's callback is still sleeping.
      await db.transaction(async (second) => {
        await second.execute(sql`INSERT INTO users (id, email) VALUES (3, ${'second@x'})`);
        await pause(80);
        await second.execute(sql`INSERT INTO users (id, email) VALUES (4, ${'second2@x'})`);
      });
      await expectFinished(() => lateStatement);
      assert.deepEqual(await emails(db), ['second2@x', 'second@x']);
      assert.deepEqual((await snapshot(db)).rows.users, before.rows.users! + 2);
    });

    it('a configuredConnection session refuses statements once its function has returned', async () => {
      const { db } = await onePool();
      let kept!: Session;
      await db.configuredConnection(async (session) => void (kept = session))();
      await db.transaction(async (second) => {
        await expectFinished(() => kept.execute(sql`INSERT INTO users (id, email) VALUES (5, ${'late@x'})`));
        await expectFinished(() => kept.transaction(async () => undefined));
        await second.execute(sql`INSERT INTO users (id, email) VALUES (6, ${'second@x'})`);
      });
      assert.deepEqual(await emails(db), ['second@x']);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Round two, class 2: a migration file is what it says, or it is refused before anything runs
// ---------------------------------------------------------------------------------------------------------------

for (const dialect of dialects) {
  describe(`bad input: migration files vetted before anything runs on ${dialect}`, () => {
    const { setup } = harness();
    const FIRST = { '001_users.sql': BASIC_MIGRATIONS['001_users.sql']! };

    /** Applies 001, adds `files`, and expects sync to refuse them with `code`, changing nothing. */
    async function refused(files: Record<string, string | Uint8Array>, code: string, says: RegExp[]) {
      const { db, dir } = await setup(dialect, FIRST);
      await db.sync();
      const before = await snapshot(db);
      for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
      const error = await expectError<MigrationFileError>(() => db.sync(), MigrationFileError, code, says);
      await assertUnchanged(db, before);
      return error;
    }

    it('a NUL byte is refused with file:line:column, before the statements around it run', async () => {
      const error = await refused(
        { '002_b.sql': 'CREATE TABLE before_nul (id INTEGER);\nINSERT \0INTO before_nul VALUES (1);\nCREATE TABLE after_nul (id INTEGER);\n' },
        'NUL_BYTE',
        [/^002_b\.sql:2:8: the file holds a NUL byte/, /remove it/],
      );
      assert.equal(error.line, 2);
    });

    const control = [
      'BEGIN',
      'START TRANSACTION',
      'COMMIT',
      'END',
      'ROLLBACK',
      'SAVEPOINT mine',
      'RELEASE mine',
      'RELEASE SAVEPOINT sql_helpers_migration',
      'ROLLBACK TO SAVEPOINT mine',
    ];
    for (const statement of control) {
      it(`"${statement}" in a transactional file is refused before anything runs`, async () => {
        await refused(
          { '002_b.sql': `CREATE TABLE partial (id INTEGER);\n${statement};\nCREATE TABLE rest (id INTEGER);\n` },
          'TRANSACTION_CONTROL',
          [/^002_b\.sql:2:1: /, /would end the transaction that each migration runs in/, /sql-helpers:no-transaction/],
        );
      });
    }

    it('the no-transaction marker inside a block comment or a string is not obeyed', async () => {
      await refused({ '002_b.sql': '/*\n-- sql-helpers:no-transaction\n*/\nCREATE TABLE partial (id INTEGER);\nCOMMIT;\n' }, 'TRANSACTION_CONTROL', [/COMMIT/]);
      const { db, dir } = await setup(dialect, FIRST);
      await writeFile(join(dir, '002_b.sql'), "SELECT '\n-- sql-helpers:no-transaction\n';\nCREATE TABLE partial (id INTEGER);\nBEGIN;\n");
      await expectError(() => db.sync(), MigrationFileError, 'TRANSACTION_CONTROL', [/BEGIN/]);
      assert.deepEqual(await tableNames(db), [], 'nothing ran, not even 001');
    });

    it('a FIFO named like a migration is refused without blocking the process', { timeout: 10_000 }, async () => {
      const { db, dir } = await setup(dialect, FIRST);
      await db.sync();
      const before = await snapshot(db);
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkfifo', [join(dir, '002_b.sql')]);
      await expectError(() => db.sync(), MigrationFileError, 'UNREADABLE_FILE', [/"002_b\.sql" is not a regular file/, /must be regular files/]);
      await assertUnchanged(db, before);
    });

    // Class 9, decided: refused by name rather than skipped without a word, or taken as "nothing applied".
    it('an upper-case .SQL file is refused by name, saying to rename it', async () => {
      await refused({ '002_b.SQL': 'CREATE TABLE b (id INTEGER);\n' }, 'BAD_FILE_NAME', [/"002_b\.SQL"/, /rename it to 002_b\.sql/]);
    });

    it('version 0 is refused: 0 means "nothing applied", so downgrade 0 could never revert it', async () => {
      await refused({ '0_x.sql': 'CREATE TABLE x (id INTEGER);\n' }, 'VERSION_ZERO', [/"0_x\.sql" has version 0/, /number migrations from 1/]);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Round two, class 3: the CLI's `new` writes only what it was asked to
// ---------------------------------------------------------------------------------------------------------------

describe('bad input: the CLI new command', () => {
  const { tempDir } = harness();
  const { readdir, readFile } = { readdir: async (dir: string) => (await import('node:fs/promises')).readdir(dir), readFile: async (file: string) => (await import('node:fs/promises')).readFile(file, 'utf8') };

  it('a name holding a newline (or any control character) is refused, and no file is written', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '001_keep.sql'), 'CREATE TABLE keep (id INTEGER);\n');
    for (const name of ['add notes\nDROP TABLE keep;', 'tab\there', 'bell\u0007', 'line\u2028sep']) {
      const run = await cli(['new', name, '--dir', dir], dir);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /holds a control character \(newline, tab, …\); use letters, digits and spaces/);
    }
    assert.deepEqual(await readdir(dir), ['001_keep.sql']);
  });

  it('only real migration files count when numbering: notes and backups are ignored', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '001_a.sql'), 'SELECT 1;\n');
    await writeFile(join(dir, '20240101_notes.md'), '# notes\n');
    await writeFile(join(dir, '999_old.sql.bak'), 'SELECT 1;\n');
    const run = await cli(['new', 'next', '--dir', dir], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.ok((await readdir(dir)).includes('002_next.sql'), String(await readdir(dir)));
    assert.equal(await readFile(join(dir, '002_next.sql')), '-- next\n');
  });

  it('never numbers past 2^53 - 1: refused, nothing written', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '9007199254740991_max.sql'), 'SELECT 1;\n');
    const run = await cli(['new', 'one more', '--dir', dir], dir);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /beyond 9007199254740991, the largest the migrator accepts; renumber/);
    assert.deepEqual(await readdir(dir), ['9007199254740991_max.sql']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Round two, class 4: secrets never show, whatever shape the URI or the output takes
// ---------------------------------------------------------------------------------------------------------------

describe('bad input: secrets, round two', () => {
  const { tempDir } = harness();
  const hidden = (text: string, secret = SECRET) => assert.ok(!text.includes(secret), `the secret shows in: ${text}`);
  const local = new URL(PG_URL);
  const authority = `${local.username}:`;
  const hostPath = `@${local.host}${local.pathname}`;

  for (const [label, uri] of Object.entries({
    'an unencoded @ then /': `postgres://${authority}pa@ss/${SECRET}${hostPath}`,
    'an unencoded @ then ?': `postgres://${authority}pa@ss?${SECRET}${hostPath}`,
    'an unencoded @ then #': `postgres://${authority}pa@ss#${SECRET}${hostPath}`,
  })) {
    it(`a password with ${label} is hidden whole: API error, CLI text and --json`, async () => {
      const error = await expectError(() => new DatabaseManager(uri, '/nonexistent'), ConfigurationError, 'INVALID_URI', [/must be percent-encoded/, /@ as %40/]);
      hidden(everyRendering(error));
      hidden(redactUri(uri));
      const cwd = await tempDir();
      for (const extra of [[], ['--json']]) {
        const run = await cli(['status', '--database', uri, ...extra], cwd);
        assert.equal(run.code, 1);
        hidden(run.stdout + run.stderr);
      }
    });
  }

  it('a URL object is taken as its text and printed redacted', async () => {
    const db = new DatabaseManager(new URL(withPassword(PG_URL)), '/nonexistent');
    try {
      hidden(db.url);
      assert.match(db.url, /:\*\*\*@/);
      assert.equal((await db.query<{ one: number }>(sql`SELECT 1 AS one`))[0]!.one, 1);
    } finally {
      await db.close();
    }
    const error = await expectError(() => new DatabaseManager(new URL(`mysql://app:${SECRET}@h/db`), '/x'), ConfigurationError, 'INVALID_URI', [/not supported/]);
    hidden(everyRendering(error));
  });

  it('util.inspect, console.log, String and JSON of the manager and of db.engine never show the password', async () => {
    const db = new DatabaseManager(withPassword(PG_URL), '/nonexistent', { engineArgs: { max: 1 } });
    try {
      await db.query(sql`SELECT 1`); // a live client in the pool too
      const logged: string[] = [];
      const original = console.log;
      console.log = (...args: unknown[]) => void logged.push(args.map((arg) => inspect(arg, { depth: 20 })).join(' '));
      try {
        console.log(db);
      } finally {
        console.log = original;
      }
      const surfaces = [inspect(db, { depth: 20, showHidden: false }), inspect(db.engine, { depth: 20 }), JSON.stringify(db), String(db), ...logged];
      for (const surface of surfaces) hidden(surface);
      assert.match(inspect(db), /DatabaseManager \{[^]*url: 'postgres:\/\/postgres:\*\*\*@/);
      assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(db)) as object), ['dialect', 'url', 'migrationsDir']);
    } finally {
      await db.close();
    }
  });

  it('?password= with a raw space and percent-encoded keys (?pass%77ord=) are hidden whole in db.url', async () => {
    for (const uri of [`${PG_URL}?password=a ${SECRET}&application_name=x`, `${PG_URL}?pass%77ord=${SECRET}`, `${PG_URL}?sslpassword=${SECRET}`]) {
      const db = new DatabaseManager(uri, '/nonexistent');
      try {
        hidden(db.url);
        hidden(inspect(db));
      } finally {
        await db.close();
      }
    }
  });

  it("libpq's socket form postgresql://user@/db?host=/path is accepted", async () => {
    const uri = 'postgresql://postgres@/test?host=/var/run/postgresql';
    const db = new DatabaseManager(uri, '/nonexistent');
    assert.equal(db.url, uri);
    await db.close();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Round two, classes 5 and 6: no file where nobody asked; options checked up front
// ---------------------------------------------------------------------------------------------------------------

describe('bad input: SQLite URIs and options, before any file exists', () => {
  const { tempDir } = harness();
  const { readdir } = { readdir: async (dir: string) => (await import('node:fs/promises')).readdir(dir) };

  it('SQLite query options are refused, never taken as part of a file name (CLI, in its working directory)', async () => {
    const cwd = await tempDir();
    for (const uri of ['sqlite::memory:?cache=shared', 'sqlite:q.db?mode=ro', `sqlite://${join(cwd, 'q.db')}?mode=ro`]) {
      const run = await cli(['status', '--database', uri, '--dir', cwd], cwd);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /SQLite URIs take no query options .*engineArgs/);
      assert.match(run.stderr, /\[INVALID_URI\]/);
    }
    assert.deepEqual(await readdir(cwd), [], 'no file was created');
  });

  const badOptions: Array<[string, Record<string, unknown>, RegExp]> = [
    ['lockTimeoutMs: NaN', { lockTimeoutMs: NaN }, /lockTimeoutMs must be a whole number of milliseconds .*got number NaN/],
    ["lockTimeoutMs: 'abc'", { lockTimeoutMs: 'abc' }, /lockTimeoutMs .*got the string "abc"/],
    ['lockTimeoutMs: -1', { lockTimeoutMs: -1 }, /lockTimeoutMs/],
    ['lockTimeoutMs: Infinity', { lockTimeoutMs: Infinity }, /lockTimeoutMs/],
    ["allowOutOfOrder: 'false'", { allowOutOfOrder: 'false' }, /allowOutOfOrder must be true or false, got the string "false"; convert environment strings/],
    ['a logger without info()', { logger: { warn() {} } }, /logger must have info\(\) and warn\(\) methods .*lacks info\(\)/],
    ['a logger without warn()', { logger: { info() {} } }, /lacks warn\(\)/],
    ['a logger that is a function', { logger: () => undefined }, /logger must have info\(\) and warn\(\)/],
    ['an unknown key', { lockTimeout: 5 }, /unknown option\(s\) "lockTimeout"; the options are engineArgs, versionTable/],
    ['versionTable: 5', { versionTable: 5 }, /versionTable must be a string/],
    ['versionTable with NUL', { versionTable: 'a\0b' }, /versionTable: .*NUL/],
    ['engineArgs: a string', { engineArgs: 'max=1' }, /engineArgs must be a plain object/],
  ];
  for (const [label, options, says] of badOptions) {
    it(`${label} is INVALID_OPTION before the SQLite file is created`, async () => {
      const dir = await tempDir();
      await expectError(() => new DatabaseManager(`sqlite://${join(dir, 'app.db')}`, dir, options as never), ConfigurationError, 'INVALID_OPTION', [says]);
      assert.deepEqual(await readdir(dir), []);
    });
  }

  it('options that are not an object, and a migrationsDir that is not a string, are INVALID_OPTION', async () => {
    await expectError(() => new DatabaseManager('sqlite::memory:', '/x', 'fast' as never), ConfigurationError, 'INVALID_OPTION', [/options argument must be a plain object/]);
    await expectError(() => new DatabaseManager('sqlite::memory:', 42 as never), ConfigurationError, 'INVALID_OPTION', [/migrationsDir must be the path/]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Round two, class 7: one bad value never poisons the next call
// ---------------------------------------------------------------------------------------------------------------

for (const dialect of dialects) {
  describe(`bad input: values and identifiers, round two, on ${dialect}`, () => {
    const { setup } = harness();
    const users = table<{ id: number; email: string; profile?: unknown }>('users', { primaryKey: 'id' });
    const FILES = { '001_users.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, profile TEXT);\n' };
    async function seeded() {
      const env = await setup(dialect, FILES, dialect === 'postgres' ? { engineArgs: { max: 1 } } : {});
      await env.db.sync();
      await env.db.execute(sql`INSERT INTO users (id, email) VALUES (1, ${'a@x'})`);
      return { ...env, before: await snapshot(env.db) };
    }
    const insert = (id: number, profile: unknown) => sql`INSERT INTO users (id, email, profile) VALUES (${id}, ${`u${id}@x`}, ${profile})`;

    it('after a circular object or a BigInt inside JSON, the next valid call of the same shape works', async () => {
      const { db, before } = await seeded();
      const circular: Record<string, unknown> = { name: 'loop' };
      circular.self = circular;
      for (const bad of [circular, { big: 10n }]) {
        await expectError(() => db.execute(insert(2, bad)), ConfigurationError, 'INVALID_VALUE', [/bound value \$3 is an object that cannot be turned into JSON/, /no cycles, BigInt as a string/]);
        await assertUnchanged(db, before);
        await db.transaction(async (tx) => {
          await expectError(() => tx.execute(insert(2, bad)), ConfigurationError, 'INVALID_VALUE', [/JSON/]);
          assert.equal(await tx.execute(insert(2, { fine: true })), 1, 'the same statement shape, in the same transaction');
          throw new Error('roll back');
        }).catch(() => undefined);
        assert.equal(await db.execute(insert(2, { fine: true })), 1);
        await db.execute(sql`DELETE FROM users WHERE id = 2`);
      }
    });

    it('a value whose own serialiser throws inside the driver does not poison the statement name', async () => {
      const { db } = await seeded();
      const throwing = { toPostgres: () => { throw new Error('cannot serialise'); }, toJSON: () => { throw new Error('cannot serialise'); } };
      await assert.rejects(db.execute(insert(3, throwing)), /cannot serialise/);
      assert.equal(await db.execute(insert(3, 'fine')), 1);
      assert.equal(await db.execute(insert(4, 'fine too')), 1);
    });

    it('NaN and Infinity are refused as values: getOrCreate never creates two rows for the same attrs', async () => {
      const { db, before } = await seeded();
      for (const value of [NaN, Infinity, -Infinity]) {
        await expectError(() => getOrCreate(db, users, { email: 'n@x', id: value }), ConfigurationError, 'INVALID_VALUE', [/is (NaN|-?Infinity)/, /pass null, or a finite number/]);
      }
      await assertUnchanged(db, before);
    });

    it('Symbols, functions, invalid Dates, and text with lone surrogates or NUL are refused as values, nothing stored', async () => {
      const { db, before } = await seeded();
      const cases = [
        [Symbol('s'), /a symbol/],
        [() => 1, /a function/],
        [new Date(NaN), /an invalid Date/],
        ['a\uD800b', /a string with a lone UTF-16 surrogate/],
        ['a\0b', /a string with a NUL character/],
      ] as const;
      for (const [value, what] of cases) {
        await expectError(() => db.execute(insert(5, value)), ConfigurationError, 'INVALID_VALUE', [what]);
        await expectError(() => getOrCreate(db, users, { email: 'f@x' }, { defaults: { profile: value } }), ConfigurationError, 'INVALID_VALUE', [what]);
      }
      await assertUnchanged(db, before);
    });

    it('identifiers with NUL or lone surrogates are refused everywhere, also as attrs keys after a cached statement shape', async () => {
      const { db, before } = await seeded();
      const loose = users as unknown as ReturnType<typeof table>;
      await getOne(db, loose, { id: 1, email: 'a@x' }); // caches the shape (id, email)
      for (const key of ['id\0vemail', 'v2:id\0', '\uD800', 'a\uDC00b']) {
        await expectError(() => getOne(db, loose, { [key]: 1 }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/NUL|lone UTF-16 surrogate/]);
        await expectError(() => getOrCreate(db, loose, { [key]: 1 }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/NUL|surrogate/]);
      }
      await expectError(() => table('\uD800', { primaryKey: 'id' }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/lone UTF-16 surrogate; use well-formed Unicode/]);
      await expectError(() => table('t', { primaryKey: '\uDFFF' }), InvalidIdentifierError, 'INVALID_IDENTIFIER', [/surrogate/]);
      await assertUnchanged(db, before);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Round two, class 8: the right class and a message that says what happened
// ---------------------------------------------------------------------------------------------------------------

for (const dialect of dialects) {
  describe(`bad input: the right class and message on ${dialect}`, () => {
    const { setup } = harness();

    it('every call after db.close() is CLOSED, not "version table lacks columns"', async () => {
      const { db, open } = await setup(dialect);
      await db.sync();
      const witness = open();
      const before = await snapshot(witness);
      await db.close();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['sync', () => db.sync()],
        ['getStatus', () => db.getStatus()],
        ['upgrade', () => db.upgrade()],
        ['migrator.upgrade', () => db.migrator.upgrade()],
        ['downgrade', () => db.downgrade(0)],
        ['query', () => db.query(sql`SELECT 1`)],
        ['transaction', () => db.transaction(async () => undefined)],
        ['configuredConnection', () => db.configuredConnection(async () => undefined)()],
      ];
      for (const [, call] of calls) {
        await expectError(call, SqlHelpersError, 'CLOSED', [/was closed \(db\.close\(\)\); create a new one/]);
      }
      await assertUnchanged(witness, before);
    });

    it('more bound values than the database takes is TOO_MANY_VALUES before sending, naming the limit', async () => {
      const { db } = await setup(dialect);
      await db.sync();
      const before = await snapshot(db);
      const { join: joinSql } = await import('../lib/index.js');
      const limit = dialect === 'postgres' ? 65535 : 32766;
      const values = Array.from({ length: dialect === 'postgres' ? 70_000 : 40_000 }, (_, i) => i);
      await expectError(() => db.query(sql`SELECT 1 WHERE 1 IN (${joinSql(values)})`), ConfigurationError, 'TOO_MANY_VALUES', [
        new RegExp(`binds ${values.length} values, more than the ${limit}`),
        /split the rows into batches/,
      ]);
      await assertUnchanged(db, before);
    });

    it('table(name, {}) and a plain string or swapped argument instead of a model are typed errors', async () => {
      const { db } = await setup(dialect);
      await db.sync();
      await expectError(() => table('users', {} as never), ConfigurationError, 'INVALID_TABLE', [/needs \{ primaryKey: 'id' \}/]);
      await expectError(() => table(undefined as never, { primaryKey: 'id' }), ConfigurationError, 'INVALID_TABLE', [/name as a string/]);
      const users = table('users', { primaryKey: 'id' });
      await expectError(() => getOrCreate(db, 'users' as never, { email: 'a@x' }), ConfigurationError, 'INVALID_MODEL', [/getOrCreate needs a model made by table\(\).*the string "users"/]);
      await expectError(() => getOne(db, 'users' as never, { email: 'a@x' }), ConfigurationError, 'INVALID_MODEL', [/getOne/]);
      await expectError(() => updateOrCreate(db, {} as never, { email: 'a@x' }), ConfigurationError, 'INVALID_MODEL', [/updateOrCreate/]);
      await expectError(() => getByPk(1, { session: db, model: 'users' as never }), ConfigurationError, 'INVALID_MODEL', [/getByPk/]);
      await expectError(() => getOrCreate(users as never, db as never, { email: 'a@x' }), ConfigurationError, 'INVALID_SESSION', [/needs a session/]);
      assert.deepEqual(await db.query(sql`SELECT * FROM users`), []);
    });

    it('updateOrCreate on a view says it needs a table, without blaming the columns', async () => {
      const { db } = await setup(dialect, { ...BASIC_MIGRATIONS, '004_view.sql': 'CREATE VIEW user_view AS SELECT id, email FROM users;\n' });
      await db.sync();
      const before = await snapshot(db);
      const view = table('user_view', { primaryKey: 'id' });
      const error = await expectError(() => updateOrCreate(db, view, { email: 'v@x' } as never, { defaults: { id: 7 } as never }), QueryError, dialect === 'postgres' ? 'NOT_A_TABLE' : 'QUERY_FAILED', [/view/]);
      assert.doesNotMatch(error.message, /check the column names/);
      await assertUnchanged(db, before);
    });

    it('a table with its own column sql_helpers_inserted keeps it in updateOrCreate\'s result', async () => {
      const { db } = await setup(dialect, {
        '001_t.sql': 'CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, sql_helpers_inserted TEXT, sql_helpers_inserted_1 TEXT);\n',
      });
      await db.sync();
      const t = table<{ id: number; code: string; sql_helpers_inserted: string | null; sql_helpers_inserted_1: string | null }>('t', { primaryKey: 'id' });
      const [created, wasCreated] = await updateOrCreate(db, t, { code: 'a' }, { defaults: { sql_helpers_inserted: 'mine', sql_helpers_inserted_1: 'also' }, createDefaults: { id: 1 } });
      assert.equal(wasCreated, true);
      assert.equal(created.sql_helpers_inserted, 'mine');
      assert.equal(created.sql_helpers_inserted_1, 'also');
      const [updated, again] = await updateOrCreate(db, t, { code: 'a' }, { defaults: { sql_helpers_inserted: 'changed' }, createDefaults: { id: 1 } });
      assert.equal(again, false);
      assert.deepEqual({ ...updated }, { id: 1, code: 'a', sql_helpers_inserted: 'changed', sql_helpers_inserted_1: 'also' });
    });
  });
}

describe('bad input: connection refusals are ConnectionErrors (PostgreSQL)', () => {
  const { setup, cleanups } = harness();
  const roleUri = (role: string, database = new URL(PG_URL).pathname.slice(1)) => {
    const url = new URL(PG_URL);
    url.username = role;
    url.password = SECRET;
    url.pathname = `/${database}`;
    return url.toString();
  };
  async function folder(): Promise<string> {
    const dir = await migrationsDir(BASIC_MIGRATIONS);
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }
  async function role(extra: string): Promise<string> {
    const name = `sqlh_role_${Math.random().toString(36).slice(2, 10)}`;
    const { admin } = await import('./support.js');
    await admin(`CREATE ROLE ${name} LOGIN ${extra}`);
    cleanups.push(async () => void (await admin(`DROP ROLE IF EXISTS ${name}`)));
    return name;
  }

  it('a role at its connection limit: ConnectionError, not VERSION_TABLE_SHAPE', async () => {
    const name = await role('CONNECTION LIMIT 0');
    const db = new DatabaseManager(roleUri(name), await folder());
    try {
      const error = await expectError(() => db.sync(), ConnectionError, 'CONNECTION_FAILED', [/too many connections for role/, /cannot (use|connect to) database/]);
      assert.ok(!everyRendering(error).includes(SECRET));
    } finally {
      await db.close();
    }
  });

  it('a role without CONNECT on the database: ConnectionError naming the privilege', async () => {
    const { freshPgDatabase, admin } = await import('./support.js');
    const database = await freshPgDatabase();
    cleanups.push(() => database.cleanup());
    await admin(`REVOKE CONNECT ON DATABASE ${database.name} FROM PUBLIC`);
    const name = await role('');
    const db = new DatabaseManager(roleUri(name, database.name), await folder());
    try {
      await expectError(() => db.getStatus(), ConnectionError, 'CONNECTION_FAILED', [/permission denied for database/, /CONNECT/]);
    } finally {
      await db.close();
    }
  });

  it('sslmode=require against a server without SSL, and a missing sslrootcert file: ConnectionError', async () => {
    for (const [query, says] of [['sslmode=require', /does not support SSL/], ['sslmode=verify-full&sslrootcert=/nonexistent/root.crt', /ENOENT|no such file/]] as const) {
      const db = new DatabaseManager(`${withPassword(PG_URL)}?${query}`, '/nonexistent');
      try {
        const error = await expectError(() => db.query(sql`SELECT 1`), ConnectionError, 'CONNECTION_FAILED', [says, /check the URI, its SSL settings/]);
        assert.ok(!everyRendering(error).includes(SECRET));
      } finally {
        await db.close();
      }
    }
  });

  it('a schema name holding a tab works: escaped in the startup options, not a VERSION_TABLE_SHAPE', async () => {
    const { db, dir, database } = await setup('postgres');
    await db.close();
    const schema = `tab\there_${Math.random().toString(36).slice(2, 8)}`;
    const { admin } = await import('./support.js');
    cleanups.push(async () => void (await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)));
    const tabbed = new DatabaseManager(database.uri, dir, { schema });
    try {
      assert.equal(await tabbed.sync(), SyncResult.CREATED);
      assert.deepEqual(await tableNames(tabbed), ['groups', 'memberships', 'sql_helpers_migrations', 'users']);
    } finally {
      await tabbed.close();
    }
  });

  it('queries started together on a new manager all find the new schema in force, not only the first', async () => {
    const { dir, database } = await setup('postgres');
    const { admin } = await import('./support.js');
    // Each query opens its own connection; one profiled before the first had created the schema found public in
    // force. The window is a few milliseconds wide: several new managers make missing it unlikely.
    for (let round = 0; round < 16; round++) {
      const schema = `together_${round}_${Math.random().toString(36).slice(2, 8)}`;
      cleanups.push(async () => void (await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)));
      const db = new DatabaseManager(database.uri, dir, { schema });
      try {
        const schemas = await Promise.all(Array.from({ length: 6 }, () => db.query<{ schema: string }>(sql`SELECT current_schema() AS schema`)));
        assert.deepEqual(new Set(schemas.map((rows) => rows[0]!.schema)), new Set([schema]));
      } finally {
        await db.close();
      }
    }
  });
});
