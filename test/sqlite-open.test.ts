/**
 * Opening a SQLite file that another process is using: the switch to WAL needs the file to itself, and SQLite
 * answers SQLITE_BUSY at once (no busy handler) while another connection holds a lock on a file still in rollback
 * mode. Processes opening one new file together meet that; the manager waits for the file instead of failing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DatabaseManager, sql } from '../lib/index.js';
import { workspaces } from './support.js';

/** A child process that holds a write lock on `file` (in rollback-journal mode) for `ms`; resolves once it holds it. */
function holdWriteLock(file: string, ms: number): Promise<{ done: Promise<void> }> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(${JSON.stringify(file)});
    db.exec('CREATE TABLE IF NOT EXISTS t (x INTEGER)');
    db.exec('BEGIN IMMEDIATE');
    db.exec('INSERT INTO t VALUES (1)');
    process.stdout.write('held\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${ms});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  const done = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('held') && resolve({ done }));
  });
}

describe('opening a SQLite file another process is writing', () => {
  const { tempDir } = workspaces();

  it('waits for the file and switches it to WAL, instead of failing with SQLITE_BUSY', async () => {
    const file = join(await tempDir(), 'shared.db');
    const { done } = await holdWriteLock(file, 400);
    const db = new DatabaseManager(`sqlite://${file}`, '.');
    try {
      assert.deepEqual(await db.query(sql`SELECT count(*) AS n FROM t`), [{ n: 1 }]);
      assert.equal((db.engine as Database.Database).pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      await db.close();
      await done;
    }
  });

  it('negative control: a plain switch to WAL during the hold fails at once', async () => {
    const file = join(await tempDir(), 'shared.db');
    const { done } = await holdWriteLock(file, 400);
    const raw = new Database(file, { timeout: 5000 });
    try {
      assert.throws(() => raw.pragma('journal_mode = WAL'), (error: { code?: string }) => String(error.code).startsWith('SQLITE_BUSY'));
    } finally {
      raw.close();
      await done;
    }
  });
});
