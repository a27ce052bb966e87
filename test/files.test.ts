import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MigrationFileError, SqlHelpersError } from '../lib/errors.js';
import {
  checksumOf,
  normalizeText,
  parseMigrations,
  readMigrations,
  type Migration,
  type MigrationSource,
} from '../lib/migrations/files.js';
import { migrationsDir } from './support.js';

const encoder = new TextEncoder();

/** Sources from file name → text (or raw bytes). */
function sources(files: Record<string, string | Uint8Array>): MigrationSource[] {
  return Object.entries(files).map(([file, content]) => ({
    file,
    content: typeof content === 'string' ? encoder.encode(content) : content,
  }));
}

const parse = (files: Record<string, string | Uint8Array>, dialect: 'postgres' | 'sqlite' = 'sqlite') =>
  parseMigrations(sources(files), dialect);

/** Asserts that `fn` throws a MigrationFileError with `code` and `files`; returns it for further checks. */
function assertFileError(fn: () => unknown, code: string, files?: string[], messageNamesEveryFile = true): MigrationFileError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MigrationFileError, `expected a MigrationFileError, got ${String(caught)}`);
  assert.ok(caught instanceof SqlHelpersError);
  assert.equal(caught.code, code, caught.message);
  if (files) assert.deepEqual(caught.files, files);
  if (messageNamesEveryFile) for (const file of caught.files) assert.ok(caught.message.includes(file), `message names ${file}: ${caught.message}`);
  return caught;
}

