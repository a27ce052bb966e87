import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { DatabaseManager, sql } from '../lib/index.js';
import { BASIC_MIGRATIONS, PG_URL, admin, dialects, freshDatabase, migrationsDir, runCli, type TestDatabase, withPassword as withSecret } from './support.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A password the PostgreSQL server ignores (trust auth) and that must never be printed. */
const SECRET = 's3cretPa55';

const withPassword = (uri: string, port?: number) => withSecret(uri, SECRET, port);

/** The URI as the CLI should show it: the password replaced by ***. */
function redacted(uri: string): string {
  return uri.replace(`:${SECRET}@`, ':***@');
}

// What a JSON document printed by the CLI looks like to the tests.
type Doc = Record<string, any>;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The parsed stdout of a --json run. */
  doc: Doc;
}

interface RunOptions {
  cwd: string;
  /** Added to the environment (DATABASE_URL is removed from it unless given here). */
  env?: Record<string, string>;
}

/**
 * Runs the real CLI in a child process. Every run also checks what holds for every command:
 * the password never appears, no stack trace without --stack, and --json prints exactly one JSON document on stdout.
 */
async function cli(args: string[], options: RunOptions): Promise<Run> {
  const { code, stdout, stderr } = await runCli(args, options);
  // Shown when an assertion fails; the password is masked there too, so a failure report does not leak it.
  const shown = `${args.join(' ')} → ${code}\nstdout: ${stdout}\nstderr: ${stderr}`.replaceAll(SECRET, '<PASSWORD>');
  assert.ok(!stdout.includes(SECRET) && !stderr.includes(SECRET), `the password was printed by: ${shown}`);
  if (!args.includes('--stack')) assert.doesNotMatch(stdout + stderr, /^\s+at /m, `a stack trace was printed by: ${shown}`);
  let doc: Doc = {};
  if (args.includes('--json')) {
    try {
      doc = JSON.parse(stdout) as Doc;
    } catch {
      assert.fail(`--json did not print exactly one JSON document: ${shown}`);
    }
    assert.equal(typeof doc, 'object', shown);
    assert.equal(stderr, '', `--json wrote to stderr: ${shown}`);
  }
  return { code, stdout, stderr, doc };
}

/** Lines of stdout that report an applied migration. */
const appliedLines = (stdout: string) => stdout.split('\n').filter((line) => line.startsWith('applied '));

