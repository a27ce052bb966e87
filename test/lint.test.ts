import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ConfigurationError, LINT_RULES, MigrationFileError, lintSql, type LintFinding } from '../lib/index.js';
import { loadParser } from '../lib/lint/parser.js';
import { BASIC_MIGRATIONS, dialects, freshDatabase, migrationsDir, runCli } from './support.js';

const brief = (findings: LintFinding[]) => findings.map((finding) => `${finding.line}:${finding.column} ${finding.rule}`);

/** Per rule: a file that trips it (with where), and its safe rewrite, which must not. */
const CASES: Record<string, { trips: string; at: string[]; safe: string }> = {
  'require-concurrent-index': {
    trips: '-- index the emails\nCREATE INDEX users_email_idx ON users (email);\n',
    at: ['2:1'],
    safe: '-- sql-helpers:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n',
  },
  'constraint-without-not-valid': {
    trips: 'ALTER TABLE orders\n  ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id),\n  ADD CONSTRAINT orders_total_check CHECK (total >= 0);\n',
    at: ['2:7', '3:7'],
    safe: 'ALTER TABLE orders\n  ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID,\n  ADD CONSTRAINT orders_total_check CHECK (total >= 0) NOT VALID;\n',
  },
  'set-not-null-without-check': {
    trips: 'ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n',
    at: ['1:1'],
    safe: 'ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\nALTER TABLE users DROP CONSTRAINT users_email_not_null;\n',
  },
  'column-type-change': {
    trips: 'ALTER TABLE users\n    ALTER COLUMN id TYPE bigint;\n',
    at: ['2:18'],
    safe: 'ALTER TABLE users ADD COLUMN id_new bigint;\n',
  },
  'add-column-volatile-default': {
    trips: 'ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\nALTER TABLE users ADD COLUMN n bigserial;\n',
    at: ['1:41', '2:30'],
    safe: "ALTER TABLE users ADD COLUMN token uuid;\nALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid();\nALTER TABLE users ADD COLUMN seen_at timestamptz DEFAULT now(), ADD COLUMN kind text DEFAULT 'user';\n",
  },
  'drop-or-rename': {
    trips: 'DROP TABLE legacy;\nALTER TABLE users DROP COLUMN nickname;\nALTER TABLE users RENAME COLUMN email TO mail;\nALTER TABLE users RENAME TO members;\n',
    at: ['1:1', '2:1', '3:1', '4:1'],
    safe: 'ALTER TABLE users ADD COLUMN mail text;\nCREATE VIEW members AS SELECT * FROM users;\n',
  },
  'concurrently-in-transaction': {
    trips: 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n',
    at: ['1:1'],
    safe: '-- sql-helpers:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n',
  },
};

describe('lint rules, with the real PostgreSQL parser', () => {
  it('has a case here for every rule', () => {
    assert.deepEqual(Object.keys(CASES).sort(), LINT_RULES.map((rule) => rule.id).sort());
  });

  for (const [id, example] of Object.entries(CASES)) {
    it(`${id}: trips at the exact position, and its safe rewrite does not`, async () => {
      const findings = await lintSql('005_x.sql', example.trips);
      assert.deepEqual(brief(findings), example.at.map((at) => `${at} ${id}`));
      const rule = LINT_RULES.find((candidate) => candidate.id === id)!;
      assert.equal(findings[0]!.why, rule.why);
      assert.equal(findings[0]!.recipe, rule.recipe);
      assert.equal(findings[0]!.file, '005_x.sql');
      assert.deepEqual(brief(await lintSql('005_x.sql', example.safe)), []);
    });
  }

  it('tables created in the same file are new and empty: nothing to flag', async () => {
    const text =
      'CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric);\n' +
      'CREATE INDEX orders_user_idx ON orders (user_id);\n' +
      'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\n' +
      'ALTER TABLE orders ALTER COLUMN total SET NOT NULL, ALTER COLUMN total TYPE numeric(12, 2);\n' +
      'ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();\n' +
      'ALTER TABLE orders RENAME COLUMN total TO amount;\n';
    assert.deepEqual(brief(await lintSql('a.sql', text)), []);
  });

  it('VALIDATE in the same transaction as ADD … NOT VALID is flagged; in a later file it is the recipe', async () => {
    const text = 'ALTER TABLE orders ADD CONSTRAINT c CHECK (total >= 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT c;\n';
    assert.deepEqual(brief(await lintSql('a.sql', text)), ['2:1 constraint-without-not-valid']);
    assert.deepEqual(brief(await lintSql('a.sql', 'ALTER TABLE orders VALIDATE CONSTRAINT c;\n')), []);
  });

  it('a no-transaction file that mixes CONCURRENTLY with other statements is flagged at the others', async () => {
    const text = '-- sql-helpers:no-transaction\nCREATE INDEX CONCURRENTLY i ON users (email);\nUPDATE users SET email = lower(email);\n';
    assert.deepEqual(brief(await lintSql('a.sql', text)), ['3:1 concurrently-in-transaction']);
  });

  it('dollar-quoted bodies, strings and comments do not confuse it; positions count characters, not bytes', async () => {
    const text =
      "/* CREATE INDEX i ON users (email); */\n-- ALTER TABLE users DROP COLUMN email;\n" +
      "DO $body$ BEGIN EXECUTE 'ALTER TABLE users DROP COLUMN email'; END $body$;\n" +
      "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ DROP TABLE users $$;\n" +
      "SELECT '-- sql-helpers:lint-ignore drop-or-rename';\n" +
      "INSERT INTO notes (body) VALUES ('ünïcödé 😀'); DROP TABLE legacy;\n";
    assert.deepEqual(brief(await lintSql('a.sql', text)), ['6:48 drop-or-rename']);
  });

  it('a lint-ignore comment silences the named rule for the next statement only', async () => {
    const text =
      '-- sql-helpers:lint-ignore column-type-change\nALTER TABLE users ALTER COLUMN name TYPE text;\n' +
      'ALTER TABLE users ALTER COLUMN bio TYPE text;\n' +
      '-- sql-helpers:lint-ignore drop-or-rename, column-type-change\nALTER TABLE users ALTER COLUMN x TYPE text, DROP COLUMN y;\n' +
      '-- sql-helpers:lint-ignore drop-or-rename\nALTER TABLE users ALTER COLUMN z TYPE text;\n';
    assert.deepEqual(brief(await lintSql('a.sql', text)), ['3:32 column-type-change', '7:32 column-type-change']);
    await assert.rejects(lintSql('b.sql', 'SELECT 1;\n-- sql-helpers:lint-ignore no-such-rule\nSELECT 2;\n'), (error: unknown) =>
      error instanceof MigrationFileError && error.code === 'UNKNOWN_LINT_RULE' && error.line === 2 && /b\.sql:2: .*no-such-rule/.test(error.message));
  });

  it('a syntax error is a finding at its position', async () => {
    assert.deepEqual(brief(await lintSql('a.sql', 'SELECT 1;\nALTER TABLE users ADD COLUM x int;\n')), ['2:31 syntax-error']);
  });

  it('a missing libpg-query is a clear error naming the package', async () => {
    const missing = Object.assign(new Error("Cannot find package 'libpg-query'"), { code: 'ERR_MODULE_NOT_FOUND' });
    await assert.rejects(loadParser(() => Promise.reject(missing)), (error: unknown) =>
      error instanceof ConfigurationError && error.code === 'LINT_PARSER_MISSING' && /npm install --save-dev libpg-query/.test(error.message));
  });
});

