// The tools sql-helpers is compared with, each driven the way its README shows.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import Postgrator from 'postgrator';

/** Postgrator on PostgreSQL: a pg.Client, `execQuery` as its README shows; it opens no transactions. */
export async function postgratorPg(url: string, dir: string, database: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const postgrator = new Postgrator({
      migrationPattern: join(dir, '*'),
      driver: 'pg',
      database,
      schemaTable: 'schemaversion',
      execQuery: (query) => client.query(query),
    });
    return (await postgrator.migrate()).length;
  } finally {
    await client.end();
  }
}

/**
 * Postgrator's SQLite mode (driver 'sqlite3') over better-sqlite3: `execQuery` returns rows for readers
 * and runs writers; `execSqlScript` runs a whole migration file with `exec`.
 */
export async function postgratorSqlite(file: string, dir: string): Promise<number> {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  try {
    const postgrator = new Postgrator({
      migrationPattern: join(dir, '*'),
      driver: 'sqlite3',
      schemaTable: 'schemaversion',
      execQuery: async (query) => {
        const statement = db.prepare(query);
        if (statement.reader) return { rows: statement.all() };
        statement.run();
        return { rows: [] };
      },
      execSqlScript: async (script) => {
        db.exec(script);
      },
    });
    return (await postgrator.migrate()).length;
  } finally {
    db.close();
  }
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * node-pg-migrate's programmatic runner with its SQL-file loader. `singleTransaction: false` gives one
 * transaction per migration, the guarantee sql-helpers and the psql floor keep (its CLI default is one
 * transaction for the whole run).
 */
export async function nodePgMigrate(url: string, dir: string): Promise<number> {
  const runs = await runner({
    databaseUrl: url,
    dir,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    singleTransaction: false,
    checkOrder: true,
    logger: quiet,
  });
  return runs.length;
}

/** `psql -f script` in one session; resolves on exit 0. */
export function psqlScript(url: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql exited ${code}: ${stderr.slice(0, 500)}`))));
  });
}
