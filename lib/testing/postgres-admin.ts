import { SqlHelpersError, fromDriverError } from '../errors.js';
import { loadDriverPackage } from '../driver/package.js';
import { AdvisoryLock } from '../driver/postgres-lock.js';
import { DatabaseManager } from '../manager.js';
import { empty, identifier, raw, sql, type Sql } from '../sql.js';
import type { PostgresTarget } from '../uri.js';
import { thisProcess, type Creator } from './creator.js';
import { UNSAFE_NO_TEMPLATE_LOCK } from './unsafe-no-lock.js';

/** What the tool writes into `COMMENT ON DATABASE` of everything it creates: cleanup removes nothing without it. */
export interface Provenance extends Creator {
  tool: typeof TOOL;
  kind: 'template' | 'building' | 'test';
  /** The template key's hash (the migrations it holds). */
  hash: string;
  /** The template key's source (which migrations folder and options). */
  source: string;
}

/** A database the tool may have created, as the server lists it. */
export interface ListedDatabase {
  name: string;
  isTemplate: boolean;
  /** Client sessions connected to it right now (not an autovacuum worker, which DROP DATABASE ends by itself). */
  sessions: number;
  /** `null` when its comment is not one the tool wrote: such a database is never touched. */
  provenance: Provenance | null;
}

const TOOL = 'sql-helpers/testing';
/** Every database the tool creates starts with this; `LIKE` pattern below. */
export const NAME_PREFIX = 'sqlh_';

function parseProvenance(comment: string | null): Provenance | null {
  if (comment === null) return null;
  try {
    const value = JSON.parse(comment) as Partial<Provenance>;
    const valid =
      value.tool === TOOL &&
      (value.kind === 'template' || value.kind === 'building' || value.kind === 'test') &&
      typeof value.hash === 'string' &&
      typeof value.source === 'string' &&
      Number.isInteger(value.pid) &&
      typeof value.host === 'string' &&
      typeof value.createdAt === 'number';
    return valid ? (value as Provenance) : null;
  } catch {
    return null;
  }
}

// COMMENT and CREATE DATABASE take no bound parameters: the one literal we write is quoted here.
function literal(text: string): Sql {
  const escaped = text.replaceAll("'", "''");
  return raw(text.includes('\\') ? `E'${escaped.replaceAll('\\', '\\\\')}'` : `'${escaped}'`);
}


/**
 * The connection to the database named by the caller's URI, from which test databases are created and
 * dropped. It must reach the server directly (not through PgBouncer in transaction mode): CREATE DATABASE
 * and the template lock need a real session.
 */
export class PostgresAdmin {
  static readonly #open = new Map<string, PostgresAdmin>();
  readonly #target: PostgresTarget;
  readonly #db: DatabaseManager;
  #serverVersion: Promise<number> | undefined;

  private constructor(target: PostgresTarget) {
    this.#target = target;
    // Idle connections do not keep a test process alive: there is no moment to close a shared pool.
    this.#db = new DatabaseManager(target.connectionString, '.', { engineArgs: { max: 3, allowExitOnIdle: true } });
  }

  /** One admin pool per URI and process. */
  static for(target: PostgresTarget): PostgresAdmin {
    let admin = PostgresAdmin.#open.get(target.connectionString);
    if (admin === undefined) {
      admin = new PostgresAdmin(target);
      PostgresAdmin.#open.set(target.connectionString, admin);
    }
    return admin;
  }