describe('lint from the CLI', () => {
  const folders: string[] = [];
  afterEach(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  });

  it('exits 0 on clean files, 1 with file:line:column findings, 2 on bad usage; skips SQLite-only files', async () => {
    const dir = await migrationsDir({
      '001_ok.sql': 'CREATE TABLE users (id bigint PRIMARY KEY, email text);\n',
      '002_index.sql': 'CREATE INDEX users_email_idx ON users (email);\n',
      '002_index.sqlite.sql': 'CREATE INDEX users_email_idx ON users (email);\n',
    });
    folders.push(dir);
    const clean = await runCli(['lint', join(dir, '001_ok.sql')]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /0 finding\(s\) in 1 file\(s\)/);
    const dirty = await runCli(['lint', join(dir, '001_ok.sql'), join(dir, '002_index.sql'), join(dir, '002_index.sqlite.sql')]);
    assert.equal(dirty.code, 1, dirty.stderr);
    assert.match(dirty.stdout, new RegExp(`^${join(dir, '002_index.sql')}:1:1: require-concurrent-index: CREATE INDEX on existing table users without CONCURRENTLY\\n  why: .*SHARE lock.*\\n  instead: .*CREATE INDEX CONCURRENTLY`, 'm'));
    assert.match(dirty.stdout, /002_index\.sqlite\.sql: skipped \(SQLite only\)/);
    const json = await runCli(['lint', '--json', join(dir, '002_index.sql')]);
    assert.equal(json.code, 1);
    const document = JSON.parse(json.stdout) as { findings: LintFinding[] };
    assert.deepEqual(brief(document.findings), ['1:1 require-concurrent-index']);
    const usage = await runCli(['lint', '--no-such-flag']);
    assert.equal(usage.code, 2);
  });

  for (const dialect of dialects) {
    it(`without files, lints the pending migrations of --dir (${dialect})`, async () => {
      const database = await freshDatabase(dialect);
      const dir = await migrationsDir({ ...BASIC_MIGRATIONS });
      folders.push(dir);
      try {
        assert.equal((await runCli(['sync', '--database', database.uri, '--dir', dir, ...database.cliArgs])).code, 0);
        await writeFile(join(dir, '004_email_index.sql'), 'CREATE INDEX users_email_idx ON users (email);\n');
        const run = await runCli(['lint', '--database', database.uri, '--dir', dir, ...database.cliArgs]);
        assert.equal(run.code, 1, run.stdout + run.stderr);
        assert.match(run.stdout, /004_email_index\.sql:1:1: require-concurrent-index/);
        assert.match(run.stdout, /1 finding\(s\) in 1 file\(s\)/, 'applied files are not linted');
      } finally {
        await database.cleanup();
      }
    });
  }
});
