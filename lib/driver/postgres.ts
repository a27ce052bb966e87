import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { LockTimeoutError, closedError, fromConnectError, fromDriverError } from '../errors.js';
import { offsetOfCharacter } from '../migrations/statements.js';
import { identifier, quoteIdentifierPart, raw, sql, type Sql } from '../sql.js';
import type { PostgresTarget } from '../uri.js';
import { checkValues } from '../values.js';
import {
  ScriptFailure,
  type Connection,
  type Driver,
  type LockOptions,
  type LockWaitReader,
  type MigrationConnection,
  type QueryResult,
  type Row,
  type Script,
} from './driver.js';

const require = createRequire(import.meta.url);

/** Options the PostgreSQL driver takes from the manager. */
export interface PostgresDriverOptions {
  engineArgs?: PoolConfig | undefined;
  schema?: string | undefined;
}

// The extended protocol counts parameters in 16 bits.
const MAX_PARAMETERS = 65535;

// Sent in front of a migration in the same simple-protocol message, so BEGIN costs no round trip.
const BEGIN_PREFIX = 'BEGIN;\n';
// A failed migration that ran longer than this is not replayed to find its failing statement.
const REPLAY_LIMIT_MS = 2000;

function scriptOffset(error: unknown, text: string, base: number): number | undefined {
  const position = Number((error as { position?: string }).position);
  return Number.isInteger(position) && position > 0 ? offsetOfCharacter(text, position - 1) + base : undefined;
}

/**
 * Names for the statements this pool prepares. A statement with values is sent as a named (prepared)
 * statement, so each connection parses and plans it once and later calls skip Parse. The map is capped:
 * past it, new texts run unnamed rather than pile up prepared statements on every server session.
 */
class StatementNames {
  static readonly LIMIT = 500;
  readonly #names = new Map<string, string>();
  #next = 0;

