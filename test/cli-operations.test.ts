// Operating it day to day (issue #12): a status to gate a deploy on, no hang, no stray SQLite file, a full drop,
// CLI words, error data, the one --json shape, rollback/redo/repair/dump/wait, --dry-run, --create-database,
// --env-file. Through the real CLI (child processes) and the API, on both databases where it applies.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  ConnectionError,
  DatabaseManager,
  DatabaseStatus,
  MigrationStateError,
  UndefinedTableError,
  UniqueViolationError,
  sql,
  waitForDatabase,
} from '../lib/index.js';
import { validate } from './json-schema.js';
import { ADMIN_URL, PG_URL, admin, dialects, migrationsDir, runCli, tableNames, workspaces, withPassword } from './support.js';

const SCHEMA = JSON.parse(readFileSync(new URL('../docs/cli.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const SECRET = 'opsS3cret';

type Doc = Record<string, any>;
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  doc: Doc;
  ms: number;
}

/**
 * The real CLI; checks what holds for every run: no password, no stack trace, and with --json exactly one
 * document on stdout that the schema in docs/cli.schema.json accepts, and nothing on stderr.
 */
async function cli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  const started = Date.now();
  const { code, stdout, stderr } = await runCli(args, options);
  const ms = Date.now() - started;
  const shown = `${args.join(' ')} → ${code}\nstdout: ${stdout}\nstderr: ${stderr}`.replaceAll(SECRET, '<PASSWORD>');
  assert.ok(!(stdout + stderr).includes(SECRET), `the password was printed: ${shown}`);
  assert.doesNotMatch(stdout + stderr, /^\s+at /m, `a stack trace: ${shown}`);
  let doc: Doc = {};
  if (args.includes('--json')) {
    doc = JSON.parse(stdout) as Doc;
    assert.deepEqual(validate(doc, SCHEMA), [], `the document does not fit docs/cli.schema.json: ${shown}`);
    assert.equal(doc.exitCode, code, shown);
    assert.equal(stderr, '', `--json wrote to stderr: ${shown}`);
  }
  return { code, stdout, stderr, doc, ms };
}

/** A TCP server that accepts connections and never says a word: the hang case. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const FILES = {
  '001_users.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n',
  '001_users.down.sql': 'DROP TABLE users;\n',
  '003_posts.sql': 'CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\n',
  '003_posts.down.sql': 'DROP TABLE posts;\n',
};

for (const dialect of dialects) {
  describe(`operating on ${dialect}`, () => {
    const { setup, tempDir } = workspaces();

    async function workspace(files: Record<string, string> = FILES) {
      const ws = await setup(dialect, files);
      const cwd = await tempDir();
      const uri = dialect === 'postgres' ? withPassword(ws.database.uri, SECRET) : ws.database.uri;
      const target = ['--database', uri, ...ws.database.cliArgs, '--dir', ws.dir];
      const run = (...args: string[]) => cli([...args, ...target], { cwd });
      return { ...ws, cwd, uri, run };
    }

    it('status --check exits 3 while sync would apply, 4 whenever sync would refuse, 0 when ready; readiness() and getStatus() agree', async () => {
      const { db, dir, run } = await workspace();
      const check = async (code: number, status: string) => {
        const result = await run('status', '--check', '--json');
        assert.equal(result.code, code, result.stdout);
        assert.equal(result.doc.status, status);
        assert.equal(result.doc.ready, code === 0);
        assert.equal(await db.getStatus(), status);
        assert.equal((await db.readiness()).ready, code === 0);
        return result.doc;
      };
      await check(3, DatabaseStatus.NO_INFO);
      assert.deepEqual((await db.readiness()).pending, [1, 3]);
      assert.equal((await run('sync')).code, 0);
      await check(0, DatabaseStatus.UP_TO_DATE);

      // OUT_OF_ORDER: a pending file below the applied 3. Allowed, it is merely pending.
      await writeFile(join(dir, '002_tags.sql'), 'CREATE TABLE tags (id INTEGER PRIMARY KEY);\n');
      const outOfOrder = await check(4, DatabaseStatus.DRIFT);
      assert.deepEqual(outOfOrder.problems.map((problem: Doc) => problem.code), ['OUT_OF_ORDER']);
      assert.match(outOfOrder.problems[0].message, /pass --allow-out-of-order/);
      const refused = await run('sync');
      assert.equal(refused.code, 1, 'sync refuses what status --check refused');
      assert.match(refused.stderr, /pass --allow-out-of-order \[OUT_OF_ORDER\]/);
      const allowed = await run('status', '--check', '--allow-out-of-order', '--json');
      assert.equal(allowed.code, 3);
      assert.equal(allowed.doc.status, DatabaseStatus.UPGRADE_AVAILABLE);
      assert.equal((await run('sync', '--allow-out-of-order')).code, 0);
      await check(0, DatabaseStatus.UP_TO_DATE);

      // CHECKSUM_MISMATCH: an applied file edited.
      await writeFile(join(dir, '001_users.sql'), `${FILES['001_users.sql']}-- edited\n`);
      const drift = await run('status', '--check');
      assert.equal(drift.code, 4);
      assert.match(drift.stdout, /^1\s+users\s+changed/m);
      assert.match(drift.stdout, /^status: DRIFT \(current 3, latest 3\)$/m);
      assert.match(drift.stdout, /^CHECKSUM_MISMATCH: 001_users\.sql was changed/m);
      assert.equal((await run('sync')).code, 1);
      await writeFile(join(dir, '001_users.sql'), FILES['001_users.sql']);

      // MISSING_FILE: the message names the file as it was, zero-padded.
      await unlink(join(dir, '002_tags.sql'));
      const missing = await check(4, DatabaseStatus.DRIFT);
      assert.match(missing.problems[0].message, /restore 002_tags\.sql$/);
      const missingSync = await run('sync');
      assert.match(missingSync.stderr, /restore 002_tags\.sql \[MISSING_FILE\]/);
      await writeFile(join(dir, '002_tags.sql'), 'CREATE TABLE tags (id INTEGER PRIMARY KEY);\n');

      // AHEAD: the newest applied file is not here (older code deployed).
      await rm(join(dir, '003_posts.sql'));
      await rm(join(dir, '003_posts.down.sql'));
      await check(4, DatabaseStatus.AHEAD);
      assert.equal((await run('sync')).code, 1);
    });

    it('rollback reverts the last applied version, redo runs it again, --dry-run prints the plan and changes nothing', async () => {
      const { db, run } = await workspace();
      const planned = await run('sync', '--dry-run', '--json');
      assert.equal(planned.code, 0);
      assert.deepEqual(planned.doc.plan.map((step: Doc) => [step.file, step.direction, step.transactional]), [
        ['001_users.sql', 'up', true],
        ['003_posts.sql', 'up', true],
      ]);
      assert.equal(planned.doc.plan[0].sql, FILES['001_users.sql']);
      assert.deepEqual(await tableNames(db), [], 'a dry run creates nothing, not even the version table');
      assert.match((await run('rollback')).stdout, /nothing to revert/);
      assert.equal((await run('sync')).code, 0);

      const dry = await run('rollback', '--dry-run');
      assert.equal(dry.code, 0);
      assert.match(dry.stdout, /^dry run: 1 migration would be reverted; nothing was changed$/m);
      assert.match(dry.stdout, /^-- 003_posts\.down\.sql \(version 3, down, in a transaction\)\nDROP TABLE posts;$/m);
      const downgradeDry = await run('downgrade', '0', '--dry-run', '--json');
      assert.deepEqual(downgradeDry.doc.plan.map((step: Doc) => step.version), [3, 1]);
      const upgradeDry = await run('upgrade', '--dry-run', '--json');
      assert.deepEqual(upgradeDry.doc.plan, []);
      assert.equal(await db.getCurrentRevision(), 3, 'dry runs changed nothing');

      const back = await run('rollback', '--json');
      assert.equal(back.code, 0);
      assert.deepEqual(back.doc.reverted.map((entry: Doc) => entry.file), ['003_posts.down.sql']);
      assert.equal(await db.getCurrentRevision(), 1);
      assert.deepEqual(await tableNames(db), ['sql_helpers_migrations', 'users']);

      const redo = await run('redo', '--json');
      assert.equal(redo.code, 0);
      assert.deepEqual([redo.doc.reverted.map((entry: Doc) => entry.version), redo.doc.applied.map((entry: Doc) => entry.version)], [[1], [1]]);
      assert.deepEqual(await tableNames(db), ['sql_helpers_migrations', 'users']);

      // The API, and a refusal that changes nothing: no down file.
      assert.deepEqual((await db.plan('rollback')).map((step) => step.file), ['001_users.down.sql']);
      assert.deepEqual((await db.rollback()).map((entry) => entry.version), [1]);
      assert.equal(await db.getCurrentRevision(), null);
      await db.sync();
      const { dir } = { dir: db.migrationsDir };
      await writeFile(join(dir, '004_nodown.sql'), 'CREATE TABLE nodown (id INTEGER);\n');
      await db.sync();
      const refused = await run('rollback', '--json');
      assert.equal(refused.code, 1);
      assert.equal(refused.doc.error.code, 'MISSING_DOWN');
      assert.match(refused.doc.error.message, /^cannot roll back version 4, nothing was changed: 004_nodown\.sql has no down file/);
      assert.equal(await db.getCurrentRevision(), 4);
      await assert.rejects(db.plan('rollback'), (error: MigrationStateError) => error.code === 'MISSING_DOWN');
    });

    it('repair <version> records the new checksum of that applied file only; refuses unknown, unapplied and fileless versions', async () => {
      const { db, dir, run } = await workspace();
      assert.equal((await run('sync')).code, 0);
      const checksums = async () => Object.fromEntries((await db.query<{ version: number; checksum: string }>(sql`SELECT version, checksum FROM sql_helpers_migrations`)).map((row) => [Number(row.version), row.checksum]));
      const before = await checksums();
      await writeFile(join(dir, '001_users.sql'), `-- a comment added after the fact\n${FILES['001_users.sql']}`);
      await writeFile(join(dir, '003_posts.sql'), `${FILES['003_posts.sql']}-- edited too\n`);
      assert.equal((await run('status', '--check')).code, 4);

      const repaired = await run('repair', '1', '--json');
      assert.equal(repaired.code, 0, repaired.stdout);
      assert.equal(repaired.doc.repaired.changed, true);
      assert.equal(repaired.doc.repaired.previousChecksum, before[1]);
      const after = await checksums();
      assert.notEqual(after[1], before[1]);
      assert.equal(after[3], before[3], 'never silently: version 3 stays drifted until repaired by name');
      assert.equal((await run('status', '--check')).code, 4);
      assert.match((await run('repair', '3')).stdout, /^repaired version 3: 003_posts\.sql is accepted/m);
      assert.equal((await run('status', '--check')).code, 0);
      assert.match((await run('repair', '3')).stdout, /nothing to repair/);

      for (const [version, code] of [['9', 'NOT_APPLIED'], ['head', 'UNKNOWN_TARGET'], ['x', 'UNKNOWN_TARGET']] as const) {
        const refused = await run('repair', version, '--json');
        assert.equal(refused.code, 1);
        assert.equal(refused.doc.error.code, code, refused.stdout);
      }
      await writeFile(join(dir, '004_more.sql'), 'CREATE TABLE more (id INTEGER);\n');
      assert.equal((await run('repair', '4', '--json')).doc.error.code, 'NOT_APPLIED', 'a pending file is not repaired');
      await rm(join(dir, '003_posts.sql'));
      await rm(join(dir, '003_posts.down.sql'));
      await assert.rejects(db.repair(3), (error: MigrationStateError) => error.code === 'MISSING_FILE');
      assert.deepEqual(await checksums(), await checksums());
    });

    it('dump [file] writes the managed schema as SQL, the same text each time; the API gives the same', async () => {
      const { db, cwd, run } = await workspace();
      assert.equal((await run('sync')).code, 0);
      const first = await run('dump');
      assert.equal(first.code, 0, first.stderr);
      // The managed schema: a t_… schema of its own, or public where the test isolates by database (behind a pooler).
      assert.match(first.stdout, dialect === 'postgres' ? /CREATE TABLE "?(t_\w+|public)"?\.users/ : /^CREATE TABLE users/m);
      assert.match(first.stdout, /sql_helpers_migrations/);
      assert.doesNotMatch(first.stdout, /^database: /m, 'stdout holds only the schema');
      assert.match(first.stderr, /^database: /m);
      assert.doesNotMatch(first.stdout, /^\\restrict|Dumped (from|by)/m);
      assert.equal((await run('dump')).stdout, first.stdout, 'deterministic');
      const file = join(cwd, 'schema.sql');
      const written = await run('dump', file, '--json');
      assert.equal(written.code, 0);
      assert.equal(written.doc.file, file);
      const text = await readFile(file, 'utf8');
      assert.equal(text.trimEnd(), first.stdout.trimEnd());
      assert.equal(await db.dumpSchema(), text);
    });

    it('messages name flags and commands, not API names', async () => {
      const { db, run } = await workspace();
      await db.sync();
      const created = await run('create');
      assert.match(created.stderr, /use sync or upgrade \[ALREADY_CREATED\]/);
      assert.doesNotMatch(created.stderr, /sync\(\)/);
      await assert.rejects(db.create(), /use sync\(\) or upgrade\(\)/, 'the API keeps its own words');

      await db.query(sql`CREATE TABLE other_tool_versions (id INTEGER)`);
      const shape = await run('status', '--table', 'other_tool_versions');
      assert.match(shape.stderr, /choose another version table with --table \[VERSION_TABLE_SHAPE\]/);
    });

    it('a migration error in --json carries constraint and table; the API fills table and constraint from the message', async () => {
      const { db, dir, run } = await workspace({
        '001_accounts.sql': 'CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT UNIQUE);\n',
        '002_seed.sql': "INSERT INTO accounts (id, email) VALUES (1, 'a@example.com');\nINSERT INTO accounts (id, email) VALUES (2, 'a@example.com');\n",
      });
      const failed = await run('sync', '--json');
      assert.equal(failed.code, 1);
      assert.equal(failed.doc.error.code, 'MIGRATION_FAILED');
      assert.equal(failed.doc.error.table, 'accounts');
      assert.equal(failed.doc.error.constraint, dialect === 'postgres' ? 'accounts_email_key' : 'accounts.email');
      assert.equal(failed.doc.error.sqlState, dialect === 'postgres' ? '23505' : 'SQLITE_CONSTRAINT_UNIQUE');
      if (dialect === 'sqlite') assert.equal(failed.doc.error.column, 'email');
      await rm(join(dir, '002_seed.sql'));

      await db.execute(sql`INSERT INTO accounts (id, email) VALUES (1, 'b@example.com')`);
      const duplicate = await db.execute(sql`INSERT INTO accounts (id, email) VALUES (2, 'b@example.com')`).catch((error: unknown) => error);
      assert.ok(duplicate instanceof UniqueViolationError);
      assert.equal(duplicate.table, 'accounts');
      assert.equal(duplicate.constraint, dialect === 'postgres' ? 'accounts_email_key' : 'accounts.email');
      if (dialect === 'sqlite') assert.equal(duplicate.column, 'email');
      const missing = await db.query(sql`SELECT * FROM no_such_relation`).catch((error: unknown) => error);
      assert.ok(missing instanceof UndefinedTableError);
      assert.equal(missing.table, 'no_such_relation');
    });

    it('every command prints one --json document that fits docs/cli.schema.json, failures included', async () => {
      const { cwd, run, dir } = await workspace();
      const codes: Array<[string[], number]> = [
        [['status'], 0],
        [['current'], 0],
        [['history'], 0],
        [['verify'], 0],
        [['sync', '--dry-run'], 0],
        [['upgrade', '1'], 0],
        [['sync'], 0],
        [['rollback'], 0],
        [['redo'], 0],
        [['upgrade'], 0],
        [['downgrade', '1'], 0],
        [['stamp', '3'], 0],
        [['repair', '3'], 0],
        [['dump'], 0],
        [['wait'], 0],
        [['drop', '--yes'], 0],
        [['create'], 0],
        [['create'], 1],
        [['status', '--check'], 0],
        [['upgrade', '99'], 1],
        [['adopt', 'dbmate'], 1],
        [['downgrade'], 2],
        [['bogus'], 2],
        [['status', '--yes'], 2],
      ];
      for (const [args, code] of codes) {
        const result = await run(...args, '--json');
        assert.equal(result.code, code, `${args.join(' ')}: ${result.stdout}`);
      }
      const created = await cli(['new', 'next', '--json', '--dir', dir], { cwd });
      assert.equal(created.doc.command, 'new');
      const source = await tempDir();
      await writeFile(join(source, '20240101000000_init.sql'), '-- migrate:up\nCREATE TABLE x (id INTEGER);\n-- migrate:down\nDROP TABLE x;\n');
      const imported = await cli(['import', 'dbmate', source, '--dir', join(cwd, 'imported'), '--json'], { cwd });
      assert.equal(imported.code, 0, imported.stdout);
      assert.equal(imported.doc.imported.length, 1);
      // Non-zero without an error: drift found by verify, and the readiness gate.
      await writeFile(join(dir, '001_users.sql'), `-- edited\n${FILES['001_users.sql']}`);
      const drift = await run('verify', '--json');
      assert.deepEqual([drift.code, drift.doc.ok, drift.doc.error, drift.doc.problems[0].code], [1, false, undefined, 'CHECKSUM_MISMATCH']);
      assert.equal((await run('status', '--check', '--json')).code, 4);
    });

    it('000_zero.sql is refused (VERSION_ZERO) before anything runs', async () => {
      const { run, db } = await workspace({ '000_zero.sql': 'CREATE TABLE zero (id INTEGER);\n' });
      const result = await run('sync', '--json');
      assert.equal(result.code, 1);
      assert.equal(result.doc.error.code, 'VERSION_ZERO');
      assert.deepEqual(await tableNames(db), []);
    });

    it('--wait waits for the database, then runs the command', async () => {
      const { run } = await workspace();
      const result = await run('sync', '--wait', '--wait-timeout', '5000');
      assert.equal(result.code, 0, result.stderr);
      if (dialect === 'postgres') assert.match(result.stdout, /^database ready after \d+ ms \(1 attempt\)$/m);
    });
  });
}

describe('operating: SQLite files are never created by reading', () => {
  const { tempDir } = workspaces();

  it('status, current, verify, history, dump, wait and dry runs on a missing file: DATABASE_NOT_FOUND or a plan, and no file', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'sql'));
    await writeFile(join(cwd, 'sql', '001_a.sql'), 'CREATE TABLE a (id INTEGER);\n');
    await writeFile(join(cwd, 'sql', '001_a.down.sql'), 'DROP TABLE a;\n');
    for (const command of [['status'], ['status', '--check'], ['current'], ['verify'], ['history'], ['dump'], ['dump', 'out.sql']]) {
      for (const json of [[], ['--json']]) {
        const result = await cli([...command, '-d', 'sqlite:./ap.db', ...json], { cwd });
        assert.equal(result.code, 1, `${command.join(' ')} ${json.join(' ')}: ${result.stdout}${result.stderr}`);
        if (json.length) assert.equal(result.doc.error.code, 'DATABASE_NOT_FOUND');
        else assert.match(result.stderr, /^error: SQLite database "\.\/ap\.db" does not exist, and was not created \(commands that only read never create it\); check the path/m);
      }
    }
    // A dry run plans from nothing, as the first sync would start, and says so.
    const planned = await cli(['sync', '--dry-run', '-d', 'sqlite:./ap.db', '--json'], { cwd });
    assert.equal(planned.code, 0);
    assert.deepEqual(planned.doc.plan.map((step: Doc) => step.file), ['001_a.sql']);
    const plannedText = await cli(['rollback', '--dry-run', '-d', 'sqlite:./ap.db'], { cwd });
    assert.match(plannedText.stdout, /nothing would be reverted; nothing was changed\n\(the SQLite file does not exist yet: planned from an empty database\)/);
    const waited = await cli(['wait', '-d', 'sqlite:./ap.db', '--wait-timeout', '300', '--json'], { cwd });
    assert.equal(waited.doc.error.code, 'WAIT_TIMEOUT');
    const dropped = await cli(['drop', '--yes', '-d', 'sqlite:./ap.db', '--json'], { cwd });
    assert.equal(dropped.code, 0);
    assert.equal(dropped.doc.dropped, false);
    assert.deepEqual((await readdir(cwd)).sort(), ['sql'], 'no SQLite file (nor -wal, -shm, out.sql) was created');

    // From a subfolder without ./sql, with the default database: nothing is left behind either.
    const sub = join(cwd, 'sub');
    await mkdir(sub);
    assert.equal((await cli(['status'], { cwd: sub })).code, 1);
    const sync = await cli(['sync', '--json'], { cwd: sub });
    assert.equal(sync.doc.error.code, 'MIGRATIONS_DIR_MISSING');
    assert.deepEqual(await readdir(sub), []);
  });

  it('wait returns once the SQLite file appears, without creating it', async () => {
    const cwd = await tempDir();
    const file = join(cwd, 'late.db');
    const waiting = cli(['wait', '-d', `sqlite://${file}`, '--wait-timeout', '10000', '--json'], { cwd });
    await sleep(700);
    new Database(file).close();
    const result = await waiting;
    assert.equal(result.code, 0, result.stdout);
    assert.ok(result.doc.attempts > 1, `attempts ${result.doc.attempts}`);
    const api = await waitForDatabase(`sqlite://${file}`, { timeoutMs: 1000 });
    assert.equal(api.attempts, 1);
  });

  it('the lock timeout message names --lock-timeout', async () => {
    const cwd = await tempDir();
    const file = join(cwd, 'busy.db');
    const dir = await migrationsDir({ '001_a.sql': 'CREATE TABLE a (id INTEGER);\n' });
    const holder = new Database(file);
    holder.pragma('journal_mode = WAL');
    holder.exec('BEGIN IMMEDIATE');
    try {
      const result = await cli(['sync', '-d', `sqlite://${file}`, '--dir', dir, '--lock-timeout', '200'], { cwd });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /raise --lock-timeout\. \[LOCK_TIMEOUT\]/);
      assert.doesNotMatch(result.stderr, /lockTimeoutMs/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('file names, empty URIs and --env-file', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'sql'));
    await writeFile(join(cwd, 'sql', '001_.sql'), 'SELECT 1;\n');
    const unnamed = await cli(['sync', '-d', 'sqlite:x.db'], { cwd });
    assert.match(unnamed.stderr, /"001_\.sql" does not follow .*\(the name after the version is empty: write one/);
    await rm(join(cwd, 'sql', '001_.sql'));
    await writeFile(join(cwd, 'sql', '001_first.sql'), 'CREATE TABLE first (id INTEGER);\n');

    const emptyEnv = await cli(['status', '--json'], { cwd, env: { DATABASE_URL: '' } });
    assert.equal(emptyEnv.doc.error.code, 'INVALID_URI');
    assert.match(emptyEnv.doc.error.message, /^DATABASE_URL is set but empty: set it to a database URI, or unset it to use sqlite:\.\/app\.db$/);
    const emptyFlag = await cli(['status', '--database', ''], { cwd });
    assert.match(emptyFlag.stderr, /^error: --database is set but empty/m);
    const badEnv = await cli(['status'], { cwd, env: { DATABASE_URL: 'mysql://x/y' } });
    assert.match(badEnv.stderr, /^error: DATABASE_URL: invalid database URI "mysql:\/\/x\/y"/m);

    await writeFile(join(cwd, '.env'), '# the service settings\nDATABASE_URL=sqlite:./from-env.db\n');
    const fromFile = await cli(['sync', '--env-file', '.env', '--json'], { cwd });
    assert.equal(fromFile.code, 0, fromFile.stdout);
    assert.equal(fromFile.doc.database, 'sqlite:./from-env.db');
    assert.ok(existsSync(join(cwd, 'from-env.db')));
    const envWins = await cli(['current', '--env-file', '.env', '--json'], { cwd, env: { DATABASE_URL: 'sqlite:./from-env.db' } });
    assert.equal(envWins.doc.current, 1);
    const setWins = await cli(['sync', '--env-file', '.env', '--json'], { cwd, env: { DATABASE_URL: 'sqlite:./set.db' } });
    assert.equal(setWins.doc.database, 'sqlite:./set.db', 'a variable already set wins over the file');
    // Node 20 itself reads --env-file wherever it is on the command line, and exits 9 on a missing file before the
    // CLI starts; later Node versions leave it to the CLI, which says ENV_FILE_UNREADABLE.
    const missing = await runCli(['status', '--env-file', 'nope.env', '--json'], { cwd });
    if (missing.code === 9) assert.match(missing.stderr, /nope\.env: not found/);
    else assert.equal((JSON.parse(missing.stdout) as Doc).error.code, 'ENV_FILE_UNREADABLE');
  });
});

describe('operating PostgreSQL: no hang, connection errors, full drop, dump tools, creating the database', () => {
  const { setup, tempDir, cleanups } = workspaces();

  it('a server that accepts and never answers: every way of bounding it ends the CLI in time', async () => {
    const silent = await silentServer();
    cleanups.push(() => silent.close());
    const cwd = await tempDir();
    await mkdir(join(cwd, 'sql'));
    const url = `postgres://postgres:${SECRET}@127.0.0.1:${silent.port}/x`;
    const cases: Array<[string[], number]> = [
      [['status', '-d', url, '--connect-timeout', '500'], 5_000],
      [['sync', '-d', `${url}?connect_timeout=1`], 6_000],
      [['status', '-d', url], 20_000],
      [['wait', '-d', url, '--wait-timeout', '1500'], 6_000],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli([...args, '--json'], { cwd })));
    runs.forEach((run, index) => {
      const [args, bound] = cases[index]!;
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
      assert.equal(run.doc.error.code, args[0] === 'wait' ? 'WAIT_TIMEOUT' : 'CONNECT_TIMEOUT', run.stdout);
      assert.ok(run.ms < bound, `${args.join(' ')} took ${run.ms} ms`);
    });
    assert.ok(runs[2]!.ms >= 9_000, `the default connect timeout is 10 s, it ended after ${runs[2]!.ms} ms`);
    assert.match(runs[0]!.doc.error.message, /no connection within 500 ms \(--connect-timeout, or \?connect_timeout= in the URL\)/);

    // The API: connectTimeoutMs bounds it; without it (pg's default) it is still waiting — the negative control.
    const bounded = new DatabaseManager(url, join(cwd, 'sql'), { connectTimeoutMs: 300 });
    await assert.rejects(bounded.getStatus(), (error: ConnectionError) => error.code === 'CONNECT_TIMEOUT');
    await bounded.close();
    const unbounded = new DatabaseManager(url, join(cwd, 'sql'));
    const outcome = await Promise.race([unbounded.getStatus().catch(() => 'failed'), sleep(1500).then(() => 'still waiting')]);
    assert.equal(outcome, 'still waiting');
    await silent.close();
    await unbounded.close();
    await assert.rejects(waitForDatabase(url, { timeoutMs: 500 }), (error: ConnectionError) => error.code === 'WAIT_TIMEOUT');
  });

  it('sslmode=require against a server without SSL: a connection failure, one warning line; ECONNREFUSED is a systemCode', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'sql'));
    const url = `${withPassword(PG_URL, SECRET)}?sslmode=require`;
    const text = await cli(['status', '-d', url], { cwd });
    assert.equal(text.code, 1);
    assert.match(text.stderr, /\[CONNECTION_FAILED\]$/m);
    assert.doesNotMatch(text.stderr, /\[QUERY_FAILED\]|To prepare for this change/);
    assert.ok(text.stderr.trim().split('\n').length <= 2, text.stderr);
    const json = await cli(['status', '-d', url, '--json'], { cwd });
    assert.equal(json.doc.error.code, 'CONNECTION_FAILED');
    assert.ok(json.doc.warnings === undefined || json.doc.warnings.every((line: string) => !line.includes('\n')));

    const refused = await cli(['status', '-d', withPassword(PG_URL, SECRET, 1), '--json'], { cwd });
    assert.equal(refused.doc.error.systemCode, 'ECONNREFUSED');
    assert.equal(refused.doc.error.sqlState, undefined, 'ECONNREFUSED is not a SQLSTATE');
    const db = new DatabaseManager(withPassword(PG_URL, SECRET, 1), join(cwd, 'sql'));
    const error = await db.getStatus().catch((caught: unknown) => caught);
    await db.close();
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.systemCode, 'ECONNREFUSED');
    assert.equal(error.sqlState, undefined);
  });

  it('drop --yes removes every kind of object a migration can create in the schema, so sync works again', async () => {
    const files = {
      '001_everything.sql': `
CREATE FUNCTION add_int(a integer, b integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
CREATE AGGREGATE myagg(integer) (SFUNC = add_int, STYPE = integer, INITCOND = '0');
CREATE PROCEDURE noop_proc() LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION int_eq_fn(integer, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 = $2';
CREATE OPERATOR === (LEFTARG = integer, RIGHTARG = integer, FUNCTION = int_eq_fn);
CREATE OPERATOR FAMILY myfam USING btree;
CREATE OPERATOR CLASS myclass FOR TYPE integer USING hash AS OPERATOR 1 =, FUNCTION 1 hashint4(integer);
CREATE COLLATION mycoll FROM "C";
CREATE TEXT SEARCH DICTIONARY mydict (TEMPLATE = simple);
CREATE TEXT SEARCH CONFIGURATION mycfg (COPY = simple);
CREATE CONVERSION myconv FOR 'UTF8' TO 'LATIN1' FROM utf8_to_iso8859_1;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE TYPE pair AS (a integer, b integer);
CREATE TYPE shell_t;
CREATE TABLE t (id posint PRIMARY KEY, m mood, r floatrange, p pair);
CREATE VIEW v AS SELECT * FROM t;
CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;
CREATE SEQUENCE free_seq;
CREATE STATISTICS st ON id, m FROM t;
CREATE EXTENSION citext;
`,
    };
    const { db, database, dir } = await setup('postgres', files);
    const cwd = await tempDir();
    const run = (...args: string[]) => cli([...args, '--database', database.uri, ...database.cliArgs, '--dir', dir, '--json'], { cwd });
    assert.equal((await run('sync')).code, 0);
    const schema = (await db.query<{ name: string }>(sql`SELECT current_schema() AS name`))[0]!.name;
    const counts = async () =>
      (
        await db.query<Record<string, string>>(sql`
          SELECT (SELECT count(*) FROM pg_proc WHERE pronamespace = n.oid) AS routines,
                 (SELECT count(*) FROM pg_type WHERE typnamespace = n.oid) AS types,
                 (SELECT count(*) FROM pg_operator WHERE oprnamespace = n.oid) AS operators,
                 (SELECT count(*) FROM pg_opfamily WHERE opfnamespace = n.oid) AS families,
                 (SELECT count(*) FROM pg_opclass WHERE opcnamespace = n.oid) AS classes,
                 (SELECT count(*) FROM pg_collation WHERE collnamespace = n.oid) AS collations,
                 (SELECT count(*) FROM pg_ts_config WHERE cfgnamespace = n.oid) AS configs,
                 (SELECT count(*) FROM pg_ts_dict WHERE dictnamespace = n.oid) AS dicts,
                 (SELECT count(*) FROM pg_conversion WHERE connamespace = n.oid) AS conversions,
                 (SELECT count(*) FROM pg_class WHERE relnamespace = n.oid) AS relations,
                 (SELECT count(*) FROM pg_extension WHERE extnamespace = n.oid) AS extensions
            FROM pg_namespace n WHERE n.nspname = ${schema}`)
      )[0]!;
    assert.ok(Object.values(await counts()).every((count) => Number(count) > 0), JSON.stringify(await counts()));
    assert.equal((await run('drop', '--yes')).code, 0);
    assert.ok(Object.values(await counts()).every((count) => Number(count) === 0), JSON.stringify(await counts()));
    const again = await run('sync');
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.doc.result, 'CREATED');
  });

  it('dump needs a pg_dump at least as new as the server: a clear error otherwise', async () => {
    const { database, dir } = await setup('postgres');
    const cwd = await tempDir();
    const run = (env: Record<string, string>) => cli(['dump', '--database', database.uri, ...database.cliArgs, '--dir', dir, '--json'], { cwd, env });
    const missing = await run({ PG_DUMP: join(cwd, 'no-such-pg_dump') });
    assert.equal(missing.doc.error.code, 'PG_DUMP_MISSING');
    assert.match(missing.doc.error.message, /install the PostgreSQL client tools .* or set PG_DUMP/);
    const old = join(cwd, 'old-pg_dump');
    await writeFile(old, '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n');
    await chmod(old, 0o755);
    const tooOld = await run({ PG_DUMP: old });
    assert.equal(tooOld.doc.error.code, 'PG_DUMP_TOO_OLD');
    assert.match(tooOld.doc.error.message, /version 9, older than the PostgreSQL \d+ server/);
  });

  it('--create-database creates a missing database through the maintenance database, once; create is another thing', async () => {
    const cwd = await tempDir();
    const dir = await migrationsDir({ '001_a.sql': 'CREATE TABLE a (id INTEGER);\n' });
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const name = `sql_helpers_test_created_${process.pid}`;
    cleanups.push(async () => void (await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
    const url = new URL(withPassword(ADMIN_URL, SECRET));
    url.pathname = `/${name}`;
    const without = await cli(['sync', '-d', url.toString(), '--dir', dir, '--json'], { cwd });
    assert.equal(without.doc.error.code, 'CONNECTION_FAILED');
    const first = await cli(['sync', '-d', url.toString(), '--dir', dir, '--create-database', '--wait'], { cwd });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^created database "${name}"$`, 'm'));
    assert.match(first.stdout, /^applied 001_a\.sql/m);
    const second = await cli(['sync', '-d', url.toString(), '--dir', dir, '--create-database'], { cwd });
    assert.equal(second.code, 0);
    assert.doesNotMatch(second.stdout, /created database/);
    const usage = await cli(['status', '-d', url.toString(), '--dir', dir, '--create-database'], { cwd });
    assert.equal(usage.code, 2);
    const help = await cli(['--help'], { cwd });
    assert.match(help.stdout, /--create-database .*create the database itself[^]*the create command is another thing/);
  });
});