describe('cli without a database', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function workspace(): Promise<string> {
    const cwd = await mkdtemp(join(tmpdir(), 'sql-helpers-cli-'));
    cleanups.push(() => rm(cwd, { recursive: true, force: true }));
    return cwd;
  }

  it('--help and -h print the usage with every command, and exit 0', async () => {
    const cwd = await workspace();
    for (const flag of ['--help', '-h']) {
      const run = await cli([flag], { cwd });
      assert.equal(run.code, 0);
      assert.match(run.stdout, /^Usage: /);
      for (const command of ['sync', 'status', 'current', 'upgrade', 'downgrade', 'stamp', 'create', 'drop', 'new', 'verify', 'history']) {
        assert.match(run.stdout, new RegExp(`^  ${command}\\b`, 'm'), `--help lists ${command}`);
      }
      for (const option of ['--database', '--dir', '--json', '--check', '--yes', '--stack', '--version']) assert.ok(run.stdout.includes(option), option);
      assert.equal(run.stderr, '');
    }
    // --help wins over a command and touches no database.
    const withCommand = await cli(['drop', '--help'], { cwd });
    assert.equal(withCommand.code, 0);
    assert.match(withCommand.stdout, /^Usage: /);
    assert.deepEqual(await readdir(cwd), []);
  });

  it('--version and -V print the version of package.json', async () => {
    const cwd = await workspace();
    for (const flag of ['--version', '-V']) {
      const run = await cli([flag], { cwd });
      assert.equal(run.code, 0);
      assert.equal(run.stdout.trim(), PACKAGE_VERSION);
    }
  });

  it('bad usage exits 2 with a readable message, touches nothing, and is one JSON document with --json', async () => {
    const cwd = await workspace();
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['--frobnicate'], /--frobnicate/],
      [['sync', '--frobnicate'], /--frobnicate/],
      [['downgrade'], /downgrade needs a target/],
      [['stamp'], /stamp needs a target/],
      [['new'], /new needs a name/],
      [['upgrade', '1', '2'], /too many arguments/],
      [['status', '--lock-timeout', 'soon'], /--lock-timeout takes milliseconds/],
      [['drop'], /--yes/],
    ];
    for (const [args, message] of cases) {
      const text = await cli(args, { cwd });
      assert.equal(text.code, 2, `${args.join(' ')}: ${text.stderr}`);
      assert.equal(text.stdout, '', args.join(' '));
      assert.match(text.stderr, /^usage error: /, args.join(' '));
      assert.match(text.stderr, message);
      assert.ok(text.stderr.trim().split('\n').length <= 2, `one or two lines: ${text.stderr}`);

      const json = await cli([...args, '--json'], { cwd });
      assert.equal(json.code, 2, args.join(' '));
      assert.equal(json.doc.error?.code, 'USAGE', `${args.join(' ')}: ${json.stdout}`);
      assert.match(String(json.doc.error?.message), message);
    }
    // Nothing was created: no default app.db, no ./sql.
    assert.deepEqual(await readdir(cwd), []);
  });

  it('new <name> writes the next numbered file with the same zero-padding, and --down its .down.sql', async () => {
    const cwd = await workspace();
    // No folder yet: ./sql is created and numbering starts at 001.
    const first = await cli(['new', 'Add users'], { cwd });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout.trim(), `created ${join('sql', '001_add_users.sql')}`);
    assert.deepEqual(await readdir(join(cwd, 'sql')), ['001_add_users.sql']);

    const dir = join(cwd, 'migrations');
    await mkdir(dir);
    await writeFile(join(dir, '0007_first.sql'), 'SELECT 1;\n');
    await writeFile(join(dir, '0010_second.sql'), 'SELECT 1;\n');
    await writeFile(join(dir, '0010_second.down.sql'), 'SELECT 1;\n');
    await writeFile(join(dir, 'notes.txt'), 'not a migration\n');
    const next = await cli(['new', 'add-posts', '--dir', dir, '--down'], { cwd });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /created .*0011_add_posts\.sql\n/);
    assert.match(next.stdout, /created .*0011_add_posts\.down\.sql/);
    assert.ok(existsSync(join(dir, '0011_add_posts.sql')));
    assert.ok(existsSync(join(dir, '0011_add_posts.down.sql')));
    assert.match(await readFile(join(dir, '0011_add_posts.sql'), 'utf8'), /^-- add-posts/);

    const json = await cli(['new', 'third', '--dir', dir, '--json'], { cwd });
    assert.equal(json.code, 0);
    assert.deepEqual(json.doc, { command: 'new', database: 'sqlite:./app.db', dir, ok: true, exitCode: 0, files: [join(dir, '0012_third.sql')] });
    assert.ok(!existsSync(join(dir, '0012_third.down.sql')), 'no .down.sql without --down');
  });

  it('uses sqlite:./app.db in the working directory and ./sql by default, then DATABASE_URL, then --database', async () => {
    const cwd = await workspace();
    // No ./sql: a clear error, exit 1.
    const missing = await cli([], { cwd });
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /^database: sqlite:\.\/app\.db {2}migrations: \.\/sql$/m);
    assert.match(missing.stderr, /\.\/sql.*does not exist/);

    await mkdir(join(cwd, 'sql'));
    for (const [name, content] of Object.entries(BASIC_MIGRATIONS)) await writeFile(join(cwd, 'sql', name), content);
    const defaults = await cli([], { cwd });
    assert.equal(defaults.code, 0, defaults.stderr);
    assert.match(defaults.stdout, /^database: sqlite:\.\/app\.db {2}migrations: \.\/sql$/m);
    assert.equal(appliedLines(defaults.stdout).length, 3);
    assert.ok(existsSync(join(cwd, 'app.db')), 'app.db is created in the working directory');

    const envFile = join(cwd, 'env.db');
    const fromEnv = await cli(['sync', '--json'], { cwd, env: { DATABASE_URL: `sqlite://${envFile}` } });
    assert.equal(fromEnv.code, 0);
    assert.equal(fromEnv.doc.database, `sqlite://${envFile}`);
    assert.equal(fromEnv.doc.result, 'CREATED');
    assert.ok(existsSync(envFile));

    const flagFile = join(cwd, 'flag.db');
    const fromFlag = await cli(['sync', '--json', '--database', `sqlite://${flagFile}`], { cwd, env: { DATABASE_URL: `sqlite://${envFile}` } });
    assert.equal(fromFlag.code, 0);
    assert.equal(fromFlag.doc.database, `sqlite://${flagFile}`);
    assert.equal(fromFlag.doc.result, 'CREATED', '--database wins over DATABASE_URL');
    assert.ok(existsSync(flagFile));

    // The default database was left alone by the last two runs: still up to date, not re-created.
    const again = await cli(['current', '--json'], { cwd });
    assert.equal(again.doc.database, 'sqlite:./app.db');
    assert.equal(again.doc.current, 3);

    // --dir relative to the working directory.
    await mkdir(join(cwd, 'other'));
    await writeFile(join(cwd, 'other', '001_only.sql'), 'CREATE TABLE only_one (id INTEGER PRIMARY KEY);\n');
    const otherDir = await cli(['sync', '--json', '--dir', 'other', '--database', 'sqlite:other.db'], { cwd });
    assert.equal(otherDir.code, 0, otherDir.stdout);
    assert.equal(otherDir.doc.dir, 'other');
    assert.deepEqual(
      otherDir.doc.applied.map((run: Doc) => run.file),
      ['001_only.sql'],
    );
    assert.ok(existsSync(join(cwd, 'other.db')), 'a relative sqlite: path is relative to the working directory');
  });

  it('an invalid --database is an error listing the accepted forms, exit 1', async () => {
    const cwd = await workspace();
    await mkdir(join(cwd, 'sql'));
    const run = await cli(['status', '--database', 'mysql://root@localhost/db'], { cwd });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /not supported.*sqlite::memory:/);
    const json = await cli(['status', '--database', 'mysql://root@localhost/db', '--json'], { cwd });
    assert.equal(json.code, 1);
    assert.equal(json.doc.error.code, 'INVALID_URI');
  });
});

