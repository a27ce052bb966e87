import { randomBytes } from 'node:crypto';
import type { Client, Pool, PoolClient, PoolConfig } from 'pg';
import { ConfigurationError, ConnectionError, closedError, fromConnectError, fromDriverError, type ErrorContext } from '../errors.js';
import { offsetOfCharacter } from '../migrations/statements.js';
import { identifier, quoteIdentifierPart, raw, sql, type Sql } from '../sql.js';
import { parseDatabaseUri, type PostgresTarget } from '../uri.js';
import { checkValues } from '../values.js';
import {
  ScriptFailure,
  type Connection,
  type Driver,
  type LockOptions,
  type MigrationConnection,
  type QueryResult,
  type Row,
  type Script,
  type ScriptLimits,
} from './driver.js';
import { LockWatcher } from './postgres-blockers.js';
import { pgDump } from './postgres-dump.js';
import { AdvisoryLock } from './postgres-lock.js';
import { dropEverythingQuery } from './postgres-drop.js';
import { loadDriverPackage } from './package.js';
import { bindUtcDates, typeParsers } from './postgres-types.js';

/**
 * Whether queries with values run as named prepared statements: `'auto'` (the default) does where the
 * connection reaches the server directly and not through a transaction pooler; `true` always (PgBouncer
 * 1.21+ with `max_prepared_statements`); `false` never.
 */
export type PreparedStatements = 'auto' | boolean;

/** Options the PostgreSQL driver takes from the manager. */
export interface PostgresDriverOptions {
  engineArgs?: PoolConfig | undefined;
  schema?: string | undefined;
  preparedStatements?: PreparedStatements | undefined;
  /** A URL that reaches the same database without a pooler, for the migrations' own connections. */
  directUrl?: string | undefined;
  /** False: pg's own parsers and Date binding (see postgres-types.ts). */
  typeParsing?: boolean | undefined;
  /** How long a connection attempt may take; else the URI's `connect_timeout` (seconds), else pg's default (none). */
  connectTimeoutMs?: number | undefined;
}

/** How a connection sends values: as given, or with Dates as UTC text (postgres-types.ts). */
type Binder = (values: readonly unknown[]) => readonly unknown[];
const asIs: Binder = (values) => values;