  nameFor(text: string): string | undefined {
    const known = this.#names.get(text);
    if (known !== undefined || this.#names.size >= StatementNames.LIMIT) return known;
    const name = `sqlh_${(this.#next++).toString(36)}`;
    this.#names.set(text, name);
    return name;
  }

  /** Forgets a text whose prepared form went stale; its next use is prepared afresh under a new name. */
  forget(text: string): void {
    this.#names.delete(text);
  }
}

// "cached plan must not change result type": a table behind a prepared SELECT * gained or lost a column.
const isStalePlan = (error: unknown) => (error as { code?: unknown }).code === '0A000' && /cached plan/.test(String((error as Error).message));

// The server's errors carry a SQLSTATE; errors raised in this process before sending (binding) do not.
const isServerError = (error: unknown) => typeof (error as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((error as { code: string }).code);

/** A pool client, or a dedicated client dressed as one (what migrations use). */
type CheckedOutClient = Pick<PoolClient, 'query'> & { release(error?: boolean | Error): void };

class PostgresConnection implements Connection {
  #released = false;

  constructor(
    protected readonly client: CheckedOutClient,
    readonly names: StatementNames,
  ) {}

  async query<R = Row>(query: Sql): Promise<QueryResult<R>> {
    checkValues(query.values, MAX_PARAMETERS);
    const text = query.text;
    const name = query.values.length > 0 ? this.names.nameFor(text) : undefined;
    let result;
    try {
      result = await this.client.query({ text, values: query.values, ...(name === undefined ? {} : { name }) });
    } catch (error) {
      // A value that failed to bind inside pg (a throwing toPostgres) leaves the name marked as prepared on this
      // client although the server never parsed it: a fresh name makes the next call parse again.
      if (name !== undefined && !isServerError(error)) this.names.forget(text);
      if (name === undefined || !isStalePlan(error)) throw error;
      this.names.forget(text);
      // Outside a transaction the statement can simply run again; inside one, the transaction is already aborted.
      if ((this.client as unknown as { _txStatus?: string })._txStatus !== 'I') throw error;
      result = await this.client.query({ text, values: query.values });
    }
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  }

  release(discard = false): void {
    if (this.#released) return;
    this.#released = true;
    this.client.release(discard);
  }
}

class PostgresMigrationConnection extends PostgresConnection implements MigrationConnection {
  constructor(
    client: CheckedOutClient,
    readonly lockClient: CheckedOutClient,
    readonly lockKey: Sql,
    readonly schema: string | undefined,
    names: StatementNames,
  ) {
    super(client, names);
  }

  // After a failure the transaction is aborted; a dead connection cannot roll back, and unlock() discards it anyway.
  async #rollback(): Promise<void> {
    await this.client.query('ROLLBACK').catch(() => undefined);
  }

  // PostgreSQL reports a position only for errors it finds while parsing. For a runtime error (a constraint,
  // a missing table) in a file of several statements, replay them one by one in a transaction that is rolled
  // back, to find the statement that fails; only when the file failed fast, as a replay costs its run again.
  async #locate(script: Script, original: unknown, elapsedMs: number): Promise<number | undefined> {
    if (script.statements.length === 1) return script.statements[0]!.offset;
    if (elapsedMs > REPLAY_LIMIT_MS) return undefined;
    const code = (original as { code?: unknown }).code;
    try {
      await this.client.query('BEGIN');
      for (const statement of script.statements) {
        try {
          await this.client.query(statement.text);
        } catch (error) {
          if ((error as { code?: unknown }).code !== code) return undefined;
          return scriptOffset(error, statement.text, statement.offset) ?? statement.offset;
        }
      }
      return undefined;
    } catch {
      return undefined;
    } finally {
      await this.#rollback();
    }
  }

  async applyAtomically(script: Script, record: () => Promise<void>): Promise<void> {
    const started = performance.now();
    try {
      await this.client.query(BEGIN_PREFIX + script.text);
    } catch (error) {
      await this.#rollback();
      const offset = scriptOffset(error, BEGIN_PREFIX + script.text, 0);
      const located = offset === undefined ? await this.#locate(script, error, performance.now() - started) : offset - BEGIN_PREFIX.length;
      throw new ScriptFailure(error, located);
    }
    try {
      await record();
      await this.client.query('COMMIT');
    } catch (error) {
      await this.#rollback();
      throw error;
    }
  }

  async applyOutsideTransaction(script: Script, record: () => Promise<void>): Promise<void> {
    for (const statement of script.statements) {
      try {
        await this.client.query(statement.text);
      } catch (error) {
        throw new ScriptFailure(error, scriptOffset(error, statement.text, statement.offset) ?? statement.offset);
      }
    }
    await record();
  }

  async dropEverything(): Promise<void> {
    // Views first, then tables, then what is left of sequences (identity ones go with their table), types, routines.
    const { rows } = await this.query<{ statement: string }>(sql`
      WITH target AS (SELECT coalesce(${this.schema ?? null}::text, current_schema()) AS name)
      SELECT statement FROM (
        SELECT CASE c.relkind WHEN 'v' THEN 1 WHEN 'm' THEN 1 WHEN 'S' THEN 3 ELSE 2 END AS priority,
               'DROP ' || CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                 WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END
               || ' IF EXISTS ' || format('%I.%I', n.nspname, c.relname) || ' CASCADE' AS statement
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = (SELECT name FROM target)
           AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'i', 'a') AND c.relkind = 'S')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
        UNION ALL
        SELECT 4, 'DROP ' || CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END
               || ' IF EXISTS ' || format('%I.%I', n.nspname, t.typname) || ' CASCADE'
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = (SELECT name FROM target)
           AND t.typtype IN ('e', 'd', 'r', 'c')
           AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')
        UNION ALL
        SELECT 5, 'DROP ROUTINE IF EXISTS ' || p.oid::regprocedure::text || ' CASCADE'
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = (SELECT name FROM target) AND p.prokind IN ('f', 'p')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      ) objects ORDER BY priority`);
    if (rows.length === 0) return;
    // One message, one implicit transaction: every object goes, or none does.
    await this.client.query(rows.map((row) => row.statement).join(';\n'));
  }

  async unlock(): Promise<void> {
    // The work connection ran arbitrary migration SQL (SET, temp tables …): never hand it back to the pool.
    this.release(true);
    const unlock = sql`SELECT pg_advisory_unlock(${this.lockKey}) AS unlocked`;
    try {
      await this.lockClient.query(unlock.text, unlock.values);
      this.lockClient.release();
    } catch (error) {
      // A dead lock connection has already lost its lock with its session.
      this.lockClient.release(error as Error);
    }
  }
}

/** The `pg` driver: a `Pool`, one checked-out client per transaction, an advisory lock for migrations. */
export class PostgresDriver implements Driver {
  readonly dialect = 'postgres' as const;
  readonly beginStatement = 'BEGIN';
  readonly engine: Pool;
  readonly errorContext;
  readonly #schema: string | undefined;
  readonly #config: PoolConfig;
  readonly #Client: typeof import('pg').Client;
  readonly #createSchema: string | undefined;
  #schemaEnsured = false;
  #closed = false;
  readonly #names = new StatementNames();

  constructor(target: PostgresTarget, options: PostgresDriverOptions = {}) {
    const pg = require('pg') as typeof import('pg');
    const config: PoolConfig = { ...options.engineArgs, connectionString: target.connectionString };
    if (options.schema !== undefined) {
      // A startup parameter, not a SET after connecting: it costs no round trip and cannot race the first query.
      // The server splits startup options at any whitespace (tabs and newlines too) unless escaped with a backslash.
      const searchPath = `-c search_path=${quoteIdentifierPart(options.schema).replace(/[\\\s]/g, '\\$&')},public`;
      config.options = config.options ? `${config.options} ${searchPath}` : searchPath;
    }
    this.#config = config;
    this.#Client = pg.Client;
    this.#createSchema = options.schema === undefined ? undefined : `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifierPart(options.schema)}`;
    this.engine = new pg.Pool(config);
    // pg hides a password option from util.inspect and JSON, but not the connection string that holds one: hide it
    // the same way (still readable as engine.options.connectionString by code that asks for it; never print that).
    Object.defineProperty(this.engine.options, 'connectionString', { enumerable: false });
    this.errorContext = { target: target.redacted, secret: target.password };
    this.#schema = options.schema;
    // An idle client that loses its server (restart, pg_terminate_backend) is dropped by the pool; without a
    // listener the 'error' event would crash the process instead.
    this.engine.on('error', () => undefined);
    // The same for a checked-out client: when its server goes away mid-query the query fails (and the caller
    // gets a ConnectionError), then the client emits 'error' for the closed socket, which must not crash either.
    this.engine.on('connect', (client) => client.on('error', () => undefined));
  }