async function assertRejectsFileError(promise: Promise<unknown>, code: string, files?: string[]): Promise<MigrationFileError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MigrationFileError, `expected a MigrationFileError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (files) assert.deepEqual(caught.files, files);
  return caught;
}

const summary = (migrations: Migration[]) =>
  migrations.map((migration) => ({
    version: migration.version,
    name: migration.name,
    up: migration.up.file,
    down: migration.down?.file,
  }));

const SQL = 'CREATE TABLE t (x int);\n';

const dirs: string[] = [];
async function dir(files: Record<string, string | Uint8Array>): Promise<string> {
  const path = await migrationsDir(files);
  dirs.push(path);
  return path;
}
after(async () => {
  await Promise.all(dirs.map((path) => rm(path, { recursive: true, force: true })));
});

describe('parseMigrations: versions and names', () => {
  it('takes the version from the digits, leading zeros ignored, and the name after the underscore', () => {
    const migrations = parse({ '001_create_users.sql': SQL, '0010_add_index.sql': SQL, '7_x.sql': SQL });
    assert.deepEqual(
      migrations.map(({ version, name }) => ({ version, name })),
      [
        { version: 1, name: 'create_users' },
        { version: 7, name: 'x' },
        { version: 10, name: 'add_index' },
      ],
    );
  });

  it('orders by numeric version, not by file name', () => {
    const migrations = parse({ '10_b.sql': SQL, '9_a.sql': SQL, '100_c.sql': SQL, '2_d.sql': SQL });
    assert.deepEqual(
      migrations.map((migration) => migration.version),
      [2, 9, 10, 100],
    );
  });

  it('accepts version 1 and the largest exact integer', () => {
    const migrations = parse({ '1_one.sql': SQL, '9007199254740991_max.sql': SQL });
    assert.deepEqual(
      migrations.map((migration) => migration.version),
      [1, Number.MAX_SAFE_INTEGER],
    );
  });

  it('refuses version 0, which means "nothing applied" (downgrade 0 reverts everything)', () => {
    assertFileError(() => parse({ '0_zero.sql': SQL }), 'VERSION_ZERO', ['0_zero.sql']);
    assertFileError(() => parse({ '000_zero.sql': SQL }), 'VERSION_ZERO', ['000_zero.sql']);
  });

  it('accepts names with spaces, dashes and unicode', () => {
    const migrations = parse({ '4_add ünïcode name.sql': SQL, '5_with-dash 日本.sql': SQL });
    assert.deepEqual(
      migrations.map(({ name, up }) => ({ name, file: up.file })),
      [
        { name: 'add ünïcode name', file: '4_add ünïcode name.sql' },
        { name: 'with-dash 日本', file: '5_with-dash 日本.sql' },
      ],
    );
  });

  it('returns nothing for no files', () => {
    assert.deepEqual(parseMigrations([], 'postgres'), []);
  });

  it('keeps the text, its statements and transactional=true for an ordinary file', () => {
    const [migration] = parse({ '1_a.sql': 'CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n' });
    assert.ok(migration);
    assert.equal(migration.up.text, 'CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n');
    assert.deepEqual(
      migration.up.statements.map((statement) => [statement.text, statement.line]),
      [
        ['CREATE TABLE a (x int)', 1],
        ['CREATE TABLE b (y int)', 2],
      ],
    );
    assert.equal(migration.up.transactional, true);
    assert.equal(migration.down, undefined);
  });

  it('splits statements with the rules of the dialect it parses for', () => {
    const trigger = 'CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1); END;\n';
    assert.equal(parse({ '1_t.sql': trigger }, 'sqlite')[0]?.up.statements.length, 1);
    const fn = 'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n';
    assert.equal(parse({ '1_f.sql': fn }, 'postgres')[0]?.up.statements.length, 1);
  });
});

describe('parseMigrations: down files', () => {
  it('pairs <n>_<name>.down.sql with its up file', () => {
    const migrations = parse({ '1_a.sql': SQL, '1_a.down.sql': 'DROP TABLE t;', '2_b.sql': SQL });
    assert.deepEqual(summary(migrations), [
      { version: 1, name: 'a', up: '1_a.sql', down: '1_a.down.sql' },
      { version: 2, name: 'b', up: '2_b.sql', down: undefined },
    ]);
    assert.equal(migrations[0]?.down?.text, 'DROP TABLE t;');
  });

  it('a .postgres.down.sql wins over .down.sql on PostgreSQL only', () => {
    const files = { '1_a.sql': SQL, '1_a.down.sql': 'DROP TABLE t;', '1_a.postgres.down.sql': 'DROP TABLE t CASCADE;' };
    assert.equal(parse(files, 'postgres')[0]?.down?.file, '1_a.postgres.down.sql');
    assert.equal(parse(files, 'sqlite')[0]?.down?.file, '1_a.down.sql');
  });

  it('a dialect-only down file gives the other dialect no down', () => {
    const files = { '1_a.sql': SQL, '1_a.sqlite.down.sql': 'DROP TABLE t;' };
    assert.equal(parse(files, 'sqlite')[0]?.down?.file, '1_a.sqlite.down.sql');
    assert.equal(parse(files, 'postgres')[0]?.down, undefined);
  });
});

describe('parseMigrations: dialect variants', () => {
  it('a .postgres.sql variant wins over the base file on PostgreSQL, the base is used on SQLite', () => {
    const files = { '1_a.sql': 'CREATE TABLE a (x INTEGER);', '1_a.postgres.sql': 'CREATE TABLE a (x bigint);' };
    const pg = parse(files, 'postgres');
    const lite = parse(files, 'sqlite');
    assert.deepEqual(summary(pg), [{ version: 1, name: 'a', up: '1_a.postgres.sql', down: undefined }]);
    assert.deepEqual(summary(lite), [{ version: 1, name: 'a', up: '1_a.sql', down: undefined }]);
    assert.equal(pg[0]?.up.text, 'CREATE TABLE a (x bigint);');
    assert.notEqual(pg[0]?.up.checksum, lite[0]?.up.checksum);
  });

  it('a .sqlite.sql variant wins over the base file on SQLite', () => {
    const files = { '1_a.sql': SQL, '1_a.sqlite.sql': 'CREATE TABLE a (x);' };
    assert.equal(parse(files, 'sqlite')[0]?.up.file, '1_a.sqlite.sql');
    assert.equal(parse(files, 'postgres')[0]?.up.file, '1_a.sql');
  });

  it('both variants and no base file is fine', () => {
    const files = { '1_a.postgres.sql': 'CREATE TABLE a (x bigint);', '1_a.sqlite.sql': 'CREATE TABLE a (x);' };
    assert.equal(parse(files, 'postgres')[0]?.up.file, '1_a.postgres.sql');
    assert.equal(parse(files, 'sqlite')[0]?.up.file, '1_a.sqlite.sql');
  });

  it('a variant and a base with a down file for each dialect', () => {
    const files = {
      '3_c.sql': SQL,
      '3_c.postgres.sql': SQL,
      '3_c.down.sql': 'DROP TABLE t;',
      '3_c.postgres.down.sql': 'DROP TABLE t CASCADE;',
    };
    assert.deepEqual(summary(parse(files, 'postgres')), [{ version: 3, name: 'c', up: '3_c.postgres.sql', down: '3_c.postgres.down.sql' }]);
    assert.deepEqual(summary(parse(files, 'sqlite')), [{ version: 3, name: 'c', up: '3_c.sql', down: '3_c.down.sql' }]);
  });
});

describe('parseMigrations: BAD_FILE_NAME', () => {
  for (const file of ['init.sql', 'a1_x.sql', '1.sql', '1_.sql', '_x.sql', '1-x.sql', '1_x.SQL', '1_x.sql.sql']) {
    it(`refuses ${JSON.stringify(file)}`, () => {
      assertFileError(() => parse({ [file]: SQL }), 'BAD_FILE_NAME', [file]);
    });
  }

  it('refuses a dot in the name, with a hint', () => {
    const error = assertFileError(() => parse({ '1_add.users.sql': SQL }), 'BAD_FILE_NAME', ['1_add.users.sql']);
    assert.match(error.message, /may not contain dots/);
  });

  it('refuses an unknown dialect suffix', () => {
    assertFileError(() => parse({ '1_a.mysql.sql': SQL }), 'BAD_FILE_NAME', ['1_a.mysql.sql']);
  });

  it('refuses .down.postgres.sql and says to write the dialect first', () => {
    const error = assertFileError(
      () => parse({ '1_a.sql': SQL, '1_a.down.postgres.sql': 'DROP TABLE t;' }),
      'BAD_FILE_NAME',
      ['1_a.down.postgres.sql'],
    );
    assert.ok(error.message.includes('1_a.postgres.down.sql'), error.message);
  });

  it('refuses a bad name even when every other file is fine', () => {
    assertFileError(() => parse({ '1_a.sql': SQL, '2_b.sql': SQL, 'notes.sql': SQL }), 'BAD_FILE_NAME', ['notes.sql']);
  });
});

describe('parseMigrations: DUPLICATE_VERSION', () => {
  it('refuses 01_a.sql and 1_b.sql', () => {
    assertFileError(() => parse({ '01_a.sql': SQL, '1_b.sql': SQL }), 'DUPLICATE_VERSION', ['01_a.sql', '1_b.sql']);
  });

  it('refuses two names for one version', () => {
    const error = assertFileError(() => parse({ '2_b.sql': SQL, '2_a.sql': SQL, '1_x.sql': SQL }), 'DUPLICATE_VERSION', ['2_a.sql', '2_b.sql']);
    assert.match(error.message, /version 2/);
  });

  it('refuses one name written with two digit spellings', () => {
    assertFileError(() => parse({ '01_a.sql': SQL, '1_a.sql': SQL }), 'DUPLICATE_VERSION', ['01_a.sql', '1_a.sql']);
  });

  it('refuses a down file whose name differs from its up file', () => {
    assertFileError(() => parse({ '1_a.sql': SQL, '1_b.down.sql': SQL }), 'DUPLICATE_VERSION', ['1_a.sql', '1_b.down.sql']);
  });

  it('refuses two variants of one dialect', () => {
    assertFileError(
      () => parse({ '1_a.sql': SQL, '1_a.postgres.sql': SQL, '01_a.postgres.sql': SQL }),
      'DUPLICATE_VERSION',
      ['01_a.postgres.sql', '1_a.postgres.sql', '1_a.sql'],
    );
  });
});

describe('parseMigrations: ORPHAN_DOWN', () => {
  it('refuses a down file without an up file', () => {
    assertFileError(() => parse({ '1_a.sql': SQL, '2_b.down.sql': 'DROP TABLE t;' }), 'ORPHAN_DOWN', ['2_b.down.sql']);
  });

  it('refuses dialect down files without an up file', () => {
    assertFileError(
      () => parse({ '2_b.postgres.down.sql': 'DROP TABLE t;', '2_b.down.sql': 'DROP TABLE t;' }),
      'ORPHAN_DOWN',
      ['2_b.down.sql', '2_b.postgres.down.sql'],
    );
  });
});

describe('parseMigrations: a version written for one database alone', () => {
  it('runs the lone variant on its database and is a recorded no-op on the other', () => {
    const files = { '1_a.sql': SQL, '2_x.postgres.sql': 'CREATE INDEX CONCURRENTLY i ON t (id);', '2_x.postgres.down.sql': 'DROP INDEX i;' };
    const [, pg] = parse(files, 'postgres');
    assert.equal(pg?.up.file, '2_x.postgres.sql');
    assert.equal(pg?.up.noop, false);
    assert.equal(pg?.down?.file, '2_x.postgres.down.sql');
    const [, lite] = parse(files, 'sqlite');
    assert.equal(lite?.version, 2);
    assert.equal(lite?.name, 'x');
    assert.equal(lite?.up.noop, true);
    assert.deepEqual(lite?.up.statements, []);
    assert.equal(lite?.up.checksum, checksumOf(''));
    assert.equal(lite?.down?.noop, true, 'downgrading through it on SQLite reverts nothing');
  });

  it('accepts a lone .sqlite.sql variant with a base down file; on PostgreSQL both sides are no-ops', () => {
    const [migration] = parse({ '1_x.sqlite.sql': SQL, '1_x.down.sql': 'DROP TABLE t;' }, 'postgres');
    assert.equal(migration?.up.noop, true);
    assert.equal(migration?.down?.noop, true);
    const [onSqlite] = parse({ '1_x.sqlite.sql': SQL, '1_x.down.sql': 'DROP TABLE t;' }, 'sqlite');
    assert.equal(onSqlite?.down?.file, '1_x.down.sql');
  });

  it('still validates the lone variant when parsing for the other database', () => {
    assertFileError(() => parse({ '1_x.postgres.sql': 'COMMIT;' }, 'sqlite'), 'TRANSACTION_CONTROL', ['1_x.postgres.sql']);
  });
});

describe('parseMigrations: files with nothing to run are no-op migrations', () => {
  const empties: Record<string, string | Uint8Array> = {
    'an empty file': '',
    'whitespace only': '  \n\n\t',
    'comments only': '-- just a note\n/* and a block; */\n',
    'semicolons only': ';\n;;\n',
    'a BOM and a comment': '\uFEFF-- Integer size in SQLite is already i64\r\n',
    'the no-transaction marker alone': '-- sql-helpers:no-transaction\n',
  };
  for (const [label, content] of Object.entries(empties)) {
    it(`accepts ${label}, checksummed like any file`, () => {
      const [migration] = parse({ '1_a.sql': content, '1_a.down.sql': content, '1_a.postgres.sql': content });
      assert.equal(migration?.up.noop, true);
      assert.deepEqual(migration?.up.statements, []);
      assert.equal(migration?.up.checksum, checksumOf(typeof content === 'string' ? content : ''));
      assert.equal(migration?.down?.noop, true);
    });
  }

  it('tells a no-op apart from a file with a statement (negative control)', () => {
    const [migration] = parse({ '1_a.sql': '-- sql-helpers:no-transaction\nVACUUM;\n', '1_a.down.sql': '-- nothing to undo\n' });
    assert.equal(migration?.up.statements.length, 1);
    assert.equal(migration?.up.noop, false);
    assert.equal(migration?.down?.noop, true);
  });

  it('still refuses a comment-only file that is not UTF-8', () => {
    assertFileError(() => parse({ '1_a.sql': Uint8Array.from([0x2d, 0x2d, 0x20, 0xe9, 0x0a]) }), 'NOT_UTF8', ['1_a.sql']);
  });
});

describe('parseMigrations: NOT_UTF8', () => {
  it('refuses Latin-1 bytes', () => {
    const latin1 = Uint8Array.from([...encoder.encode("INSERT INTO t VALUES ('caf"), 0xe9, ...encoder.encode("');")]);
    const error = assertFileError(() => parse({ '1_a.sql': latin1 }), 'NOT_UTF8', ['1_a.sql']);
    assert.ok(error.cause !== undefined, 'keeps the decoder error as cause');
  });

  it('refuses a UTF-16 file', () => {
    const utf16 = Uint8Array.from([0xff, 0xfe, 0x53, 0x00, 0xd8, 0x00, 0xdc]);
    assertFileError(() => parse({ '1_a.sql': utf16 }), 'NOT_UTF8', ['1_a.sql']);
  });

  it('refuses a down file that is not UTF-8', () => {
    assertFileError(() => parse({ '1_a.sql': SQL, '1_a.down.sql': Uint8Array.from([0xc3, 0x28]) }), 'NOT_UTF8', ['1_a.down.sql']);
  });

  it('accepts multi-byte UTF-8', () => {
    const [migration] = parse({ '1_a.sql': "INSERT INTO t VALUES ('café 😀');" });
    assert.equal(migration?.up.text, "INSERT INTO t VALUES ('café 😀');");
  });
});

describe('parseMigrations: VERSION_TOO_LARGE', () => {
  for (const digits of ['9007199254740992', '9007199254740993', '99999999999999999999999']) {
    it(`refuses version ${digits}`, () => {
      const file = `${digits}_big.sql`;
      const error = assertFileError(() => parse({ [file]: SQL }), 'VERSION_TOO_LARGE', [file]);
      assert.ok(error.message.includes(digits), error.message);
    });
  }
});

describe('parseMigrations: TRANSACTION_CONTROL', () => {
  for (const statement of ['COMMIT', 'BEGIN', 'ROLLBACK', 'END', 'START TRANSACTION', 'ABORT', 'commit']) {
    it(`refuses ${statement} in a transactional file`, () => {
      assertFileError(() => parse({ '1_a.sql': `${SQL}${statement};\n${SQL}` }), 'TRANSACTION_CONTROL', ['1_a.sql']);
    });
  }

  it('says where: file:line:col, and sets line', () => {
    const error = assertFileError(
      () => parse({ '3_c.sql': 'CREATE TABLE a (x int);\n\n  COMMIT;\nCREATE TABLE b (y int);\n' }),
      'TRANSACTION_CONTROL',
      ['3_c.sql'],
    );
    assert.ok(error.message.includes('3_c.sql:3:3'), error.message);
    assert.equal(error.line, 3);
    assert.match(error.message, /sql-helpers:no-transaction/);
  });

  it('refuses it in a down file too', () => {
    assertFileError(() => parse({ '1_a.sql': SQL, '1_a.down.sql': 'BEGIN;\nDROP TABLE t;\nCOMMIT;' }), 'TRANSACTION_CONTROL', ['1_a.down.sql']);
  });

  it('allows it with the no-transaction marker, and marks the script non-transactional', () => {
    const [migration] = parse({ '1_a.sql': '-- sql-helpers:no-transaction\nBEGIN;\nCREATE TABLE a (x int);\nCOMMIT;\n' });
    assert.equal(migration?.up.transactional, false);
    assert.equal(migration?.up.statements.length, 3);
  });

  it('finds the marker in a CRLF file', () => {
    const [migration] = parse({ '1_a.sql': '-- sql-helpers:no-transaction\r\nCREATE INDEX CONCURRENTLY i ON t (x);\r\n' }, 'postgres');
    assert.equal(migration?.up.transactional, false);
  });

  it('does not mistake BEGIN/END inside a DO block or a SQLite trigger for transaction control', () => {
    const doBlock = 'DO $$ BEGIN PERFORM 1; END $$;\n';
    assert.equal(parse({ '1_a.sql': doBlock }, 'postgres')[0]?.up.transactional, true);
    const trigger = 'CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;\n';
    assert.equal(parse({ '1_a.sql': trigger }, 'sqlite')[0]?.up.transactional, true);
  });

  it('does not mistake the words in strings or comments for transaction control', () => {
    const [migration] = parse({ '1_a.sql': "-- COMMIT;\nINSERT INTO t VALUES ('COMMIT');\n/* BEGIN; */\n" });
    assert.equal(migration?.up.transactional, true);
  });
});

describe('checksums', () => {
  const lf = 'CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n';
  const checksum = (content: string | Uint8Array) => parse({ '1_a.sql': content })[0]!.up.checksum;

  it('is the SHA-256 hex digest of the normalized text', () => {
    assert.equal(checksum(lf), createHash('sha256').update(lf).digest('hex'));
    assert.equal(checksumOf(lf), checksum(lf));
    assert.match(checksum(lf), /^[0-9a-f]{64}$/);
  });

  it('is the same for CRLF and LF copies', () => {
    assert.equal(checksum(lf.replaceAll('\n', '\r\n')), checksum(lf));
  });

  it('is the same with and without a BOM', () => {
    assert.equal(checksum(`\uFEFF${lf}`), checksum(lf));
    assert.equal(checksum(Uint8Array.from([0xef, 0xbb, 0xbf, ...encoder.encode(lf)])), checksum(lf));
    assert.equal(checksum(`\uFEFF${lf.replaceAll('\n', '\r\n')}`), checksum(lf));
  });

  it('differs when the content changes, even by whitespace or case', () => {
    const base = checksum(lf);
    assert.notEqual(checksum(lf.replace('x int', 'x bigint')), base);
    assert.notEqual(checksum(`${lf}\n`), base);
    assert.notEqual(checksum(lf.toLowerCase()), base);
  });

  it('the parsed text is normalized: no BOM, no CR', () => {
    const [migration] = parse({ '1_a.sql': `\uFEFF${lf.replaceAll('\n', '\r\n')}` });
    assert.equal(migration?.up.text, lf);
  });

  it('normalizeText removes only a leading BOM and CRs before LFs', () => {
    assert.equal(normalizeText('\uFEFFa\r\nb\rc\r\n'), 'a\nb\rc\n');
    assert.equal(normalizeText('a\uFEFFb'), 'a\uFEFFb');
  });

  it('a lone CR file keeps a different checksum from its LF copy', () => {
    // Only CRLF is normalized; old-Mac CR line ends are content.
    assert.notEqual(checksumOf('a\rb'), checksumOf('a\nb'));
  });
});

describe('readMigrations: a real folder', () => {
  it('reads the migrations in version order', async () => {
    const path = await dir({ '10_c.sql': SQL, '2_b.sql': SQL, '001_a.sql': SQL, '001_a.down.sql': 'DROP TABLE t;' });
    assert.deepEqual(summary(await readMigrations(path, 'sqlite')), [
      { version: 1, name: 'a', up: '001_a.sql', down: '001_a.down.sql' },
      { version: 2, name: 'b', up: '2_b.sql', down: undefined },
      { version: 10, name: 'c', up: '10_c.sql', down: undefined },
    ]);
  });

  it('refuses an upper-case .SQL file by name instead of skipping it', async () => {
    const path = await dir({ '1_a.sql': SQL, '3_c.SQL': SQL });
    await assertRejectsFileError(readMigrations(path, 'postgres'), 'BAD_FILE_NAME', ['3_c.SQL']);
  });

  it('ignores non-.sql files and dotfiles', async () => {
    const path = await dir({
      '1_a.sql': SQL,
      'README.md': '# migrations',
      'notes.txt': 'not sql',
      '2_b.sql.bak': 'garbage',
      '.DS_Store': Uint8Array.from([0, 1, 2]),
      '.4_hidden.sql': 'not a migration',
      '.sql': '',
    });
    assert.deepEqual(
      (await readMigrations(path, 'postgres')).map((migration) => migration.up.file),
      ['1_a.sql'],
    );
  });

  it('ignores subfolders and what they hold', async () => {
    const path = await dir({ '1_a.sql': SQL });
    await mkdir(join(path, 'archive'));
    await writeFile(join(path, 'archive', '2_old.sql'), SQL);
    await writeFile(join(path, 'archive', 'bad name.sql'), SQL);
    assert.deepEqual(
      (await readMigrations(path, 'sqlite')).map((migration) => migration.version),
      [1],
    );
  });

  it('picks the dialect variant per dialect', async () => {
    const path = await dir({ '1_a.sql': SQL, '1_a.postgres.sql': 'CREATE TABLE t (x bigint);' });
    assert.equal((await readMigrations(path, 'postgres'))[0]?.up.file, '1_a.postgres.sql');
    assert.equal((await readMigrations(path, 'sqlite'))[0]?.up.file, '1_a.sql');
  });

  it('accepts unicode and spaces in file names', async () => {
    const path = await dir({ '4_add ünïcode name.sql': SQL });
    const [migration] = await readMigrations(path, 'sqlite');
    assert.equal(migration?.name, 'add ünïcode name');
    assert.equal(migration?.up.file, '4_add ünïcode name.sql');
  });

  it('gives the same checksum for CRLF, BOM and LF copies on disk', async () => {
    const lf = await dir({ '1_a.sql': 'CREATE TABLE a (x int);\nSELECT 1;\n' });
    const crlfBom = await dir({ '1_a.sql': '\uFEFFCREATE TABLE a (x int);\r\nSELECT 1;\r\n' });
    const changed = await dir({ '1_a.sql': 'CREATE TABLE a (x int);\nSELECT 2;\n' });
    const [a] = await readMigrations(lf, 'sqlite');
    const [b] = await readMigrations(crlfBom, 'sqlite');
    const [c] = await readMigrations(changed, 'sqlite');
    assert.equal(a?.up.checksum, b?.up.checksum);
    assert.notEqual(a?.up.checksum, c?.up.checksum);
  });

  it('returns nothing for an empty folder', async () => {
    assert.deepEqual(await readMigrations(await dir({}), 'postgres'), []);
  });

  it('refuses the same errors as parseMigrations, naming the files', async () => {
    await assertRejectsFileError(readMigrations(await dir({ '01_a.sql': SQL, '1_b.sql': SQL }), 'sqlite'), 'DUPLICATE_VERSION', [
      '01_a.sql',
      '1_b.sql',
    ]);
    await assertRejectsFileError(readMigrations(await dir({ '2_b.down.sql': SQL }), 'sqlite'), 'ORPHAN_DOWN', ['2_b.down.sql']);
    await assertRejectsFileError(readMigrations(await dir({ 'init.sql': SQL }), 'sqlite'), 'BAD_FILE_NAME', ['init.sql']);
    await assertRejectsFileError(readMigrations(await dir({ '1_a.sql': Uint8Array.from([0xff]) }), 'sqlite'), 'NOT_UTF8', ['1_a.sql']);
  });

  it('reads a file that holds U+FFFD itself as valid, with the same checksum as its bytes give', async () => {
    const text = "INSERT INTO t (s) VALUES ('\uFFFD');\n";
    const [migration] = await readMigrations(await dir({ '1_a.sql': text }), 'sqlite');
    assert.equal(migration!.up.text, text);
    assert.equal(migration!.up.checksum, parseMigrations([{ file: '1_a.sql', content: new TextEncoder().encode(text) }], 'sqlite')[0]!.up.checksum);
  });

  it('MIGRATIONS_DIR_MISSING for a folder that does not exist', async () => {
    const missing = join(tmpdir(), `sql-helpers-no-such-dir-${process.pid}-${Date.now()}`);
    const error = await assertRejectsFileError(readMigrations(missing, 'sqlite'), 'MIGRATIONS_DIR_MISSING', []);
    assert.ok(error.message.includes(missing), error.message);
    assert.ok(error.cause !== undefined);
  });

  it('MIGRATIONS_DIR_UNREADABLE when the path is a file', async () => {
    const path = await dir({ '1_a.sql': SQL });
    await assertRejectsFileError(readMigrations(join(path, '1_a.sql'), 'sqlite'), 'MIGRATIONS_DIR_UNREADABLE', []);
  });

  it('UNREADABLE_FILE for a folder named like a migration', async () => {
    const path = await dir({ '1_a.sql': SQL });
    await mkdir(join(path, '2_b.sql'));
    await assertRejectsFileError(readMigrations(path, 'sqlite'), 'UNREADABLE_FILE', ['2_b.sql']);
  });
});

describe('the other dialect’s variant files', () => {
  it('are validated too, so a broken .postgres.sql fails a SQLite run before anything runs', () => {
    const enc = (text: string) => new TextEncoder().encode(text);
    const sources = [
      { file: '1_a.sql', content: enc('CREATE TABLE a (id INTEGER);') },
      { file: '1_a.postgres.sql', content: Uint8Array.from([0xff, 0x3b]) },
    ];
    assert.throws(
      () => parseMigrations(sources, 'sqlite'),
      (error: MigrationFileError) => error.code === 'NOT_UTF8' && error.files.includes('1_a.postgres.sql'),
    );
    const control = [
      { file: '1_a.sql', content: enc('CREATE TABLE a (id INTEGER);') },
      { file: '1_a.postgres.sql', content: enc('COMMIT;\n') },
    ];
    assert.throws(() => parseMigrations(control, 'sqlite'), (error: MigrationFileError) => error.code === 'TRANSACTION_CONTROL');
  });
});
