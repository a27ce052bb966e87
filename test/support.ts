import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterEach } from 'node:test';
import { DatabaseManager, identifier, sql, type DatabaseManagerOptions, type Dialect } from '../lib/index.js';
import { createTestDatabase } from '../lib/testing/index.js';

/**
 * Every suite runs once per dialect. PostgreSQL is required: a missing server fails the run, never skips.
 * `test/run.ts` runs the PostgreSQL suites a second time through a pooler with `TEST_DIALECTS=postgres`.
 */
export const dialects: Dialect[] = process.env.TEST_DIALECTS === 'postgres' ? ['postgres'] : ['sqlite', 'postgres'];

/** The PostgreSQL server the tests use (trust auth); each test gets its own schema or database in it. */
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The same server without any pooler in between: for CREATE/DROP DATABASE and for watching pg_locks. */
export const ADMIN_URL = process.env.TEST_ADMIN_URL ?? PG_URL;

/** `'pgbouncer'` when PG_URL goes through a transaction pooler. */
export const TOPOLOGY = process.env.TEST_TOPOLOGY === 'pgbouncer' ? 'pgbouncer' : 'direct';

const suffix = () => randomBytes(5).toString('hex');

/** Runs one statement on the admin connection (CREATE/DROP DATABASE, DROP SCHEMA). */
export async function admin(text: string, url = ADMIN_URL): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** A throwaway database: a SQLite file in a temp folder, or a PostgreSQL schema; `cleanup` removes it. */
export interface TestDatabase {
  dialect: Dialect;
  uri: string;
  /** `{ schema }` on PostgreSQL, `{}` on SQLite: pass it to the manager. */
  options: { schema?: string };
  /** For the CLI: `--schema NAME` on PostgreSQL. */
  cliArgs: string[];
  cleanup(): Promise<void>;
}

/**
 * A fresh, empty database of `dialect`, isolated from every other test: on PostgreSQL a schema of the shared
 * database, or, with `ownDatabase` (and always behind a pooler), a database of its own. `CREATE INDEX
 * CONCURRENTLY` waits for every transaction of its database that holds a snapshot, other suites' slow
 * statements in the shared database included: a test that builds one needs its own database.
 */