for (const dialect of dialects) {
  describe(`cli on ${dialect}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function setup(files: Record<string, string> = BASIC_MIGRATIONS) {
      const database: TestDatabase = await freshDatabase(dialect);
      // An existing, empty SQLite file (read-only commands never create one; cli-operations tests a missing one).
      if (dialect === 'sqlite') await writeFile(database.uri.slice('sqlite://'.length), '');
      const dir = await migrationsDir(files);
      const cwd = await mkdtemp(join(tmpdir(), 'sql-helpers-cli-'));
      const managers: DatabaseManager[] = [];
      cleanups.push(async () => {
        for (const db of managers) await db.close();
        await database.cleanup();
        await rm(dir, { recursive: true, force: true });
        await rm(cwd, { recursive: true, force: true });
      });
      // On PostgreSQL every command runs with a password in the URI: `cli` checks that it is never printed.
      const uri = dialect === 'postgres' ? withPassword(database.uri) : database.uri;
      const target = ['--database', uri, ...database.cliArgs, '--dir', dir];
      const run = (...args: string[]) => cli([...args, ...target], { cwd });
      const manager = () => {
        const db = new DatabaseManager(database.uri, dir, database.options);
        managers.push(db);
        return db;
      };
      const tables = async (): Promise<string[]> => {
        const db = manager();
        const rows =
          dialect === 'sqlite'
            ? await db.query<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
            : await db.query<{ name: string }>(
                sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
              );
        return rows.map((row) => row.name);
      };
      return { database, dir, cwd, uri, target, run, tables };
    }

    it('sync (the default command) prints each applied migration with its time and a summary, then says up to date', async () => {
      const { run, uri, dir, tables } = await setup();
      const first = await run();
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stderr, '');
      assert.ok(first.stdout.includes(`database: ${redacted(uri)}`), first.stdout);
      if (dialect === 'postgres') assert.ok(first.stdout.includes(':***@'), 'the URI is shown with the password hidden');
      assert.deepEqual(
        appliedLines(first.stdout).map((line) => line.replace(/in \d+ ms$/, 'in N ms')),
        ['applied 001_users.sql in N ms', 'applied 002_groups.sql in N ms', 'applied 003_memberships.sql in N ms'],
      );
      assert.match(first.stdout, /^created: 3 migrations applied in \d+ ms$/m);
      assert.deepEqual(await tables(), ['groups', 'memberships', 'sql_helpers_migrations', 'users']);

      const second = await run();
      assert.equal(second.code, 0);
      assert.deepEqual(appliedLines(second.stdout), []);
      assert.match(second.stdout, /already up to date/);

      await writeFile(join(dir, '004_posts.sql'), 'CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\n');
      const third = await run('sync', '--json');
      assert.equal(third.code, 0);
      assert.equal(third.doc.command, 'sync');
      assert.equal(third.doc.result, 'UPGRADED');
      assert.equal(third.doc.database, redacted(uri));
      assert.deepEqual(
        third.doc.applied.map((entry: Doc) => [entry.version, entry.name, entry.file]),
        [[4, 'posts', '004_posts.sql']],
      );
      assert.equal(typeof third.doc.applied[0].durationMs, 'number');

      const fourth = await run('sync', '--json');
      assert.equal(fourth.doc.result, 'ALREADY_UP_TO_DATE');
      assert.deepEqual(fourth.doc.applied, []);
    });

    it('status prints a table; --check exits 3 until the database is up to date', async () => {
      const { run } = await setup();
      const empty = await run('status');
      assert.equal(empty.code, 0);
      assert.match(empty.stdout, /^version\s+name\s+state\s+applied at\s+duration$/m);
      assert.match(empty.stdout, /^1\s+users\s+pending$/m);
      assert.match(empty.stdout, /^3\s+memberships\s+pending$/m);
      assert.match(empty.stdout, /^status: NO_INFO/m);
      assert.equal((await run('status', '--check')).code, 3);
      const emptyJson = await run('status', '--check', '--json');
      assert.equal(emptyJson.code, 3);
      assert.equal(emptyJson.doc.status, 'NO_INFO');
      assert.equal(emptyJson.doc.current, null);
      assert.equal(emptyJson.doc.latest, 3);

      assert.equal((await run('upgrade', '2')).code, 0);
      const partial = await run('status', '--check');
      assert.equal(partial.code, 3);
      assert.match(partial.stdout, /^2\s+groups\s+applied\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\d+ ms$/m);
      assert.match(partial.stdout, /^3\s+memberships\s+pending$/m);
      assert.match(partial.stdout, /^status: UPGRADE_AVAILABLE \(current 2, latest 3\)$/m);
      assert.equal((await run('status')).code, 0, 'without --check, status is informational');

      assert.equal((await run('sync')).code, 0);
      const done = await run('status', '--check');
      assert.equal(done.code, 0);
      assert.match(done.stdout, /^status: UP_TO_DATE \(current 3, latest 3\)$/m);
      const doneJson = await run('status', '--check', '--json');
      assert.equal(doneJson.code, 0);
      assert.equal(doneJson.doc.status, 'UP_TO_DATE');
      assert.deepEqual(
        doneJson.doc.migrations.map((entry: Doc) => [entry.version, entry.state]),
        [
          [1, 'applied'],
          [2, 'applied'],
          [3, 'applied'],
        ],
      );
    });

    it('current, upgrade [target], downgrade <target> and history', async () => {
      const { run, dir, tables } = await setup();
      assert.match((await run('current')).stdout, /^current: none$/m);
      assert.equal((await run('current', '--json')).doc.current, null);
      assert.match((await run('history')).stdout, /no migration has been applied/);

      const one = await run('upgrade', '1');
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(
        appliedLines(one.stdout).map((line) => line.split(' ')[1]),
        ['001_users.sql'],
      );
      assert.match(one.stdout, /^1 migration applied in \d+ ms$/m);
      assert.match((await run('current')).stdout, /^current: 1$/m);

      const rest = await run('upgrade', '--json');
      assert.equal(rest.code, 0);
      assert.deepEqual(
        rest.doc.applied.map((entry: Doc) => entry.version),
        [2, 3],
      );
      assert.equal((await run('current', '--json')).doc.current, 3);
      assert.match((await run('upgrade')).stdout, /nothing to apply/);

      const history = await run('history');
      assert.equal(history.code, 0);
      assert.match(history.stdout, /^version\s+name\s+state\s+applied at\s+duration$/m);
      for (const name of ['users', 'groups', 'memberships']) assert.match(history.stdout, new RegExp(`^\\d\\s+${name}\\s+applied\\s+\\d{4}-`, 'm'));
      const historyJson = await run('history', '--json');
      assert.deepEqual(
        historyJson.doc.history.map((entry: Doc) => entry.version),
        [1, 2, 3],
      );
      for (const entry of historyJson.doc.history as Doc[]) {
        assert.ok(!Number.isNaN(Date.parse(entry.appliedAt)), `appliedAt ${entry.appliedAt}`);
        assert.equal(typeof entry.durationMs, 'number');
      }

      const down = await run('downgrade', '1');
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(
        down.stdout.split('\n').filter((line) => line.startsWith('reverted ')).map((line) => line.split(' ')[1]),
        ['003_memberships.down.sql', '002_groups.down.sql'],
      );
      assert.match(down.stdout, /^2 migrations reverted in \d+ ms$/m);
      assert.match((await run('current')).stdout, /^current: 1$/m);
      assert.deepEqual(await tables(), ['sql_helpers_migrations', 'users']);

      const all = await run('downgrade', '0', '--json');
      assert.equal(all.code, 0);
      assert.deepEqual(
        all.doc.reverted.map((entry: Doc) => entry.version),
        [1],
      );
      assert.equal((await run('current', '--json')).doc.current, null);
      assert.deepEqual(await tables(), ['sql_helpers_migrations']);

      // A migration without a down file: downgrade refuses and changes nothing.
      await writeFile(join(dir, '004_posts.sql'), 'CREATE TABLE posts (id INTEGER PRIMARY KEY);\n');
      assert.equal((await run('sync')).code, 0);
      const refused = await run('downgrade', '0', '--json');
      assert.equal(refused.code, 1);
      assert.ok(refused.doc.error, refused.stdout);
      assert.match(refused.doc.error.message, /004_posts/);
      assert.equal((await run('current', '--json')).doc.current, 4);
      assert.deepEqual(await tables(), ['groups', 'memberships', 'posts', 'sql_helpers_migrations', 'users']);
      const refusedText = await run('downgrade', '0');
      assert.equal(refusedText.code, 1);
      assert.match(refusedText.stderr, /^error: .*004_posts/);
    });

    it('stamp <target> records versions without running them; create applies everything to an empty database only', async () => {
      const { run, tables } = await setup();
      const stamped = await run('stamp', '2');
      assert.equal(stamped.code, 0, stamped.stderr);
      assert.match(stamped.stdout, /stamped 2 version\(s\): 1, 2/);
      assert.deepEqual(await tables(), ['sql_helpers_migrations'], 'stamp runs nothing');
      assert.equal((await run('current', '--json')).doc.current, 2);
      const again = await run('stamp', '2', '--json');
      assert.equal(again.code, 0);
      assert.deepEqual(again.doc.stamped, []);
      assert.match((await run('stamp', '2')).stdout, /nothing to stamp/);
      const history = await run('history', '--json');
      assert.deepEqual(
        history.doc.history.map((entry: Doc) => [entry.version, entry.durationMs]),
        [
          [1, 0],
          [2, 0],
        ],
      );

      // create refuses a database with versions recorded.
      const refused = await run('create', '--json');
      assert.equal(refused.code, 1);
      assert.equal(refused.doc.error.code, 'ALREADY_CREATED');
      assert.deepEqual(await tables(), ['sql_helpers_migrations']);

      assert.equal((await run('drop', '--yes')).code, 0);
      const created = await run('create');
      assert.equal(created.code, 0, created.stderr);
      assert.equal(appliedLines(created.stdout).length, 3);
      assert.match(created.stdout, /^3 migrations applied in \d+ ms$/m);
      assert.deepEqual(await tables(), ['groups', 'memberships', 'sql_helpers_migrations', 'users']);
      const createdAgain = await run('create');
      assert.equal(createdAgain.code, 1);
      assert.match(createdAgain.stderr, /already has 3 version\(s\) recorded.*\[ALREADY_CREATED\]/);
    });

    it('drop without --yes exits 2 and drops nothing; with --yes it drops everything, twice is fine', async () => {
      const { run, tables } = await setup();
      assert.equal((await run('sync')).code, 0);
      const before = await tables();
      assert.equal(before.length, 4);

      const refused = await run('drop');
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--yes/);
      const refusedJson = await run('drop', '--json');
      assert.equal(refusedJson.code, 2);
      assert.equal(refusedJson.doc.error.code, 'USAGE');
      assert.deepEqual(await tables(), before, 'nothing was dropped');

      const dropped = await run('drop', '--yes');
      assert.equal(dropped.code, 0, dropped.stderr);
      assert.match(dropped.stdout, /dropped/);
      assert.deepEqual(await tables(), []);
      const twice = await run('drop', '-y', '--json');
      assert.equal(twice.code, 0);
      assert.equal(twice.doc.dropped, true);
      assert.equal((await run('status', '--json')).doc.status, 'NO_INFO');
      assert.equal((await run('sync', '--json')).doc.result, 'CREATED');
    });

    it('verify exits 0 when the files and the database agree, 1 after an applied file is edited', async () => {
      const { run, dir } = await setup();
      assert.equal((await run('sync')).code, 0);
      const ok = await run('verify');
      assert.equal(ok.code, 0, ok.stdout);
      assert.match(ok.stdout, /^ok/m);
      const okJson = await run('verify', '--json');
      assert.equal(okJson.code, 0);
      assert.equal(okJson.doc.ok, true);
      assert.deepEqual(okJson.doc.problems, []);

      // Line endings do not count as an edit.
      await writeFile(join(dir, '001_users.sql'), (BASIC_MIGRATIONS['001_users.sql'] ?? '').replaceAll('\n', '\r\n'));
      assert.equal((await run('verify')).code, 0, 'CRLF is not drift');

      await appendFile(join(dir, '002_groups.sql'), 'CREATE INDEX groups_name ON groups (name);\n');
      const drift = await run('verify');
      assert.equal(drift.code, 1);
      assert.match(drift.stdout, /CHECKSUM_MISMATCH: 002_groups\.sql/);
      const driftJson = await run('verify', '--json');
      assert.equal(driftJson.code, 1);
      assert.equal(driftJson.doc.ok, false);
      assert.deepEqual(
        driftJson.doc.problems.map((problem: Doc) => [problem.code, problem.version]),
        [['CHECKSUM_MISMATCH', 2]],
      );
      // And sync refuses to go on.
      const sync = await run('sync');
      assert.equal(sync.code, 1);
      assert.match(sync.stderr, /002_groups\.sql/);
    });

    it('a failing migration exits 1 naming file:line, without a stack trace unless --stack', async () => {
      const { run, tables } = await setup({
        '001_ok.sql': 'CREATE TABLE ok (id INTEGER PRIMARY KEY);\n',
        '002_broken.sql': 'CREATE TABLE half (id INTEGER PRIMARY KEY);\n\nINSERT INTO missing_table (id) VALUES (1);\n',
      });
      const text = await run('sync');
      assert.equal(text.code, 1);
      assert.match(text.stdout, /^applied 001_ok\.sql in \d+ ms$/m);
      assert.match(text.stderr, /^error: 002_broken\.sql:3(:\d+)?: .*missing_table/m);
      assert.ok(text.stderr.trim().split('\n').length <= 2, `one or two lines: ${text.stderr}`);
      assert.deepEqual(await tables(), ['ok', 'sql_helpers_migrations'], 'the failed migration was rolled back');

      const json = await run('sync', '--json');
      assert.equal(json.code, 1);
      assert.equal(json.doc.error.code, 'MIGRATION_FAILED');
      assert.equal(json.doc.error.file, '002_broken.sql');
      assert.equal(json.doc.error.line, 3);
      assert.equal(json.doc.error.version, 2);
      assert.match(json.doc.error.message, /missing_table/);
      assert.equal((await run('current', '--json')).doc.current, 1);

      const stack = await run('sync', '--stack');
      assert.equal(stack.code, 1);
      assert.match(stack.stderr, /^\s+at /m, '--stack shows the stack');
    });

    it('takes the database from DATABASE_URL when --database is absent', async () => {
      const { database, dir, cwd, uri } = await setup();
      const env = { DATABASE_URL: uri };
      const run = await cli(['sync', '--dir', dir, ...database.cliArgs], { cwd, env });
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.stdout.includes(`database: ${redacted(uri)}`), run.stdout);
      assert.equal(appliedLines(run.stdout).length, 3);
      assert.ok(!existsSync(join(cwd, 'app.db')), 'the default database was not used');
      const json = await cli(['current', '--json', '--dir', dir, ...database.cliArgs], { cwd, env });
      assert.equal(json.doc.database, redacted(uri));
      assert.equal(json.doc.current, 3);
    });

    it('--json prints exactly one JSON document for every command, errors included', async () => {
      const { run, dir, cwd } = await setup();
      const steps: Array<[string[], number, (doc: Doc) => void]> = [
        [['status'], 0, (doc) => assert.equal(doc.status, 'NO_INFO')],
        [['current'], 0, (doc) => assert.equal(doc.current, null)],
        [['history'], 0, (doc) => assert.deepEqual(doc.history, [])],
        [['upgrade', '1'], 0, (doc) => assert.equal(doc.applied.length, 1)],
        [['upgrade'], 0, (doc) => assert.equal(doc.applied.length, 2)],
        [['verify'], 0, (doc) => assert.equal(doc.ok, true)],
        [['downgrade', '0'], 0, (doc) => assert.equal(doc.reverted.length, 3)],
        [['stamp', '3'], 0, (doc) => assert.deepEqual(doc.stamped, [1, 2, 3])],
        [['drop', '--yes'], 0, (doc) => assert.equal(doc.dropped, true)],
        [['create'], 0, (doc) => assert.equal(doc.applied.length, 3)],
        [['sync'], 0, (doc) => assert.equal(doc.result, 'ALREADY_UP_TO_DATE')],
        [['create'], 1, (doc) => assert.equal(doc.error.code, 'ALREADY_CREATED')],
        [['upgrade', '99'], 1, (doc) => assert.equal(typeof doc.error.code, 'string')],
        [['downgrade'], 2, (doc) => assert.equal(doc.error.code, 'USAGE')],
        [['bogus'], 2, (doc) => assert.equal(doc.error.code, 'USAGE')],
      ];
      for (const [args, code, check] of steps) {
        const result = await run(...args, '--json');
        assert.equal(result.code, code, `${args.join(' ')}: ${result.stdout}`);
        // One shape for success and failure: where it ran, ok, the exit code, and the error when there is one.
        if (code !== 2) assert.equal(result.doc.command, args[0]);
        assert.deepEqual(Object.keys(result.doc).slice(0, 5), ['command', 'database', 'dir', 'ok', 'exitCode'], `${args.join(' ')}: ${result.stdout}`);
        assert.equal(result.doc.ok, code === 0);
        assert.equal(result.doc.exitCode, code);
        assert.equal('error' in result.doc, code !== 0, `${args.join(' ')}: ${result.stdout}`);
        check(result.doc);
      }
      const created = await cli(['new', 'next step', '--json', '--dir', dir], { cwd });
      assert.deepEqual(created.doc.files, [join(dir, '004_next_step.sql')]);
      assert.equal(created.doc.database, 'sqlite:./app.db', 'new names the database it would use, without opening it');
    });
  });
}

describe('cli never prints a PostgreSQL password', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('hides it on every command when the server is unreachable, in text and in --json', async () => {
    const dir = await migrationsDir(BASIC_MIGRATIONS);
    const cwd = await mkdtemp(join(tmpdir(), 'sql-helpers-cli-'));
    cleanups.push(async () => {
      await rm(dir, { recursive: true, force: true });
      await rm(cwd, { recursive: true, force: true });
    });
    const unreachable = withPassword(PG_URL, 1);
    const shown = redacted(unreachable);
    assert.ok(shown.includes(':***@127.0.0.1:1/') || shown.includes(':***@localhost:1/'), shown);
    const commands = [['sync'], ['status'], ['current'], ['upgrade'], ['downgrade', '0'], ['stamp', '1'], ['create'], ['drop', '--yes'], ['verify'], ['history']];
    const runs = await Promise.all(
      commands.flatMap((command) => [
        cli([...command, '--database', unreachable, '--dir', dir], { cwd }).then((run) => ({ command, json: false, run })),
        cli([...command, '--database', unreachable, '--dir', dir, '--json'], { cwd }).then((run) => ({ command, json: true, run })),
      ]),
    );
    for (const { command, json, run } of runs) {
      const label = `${command.join(' ')}${json ? ' --json' : ''}`;
      assert.equal(run.code, 1, `${label}: ${run.stdout} ${run.stderr}`);
      if (json) {
        assert.equal(run.doc.error.code, 'CONNECTION_FAILED', label);
        assert.ok(String(run.doc.error.message).includes(shown), `${label}: ${run.doc.error.message}`);
      } else {
        assert.ok(run.stdout.includes(`database: ${shown}`), label);
        assert.match(run.stderr, /^error: .*\[CONNECTION_FAILED\]$/m, label);
        assert.ok(run.stderr.includes(shown), `${label}: ${run.stderr}`);
      }
    }
    // --stack shows more, still without the password (cli checks it).
    const stack = await cli(['status', '--database', unreachable, '--dir', dir, '--stack'], { cwd });
    assert.equal(stack.code, 1);
  });

  it('hides it in configuration errors, unknown databases and DATABASE_URL', async () => {
    const dir = await migrationsDir(BASIC_MIGRATIONS);
    const cwd = await mkdtemp(join(tmpdir(), 'sql-helpers-cli-'));
    cleanups.push(async () => {
      await rm(dir, { recursive: true, force: true });
      await rm(cwd, { recursive: true, force: true });
    });
    const badPort = `postgres://postgres:${SECRET}@127.0.0.1:notaport/test`;
    for (const json of [false, true]) {
      const run = await cli(['status', '--database', badPort, '--dir', dir, ...(json ? ['--json'] : [])], { cwd });
      assert.equal(run.code, 1);
      assert.ok((json ? String(run.doc.error.message) : run.stderr).includes(':***@'), run.stdout + run.stderr);
    }

    const url = new URL(withPassword(PG_URL));
    url.pathname = '/sql_helpers_no_such_database';
    for (const json of [false, true]) {
      const run = await cli(['sync', '--database', url.toString(), '--dir', dir, ...(json ? ['--json'] : [])], { cwd });
      assert.equal(run.code, 1);
      assert.match(json ? String(run.doc.error.message) : run.stderr, /sql_helpers_no_such_database/);
    }

    // Through DATABASE_URL, against the real server (a read-only command on a schema of its own).
    cleanups.push(async () => void (await admin('DROP SCHEMA IF EXISTS sql_helpers_absent_schema CASCADE')));
    const fromEnv = await cli(['status', '--dir', dir, '--schema', 'sql_helpers_absent_schema'], { cwd, env: { DATABASE_URL: withPassword(PG_URL) } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.ok(fromEnv.stdout.includes(`database: ${redacted(withPassword(PG_URL))}`), fromEnv.stdout);
  });
});
