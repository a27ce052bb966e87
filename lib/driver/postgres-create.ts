import { fromConnectError, fromDriverError } from '../errors.js';
import { quoteIdentifierPart } from '../sql.js';
import type { PostgresTarget } from '../uri.js';
import { loadDriverPackage } from './package.js';
import { uriConnectTimeoutMs } from './postgres.js';

// 42P04 duplicate_database; 23505 when two CREATE DATABASE race on pg_database's unique index.
const ALREADY_THERE = new Set(['42P04', '23505']);

/** The same URI naming the maintenance database `postgres` instead: the one to create others from. */
export function maintenanceUri(connectionString: string): string {
  return connectionString.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)\/[^?#]*/i, '$1/postgres');
}

/**
 * Creates the database `target` names, through the maintenance database `postgres` of the same server, when it
 * does not exist yet; true when this call created it. Safe when several processes race: the losers see it there.
 */
export async function createPostgresDatabase(target: PostgresTarget, connectTimeoutMs: number | undefined): Promise<boolean> {
  const pg = loadDriverPackage('pg', target.redacted);
  const context = { target: target.redacted, secret: target.password };
  const client = new pg.Client({
    connectionString: maintenanceUri(target.connectionString),
    connectionTimeoutMillis: connectTimeoutMs ?? uriConnectTimeoutMs(target.connectionString),
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw fromConnectError(error, { ...context, target: `${target.redacted} (through its maintenance database postgres)` });
  }
  try {
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database]);
    if (rows.length > 0) return false;
    await client.query(`CREATE DATABASE ${quoteIdentifierPart(target.database)}`);
    return true;
  } catch (error) {
    if (ALREADY_THERE.has(String((error as { code?: unknown }).code))) return false;
    throw fromDriverError(error, context);
  } finally {
    await client.end().catch(() => undefined);
  }
}
