import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError } from './errors.js';
import { DatabaseManager } from './manager.js';
import { sql } from './sql.js';
import { parseDatabaseUri } from './uri.js';

/** How long `waitForDatabase` waits in all, and for each attempt, unless told. */
export const DEFAULT_WAIT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Options of `waitForDatabase`. */
export interface WaitOptions {
  /** The whole wait; default 60 s. */
  timeoutMs?: number;
  /** One attempt (PostgreSQL); default 10 s, never beyond what is left of the wait. */
  connectTimeoutMs?: number;
}

/** How the wait went: the attempts it took and the time it waited. */
export interface WaitResult {
  attempts: number;
  waitedMs: number;
}

/**
 * Resolves once the database accepts a connection and runs `SELECT 1` (PostgreSQL), or once the SQLite file
 * exists and opens (it is never created here); retries every failure to connect, with growing pauses, until
 * `timeoutMs`, then throws a `ConnectionError` (`WAIT_TIMEOUT`) carrying the last failure. A URI that cannot
 * work fails at once. For init containers and compose files: start the service when this returns.
 */
export async function waitForDatabase(uri: string | URL, options: WaitOptions = {}): Promise<WaitResult> {
  const target = parseDatabaseUri(uri);
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const started = Date.now();
  let attempts = 0;
  let last: ConnectionError | undefined;
  for (let pause = 100; ; pause = Math.min(pause * 2, 1000)) {
    attempts++;
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    try {
      const db = new DatabaseManager(uri, '.', {
        engineArgs: target.dialect === 'sqlite' ? { fileMustExist: true } : { max: 1 },
        connectTimeoutMs: Math.min(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, left),
      });
      try {
        await db.query(sql`SELECT 1`);
      } finally {
        await db.close();
      }
      return { attempts, waitedMs: Date.now() - started };
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      last = error;
    }
    const remaining = timeoutMs - (Date.now() - started);
    if (remaining <= 0) {
      throw new ConnectionError(
        `${target.redacted} did not accept a connection within ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'}); the last said: ${last.message}`,
        { code: 'WAIT_TIMEOUT', cause: last },
      );
    }
    await sleep(Math.min(pause, remaining));
  }
}