/** libpq's `?connect_timeout=` (seconds; 0 or less is no limit), which `pg` itself ignores, in milliseconds. */
export function uriConnectTimeoutMs(connectionString: string): number | undefined {
  const seconds = Number(/[?&]connect_timeout=([^&#]*)/.exec(connectionString)?.[1]);
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : undefined;
}

// What pg says when connectionTimeoutMillis ran out: while connecting, or waiting for a pooled connection.
const CONNECT_TIMED_OUT = /timeout expired|connection timeout|timeout exceeded when trying to connect/i;

/** What one server connection turned out to be, read once when it is first used. */
interface ConnectionProfile {
  /**
   * A pooler sits in between. Every transaction pooler must invent the process id it announces (BackendKeyData),
   * since its client's queries run on whichever server connection is free; a direct connection announces the
   * backend's own. So a mismatch proves a pooler, and named statements or session settings cannot be trusted.
   */
  pooled: boolean;
  standby: boolean;
  schema: string | null;
}

const PROFILE_QUERY = 'SELECT pg_backend_pid() AS pid, current_schema() AS schema, pg_is_in_recovery() AS standby';

async function profile(client: Pick<Client, 'query'>): Promise<ConnectionProfile> {
  const { rows } = await client.query<{ pid: number; schema: string | null; standby: boolean }>(PROFILE_QUERY);
  const row = rows[0]!;
  // pg keeps the announced id as `processID` (what its cancel() sends); untyped in @types/pg. Unknown counts as pooled.
  const announced = (client as { processID?: unknown }).processID;
  return { pooled: row.pid !== announced, standby: row.standby, schema: row.schema };
}

// The extended protocol counts parameters in 16 bits.
const MAX_PARAMETERS = 65535;

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
type CheckedOutClient = Pick<PoolClient, 'query' | 'getTransactionStatus'> & { release(error?: boolean | Error): void };

// "cannot execute … in a read-only transaction": on a hot standby, every write.
const READ_ONLY_TRANSACTION = '25006';

class PostgresConnection implements Connection {
  #released = false;

  constructor(
    protected readonly client: CheckedOutClient,
    /** The statement names to use, or `undefined` to run every statement unnamed. */
    readonly names: StatementNames | undefined,
    readonly profile: ConnectionProfile,
    readonly context: ErrorContext,
    readonly bind: Binder,
  ) {}

  async query<R = Row>(query: Sql): Promise<QueryResult<R>> {
    checkValues(query.values, MAX_PARAMETERS);
    const text = query.text;
    const values = this.bind(query.values) as unknown[];
    const name = values.length > 0 ? this.names?.nameFor(text) : undefined;
    let result;
    try {
      result = await this.client.query({ text, values, ...(name === undefined ? {} : { name }) });
    } catch (error) {
      // A value that failed to bind inside pg (a throwing toPostgres) leaves the name marked as prepared on this
      // client although the server never parsed it: a fresh name makes the next call parse again.
      if (name !== undefined && !isServerError(error)) this.names!.forget(text);
      if (name === undefined || !isStalePlan(error)) throw this.#classify(error);
      this.names!.forget(text);
      // Outside a transaction the statement can simply run again; inside one, the transaction is already aborted.
      if (this.client.getTransactionStatus() !== 'I') throw error;
      result = await this.client.query({ text, values });
    }
    return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
  }

  // Only this connection knows it talks to a standby: say so where a write was refused for it.
  #classify(error: unknown): unknown {
    if (!this.profile.standby || (error as { code?: unknown }).code !== READ_ONLY_TRANSACTION) return error;
    return fromDriverError(error, { ...this.context, hotStandby: true });
  }

  release(discard = false): void {
    if (this.#released) return;
    this.#released = true;
    this.client.release(discard);
  }
}

// lock_not_available (a lock_timeout) and query_canceled (a statement_timeout): replaying the file to locate the
// failing statement would only wait as long again.
const TIMEOUT_CODES = new Set(['55P03', '57014']);

// While a migration runs, how often its lock waits are looked at: twice per lock timeout, each second without one.
const watchPeriod = (limits: ScriptLimits) => (limits.lockTimeoutMs > 0 ? Math.max(10, Math.floor(limits.lockTimeoutMs / 2)) : 1000);

/** What a migration's session calls itself while it runs: a token to find it by, then its file, in printable ASCII. */
function applicationName(label: string): { name: string; prefix: string } {
  const prefix = `sql-helpers ${randomBytes(4).toString('hex')} `;
  return { prefix, name: (prefix + label.replace(/[^\x20-\x7e]/g, '?')).slice(0, 63) };
}

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

// The settings a script runs under; `scope` 'LOCAL' for a transaction, '' for the session (no-transaction files).
function settings(limits: ScriptLimits, name: string, scope: 'LOCAL' | ''): string {
  const set = scope === 'LOCAL' ? 'SET LOCAL' : 'SET';
  let text = `${set} lock_timeout = ${limits.lockTimeoutMs};\n${set} application_name = ${literal(name)};\n`;
  if (limits.statementTimeoutMs !== undefined) text += `${set} statement_timeout = ${limits.statementTimeoutMs};\n`;
  return text;
}


// A SET (without LOCAL) in a migration outlives its transaction on the server connection, which a transaction
// pooler then hands to application clients: undo those before committing, in the same message.
const COMMIT_CLEAN = 'RESET ALL; RESET ROLE; COMMIT';

class PostgresMigrationConnection extends PostgresConnection implements MigrationConnection {
  // Sent in front of a migration in the same simple-protocol message, so BEGIN costs no round trip. The schema
  // is set for the transaction alone: through a transaction pooler no session setting can be relied on.
  readonly #begin: string;

  constructor(
    client: CheckedOutClient,
    readonly lock: AdvisoryLock | undefined,
    readonly schema: string | undefined,
    names: StatementNames | undefined,
    profile: ConnectionProfile,
    context: ErrorContext,
    bind: Binder,
    readonly watcher: LockWatcher,
  ) {
    super(client, names, profile, context, bind);
    this.#begin = schema === undefined ? 'BEGIN;\n' : `BEGIN;\nSET LOCAL search_path TO ${quoteIdentifierPart(schema)}, public;\n`;
  }

  get noTransactionBlocker(): string | undefined {
    if (this.schema === undefined || !this.profile.pooled) return undefined;
    return (
      `it runs outside a transaction, and this connection goes through a transaction pooler, which may run each ` +
      `statement on another server connection: the schema "${this.schema}" cannot be put in force for it. ` +
      `Give the migrations a direct connection (the directUrl option, --direct-url), or leave the schema option out ` +
      `and set the role's search_path (ALTER ROLE … SET search_path)`
    );
  }

  // After a failure the transaction is aborted; a dead connection cannot roll back, and unlock() discards it anyway.
  async #rollback(): Promise<void> {
    await this.client.query('ROLLBACK').catch(() => undefined);
  }

  // PostgreSQL reports a position only for errors it finds while parsing. For a runtime error (a constraint,
  // a missing table) in a file of several statements, replay them one by one in a transaction that is rolled
  // back, to find the statement that fails; only when the file failed fast, as a replay costs its run again.
  async #locate(script: Script, begin: string, original: unknown, elapsedMs: number): Promise<number | undefined> {
    if (script.statements.length === 1) return script.statements[0]!.offset;
    const code = (original as { code?: unknown }).code;
    if (elapsedMs > REPLAY_LIMIT_MS || TIMEOUT_CODES.has(code as string)) return undefined;
    try {
      await this.client.query(begin);
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

  async applyAtomically(script: Script, record: () => Promise<void>, limits?: ScriptLimits): Promise<void> {
    const started = performance.now();
    // The limits are SET LOCAL in the message that opens the transaction: no round trip, nothing outlives it.
    const named = limits && applicationName(limits.label);
    const begin = limits && named ? this.#begin + settings(limits, named.name, 'LOCAL') : this.#begin;
    const watch = limits && named && this.watcher.watch(named.prefix, watchPeriod(limits), limits.onLockWait);
    try {
      await this.client.query(begin + script.text);
    } catch (error) {
      const wait = await watch?.stop();
      await this.#rollback();
      const offset = scriptOffset(error, begin + script.text, 0);
      const located = offset === undefined ? await this.#locate(script, begin, error, performance.now() - started) : offset - begin.length;
      throw new ScriptFailure(error, located, wait);
    }
    await watch?.stop();
    try {
      await record();
      this.lock?.assertHeld(this.context);
      await this.client.query(COMMIT_CLEAN);
    } catch (error) {
      await this.#rollback();
      throw error;
    }
  }

  async applyOutsideTransaction(script: Script, record: () => Promise<void>, limits?: ScriptLimits): Promise<void> {
    // Outside a transaction the limits must be session settings, which a transaction pooler would leave on a server
    // connection that application clients get next: there, the file runs without them, and the caller hears why.
    if (limits && this.profile.pooled) {
      limits.onUnenforced?.(
        'it runs outside a transaction through a transaction pooler, where a session setting would leak to application ' +
          'connections, so it runs without lock_timeout/statement_timeout; give migrations a direct connection (directUrl, --direct-url) to have them',
      );
      limits = undefined;
    }
    const named = limits && applicationName(limits.label);
    if (limits && named) await this.client.query(settings(limits, named.name, ''));
    const watch = limits && named && this.watcher.watch(named.prefix, watchPeriod(limits), limits.onLockWait);
    for (const statement of script.statements) {
      try {
        await this.client.query(statement.text);
      } catch (error) {
        const wait = await watch?.stop();
        throw new ScriptFailure(error, scriptOffset(error, statement.text, statement.offset) ?? statement.offset, wait);
      }
    }
    await watch?.stop();
    if (limits) await this.client.query('RESET lock_timeout; RESET statement_timeout; RESET application_name');
    this.lock?.assertHeld(this.context);
    await record();
  }

  async dropEverything(): Promise<void> {
    const { rows } = await this.query<{ statement: string }>(dropEverythingQuery(this.schema));
    if (rows.length === 0) return;
    // One message, one implicit transaction: every object goes, or none does.
    await this.client.query(rows.map((row) => row.statement).join(';\n'));
  }

  async unlock(): Promise<void> {
    // The work connection ran arbitrary migration SQL (SET, temp tables …): never hand it back to the pool.
    this.release(true);
    await Promise.all([this.lock?.release(), this.watcher.close()]);
  }
}

/** The `pg` driver: a `Pool`, one checked-out client per transaction, an advisory lock for migrations. */
export class PostgresDriver implements Driver {
  readonly dialect = 'postgres' as const;
  readonly beginStatement = 'BEGIN';
  readonly engine: Pool;
  readonly errorContext: ErrorContext;
  readonly #schema: string | undefined;
  readonly #migrationConfig: PoolConfig;
  readonly #migrationContext: ErrorContext;
  readonly #Client: typeof import('pg').Client;
  readonly #createSchema: string | undefined;
  /** Settles once the first connection has run `#createSchema`; every connection profiled waits for it. */
  #schemaEnsured: Promise<unknown> | undefined;
  #closed = false;
  readonly #sockets = new Set<{ unref(): unknown }>();
  readonly #names = new StatementNames();
  readonly #preparedStatements: PreparedStatements;
  readonly #profiles = new WeakMap<object, ConnectionProfile>();
  readonly #bind: Binder;
  readonly #connectTimeoutMs: number | undefined;
  readonly #target: PostgresTarget;
  readonly #directTarget: PostgresTarget | undefined;

  constructor(target: PostgresTarget, options: PostgresDriverOptions = {}) {
    const pg = loadDriverPackage('pg', target.redacted);
    const typeParsing = options.typeParsing !== false;
    // The pool and the migrator's own clients share this config, parsers included; engineArgs.types wins.
    const config: PoolConfig = { ...(typeParsing ? { types: typeParsers(pg.types) } : {}), ...options.engineArgs, connectionString: target.connectionString };
    this.#bind = typeParsing ? bindUtcDates : asIs;
    config.connectionTimeoutMillis ??= options.connectTimeoutMs ?? uriConnectTimeoutMs(target.connectionString);
    this.#connectTimeoutMs = config.connectionTimeoutMillis;
    this.#target = target;
    if (options.schema !== undefined) {
      // A startup parameter, not a SET after connecting: it costs no round trip and cannot race the first query.
      // A pooler may drop it; the first use of each connection checks that it took effect. The server splits
      // startup options at any whitespace (tabs and newlines too) unless escaped with a backslash.
      const searchPath = `-c search_path=${quoteIdentifierPart(options.schema).replace(/[\\\s]/g, '\\$&')},public`;
      config.options = config.options ? `${config.options} ${searchPath}` : searchPath;
    }
    const direct = options.directUrl === undefined ? undefined : parseDatabaseUri(options.directUrl);
    if (direct !== undefined && direct.dialect !== 'postgres') {
      throw new ConfigurationError(`directUrl must be a postgres:// URL of the same database, got ${direct.redacted}`, { code: 'INVALID_OPTION' });
    }
    this.#directTarget = direct;
    this.#migrationConfig = direct === undefined ? config : { ...config, connectionString: direct.connectionString };
    this.#Client = pg.Client;
    this.#createSchema = options.schema === undefined ? undefined : `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifierPart(options.schema)}`;
    this.#preparedStatements = options.preparedStatements ?? 'auto';
    if (!['auto', true, false].includes(this.#preparedStatements)) {
      throw new ConfigurationError(`preparedStatements must be 'auto', true or false, got ${JSON.stringify(this.#preparedStatements)}`, {
        code: 'INVALID_OPTION',
      });
    }
    // Every socket of this driver is known, so that close() can let the process exit without waiting for each
    // server process to end its session after pg said goodbye (Terminate): up to 20 ms of a CLI run.
    config.stream ??= () => {
      const socket = new (process.getBuiltinModule('node:net').Socket)();
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      return socket;
    };
    this.engine = new pg.Pool(config);
    // pg hides a password option from util.inspect and JSON, but not the connection string that holds one: hide it
    // the same way (still readable as engine.options.connectionString by code that asks for it; never print that).
    Object.defineProperty(this.engine.options, 'connectionString', { enumerable: false });
    this.errorContext = { target: target.redacted, secret: target.password };
    this.#migrationContext = direct === undefined ? this.errorContext : { target: direct.redacted, secret: direct.password };
    this.#schema = options.schema;
    // An idle client that loses its server (restart, pg_terminate_backend) is dropped by the pool; without a
    // listener the 'error' event would crash the process instead.
    this.engine.on('error', () => undefined);
    // The same for a checked-out client: when its server goes away mid-query the query fails (and the caller
    // gets a ConnectionError), then the client emits 'error' for the closed socket, which must not crash either.
    this.engine.on('connect', (client) => client.on('error', () => undefined));
  }

  async acquire(options: { qualifiedOnly?: boolean } = {}): Promise<Connection> {
    if (this.#closed) throw closedError(this.errorContext.target);
    let client: PoolClient;
    try {
      client = await this.engine.connect();
    } catch (error) {
      throw this.#connectError(error, this.errorContext);
    }
    let known = this.#profiles.get(client);
    if (known === undefined) {
      try {
        if (this.#createSchema !== undefined) {
          // Created before the first statement, so that nothing lands in public because the schema did not exist
          // yet. A failure (a concurrent creator, no CREATE privilege) shows up in the check below. A connection
          // opened meanwhile waits for it: profiled before the schema exists, it would find public in force.
          this.#schemaEnsured ??= client.query(this.#createSchema).catch(() => undefined);
          await this.#schemaEnsured;
        }
        known = await profile(client);
      } catch (error) {
        client.release(true);
        throw fromDriverError(error, this.errorContext);
      }
      this.#profiles.set(client, known);
    }
    if (this.#schema !== undefined && known.schema !== this.#schema && !known.standby && !options.qualifiedOnly) {
      // Checked each time: the connection stays usable once the search_path is fixed, without a restart.
      this.#profiles.delete(client);
      client.release();
      throw this.#schemaNotInForce(known.schema);
    }
    const names = this.#namesFor(known);
    this.findOrInsertInOneStatement = names !== undefined && !known.standby;
    return new PostgresConnection(client, names, known, this.errorContext, this.#bind);
  }

  #namesFor(known: ConnectionProfile): StatementNames | undefined {
    const named = this.#preparedStatements === 'auto' ? !known.pooled : this.#preparedStatements;
    return named ? this.#names : undefined;
  }

  #schemaNotInForce(actual: string | null): ConfigurationError {
    return new ConfigurationError(
      `the schema "${this.#schema}" is not in force on connections to ${this.errorContext.target} ` +
        `(their current schema is ${actual === null ? 'none' : `"${actual}"`}), so queries would land elsewhere. A transaction ` +
        `pooler (PgBouncer, Supavisor, RDS Proxy …) drops the startup parameter that sets it: set it for the role or database ` +
        `(ALTER ROLE … SET search_path = "${this.#schema}", public), or connect directly. Migrations are not affected.`,
      { code: 'SCHEMA_NOT_IN_FORCE' },
    );
  }

  #connectError(error: unknown, context: ErrorContext): unknown {
    // PgBouncer without `ignore_startup_parameters = options` refuses the parameter that carries search_path.
    if (this.#schema !== undefined && /unsupported startup parameter: options/.test(String((error as Error).message))) {
      return new ConfigurationError(
        `${context.target} refused the startup parameter that sets the schema "${this.#schema}" (a pooler that does ` +
          `not forward "options"): add options to its ignore_startup_parameters and set the search_path for the role ` +
          `(ALTER ROLE … SET search_path = "${this.#schema}", public), or connect directly`,
        { code: 'SCHEMA_NOT_IN_FORCE', cause: error },
      );
    }
    if (this.#connectTimeoutMs !== undefined && CONNECT_TIMED_OUT.test(String((error as Error)?.message))) {
      return new ConnectionError(
        `cannot use database ${context.target}: no connection within ${this.#connectTimeoutMs} ms (the connect timeout); ` +
          'check the host and port, and that the server is up and not overloaded',
        { code: 'CONNECT_TIMEOUT', cause: error },
      );
    }
    return fromConnectError(error, context);
  }

  async dumpSchema(): Promise<string> {
    const connection = await this.acquire({ qualifiedOnly: true });
    let row: { schema: string | null; version: number };
    try {
      const { rows } = await connection.query<{ schema: string | null; version: number }>(
        sql`SELECT coalesce(${this.#schema ?? null}::text, current_schema()) AS schema, current_setting('server_version_num')::int AS version`,
      );
      row = rows[0]!;
    } finally {
      connection.release();
    }
    if (row.schema === null) throw new ConfigurationError(`no schema is in force on ${this.errorContext.target}; pass the schema to dump`, { code: 'INVALID_OPTION' });
    const target = this.#directTarget ?? this.#target;
    return pgDump({ target, schema: row.schema, serverMajor: Math.floor(row.version / 10000), connectTimeoutMs: this.#connectTimeoutMs });
  }

  async acquireMigrationLock(lockName: string, timeoutMs: number, options: LockOptions = {}): Promise<MigrationConnection | null> {
    // Migrations connect outside the pool, so a closed pool alone would not stop them.
    if (this.#closed) throw closedError(this.errorContext.target);
    const lockClient = await this.#connect();
    let lock: AdvisoryLock | undefined;
    try {
      const keyQuery = sql`SELECT hashtextextended('sql-helpers:' || current_database() || ':' ||
        coalesce(${this.#schema ?? null}::text, current_schema()) || ':' || ${lockName}::text, 0)::text AS key,
        pg_is_in_recovery() AS standby`;
      const { rows } = await lockClient.query<{ key: string; standby: boolean }>(keyQuery.text, keyQuery.values);
      if (rows[0]!.standby) {
        throw fromDriverError(
          { code: READ_ONLY_TRANSACTION, message: 'cannot migrate, stamp or drop: the database is in recovery (pg_is_in_recovery())' },
          { ...this.#migrationContext, hotStandby: true },
        );
      }
      if (options.lock !== false) {
        const description = `the migration lock (PostgreSQL advisory lock "${lockName}"${this.#schema ? ` in schema "${this.#schema}"` : ''})`;
        const advice =
          'another process is migrating this database. Wait for it, or raise the lock timeout (lockTimeoutMs, --lock-timeout); ' +
          "pg_locks (locktype = 'advisory') shows the holder.";
        const context = this.#migrationContext;
        const held = await AdvisoryLock.acquire(lockClient, { key: rows[0]!.key, description, advice, timeoutMs, stopWaiting: options.stopWaiting, context });
        if (held === null) {
          lockClient.release();
          return null;
        }
        lock = held;
      }
    } catch (error) {
      lockClient.release();
      throw fromDriverError(error, this.#migrationContext);
    }
    if (lock === undefined) lockClient.release();
    let work: CheckedOutClient & Pick<Client, 'query'>;
    let known: ConnectionProfile;
    try {
      work = await this.#connect();
      if (this.#createSchema !== undefined) await work.query(this.#createSchema);
      known = await profile(work);
    } catch (error) {
      await lock?.release();
      throw fromDriverError(error, this.#migrationContext);
    }
    const watcher = new LockWatcher(() => this.#connect());
    return new PostgresMigrationConnection(work, lock, this.#schema, this.#namesFor(known), known, this.#migrationContext, this.#bind, watcher);
  }

  // Migrations use connections of their own, outside the pool: the lock and the work connection must not wait
  // for (or starve) a small pool, and the work connection, which ran arbitrary SQL, is closed afterwards anyway.
  async #connect(): Promise<Client & CheckedOutClient> {
    const client = new this.#Client(this.#migrationConfig);
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      throw this.#connectError(error, this.#migrationContext);
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

  /** Decided by the last connection checked out (all of a pool's reach the same server the same way). */
  findOrInsertInOneStatement: boolean | undefined;

  async close(): Promise<void> {
    this.#closed = true;
    await this.engine.end();
    for (const socket of this.#sockets) socket.unref();
  }
}