  async acquire(): Promise<Connection> {
    if (this.#closed) throw closedError(this.errorContext.target);
    let client: PoolClient;
    try {
      client = await this.engine.connect();
    } catch (error) {
      throw fromConnectError(error, this.errorContext);
    }
    if (this.#createSchema !== undefined && !this.#schemaEnsured) {
      // Created before the first statement, so that nothing lands in public because the schema did not exist
      // yet. A failure (a concurrent creator, no CREATE privilege) is left to the migrator, which reports it.
      this.#schemaEnsured = true;
      await client.query(this.#createSchema).catch(() => undefined);
    }
    return new PostgresConnection(client, this.#names);
  }

  async acquireMigrationLock(lockName: string, timeoutMs: number, options: LockOptions = {}): Promise<MigrationConnection | null> {
    // Migrations connect outside the pool, so a closed pool alone would not stop them.
    if (this.#closed) throw closedError(this.errorContext.target);
    const lockKey = sql`hashtextextended('sql-helpers:' || current_database() || ':' || coalesce(${this.#schema ?? null}::text, current_schema()) || ':' || ${lockName}::text, 0)`;
    const lockClient = await this.#connect();
    try {
      if (options.lock !== false && !(await this.#pollLock(lockClient, lockKey, lockName, timeoutMs, options.stopWaiting))) {
        lockClient.release();
        return null;
      }
    } catch (error) {
      lockClient.release();
      throw error;
    }
    let work: CheckedOutClient;
    try {
      work = await this.#connect();
      if (this.#createSchema !== undefined) await work.query(this.#createSchema);
    } catch (error) {
      lockClient.release(true);
      throw fromDriverError(error, this.errorContext);
    }
    return new PostgresMigrationConnection(work, lockClient, lockKey, this.#schema, this.#names);
  }

  // pg_advisory_lock() would wait inside a transaction snapshot and stall CREATE INDEX CONCURRENTLY run
  // by the lock holder; polling pg_try_advisory_lock() holds no snapshot between attempts. False: gave up.
  async #pollLock(
    client: CheckedOutClient,
    lockKey: Sql,
    lockName: string,
    timeoutMs: number,
    stopWaiting: LockOptions['stopWaiting'],
  ): Promise<boolean> {
    const attempt = sql`SELECT pg_try_advisory_lock(${lockKey}) AS locked`;
    const read: LockWaitReader = async (query) => (await client.query(query.text, query.values)).rows as Row[];
    const deadline = Date.now() + timeoutMs;
    // A short cap: a waiter notices a released lock within 50 ms, and an attempt costs the server next to nothing.
    for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
      const { rows } = await client.query(attempt.text, attempt.values).catch((error: unknown) => {
        throw fromDriverError(error, this.errorContext);
      });
      if (rows[0]?.locked === true) return true;
      if (stopWaiting && (await stopWaiting(read))) return false;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new LockTimeoutError(
          `timed out after ${timeoutMs} ms waiting for the migration lock (PostgreSQL advisory lock "${lockName}"` +
            `${this.#schema ? ` in schema "${this.#schema}"` : ''}); another process is migrating this database. ` +
            `Wait for it, or raise lockTimeoutMs; pg_locks (locktype = 'advisory') shows the holder.`,
        );
      }
      await sleep(Math.min(delay, left));
    }
  }

  // Migrations use connections of their own, outside the pool: the lock and the work connection must not wait
  // for (or starve) a small pool, and the work connection, which ran arbitrary SQL, is closed afterwards anyway.
  async #connect(): Promise<CheckedOutClient> {
    const client = new this.#Client(this.#config);
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      throw fromConnectError(error, this.errorContext);
    }
    return Object.assign(client, { release: () => void client.end().catch(() => undefined) });
  }

  relationExistsQuery(name: string[], column?: string): Sql {
    const relation = identifier(...name).sql;
    if (column === undefined) return sql`SELECT to_regclass(${relation}) IS NOT NULL AS present`;
    return sql`SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(${relation})
      AND attname = ${column} AND attnum > 0 AND NOT attisdropped) AS present`;
  }

  // xmax is 0 on a row version that no transaction has locked or replaced: a row this INSERT just created.
  readonly insertedFlag = raw('(xmax = 0)');

  async close(): Promise<void> {
    this.#closed = true;
    await this.engine.end();
  }
}
