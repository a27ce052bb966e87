// The package as an application gets it: `npm pack`, then the tarball installed into a fresh project with
// one driver, its CLI and a script run against that driver, and the other driver's absence reported.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PG_URL, admin } from './support.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

// npm and npx without the test runner's environment leaking in; never rejects on a non-zero exit.
async function sh(command: string, args: string[], cwd: string): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  delete env.DATABASE_URL;
  delete env.NODE_V8_COVERAGE;
  for (const key of Object.keys(env)) if (key.startsWith('npm_') && !key.startsWith('npm_config_')) delete env[key];
  try {
    const { stdout, stderr } = await run(command, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}

async function ok(command: string, args: string[], cwd: string): Promise<Ran> {
  const ran = await sh(command, args, cwd);
  assert.equal(ran.code, 0, `${command} ${args.join(' ')} failed:\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

// Packs a copy of the package (its `files`, package.json, tsconfig.json), so the real prepack/postpack
// scripts run without touching the working tree that other test files read.
async function pack(workspace: string): Promise<string> {
  const staging = join(workspace, 'staging');
  await mkdir(staging);
  for (const entry of ['package.json', 'tsconfig.json', 'README.md', 'LICENSE', 'sql', 'docs']) await cp(join(ROOT, entry), join(staging, entry), { recursive: true });
  await cp(join(ROOT, 'lib'), join(staging, 'lib'), { recursive: true, filter: (path) => !/\.(js|d\.ts|map)$/.test(path) });
  await symlink(join(ROOT, 'node_modules'), join(staging, 'node_modules'));
  const { stdout } = await ok('npm', ['pack', '--json', '--pack-destination', workspace], staging);
  return join(workspace, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
}

async function project(workspace: string, name: string): Promise<string> {
  const dir = join(workspace, name);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  await cp(join(ROOT, 'sql'), join(dir, 'sql'), { recursive: true });
  return dir;
}

// What an application does after `npm install`: open, insert, read back through a helper.
const SCRIPT = `
import { DatabaseManager, getOrCreate, sql, table } from 'sql-helpers';
const [uri, schema] = process.argv.slice(2);
const db = new DatabaseManager(uri, './sql', schema ? { schema } : {});
const users = table('users', { primaryKey: 'id' });
const [ada, created] = await getOrCreate(db, users, { email: 'ada@example.com' });
const { n } = await db.one(sql\`SELECT count(*) AS n FROM users\`);
console.log(JSON.stringify({ id: ada.id, created, n, createdAt: ada.created_at instanceof Date }));
await db.close();
`;

const installed = (dir: string, name: string) => existsSync(join(dir, 'node_modules', name, 'package.json'));

describe('the packed package, installed with one driver', () => {
  let workspace: string;
  let tarball: string;
  const schema = `consumer_${process.pid}`;

  before(async () => {
    workspace = await mkdtemp(join(tmpdir(), 'sql-helpers-package-'));
    tarball = await pack(workspace);
  });
  after(async () => {
    await rm(workspace, { recursive: true, force: true });
    await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('carries compiled JS, declarations and declaration maps, and no prepare script', async () => {
    const { stdout } = await ok('tar', ['-tzf', tarball], workspace);
    const files = stdout.split('\n');
    for (const file of ['lib/index.js', 'lib/index.d.ts', 'lib/index.d.ts.map', 'lib/index.ts', 'lib/migrate.js', 'lib/cli/bundle.js', 'sql/003_create_memberships.sql']) {
      assert.ok(files.includes(`package/${file}`), `${file} is in the tarball`);
    }
    assert.ok(!files.some((file) => /test\/|bench\//.test(file)), 'no tests or benchmarks');
    const manifest = JSON.parse((await ok('tar', ['-xzOf', tarball, 'package/package.json'], workspace)).stdout) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    assert.equal(manifest.scripts.prepare, undefined);
    assert.deepStrictEqual(Object.keys(manifest.dependencies), ['sql-template-tag']);
    assert.deepStrictEqual(Object.keys(manifest.peerDependencies).sort(), ['better-sqlite3', 'libpg-query', 'pg']);
    // The working tree's package.json keeps its prepare script (postpack restored it).
    assert.match(await readFile(join(ROOT, 'package.json'), 'utf8'), /"prepare": "npm run --silent build"/);
  });

  it('with pg only: migrates, runs a script, and names better-sqlite3 when a SQLite URI needs it', async () => {
    const dir = await project(workspace, 'pg-app');
    const install = await ok('npm', ['install', '--prefer-offline', tarball, 'pg'], dir);
    assert.doesNotMatch(install.stderr, /prepare|tsc/, 'no build step on install');
    assert.ok(installed(dir, 'pg') && installed(dir, 'sql-helpers'));
    assert.ok(!installed(dir, 'better-sqlite3'), 'better-sqlite3 was not installed');

    const migrate = await ok('npx', ['sql-helpers-migrate', '--database', PG_URL, '--schema', schema], dir);
    assert.match(migrate.stdout, /created: 3 migrations applied/);
    await writeFile(join(dir, 'app.js'), SCRIPT);
    const script = await ok('node', ['app.js', PG_URL, schema], dir);
    assert.deepStrictEqual(JSON.parse(script.stdout), { id: 1, created: true, n: 1, createdAt: true });

    const missing = await sh('npx', ['sql-helpers-migrate', '--database', 'sqlite:./app.db'], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /needs the better-sqlite3 package, which is not installed: run npm install better-sqlite3/);
    assert.match(missing.stderr, /DRIVER_NOT_INSTALLED/);
    // CommonJS can require() the ESM package (Node ≥ 20.19).
    await ok('node', ['-e', "const { DatabaseManager } = require('sql-helpers'); if (typeof DatabaseManager !== 'function') process.exit(1)"], dir);
  });

  it('with better-sqlite3 only: migrates, runs a script, and names pg when a PostgreSQL URI needs it', async () => {
    const dir = await project(workspace, 'sqlite-app');
    // The version this repository built, from the npm cache; its native addon is copied rather than
    // compiled again (minutes), which is all its install script would produce.
    const { version } = JSON.parse(await readFile(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string };
    await ok('npm', ['install', '--prefer-offline', '--ignore-scripts', tarball, `better-sqlite3@${version}`], dir);
    await cp(join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'), join(dir, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'));
    assert.ok(installed(dir, 'better-sqlite3') && installed(dir, 'sql-helpers'));
    assert.ok(!installed(dir, 'pg'), 'pg was not installed');

    const migrate = await ok('npx', ['sql-helpers-migrate'], dir);
    assert.match(migrate.stdout, /database: sqlite:\.\/app\.db/);
    assert.match(migrate.stdout, /created: 3 migrations applied/);
    await writeFile(join(dir, 'app.js'), SCRIPT);
    const script = await ok('node', ['app.js', 'sqlite:./app.db'], dir);
    assert.deepStrictEqual(JSON.parse(script.stdout), { id: 1, created: true, n: 1, createdAt: true });

    const missing = await sh('npx', ['sql-helpers-migrate', 'status', '--database', 'postgres://app@127.0.0.1:5432/app'], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /postgres:\/\/app@127\.0\.0\.1:5432\/app needs the pg package, which is not installed: run npm install pg/);
  });
});