export async function freshDatabase(dialect: Dialect, options: { ownDatabase?: boolean } = {}): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'sql-helpers-'));
    return { dialect, uri: `sqlite://${join(dir, 'test.db')}`, options: {}, cliArgs: [], cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  if (TOPOLOGY === 'pgbouncer') {
    // Through a transaction pooler the startup search_path is dropped: isolate by database, as services do.
    const database = await freshPgDatabase();
    return { dialect, uri: database.uri, options: {}, cliArgs: [], cleanup: database.cleanup };
  }
  const schema = `t_${suffix()}`;
  const own = options.ownDatabase ? await freshPgDatabase() : undefined;
  return {
    dialect,
    uri: own?.uri ?? PG_URL,
    options: { schema },
    cliArgs: ['--schema', schema],
    cleanup: async () => {
      if (own) await own.cleanup();
      else await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/** `uri`'s database on the server itself, past any pooler: for a client that holds session state (a lock). */
export function directUri(uri: string): string {
  const url = new URL(uri);
  const admin = new URL(ADMIN_URL);
  url.host = admin.host;
  return url.toString();
}

/** A fresh PostgreSQL database (for tests that need a whole database, like concurrency or drop). */
export async function freshPgDatabase(): Promise<{ uri: string; name: string; cleanup(): Promise<void> }> {
  const name = `sql_helpers_test_${suffix()}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return { uri: url.toString(), name, cleanup: async () => void (await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
}

/** A temp folder holding `files` (name → content); returns its path. */
export async function migrationsDir(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sql-helpers-migrations-'));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

/** A migrations folder kept in test/fixtures/migrations: the same files every run, so its template is reused. */
export const fixtureMigrations = (name: string) => fileURLToPath(new URL(`./fixtures/migrations/${name}`, import.meta.url));

/** Three portable migrations (users, groups, memberships) used by most suites: test/fixtures/migrations/basic. */
export const BASIC_MIGRATIONS: Record<string, string> = Object.fromEntries(
  readdirSync(fixtureMigrations('basic'))
    .sort()
    .map((name) => [name, readFileSync(join(fixtureMigrations('basic'), name), 'utf8')]),
);

/**
 * A database with every migration of `dir` (a fixture folder) applied, cloned by sql-helpers/testing from a
 * template that later runs reuse: a SQLite file copy, or a PostgreSQL database made through the direct admin
 * URL and reached through PG_URL (the pooler, in that pass). On PostgreSQL without a pooler the migrations run
 * in schema `app` (the schema option), as the schemas of freshDatabase do, unless `inSchema` is false. No
 * spares: a suite asks once to three times, so a clone made ahead would mostly be made for nothing.
 */
export async function migratedDatabase(dialect: Dialect, dir: string, { inSchema = true } = {}): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const made = await createTestDatabase(`sqlite://${join(tmpdir(), 'sql-helpers-suites', 'suite.db')}`, dir, { spares: 0 });
    return { dialect, uri: made.url, options: {}, cliArgs: [], cleanup: () => made.drop() };
  }
  const options = TOPOLOGY === 'pgbouncer' || !inSchema ? {} : { schema: 'app' };
  const made = await createTestDatabase(ADMIN_URL, dir, { ...options, spares: 0 });
  const url = new URL(PG_URL);
  url.pathname = new URL(made.url).pathname;
  return { dialect, uri: url.toString(), options, cliArgs: options.schema ? ['--schema', options.schema] : [], cleanup: () => made.drop() };
}

/** The compiled CLI, run by the tests as a child process. */
export const CLI = fileURLToPath(new URL('../lib/migrate.js', import.meta.url));

/** What a CLI run printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI in a child process; never rejects on a non-zero exit. DATABASE_URL and the unsafe
 * no-lock switch are removed from the environment unless `env` sets them.
 */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  delete env.SQL_HELPERS_UNSAFE_NO_MIGRATION_LOCK;
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The user tables of the managed schema (SQLite: of the file), sorted. */
export async function tableNames(db: DatabaseManager): Promise<string[]> {
  const rows =
    db.dialect === 'sqlite'
      ? await db.query<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
      : await db.query<{ name: string }>(
          sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
        );
  return rows.map((row) => row.name);
}

/** The versions recorded in the version table, ascending. */
export async function recordedVersions(db: DatabaseManager, versionTable = 'sql_helpers_migrations'): Promise<number[]> {
  const rows = await db.query<{ version: string | number }>(sql`SELECT version FROM ${identifier(versionTable)} ORDER BY version`);
  return rows.map((row) => Number(row.version));
}

/** A fresh database, a migrations folder, and the managers opened on them. */
export interface Workspace {
  db: DatabaseManager;
  dir: string;
  database: TestDatabase;
  /** Another manager on the same database (and `folder`, by default the workspace's). */
  open(folder?: string, extra?: DatabaseManagerOptions): DatabaseManager;
}

/**
 * Per-suite bookkeeping: call it inside a `describe`; every workspace, manager, temp folder and extra
 * cleanup is removed after each test of that suite.
 */
export function workspaces() {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function setup(
    dialect: Dialect,
    files: Record<string, string | Uint8Array> = BASIC_MIGRATIONS,
    options: DatabaseManagerOptions = {},
  ): Promise<Workspace> {
    const concurrently = Object.values(files).some((content) => /CONCURRENTLY/i.test(String(content)));
    const database = await freshDatabase(dialect, { ownDatabase: concurrently });
    const dir = await migrationsDir(files);
    const managers: DatabaseManager[] = [];
    cleanups.push(async () => {
      for (const db of managers) await db.close();
      await database.cleanup();
      await rm(dir, { recursive: true, force: true });
    });
    const open = (folder = dir, extra: DatabaseManagerOptions = {}) => {
      const db = new DatabaseManager(database.uri, folder, { ...database.options, ...options, ...extra });
      managers.push(db);
      return db;
    };
    return { db: open(), dir, database, open };
  }
  async function tempDir(prefix = 'sql-helpers-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }
  return { setup, tempDir, cleanups };
}

/** `uri` with `password` (and `port`, when given) set: for tests that check a password never shows. */
export function withPassword(uri: string, password: string, port?: number): string {
  const url = new URL(uri);
  url.password = password;
  if (port !== undefined) url.port = String(port);
  return url.toString();
}