  /** The URI of database `name` on the same server, with the caller's credentials. */
  urlOf(name: string): string {
    const url = new URL(this.#target.connectionString);
    url.pathname = `/${encodeURIComponent(name)}`;
    return url.toString();
  }

  /** `server_version_num`, e.g. 150020. */
  serverVersion(): Promise<number> {
    this.#serverVersion ??= this.#db.one<{ version: number }>(sql`SELECT current_setting('server_version_num')::int AS version`).then((row) => row.version);
    return this.#serverVersion;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.#db.query(sql`SELECT 1 FROM pg_database WHERE datname = ${name}`)).length > 0;
  }

  /** `CREATE DATABASE name [TEMPLATE template [STRATEGY strategy]]`, then the comment that marks it as the tool's. */
  async create(name: string, provenance: Provenance, template?: { name: string; strategy: string | undefined }): Promise<void> {
    const from = template === undefined ? empty : sql` TEMPLATE ${identifier(template.name)}`;
    const strategy = template?.strategy !== undefined && (await this.serverVersion()) >= 150000 ? raw(` STRATEGY ${template.strategy}`) : empty;
    await this.#db.execute(sql`CREATE DATABASE ${identifier(name)}${from}${strategy}`);
    await this.comment(name, provenance);
  }

  async comment(name: string, provenance: Provenance): Promise<void> {
    await this.#db.execute(sql`COMMENT ON DATABASE ${identifier(name)} IS ${literal(JSON.stringify(provenance))}`);
  }

  /** Renames a finished build to its template name and marks it: a template, no connections. */
  async publish(building: string, template: string, provenance: Provenance): Promise<void> {
    await this.#db.execute(sql`ALTER DATABASE ${identifier(building)} RENAME TO ${identifier(template)}`);
    await this.#db.execute(sql`ALTER DATABASE ${identifier(template)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    await this.comment(template, provenance);
  }

  /**
   * Drops database `name` if it exists. `force` ends its sessions (the caller's own test database);
   * without it the server refuses a database someone is connected to, which is what cleanup relies on.
   */
  async drop(name: string, options: { force: boolean; template?: boolean }): Promise<void> {
    const force = options.force && (await this.serverVersion()) >= 130000 ? raw(' WITH (FORCE)') : empty;
    if (options.template) await this.#db.execute(sql`ALTER DATABASE ${identifier(name)} WITH IS_TEMPLATE false`);
    try {
      await this.#db.execute(sql`DROP DATABASE IF EXISTS ${identifier(name)}${force}`);
    } catch (error) {
      if (options.template) await this.#db.execute(sql`ALTER DATABASE ${identifier(name)} WITH IS_TEMPLATE true`).catch(() => undefined);
      throw error;
    }
  }

  /** Every database whose name starts with the tool's prefix, with its comment read back. */
  async list(): Promise<ListedDatabase[]> {
    const rows = await this.#db.query<{ name: string; is_template: boolean; sessions: number; comment: string | null }>(sql`
      SELECT d.datname AS name, d.datistemplate AS is_template, shobj_description(d.oid, 'pg_database') AS comment,
             (SELECT count(*)::int FROM pg_stat_activity a WHERE a.datid = d.oid AND a.backend_type = 'client backend') AS sessions
        FROM pg_database d
       WHERE starts_with(d.datname, ${NAME_PREFIX})
       ORDER BY d.datname`);
    return rows.map((row) => ({ name: row.name, isTemplate: row.is_template, sessions: row.sessions, provenance: parseProvenance(row.comment) }));
  }

  /**
   * Runs `fn` holding the lock named `name`: a transaction-scoped advisory lock in a transaction kept open on a
   * connection of its own (not from the pool, which `fn` needs), released by COMMIT or by the server when this
   * process dies, and waited for at most `timeoutMs`.
   */
  async withLock<T>(name: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    if (UNSAFE_NO_TEMPLATE_LOCK) return fn();
    // The migrator's lock, for the same reasons: it waits without holding a snapshot (a blocking
    // pg_advisory_xact_lock, or any extended-protocol statement left last in an idle transaction, keeps the
    // session's xmin and stalls every CREATE INDEX CONCURRENTLY in that database until the lock is released).
    const pg = loadDriverPackage('pg', this.#target.redacted);
    const client = new pg.Client({ connectionString: this.#target.connectionString });
    client.on('error', () => undefined);
    const context = { target: this.#target.redacted, secret: this.#target.password };
    let lock: AdvisoryLock | null = null;
    try {
      await client.connect();
      const { rows } = await client.query<{ key: string }>('SELECT hashtextextended($1, 0)::text AS key', [`${TOOL}:${name}`]);
      lock = await AdvisoryLock.acquire(client, {
        key: rows[0]!.key,
        description: `the lock of template database ${name}`,
        advice: 'another process is building it: raise lockTimeoutMs if migrating takes longer, or look for a stuck test process',
        timeoutMs,
        context,
      });
      return await fn();
    } catch (error) {
      throw fromDriverError(error, context);
    } finally {
      if (lock) await lock.release();
      else await client.end().catch(() => undefined);
    }
  }
}

/** The provenance to record for something this process makes now. */
export function provenance(kind: Provenance['kind'], key: { hash: string; source: string }): Provenance {
  return { tool: TOOL, kind, hash: key.hash, source: key.source, ...thisProcess() };
}

/** True for the error CREATE DATABASE … TEMPLATE gives when the template does not exist (yet, or any more). */
export function isMissingDatabase(error: unknown): boolean {
  return error instanceof SqlHelpersError && error.sqlState === '3D000';
}

/** True for the error a rename gives when the target name is taken. */
export function isDuplicateDatabase(error: unknown): boolean {
  return error instanceof SqlHelpersError && error.sqlState === '42P04';
}
